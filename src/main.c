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
#include "config.h"
#include "log.h"
#include "password.h"
#include "server.h"
#include "store.h"
#include "storepool.h"
#include "tstime.h"

struct cli {
	struct config	 cfg;
	int		 argc;	/* what is left after the command words */
	char		**argv;
};

static const char usage_main[] =
    "usage: tskey [--db FILE] [-v | -q] COMMAND ...\n"
    "\n"
    "commands:\n"
    "  serve [--listen HOST:PORT] [--no-demo]   run the SOAP + REST server\n"
    "  account create NAME [--credit N]         create an account\n"
    "  account list                             list accounts\n"
    "  key create ACCOUNT [--name LABEL] [--expires DATE|RFC3339] [--test]\n"
    "                                           create a key; prints it once on stdout\n"
    "  key list [ACCOUNT]                       list keys (never the keys themselves)\n"
    "  key revoke KEY_ID                        revoke a key, effective at once\n"
    "  user create ACCOUNT USERNAME --password-stdin\n"
    "                                           create a user for the legacy Login\n"
    "  credit set ACCOUNT N                     set an account's credit balance\n"
    "\n"
    "The database is --db FILE, else $TSKEY_DB, else ./tskey.db.\n"
    "tskey COMMAND --help describes a command.\n";

static const struct help {
	const char	*cmd;
	const char	*text;
} helps[] = {
	{ "serve", "usage: tskey serve [--listen HOST:PORT] [--no-demo] [--session-idle SECONDS]\n"
	    "                   [--max-conns N] [--max-body BYTES] [--timeout SECONDS]\n"
	    "  Serve SOAP (POST /TrackService.asmx, WSDL at /TrackService.asmx?WSDL) and REST\n"
	    "  (/rest/credit, /rest/login, /rest/logout, /rest/me) on one port.\n"
	    "  --listen     address to listen on (default 127.0.0.1:8080; port 0 picks one)\n"
	    "  --no-demo    do not create the demo account on first start\n"
	    "  --session-idle  Login sessions end after this many idle seconds (14400)\n"
	    "  --max-conns  open connections at most (1024); more are closed at accept\n"
	    "  --max-body   request body bytes at most (1048576)\n"
	    "  --timeout    seconds a connection may idle or stall (15)\n"
	    "  Stops cleanly on SIGTERM or SIGINT.\n" },
	{ "account", "usage: tskey account create NAME [--credit N]\n"
	    "       tskey account list\n" },
	{ "key", "usage: tskey key create ACCOUNT [--name LABEL] [--expires DATE|RFC3339] [--test]\n"
	    "       tskey key list [ACCOUNT]\n"
	    "       tskey key revoke KEY_ID\n"
	    "  key create prints the new key alone on one line of stdout, once; only its\n"
	    "  SHA-256 is stored. --expires takes YYYY-MM-DD (the key stops at midnight UTC\n"
	    "  that day) or an RFC 3339 time. --test makes a tsk_test_ key.\n" },
	{ "user", "usage: tskey user create ACCOUNT USERNAME --password-stdin\n"
	    "  Reads the password from the first line of stdin; stores only its scrypt hash.\n" },
	{ "credit", "usage: tskey credit set ACCOUNT N\n" },
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

static int
usage_error(const char *msg, const char *cmd)
{
	fprintf(stderr, "tskey: %s\n", msg);
	fprintf(stderr, "Try 'tskey %s--help'.\n", cmd != NULL ? cmd : "");
	return 2;
}

static int
parse_int64(const char *s, int64_t *out)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

static struct store *
open_store(const struct config *cfg)
{
	struct store	*st = NULL;

	if (store_open(cfg->db_path, &st) != TSK_OK) {
		fprintf(stderr, "tskey: cannot open the database %s\n", cfg->db_path);
		return NULL;
	}
	return st;
}

/* One message per status, for commands; the store has logged its own detail. */
static int
report(enum tsk_status rc, const char *what, const char *conflict)
{
	switch (rc) {
	case TSK_OK:
		return 0;
	case TSK_NOT_FOUND:
		fprintf(stderr, "tskey: %s: not found\n", what);
		return 1;
	case TSK_ERR_INPUT:
		fprintf(stderr, "tskey: %s: invalid input\n", what);
		return 1;
	case TSK_ERR_CONFLICT:
		fprintf(stderr, "tskey: %s: %s\n", what, conflict);
		return 1;
	default:
		fprintf(stderr, "tskey: %s: failed\n", what);
		return 1;
	}
}

static int
print_account(const struct store_account *a, void *arg)
{
	char	created[TSTIME_LEN];

	(void)arg;
	tstime_format(a->created_at, created, sizeof(created));
	printf("%lld\t%s\t%lld\t%s\n", (long long)a->id, a->name, (long long)a->credit, created);
	return 0;
}

static int
cmd_account(struct cli *c)
{
	struct store		*st;
	struct store_account	 a;
	int64_t			 credit = 0, id = 0;
	int			 rc, i;

	if (c->argc >= 1 && strcmp(c->argv[0], "list") == 0 && c->argc == 1) {
		st = open_store(&c->cfg);
		if (st == NULL)
			return 1;
		printf("ID\tNAME\tCREDIT\tCREATED\n");
		rc = report(store_account_list(st, print_account, NULL), "account list", "");
		store_close(st);
		return rc;
	}
	if (c->argc < 2 || strcmp(c->argv[0], "create") != 0)
		return usage_error("account: expected 'create NAME' or 'list'", "account ");
	for (i = 2; i < c->argc; i++) {
		if (strcmp(c->argv[i], "--credit") == 0 && i + 1 < c->argc &&
		    parse_int64(c->argv[i + 1], &credit) == 0)
			i++;
		else
			return usage_error("account create: bad option", "account ");
	}
	if (!admin_name_ok(c->argv[1]))
		return usage_error("account create: bad account name", "account ");
	st = open_store(&c->cfg);
	if (st == NULL)
		return 1;
	rc = report(admin_account_create(st, c->argv[1], credit, time(NULL), &id),
	    "account create", "an account with that name exists");
	if (rc == 0 && store_account_by_name(st, c->argv[1], &a) == TSK_OK)
		fprintf(stderr, "tskey: created account %lld '%s' with credit %lld\n",
		    (long long)a.id, a.name, (long long)a.credit);
	store_close(st);
	return rc;
}

static void
format_time_or(int64_t t, char *buf, size_t bufsz, const char *none)
{
	if (t == 0)
		snprintf(buf, bufsz, "%s", none);
	else
		tstime_format(t, buf, bufsz);
}

static int
print_key(const struct store_key *k, void *arg)
{
	char	created[TSTIME_LEN], expires[TSTIME_LEN], used[TSTIME_LEN];

	(void)arg;
	tstime_format(k->created_at, created, sizeof(created));
	format_time_or(k->expires_at, expires, sizeof(expires), "never");
	format_time_or(k->last_used_at, used, sizeof(used), "never");
	printf("%lld\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", (long long)k->id, k->account,
	    *k->name != '\0' ? k->name : "-", k->prefix,
	    k->status == STORE_KEY_ACTIVE ? "active" : "revoked", created, expires, used);
	return 0;
}

static int
key_create(struct cli *c)
{
	struct admin_key_spec	 spec;
	struct store		*st;
	char			 key[SECRET_KEY_MAX];
	int64_t			 id = 0;
	int			 rc, i;

	memset(&spec, 0, sizeof(spec));
	spec.account = c->argv[1];
	for (i = 2; i < c->argc; i++) {
		if (strcmp(c->argv[i], "--name") == 0 && i + 1 < c->argc) {
			spec.name = c->argv[++i];
		} else if (strcmp(c->argv[i], "--expires") == 0 && i + 1 < c->argc) {
			if (tstime_parse(c->argv[++i], &spec.expires_at) != 0)
				return usage_error("key create: --expires takes YYYY-MM-DD or "
				    "an RFC 3339 time", "key ");
		} else if (strcmp(c->argv[i], "--test") == 0) {
			spec.env = "test";
		} else {
			return usage_error("key create: bad option", "key ");
		}
	}
	if (spec.name != NULL && !admin_name_ok(spec.name))
		return usage_error("key create: bad key name", "key ");
	if (spec.expires_at != 0 && spec.expires_at <= time(NULL))
		return usage_error("key create: --expires is in the past", "key ");
	st = open_store(&c->cfg);
	if (st == NULL)
		return 1;
	rc = report(admin_key_create(st, &spec, time(NULL), key, &id), "key create", "conflict");
	if (rc == 0) {
		/* The one and only time the key is shown: alone on stdout, details on stderr. */
		printf("%s\n", key);
		fflush(stdout);
		fprintf(stderr, "tskey: created key %lld for account '%s'\n", (long long)id,
		    spec.account);
		secret_wipe(key, sizeof(key));
	}
	store_close(st);
	return rc;
}

static int
cmd_key(struct cli *c)
{
	struct store		*st;
	struct store_account	 a;
	int64_t			 id, account_id = 0;
	int			 rc;

	if (c->argc >= 2 && strcmp(c->argv[0], "create") == 0)
		return key_create(c);
	if (c->argc == 2 && strcmp(c->argv[0], "revoke") == 0) {
		if (parse_int64(c->argv[1], &id) != 0)
			return usage_error("key revoke: KEY_ID is a number", "key ");
		st = open_store(&c->cfg);
		if (st == NULL)
			return 1;
		rc = report(admin_key_revoke(st, id), "key revoke", "conflict");
		if (rc == 0)
			fprintf(stderr, "tskey: revoked key %lld\n", (long long)id);
		store_close(st);
		return rc;
	}
	if (c->argc >= 1 && c->argc <= 2 && strcmp(c->argv[0], "list") == 0) {
		st = open_store(&c->cfg);
		if (st == NULL)
			return 1;
		rc = 0;
		if (c->argc == 2) {
			rc = report(store_account_by_name(st, c->argv[1], &a), "key list", "");
			account_id = a.id;
		}
		if (rc == 0) {
			printf("ID\tACCOUNT\tNAME\tPREFIX\tSTATUS\tCREATED\tEXPIRES\tLAST_USED\n");
			rc = report(store_key_list(st, account_id, print_key, NULL), "key list", "");
		}
		store_close(st);
		return rc;
	}
	return usage_error("key: expected create, list or revoke", "key ");
}

/* The first line of stdin, without its line end. */
static int
read_password(char *buf, size_t bufsz)
{
	size_t	n;

	if (fgets(buf, (int)bufsz, stdin) == NULL)
		return -1;
	n = strlen(buf);
	if (n > 0 && buf[n - 1] != '\n' && !feof(stdin))
		return -1;	/* longer than we take: refuse rather than truncate */
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return n > 0 ? 0 : -1;
}

static int
cmd_user(struct cli *c)
{
	struct store	*st;
	char		 pw[PASSWORD_MAX + 2];
	int		 rc;

	if (c->argc != 4 || strcmp(c->argv[0], "create") != 0 ||
	    strcmp(c->argv[3], "--password-stdin") != 0)
		return usage_error("user: expected 'create ACCOUNT USERNAME --password-stdin'",
		    "user ");
	if (!admin_name_ok(c->argv[2]))
		return usage_error("user create: bad user name", "user ");
	if (read_password(pw, sizeof(pw)) != 0)
		return usage_error("user create: no password (or a longer one than 1024 bytes) "
		    "on stdin", "user ");
	st = open_store(&c->cfg);
	if (st == NULL) {
		secret_wipe(pw, sizeof(pw));
		return 1;
	}
	rc = report(admin_user_create(st, c->argv[1], c->argv[2], pw, time(NULL)),
	    "user create", "a user with that name exists");
	secret_wipe(pw, sizeof(pw));
	if (rc == 0)
		fprintf(stderr, "tskey: created user '%s' in account '%s'\n", c->argv[2],
		    c->argv[1]);
	store_close(st);
	return rc;
}

static int
cmd_credit(struct cli *c)
{
	struct store	*st;
	int64_t		 credit;
	int		 rc;

	if (c->argc != 3 || strcmp(c->argv[0], "set") != 0 ||
	    parse_int64(c->argv[2], &credit) != 0)
		return usage_error("credit: expected 'set ACCOUNT N'", "credit ");
	st = open_store(&c->cfg);
	if (st == NULL)
		return 1;
	rc = report(admin_credit_set(st, c->argv[1], credit), "credit set", "conflict");
	store_close(st);
	return rc;
}

/*
 * First start on an empty store: a demo account, a key and a Login user, shown once, so that a
 * newcomer has something to call.
 */
static int
demo_create(struct store *st)
{
	struct admin_key_spec	spec = { "demo", "demo", "live", 0 };
	char			key[SECRET_KEY_MAX], pw[SECRET_SESSION_LEN + 1];
	int64_t			n = 0, id = 0, now = time(NULL);

	if (store_account_count(st, &n) != TSK_OK)
		return -1;
	if (n > 0)
		return 0;
	if (admin_account_create(st, "demo", 1000, now, &id) != TSK_OK ||
	    admin_key_create(st, &spec, now, key, &id) != TSK_OK ||
	    secret_session_new(pw) != 0 ||
	    admin_user_create(st, "demo", "demo", pw, now) != TSK_OK)
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

	if (parse_int64(value, &v) != 0 || v < 1)
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
				return usage_error("serve: --listen takes HOST:PORT", "serve ");
		} else if (strcmp(c->argv[i], "--no-demo") == 0) {
			c->cfg.demo = 0;
		} else if (i + 1 < c->argc && serve_number(&c->cfg, c->argv[i], c->argv[i + 1])) {
			i++;
		} else {
			return usage_error("serve: bad option or value", "serve ");
		}
	}
	if (storepool_open(c->cfg.db_path, c->cfg.store_pool, &pool) != TSK_OK) {
		fprintf(stderr, "tskey: cannot open the database %s\n", c->cfg.db_path);
		return 1;
	}
	if (c->cfg.demo) {
		st = storepool_get(pool, 1000);
		rc = st != NULL ? demo_create(st) : -1;
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
	int		 i = 1;

	signal(SIGPIPE, SIG_IGN);
	memset(&c, 0, sizeof(c));
	config_defaults(&c.cfg);
	log_init(LOG_LEVEL_INFO);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
			snprintf(c.cfg.db_path, sizeof(c.cfg.db_path), "%s", argv[++i]);
		} else if (strcmp(argv[i], "-v") == 0) {
			log_init(LOG_LEVEL_DEBUG);
		} else if (strcmp(argv[i], "-q") == 0) {
			log_init(LOG_LEVEL_WARN);
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage_main, stdout);
			return 0;
		} else {
			return usage_error("unknown option", NULL);
		}
	}
	if (i >= argc)
		return usage_error("no command", NULL);
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
		return cmd_account(&c);
	if (strcmp(cmd, "key") == 0)
		return cmd_key(&c);
	if (strcmp(cmd, "user") == 0)
		return cmd_user(&c);
	if (strcmp(cmd, "credit") == 0)
		return cmd_credit(&c);
	if (strcmp(cmd, "help") == 0)
		return help_for(c.argc > 0 ? c.argv[0] : "");
	return usage_error("unknown command", NULL);
}
