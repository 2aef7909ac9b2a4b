/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the store (src/store.c, store_key.c, store_audit.c) against a real sqlite3
 * database in a fresh mkdtemp directory per test: schema and migrations, accounts and money,
 * keys, users, sessions, the audit trail. The schema and the file's bytes are checked through a
 * separate sqlite3 connection or read directly, so the tests do not take the store's word for
 * what it wrote.
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
#include "keycache.h"
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

	assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 4);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
	    " AND name IN ('accounts', 'users', 'keys', 'sessions', 'audit')"), 5);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM sqlite_master"
	    " WHERE type = 'trigger' AND tbl_name = 'audit'"), 3);
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
	assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 4);
	store_close(NULL);
}

static void
test_newer_schema_refused(void **state)
{
	struct fixture	*f = *state;
	struct store	*st = NULL;
	char		 path[256];

	sibling(f, "newer.db", path, sizeof(path));
	sql_exec(path, "CREATE TABLE future(x); PRAGMA user_version = 5;");
	assert_int_not_equal(store_open(path, &st), TSK_OK);
	assert_null(st);
	/* Refused, and left alone: no migration ran over the newer schema. */
	assert_int_equal(sql_int(path, "PRAGMA user_version"), 5);
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
	assert_int_equal(store_key_set_status(f->st, id, STORE_KEY_INACTIVE), TSK_OK);
	assert_int_equal(store_key_by_hash(f->st, h, &k), TSK_OK);
	assert_int_equal(k.status, STORE_KEY_INACTIVE);
	assert_int_equal(store_key_set_status(f->st, id, STORE_KEY_ACTIVE), TSK_OK);
	assert_int_equal(store_key_by_hash(f->st, h, &k), TSK_OK);
	assert_int_equal(k.status, STORE_KEY_ACTIVE);
	assert_int_equal(store_key_set_status(f->st, id + 1000, STORE_KEY_INACTIVE),
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
test_key_usage(void **state)
{
	struct fixture		*f = *state;
	struct store_key	 k;
	unsigned char		 h[SECRET_HASH_LEN], h2[SECRET_HASH_LEN];
	int64_t			 acme, id;

	acme = new_account(f->st, "acme", 10);
	id = new_key(f->st, acme, "tsk_live_touchDDDDDDDDDDDDDDDDDDDDDDD", 0, h);
	new_key(f->st, acme, "tsk_live_otherDDDDDDDDDDDDDDDDDDDDDDD", 0, h2);
	assert_int_equal(last_used(f->st, h), 0);
	assert_int_equal(store_key_by_hash(f->st, h, &k), TSK_OK);
	assert_int_equal(k.use_count, 0);

	/* Never used: the first batch writes its time and its count. */
	assert_int_equal(store_key_usage(f->st, id, T0 + 100, 1, 0, 0), TSK_OK);
	assert_int_equal(store_key_by_hash(f->st, h, &k), TSK_OK);
	assert_int_equal(k.last_used_at, T0 + 100);
	assert_int_equal(k.use_count, 1);
	/* A later batch moves the time on and adds its count. */
	assert_int_equal(store_key_usage(f->st, id, T0 + 161, 5, 0, 0), TSK_OK);
	assert_int_equal(store_key_by_hash(f->st, h, &k), TSK_OK);
	assert_int_equal(k.last_used_at, T0 + 161);
	assert_int_equal(k.use_count, 6);
	/* A clock that went back does not move the time backwards, but its uses count. */
	assert_int_equal(store_key_usage(f->st, id, T0 + 50, 2, 0, 0), TSK_OK);
	assert_int_equal(store_key_by_hash(f->st, h, &k), TSK_OK);
	assert_int_equal(k.last_used_at, T0 + 161);
	assert_int_equal(k.use_count, 8);
	/* The same time again: the time stays, the count grows. */
	assert_int_equal(store_key_usage(f->st, id, T0 + 161, 1, 0, 0), TSK_OK);
	assert_int_equal(last_used(f->st, h), T0 + 161);
	/* A key deleted since it was used: nothing to record, and no error. */
	assert_int_equal(store_key_usage(f->st, id + 1000, T0 + 200, 1, 0, 0), TSK_OK);
	assert_int_equal(store_key_by_hash(f->st, h, &k), TSK_OK);
	assert_int_equal(k.last_used_at, T0 + 161);
	assert_int_equal(k.use_count, 9);
	/* Only that key moved. */
	assert_int_equal(store_key_by_hash(f->st, h2, &k), TSK_OK);
	assert_int_equal(k.last_used_at, 0);
	assert_int_equal(k.use_count, 0);
}

/* Every column of schema 2 goes in and comes back, through both lookups. */
static void
test_key_fields(void **state)
{
	struct fixture		*f = *state;
	static const char	 fields_key[] = "tsk_test_fieldsIIIIIIIIIIIIIIIIIIIIII";
	struct store_key	 k, byhash, byid, before;
	unsigned char		 h[SECRET_HASH_LEN];
	int64_t			 acme, plain, id = 0;

	acme = new_account(f->st, "acme", 10);
	assert_int_equal(store_allowance_set(f->st, acme, 25), TSK_OK);
	assert_int_equal(store_allowance_refill(f->st, acme, "2026-11"), TSK_OK);
	plain = new_key(f->st, acme, "tsk_live_plainHHHHHHHHHHHHHHHHHHHHHHH", 0, h);

	memset(&k, 0, sizeof(k));
	k.account_id = acme;
	snprintf(k.name, sizeof(k.name), "billing");
	snprintf(k.prefix, sizeof(k.prefix), "tsk_test_abcd");
	snprintf(k.env, sizeof(k.env), "test");
	snprintf(k.scopes, sizeof(k.scopes), "credit:read keys:admin");
	snprintf(k.ip_allow, sizeof(k.ip_allow), "10.0.0.0/8, 2001:db8::/32");
	k.status = STORE_KEY_ACTIVE;
	k.platform = 1;
	k.rate_minute = 30;
	k.rate_day = 1000;
	k.created_at = T0;
	k.expires_at = T0 + 86400;
	k.rotated_from = plain;
	secret_hash(fields_key, strlen(fields_key), h);
	assert_int_equal(store_key_insert(f->st, &k, h, &id), TSK_OK);
	assert_true(id > plain);

	memset(&byhash, 0, sizeof(byhash));
	assert_int_equal(store_key_by_hash(f->st, h, &byhash), TSK_OK);
	assert_int_equal(byhash.id, id);
	assert_int_equal(byhash.account_id, acme);
	assert_string_equal(byhash.account, "acme");
	assert_string_equal(byhash.name, "billing");
	assert_string_equal(byhash.prefix, "tsk_test_abcd");
	assert_string_equal(byhash.env, "test");
	assert_string_equal(byhash.scopes, "credit:read keys:admin");
	assert_string_equal(byhash.ip_allow, "10.0.0.0/8, 2001:db8::/32");
	assert_int_equal(byhash.status, STORE_KEY_ACTIVE);
	assert_int_equal(byhash.platform, 1);
	assert_int_equal(byhash.rate_minute, 30);
	assert_int_equal(byhash.rate_day, 1000);
	assert_int_equal(byhash.created_at, T0);
	assert_int_equal(byhash.expires_at, T0 + 86400);
	assert_int_equal(byhash.stops_at, 0);
	assert_int_equal(byhash.last_used_at, 0);
	assert_int_equal(byhash.use_count, 0);
	assert_int_equal(byhash.rotated_from, plain);
	/* The account's money, read with the key. */
	assert_int_equal(byhash.credit, 25);
	assert_int_equal(byhash.monthly_allowance, 25);
	assert_string_equal(byhash.allowance_month, "2026-11");

	memset(&byid, 0, sizeof(byid));
	assert_int_equal(store_key_by_id(f->st, id, &byid), TSK_OK);
	assert_memory_equal(&byid, &byhash, sizeof(byid));

	/* "Never" and "none" are NULL in the file, and read as 0. */
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM keys WHERE expires_at IS NULL"
	    " AND rotated_from IS NULL AND stops_at IS NULL"), 1);
	assert_int_equal(store_key_by_id(f->st, plain, &byid), TSK_OK);
	assert_int_equal(byid.expires_at, 0);
	assert_int_equal(byid.rotated_from, 0);
	assert_int_equal(byid.stops_at, 0);

	memset(&byid, 0x5a, sizeof(byid));
	before = byid;
	assert_int_equal(store_key_by_id(f->st, id + 1000, &byid), TSK_NOT_FOUND);
	assert_memory_equal(&byid, &before, sizeof(byid));
}

static void
test_key_stops_delete(void **state)
{
	struct fixture		*f = *state;
	struct store_key	 k;
	unsigned char		 h1[SECRET_HASH_LEN], h2[SECRET_HASH_LEN];
	int64_t			 acme, id1, id2;

	acme = new_account(f->st, "acme", 10);
	id1 = new_key(f->st, acme, "tsk_live_stopsJJJJJJJJJJJJJJJJJJJJJJJ", 0, h1);
	id2 = new_key(f->st, acme, "tsk_live_keepsKKKKKKKKKKKKKKKKKKKKKKK", 0, h2);

	assert_int_equal(store_key_set_stops(f->st, id1, T0 + 60), TSK_OK);
	assert_int_equal(store_key_by_id(f->st, id1, &k), TSK_OK);
	assert_int_equal(k.stops_at, T0 + 60);
	assert_int_equal(k.status, STORE_KEY_ACTIVE);
	assert_int_equal(store_key_set_stops(f->st, id2 + 1000, T0 + 60), TSK_NOT_FOUND);

	assert_int_equal(store_key_delete(f->st, id1), TSK_OK);
	assert_int_equal(store_key_by_id(f->st, id1, &k), TSK_NOT_FOUND);
	assert_int_equal(store_key_by_hash(f->st, h1, &k), TSK_NOT_FOUND);
	assert_int_equal(store_key_delete(f->st, id1), TSK_NOT_FOUND);
	/* Only that key. */
	assert_int_equal(store_key_by_id(f->st, id2, &k), TSK_OK);
	assert_int_equal(k.stops_at, 0);
}

static void
test_key_count_active(void **state)
{
	struct fixture	*f = *state;
	unsigned char	 h[SECRET_HASH_LEN];
	int64_t		 acme, beta, off, stops, n = -1;

	acme = new_account(f->st, "acme", 10);
	beta = new_account(f->st, "beta", 10);
	assert_int_equal(store_key_count_active(f->st, acme, T0, &n), TSK_OK);
	assert_int_equal(n, 0);

	new_key(f->st, acme, "tsk_live_neverLLLLLLLLLLLLLLLLLLLLLLL", 0, h);
	new_key(f->st, acme, "tsk_live_hourMMMMMMMMMMMMMMMMMMMMMMMM", T0 + 3600, h);
	off = new_key(f->st, acme, "tsk_live_offNNNNNNNNNNNNNNNNNNNNNNNNN", 0, h);
	stops = new_key(f->st, acme, "tsk_live_stopOOOOOOOOOOOOOOOOOOOOOOOO", 0, h);
	new_key(f->st, beta, "tsk_live_betaPPPPPPPPPPPPPPPPPPPPPPPP", 0, h);
	assert_int_equal(store_key_set_status(f->st, off, STORE_KEY_INACTIVE), TSK_OK);
	assert_int_equal(store_key_set_stops(f->st, stops, T0 + 60), TSK_OK);

	/* never + hour + stops; the inactive key and beta's do not count. */
	assert_int_equal(store_key_count_active(f->st, acme, T0, &n), TSK_OK);
	assert_int_equal(n, 3);
	assert_int_equal(store_key_count_active(f->st, acme, T0 + 59, &n), TSK_OK);
	assert_int_equal(n, 3);
	/* A key is done at its stop and expiry times, not a second after. */
	assert_int_equal(store_key_count_active(f->st, acme, T0 + 60, &n), TSK_OK);
	assert_int_equal(n, 2);
	assert_int_equal(store_key_count_active(f->st, acme, T0 + 3600, &n), TSK_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_key_count_active(f->st, beta, T0 + 3600, &n), TSK_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_key_count_active(f->st, beta + 1000, T0, &n), TSK_OK);
	assert_int_equal(n, 0);
}

static int64_t
balance(struct store *st, int64_t id)
{
	struct store_account	a;

	assert_int_equal(store_account_by_id(st, id, &a), TSK_OK);
	return a.credit;
}

static void
test_credit_add_debit(void **state)
{
	struct fixture		*f = *state;
	struct store_account	 a;
	int64_t			 acme, beta;

	acme = new_account(f->st, "acme", 5);
	beta = new_account(f->st, "beta", 7);
	assert_int_equal(store_account_by_id(f->st, acme, &a), TSK_OK);
	assert_string_equal(a.name, "acme");
	assert_int_equal(a.monthly_allowance, 0);
	assert_string_equal(a.allowance_month, "");
	assert_int_equal(store_account_by_id(f->st, beta + 1000, &a), TSK_NOT_FOUND);

	assert_int_equal(store_credit_debit(f->st, acme, 2, 0), TSK_OK);
	assert_int_equal(balance(f->st, acme), 3);
	assert_int_equal(store_credit_debit(f->st, acme, 3, 0), TSK_OK);
	assert_int_equal(balance(f->st, acme), 0);
	/* Not enough: refused whole, the balance untouched. */
	assert_int_equal(store_credit_debit(f->st, acme, 1, 0), TSK_ERR_CONFLICT);
	assert_int_equal(balance(f->st, acme), 0);
	assert_int_equal(store_credit_add(f->st, acme, 4), TSK_OK);
	assert_int_equal(store_credit_debit(f->st, acme, 5, 0), TSK_ERR_CONFLICT);
	assert_int_equal(balance(f->st, acme), 4);
	assert_int_equal(store_credit_add(f->st, acme, -10), TSK_OK);
	assert_int_equal(balance(f->st, acme), -6);
	assert_int_equal(store_credit_debit(f->st, acme, 1, 0), TSK_ERR_CONFLICT);
	assert_int_equal(balance(f->st, acme), -6);
	/* No such account: nothing to take from, nothing to add to. */
	assert_int_equal(store_credit_debit(f->st, beta + 1000, 1, 0), TSK_ERR_CONFLICT);
	assert_int_equal(store_credit_add(f->st, beta + 1000, 1), TSK_NOT_FOUND);
	assert_int_equal(balance(f->st, beta), 7);
	/* keep: credit granted in memory and not yet written stays out of reach. */
	assert_int_equal(store_credit_debit(f->st, beta, 3, 5), TSK_ERR_CONFLICT);
	assert_int_equal(balance(f->st, beta), 7);
	assert_int_equal(store_credit_debit(f->st, beta, 2, 5), TSK_OK);
	assert_int_equal(balance(f->st, beta), 5);
}

static void
test_allowance_refill(void **state)
{
	struct fixture		*f = *state;
	struct store_account	 a;
	struct store_key	 k;
	unsigned char		 h[SECRET_HASH_LEN];
	int64_t			 acme, beta;

	acme = new_account(f->st, "acme", 3);
	beta = new_account(f->st, "beta", 4);
	assert_int_equal(store_allowance_set(f->st, acme, 10), TSK_OK);
	assert_int_equal(store_allowance_set(f->st, beta + 1000, 10), TSK_NOT_FOUND);
	assert_int_equal(store_account_by_id(f->st, acme, &a), TSK_OK);
	assert_int_equal(a.monthly_allowance, 10);
	assert_int_equal(a.credit, 3);		/* setting an allowance grants nothing yet */

	/* The first refill of a month tops up to the allowance and records the month. */
	assert_int_equal(store_allowance_refill(f->st, acme, "2026-11"), TSK_OK);
	assert_int_equal(store_account_by_id(f->st, acme, &a), TSK_OK);
	assert_int_equal(a.credit, 10);
	assert_string_equal(a.allowance_month, "2026-11");
	assert_int_equal(store_credit_debit(f->st, acme, 4, 0), TSK_OK);
	/* The same month again: nothing. */
	assert_int_equal(store_allowance_refill(f->st, acme, "2026-11"), TSK_OK);
	assert_int_equal(balance(f->st, acme), 6);
	/* The next month tops up again. */
	assert_int_equal(store_allowance_refill(f->st, acme, "2026-12"), TSK_OK);
	assert_int_equal(balance(f->st, acme), 10);
	/* A balance above the allowance is kept, not cut down to it. */
	assert_int_equal(store_credit_set(f->st, acme, 50), TSK_OK);
	assert_int_equal(store_allowance_refill(f->st, acme, "2027-01"), TSK_OK);
	assert_int_equal(store_account_by_id(f->st, acme, &a), TSK_OK);
	assert_int_equal(a.credit, 50);
	assert_string_equal(a.allowance_month, "2027-01");

	/* No allowance: a refill is not an error, and changes nothing. */
	assert_int_equal(store_allowance_refill(f->st, beta, "2026-11"), TSK_OK);
	assert_int_equal(store_account_by_id(f->st, beta, &a), TSK_OK);
	assert_int_equal(a.credit, 4);
	assert_string_equal(a.allowance_month, "");

	/* Keys see their account's allowance. */
	new_key(f->st, acme, "tsk_live_allowQQQQQQQQQQQQQQQQQQQQQQQ", 0, h);
	assert_int_equal(store_key_by_hash(f->st, h, &k), TSK_OK);
	assert_int_equal(k.monthly_allowance, 10);
	assert_string_equal(k.allowance_month, "2027-01");
	assert_int_equal(k.credit, 50);
}

static enum tsk_status
tx_make_account(struct store *st, void *arg)
{
	enum tsk_status	*answer = arg;

	assert_int_equal(store_account_create(st, "in-tx", 1, T0, NULL), TSK_OK);
	return *answer;
}

static void
test_transaction(void **state)
{
	struct fixture		*f = *state;
	struct store_account	 a;
	enum tsk_status		 answer;

	/* A failing body is rolled back, and its status passed through. */
	answer = TSK_ERR_CONFLICT;
	assert_int_equal(store_transaction(f->st, tx_make_account, &answer), TSK_ERR_CONFLICT);
	assert_int_equal(store_account_by_name(f->st, "in-tx", &a), TSK_NOT_FOUND);
	answer = TSK_OK;
	assert_int_equal(store_transaction(f->st, tx_make_account, &answer), TSK_OK);
	assert_int_equal(store_account_by_name(f->st, "in-tx", &a), TSK_OK);
	/* Committed: another connection sees it. */
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM accounts WHERE name = 'in-tx'"), 1);
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
	assert_int_equal(store_user_create(f->st, acme, "alice", pw, STORE_USER_PERSON, T0),
	    TSK_OK);

	memset(&u, 0, sizeof(u));
	assert_int_equal(store_user_by_name(f->st, "alice", &u), TSK_OK);
	assert_true(u.id > 0);
	assert_int_equal(u.account_id, acme);
	assert_string_equal(u.name, "alice");
	assert_string_equal(u.pwhash, pw);
	assert_int_equal(u.kind, STORE_USER_PERSON);
	assert_int_equal(u.created_at, T0);
	assert_int_equal(u.password_changed_at, T0);

	/* Unique across accounts: Login has no account field to tell two alices apart. */
	assert_int_equal(store_user_create(f->st, beta, "alice", pw, STORE_USER_API, T0),
	    TSK_ERR_CONFLICT);
	assert_int_equal(store_user_create(f->st, acme, "alice", "other", STORE_USER_PERSON, T0),
	    TSK_ERR_CONFLICT);
	assert_int_equal(store_user_by_name(f->st, "alice", &u), TSK_OK);
	assert_int_equal(u.account_id, acme);
	assert_string_equal(u.pwhash, pw);

	assert_int_equal(store_user_create(f->st, beta + 1000, "orphan", pw, STORE_USER_PERSON,
	    T0), TSK_ERR_CONFLICT);

	/* An API user keeps its kind. */
	assert_int_equal(store_user_create(f->st, beta, "svc", pw, STORE_USER_API, T0 + 5), TSK_OK);
	assert_int_equal(store_user_by_name(f->st, "svc", &u), TSK_OK);
	assert_int_equal(u.kind, STORE_USER_API);
	assert_int_equal(u.account_id, beta);
	assert_int_equal(u.password_changed_at, T0 + 5);

	memset(&u, 0x5a, sizeof(u));
	before = u;
	assert_int_equal(store_user_by_name(f->st, "bob", &u), TSK_NOT_FOUND);
	assert_memory_equal(&u, &before, sizeof(u));
	assert_int_equal(store_user_by_name(f->st, "orphan", &u), TSK_NOT_FOUND);
}

struct users_seen {
	int	n;
	int	stop_after;
	char	name[8][TSK_NAME_MAX];
	int	kind[8];
};

static int
collect_user(const struct store_user *u, void *arg)
{
	struct users_seen	*c = arg;

	if (c->n < 8) {
		snprintf(c->name[c->n], TSK_NAME_MAX, "%s", u->name);
		c->kind[c->n] = u->kind;
	}
	c->n++;
	return c->stop_after != 0 && c->n >= c->stop_after;
}

static void
test_user_list(void **state)
{
	struct fixture		*f = *state;
	struct users_seen	 c;
	int64_t			 acme, beta;

	acme = new_account(f->st, "acme", 10);
	beta = new_account(f->st, "beta", 0);
	assert_int_equal(store_user_create(f->st, acme, "alice", "x", STORE_USER_PERSON, T0),
	    TSK_OK);
	assert_int_equal(store_user_create(f->st, beta, "bob", "x", STORE_USER_PERSON, T0), TSK_OK);
	assert_int_equal(store_user_create(f->st, acme, "svc", "x", STORE_USER_API, T0), TSK_OK);

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_user_list(f->st, acme, collect_user, &c), TSK_OK);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.name[0], "alice");
	assert_int_equal(c.kind[0], STORE_USER_PERSON);
	assert_string_equal(c.name[1], "svc");
	assert_int_equal(c.kind[1], STORE_USER_API);

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_user_list(f->st, 0, collect_user, &c), TSK_OK);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.name[1], "bob");

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_user_list(f->st, beta + 1000, collect_user, &c), TSK_OK);
	assert_int_equal(c.n, 0);

	memset(&c, 0, sizeof(c));
	c.stop_after = 1;
	assert_int_equal(store_user_list(f->st, 0, collect_user, &c), TSK_OK);
	assert_int_equal(c.n, 1);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_user_list(f->st, 0, collect_user, &c), TSK_OK);
	assert_int_equal(c.n, 3);
}

struct audit_seen {
	int			n;
	int			stop_after;
	struct store_audit	row[8];
};

static int
collect_audit(const struct store_audit *a, void *arg)
{
	struct audit_seen	*c = arg;

	if (c->n < 8)
		c->row[c->n] = *a;
	c->n++;
	return c->stop_after != 0 && c->n >= c->stop_after;
}

static void
audit_row(struct store *st, int64_t at, const char *action, int64_t account_id,
    const char *detail)
{
	struct store_audit	a;

	memset(&a, 0, sizeof(a));
	a.at = at;
	snprintf(a.actor, sizeof(a.actor), "key:7");
	snprintf(a.action, sizeof(a.action), "%s", action);
	a.account_id = account_id;
	snprintf(a.target, sizeof(a.target), "account:%lld", (long long)account_id);
	snprintf(a.client, sizeof(a.client), "203.0.113.9");
	snprintf(a.request_id, sizeof(a.request_id), "req-%lld", (long long)at);
	snprintf(a.detail, sizeof(a.detail), "%s", detail);
	assert_int_equal(store_audit_append(st, &a), TSK_OK);
}

static void
test_audit(void **state)
{
	struct fixture		*f = *state;
	struct audit_seen	 c;
	int64_t			 acme, beta, before;
	char			 target[64];

	acme = new_account(f->st, "acme", 10);
	beta = new_account(f->st, "beta", 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_audit_list(f->st, 0, 0, 100, collect_audit, &c), TSK_OK);
	assert_int_equal(c.n, 0);

	audit_row(f->st, T0 + 1, "account.create", acme, "{\"name\":\"acme\"}");
	audit_row(f->st, T0 + 2, "account.create", beta, "");
	audit_row(f->st, T0 + 3, "key.create", acme, "{}");
	audit_row(f->st, T0 + 4, "system.note", 0, "{}");

	/* Newest first, every field back as written. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_audit_list(f->st, 0, 0, 100, collect_audit, &c), TSK_OK);
	assert_int_equal(c.n, 4);
	assert_string_equal(c.row[0].action, "system.note");
	assert_int_equal(c.row[0].account_id, 0);	/* stored as NULL, read as none */
	assert_string_equal(c.row[3].action, "account.create");
	assert_true(c.row[3].id > 0);
	assert_true(c.row[0].id > c.row[1].id && c.row[1].id > c.row[2].id &&
	    c.row[2].id > c.row[3].id);
	assert_int_equal(c.row[3].at, T0 + 1);
	assert_string_equal(c.row[3].actor, "key:7");
	assert_int_equal(c.row[3].account_id, acme);
	snprintf(target, sizeof(target), "account:%lld", (long long)acme);
	assert_string_equal(c.row[3].target, target);
	assert_string_equal(c.row[3].client, "203.0.113.9");
	assert_string_equal(c.row[3].request_id, "req-1795564801");
	assert_string_equal(c.row[3].detail, "{\"name\":\"acme\"}");
	/* No detail reads as an empty JSON object. */
	assert_string_equal(c.row[2].detail, "{}");
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM audit WHERE account_id IS NULL"),
	    1);

	/* One account's rows. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_audit_list(f->st, acme, 0, 100, collect_audit, &c), TSK_OK);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.row[0].action, "key.create");
	assert_string_equal(c.row[1].action, "account.create");
	assert_int_equal(c.row[1].account_id, acme);

	/* Pages: at most limit rows, then the rows before the last one seen. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_audit_list(f->st, 0, 0, 3, collect_audit, &c), TSK_OK);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.row[2].action, "account.create");
	assert_int_equal(c.row[2].account_id, beta);
	before = c.row[2].id;
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_audit_list(f->st, 0, before, 3, collect_audit, &c), TSK_OK);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.row[0].account_id, acme);
	assert_int_equal(c.row[0].at, T0 + 1);

	/* A callback that stops early; the statement is reset for the next list. */
	memset(&c, 0, sizeof(c));
	c.stop_after = 1;
	assert_int_equal(store_audit_list(f->st, 0, 0, 100, collect_audit, &c), TSK_OK);
	assert_int_equal(c.n, 1);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_audit_list(f->st, 0, 0, 100, collect_audit, &c), TSK_OK);
	assert_int_equal(c.n, 4);
}

/* The schema as version 1 shipped it (store.c, migrations[0]): never edited since. */
static const char schema_v1[] =
	"CREATE TABLE accounts ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  credit INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  account_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  name TEXT NOT NULL UNIQUE,"
	"  pwhash TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE keys ("
	"  id INTEGER PRIMARY KEY,"
	"  account_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
	"  prefix TEXT NOT NULL,"
	"  name TEXT NOT NULL DEFAULT '',"
	"  status INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER,"
	"  last_used_at INTEGER);"
	"CREATE INDEX keys_account ON keys(account_id);"
	"CREATE TABLE sessions ("
	"  id INTEGER PRIMARY KEY,"
	"  hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  account_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  created_at INTEGER NOT NULL,"
	"  last_seen_at INTEGER NOT NULL);"
	"CREATE INDEX sessions_seen ON sessions(last_seen_at);"
	"PRAGMA user_version = 1;";

/* A version 1 database keeps its rows through the migration, with the new columns' defaults. */
static void
test_migrate_v1(void **state)
{
	struct fixture		*f = *state;
	struct store		*st = NULL;
	struct store_user	 u;
	struct store_key	 k;
	struct store_account	 a;
	struct audit_seen	 c;
	unsigned char		 h[SECRET_HASH_LEN];
	char			 path[256], sql[512], hex[2 * SECRET_HASH_LEN + 1];
	static const char	 plain[] = "legacy-key-from-trackroad";
	int			 i;

	sibling(f, "v1.db", path, sizeof(path));
	sql_exec(path, schema_v1);
	secret_hash(plain, strlen(plain), h);
	for (i = 0; i < SECRET_HASH_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	assert_true((size_t)snprintf(sql, sizeof(sql),
	    "INSERT INTO accounts VALUES (1, 'acme', 7, %lld);"
	    "INSERT INTO users VALUES (1, 1, 'alice', 'scrypt$x', %lld);"
	    "INSERT INTO keys(account_id, hash, prefix, name, status, created_at)"
	    " VALUES (1, X'%s', 'legacy', 'old', 0, %lld);", (long long)T0, (long long)(T0 + 9),
	    hex, (long long)T0) < sizeof(sql));
	sql_exec(path, sql);

	assert_int_equal(store_open(path, &st), TSK_OK);
	assert_int_equal(sql_int(path, "PRAGMA user_version"), 4);
	assert_int_equal(store_account_by_name(st, "acme", &a), TSK_OK);
	assert_int_equal(a.credit, 7);
	assert_int_equal(a.monthly_allowance, 0);
	assert_string_equal(a.allowance_month, "");
	/* Users were people; their passwords date from when they were made. */
	assert_int_equal(store_user_by_name(st, "alice", &u), TSK_OK);
	assert_int_equal(u.kind, STORE_USER_PERSON);
	assert_int_equal(u.created_at, T0 + 9);
	assert_int_equal(u.password_changed_at, T0 + 9);
	/* A v1 key (status 0 was "revoked", now inactive) with the defaults of schema 2. */
	assert_int_equal(store_key_by_hash(st, h, &k), TSK_OK);
	assert_int_equal(k.status, STORE_KEY_INACTIVE);
	assert_string_equal(k.name, "old");
	assert_string_equal(k.env, "live");
	assert_string_equal(k.scopes, TSK_SCOPES_DEFAULT);
	assert_string_equal(k.ip_allow, "");
	assert_int_equal(k.rate_minute, 0);
	assert_int_equal(k.rate_day, 0);
	assert_int_equal(k.platform, 0);
	assert_int_equal(k.stops_at, 0);
	assert_int_equal(k.rotated_from, 0);
	assert_int_equal(k.use_count, 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_audit_list(st, 0, 0, 100, collect_audit, &c), TSK_OK);
	assert_int_equal(c.n, 0);
	store_close(st);
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
	assert_int_equal(store_user_create(f->st, acme, "alice", "x", STORE_USER_PERSON, T0),
	    TSK_OK);
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
	assert_int_equal(store_user_create(f->st, acme, "alice", "x", STORE_USER_PERSON, T0),
	    TSK_OK);
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

/*
 * The key cache (keycache.h) answers a repeated lookup, and never after a change made through
 * another connection (another process, say): status, credit, a deleted key, a raw SQL edit.
 */
static void
test_key_cache_follows_every_change(void **state)
{
	struct fixture		*f = *state;
	struct keycache		*kc = keycache_new();
	struct store		*other = NULL;
	struct store_key	 k;
	unsigned char		 h[SECRET_HASH_LEN];
	int64_t			 acme, id, g0, g1;

	assert_non_null(kc);
	store_use_cache(f->st, kc);
	acme = new_account(f->st, "acme", 5);
	id = new_key(f->st, acme, "tsk_live_cacheEEEEEEEEEEEEEEEEEEEEEEE", 0, h);
	assert_int_equal(store_open(f->path, &other), TSK_OK);
	assert_int_equal(store_key_by_hash(f->st, h, &k), TSK_OK);
	assert_int_equal(k.status, STORE_KEY_ACTIVE);
	/* cached now: the entry is there for this generation */
	assert_int_equal(store_changes_gen(f->st, &g0), TSK_OK);
	memset(&k, 0, sizeof(k));
	assert_int_equal(keycache_get(kc, h, g0, &k), 1);
	assert_int_equal(k.id, id);
	assert_int_equal(keycache_get(kc, h, g0 + 1, &k), 0);
	/* deactivated through another connection: seen at once */
	assert_int_equal(store_key_set_status(other, id, STORE_KEY_INACTIVE), TSK_OK);
	assert_int_equal(store_changes_gen(f->st, &g1), TSK_OK);
	assert_true(g1 > g0);
	assert_int_equal(store_key_by_hash(f->st, h, &k), TSK_OK);
	assert_int_equal(k.status, STORE_KEY_INACTIVE);
	/* the account's credit */
	assert_int_equal(store_credit_set(other, acme, 42), TSK_OK);
	assert_int_equal(store_key_by_hash(f->st, h, &k), TSK_OK);
	assert_int_equal(k.credit, 42);
	/* a change by plain SQL, as a tool outside tskey would make it */
	store_close(other);
	other = NULL;
	sql_exec(f->path, "UPDATE keys SET scopes = 'keys:admin' WHERE id = 1;");
	assert_int_equal(store_key_by_hash(f->st, h, &k), TSK_OK);
	assert_string_equal(k.scopes, "keys:admin");
	/* gone */
	sql_exec(f->path, "DELETE FROM keys;");
	assert_int_equal(store_key_by_hash(f->st, h, &k), TSK_NOT_FOUND);
	store_use_cache(f->st, NULL);
	keycache_free(kc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_schema, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_reopen_idempotent, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_key_cache_follows_every_change, setup,
		    fixture_teardown),
		cmocka_unit_test_setup_teardown(test_not_a_database, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_open_missing_dir, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_accounts, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_credit_set, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_key_insert_lookup, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_key_set_status, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_key_usage, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_key_fields, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_key_stops_delete, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_key_count_active, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_credit_add_debit, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_allowance_refill, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_transaction, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_key_list, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_users, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_user_list, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_audit, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v1, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_sessions, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_no_plain_credentials_on_disk, setup,
		    fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
