/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/usage.c against a real store in a fresh mkdtemp directory: uses noted in
 * memory reach last_used_at and use_count only at a flush, a failed flush keeps them, noting
 * goes on during a flush, and the pending map is bounded. Metered calls' credit is granted in
 * memory against the stored balance and written at the flush; a failed flush refuses debits
 * until one succeeds, and the unwritten spending is bounded.
 */
#include <pthread.h>
#include <sched.h>
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
#include "usage.h"

#define T0	INT64_C(1795564800)	/* 2026-11-25T00:00:00Z */
#define BIG	INT64_C(1000000)	/* max_unwritten where the bound is not the point */

/* The fixture first (fixture_setup needs that), then the usage map and two keys. */
struct ustate {
	struct fixture	 fx;
	struct usage	*u;
	int64_t		 k1, k2;
};

static int64_t
new_key(struct store *st, int64_t account_id, const char *plain)
{
	struct store_key	k;
	unsigned char		hash[SECRET_HASH_LEN];
	int64_t			id = 0;

	memset(&k, 0, sizeof(k));
	k.account_id = account_id;
	snprintf(k.prefix, sizeof(k.prefix), "%.13s", plain);
	snprintf(k.name, sizeof(k.name), "ci");
	snprintf(k.env, sizeof(k.env), "live");
	snprintf(k.scopes, sizeof(k.scopes), "credit:read");
	k.status = STORE_KEY_ACTIVE;
	k.created_at = T0;
	secret_hash(plain, strlen(plain), hash);
	assert_int_equal(store_key_insert(st, &k, hash, &id), TSK_OK);
	assert_true(id > 0);
	return id;
}

static int
setup(void **state)
{
	struct ustate	*s;
	int64_t		 acct = 0;

	if (fixture_setup(state, sizeof(*s), "usage") != 0)
		return -1;
	s = *state;
	s->u = usage_new();
	if (s->u == NULL ||
	    store_account_create(s->fx.st, "acme", 100, T0, &acct) != TSK_OK) {
		usage_free(s->u);
		fixture_teardown(state);
		return -1;
	}
	s->k1 = new_key(s->fx.st, acct, "tsk_live_aaaaaaaaaaaaaaaaaaaaaaaa");
	s->k2 = new_key(s->fx.st, acct, "tsk_live_bbbbbbbbbbbbbbbbbbbbbbbb");
	return 0;
}

static int
teardown(void **state)
{
	struct ustate	*s = *state;

	if (s != NULL)
		usage_free(s->u);
	return fixture_teardown(state);
}

static void
key_usage_is(struct store *st, int64_t key_id, int64_t last, int64_t count)
{
	struct store_key	k;

	assert_int_equal(store_key_by_id(st, key_id, &k), TSK_OK);
	assert_int_equal(k.last_used_at, last);
	assert_int_equal(k.use_count, count);
}

/* A statement through a connection of our own, as another process would run it. */
static void
sql_exec(const char *path, const char *sql)
{
	sqlite3	*db = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void
test_new_free(void **state)
{
	struct usage	*u;

	(void)state;
	u = usage_new();
	assert_non_null(u);
	assert_int_equal(usage_pending(u), 0);
	assert_int_equal(usage_note(u, 1, T0), 0);
	/* Freeing with uses pending drops them without leaking (ASan). */
	usage_free(u);
	usage_free(NULL);
}

static void
test_flush_writes(void **state)
{
	struct ustate	*s = *state;
	int		 i;

	for (i = 0; i < 5; i++)
		assert_int_equal(usage_note(s->u, s->k1, T0 + 10 + i), 0);
	assert_int_equal(usage_note(s->u, s->k2, T0 + 3), 0);
	assert_int_equal(usage_pending(s->u), 2);
	/* Nothing reaches the store before the flush. */
	key_usage_is(s->fx.st, s->k1, 0, 0);
	assert_int_equal(usage_flush(s->u, s->fx.st), TSK_OK);
	assert_int_equal(usage_pending(s->u), 0);
	key_usage_is(s->fx.st, s->k1, T0 + 14, 5);
	key_usage_is(s->fx.st, s->k2, T0 + 3, 1);
}

static void
test_last_is_latest(void **state)
{
	struct ustate	*s = *state;

	/* Threads note out of order: the latest time wins, not the last noted. */
	assert_int_equal(usage_note(s->u, s->k1, T0 + 50), 0);
	assert_int_equal(usage_note(s->u, s->k1, T0 + 20), 0);
	assert_int_equal(usage_flush(s->u, s->fx.st), TSK_OK);
	key_usage_is(s->fx.st, s->k1, T0 + 50, 2);
	/* The store keeps its later time too when a flush brings an earlier one. */
	assert_int_equal(usage_note(s->u, s->k1, T0 + 30), 0);
	assert_int_equal(usage_flush(s->u, s->fx.st), TSK_OK);
	key_usage_is(s->fx.st, s->k1, T0 + 50, 3);
}

static void
test_flush_nothing(void **state)
{
	struct ustate	*s = *state;

	assert_int_equal(usage_flush(s->u, s->fx.st), TSK_OK);
	assert_int_equal(usage_pending(s->u), 0);
	key_usage_is(s->fx.st, s->k1, 0, 0);
	/* Twice over, and after a real flush. */
	assert_int_equal(usage_note(s->u, s->k1, T0), 0);
	assert_int_equal(usage_flush(s->u, s->fx.st), TSK_OK);
	assert_int_equal(usage_flush(s->u, s->fx.st), TSK_OK);
	key_usage_is(s->fx.st, s->k1, T0, 1);
}

static void
test_pending_count(void **state)
{
	struct ustate	*s = *state;
	int64_t		 key;

	assert_int_equal(usage_pending(s->u), 0);
	assert_int_equal(usage_note(s->u, s->k1, T0), 0);
	assert_int_equal(usage_pending(s->u), 1);
	assert_int_equal(usage_note(s->u, s->k1, T0 + 1), 0);
	assert_int_equal(usage_pending(s->u), 1);
	assert_int_equal(usage_note(s->u, s->k2, T0 + 1), 0);
	assert_int_equal(usage_pending(s->u), 2);
	/* Enough distinct keys to make the map grow several times; none is lost on the way. */
	for (key = 1000; key < 11000; key++)
		assert_int_equal(usage_note(s->u, key, T0 + 2), 0);
	assert_int_equal(usage_pending(s->u), 10002);
	/* Keys deleted (here: never created) since their use are skipped, not an error. */
	assert_int_equal(usage_flush(s->u, s->fx.st), TSK_OK);
	assert_int_equal(usage_pending(s->u), 0);
	key_usage_is(s->fx.st, s->k1, T0 + 1, 2);
	key_usage_is(s->fx.st, s->k2, T0 + 1, 1);
}

static void
test_next_flush(void **state)
{
	struct ustate	*s = *state;

	assert_int_equal(usage_note(s->u, s->k1, T0 + 1), 0);
	assert_int_equal(usage_flush(s->u, s->fx.st), TSK_OK);
	key_usage_is(s->fx.st, s->k1, T0 + 1, 1);
	/* Uses after a flush wait for the next one, and add to what the store has. */
	assert_int_equal(usage_note(s->u, s->k1, T0 + 100), 0);
	assert_int_equal(usage_note(s->u, s->k1, T0 + 101), 0);
	assert_int_equal(usage_note(s->u, s->k2, T0 + 102), 0);
	assert_int_equal(usage_pending(s->u), 2);
	key_usage_is(s->fx.st, s->k1, T0 + 1, 1);
	key_usage_is(s->fx.st, s->k2, 0, 0);
	assert_int_equal(usage_flush(s->u, s->fx.st), TSK_OK);
	key_usage_is(s->fx.st, s->k1, T0 + 101, 3);
	key_usage_is(s->fx.st, s->k2, T0 + 102, 1);
}

static void
test_failed_flush_keeps_uses(void **state)
{
	struct ustate	*s = *state;

	assert_int_equal(usage_note(s->u, s->k1, T0 + 5), 0);
	assert_int_equal(usage_note(s->u, s->k1, T0 + 6), 0);
	assert_int_equal(usage_note(s->u, s->k2, T0 + 7), 0);
	/* Another connection makes every UPDATE of keys fail, so the transaction rolls back. */
	sql_exec(s->fx.path, "CREATE TRIGGER no_usage BEFORE UPDATE ON keys"
	    " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
	assert_int_not_equal(usage_flush(s->u, s->fx.st), TSK_OK);
	assert_int_equal(usage_pending(s->u), 2);
	key_usage_is(s->fx.st, s->k1, 0, 0);
	key_usage_is(s->fx.st, s->k2, 0, 0);
	/* Uses noted after the failure join those kept, and a second failure keeps them all. */
	assert_int_equal(usage_note(s->u, s->k1, T0 + 8), 0);
	assert_int_not_equal(usage_flush(s->u, s->fx.st), TSK_OK);
	assert_int_equal(usage_pending(s->u), 2);
	sql_exec(s->fx.path, "DROP TRIGGER no_usage");
	assert_int_equal(usage_flush(s->u, s->fx.st), TSK_OK);
	assert_int_equal(usage_pending(s->u), 0);
	key_usage_is(s->fx.st, s->k1, T0 + 8, 3);
	key_usage_is(s->fx.st, s->k2, T0 + 7, 1);
}

struct flusher {
	struct usage	*u;
	struct store	*st;
	enum tsk_status	 rc;
};

static void *
flusher_run(void *arg)
{
	struct flusher	*f = arg;

	f->rc = usage_flush(f->u, f->st);
	return NULL;
}

static void
test_failed_flush_while_noting(void **state)
{
	struct ustate	*s = *state;
	struct flusher	 f = { s->u, s->fx.st, TSK_OK };
	sqlite3		*other = NULL;
	pthread_t	 tid;
	int64_t		 key;

	assert_int_equal(usage_note(s->u, s->k1, T0 + 1), 0);
	assert_int_equal(usage_note(s->u, s->k1, T0 + 2), 0);
	assert_int_equal(usage_note(s->u, s->k2, T0 + 3), 0);
	/* Another writer holds the database, so the flush waits inside its transaction. */
	assert_int_equal(sqlite3_open_v2(s->fx.path, &other, SQLITE_OPEN_READWRITE, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(pthread_create(&tid, NULL, flusher_run, &f), 0);
	/* Once the map is swapped out, new uses go to a fresh one while the flush waits. */
	while (usage_pending(s->u) != 0)
		sched_yield();
	assert_int_equal(usage_note(s->u, s->k1, T0 + 10), 0);
	assert_int_equal(usage_note(s->u, s->k1, T0 + 11), 0);
	assert_int_equal(usage_note(s->u, s->k1, T0 + 12), 0);
	for (key = 5000; key < 5005; key++)
		assert_int_equal(usage_note(s->u, key, T0 + 10), 0);
	assert_int_equal(usage_pending(s->u), 6);
	/* The writer leaves behind a trigger that fails the flush's UPDATEs. */
	assert_int_equal(sqlite3_exec(other, "CREATE TRIGGER no_usage BEFORE UPDATE ON keys"
	    " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END; COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(pthread_join(tid, NULL), 0);
	assert_int_not_equal(f.rc, TSK_OK);
	/* The failed flush's uses merged with those noted meanwhile: k1 2 + 3, k2 1, 5 more. */
	assert_int_equal(usage_pending(s->u), 7);
	assert_int_equal(sqlite3_exec(other, "DROP TRIGGER no_usage", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(other);
	assert_int_equal(usage_flush(s->u, s->fx.st), TSK_OK);
	key_usage_is(s->fx.st, s->k1, T0 + 12, 5);
	key_usage_is(s->fx.st, s->k2, T0 + 3, 1);
}

static void
test_cap(void **state)
{
	struct usage	*u;
	int64_t		 key;

	(void)state;
	u = usage_new();
	assert_non_null(u);
	for (key = 1; key <= 1000000; key++) {
		if (usage_note(u, key, T0) != 0)
			fail_msg("note of key %lld refused", (long long)key);
	}
	assert_int_equal(usage_pending(u), 1000000);
	/* A new key beyond the cap is lost; keys already pending still count. */
	assert_int_equal(usage_note(u, 1000001, T0), -1);
	assert_int_equal(usage_note(u, 1000002, T0), -1);
	assert_int_equal(usage_note(u, 1, T0 + 1), 0);
	assert_int_equal(usage_pending(u), 1000000);
	usage_free(u);
}

struct noter {
	struct usage	*u;
	int64_t		 key;
	int		 failed;
};

#define NOTES	5000

static void *
noter_run(void *arg)
{
	struct noter	*n = arg;
	int		 i;

	for (i = 0; i < NOTES; i++) {
		if (usage_note(n->u, n->key, T0 + i) != 0)
			n->failed++;
	}
	return NULL;
}

static void
test_note_during_flush(void **state)
{
	struct ustate	*s = *state;
	struct noter	 n[4];
	pthread_t	 tid[4];
	int		 i, flushes = 0;

	/* Two threads per key note while this one flushes: every use lands exactly once. */
	for (i = 0; i < 4; i++) {
		n[i].u = s->u;
		n[i].key = i % 2 == 0 ? s->k1 : s->k2;
		n[i].failed = 0;
		assert_int_equal(pthread_create(&tid[i], NULL, noter_run, &n[i]), 0);
	}
	while (flushes < 20) {
		assert_int_equal(usage_flush(s->u, s->fx.st), TSK_OK);
		flushes++;
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
		assert_int_equal(n[i].failed, 0);
	}
	assert_int_equal(usage_flush(s->u, s->fx.st), TSK_OK);
	key_usage_is(s->fx.st, s->k1, T0 + NOTES - 1, 2 * NOTES);
	key_usage_is(s->fx.st, s->k2, T0 + NOTES - 1, 2 * NOTES);
}

static int64_t
credit_of(struct store *st, const char *account)
{
	struct store_account	a;

	assert_int_equal(store_account_by_name(st, account, &a), TSK_OK);
	return a.credit;
}

/* Debits are granted against the stored balance less what is spent and not yet written. */
static void
test_debit_batched(void **state)
{
	struct ustate		*s = *state;
	struct store_account	 a;
	int64_t			 left = -1;

	assert_int_equal(store_account_by_name(s->fx.st, "acme", &a), TSK_OK);
	assert_int_equal(usage_debit(s->u, a.id, 30, 100, BIG, &left), USAGE_DEBIT_OK);
	assert_int_equal(left, 70);
	assert_int_equal(usage_debit(s->u, a.id, 70, 100, BIG, &left), USAGE_DEBIT_OK);
	assert_int_equal(left, 0);
	/* Nothing left: refused, nothing taken. */
	assert_int_equal(usage_debit(s->u, a.id, 1, 100, BIG, &left), USAGE_DEBIT_NO_CREDIT);
	assert_int_equal(left, 0);
	assert_int_equal(usage_spent(s->u, a.id), 100);
	assert_int_equal(usage_spent(s->u, a.id + 1), 0);
	/* No store write before the flush; the flush writes the sum once. */
	assert_int_equal(credit_of(s->fx.st, "acme"), 100);
	assert_int_equal(usage_flush(s->u, s->fx.st), TSK_OK);
	assert_int_equal(credit_of(s->fx.st, "acme"), 0);
	assert_int_equal(usage_spent(s->u, a.id), 0);
	assert_int_equal(usage_pending(s->u), 0);
}

/* A balance lowered by another process meanwhile absorbs the spending, down to 0, not below. */
static void
test_debit_floor(void **state)
{
	struct ustate		*s = *state;
	struct store_account	 a;
	int64_t			 left = -1;

	assert_int_equal(store_account_by_name(s->fx.st, "acme", &a), TSK_OK);
	assert_int_equal(usage_debit(s->u, a.id, 50, 100, BIG, &left), USAGE_DEBIT_OK);
	sql_exec(s->fx.path, "UPDATE accounts SET credit = 20 WHERE name = 'acme'");
	assert_int_equal(usage_flush(s->u, s->fx.st), TSK_OK);
	assert_int_equal(credit_of(s->fx.st, "acme"), 0);
}

/*
 * A failed flush keeps the spent credit (it still counts, and the next flush writes it) and
 * refuses every debit, fail closed, until a flush succeeds; notes go on meanwhile.
 */
static void
test_debit_failed_flush(void **state)
{
	struct ustate		*s = *state;
	struct store_account	 a;
	int64_t			 left = -1;

	assert_int_equal(store_account_by_name(s->fx.st, "acme", &a), TSK_OK);
	assert_int_equal(usage_debit(s->u, a.id, 40, 100, BIG, &left), USAGE_DEBIT_OK);
	assert_int_equal(usage_failed(s->u), 0);
	sql_exec(s->fx.path, "CREATE TRIGGER no_spend BEFORE UPDATE ON accounts"
	    " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
	assert_int_not_equal(usage_flush(s->u, s->fx.st), TSK_OK);
	assert_int_equal(usage_failed(s->u), 1);
	assert_int_equal(credit_of(s->fx.st, "acme"), 100);
	assert_int_equal(usage_spent(s->u, a.id), 40);
	assert_int_equal(usage_unwritten(s->u), 40);
	/* Refused even though the credit would cover it; nothing taken. */
	assert_int_equal(usage_debit(s->u, a.id, 1, 100, BIG, &left), USAGE_DEBIT_FAILED);
	assert_int_equal(left, 60);
	assert_int_equal(usage_spent(s->u, a.id), 40);
	assert_int_equal(usage_note(s->u, s->k1, T0), 0);
	/* Still failing: still refused. */
	assert_int_not_equal(usage_flush(s->u, s->fx.st), TSK_OK);
	assert_int_equal(usage_debit(s->u, a.id, 1, 100, BIG, &left), USAGE_DEBIT_FAILED);
	/* The store takes writes again: the next flush writes the 40 and debits go on. */
	sql_exec(s->fx.path, "DROP TRIGGER no_spend");
	assert_int_equal(usage_flush(s->u, s->fx.st), TSK_OK);
	assert_int_equal(usage_failed(s->u), 0);
	assert_int_equal(credit_of(s->fx.st, "acme"), 60);
	assert_int_equal(usage_unwritten(s->u), 0);
	key_usage_is(s->fx.st, s->k1, T0, 1);
	assert_int_equal(usage_debit(s->u, a.id, 61, 60, BIG, &left), USAGE_DEBIT_NO_CREDIT);
	assert_int_equal(usage_debit(s->u, a.id, 60, 60, BIG, &left), USAGE_DEBIT_OK);
	assert_int_equal(left, 0);
}

/* A failed flush of notes only (no credit in it) refuses debits too: the store is the same. */
static void
test_debit_failed_notes_flush(void **state)
{
	struct ustate		*s = *state;
	int64_t			 left = -1;

	assert_int_equal(usage_note(s->u, s->k1, T0), 0);
	sql_exec(s->fx.path, "CREATE TRIGGER no_usage BEFORE UPDATE ON keys"
	    " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
	assert_int_not_equal(usage_flush(s->u, s->fx.st), TSK_OK);
	assert_int_equal(usage_debit(s->u, 1, 1, 100, BIG, &left), USAGE_DEBIT_FAILED);
	sql_exec(s->fx.path, "DROP TRIGGER no_usage");
	assert_int_equal(usage_flush(s->u, s->fx.st), TSK_OK);
	assert_int_equal(usage_debit(s->u, 1, 1, 100, BIG, &left), USAGE_DEBIT_OK);
	/* A flush with nothing to write says nothing about the store: the state stays. */
	assert_int_equal(usage_flush(s->u, s->fx.st), TSK_OK);
	assert_int_equal(usage_failed(s->u), 0);
}

/*
 * The process's unwritten spending, all accounts, stays within max_unwritten: past it a debit is
 * handed to the store (USAGE_DEBIT_STORE, nothing taken here); a flush makes room again.
 */
static void
test_debit_bound(void **state)
{
	struct ustate	*s = *state;
	int64_t		 left = -1;

	assert_int_equal(usage_debit(s->u, 1, 6, 100, 10, &left), USAGE_DEBIT_OK);
	assert_int_equal(usage_debit(s->u, 2, 4, 100, 10, &left), USAGE_DEBIT_OK);
	assert_int_equal(usage_unwritten(s->u), 10);
	/* Another account, plenty of credit: still over the bound. */
	assert_int_equal(usage_debit(s->u, 3, 1, 100, 10, &left), USAGE_DEBIT_STORE);
	assert_int_equal(left, 100);
	assert_int_equal(usage_spent(s->u, 3), 0);
	assert_int_equal(usage_debit(s->u, 1, 1, 100, 10, &left), USAGE_DEBIT_STORE);
	assert_int_equal(left, 94);	/* net of what account 1 spent here */
	assert_int_equal(usage_unwritten(s->u), 10);
	/* No credit is still no credit, bound or not. */
	assert_int_equal(usage_debit(s->u, 1, 95, 100, 10, &left), USAGE_DEBIT_NO_CREDIT);
	/* Accounts 1 to 3 do not exist in the store: the flush writes nothing, yet succeeds. */
	assert_int_equal(usage_flush(s->u, s->fx.st), TSK_OK);
	assert_int_equal(usage_unwritten(s->u), 0);
	assert_int_equal(usage_debit(s->u, 3, 10, 100, 10, &left), USAGE_DEBIT_OK);
	assert_int_equal(usage_debit(s->u, 3, 1, 100, 10, &left), USAGE_DEBIT_STORE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_free),
		cmocka_unit_test_setup_teardown(test_debit_batched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_debit_floor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_debit_failed_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_debit_failed_notes_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_debit_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_is_latest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_flush_keeps_uses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_flush_while_noting, setup, teardown),
		cmocka_unit_test(test_cap),
		cmocka_unit_test_setup_teardown(test_note_during_flush, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
