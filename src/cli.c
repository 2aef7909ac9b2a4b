/* SPDX-License-Identifier: MIT */
/* CLI helpers, and the account, user, credit and audit commands. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "password.h"
#include "tstime.h"

int
cli_usage_error(const char *msg, const char *cmd)
{
	fprintf(stderr, "tskey: %s\n", msg);
	fprintf(stderr, "Try 'tskey %s--help'.\n", cmd != NULL ? cmd : "");
	return 2;
}

int
cli_parse_int64(const char *s, int64_t *out)
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

struct store *
cli_open_store(const struct config *cfg)
{
	struct store	*st = NULL;

	if (store_open(cfg->db_path, &st) != TSK_OK) {
		fprintf(stderr, "tskey: cannot open the database %s\n", cfg->db_path);
		return NULL;
	}
	return st;
}

/* One message per status; the store has logged its own detail. */
int
cli_report(enum tsk_status rc, const char *what, const char *conflict)
{
	switch (rc) {
	case TSK_OK:
		return 0;
	case TSK_NOT_FOUND:
		fprintf(stderr, "tskey: %s: not found\n", what);
		break;
	case TSK_ERR_INPUT:
		fprintf(stderr, "tskey: %s: invalid input\n", what);
		break;
	case TSK_ERR_CONFLICT:
		fprintf(stderr, "tskey: %s: %s\n", what, conflict);
		break;
	case TSK_ERR_LIMIT:
		fprintf(stderr, "tskey: %s: the account already holds its maximum of active keys\n",
		    what);
		break;
	case TSK_ERR_FORBIDDEN:
		fprintf(stderr, "tskey: %s: not allowed\n", what);
		break;
	default:
		fprintf(stderr, "tskey: %s: failed\n", what);
	}
	return 1;
}

void
cli_actor(const struct cli *c, struct admin_actor *who)
{
	memset(who, 0, sizeof(*who));
	who->who = "cli";
	who->client = "";
	who->request_id = "";
	who->now = time(NULL);
	who->max_active = c->cfg.max_active_keys;
}

void
cli_time(int64_t t, char *buf, size_t bufsz, const char *none)
{
	if (t == 0)
		snprintf(buf, bufsz, "%s", none);
	else
		tstime_format(t, buf, bufsz);
}

int
cli_read_line(char *buf, size_t bufsz)
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
print_account(const struct store_account *a, void *arg)
{
	char	created[32];

	(void)arg;
	cli_time(a->created_at, created, sizeof(created), "-");
	printf("%lld\t%s\t%lld\t%lld\t%s\n", (long long)a->id, a->name, (long long)a->credit,
	    (long long)a->monthly_allowance, created);
	return 0;
}

static int
account_create(struct cli *c, struct store *st)
{
	struct admin_actor	who;
	int64_t			credit = 0, allowance = 0, id = 0;
	int			i, rc;

	for (i = 2; i < c->argc; i++) {
		if (strcmp(c->argv[i], "--credit") == 0 && i + 1 < c->argc &&
		    cli_parse_int64(c->argv[i + 1], &credit) == 0)
			i++;
		else if (strcmp(c->argv[i], "--allowance") == 0 && i + 1 < c->argc &&
		    cli_parse_int64(c->argv[i + 1], &allowance) == 0 && allowance >= 0)
			i++;
		else
			return cli_usage_error("account create: bad option", "account ");
	}
	if (!admin_name_ok(c->argv[1]))
		return cli_usage_error("account create: bad account name", "account ");
	cli_actor(c, &who);
	rc = cli_report(admin_account_create(st, &who, c->argv[1], credit, allowance, &id),
	    "account create", "an account with that name exists");
	if (rc == 0)
		fprintf(stderr, "tskey: created account %lld '%s' with credit %lld\n",
		    (long long)id, c->argv[1], (long long)credit);
	return rc;
}

int
cli_account(struct cli *c)
{
	struct admin_actor	 who;
	struct store		*st;
	int64_t			 n;
	int			 rc;

	if (c->argc == 1 && strcmp(c->argv[0], "list") == 0) {
		st = cli_open_store(&c->cfg);
		if (st == NULL)
			return 1;
		printf("ID\tNAME\tCREDIT\tMONTHLY_ALLOWANCE\tCREATED\n");
		rc = cli_report(store_account_list(st, print_account, NULL), "account list", "");
	} else if (c->argc >= 2 && strcmp(c->argv[0], "create") == 0) {
		st = cli_open_store(&c->cfg);
		if (st == NULL)
			return 1;
		rc = account_create(c, st);
	} else if (c->argc == 3 && strcmp(c->argv[0], "allowance") == 0 &&
	    cli_parse_int64(c->argv[2], &n) == 0) {
		st = cli_open_store(&c->cfg);
		if (st == NULL)
			return 1;
		cli_actor(c, &who);
		rc = cli_report(admin_allowance_set(st, &who, c->argv[1], n), "account allowance",
		    "conflict");
	} else {
		return cli_usage_error("account: expected create, list or allowance", "account ");
	}
	store_close(st);
	return rc;
}

static int
print_user(const struct store_user *u, void *arg)
{
	char	created[32];

	(void)arg;
	cli_time(u->created_at, created, sizeof(created), "-");
	printf("%lld\t%lld\t%s\t%s\t%s\n", (long long)u->id, (long long)u->account_id, u->name,
	    u->kind == STORE_USER_API ? "api" : "person", created);
	return 0;
}

static int
user_create(struct cli *c, struct store *st)
{
	struct admin_actor	who;
	char			pw[PASSWORD_MAX + 2];
	int			kind = STORE_USER_PERSON, stdin_pw = 0, i, rc;

	for (i = 3; i < c->argc; i++) {
		if (strcmp(c->argv[i], "--password-stdin") == 0)
			stdin_pw = 1;
		else if (strcmp(c->argv[i], "--api") == 0)
			kind = STORE_USER_API;
		else
			return cli_usage_error("user create: bad option", "user ");
	}
	if (!stdin_pw)
		return cli_usage_error("user create: the password comes on stdin: "
		    "--password-stdin", "user ");
	if (!admin_name_ok(c->argv[2]))
		return cli_usage_error("user create: bad user name", "user ");
	if (cli_read_line(pw, sizeof(pw)) != 0)
		return cli_usage_error("user create: no password (or one longer than 1024 "
		    "bytes) on stdin", "user ");
	cli_actor(c, &who);
	rc = cli_report(admin_user_create(st, &who, c->argv[1], c->argv[2], pw, kind),
	    "user create", "a user with that name exists");
	secret_wipe(pw, sizeof(pw));
	if (rc == 0)
		fprintf(stderr, "tskey: created %s user '%s' in account '%s'\n",
		    kind == STORE_USER_API ? "API" : "a", c->argv[2], c->argv[1]);
	return rc;
}

int
cli_user(struct cli *c)
{
	struct store_account	 a;
	struct store		*st;
	int			 rc;

	if (c->argc >= 3 && strcmp(c->argv[0], "create") == 0) {
		st = cli_open_store(&c->cfg);
		if (st == NULL)
			return 1;
		rc = user_create(c, st);
	} else if (c->argc >= 1 && c->argc <= 2 && strcmp(c->argv[0], "list") == 0) {
		st = cli_open_store(&c->cfg);
		if (st == NULL)
			return 1;
		a.id = 0;
		rc = c->argc == 2 ? cli_report(store_account_by_name(st, c->argv[1], &a),
		    "user list", "") : 0;
		if (rc == 0) {
			printf("ID\tACCOUNT_ID\tNAME\tKIND\tCREATED\n");
			rc = cli_report(store_user_list(st, a.id, print_user, NULL), "user list",
			    "");
		}
	} else {
		return cli_usage_error("user: expected 'create ACCOUNT USERNAME "
		    "--password-stdin [--api]' or 'list [ACCOUNT]'", "user ");
	}
	store_close(st);
	return rc;
}

int
cli_credit(struct cli *c)
{
	struct admin_actor	 who;
	struct store		*st;
	int64_t			 n;
	int			 rc;

	if (c->argc != 3 || (strcmp(c->argv[0], "set") != 0 && strcmp(c->argv[0], "add") != 0) ||
	    cli_parse_int64(c->argv[2], &n) != 0)
		return cli_usage_error("credit: expected 'set ACCOUNT N' or 'add ACCOUNT N'",
		    "credit ");
	st = cli_open_store(&c->cfg);
	if (st == NULL)
		return 1;
	cli_actor(c, &who);
	if (strcmp(c->argv[0], "set") == 0)
		rc = cli_report(admin_credit_set(st, &who, c->argv[1], n), "credit set", "");
	else
		rc = cli_report(admin_credit_add(st, &who, c->argv[1], n), "credit add", "");
	store_close(st);
	return rc;
}

static int
print_audit(const struct store_audit *a, void *arg)
{
	char	at[32];

	(void)arg;
	cli_time(a->at, at, sizeof(at), "-");
	printf("%lld\t%s\t%s\t%s\t%lld\t%s\t%s\t%s\t%s\n", (long long)a->id, at, a->actor,
	    a->action, (long long)a->account_id, a->target, *a->client != '\0' ? a->client : "-",
	    *a->request_id != '\0' ? a->request_id : "-", a->detail);
	return 0;
}

int
cli_audit(struct cli *c)
{
	struct store_account	 a;
	struct store		*st;
	const char		*account = NULL;
	int64_t			 limit = 100;
	int			 i, rc = 0;

	for (i = 0; i < c->argc; i++) {
		if (strcmp(c->argv[i], "--account") == 0 && i + 1 < c->argc)
			account = c->argv[++i];
		else if (strcmp(c->argv[i], "--limit") == 0 && i + 1 < c->argc &&
		    cli_parse_int64(c->argv[i + 1], &limit) == 0 && limit > 0 && limit <= 100000)
			i++;
		else
			return cli_usage_error("audit: bad option", "audit ");
	}
	st = cli_open_store(&c->cfg);
	if (st == NULL)
		return 1;
	a.id = 0;
	if (account != NULL)
		rc = cli_report(store_account_by_name(st, account, &a), "audit", "");
	if (rc == 0) {
		printf("ID\tAT\tACTOR\tACTION\tACCOUNT_ID\tTARGET\tCLIENT\tREQUEST_ID\tDETAIL\n");
		rc = cli_report(store_audit_list(st, a.id, 0, (int)limit, print_audit, NULL),
		    "audit", "");
	}
	store_close(st);
	return rc;
}

static int
print_migration(const struct store_migration *m, void *arg)
{
	char	last[32];

	(void)arg;
	cli_time(m->last_legacy_at, last, sizeof(last), "-");
	printf("%s\t%lld\t%s\t%s\t%s\t%lld\t%lld\t%lld\t%lld\t%s\n", m->kind,
	    (long long)m->id, m->account, *m->name != '\0' ? m->name : "-",
	    *m->prefix != '\0' ? m->prefix : "-", (long long)m->soap_session,
	    (long long)m->soap_key, (long long)m->rest, (long long)m->logins, last);
	return 0;
}

/* tskey report migration [--account NAME] [--since DAYS] */
int
cli_report_migration(struct cli *c)
{
	struct store_account	 a;
	struct store		*st;
	const char		*account = NULL;
	int64_t			 days = 0;
	int			 i, rc = 0;

	if (c->argc < 1 || strcmp(c->argv[0], "migration") != 0)
		return cli_usage_error("report: expected 'migration'", "report ");
	for (i = 1; i < c->argc; i++) {
		if (strcmp(c->argv[i], "--account") == 0 && i + 1 < c->argc)
			account = c->argv[++i];
		else if (strcmp(c->argv[i], "--since") == 0 && i + 1 < c->argc &&
		    cli_parse_int64(c->argv[i + 1], &days) == 0 && days > 0 && days <= 36500)
			i++;
		else
			return cli_usage_error("report migration: bad option", "report ");
	}
	st = cli_open_store(&c->cfg);
	if (st == NULL)
		return 1;
	a.id = 0;
	if (account != NULL)
		rc = cli_report(store_account_by_name(st, account, &a), "report", "");
	if (rc == 0) {
		printf("KIND\tID\tACCOUNT\tNAME\tPREFIX\tSOAP_SESSION\tSOAP_KEY\tREST\tLOGINS\t"
		    "LAST_LEGACY_USE\n");
		rc = cli_report(store_migration_list(st, a.id, days > 0 ? time(NULL) - days * 86400 :
		    0, print_migration, NULL), "report", "");
	}
	store_close(st);
	return rc;
}
