/* SPDX-License-Identifier: MIT */
/*
 * The administrative CLI commands (account, key, user, credit, audit). Each parses its own
 * arguments, calls admin.c (the code path the admin API shares) and prints; errors go to
 * stderr with a non-zero exit. main.c dispatches to them.
 */
#ifndef CLI_H
#define CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "admin.h"
#include "config.h"
#include "store.h"

struct cli {
	struct config	 cfg;
	int		 argc;	/* what is left after the command word */
	char		**argv;
	int		 gargc;	/* the global options, before the command word */
	char		**gargv;
	const char	*config_path;	/* --config or $TSKEY_CONFIG; NULL = none */
	int		 serve;	/* the command is serve: argv holds its flags */
};

/* Commands: return the process exit status. */
int	cli_account(struct cli *c);
int	cli_key(struct cli *c);
int	cli_user(struct cli *c);
int	cli_credit(struct cli *c);
int	cli_audit(struct cli *c);
int	cli_report_migration(struct cli *c);	/* tskey report migration ... */
int	cli_config(struct cli *c);	/* tskey config check|show|sample */
int	cli_backup(struct cli *c);	/* tskey backup FILE */

/*
 * c's settings, every layer in order (config.h): defaults, c->config_path, the environment,
 * the global options, and serve's options when c->serve. Errors go to errs; their number.
 */
int	cli_settings(const struct cli *c, struct config *cfg, FILE *errs);

/* Shared by the command files. */
int		 cli_usage_error(const char *msg, const char *cmd);
int		 cli_parse_int64(const char *s, int64_t *out);
struct store	*cli_open_store(const struct config *cfg);
int		 cli_report(enum tsk_status rc, const char *what, const char *conflict);
void		 cli_actor(const struct cli *c, struct admin_actor *who);
void		 cli_time(int64_t t, char *buf, size_t bufsz, const char *none);
/* The first line of stdin without its line end; -1 if empty or longer than bufsz - 2. */
int		 cli_read_line(char *buf, size_t bufsz);

#endif
