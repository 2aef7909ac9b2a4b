/* SPDX-License-Identifier: MIT */
/*
 * Settings of a running server. One table (config.c) names every setting with its type, flag,
 * environment variable (TSKEY_ + the name in capitals), whether SIGHUP reloads it and its help;
 * the parser, `tskey config check|show|sample`, the serve help and the documentation all come
 * from it. Layers, later winning: built-in defaults, the file (--config / TSKEY_CONFIG), the
 * environment, the flags. A struct config is plain data: once loaded it is never changed, a
 * reload makes a new one (live.h).
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"
#include "ops.h"

#define CONFIG_MAX_SETTINGS	48	/* room in struct config's source[] */

enum config_source { CONFIG_SRC_DEFAULT = 0, CONFIG_SRC_FILE, CONFIG_SRC_ENV, CONFIG_SRC_FLAG };

struct config {
	char	db_path[1024];
	char	listen_host[256];
	int	listen_port;
	int	max_conns;	/* open connections; more are refused at accept */
	int	max_conns_per_client;	/* open connections from one address */
	int	login_max_failures;	/* failed Logins before a lockout (throttle.h); 0 = off */
	int	login_concurrency;	/* password checks at once (kdfgate.h); 0 = one per CPU */
	int	store_pool;	/* database connections shared by the workers */
	int	workers;	/* threads serving plain connections; 0: two per CPU, >= 4 */
	int	thread_per_conn;	/* a thread per connection instead of the event loop */
	int	recv_timeout;	/* seconds a connection may idle or stall (keep-alive included) */
	int	send_timeout;	/* seconds a send may stall */
	int	max_keep_alive;	/* requests on one connection before it is closed */
	size_t	max_body;	/* request body bytes */
	int	max_xml_depth;	/* XML nesting */
	size_t	max_string;	/* bytes in one XML string (SessionID, userName, ...) */
	int64_t	session_idle;	/* Login sessions expire after this many idle seconds */
	int64_t	touch_slack;	/* last-used times are written at most this often, in seconds */
	int	demo;		/* on first start with an empty store, create a demo account */
	int	max_active_keys;/* usable keys an account may hold; 0 = no limit */
	int	uniform_errors;	/* one 401 UNAUTHORIZED for every "who are you" refusal */
	int	api_user_login;	/* may API users use the legacy Login? */
	int64_t	password_max_age;	/* seconds a person's password lasts; 0 = for ever */
	int	usage_flush_ms;	/* last-used times and spent credit reach the store this often */
	int	batch_credit;	/* metered calls spend credit in memory, written by the flusher */
	int64_t	batch_credit_max_unwritten;	/* credit spent in memory, unwritten, at most */
	int	rate_max_keys;	/* keys with rate limits tracked in memory */
	int64_t	op_cost[TSK_OP__COUNT];	/* credits per call, by operation */
	int64_t	login_deprecation;	/* legacy Login deprecated since (unix time); 0 = not */
	int64_t	login_sunset;		/* legacy Login goes away at (unix time); 0 = not set */
	char	trusted_proxies[512];	/* peers whose X-Forwarded-For is believed (ipallow.h) */
	char	tls_cert[1024];		/* PEM certificate chain; "" = plain HTTP */
	char	tls_key[1024];		/* PEM private key */
	int	allow_plain;		/* plain HTTP on a non-loopback address is allowed */
	char	admin_origins[1024];	/* web origins besides our own that may call the admin
					   API from a browser (origin.h; space-separated) */
	int	log_level;		/* enum log_level (log.h) */
	char	config_path[1024];	/* the file read; "" = none */
	unsigned char source[CONFIG_MAX_SETTINGS];	/* enum config_source, by setting */
	enum log_format	log_format;	/* request and other lines: text (default), json, logfmt */
	enum log_target	log_target;	/* stderr (default) or syslog */
	char	metrics_allow[512];	/* who may GET /metrics (ipallow.h); "" = no one */
};

/* Built-in defaults only (no file, no environment). */
void	config_defaults(struct config *cfg);

/*
 * The layers. Each writes "WHERE: what is wrong" lines to errs (file errors as FILE:LINE:)
 * and returns the number of errors; a bad value leaves that setting as it was.
 *   config_file: `name = value` lines, # comments, blank lines; unknown names are errors.
 *   config_env:  TSKEY_<NAME> for every setting (set but empty counts as unset).
 *   config_flag: argv[*i] if it is a flag of the table (global: the ones that go before the
 *                command, else serve's); consumes its value and advances *i past it.
 *                Returns 1 when taken, 0 when argv[*i] is no such flag, -1 on a bad value.
 */
int	config_file(struct config *cfg, const char *path, FILE *errs);
int	config_env(struct config *cfg, FILE *errs);
int	config_flag(struct config *cfg, int global, int argc, char **argv, int *i, FILE *errs);

/*
 * Every layer in order: defaults, the file at path (NULL: none), the environment, the global
 * flags gargv[0..gargc) ("--config FILE" is skipped there), serve's flags sargv[0..sargc).
 * Returns the number of errors (written to errs); an unknown flag is one.
 */
int	config_load(struct config *cfg, const char *path, int gargc, char **gargv, int sargc,
	    char **sargv, FILE *errs);

/* Settings that only make sense together (tls_cert with tls_key). Errors as above. */
int	config_validate(const struct config *cfg, FILE *errs);

/* Print every setting: "name = value  # source" (show) or the commented sample file. */
void	config_show(const struct config *cfg, FILE *out);
void	config_sample(FILE *out);
/* The flags of the table (global or serve's), one per line, with help and default. */
void	config_flag_help(FILE *out, int global);

/*
 * Before a reload: for every setting that differs between running and next, log it; a
 * setting SIGHUP cannot apply is logged as needing a restart and put back to its running
 * value in next. Returns the number of settings changed and applied.
 */
int	config_reload_merge(struct config *next, const struct config *running);

/* Parse "OPERATION=CREDITS" (see ops.h) into cfg. 0 on success, -1 if malformed. */
int	config_cost_parse(struct config *cfg, const char *spec);

/* Parse "HOST:PORT", "[V6]:PORT" or ":PORT" into cfg. 0 on success, -1 if malformed. */
int	config_listen_parse(struct config *cfg, const char *spec);

#endif
