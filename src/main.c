/* SPDX-License-Identifier: MIT */
/*
 * The tskey command: argument parsing, the CLI commands and server start-up. No business logic:
 * every command calls admin.c, store.c or server.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "cli.h"
#include "config.h"
#include "ipallow.h"
#include "log.h"
#include "origin.h"
#include "password.h"
#include "server.h"
#include "store.h"
#include "storepool.h"
#include "tstime.h"

static const char usage_main[] =
    "usage: tskey [--db FILE] [--max-keys N] [-v | -q] COMMAND ...\n"
    "\n"
    "commands:\n"
    "  serve [--listen HOST:PORT] [--no-demo] ...   run the SOAP + REST server\n"
    "  account create NAME [--credit N] [--allowance N]\n"
    "  account list\n"
    "  account allowance ACCOUNT N                  monthly allowance (0: none)\n"
    "  credit set ACCOUNT N | credit add ACCOUNT N\n"
    "  key create ACCOUNT [options]                 prints the new key once on stdout\n"
    "  key import ACCOUNT [--hash] [options]        an existing key (or its SHA-256) on stdin\n"
    "  key list [ACCOUNT] | key show KEY_ID         never the keys themselves\n"
    "  key deactivate KEY_ID | key revoke KEY_ID    effective at once, on every path\n"
    "  key reactivate KEY_ID | key delete KEY_ID\n"
    "  key rotate KEY_ID [--grace SECONDS]          prints the new key once on stdout\n"
    "  user create ACCOUNT USERNAME --password-stdin [--api]\n"
    "  user list [ACCOUNT]\n"
    "  audit [--account NAME] [--limit N]           the lifecycle audit trail, newest first\n"
    "  report migration [--account NAME] [--since DAYS]  keys and users still on SOAP or Login\n"
    "\n"
    "The database is --db FILE, else $TSKEY_DB, else ./tskey.db. --max-keys caps the usable\n"
    "keys of one account (default 100; 0: no cap).\n"
    "tskey COMMAND --help describes a command.\n";

static const struct help {
	const char	*cmd;
	const char	*text;
} helps[] = {
	{ "serve", "usage: tskey serve [--listen HOST:PORT] [--no-demo] [--session-idle SECONDS]\n"
	    "                   [--max-conns N] [--max-body BYTES] [--timeout SECONDS]\n"
	    "                   [--cost OPERATION=CREDITS]... [--uniform-errors]\n"
	    "                   [--no-api-user-login] [--password-max-age DAYS]\n"
	    "                   [--usage-flush-ms MS] [--login-deprecated DATE]\n"
	    "                   [--login-sunset DATE] [--trusted-proxy LIST]\n"
	    "                   [--max-conns-per-client N] [--login-max-failures N]\n"
	    "                   [--tls-cert PEM --tls-key PEM] [--allow-plain]\n"
	    "                   [--admin-origin URL]...\n"
	    "                   [--log-format text|json|logfmt] [--log-target stderr|syslog]\n"
	    "                   [--metrics-allow LIST]\n"
	    "  Serve SOAP (POST /TrackService.asmx, WSDL at /TrackService.asmx?WSDL), REST\n"
	    "  (/rest/credit, /rest/login, /rest/logout, /rest/me, /rest/verify) and the admin\n"
	    "  API (/admin/v1/) and the keys console (/console/) on one port; for operators\n"
	    "  GET /metrics (Prometheus text), GET /healthz (the process answers) and\n"
	    "  GET /readyz (the database answers; 503 when it does not), without a key.\n"
	    "  --listen     address to listen on (default 127.0.0.1:8080; port 0 picks one)\n"
	    "  --no-demo    do not create the demo account on first start\n"
	    "  --session-idle  Login sessions end after this many idle seconds (14400)\n"
	    "  --max-conns  open connections at most (1024); more are closed at accept\n"
	    "  --max-conns-per-client  open connections from one address at most (256); more\n"
	    "               get 503 and are closed\n"
	    "  --login-max-failures  failed Logins of one user from one address before a\n"
	    "               15-minute lockout (5); 4x that from one address locks the address,\n"
	    "               10x that for one user name locks the name for a minute\n"
	    "  --max-body   request body bytes at most (1048576)\n"
	    "  --timeout    seconds a connection may idle or stall (15)\n"
	    "  --cost       credits an operation takes: credit (0), me (0), logout (0),\n"
	    "               verify (1), admin (0)\n"
	    "  --uniform-errors  answer MISSING, INVALID, DISABLED and EXPIRED alike\n"
	    "               (401 UNAUTHORIZED), so callers cannot probe which keys exist\n"
	    "  --no-api-user-login  API users may not use the legacy Login\n"
	    "  --password-max-age   a person's password expires after DAYS (API users' never)\n"
	    "  --usage-flush-ms     last-used times and use counts reach the store this often\n"
	    "               (1000)\n"
	    "  --login-deprecated DATE  mark the legacy Login (SOAP and REST) deprecated since\n"
	    "               DATE: its responses carry a Deprecation header (RFC 9745)\n"
	    "  --login-sunset DATE      ... and a Sunset header (RFC 8594) naming when it goes\n"
	    "  --tls-cert, --tls-key  serve HTTPS (TLS 1.2 and 1.3 only) with this certificate\n"
	    "               chain and private key, both PEM\n"
	    "  --allow-plain  allow plain HTTP on an address that is not loopback (refused\n"
	    "               otherwise: keys would cross the network in the clear)\n"
	    "  --trusted-proxy LIST  peers (addresses, CIDR blocks) whose X-Forwarded-For names\n"
	    "               the client, for IP allowlists and the log (e.g. 127.0.0.1 for nginx)\n"
	    "  --admin-origin URL  a web origin (scheme://host[:port]) besides the server's own\n"
	    "               whose pages may call the admin API (CORS); repeatable. Requests with\n"
	    "               any other Origin get 403 ORIGIN_NOT_ALLOWED\n"
	    "  --log-format  one line per request (id, client, channel, method, route, status,\n"
	    "               verdict, key_id, account_id, ms) and every other line as text\n"
	    "               (default), json (JSON lines) or logfmt; never a key, session or\n"
	    "               password\n"
	    "  --log-target  stderr (default) or syslog (facility daemon, ident tskey)\n"
	    "  --metrics-allow LIST  client addresses and CIDR blocks that may GET /metrics\n"
	    "               (default 127.0.0.0/8,::1: loopback only; others get 403). A request\n"
	    "               with X-Forwarded-For counts only through a --trusted-proxy\n"
	    "  Stops cleanly on SIGTERM or SIGINT.\n" },
	{ "account", "usage: tskey account create NAME [--credit N] [--allowance N]\n"
	    "       tskey account list\n"
	    "       tskey account allowance ACCOUNT N\n"
	    "  A monthly allowance tops the balance up to N on the account's first call of each\n"
	    "  month (UTC); credit bought on top is kept.\n" },
	{ "key", "usage: tskey key create ACCOUNT [--name LABEL] [--expires DATE|RFC3339] [--test]\n"
	    "                [--scopes \"S ...\"] [--ip LIST] [--rate-minute N] [--rate-day N]\n"
	    "                [--platform]\n"
	    "       tskey key import ACCOUNT [--hash] [--name LABEL] [--scopes ...] [--ip ...]\n"
	    "       tskey key list [ACCOUNT]\n"
	    "       tskey key show KEY_ID\n"
	    "       tskey key deactivate KEY_ID     (also: key revoke KEY_ID)\n"
	    "       tskey key reactivate KEY_ID\n"
	    "       tskey key delete KEY_ID\n"
	    "       tskey key rotate KEY_ID [--grace SECONDS]\n"
	    "  key create and key rotate print the new key alone on one line of stdout, once;\n"
	    "  only its SHA-256 is stored. --expires takes YYYY-MM-DD (the key stops at midnight\n"
	    "  UTC that day) or an RFC 3339 time; name, account and expiry never change.\n"
	    "  --scopes defaults to \"credit:read\"; \"keys:admin\" opens the admin API.\n"
	    "  --ip takes addresses and CIDR blocks, IPv4 and IPv6, comma-separated.\n"
	    "  --platform makes a key that administers every account.\n"
	    "  key import reads an existing TrackServiceKey (or with --hash its SHA-256 in hex)\n"
	    "  on stdin, so that clients holding it keep working; prints the new key id.\n"
	    "  An expired key cannot be reactivated; only an inactive or expired key can be\n"
	    "  deleted. key rotate makes a key with the same settings; the old one stops at\n"
	    "  once, or after --grace SECONDS.\n" },
	{ "user", "usage: tskey user create ACCOUNT USERNAME --password-stdin [--api]\n"
	    "       tskey user list [ACCOUNT]\n"
	    "  Reads the password from the first line of stdin; stores only its scrypt hash.\n"
	    "  --api makes an API user: a service account whose password never expires and\n"
	    "  who may be kept from the legacy Login (serve --no-api-user-login).\n" },
	{ "credit", "usage: tskey credit set ACCOUNT N\n"
	    "       tskey credit add ACCOUNT N\n" },
	{ "report", "usage: tskey report migration [--account NAME] [--since DAYS]\n"
	    "  Keys and Login users still on a legacy path, latest legacy use first: requests\n"
	    "  over SOAP with a Login session (SOAP_SESSION), over SOAP with the key in the\n"
	    "  SessionIDHeader (SOAP_KEY), over REST, and legacy Logins. --since keeps those\n"
	    "  with a legacy use in the last DAYS days. Counts reach the store within about a\n"
	    "  second of the call (see serve --usage-flush-ms).\n" },
	{ "audit", "usage: tskey audit [--account NAME] [--limit N]\n"
	    "  Every lifecycle change (who, what, when, from where, request id), newest first.\n" },
};

static int
help_for(const char *cmd)
{
	size_t	i;

	for (i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
		if (strcmp(helps[i].cmd, cmd) == 0) {
			fputs(helps[i].text, stdout);
			return 0;
		}
	}
	fputs(usage_main, stdout);
	return 0;
}

/*
 * First start on an empty store: a demo account, a key and a Login user, shown once, so that a
 * newcomer has something to call.
 */
static int
demo_create(struct cli *c, struct store *st)
{
	struct admin_key_spec	spec;
	struct admin_actor	who;
	char			key[SECRET_KEY_MAX], pw[SECRET_SESSION_LEN + 1];
	int64_t			n = 0, id = 0;

	if (store_account_count(st, &n) != TSK_OK)
		return -1;
	if (n > 0)
		return 0;
	memset(&spec, 0, sizeof(spec));
	spec.account = "demo";
	spec.name = "demo";
	cli_actor(c, &who);
	if (admin_account_create(st, &who, "demo", 1000, 0, &id) != TSK_OK ||
	    admin_key_create(st, &who, &spec, key, &id) != TSK_OK ||
	    secret_session_new(pw) != 0 ||
	    admin_user_create(st, &who, "demo", "demo", pw, STORE_USER_PERSON) != TSK_OK)
		return -1;
	printf("tskey: first start: created account 'demo' with 1000 credit.\n"
	    "tskey: these are shown once and not stored; keep them now:\n"
	    "  API key (X-API-Key or SOAP SessionID): %s\n"
	    "  Login user name: demo   password: %s\n",
	    key, pw);
	fflush(stdout);
	secret_wipe(key, sizeof(key));
	secret_wipe(pw, sizeof(pw));
	return 0;
}

static void
serve_ready(const struct config *cfg, int port, void *arg)
{
	(void)arg;
	printf("tskey: listening on %s:%d (database %s)\n", cfg->listen_host, port,
	    cfg->db_path);
	fflush(stdout);
}

/* The numeric serve options: 1 when name is one and value is in range. */
static int
serve_number(struct config *cfg, const char *name, const char *value)
{
	int64_t	v;

	if (cli_parse_int64(value, &v) != 0 || v < 1)
		return 0;
	if (strcmp(name, "--session-idle") == 0)
		cfg->session_idle = v;
	else if (strcmp(name, "--max-conns") == 0 && v <= 100000)
		cfg->max_conns = (int)v;
	else if (strcmp(name, "--max-body") == 0 && v <= 64 * 1024 * 1024)
		cfg->max_body = (size_t)v;
	else if (strcmp(name, "--timeout") == 0 && v <= 3600)
		cfg->recv_timeout = cfg->send_timeout = (int)v;
	else if (strcmp(name, "--touch-slack") == 0)
		cfg->touch_slack = v;
	else if (strcmp(name, "--max-conns-per-client") == 0 && v <= 100000)
		cfg->max_conns_per_client = (int)v;
	else if (strcmp(name, "--login-max-failures") == 0 && v <= 1000)
		cfg->login_max_failures = (int)v;
	else if (strcmp(name, "--password-max-age") == 0 && v <= 100000)
		cfg->password_max_age = v * 86400;
	else if (strcmp(name, "--usage-flush-ms") == 0 && v <= 3600000)
		cfg->usage_flush_ms = (int)v;
	else
		return 0;
	return 1;
}

static int
cmd_serve(struct cli *c)
{
	struct storepool	*pool = NULL;
	struct store		*st;
	int			 i, rc;

	for (i = 0; i < c->argc; i++) {
		if (strcmp(c->argv[i], "--listen") == 0 && i + 1 < c->argc) {
			if (config_listen_parse(&c->cfg, c->argv[++i]) != 0)
				return cli_usage_error("serve: --listen takes HOST:PORT", "serve ");
		} else if (strcmp(c->argv[i], "--no-demo") == 0) {
			c->cfg.demo = 0;
		} else if (strcmp(c->argv[i], "--uniform-errors") == 0) {
			c->cfg.uniform_errors = 1;
		} else if (strcmp(c->argv[i], "--no-api-user-login") == 0) {
			c->cfg.api_user_login = 0;
		} else if ((strcmp(c->argv[i], "--login-deprecated") == 0 ||
		    strcmp(c->argv[i], "--login-sunset") == 0) && i + 1 < c->argc) {
			int64_t	*t = strcmp(c->argv[i], "--login-deprecated") == 0 ?
				    &c->cfg.login_deprecation : &c->cfg.login_sunset;

			if (tstime_parse(c->argv[++i], t) != 0)
				return cli_usage_error("serve: --login-deprecated and --login-sunset "
				    "take YYYY-MM-DD or an RFC 3339 time", "serve ");
		} else if ((strcmp(c->argv[i], "--tls-cert") == 0 ||
		    strcmp(c->argv[i], "--tls-key") == 0) && i + 1 < c->argc) {
			char	*dst = strcmp(c->argv[i], "--tls-cert") == 0 ? c->cfg.tls_cert :
				    c->cfg.tls_key;

			snprintf(dst, sizeof(c->cfg.tls_cert), "%s", c->argv[++i]);
		} else if (strcmp(c->argv[i], "--allow-plain") == 0) {
			c->cfg.allow_plain = 1;
		} else if (strcmp(c->argv[i], "--trusted-proxy") == 0 && i + 1 < c->argc) {
			i++;
			if (ipallow_valid(c->argv[i]) != 0 || strlen(c->argv[i]) >=
			    sizeof(c->cfg.trusted_proxies))
				return cli_usage_error("serve: --trusted-proxy takes addresses and "
				    "CIDR blocks, comma-separated", "serve ");
			snprintf(c->cfg.trusted_proxies, sizeof(c->cfg.trusted_proxies), "%s",
			    c->argv[i]);
		} else if (strcmp(c->argv[i], "--admin-origin") == 0 && i + 1 < c->argc) {
			if (origin_list_add(c->cfg.admin_origins, sizeof(c->cfg.admin_origins),
			    c->argv[++i]) != 0)
				return cli_usage_error("serve: --admin-origin takes an origin such as "
				    "https://admin.example.com (no path), at most a few", "serve ");
		} else if (strcmp(c->argv[i], "--log-format") == 0 && i + 1 < c->argc) {
			if (config_log_format_parse(&c->cfg, c->argv[++i]) != 0)
				return cli_usage_error("serve: --log-format takes text, json or "
				    "logfmt", "serve ");
		} else if (strcmp(c->argv[i], "--log-target") == 0 && i + 1 < c->argc) {
			if (config_log_target_parse(&c->cfg, c->argv[++i]) != 0)
				return cli_usage_error("serve: --log-target takes stderr or syslog",
				    "serve ");
		} else if (strcmp(c->argv[i], "--metrics-allow") == 0 && i + 1 < c->argc) {
			if (config_metrics_allow_parse(&c->cfg, c->argv[++i]) != 0)
				return cli_usage_error("serve: --metrics-allow takes addresses and "
				    "CIDR blocks, comma-separated", "serve ");
		} else if (strcmp(c->argv[i], "--cost") == 0 && i + 1 < c->argc) {
			if (config_cost_parse(&c->cfg, c->argv[++i]) != 0)
				return cli_usage_error("serve: --cost takes OPERATION=CREDITS "
				    "(credit, me, logout, verify, admin)", "serve ");
		} else if (i + 1 < c->argc && serve_number(&c->cfg, c->argv[i], c->argv[i + 1])) {
			i++;
		} else {
			return cli_usage_error("serve: bad option or value", "serve ");
		}
	}
	if ((c->cfg.tls_cert[0] == '\0') != (c->cfg.tls_key[0] == '\0'))
		return cli_usage_error("serve: --tls-cert and --tls-key go together", "serve ");
	log_setup(c->cfg.log_format, c->cfg.log_target);
	if (storepool_open(c->cfg.db_path, c->cfg.store_pool, &pool) != TSK_OK) {
		fprintf(stderr, "tskey: cannot open the database %s\n", c->cfg.db_path);
		return 1;
	}
	if (c->cfg.demo) {
		st = storepool_get(pool, 1000);
		rc = st != NULL ? demo_create(c, st) : -1;
		storepool_put(pool, st);
		if (rc != 0)
			log_warnx("could not create the demo account");
	}
	rc = server_run(&c->cfg, pool, serve_ready, NULL);
	if (rc == 1)
		_exit(0);	/* connections outlived the drain: do not free what they use */
	storepool_close(pool);
	return rc == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct cli	 c;
	const char	*cmd;
	int64_t		 n;
	int		 i = 1;

	signal(SIGPIPE, SIG_IGN);
	memset(&c, 0, sizeof(c));
	config_defaults(&c.cfg);
	log_init(LOG_LEVEL_INFO);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
			snprintf(c.cfg.db_path, sizeof(c.cfg.db_path), "%s", argv[++i]);
		} else if (strcmp(argv[i], "--max-keys") == 0 && i + 1 < argc) {
			if (cli_parse_int64(argv[++i], &n) != 0 || n < 0 || n > 1000000)
				return cli_usage_error("--max-keys takes a number (0: no limit)", NULL);
			c.cfg.max_active_keys = (int)n;
		} else if (strcmp(argv[i], "-v") == 0) {
			log_init(LOG_LEVEL_DEBUG);
		} else if (strcmp(argv[i], "-q") == 0) {
			log_init(LOG_LEVEL_WARN);
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage_main, stdout);
			return 0;
		} else {
			return cli_usage_error("unknown option", NULL);
		}
	}
	if (i >= argc)
		return cli_usage_error("no command", NULL);
	cmd = argv[i++];
	c.argc = argc - i;
	c.argv = argv + i;
	for (int j = 0; j < c.argc; j++) {
		if (strcmp(c.argv[j], "--help") == 0 || strcmp(c.argv[j], "-h") == 0)
			return help_for(cmd);
	}
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(&c);
	if (strcmp(cmd, "account") == 0)
		return cli_account(&c);
	if (strcmp(cmd, "key") == 0)
		return cli_key(&c);
	if (strcmp(cmd, "user") == 0)
		return cli_user(&c);
	if (strcmp(cmd, "credit") == 0)
		return cli_credit(&c);
	if (strcmp(cmd, "audit") == 0)
		return cli_audit(&c);
	if (strcmp(cmd, "report") == 0)
		return cli_report_migration(&c);
	if (strcmp(cmd, "help") == 0)
		return help_for(c.argc > 0 ? c.argv[0] : "");
	return cli_usage_error("unknown command", NULL);
}
