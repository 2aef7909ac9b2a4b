/* SPDX-License-Identifier: MIT */
/* Keys in the store: insert, look up by hash or id, lifecycle changes, batched usage, lists. */
#include "keycache.h"
#include "store_int.h"

#include <string.h>

enum tsk_status
store_key_insert(struct store *st, const struct store_key *k,
    const unsigned char hash[SECRET_HASH_LEN], int64_t *id_out)
{
	sqlite3_stmt	*q = st->q[Q_KEY_INSERT];
	enum tsk_status	 rc;
	int		 bad;

	bad = sqlite3_bind_int64(q, 1, k->account_id) || store_bind_hash(q, 2, hash) ||
	    store_bind_text(q, 3, k->prefix) || store_bind_text(q, 4, k->name) ||
	    sqlite3_bind_int(q, 5, k->status) || sqlite3_bind_int64(q, 6, k->created_at) ||
	    store_bind_text(q, 8, k->env) || store_bind_text(q, 9, k->scopes) ||
	    store_bind_text(q, 10, k->ip_allow) || sqlite3_bind_int64(q, 11, k->rate_minute) ||
	    sqlite3_bind_int64(q, 12, k->rate_day) || sqlite3_bind_int(q, 13, k->platform);
	/* Unbound parameters are NULL: "never" and "none". */
	if (!bad && k->expires_at != 0)
		bad = sqlite3_bind_int64(q, 7, k->expires_at);
	if (!bad && k->rotated_from != 0)
		bad = sqlite3_bind_int64(q, 14, k->rotated_from);
	if (bad)
		return store_finish(q, store_fail(st, "bind"));
	rc = store_step_done(st, q, "key insert");
	if (rc == TSK_OK && id_out != NULL)
		*id_out = sqlite3_last_insert_rowid(st->db);
	return store_finish(q, rc);
}

static void
fill_key(sqlite3_stmt *q, void *p)
{
	struct store_key	*k = p;

	k->id = sqlite3_column_int64(q, 0);
	k->account_id = sqlite3_column_int64(q, 1);
	store_copy_text(k->account, sizeof(k->account), q, 2);
	store_copy_text(k->name, sizeof(k->name), q, 3);
	store_copy_text(k->prefix, sizeof(k->prefix), q, 4);
	k->status = sqlite3_column_int(q, 5);
	k->created_at = sqlite3_column_int64(q, 6);
	k->expires_at = sqlite3_column_int64(q, 7);	/* NULL reads as 0 = never */
	k->last_used_at = sqlite3_column_int64(q, 8);
	k->credit = sqlite3_column_int64(q, 9);
	store_copy_text(k->env, sizeof(k->env), q, 10);
	store_copy_text(k->scopes, sizeof(k->scopes), q, 11);
	store_copy_text(k->ip_allow, sizeof(k->ip_allow), q, 12);
	k->rate_minute = sqlite3_column_int64(q, 13);
	k->rate_day = sqlite3_column_int64(q, 14);
	k->stops_at = sqlite3_column_int64(q, 15);
	k->platform = sqlite3_column_int(q, 16);
	k->rotated_from = sqlite3_column_int64(q, 17);
	k->use_count = sqlite3_column_int64(q, 18);
	k->monthly_allowance = sqlite3_column_int64(q, 19);
	store_copy_text(k->allowance_month, sizeof(k->allowance_month), q, 20);
}

enum tsk_status
store_key_by_hash(struct store *st, const unsigned char hash[SECRET_HASH_LEN],
    struct store_key *out)
{
	sqlite3_stmt	*q = st->q[Q_KEY_BY_HASH];
	enum tsk_status	 rc;
	int64_t		 gen = -1;

	/*
	 * The generation is read before the row: a row read after it is at least as new as it,
	 * so an entry never carries a generation newer than its data (keycache.h).
	 */
	if (st->cache != NULL && store_changes_gen(st, &gen) == TSK_OK &&
	    keycache_get(st->cache, hash, gen, out))
		return TSK_OK;
	if (store_bind_hash(q, 1, hash))
		return store_finish(q, store_fail(st, "bind"));
	rc = store_one_row(st, q, fill_key, out, "key by hash");
	if (rc == TSK_OK && st->cache != NULL && gen >= 0)
		keycache_put(st->cache, hash, gen, out);
	return rc;
}

enum tsk_status
store_key_by_id(struct store *st, int64_t key_id, struct store_key *out)
{
	sqlite3_stmt	*q = st->q[Q_KEY_BY_ID];

	if (sqlite3_bind_int64(q, 1, key_id))
		return store_finish(q, store_fail(st, "bind"));
	return store_one_row(st, q, fill_key, out, "key by id");
}

enum tsk_status
store_key_set_status(struct store *st, int64_t key_id, int status)
{
	return store_update3(st, Q_KEY_SET_STATUS, key_id, status, 0, 2, 1, "key status");
}

enum tsk_status
store_key_set_stops(struct store *st, int64_t key_id, int64_t stops_at)
{
	return store_update3(st, Q_KEY_SET_STOPS, key_id, stops_at, 0, 2, 1, "key stops");
}

enum tsk_status
store_key_delete(struct store *st, int64_t key_id)
{
	return store_update3(st, Q_KEY_DELETE, key_id, 0, 0, 1, 1, "key delete");
}

enum tsk_status
store_key_usage(struct store *st, int64_t key_id, int64_t last, int64_t count, int64_t soap,
    int64_t last_soap)
{
	sqlite3_stmt	*q = st->q[Q_KEY_USAGE];

	/* The key may have been deleted since it was used: nothing to record then. */
	if (sqlite3_bind_int64(q, 1, key_id) || sqlite3_bind_int64(q, 2, last) ||
	    sqlite3_bind_int64(q, 3, count) || sqlite3_bind_int64(q, 4, soap) ||
	    sqlite3_bind_int64(q, 5, last_soap))
		return store_finish(q, store_fail(st, "bind"));
	return store_finish(q, store_step_done(st, q, "key usage"));
}

enum tsk_status
store_key_list(struct store *st, int64_t account_id, store_key_cb cb, void *arg)
{
	sqlite3_stmt		*q = st->q[Q_KEY_LIST];
	struct store_key	 k;
	int			 step;

	if (sqlite3_bind_int64(q, 1, account_id))
		return store_finish(q, store_fail(st, "bind"));
	/* A callback returning non-zero stops the walk early (step stays SQLITE_ROW). */
	for (step = sqlite3_step(q); step == SQLITE_ROW; step = sqlite3_step(q)) {
		fill_key(q, &k);
		if (cb(&k, arg) != 0)
			break;
	}
	return store_list_end(st, q, step, "key list");
}

static void
fill_count(sqlite3_stmt *q, void *p)
{
	*(int64_t *)p = sqlite3_column_int64(q, 0);
}

enum tsk_status
store_key_count_active(struct store *st, int64_t account_id, int64_t now, int64_t *out)
{
	sqlite3_stmt	*q = st->q[Q_KEY_COUNT_ACTIVE];

	if (sqlite3_bind_int64(q, 1, account_id) || sqlite3_bind_int64(q, 2, now))
		return store_finish(q, store_fail(st, "bind"));
	return store_one_row(st, q, fill_count, out, "key count");
}
