/* SPDX-License-Identifier: MIT */
/* The audit trail: one row per lifecycle change, appended and read, never changed. */
#include "store_int.h"

enum tsk_status
store_audit_append(struct store *st, const struct store_audit *a)
{
	sqlite3_stmt	*q = st->q[Q_AUDIT_INSERT];
	int		 bad;

	bad = sqlite3_bind_int64(q, 1, a->at) || store_bind_text(q, 2, a->actor) ||
	    store_bind_text(q, 3, a->action) || store_bind_text(q, 5, a->target) ||
	    store_bind_text(q, 6, a->client) || store_bind_text(q, 7, a->request_id) ||
	    store_bind_text(q, 8, a->detail[0] != '\0' ? a->detail : "{}");
	if (!bad && a->account_id != 0)
		bad = sqlite3_bind_int64(q, 4, a->account_id);
	if (bad)
		return store_finish(q, store_fail(st, "bind"));
	return store_finish(q, store_step_done(st, q, "audit append"));
}

static void
fill_audit(sqlite3_stmt *q, struct store_audit *a)
{
	a->id = sqlite3_column_int64(q, 0);
	a->at = sqlite3_column_int64(q, 1);
	store_copy_text(a->actor, sizeof(a->actor), q, 2);
	store_copy_text(a->action, sizeof(a->action), q, 3);
	a->account_id = sqlite3_column_int64(q, 4);
	store_copy_text(a->target, sizeof(a->target), q, 5);
	store_copy_text(a->client, sizeof(a->client), q, 6);
	store_copy_text(a->request_id, sizeof(a->request_id), q, 7);
	store_copy_text(a->detail, sizeof(a->detail), q, 8);
}

enum tsk_status
store_audit_list(struct store *st, int64_t account_id, int64_t before, int limit,
    store_audit_cb cb, void *arg)
{
	sqlite3_stmt		*q = st->q[Q_AUDIT_LIST];
	struct store_audit	 a;
	int			 step;

	if (sqlite3_bind_int64(q, 1, account_id) || sqlite3_bind_int64(q, 2, before) ||
	    sqlite3_bind_int(q, 3, limit))
		return store_finish(q, store_fail(st, "bind"));
	for (step = sqlite3_step(q); step == SQLITE_ROW; step = sqlite3_step(q)) {
		fill_audit(q, &a);
		if (cb(&a, arg) != 0)
			break;
	}
	return store_list_end(st, q, step, "audit list");
}
