/* SPDX-License-Identifier: MIT */
/*
 * The settings table and the values in it: defaults, parsing and printing of each type. The
 * layers that feed it (file, environment, flags) are in config_load.c. Nothing here runs
 * once the server serves, except on a reload, which builds a new struct config.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "ipallow.h"
#include "log.h"
#include "origin.h"
#include "tstime.h"

_Static_assert(sizeof(size_t) == sizeof(int64_t) || sizeof(size_t) == sizeof(int),
    "integer settings are 8 or 4 bytes");

#define F(field)	offsetof(struct config, field), sizeof(((struct config *)0)->field)

/*
 * Every setting. To add one: a field in struct config, a row here (and in config_flags below
 * if it has a flag), a line in the README's table; `make test` checks the sample file, the man
 * page and the README name it.
 */
const struct config_setting config_settings[] = {
	{ "db", CT_PATH, F(db_path), 0, 0, 1, 0, "FILE",
	    "the sqlite database (created on first start)" },
	{ "listen", CT_LISTEN, F(listen_host), 0, 0, 1, 0, "HOST:PORT",
	    "address to listen on; port 0 picks one" },
	{ "demo", CT_BOOL, F(demo), 0, 1, 1, 0, "yes|no",
	    "create a demo account and key on the first start with an empty database" },
	{ "max_keys", CT_INT, F(max_active_keys), 0, 1000000, 1, 1, "N",
	    "usable keys one account may hold (0: no cap)" },
	{ "log_level", CT_LEVEL, F(log_level), 0, 2, 1, 1, "warn|info|debug",
	    "what the log says: warnings only, one line per request, or debugging detail" },
	{ "session_idle", CT_INT, F(session_idle), 1, INT64_MAX, 1, 1, "SECONDS",
	    "legacy Login sessions end after this many idle seconds" },
	{ "touch_slack", CT_INT, F(touch_slack), 1, INT64_MAX, 1, 1, "SECONDS",
	    "a Login session's last-seen time is written at most this often" },
	{ "max_conns", CT_INT, F(max_conns), 1, 100000, 1, 1, "N",
	    "open connections at most; more are closed at accept" },
	{ "max_conns_per_client", CT_INT, F(max_conns_per_client), 1, 100000, 1, 1, "N",
	    "open connections from one address at most; more get 503 and are closed" },
	{ "max_body", CT_INT, F(max_body), 1, 64 * 1024 * 1024, 1, 0, "BYTES",
	    "request body bytes at most" },
	{ "workers", CT_INT, F(workers), 0, 1024, 1, 0, "N",
	    "threads that serve plain HTTP connections from one event loop (0: two per CPU, at "
	    "least 4)" },
	{ "thread_per_conn", CT_BOOL, F(thread_per_conn), 0, 1, 1, 0, "yes|no",
	    "a thread of its own for each connection instead of the event loop (TLS ones always "
	    "have one)" },
	{ "login_concurrency", CT_INT, F(login_concurrency), 0, 1024, 1, 0, "N",
	    "password checks (Login) at once; 64 more each may wait a second, then 503 "
	    "UNAVAILABLE with Retry-After: 1 (0: one per online CPU)" },
	{ "timeout", CT_INT, F(recv_timeout), 1, 3600, 1, 0, "SECONDS",
	    "seconds a connection may idle or stall" },
	{ "cost", CT_COST, F(op_cost), 0, 1000000, 1, 1, "OP=N,...",
	    "credits an operation takes (credit, me, logout, verify, admin); the flag may repeat" },
	{ "uniform_errors", CT_BOOL, F(uniform_errors), 0, 1, 1, 1, "yes|no",
	    "answer MISSING, INVALID, DISABLED and EXPIRED alike (401 UNAUTHORIZED)" },
	{ "api_user_login", CT_BOOL, F(api_user_login), 0, 1, 1, 1, "yes|no",
	    "API users may use the legacy Login" },
	{ "password_max_age", CT_INT, F(password_max_age), 0, 100000, 86400, 1, "DAYS",
	    "a person's password expires after DAYS (0: never; API users' never do)" },
	{ "usage_flush_ms", CT_INT, F(usage_flush_ms), 1, 3600000, 1, 1, "MS",
	    "last-used times and use counts reach the database this often" },
	{ "batch_credit", CT_BOOL, F(batch_credit), 0, 1, 1, 0, "yes|no",
	    "metered calls spend credit in memory, written with the usage flush: no database "
	    "write per call; a kill -9 loses up to one flush interval of spending; once a flush "
	    "fails, metered calls get 503 until one succeeds (no: a database write per call)" },
	{ "batch_credit_max_unwritten", CT_INT, F(batch_credit_max_unwritten), 1, INT64_MAX / 2,
	    1, 0, "CREDITS",
	    "with batch_credit, credit spent in memory and not yet written, all accounts, at "
	    "most; beyond it a metered call writes its debit itself" },
	{ "login_deprecated", CT_DATE, F(login_deprecation), 0, 0, 1, 1, "DATE",
	    "the legacy Login is deprecated since DATE: a Deprecation header (RFC 9745); "
	    "empty: not" },
	{ "login_sunset", CT_DATE, F(login_sunset), 0, 0, 1, 1, "DATE",
	    "the legacy Login goes away at DATE: a Sunset header (RFC 8594); empty: not set" },
	{ "trusted_proxy", CT_PROXIES, F(trusted_proxies), 0, 0, 1, 1, "LIST",
	    "peers (addresses, CIDR blocks) whose X-Forwarded-For names the client" },
	{ "login_max_failures", CT_INT, F(login_max_failures), 0, 1000, 1, 0, "N",
	    "failed Logins of one user from one address before a 15-minute lockout (0: off)" },
	{ "tls_cert", CT_PATH, F(tls_cert), 0, 0, 1, 2, "PEM",
	    "serve HTTPS with this certificate chain (with tls_key); empty: plain HTTP" },
	{ "tls_key", CT_PATH, F(tls_key), 0, 0, 1, 2, "PEM",
	    "the private key of tls_cert" },
	{ "allow_plain", CT_BOOL, F(allow_plain), 0, 1, 1, 0, "yes|no",
	    "allow plain HTTP on an address that is not loopback" },
	{ "admin_origin", CT_ORIGINS, F(admin_origins), 0, 0, 1, 1, "URL ...",
	    "web origins (scheme://host[:port]) besides the server's own whose pages may call "
	    "the admin API (CORS); others get 403 ORIGIN_NOT_ALLOWED" },
	/* the words in the order of enum log_format and enum log_target (log.h) */
	{ "log_format", CT_WORD, F(log_format), 0, 2, 1, 0, "text|json|logfmt",
	    "every log line, the one per request included, as text, JSON lines or logfmt" },
	{ "log_target", CT_WORD, F(log_target), 0, 1, 1, 0, "stderr|syslog",
	    "where log lines go: stderr, or syslog (facility daemon, ident tskey)" },
	{ "metrics_allow", CT_PROXIES, F(metrics_allow), 0, 0, 1, 1, "LIST",
	    "clients (addresses, CIDR blocks) that may GET /metrics; others get 403; empty: "
	    "no one" },
};
const size_t config_nsettings = sizeof(config_settings) / sizeof(config_settings[0]);

/* Flags, and the setting each sets; a flag with `sets` takes no value. */
const struct config_flag config_flags[] = {
	{ "--db", "db", NULL, 1 },
	{ "--max-keys", "max_keys", NULL, 1 },
	{ "--log-level", "log_level", NULL, 1 },
	{ "-v", "log_level", "debug", 1 },
	{ "-q", "log_level", "warn", 1 },
	{ "--listen", "listen", NULL, 0 },
	{ "--no-demo", "demo", "no", 0 },
	{ "--session-idle", "session_idle", NULL, 0 },
	{ "--touch-slack", "touch_slack", NULL, 0 },
	{ "--max-conns", "max_conns", NULL, 0 },
	{ "--max-conns-per-client", "max_conns_per_client", NULL, 0 },
	{ "--max-body", "max_body", NULL, 0 },
	{ "--timeout", "timeout", NULL, 0 },
	{ "--login-concurrency", "login_concurrency", NULL, 0 },
	{ "--workers", "workers", NULL, 0 },
	{ "--thread-per-conn", "thread_per_conn", "yes", 0 },
	{ "--cost", "cost", NULL, 0 },
	{ "--uniform-errors", "uniform_errors", "yes", 0 },
	{ "--no-api-user-login", "api_user_login", "no", 0 },
	{ "--password-max-age", "password_max_age", NULL, 0 },
	{ "--usage-flush-ms", "usage_flush_ms", NULL, 0 },
	{ "--no-batch-credit", "batch_credit", "no", 0 },
	{ "--batch-credit", "batch_credit", "yes", 0 },
	{ "--batch-credit-max-unwritten", "batch_credit_max_unwritten", NULL, 0 },
	{ "--login-deprecated", "login_deprecated", NULL, 0 },
	{ "--login-sunset", "login_sunset", NULL, 0 },
	{ "--trusted-proxy", "trusted_proxy", NULL, 0 },
	{ "--login-max-failures", "login_max_failures", NULL, 0 },
	{ "--tls-cert", "tls_cert", NULL, 0 },
	{ "--tls-key", "tls_key", NULL, 0 },
	{ "--allow-plain", "allow_plain", "yes", 0 },
	{ "--admin-origin", "admin_origin", NULL, 0 },
	{ "--log-format", "log_format", NULL, 0 },
	{ "--log-target", "log_target", NULL, 0 },
	{ "--metrics-allow", "metrics_allow", NULL, 0 },
};
const size_t config_nflags = sizeof(config_flags) / sizeof(config_flags[0]);

static const char *const levels[] = { "warn", "info", "debug" };

/* CT_WORD: the index of v among the '|'-separated words of words; -1 when it is none. */
static int
word_index(const char *words, const char *v, int *out)
{
	size_t	n, vlen = strlen(v);
	int	i;

	for (i = 0; *words != '\0'; i++) {
		n = strcspn(words, "|");
		if (n == vlen && vlen > 0 && strncmp(words, v, n) == 0) {
			*out = i;
			return 0;
		}
		words += n + (words[n] == '|');
	}
	return -1;
}

/* CT_WORD: word i of words into out ("" when there is none). */
static void
word_at(const char *words, int64_t i, char *out, size_t outsz)
{
	size_t	n;

	for (; i > 0 && *words != '\0'; i--) {
		n = strcspn(words, "|");
		words += n + (words[n] == '|');
	}
	n = strcspn(words, "|");
	snprintf(out, outsz, "%.*s", (int)n, words);
}

void
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->db_path, sizeof(cfg->db_path), "./tskey.db");
	snprintf(cfg->listen_host, sizeof(cfg->listen_host), "127.0.0.1");
	cfg->listen_port = 8080;
	cfg->max_conns = 1024;
	cfg->max_conns_per_client = 256;
	cfg->login_max_failures = 5;
	cfg->store_pool = 16;
	cfg->recv_timeout = 15;
	cfg->send_timeout = 15;
	cfg->max_keep_alive = 1000;
	cfg->max_body = 1024 * 1024;
	cfg->max_xml_depth = 32;
	cfg->max_string = 65536;
	cfg->session_idle = 4 * 3600;	/* TrackRoad's legacy docs: 4 hours after the last call */
	cfg->touch_slack = 60;
	cfg->demo = 1;
	cfg->max_active_keys = 100;	/* TrackVia's limit */
	cfg->api_user_login = 1;
	cfg->usage_flush_ms = 1000;
	/* The flusher's staleness made safe: spending is fail-closed by usage_debit's rule. */
	cfg->batch_credit = 1;
	cfg->batch_credit_max_unwritten = 100000;
	cfg->rate_max_keys = 100000;
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->log_format = LOG_FORMAT_TEXT;
	cfg->log_target = LOG_TARGET_STDERR;
	/* Metrics show the server's internals: loopback only unless the operator says more. */
	snprintf(cfg->metrics_allow, sizeof(cfg->metrics_allow), "127.0.0.0/8,::1");
	for (int i = 0; i < TSK_OP__COUNT; i++)
		cfg->op_cost[i] = ops_info((enum tsk_op)i)->cost;
}

const struct config_setting *
config_setting_find(const char *name, size_t namelen)
{
	size_t	i;

	for (i = 0; i < config_nsettings; i++) {
		if (strlen(config_settings[i].name) == namelen &&
		    memcmp(config_settings[i].name, name, namelen) == 0)
			return &config_settings[i];
	}
	return NULL;
}

/*
 * Integer fields are int, int64_t or size_t; by size, 8 bytes or 4. Values are never negative,
 * so a size_t holds an int64_t's bytes unchanged.
 */
static int64_t
get_int(const struct config *cfg, const struct config_setting *s)
{
	const char	*p = (const char *)cfg + s->off;
	int64_t		 v64;
	int		 vi;

	if (s->size == sizeof(int64_t)) {
		memcpy(&v64, p, sizeof(v64));
		return v64;
	}
	memcpy(&vi, p, sizeof(vi));
	return vi;
}

static void
set_int(struct config *cfg, const struct config_setting *s, int64_t v)
{
	char	*p = (char *)cfg + s->off;
	int	 vi = (int)v;

	if (s->size == sizeof(int64_t))
		memcpy(p, &v, sizeof(v));
	else
		memcpy(p, &vi, sizeof(vi));
	if (s->off == offsetof(struct config, recv_timeout))
		cfg->send_timeout = vi;	/* one setting for both directions */
}

static int
parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t			 i;

	for (i = 0; i < 4; i++) {
		if (strcmp(v, yes[i]) == 0 || strcmp(v, no[i]) == 0) {
			*out = strcmp(v, yes[i]) == 0;
			return 0;
		}
	}
	return -1;
}

/* Origins, separated by spaces or commas, as one list replacing the old; all or nothing. */
static int
parse_origins(struct config *cfg, const struct config_setting *s, const char *v)
{
	char		 list[sizeof(cfg->admin_origins)] = "", one[ORIGIN_MAX];
	const char	*p = v;
	size_t		 n;

	while (*p != '\0') {
		n = strcspn(p, " ,\t");
		if (n > 0) {
			if (n >= sizeof(one))
				return -1;
			snprintf(one, sizeof(one), "%.*s", (int)n, p);
			if (origin_list_add(list, sizeof(list), one) != 0)
				return -1;
		}
		p += n;
		p += strspn(p, " ,\t");
	}
	snprintf((char *)cfg + s->off, s->size, "%s", list);
	return 0;
}

/* Costs: "OP=N" pairs, comma-separated; all or none are applied. */
static int
parse_costs(struct config *cfg, const char *v)
{
	struct config	 tmp = *cfg;
	char		 item[64];
	const char	*p = v, *comma;
	size_t		 n;

	do {
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		while (n > 0 && isspace((unsigned char)*p)) {
			p++;
			n--;
		}
		while (n > 0 && isspace((unsigned char)p[n - 1]))
			n--;
		if (n == 0 || n >= sizeof(item))
			return -1;
		snprintf(item, sizeof(item), "%.*s", (int)n, p);
		if (config_cost_parse(&tmp, item) != 0)
			return -1;
		p = comma != NULL ? comma + 1 : NULL;
	} while (p != NULL);
	memcpy(cfg->op_cost, tmp.op_cost, sizeof(cfg->op_cost));
	return 0;
}

int
config_value_set(struct config *cfg, const struct config_setting *s, const char *v,
    char *why, size_t whysz)
{
	char		*end;
	long long	 n;
	int64_t		 t;
	int		 b;

	switch (s->type) {
	case CT_INT:
		errno = 0;
		n = strtoll(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0' || !isdigit((unsigned char)v[0]) ||
		    n < s->min || n > s->max) {
			if (s->max == INT64_MAX)
				snprintf(why, whysz, "want a whole number from %lld up", (long long)s->min);
			else
				snprintf(why, whysz, "want a whole number from %lld to %lld",
				    (long long)s->min, (long long)s->max);
			return -1;
		}
		set_int(cfg, s, (int64_t)n * s->scale);
		return 0;
	case CT_BOOL:
		if (parse_bool(v, &b) != 0) {
			snprintf(why, whysz, "want yes or no");
			return -1;
		}
		set_int(cfg, s, b);
		return 0;
	case CT_LEVEL:
		for (b = 0; b < 3; b++) {
			if (strcmp(v, levels[b]) == 0) {
				set_int(cfg, s, b);
				return 0;
			}
		}
		snprintf(why, whysz, "want warn, info or debug");
		return -1;
	case CT_WORD:
		if (word_index(s->arg, v, &b) != 0) {
			snprintf(why, whysz, "want one of %s", s->arg);
			return -1;
		}
		set_int(cfg, s, b);
		return 0;
	case CT_PATH:
		if (strlen(v) >= s->size) {
			snprintf(why, whysz, "longer than %zu bytes", s->size - 1);
			return -1;
		}
		snprintf((char *)cfg + s->off, s->size, "%s", v);
		return 0;
	case CT_PROXIES:
		if (strlen(v) >= s->size || ipallow_valid(v) != 0) {
			snprintf(why, whysz, "want addresses and CIDR blocks, comma-separated");
			return -1;
		}
		snprintf((char *)cfg + s->off, s->size, "%s", v);
		return 0;
	case CT_LISTEN:
		if (config_listen_parse(cfg, v) != 0) {
			snprintf(why, whysz, "want HOST:PORT, [IPV6]:PORT or :PORT");
			return -1;
		}
		return 0;
	case CT_DATE:
		t = 0;
		if (*v != '\0' && tstime_parse(v, &t) != 0) {
			snprintf(why, whysz, "want YYYY-MM-DD or an RFC 3339 time (empty: none)");
			return -1;
		}
		set_int(cfg, s, t);
		return 0;
	case CT_ORIGINS:
		if (parse_origins(cfg, s, v) != 0) {
			snprintf(why, whysz, "want origins such as https://admin.example.com (no "
			    "path), space-separated, at most a few");
			return -1;
		}
		return 0;
	case CT_COST:
		if (parse_costs(cfg, v) != 0) {
			snprintf(why, whysz, "want OPERATION=CREDITS[,...] with OPERATION one of "
			    "credit, me, logout, verify, admin and CREDITS from 0 to 1000000");
			return -1;
		}
		return 0;
	}
	snprintf(why, whysz, "unknown type");
	return -1;
}

void
config_value_format(const struct config *cfg, const struct config_setting *s, char *out,
    size_t outsz)
{
	size_t	n = 0;
	int64_t	v;
	int	i;

	out[0] = '\0';
	switch (s->type) {
	case CT_INT:
		snprintf(out, outsz, "%lld", (long long)(get_int(cfg, s) / s->scale));
		break;
	case CT_BOOL:
		snprintf(out, outsz, "%s", get_int(cfg, s) ? "yes" : "no");
		break;
	case CT_LEVEL:
		v = get_int(cfg, s);
		snprintf(out, outsz, "%s", v >= 0 && v < 3 ? levels[v] : "info");
		break;
	case CT_WORD:
		word_at(s->arg, get_int(cfg, s), out, outsz);
		break;
	case CT_PATH:
	case CT_PROXIES:
	case CT_ORIGINS:
		snprintf(out, outsz, "%s", (const char *)cfg + s->off);
		break;
	case CT_LISTEN:
		snprintf(out, outsz, strchr(cfg->listen_host, ':') != NULL ? "[%s]:%d" : "%s:%d",
		    cfg->listen_host, cfg->listen_port);
		break;
	case CT_DATE:
		v = get_int(cfg, s);
		if (v != 0)
			tstime_format(v, out, outsz);
		break;
	case CT_COST:
		for (i = 0; i < TSK_OP__COUNT && n < outsz; i++)
			n += (size_t)snprintf(out + n, outsz - n, "%s%s=%lld", i > 0 ? "," : "",
			    ops_info((enum tsk_op)i)->name, (long long)cfg->op_cost[i]);
		break;
	}
}

/* Copy setting s's value from src into dst (a reload keeping what needs a restart). */
void
config_value_copy(struct config *dst, const struct config *src, const struct config_setting *s)
{
	memcpy((char *)dst + s->off, (const char *)src + s->off, s->size);
	if (s->type == CT_LISTEN)
		dst->listen_port = src->listen_port;
	if (s->off == offsetof(struct config, recv_timeout))
		dst->send_timeout = src->send_timeout;
	dst->source[s - config_settings] = src->source[s - config_settings];
}

int
config_cost_parse(struct config *cfg, const char *spec)
{
	char		 name[32], *end;
	const char	*eq = strchr(spec, '=');
	enum tsk_op	 op;
	long long	 v;

	if (eq == NULL || (size_t)(eq - spec) >= sizeof(name) || eq[1] < '0' || eq[1] > '9')
		return -1;
	snprintf(name, sizeof(name), "%.*s", (int)(eq - spec), spec);
	v = strtoll(eq + 1, &end, 10);
	if (*end != '\0' || v < 0 || v > 1000000 || ops_by_name(name, &op) != 0)
		return -1;
	cfg->op_cost[op] = v;
	return 0;
}

int
config_listen_parse(struct config *cfg, const char *spec)
{
	const char	*colon;
	char		*end;
	size_t		 hostlen;
	long		 port;

	colon = strrchr(spec, ':');
	if (colon == NULL)
		return -1;
	hostlen = (size_t)(colon - spec);
	if (hostlen >= 2 && spec[0] == '[' && spec[hostlen - 1] == ']') {
		spec++;		/* [::1]:8080 */
		hostlen -= 2;
		if (hostlen == 0)
			return -1;
	}
	if (hostlen >= sizeof(cfg->listen_host))
		return -1;
	/* Digits only: strtol alone would take " 80" and "+80". */
	if (colon[1] < '0' || colon[1] > '9')
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 0 || port > 65535)
		return -1;
	if (hostlen == 0)
		snprintf(cfg->listen_host, sizeof(cfg->listen_host), "127.0.0.1");
	else
		snprintf(cfg->listen_host, sizeof(cfg->listen_host), "%.*s", (int)hostlen, spec);
	cfg->listen_port = (int)port;
	return 0;
}
