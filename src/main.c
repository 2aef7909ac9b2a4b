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
#include "log.h"
#include "password.h"
#include "server.h"
#include "store.h"
#include "storepool.h"

static const char usage_main[] =
    "usage: tskey [--config FILE] [--db FILE] [--max-keys N] [-v | -q] COMMAND ...\n"
    "\n"
    "commands:\n"
    "  serve [--listen HOST:PORT] [--no-demo] ...   run the SOAP + REST server\n"
    "  config check [FILE] | config show [SERVE FLAGS] | config sample\n"
    "  backup FILE                                  a consistent copy of the live database\n"
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
    "Settings come from built-in defaults, then the file --config FILE (or $TSKEY_CONFIG),\n"
    "then TSKEY_<NAME> environment variables, then flags; tskey config sample lists them.\n"
    "The database is --db FILE (db, $TSKEY_DB), default ./tskey.db. --max-keys caps the\n"
    "usable keys of one account (default 100; 0: no cap).\n"
    "tskey COMMAND --help describes a command.\n";

static const struct help {
	const char	*cmd;
	const char	*text;
} helps[] = {
	{ "serve", "usage: tskey serve [OPTIONS]\n"
	    "  Serve SOAP (POST /TrackService.asmx, WSDL at /TrackService.asmx?WSDL), REST\n"
	    "  (/rest/credit, /rest/login, /rest/logout, /rest/me, /rest/verify) and the admin\n"
	    "  API (/admin/v1/) and the keys console (/console/) on one port; for operators\n"
	    "  GET /metrics (Prometheus text; metrics_allow), GET /healthz (the process\n"
	    "  answers) and GET /readyz (the database answers; 503 when not), without a key.\n"
	    "  Every option is also a setting of the configuration file and a TSKEY_<NAME>\n"
	    "  environment variable (tskey config sample).\n"
	    "  Plain HTTP is refused off loopback unless allow_plain; SIGHUP re-reads the\n"
	    "  configuration (what needs a restart is logged and kept); SIGTERM or SIGINT stop\n"
	    "  cleanly.\n"
	    "options:\n" },
	{ "config", "usage: tskey config check [FILE]\n"
	    "       tskey [--config FILE] config show [SERVE OPTIONS]\n"
	    "       tskey config sample\n"
	    "  check: read FILE (default: --config or $TSKEY_CONFIG) and say what is wrong,\n"
	    "  with FILE:LINE; exits 0 when it is good, 1 when not.\n"
	    "  show: the settings serve would run with, and where each comes from (default,\n"
	    "  file, environment, flag).\n"
	    "  sample: a configuration file with every setting and its default, commented.\n" },
	{ "backup", "usage: tskey backup FILE\n"
	    "  Copy the database, while the server serves, into FILE (replaced atomically when\n"
	    "  complete; mode 0600), with sqlite's online backup in small steps, then check the\n"
	    "  copy with PRAGMA integrity_check. Exits 0 when the copy is complete and sound.\n" },
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
			if (strcmp(cmd, "serve") == 0)
				config_flag_help(stdout, 0);
			return 0;
		}
	}
	fputs(usage_main, stdout);
	fputs("\nglobal options (before the command):\n"
	    "  --config FILE                the configuration file (or $TSKEY_CONFIG)\n", stdout);
	config_flag_help(stdout, 1);
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

/* SIGHUP: the settings as a start now would read them (the same file, environment, flags). */
static int
serve_reload(struct config *next, void *arg)
{
	struct cli	*c = arg;

	return cli_settings(c, next, stderr) == 0 ? 0 : -1;
}

static int
cmd_serve(struct cli *c)
{
	struct storepool	*pool = NULL;
	struct store		*st;
	int			 rc;

	/* Before anything is logged; a restart applies a change (log_format, log_target). */
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
	rc = server_run(&c->cfg, pool, serve_ready, serve_reload, c);
	if (rc == 1)
		_exit(0);	/* connections outlived the drain: do not free what they use */
	storepool_close(pool);
	return rc == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct cli	 c;
	struct config	 scratch;
	const char	*cmd;
	int		 i = 1, r;

	signal(SIGPIPE, SIG_IGN);
	memset(&c, 0, sizeof(c));
	log_init(LOG_LEVEL_INFO);
	c.config_path = getenv("TSKEY_CONFIG");
	if (c.config_path != NULL && *c.config_path == '\0')
		c.config_path = NULL;
	/* The global options, checked here and applied in order by cli_settings. */
	config_defaults(&scratch);
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return help_for("");
		if (strcmp(argv[i], "--config") == 0) {
			if (i + 1 >= argc)
				return cli_usage_error("--config takes a file", NULL);
			c.config_path = argv[i + 1];
			i += 2;
			continue;
		}
		r = config_flag(&scratch, 1, argc, argv, &i, stderr);
		if (r == 0)
			return cli_usage_error("unknown option", NULL);
		if (r < 0)
			return cli_usage_error("bad option value", NULL);
	}
	if (i >= argc)
		return cli_usage_error("no command", NULL);
	c.gargc = i - 1;
	c.gargv = argv + 1;
	cmd = argv[i++];
	c.argc = argc - i;
	c.argv = argv + i;
	for (int j = 0; j < c.argc; j++) {
		if (strcmp(c.argv[j], "--help") == 0 || strcmp(c.argv[j], "-h") == 0)
			return help_for(cmd);
	}
	if (strcmp(cmd, "help") == 0)
		return help_for(c.argc > 0 ? c.argv[0] : "");
	if (strcmp(cmd, "config") == 0)
		return cli_config(&c);	/* reports a bad file itself */
	c.serve = strcmp(cmd, "serve") == 0;
	if (cli_settings(&c, &c.cfg, stderr) != 0)
		return cli_usage_error("the settings have errors (above)", c.serve ? "serve " : NULL);
	log_init((enum log_level)c.cfg.log_level);
	if (c.serve)
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
	if (strcmp(cmd, "backup") == 0)
		return cli_backup(&c);
	return cli_usage_error("unknown command", NULL);
}
