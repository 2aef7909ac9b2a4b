/* SPDX-License-Identifier: MIT */
/*
 * What the operator sees of the store: the counts behind GET /metrics, the read behind
 * GET /readyz, and the connection's error count. Read-only; asked at scrape or probe time only,
 * so the statements are prepared per call rather than kept on every connection.
 */
#include "store_int.h"

/* The same test as Q_KEY_COUNT_ACTIVE, over every account. */
#define SQL_KEYS_ACTIVE \
	"SELECT count(*) FROM keys WHERE status = 1" \
	" AND (expires_at IS NULL OR expires_at > ?1) AND (stops_at IS NULL OR stops_at > ?1)"
/* sessions_seen is an index on last_seen_at: this reads the live ones only. */
#define SQL_SESSIONS_LIVE	"SELECT count(*) FROM sessions WHERE last_seen_at >= ?1"
/* Needs a read transaction and the keys table's root page: what every check needs. */
#define SQL_PING		"SELECT count(*) FROM (SELECT 1 FROM keys LIMIT 1)"

uint64_t
store_errors_take(struct store *st)
{
	uint64_t	n = st->errors;

	st->errors = 0;
	return n;
}

/* Run sql (one int64 bind, or none when bind < 0) for one count into *out. */
static enum tsk_status
count(struct store *st, const char *sql, int64_t bind, int64_t *out, const char *what)
{
	sqlite3_stmt	*q = NULL;
	enum tsk_status	 rc = TSK_ERR_STORE;

	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) {
		store_fail(st, what);
		goto out;
	}
	if (bind >= 0 && sqlite3_bind_int64(q, 1, bind) != SQLITE_OK) {
		store_fail(st, what);
		goto out;
	}
	if (sqlite3_step(q) != SQLITE_ROW) {
		store_fail(st, what);
		goto out;
	}
	*out = sqlite3_column_int64(q, 0);
	rc = TSK_OK;
out:
	sqlite3_finalize(q);
	return rc;
}

enum tsk_status
store_stats(struct store *st, int64_t now, int64_t session_idle, struct store_stats *out)
{
	struct store_stats	s;
	enum tsk_status		rc;

	rc = count(st, SQL_KEYS_ACTIVE, now, &s.keys_active, "stats: keys");
	if (rc == TSK_OK)
		rc = count(st, SQL_SESSIONS_LIVE, now - session_idle, &s.sessions_live,
		    "stats: sessions");
	if (rc == TSK_OK)
		*out = s;
	return rc;
}

enum tsk_status
store_ping(struct store *st)
{
	int64_t	n;

	return count(st, SQL_PING, -1, &n, "ping");
}
