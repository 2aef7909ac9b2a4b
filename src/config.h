/* SPDX-License-Identifier: MIT */
/* Settings of a running server: defaults here, overridden by flags in main.c; read-only once serving. */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "ops.h"

struct config {
	char	db_path[1024];
	char	listen_host[256];
	int	listen_port;
	int	max_conns;	/* open connections; more are refused at accept */
	int	max_conns_per_client;	/* open connections from one address */
	int	login_max_failures;	/* failed Logins before a lockout (throttle.h); 0 = off */
	int	store_pool;	/* database connections shared by the workers */
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
	int	usage_flush_ms;	/* last-used times reach the store at least this often */
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
	enum log_format	log_format;	/* request and other lines: text (default), json, logfmt */
	enum log_target	log_target;	/* stderr (default) or syslog */
	char	metrics_allow[512];	/* who may GET /metrics (ipallow.h); "" = no one */
};

void	config_defaults(struct config *cfg);

/* Parse "OPERATION=CREDITS" (see ops.h) into cfg. 0 on success, -1 if malformed. */
int	config_cost_parse(struct config *cfg, const char *spec);

/* Parse "HOST:PORT", "[V6]:PORT" or ":PORT" into cfg. 0 on success, -1 if malformed. */
int	config_listen_parse(struct config *cfg, const char *spec);

/* "text" | "json" | "logfmt", "stderr" | "syslog", an allowlist: 0, or -1 if malformed. */
int	config_log_format_parse(struct config *cfg, const char *spec);
int	config_log_target_parse(struct config *cfg, const char *spec);
int	config_metrics_allow_parse(struct config *cfg, const char *spec);

#endif
