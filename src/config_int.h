/* SPDX-License-Identifier: MIT */
/*
 * The settings table, shared by config.c (values) and config_load.c (file, environment, flags,
 * printing). Nothing outside config includes it.
 */
#ifndef CONFIG_INT_H
#define CONFIG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum config_type {
	CT_INT,		/* a whole number in [min, max], stored times scale */
	CT_BOOL,	/* yes / no (true, on, 1 / false, off, 0) */
	CT_PATH,	/* any text that fits */
	CT_LISTEN,	/* HOST:PORT into listen_host and listen_port */
	CT_DATE,	/* YYYY-MM-DD or RFC 3339, stored as unix seconds; "" = none */
	CT_COST,	/* OP=N[,OP=N...] into op_cost[] */
	CT_PROXIES,	/* addresses and CIDR blocks (ipallow.h) */
	CT_LEVEL,	/* warn / info / debug */
	CT_ORIGINS,	/* web origins, space- or comma-separated (origin.h); a flag may repeat */
	CT_WORD,	/* one of the words of arg ("text|json|logfmt"), stored as its index */
};

struct config_setting {
	const char		*name;	/* in the file; TSKEY_<NAME> in the environment */
	enum config_type	 type;
	size_t			 off, size;	/* the field in struct config */
	int64_t			 min, max;	/* CT_INT: the range of the value given */
	int64_t			 scale;	/* CT_INT: stored = given * scale (days -> seconds) */
	int			 reload;	/* SIGHUP applies a change: 1; 2: if TLS stays on */
	const char		*arg;	/* what the value looks like, for the help */
	const char		*help;
};

struct config_flag {
	const char	*flag;
	const char	*setting;
	const char	*sets;		/* a flag without a value sets this; NULL: takes a value */
	int		 global;	/* goes before the command (tskey --db F key list) */
};

extern const struct config_setting	config_settings[];
extern const size_t			config_nsettings;
extern const struct config_flag		config_flags[];
extern const size_t			config_nflags;

const struct config_setting *config_setting_find(const char *name, size_t namelen);
/* Parse v into cfg: 0, or -1 with why (what a good value looks like) and cfg unchanged. */
int	config_value_set(struct config *cfg, const struct config_setting *s, const char *v,
	    char *why, size_t whysz);
void	config_value_format(const struct config *cfg, const struct config_setting *s,
	    char *out, size_t outsz);
void	config_value_copy(struct config *dst, const struct config *src,
	    const struct config_setting *s);

#endif
