/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/store.c against a real sqlite3 database in a fresh mkdtemp directory per
 * test. The schema and the file's bytes are checked through a separate sqlite3 connection or
 * read directly, so the tests do not take the store's word for what it wrote.
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
#include "secret.h"
#include "store.h"

#define T0	INT64_C(1795564800)	/* 2026-11-25T00:00:00Z */

/* The store's own tests need no more state than the fixture: *state is a struct fixture. */
static int
setup(void **state)
{
	return fixture_setup(state, sizeof(struct fixture), "store");
}

/* Another file name in the fixture's directory. */
static void
sibling(const struct fixture *f, const char *name, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/%s", f->dir, name);
}

/* The one integer sql yields, through a connection of our own. */
static int64_t
sql_int(const char *path, const char *sql)
{
	sqlite3		*db = NULL;
	sqlite3_stmt	*q = NULL;
	int64_t		 v;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return v;
}

static void
sql_exec(const char *path, const char *sql)
{
	sqlite3	*db = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static int64_t
new_account(struct store *st, const char *name, int64_t credit)
{
	int64_t	id = 0;

	assert_int_equal(store_account_create(st, name, credit, T0, &id), TSK_OK);
	assert_true(id > 0);
	return id;
}

/* A key row for account_id whose hash is SHA-256 of plain. */
static int64_t
new_key(struct store *st, int64_t account_id, const char *plain, int64_t expires_at,
    unsigned char hash[SECRET_HASH_LEN])
{
	struct store_key	k;
	int64_t			id = 0;

	memset(&k, 0, sizeof(k));
	k.account_id = account_id;
	snprintf(k.prefix, sizeof(k.prefix), "%.13s", plain);
	snprintf(k.name, sizeof(k.name), "ci");
	k.status = STORE_KEY_ACTIVE;
	k.created_at = T0;
	k.expires_at = expires_at;
	secret_hash(plain, strlen(plain), hash);
	assert_int_equal(store_key_insert(st, &k, hash, &id), TSK_OK);
	assert_true(id > 0);
	return id;
}

static void
test_open_creates_schema(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 1);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
	    " AND name IN ('accounts', 'users', 'keys', 'sessions')"), 4);
	/* WAL is a property of the file: a new connection sees it too. */
	assert_int_equal(sql_int(f->path, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"),
	    1);
}

static void
test_reopen_idempotent(void **state)
{
	struct fixture	*f = *state;
	struct store	*second = NULL;
	int64_t		 n = -1;

	new_account(f->st, "acme", 5);
	/* A second connection while the first is open, then a reopen after close. */
	assert_int_equal(store_open(f->path, &second), TSK_OK);
	assert_non_null(second);
	assert_int_equal(store_account_count(second, &n), TSK_OK);
	assert_int_equal(n, 1);
	store_close(second);
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(store_open(f->path, &f->st), TSK_OK);
	assert_int_equal(store_account_count(f->st, &n), TSK_OK);
	assert_int_equal(n, 1);
	assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 1);
	store_close(NULL);
}

static void
test_newer_schema_refused(void **state)
{
	struct fixture	*f = *state;
	struct store	*st = NULL;
	char		 path[256];

	sibling(f, "newer.db", path, sizeof(path));
	sql_exec(path, "CREATE TABLE future(x); PRAGMA user_version = 2;");
	assert_int_not_equal(store_open(path, &st), TSK_OK);
	assert_null(st);
	/* Refused, and left alone: no migration ran over the newer schema. */
	assert_int_equal(sql_int(path, "PRAGMA user_version"), 2);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'accounts'"),
	    0);
}

static void
test_not_a_database(void **state)
{
	struct fixture	*f = *state;
	struct store	*st = NULL;
	char		 path[256], junk[4096];
	FILE		*fp;

	sibling(f, "junk.db", path, sizeof(path));
	memset(junk, 'J', sizeof(junk));
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(junk, 1, sizeof(junk), fp), sizeof(junk));
	assert_int_equal(fclose(fp), 0);
	assert_int_not_equal(store_open(path, &st), TSK_OK);
	assert_null(st);
}

static void
test_open_missing_dir(void **state)
{
	struct fixture	*f = *state;
	struct store	*st = NULL;
	char		 path[256];

	sibling(f, "no/such/dir/tskey.db", path, sizeof(path));
	assert_int_equal(store_open(path, &st), TSK_ERR_STORE);
	assert_null(st);
}

struct names {
	int	n;
	int	stop_after;	/* 0 = never */
	int64_t	ids[8];
	char	name[8][TSK_NAME_MAX];
	int64_t	credit[8];
};

static int
collect_account(const struct store_account *a, void *arg)
{
	struct names	*c = arg;

	if (c->n < 8) {
		c->ids[c->n] = a->id;
		snprintf(c->name[c->n], TSK_NAME_MAX, "%s", a->name);
		c->credit[c->n] = a->credit;
	}
	c->n++;
	return c->stop_after != 0 && c->n >= c->stop_after;
}

static void
test_accounts(void **state)
{
	struct fixture		*f = *state;
	struct store_account	 a, before;
	struct names		 c;
	int64_t			 acme, beta, n = -1, id = -7;

	assert_int_equal(store_account_count(f->st, &n), TSK_OK);
	assert_int_equal(n, 0);
	acme = new_account(f->st, "acme", 10);
	beta = new_account(f->st, "beta", 0);
	assert_true(beta != acme);

	memset(&a, 0, sizeof(a));
	assert_int_equal(store_account_by_name(f->st, "acme", &a), TSK_OK);
	assert_int_equal(a.id, acme);
	assert_string_equal(a.name, "acme");
	assert_int_equal(a.credit, 10);
	assert_int_equal(a.created_at, T0);

	/* Not found leaves the out-parameter alone. */
	memset(&a, 0x5a, sizeof(a));
	before = a;
	assert_int_equal(store_account_by_name(f->st, "nobody", &a), TSK_NOT_FOUND);
	assert_memory_equal(&a, &before, sizeof(a));
	assert_int_equal(store_account_by_name(f->st, "ACME", &a), TSK_NOT_FOUND);

	assert_int_equal(store_account_count(f->st, &n), TSK_OK);
	assert_int_equal(n, 2);

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_account_list(f->st, collect_account, &c), TSK_OK);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.ids[0], acme);
	assert_string_equal(c.name[0], "acme");
	assert_int_equal(c.credit[0], 10);
	assert_int_equal(c.ids[1], beta);
	assert_string_equal(c.name[1], "beta");

	/* A duplicate name is the caller's conflict, writes nothing, and breaks nothing after. */
	assert_int_equal(store_account_create(f->st, "acme", 1, T0, &id), TSK_ERR_CONFLICT);
	assert_int_equal(id, -7);
	assert_int_equal(store_account_count(f->st, &n), TSK_OK);
	assert_int_equal(n, 2);
	new_account(f->st, "gamma", 3);

	/* A callback that stops early ends the walk; the statement is usable again after. */
	memset(&c, 0, sizeof(c));
	c.stop_after = 1;
	assert_int_equal(store_account_list(f->st, collect_account, &c), TSK_OK);
	assert_int_equal(c.n, 1);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_account_list(f->st, collect_account, &c), TSK_OK);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.name[2], "gamma");
}

static void
test_credit_set(void **state)
{
	struct fixture		*f = *state;
	struct store_account	 a;
	int64_t			 acme;

	acme = new_account(f->st, "acme", 10);
	assert_int_equal(store_credit_set(f->st, acme, 99), TSK_OK);
	assert_int_equal(store_account_by_name(f->st, "acme", &a), TSK_OK);
	assert_int_equal(a.credit, 99);
	/* Setting the same value again still finds the row. */
	assert_int_equal(store_credit_set(f->st, acme, 99), TSK_OK);
	assert_int_equal(store_credit_set(f->st, acme + 1000, 5), TSK_NOT_FOUND);
	assert_int_equal(store_account_by_name(f->st, "acme", &a), TSK_OK);
	assert_int_equal(a.credit, 99);
}

static void
test_key_insert_lookup(void **state)
{
	struct fixture		*f = *state;
	struct store_key	 k, before;
	unsigned char		 h1[SECRET_HASH_LEN], h2[SECRET_HASH_LEN], h3[SECRET_HASH_LEN];
	int64_t			 acme, beta, id1, id2, id = -7;

	acme = new_account(f->st, "acme", 10);
	beta = new_account(f->st, "beta", 0);
	id1 = new_key(f->st, acme, "tsk_live_keyoneAAAAAAAAAAAAAAAAAAAAAA", 0, h1);
	id2 = new_key(f->st, acme, "tsk_live_keytwoBBBBBBBBBBBBBBBBBBBBBB", T0 + 3600, h2);
	assert_true(id2 != id1);

	memset(&k, 0, sizeof(k));
	assert_int_equal(store_key_by_hash(f->st, h1, &k), TSK_OK);
	assert_int_equal(k.id, id1);
	assert_int_equal(k.account_id, acme);
	assert_string_equal(k.account, "acme");
	assert_string_equal(k.name, "ci");
	assert_string_equal(k.prefix, "tsk_live_keyo");
	assert_int_equal(k.status, STORE_KEY_ACTIVE);
	assert_int_equal(k.created_at, T0);
	assert_int_equal(k.expires_at, 0);
	assert_int_equal(k.last_used_at, 0);
	assert_int_equal(k.credit, 10);

	assert_int_equal(store_key_by_hash(f->st, h2, &k), TSK_OK);
	assert_int_equal(k.id, id2);
	assert_int_equal(k.expires_at, T0 + 3600);

	/* The credit is the account's, read at lookup time. */
	assert_int_equal(store_credit_set(f->st, acme, 3), TSK_OK);
	assert_int_equal(store_key_by_hash(f->st, h1, &k), TSK_OK);
	assert_int_equal(k.credit, 3);

	/* Unknown hash: NOT_FOUND and the out-parameter untouched. */
	secret_hash("no such key", 11, h3);
	memset(&k, 0x5a, sizeof(k));
	before = k;
	assert_int_equal(store_key_by_hash(f->st, h3, &k), TSK_NOT_FOUND);
	assert_memory_equal(&k, &before, sizeof(k));

	/* The same hash again, even under another account: CONFLICT, nothing written. */
	memset(&k, 0, sizeof(k));
	k.account_id = beta;
	snprintf(k.prefix, sizeof(k.prefix), "tsk_live_dupe");
	k.status = STORE_KEY_ACTIVE;
	k.created_at = T0;
	assert_int_equal(store_key_insert(f->st, &k, h1, &id), TSK_ERR_CONFLICT);
	assert_int_equal(id, -7);
	assert_int_equal(store_key_by_hash(f->st, h1, &k), TSK_OK);
	assert_int_equal(k.account_id, acme);

	/* A key for an account that does not exist is refused by the foreign key. */
	memset(&k, 0, sizeof(k));
	k.account_id = acme + 1000;
	snprintf(k.prefix, sizeof(k.prefix), "tsk_live_orph");
	k.status = STORE_KEY_ACTIVE;
	k.created_at = T0;
	assert_int_equal(store_key_insert(f->st, &k, h3, &id), TSK_ERR_CONFLICT);
	assert_int_equal(store_key_by_hash(f->st, h3, &k), TSK_NOT_FOUND);
}

static void
test_key_set_status(void **state)
{
	struct fixture		*f = *state;
	struct store_key	 k;
	unsigned char		 h[SECRET_HASH_LEN];
	int64_t			 acme, id;

	acme = new_account(f->st, "acme", 10);
	id = new_key(f->st, acme, "tsk_live_statusCCCCCCCCCCCCCCCCCCCCCC", 0, h);
	assert_int_equal(store_key_set_status(f->st, id, STORE_KEY_REVOKED), TSK_OK);
	assert_int_equal(store_key_by_hash(f->st, h, &k), TSK_OK);
	assert_int_equal(k.status, STORE_KEY_REVOKED);
	assert_int_equal(store_key_set_status(f->st, id, STORE_KEY_ACTIVE), TSK_OK);
	assert_int_equal(store_key_by_hash(f->st, h, &k), TSK_OK);
	assert_int_equal(k.status, STORE_KEY_ACTIVE);
	assert_int_equal(store_key_set_status(f->st, id + 1000, STORE_KEY_REVOKED),
	    TSK_NOT_FOUND);
	assert_int_equal(store_key_by_hash(f->st, h, &k), TSK_OK);
	assert_int_equal(k.status, STORE_KEY_ACTIVE);
}

static int64_t
last_used(struct store *st, const unsigned char h[SECRET_HASH_LEN])
{
	struct store_key	k;

	assert_int_equal(store_key_by_hash(st, h, &k), TSK_OK);
	return k.last_used_at;
}

static void
test_key_touch(void **state)
{
	struct fixture	*f = *state;
	unsigned char	 h[SECRET_HASH_LEN];
	int64_t		 acme, id;

	acme = new_account(f->st, "acme", 10);
	id = new_key(f->st, acme, "tsk_live_touchDDDDDDDDDDDDDDDDDDDDDDD", 0, h);
	assert_int_equal(last_used(f->st, h), 0);

	/* Never used: the first touch always writes. */
	assert_int_equal(store_key_touch(f->st, id, T0 + 100, 60), TSK_OK);
	assert_int_equal(last_used(f->st, h), T0 + 100);
	/* Within the slack: no write. */
	assert_int_equal(store_key_touch(f->st, id, T0 + 150, 60), TSK_OK);
	assert_int_equal(last_used(f->st, h), T0 + 100);
	/* Exactly now - slack is not older: still no write. */
	assert_int_equal(store_key_touch(f->st, id, T0 + 160, 60), TSK_OK);
	assert_int_equal(last_used(f->st, h), T0 + 100);
	/* Older than now - slack: written. */
	assert_int_equal(store_key_touch(f->st, id, T0 + 161, 60), TSK_OK);
	assert_int_equal(last_used(f->st, h), T0 + 161);
	/* A clock that went back does not move the time backwards. */
	assert_int_equal(store_key_touch(f->st, id, T0 + 50, 60), TSK_OK);
	assert_int_equal(last_used(f->st, h), T0 + 161);
	/* Slack 0 writes on every later call. */
	assert_int_equal(store_key_touch(f->st, id, T0 + 162, 0), TSK_OK);
	assert_int_equal(last_used(f->st, h), T0 + 162);
}

struct keys_seen {
	int	n;
	int	stop_after;
	int64_t	ids[8];
	int64_t	account_id[8];
	char	account[8][TSK_NAME_MAX];
};

static int
collect_key(const struct store_key *k, void *arg)
{
	struct keys_seen	*c = arg;

	if (c->n < 8) {
		c->ids[c->n] = k->id;
		c->account_id[c->n] = k->account_id;
		snprintf(c->account[c->n], TSK_NAME_MAX, "%s", k->account);
	}
	c->n++;
	return c->stop_after != 0 && c->n >= c->stop_after;
}

static void
test_key_list(void **state)
{
	struct fixture		*f = *state;
	struct keys_seen	 c;
	unsigned char		 h[SECRET_HASH_LEN];
	int64_t			 acme, beta, a1, a2, b1;

	acme = new_account(f->st, "acme", 10);
	beta = new_account(f->st, "beta", 0);
	a1 = new_key(f->st, acme, "tsk_live_listA1EEEEEEEEEEEEEEEEEEEEEE", 0, h);
	b1 = new_key(f->st, beta, "tsk_live_listB1FFFFFFFFFFFFFFFFFFFFFF", 0, h);
	a2 = new_key(f->st, acme, "tsk_live_listA2GGGGGGGGGGGGGGGGGGGGGG", 0, h);

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_key_list(f->st, acme, collect_key, &c), TSK_OK);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.ids[0], a1);
	assert_int_equal(c.ids[1], a2);
	assert_int_equal(c.account_id[0], acme);
	assert_int_equal(c.account_id[1], acme);
	assert_string_equal(c.account[0], "acme");

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_key_list(f->st, beta, collect_key, &c), TSK_OK);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.ids[0], b1);
	assert_string_equal(c.account[0], "beta");

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_key_list(f->st, 0, collect_key, &c), TSK_OK);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.ids[0], a1);
	assert_int_equal(c.ids[1], b1);
	assert_int_equal(c.ids[2], a2);

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_key_list(f->st, beta + 1000, collect_key, &c), TSK_OK);
	assert_int_equal(c.n, 0);

	/* Stopped early, then asked again: the statement was reset. */
	memset(&c, 0, sizeof(c));
	c.stop_after = 1;
	assert_int_equal(store_key_list(f->st, 0, collect_key, &c), TSK_OK);
	assert_int_equal(c.n, 1);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_key_list(f->st, 0, collect_key, &c), TSK_OK);
	assert_int_equal(c.n, 3);
}

static void
test_users(void **state)
{
	struct fixture		*f = *state;
	struct store_user	 u, before;
	int64_t			 acme, beta;
	const char		*pw = "scrypt$14$8$1$c2FsdA==$aGFzaA==";

	acme = new_account(f->st, "acme", 10);
	beta = new_account(f->st, "beta", 0);
	assert_int_equal(store_user_create(f->st, acme, "alice", pw, T0), TSK_OK);

	memset(&u, 0, sizeof(u));
	assert_int_equal(store_user_by_name(f->st, "alice", &u), TSK_OK);
	assert_true(u.id > 0);
	assert_int_equal(u.account_id, acme);
	assert_string_equal(u.name, "alice");
	assert_string_equal(u.pwhash, pw);

	/* Unique across accounts: Login has no account field to tell two alices apart. */
	assert_int_equal(store_user_create(f->st, beta, "alice", pw, T0), TSK_ERR_CONFLICT);
	assert_int_equal(store_user_create(f->st, acme, "alice", "other", T0), TSK_ERR_CONFLICT);
	assert_int_equal(store_user_by_name(f->st, "alice", &u), TSK_OK);
	assert_int_equal(u.account_id, acme);
	assert_string_equal(u.pwhash, pw);

	assert_int_equal(store_user_create(f->st, beta + 1000, "orphan", pw, T0),
	    TSK_ERR_CONFLICT);

	memset(&u, 0x5a, sizeof(u));
	before = u;
	assert_int_equal(store_user_by_name(f->st, "bob", &u), TSK_NOT_FOUND);
	assert_memory_equal(&u, &before, sizeof(u));
	assert_int_equal(store_user_by_name(f->st, "orphan", &u), TSK_NOT_FOUND);
}

static int64_t
new_session(struct store *st, const char *plain, int64_t user_id, int64_t account_id,
    int64_t now, unsigned char hash[SECRET_HASH_LEN])
{
	struct store_session	s;

	secret_hash(plain, strlen(plain), hash);
	assert_int_equal(store_session_insert(st, hash, user_id, account_id, now), TSK_OK);
	assert_int_equal(store_session_by_hash(st, hash, &s), TSK_OK);
	return s.id;
}

static void
test_sessions(void **state)
{
	struct fixture		*f = *state;
	struct store_session	 s, before;
	struct store_user	 u;
	unsigned char		 h1[SECRET_HASH_LEN], h2[SECRET_HASH_LEN], h3[SECRET_HASH_LEN];
	unsigned char		 h4[SECRET_HASH_LEN], hx[SECRET_HASH_LEN];
	int64_t			 acme, s1, s2, s3, s4, n = -1;

	acme = new_account(f->st, "acme", 10);
	assert_int_equal(store_user_create(f->st, acme, "alice", "x", T0), TSK_OK);
	assert_int_equal(store_user_by_name(f->st, "alice", &u), TSK_OK);

	s1 = new_session(f->st, "11111111-1111-4111-8111-111111111111", u.id, acme, T0, h1);
	s2 = new_session(f->st, "22222222-2222-4222-8222-222222222222", u.id, acme, T0 + 10, h2);
	s3 = new_session(f->st, "33333333-3333-4333-8333-333333333333", u.id, acme, T0 + 100, h3);
	s4 = new_session(f->st, "44444444-4444-4444-8444-444444444444", u.id, acme, T0 + 200, h4);
	assert_true(s1 != s2 && s2 != s3 && s3 != s4);

	memset(&s, 0, sizeof(s));
	assert_int_equal(store_session_by_hash(f->st, h1, &s), TSK_OK);
	assert_int_equal(s.id, s1);
	assert_int_equal(s.user_id, u.id);
	assert_int_equal(s.account_id, acme);
	assert_string_equal(s.account, "acme");
	assert_string_equal(s.user, "alice");
	assert_int_equal(s.created_at, T0);
	assert_int_equal(s.last_seen_at, T0);
	assert_int_equal(s.credit, 10);

	assert_int_equal(store_session_insert(f->st, h1, u.id, acme, T0 + 5), TSK_ERR_CONFLICT);
	secret_hash("nope", 4, hx);
	memset(&s, 0x5a, sizeof(s));
	before = s;
	assert_int_equal(store_session_by_hash(f->st, hx, &s), TSK_NOT_FOUND);
	assert_memory_equal(&s, &before, sizeof(s));

	/* Touch: within the slack nothing moves; past it last_seen slides, created stays. */
	assert_int_equal(store_session_touch(f->st, s1, T0 + 60, 60), TSK_OK);
	assert_int_equal(store_session_by_hash(f->st, h1, &s), TSK_OK);
	assert_int_equal(s.last_seen_at, T0);
	assert_int_equal(store_session_touch(f->st, s1, T0 + 61, 60), TSK_OK);
	assert_int_equal(store_session_by_hash(f->st, h1, &s), TSK_OK);
	assert_int_equal(s.last_seen_at, T0 + 61);
	assert_int_equal(s.created_at, T0);

	assert_int_equal(store_session_delete(f->st, s3), TSK_OK);
	assert_int_equal(store_session_by_hash(f->st, h3, &s), TSK_NOT_FOUND);
	assert_int_equal(store_session_delete(f->st, s3), TSK_NOT_FOUND);

	/* Purge removes last_seen < before, and counts what it removed. */
	assert_int_equal(store_session_purge(f->st, T0 + 61, &n), TSK_OK);
	assert_int_equal(n, 1);	/* s2 */
	assert_int_equal(store_session_by_hash(f->st, h2, &s), TSK_NOT_FOUND);
	assert_int_equal(store_session_by_hash(f->st, h1, &s), TSK_OK);
	n = -1;
	assert_int_equal(store_session_purge(f->st, T0 + 201, &n), TSK_OK);
	assert_int_equal(n, 2);	/* s1, s4 */
	assert_int_equal(store_session_by_hash(f->st, h1, &s), TSK_NOT_FOUND);
	assert_int_equal(store_session_by_hash(f->st, h4, &s), TSK_NOT_FOUND);
	n = -1;
	assert_int_equal(store_session_purge(f->st, T0 + 1000, &n), TSK_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_session_purge(f->st, T0 + 1000, NULL), TSK_OK);
}

static void
test_no_plain_credentials_on_disk(void **state)
{
	struct fixture		*f = *state;
	struct store_user	 u;
	unsigned char		 hk[SECRET_HASH_LEN], hs[SECRET_HASH_LEN];
	static const char	 key[] = "tsk_live_PLAINMARKERzq7Xv93kLmN0pRsT";
	static const char	 sess[] = "5e551011-7a9c-4b2d-8e3f-0123456789ab";
	int64_t			 acme;

	acme = new_account(f->st, "acme-visible-account", 10);
	new_key(f->st, acme, key, 0, hk);
	assert_int_equal(store_user_create(f->st, acme, "alice", "x", T0), TSK_OK);
	assert_int_equal(store_user_by_name(f->st, "alice", &u), TSK_OK);
	new_session(f->st, sess, u.id, acme, T0, hs);
	/* Closing the last connection checkpoints the WAL into the main file. */
	store_close(f->st);
	f->st = NULL;

	/* The search works: what was stored is found... */
	assert_true(fixture_db_has(f->path, "acme-visible-account", 20));
	assert_true(fixture_db_has(f->path, hk, sizeof(hk)));
	assert_true(fixture_db_has(f->path, hs, sizeof(hs)));
	/* ...and the credentials, only ever hashed, are not (the key's display prefix is). */
	assert_false(fixture_db_has(f->path, key, strlen(key)));
	assert_false(fixture_db_has(f->path, "PLAINMARKERzq7Xv93kLmN0pRsT", 27));
	assert_false(fixture_db_has(f->path, sess, strlen(sess)));
	assert_false(fixture_db_has(f->path, "7a9c-4b2d-8e3f", 14));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_schema, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_reopen_idempotent, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_not_a_database, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_open_missing_dir, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_accounts, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_credit_set, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_key_insert_lookup, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_key_set_status, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_key_touch, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_key_list, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_users, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_sessions, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_no_plain_credentials_on_disk, setup,
		    fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
