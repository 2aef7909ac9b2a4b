/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/validator.c: every verdict, against a real store in a fresh mkdtemp
 * directory per test, set up through admin.c and login.c as the CLI and front ends do. Times
 * are explicit `now` values, never the clock. The key policy (scopes, allowlists, rate limits,
 * allowances, batched usage) has its own tests in test_policy.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "fixture.h"
#include "admin.h"
#include "login.h"
#include "secret.h"
#include "store.h"
#include "validator.h"

#define T0	INT64_C(1795564800)	/* 2026-11-25T00:00:00Z */
#define IDLE	INT64_C(14400)
#define SLACK	INT64_C(60)
#define PREFIX_LEN	13		/* "tsk_live_" + 4 */

static const char unknown_guid[] = "0f8fad5b-d9cb-469f-a165-70867728950e";

/* The CLI: acts on every account, at T0, without a limit on active keys. */
static const struct admin_actor cli = { "cli", 0, "", "", T0, 0 };
/* Sessions idle out after IDLE; passwords do not age. */
static const struct login_policy lpol = { .idle = IDLE, .api_user_login = 0, .password_max_age = 0 };

struct fx {
	struct fixture		 db;		/* first member: see fixture.h */
	struct validator_policy	 pol;
	int64_t			 acme;		/* credit 10 */
	int64_t			 broke;		/* credit 0 */
	char			 key[SECRET_KEY_MAX];	/* acme's, active, never expires */
	int64_t			 key_id;
	char			 broke_key[SECRET_KEY_MAX];
	int64_t			 broke_key_id;
};
_Static_assert(offsetof(struct fx, db) == 0, "struct fixture must come first");

static int
create_key(struct store *st, const char *account, int64_t expires_at, char *key, int64_t *id)
{
	struct admin_key_spec	spec;

	memset(&spec, 0, sizeof(spec));
	spec.account = account;
	spec.name = "ci";
	spec.expires_at = expires_at;
	return admin_key_create(st, &cli, &spec, key, id) == TSK_OK ? 0 : -1;
}

static int
setup(void **state)
{
	struct fx	*f;

	if (fixture_setup(state, sizeof(*f), "validator") != 0)
		return -1;
	f = *state;
	f->pol.session_idle = IDLE;
	f->pol.touch_slack = SLACK;
	if (admin_account_create(f->db.st, &cli, "acme", 10, 0, &f->acme) != TSK_OK ||
	    admin_account_create(f->db.st, &cli, "broke", 0, 0, &f->broke) != TSK_OK ||
	    create_key(f->db.st, "acme", 0, f->key, &f->key_id) != 0 ||
	    create_key(f->db.st, "broke", 0, f->broke_key, &f->broke_key_id) != 0) {
		fixture_teardown(state);	/* cmocka skips teardown when setup fails */
		return -1;
	}
	return 0;
}

/*
 * validator_check on cred[0..len-1] at now, for an operation that takes cost credits and needs
 * no scope. The principal is filled with junk first, so that assertions about what it holds
 * afterwards prove the validator wrote it.
 */
static enum tsk_verdict
check_at(const struct fx *f, struct store *st, const char *cred, size_t len, int64_t now,
    int64_t cost, struct tsk_principal *p)
{
	struct validator_req	req;

	memset(&req, 0, sizeof(req));
	req.credential = cred;
	req.len = len;
	req.channel = TSK_CHANNEL_REST;
	req.client_addr = "127.0.0.1";
	req.cost = cost;
	req.now = now;
	memset(p, 0xa5, sizeof(*p));
	return validator_check(st, &f->pol, &req, p);
}

static enum tsk_verdict
check(const struct fx *f, const char *cred, int64_t now, int64_t cost, struct tsk_principal *p)
{
	return check_at(f, f->db.st, cred, strlen(cred), now, cost, p);
}

static void
assert_zero_principal(const struct tsk_principal *p)
{
	struct tsk_principal	zero;

	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(p, &zero, sizeof(zero));
}

/* Open a Login session for user at now; the key goes to key. */
static void
login(struct fx *f, const char *user, int64_t now, char key[SECRET_SESSION_LEN + 1])
{
	struct tsk_principal	p;

	assert_int_equal(login_start(f->db.st, &lpol, user, "correct horse", "127.0.0.1", now, key, &p),
	    LOGIN_OK);
}

static void
test_missing(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;

	assert_int_equal(check_at(f, f->db.st, NULL, 5, T0, 0, &p), TSK_VERDICT_MISSING);
	assert_zero_principal(&p);
	assert_int_equal(check(f, "", T0, 0, &p), TSK_VERDICT_MISSING);
	assert_zero_principal(&p);
	assert_int_equal(check(f, "  \t\n", T0, 0, &p), TSK_VERDICT_MISSING);
	assert_zero_principal(&p);
	assert_int_equal(check(f, "\r\n", T0, 1, &p), TSK_VERDICT_MISSING);
	/* No store needed to see that nothing was presented. */
	assert_int_equal(check_at(f, NULL, " ", 1, T0, 0, &p), TSK_VERDICT_MISSING);
}

static void
test_key_ok(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;
	struct store_key	 k;
	unsigned char		 h[SECRET_HASH_LEN];

	assert_int_equal(check(f, f->key, T0 + 10, 0, &p), TSK_VERDICT_OK);
	assert_int_equal(p.kind, TSK_PRINCIPAL_KEY);
	assert_int_equal(p.account_id, f->acme);
	assert_string_equal(p.account, "acme");
	assert_int_equal(p.key_id, f->key_id);
	assert_string_equal(p.key_name, "ci");
	assert_int_equal(strlen(p.prefix), PREFIX_LEN);
	assert_memory_equal(p.prefix, f->key, PREFIX_LEN);
	assert_int_equal(p.credit, 10);
	assert_int_equal(p.created_at, T0);
	assert_int_equal(p.expires_at, 0);
	assert_int_equal(p.session_id, 0);
	assert_int_equal(p.user_id, 0);
	assert_string_equal(p.user, "");
	assert_string_equal(p.env, "live");
	assert_string_equal(p.scopes, TSK_SCOPES_DEFAULT);
	assert_int_equal(p.platform, 0);
	assert_int_equal(p.retry_after, 0);

	/* The use was recorded (no usage batching in this policy: at once). */
	secret_hash(f->key, strlen(f->key), h);
	assert_int_equal(store_key_by_hash(f->db.st, h, &k), TSK_OK);
	assert_int_equal(k.last_used_at, T0 + 10);
	assert_int_equal(k.use_count, 1);

	/* The other key is another principal. */
	assert_int_equal(check(f, f->broke_key, T0 + 10, 0, &p), TSK_VERDICT_OK);
	assert_int_equal(p.key_id, f->broke_key_id);
	assert_string_equal(p.account, "broke");
}

static void
test_key_whitespace_and_length(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;
	char			 buf[128];
	size_t			 n = strlen(f->key);

	snprintf(buf, sizeof(buf), " \t%s\r\n ", f->key);
	assert_int_equal(check(f, buf, T0, 0, &p), TSK_VERDICT_OK);
	assert_int_equal(p.key_id, f->key_id);

	/* The credential is len bytes, not a C string: what follows it does not count. */
	snprintf(buf, sizeof(buf), "%sTRAILING", f->key);
	assert_int_equal(check_at(f, f->db.st, buf, n, T0, 0, &p), TSK_VERDICT_OK);
	assert_int_equal(p.key_id, f->key_id);
	/* ...and when it does count, the key is no longer that key. */
	assert_int_equal(check(f, buf, T0, 0, &p), TSK_VERDICT_INVALID);
	assert_zero_principal(&p);
}

static void
test_unknown(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;
	char			 other[SECRET_KEY_MAX], prefix[16];

	assert_int_equal(check(f, unknown_guid, T0, 0, &p), TSK_VERDICT_INVALID);
	assert_zero_principal(&p);
	assert_int_equal(check(f, "legacy-key-from-trackroad", T0, 0, &p), TSK_VERDICT_INVALID);
	assert_zero_principal(&p);
	/* Well formed, good checksum, never stored. */
	assert_int_equal(secret_key_new("live", other, sizeof(other), prefix, sizeof(prefix)), 0);
	assert_int_equal(check(f, other, T0, 0, &p), TSK_VERDICT_INVALID);
	assert_zero_principal(&p);
}

/* A different base62 digit than c. */
static char
other_digit(char c)
{
	return c == 'A' ? 'B' : 'A';
}

static void
test_bad_checksum_never_reaches_store(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;
	char			 bad[SECRET_KEY_MAX + 8];
	size_t			 i, n = strlen(f->key);

	/* One character changed anywhere after "tsk_live_": the checksum catches it. */
	for (i = 9; i < n; i++) {
		memcpy(bad, f->key, n + 1);
		bad[i] = other_digit(bad[i]);
		assert_int_equal(check(f, bad, T0, 0, &p), TSK_VERDICT_INVALID);
		assert_zero_principal(&p);
		/* No store at all, and still INVALID: the format alone decided. */
		assert_int_equal(check_at(f, NULL, bad, n, T0, 0, &p), TSK_VERDICT_INVALID);
		assert_zero_principal(&p);
	}
	/* Truncated and extended tsk_ keys are malformed too, store or not. */
	assert_int_equal(check_at(f, NULL, f->key, n - 1, T0, 0, &p), TSK_VERDICT_INVALID);
	snprintf(bad, sizeof(bad), "%sA", f->key);
	assert_int_equal(check_at(f, NULL, bad, n + 1, T0, 0, &p), TSK_VERDICT_INVALID);

	/* The control: anything that needs the store to decide fails closed without one. */
	assert_int_equal(check_at(f, NULL, unknown_guid, strlen(unknown_guid), T0, 0, &p),
	    TSK_VERDICT_ERROR);
	assert_zero_principal(&p);
	assert_int_equal(check_at(f, NULL, f->key, n, T0, 0, &p), TSK_VERDICT_ERROR);
	assert_zero_principal(&p);
}

static void
test_control_characters(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;
	char			 buf[SECRET_KEY_MAX + 8];
	size_t			 n = strlen(f->key);

	assert_int_equal(check(f, "abc\x01" "def", T0, 0, &p), TSK_VERDICT_INVALID);
	assert_zero_principal(&p);
	assert_int_equal(check(f, "abc\x7f" "def", T0, 0, &p), TSK_VERDICT_INVALID);
	assert_int_equal(check(f, "abc def", T0, 0, &p), TSK_VERDICT_INVALID);
	assert_int_equal(check(f, "abc\tdef", T0, 0, &p), TSK_VERDICT_INVALID);
	/* Refused on their bytes alone: no store is asked. */
	assert_int_equal(check_at(f, NULL, "abc\x1b" "def", 7, T0, 0, &p), TSK_VERDICT_INVALID);

	/* A valid key followed by a NUL that len covers is not that key. */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, f->key, n);
	assert_int_equal(check_at(f, f->db.st, buf, n + 1, T0, 0, &p), TSK_VERDICT_INVALID);
	assert_zero_principal(&p);
	memcpy(buf + n + 1, "tail", 4);
	assert_int_equal(check_at(f, f->db.st, buf, n + 5, T0, 0, &p), TSK_VERDICT_INVALID);
	/* A NUL inside: a C-string reading would see a short prefix, the validator sees all. */
	memcpy(buf, f->key, n + 1);
	buf[20] = '\0';
	assert_int_equal(check_at(f, f->db.st, buf, n, T0, 0, &p), TSK_VERDICT_INVALID);
	assert_int_equal(check_at(f, NULL, buf, n, T0, 0, &p), TSK_VERDICT_INVALID);
	/* A NUL leading a GUID-shaped credential. */
	memset(buf, 0, sizeof(buf));
	memcpy(buf + 1, unknown_guid, strlen(unknown_guid));
	assert_int_equal(check_at(f, NULL, buf, strlen(unknown_guid) + 1, T0, 0, &p),
	    TSK_VERDICT_INVALID);
}

static void
test_deactivated(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;
	struct store_account	 a;

	assert_int_equal(check(f, f->key, T0, 0, &p), TSK_VERDICT_OK);
	assert_int_equal(admin_key_deactivate(f->db.st, &cli, f->key_id), TSK_OK);
	assert_int_equal(check(f, f->key, T0 + 1, 0, &p), TSK_VERDICT_DISABLED);
	/* A refusal names who was refused, for the log. */
	assert_int_equal(p.key_id, f->key_id);
	assert_string_equal(p.account, "acme");
	/* Deactivation beats everything else that might be said about the key... */
	assert_int_equal(check(f, f->key, T0 + 1, 1, &p), TSK_VERDICT_DISABLED);
	/* ...and a refused call costs nothing. */
	assert_int_equal(store_account_by_id(f->db.st, f->acme, &a), TSK_OK);
	assert_int_equal(a.credit, 10);
	/* Other keys are not affected. */
	assert_int_equal(check(f, f->broke_key, T0 + 1, 0, &p), TSK_VERDICT_OK);
	/* Reactivated, the key works again. */
	assert_int_equal(admin_key_reactivate(f->db.st, &cli, f->key_id), TSK_OK);
	assert_int_equal(check(f, f->key, T0 + 2, 0, &p), TSK_VERDICT_OK);
	assert_int_equal(p.key_id, f->key_id);
}

static void
test_expired(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;
	char			 key[SECRET_KEY_MAX];
	int64_t			 id;

	assert_int_equal(create_key(f->db.st, "acme", T0 + 3600, key, &id), 0);
	assert_int_equal(check(f, key, T0 + 100, 0, &p), TSK_VERDICT_OK);
	assert_int_equal(p.expires_at, T0 + 3600);
	assert_int_equal(check(f, key, T0 + 3599, 0, &p), TSK_VERDICT_OK);
	assert_int_equal(check(f, key, T0 + 3601, 0, &p), TSK_VERDICT_EXPIRED);
	assert_int_equal(p.key_id, id);
	assert_string_equal(p.account, "acme");
	assert_int_equal(check(f, key, T0 + 86400 * 365, 0, &p), TSK_VERDICT_EXPIRED);
	/* The key that never expires does not, whatever now is. */
	assert_int_equal(check(f, f->key, T0 + 86400 * 365, 0, &p), TSK_VERDICT_OK);
}

/* The account's balance in the store. */
static int64_t
balance(const struct fx *f, int64_t account_id)
{
	struct store_account	a;

	assert_int_equal(store_account_by_id(f->db.st, account_id, &a), TSK_OK);
	return a.credit;
}

static void
test_credit(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;

	/* Cost 1, credit 0: refused, and nothing taken. */
	assert_int_equal(check(f, f->broke_key, T0, 1, &p), TSK_VERDICT_NO_CREDIT);
	assert_int_equal(p.key_id, f->broke_key_id);
	assert_string_equal(p.account, "broke");
	assert_int_equal(balance(f, f->broke), 0);
	/* Cost 1, credit 10: allowed, and the principal holds what is left. */
	assert_int_equal(check(f, f->key, T0, 1, &p), TSK_VERDICT_OK);
	assert_int_equal(p.credit, 9);
	assert_int_equal(balance(f, f->acme), 9);
	/* Only metered operations care about the balance: cost 0, credit 0 is fine. */
	assert_int_equal(check(f, f->broke_key, T0, 0, &p), TSK_VERDICT_OK);
	assert_int_equal(p.credit, 0);
	assert_int_equal(balance(f, f->broke), 0);
	assert_int_equal(check(f, f->key, T0, 0, &p), TSK_VERDICT_OK);
	assert_int_equal(p.credit, 9);
	assert_int_equal(balance(f, f->acme), 9);

	/* The balance is read at each check, not when the key was made. */
	assert_int_equal(admin_credit_set(f->db.st, &cli, "acme", 0), TSK_OK);
	assert_int_equal(check(f, f->key, T0, 1, &p), TSK_VERDICT_NO_CREDIT);
	/* A balance is never set below zero, but an adjustment may take it there. */
	assert_int_equal(admin_credit_add(f->db.st, &cli, "acme", -5), TSK_OK);
	assert_int_equal(check(f, f->key, T0, 1, &p), TSK_VERDICT_NO_CREDIT);
	assert_int_equal(balance(f, f->acme), -5);
	/* Cost 1, credit 1: allowed, and the balance is 0 afterwards. */
	assert_int_equal(admin_credit_set(f->db.st, &cli, "broke", 1), TSK_OK);
	assert_int_equal(check(f, f->broke_key, T0, 1, &p), TSK_VERDICT_OK);
	assert_int_equal(p.credit, 0);
	assert_int_equal(balance(f, f->broke), 0);
	/* ...so the next metered call is refused. */
	assert_int_equal(check(f, f->broke_key, T0, 1, &p), TSK_VERDICT_NO_CREDIT);
	assert_int_equal(balance(f, f->broke), 0);
}

static void
test_session(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;
	char			 key[SECRET_SESSION_LEN + 1], buf[64];
	int64_t			 sid;

	assert_int_equal(admin_user_create(f->db.st, &cli, "acme", "alice", "correct horse",
	    STORE_USER_PERSON), TSK_OK);
	login(f, "alice", T0, key);

	assert_int_equal(check(f, key, T0 + 10, 0, &p), TSK_VERDICT_OK);
	assert_int_equal(p.kind, TSK_PRINCIPAL_SESSION);
	assert_int_equal(p.account_id, f->acme);
	assert_string_equal(p.account, "acme");
	assert_string_equal(p.user, "alice");
	assert_true(p.user_id > 0);
	assert_true(p.session_id > 0);
	assert_int_equal(p.key_id, 0);
	assert_int_equal(p.credit, 10);
	assert_int_equal(p.created_at, T0);
	assert_int_equal(p.expires_at, T0 + IDLE);
	sid = p.session_id;

	snprintf(buf, sizeof(buf), "\t%s \n", key);
	assert_int_equal(check(f, buf, T0 + 20, 0, &p), TSK_VERDICT_OK);
	assert_int_equal(p.session_id, sid);
	/* A session pays for metered operations like a key does. */
	assert_int_equal(check(f, key, T0 + 20, 1, &p), TSK_VERDICT_OK);
	assert_int_equal(p.credit, 9);
	assert_int_equal(balance(f, f->acme), 9);
	assert_string_equal(p.scopes, TSK_SCOPES_DEFAULT);
	assert_string_equal(p.env, "");

	/* A session of an account without credit is refused for metered operations only. */
	assert_int_equal(admin_user_create(f->db.st, &cli, "broke", "bob", "correct horse",
	    STORE_USER_PERSON), TSK_OK);
	login(f, "bob", T0, key);
	assert_int_equal(check(f, key, T0 + 10, 0, &p), TSK_VERDICT_OK);
	assert_string_equal(p.account, "broke");
	assert_int_equal(check(f, key, T0 + 10, 1, &p), TSK_VERDICT_NO_CREDIT);
	assert_string_equal(p.user, "bob");
	assert_int_equal(balance(f, f->broke), 0);
}

static void
test_session_idle(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;
	char			 key[SECRET_SESSION_LEN + 1];

	assert_int_equal(admin_user_create(f->db.st, &cli, "acme", "alice", "correct horse",
	    STORE_USER_PERSON), TSK_OK);
	login(f, "alice", T0, key);
	assert_int_equal(check(f, key, T0 + IDLE + 1, 0, &p), TSK_VERDICT_EXPIRED);
	assert_string_equal(p.user, "alice");
	/* A refused check does not revive the session for a later one. */
	assert_int_equal(check(f, key, T0 + IDLE + 2, 0, &p), TSK_VERDICT_EXPIRED);

	/* Sliding expiry: use just before the deadline moves it. */
	login(f, "alice", T0, key);
	assert_int_equal(check(f, key, T0 + IDLE - 1, 0, &p), TSK_VERDICT_OK);
	assert_int_equal(check(f, key, T0 + IDLE + 1, 0, &p), TSK_VERDICT_OK);
	assert_int_equal(check(f, key, T0 + IDLE + 1 + IDLE + 1, 0, &p), TSK_VERDICT_EXPIRED);
}

static void
test_logout(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;
	char			 key[SECRET_SESSION_LEN + 1];

	assert_int_equal(admin_user_create(f->db.st, &cli, "acme", "alice", "correct horse",
	    STORE_USER_PERSON), TSK_OK);
	login(f, "alice", T0, key);
	assert_int_equal(check(f, key, T0 + 5, 0, &p), TSK_VERDICT_OK);
	assert_int_equal(login_end(f->db.st, &p), TSK_OK);
	assert_int_equal(check(f, key, T0 + 6, 0, &p), TSK_VERDICT_INVALID);
	assert_zero_principal(&p);
}

/* Break the schema under the open store, through a connection of our own. */
static void
sql_exec(const char *path, const char *sql)
{
	sqlite3	*db = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void
test_store_error_key(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;

	assert_int_equal(check(f, f->key, T0, 0, &p), TSK_VERDICT_OK);
	/*
	 * The store's prepared statements survive; on their next step sqlite sees the schema
	 * change, re-prepares, and fails ("no such table"). That is a store error, not "unknown".
	 */
	sql_exec(f->db.path, "DROP TABLE keys");
	assert_int_equal(check(f, f->key, T0, 0, &p), TSK_VERDICT_ERROR);
	assert_zero_principal(&p);
	assert_int_equal(check(f, unknown_guid, T0, 0, &p), TSK_VERDICT_ERROR);
	assert_zero_principal(&p);
	/* Format refusals still need no store. */
	assert_int_equal(check(f, "", T0, 0, &p), TSK_VERDICT_MISSING);
}

static void
test_store_error_account(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;

	/* The key row is there but its account cannot be read: fail closed, not OK. */
	sql_exec(f->db.path, "DROP TABLE accounts");
	assert_int_equal(check(f, f->key, T0, 1, &p), TSK_VERDICT_ERROR);
	assert_zero_principal(&p);
	assert_int_equal(check(f, f->key, T0, 0, &p), TSK_VERDICT_ERROR);
	assert_zero_principal(&p);
}

static void
test_store_error_session(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;

	/* Not a key, so the session lookup decides, and it fails. */
	sql_exec(f->db.path, "DROP TABLE sessions");
	assert_int_equal(check(f, unknown_guid, T0, 0, &p), TSK_VERDICT_ERROR);
	assert_zero_principal(&p);
	/* Keys do not need the sessions table. */
	assert_int_equal(check(f, f->key, T0, 0, &p), TSK_VERDICT_OK);
}

static void
test_trim(void **state)
{
	const char	*s;
	size_t		 n;

	(void)state;
	n = 8;
	s = validator_trim(" \t abc\r\n", &n);
	assert_int_equal(n, 3);
	assert_memory_equal(s, "abc", 3);
	n = 4;
	s = validator_trim("  \t\n", &n);
	assert_int_equal(n, 0);
	n = 0;
	s = validator_trim("", &n);
	assert_int_equal(n, 0);
	n = 5;
	s = validator_trim("a b c", &n);
	assert_int_equal(n, 5);
	assert_memory_equal(s, "a b c", 5);
	/* Only the first n bytes are looked at. */
	n = 3;
	s = validator_trim("ab   ", &n);
	assert_int_equal(n, 2);
	assert_memory_equal(s, "ab", 2);
}

static void
test_verdict_strings(void **state)
{
	static const struct {
		enum tsk_verdict	 v;
		const char		*code;
		int			 status;
	} want[] = {
		{ TSK_VERDICT_MISSING, "MISSING", 401 },
		{ TSK_VERDICT_INVALID, "INVALID", 401 },
		{ TSK_VERDICT_DISABLED, "DISABLED", 403 },
		{ TSK_VERDICT_EXPIRED, "EXPIRED", 403 },
		{ TSK_VERDICT_NO_CREDIT, "NO_CREDIT", 403 },
		{ TSK_VERDICT_INSUFFICIENT_SCOPE, "INSUFFICIENT_SCOPE", 403 },
		{ TSK_VERDICT_IP_NOT_ALLOWED, "IP_NOT_ALLOWED", 403 },
		{ TSK_VERDICT_RATE_LIMITED, "RATE_LIMITED", 429 },
		{ TSK_VERDICT_OK, "OK", 200 },
		{ TSK_VERDICT_ERROR, "UNAVAILABLE", 503 },
	};
	static const int	out_of_range[] = { TSK_VERDICT__COUNT, 99, -1 };
	const char		*m;
	size_t			 i, j;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_string_equal(validator_code(want[i].v), want[i].code);
		assert_int_equal(validator_http_status(want[i].v), want[i].status);
		m = validator_message(want[i].v);
		assert_non_null(m);
		assert_true(strlen(m) > 0);
		for (j = 0; j < i; j++)
			assert_string_not_equal(m, validator_message(want[j].v));
	}
	for (i = 0; i < sizeof(out_of_range) / sizeof(out_of_range[0]); i++) {
		enum tsk_verdict	v = (enum tsk_verdict)out_of_range[i];

		assert_string_equal(validator_code(v), "UNAVAILABLE");
		assert_int_equal(validator_http_status(v), 503);
		assert_string_equal(validator_message(v), validator_message(TSK_VERDICT_ERROR));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_key_ok, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_key_whitespace_and_length, setup,
		    fixture_teardown),
		cmocka_unit_test_setup_teardown(test_unknown, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_bad_checksum_never_reaches_store, setup,
		    fixture_teardown),
		cmocka_unit_test_setup_teardown(test_control_characters, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_deactivated, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_expired, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_credit, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_session, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_session_idle, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_logout, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_store_error_key, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_store_error_account, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_store_error_session, setup, fixture_teardown),
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_verdict_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
