/* SPDX-License-Identifier: MIT */
/*
 * The sqlite3 key store: schema migrations, and one prepared statement per question asked of it.
 * The only file that includes sqlite3.h. It sees hashes of credentials, never credentials.
 */
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

enum stmt {
	Q_ACCOUNT_INSERT,
	Q_ACCOUNT_BY_NAME,
	Q_ACCOUNT_COUNT,
	Q_ACCOUNT_LIST,
	Q_CREDIT_SET,
	Q_KEY_INSERT,
	Q_KEY_BY_HASH,
	Q_KEY_SET_STATUS,
	Q_KEY_TOUCH,
	Q_KEY_LIST,
	Q_USER_INSERT,
	Q_USER_BY_NAME,
	Q_SESSION_INSERT,
	Q_SESSION_BY_HASH,
	Q_SESSION_TOUCH,
	Q_SESSION_DELETE,
	Q_SESSION_PURGE,
	Q__COUNT
};

static const char *const stmt_sql[Q__COUNT] = {
	[Q_ACCOUNT_INSERT] =
	    "INSERT INTO accounts(name, credit, created_at) VALUES (?1, ?2, ?3)",
	[Q_ACCOUNT_BY_NAME] =
	    "SELECT id, name, credit, created_at FROM accounts WHERE name = ?1",
	[Q_ACCOUNT_COUNT] = "SELECT count(*) FROM accounts",
	[Q_ACCOUNT_LIST] = "SELECT id, name, credit, created_at FROM accounts ORDER BY id",
	[Q_CREDIT_SET] = "UPDATE accounts SET credit = ?2 WHERE id = ?1",
	[Q_KEY_INSERT] =
	    "INSERT INTO keys(account_id, hash, prefix, name, status, created_at, expires_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[Q_KEY_BY_HASH] =
	    "SELECT k.id, k.account_id, a.name, k.name, k.prefix, k.status, k.created_at,"
	    " k.expires_at, k.last_used_at, a.credit"
	    " FROM keys k JOIN accounts a ON a.id = k.account_id WHERE k.hash = ?1",
	[Q_KEY_SET_STATUS] = "UPDATE keys SET status = ?2 WHERE id = ?1",
	[Q_KEY_TOUCH] =
	    "UPDATE keys SET last_used_at = ?2 WHERE id = ?1"
	    " AND (last_used_at IS NULL OR last_used_at < ?2 - ?3)",
	[Q_KEY_LIST] =
	    "SELECT k.id, k.account_id, a.name, k.name, k.prefix, k.status, k.created_at,"
	    " k.expires_at, k.last_used_at, a.credit"
	    " FROM keys k JOIN accounts a ON a.id = k.account_id"
	    " WHERE ?1 = 0 OR k.account_id = ?1 ORDER BY k.id",
	[Q_USER_INSERT] =
	    "INSERT INTO users(account_id, name, pwhash, created_at) VALUES (?1, ?2, ?3, ?4)",
	[Q_USER_BY_NAME] = "SELECT id, account_id, name, pwhash FROM users WHERE name = ?1",
	[Q_SESSION_INSERT] =
	    "INSERT INTO sessions(hash, user_id, account_id, created_at, last_seen_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?4)",
	[Q_SESSION_BY_HASH] =
	    "SELECT s.id, s.user_id, s.account_id, a.name, u.name, s.created_at, s.last_seen_at,"
	    " a.credit FROM sessions s JOIN users u ON u.id = s.user_id"
	    " JOIN accounts a ON a.id = s.account_id WHERE s.hash = ?1",
	[Q_SESSION_TOUCH] =
	    "UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1 AND last_seen_at < ?2 - ?3",
	[Q_SESSION_DELETE] = "DELETE FROM sessions WHERE id = ?1",
	[Q_SESSION_PURGE] = "DELETE FROM sessions WHERE last_seen_at < ?1",
};

/* Each entry moves the schema from version i to i + 1; never edit one that has shipped. */
static const char *const migrations[] = {
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
	"CREATE INDEX sessions_seen ON sessions(last_seen_at);",
};
#define SCHEMA_VERSION	((int)(sizeof(migrations) / sizeof(migrations[0])))

struct store {
	sqlite3		*db;
	sqlite3_stmt	*q[Q__COUNT];
};

static enum tsk_status
fail(struct store *st, const char *what)
{
	log_warnx("store: %s: %s", what, sqlite3_errmsg(st->db));
	return TSK_ERR_STORE;
}

/* Map a step that should have changed a row: constraint violations are the caller's conflict. */
static enum tsk_status
step_done(struct store *st, sqlite3_stmt *q, const char *what)
{
	int	rc = sqlite3_step(q);

	if (rc == SQLITE_DONE)
		return TSK_OK;
	if (rc == SQLITE_CONSTRAINT)
		return TSK_ERR_CONFLICT;
	return fail(st, what);
}

static int
user_version(struct store *st, int *out)
{
	sqlite3_stmt	*q = NULL;
	int		 rc = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(q) != SQLITE_ROW)
		goto out;
	*out = sqlite3_column_int(q, 0);
	rc = 0;
out:
	sqlite3_finalize(q);
	return rc;
}

static enum tsk_status
migrate(struct store *st)
{
	char	pragma[64];
	int	v;

	/* IMMEDIATE: two processes starting at once must not both apply a migration. */
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return fail(st, "begin migration");
	if (user_version(st, &v) != 0)
		goto fail;
	if (v > SCHEMA_VERSION) {
		log_warnx("store: database schema %d is newer than this tskey (%d)", v,
		    SCHEMA_VERSION);
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return TSK_ERR_STORE;
	}
	for (; v < SCHEMA_VERSION; v++) {
		if (sqlite3_exec(st->db, migrations[v], NULL, NULL, NULL) != SQLITE_OK)
			goto fail;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
		if (sqlite3_exec(st->db, pragma, NULL, NULL, NULL) != SQLITE_OK)
			goto fail;
	}
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	return TSK_OK;
fail:
	fail(st, "migration");
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return TSK_ERR_STORE;
}

enum tsk_status
store_open(const char *path, struct store **out)
{
	struct store	*st;
	enum tsk_status	 rc = TSK_ERR_STORE;
	int		 i;

	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		log_warn("store_open");
		return TSK_ERR_INTERNAL;
	}
	/* NOMUTEX: a struct store is used by one thread at a time (see store.h). */
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		if (st->db != NULL)
			fail(st, path);
		else
			log_warnx("store: cannot open %s", path);
		goto out;
	}
	sqlite3_extended_result_codes(st->db, 0);
	sqlite3_busy_timeout(st->db, 5000);
	/*
	 * WAL lets readers run beside the one writer; synchronous=NORMAL in WAL loses nothing
	 * that was acknowledged when the process dies, only on power loss.
	 */
	if (sqlite3_exec(st->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	    "PRAGMA foreign_keys=ON;", NULL, NULL, NULL) != SQLITE_OK) {
		fail(st, "pragmas");
		goto out;
	}
	rc = migrate(st);
	if (rc != TSK_OK)
		goto out;
	for (i = 0; i < Q__COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		    &st->q[i], NULL) != SQLITE_OK) {
			rc = fail(st, stmt_sql[i]);
			goto out;
		}
	}
	*out = st;
	return TSK_OK;
out:
	store_close(st);
	return rc == TSK_OK ? TSK_ERR_STORE : rc;
}

void
store_close(struct store *st)
{
	int	i;

	if (st == NULL)
		return;
	for (i = 0; i < Q__COUNT; i++)
		sqlite3_finalize(st->q[i]);
	sqlite3_close(st->db);
	free(st);
}

static void
copy_text(char *dst, size_t dstsz, sqlite3_stmt *q, int col)
{
	const unsigned char	*s = sqlite3_column_text(q, col);

	snprintf(dst, dstsz, "%s", s != NULL ? (const char *)s : "");
}

/* Run q, which must yield at most one row, into out via fill. */
static enum tsk_status
one_row(struct store *st, sqlite3_stmt *q, void (*fill)(sqlite3_stmt *, void *), void *out,
    const char *what)
{
	enum tsk_status	rc;

	switch (sqlite3_step(q)) {
	case SQLITE_ROW:
		fill(q, out);
		rc = TSK_OK;
		break;
	case SQLITE_DONE:
		rc = TSK_NOT_FOUND;
		break;
	default:
		rc = fail(st, what);
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc;
}

static enum tsk_status
finish(sqlite3_stmt *q, enum tsk_status rc)
{
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc;
}

static int
bind_text(sqlite3_stmt *q, int i, const char *s)
{
	return sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC) != SQLITE_OK;
}

static int
bind_hash(sqlite3_stmt *q, int i, const unsigned char hash[SECRET_HASH_LEN])
{
	return sqlite3_bind_blob(q, i, hash, SECRET_HASH_LEN, SQLITE_STATIC) != SQLITE_OK;
}

enum tsk_status
store_account_create(struct store *st, const char *name, int64_t credit, int64_t now,
    int64_t *id_out)
{
	sqlite3_stmt	*q = st->q[Q_ACCOUNT_INSERT];
	enum tsk_status	 rc;

	if (bind_text(q, 1, name) || sqlite3_bind_int64(q, 2, credit) ||
	    sqlite3_bind_int64(q, 3, now))
		return finish(q, fail(st, "bind"));
	rc = step_done(st, q, "account create");
	if (rc == TSK_OK && id_out != NULL)
		*id_out = sqlite3_last_insert_rowid(st->db);
	return finish(q, rc);
}

static void
fill_account(sqlite3_stmt *q, void *p)
{
	struct store_account	*a = p;

	a->id = sqlite3_column_int64(q, 0);
	copy_text(a->name, sizeof(a->name), q, 1);
	a->credit = sqlite3_column_int64(q, 2);
	a->created_at = sqlite3_column_int64(q, 3);
}

enum tsk_status
store_account_by_name(struct store *st, const char *name, struct store_account *out)
{
	sqlite3_stmt	*q = st->q[Q_ACCOUNT_BY_NAME];

	if (bind_text(q, 1, name))
		return finish(q, fail(st, "bind"));
	return one_row(st, q, fill_account, out, "account by name");
}

static void
fill_int64(sqlite3_stmt *q, void *p)
{
	*(int64_t *)p = sqlite3_column_int64(q, 0);
}

enum tsk_status
store_account_count(struct store *st, int64_t *out)
{
	return one_row(st, st->q[Q_ACCOUNT_COUNT], fill_int64, out, "account count");
}

enum tsk_status
store_credit_set(struct store *st, int64_t account_id, int64_t credit)
{
	sqlite3_stmt	*q = st->q[Q_CREDIT_SET];
	enum tsk_status	 rc;

	if (sqlite3_bind_int64(q, 1, account_id) || sqlite3_bind_int64(q, 2, credit))
		return finish(q, fail(st, "bind"));
	rc = step_done(st, q, "credit set");
	if (rc == TSK_OK && sqlite3_changes(st->db) == 0)
		rc = TSK_NOT_FOUND;
	return finish(q, rc);
}

/* After a loop of SQLITE_ROW steps: the last step says whether the list is whole. */
static enum tsk_status
list_end(struct store *st, sqlite3_stmt *q, int step, const char *what)
{
	if (step != SQLITE_DONE && step != SQLITE_ROW)
		return finish(q, fail(st, what));
	return finish(q, TSK_OK);
}

enum tsk_status
store_account_list(struct store *st, store_account_cb cb, void *arg)
{
	sqlite3_stmt		*q = st->q[Q_ACCOUNT_LIST];
	struct store_account	 a;
	int			 step;

	/* A callback returning non-zero stops the walk early (step stays SQLITE_ROW). */
	for (step = sqlite3_step(q); step == SQLITE_ROW; step = sqlite3_step(q)) {
		fill_account(q, &a);
		if (cb(&a, arg) != 0)
			break;
	}
	return list_end(st, q, step, "account list");
}

enum tsk_status
store_key_insert(struct store *st, const struct store_key *k,
    const unsigned char hash[SECRET_HASH_LEN], int64_t *id_out)
{
	sqlite3_stmt	*q = st->q[Q_KEY_INSERT];
	enum tsk_status	 rc;
	int		 bad;

	bad = sqlite3_bind_int64(q, 1, k->account_id) || bind_hash(q, 2, hash) ||
	    bind_text(q, 3, k->prefix) || bind_text(q, 4, k->name) ||
	    sqlite3_bind_int(q, 5, k->status) || sqlite3_bind_int64(q, 6, k->created_at);
	if (!bad && k->expires_at != 0)
		bad = sqlite3_bind_int64(q, 7, k->expires_at);
	if (bad)
		return finish(q, fail(st, "bind"));
	rc = step_done(st, q, "key insert");
	if (rc == TSK_OK && id_out != NULL)
		*id_out = sqlite3_last_insert_rowid(st->db);
	return finish(q, rc);
}

static void
fill_key(sqlite3_stmt *q, void *p)
{
	struct store_key	*k = p;

	k->id = sqlite3_column_int64(q, 0);
	k->account_id = sqlite3_column_int64(q, 1);
	copy_text(k->account, sizeof(k->account), q, 2);
	copy_text(k->name, sizeof(k->name), q, 3);
	copy_text(k->prefix, sizeof(k->prefix), q, 4);
	k->status = sqlite3_column_int(q, 5);
	k->created_at = sqlite3_column_int64(q, 6);
	k->expires_at = sqlite3_column_int64(q, 7);	/* NULL reads as 0 = never */
	k->last_used_at = sqlite3_column_int64(q, 8);
	k->credit = sqlite3_column_int64(q, 9);
}

enum tsk_status
store_key_by_hash(struct store *st, const unsigned char hash[SECRET_HASH_LEN],
    struct store_key *out)
{
	sqlite3_stmt	*q = st->q[Q_KEY_BY_HASH];

	if (bind_hash(q, 1, hash))
		return finish(q, fail(st, "bind"));
	return one_row(st, q, fill_key, out, "key by hash");
}

/* Run an UPDATE/DELETE bound to (id, a, b); NOT_FOUND when require_change and nothing changed. */
static enum tsk_status
update3(struct store *st, enum stmt which, int64_t id, int64_t a, int64_t b, int nargs,
    int require_change, const char *what)
{
	sqlite3_stmt	*q = st->q[which];
	enum tsk_status	 rc;

	if (sqlite3_bind_int64(q, 1, id) ||
	    (nargs > 1 && sqlite3_bind_int64(q, 2, a)) ||
	    (nargs > 2 && sqlite3_bind_int64(q, 3, b)))
		return finish(q, fail(st, "bind"));
	rc = step_done(st, q, what);
	if (rc == TSK_OK && require_change && sqlite3_changes(st->db) == 0)
		rc = TSK_NOT_FOUND;
	return finish(q, rc);
}

enum tsk_status
store_key_set_status(struct store *st, int64_t key_id, int status)
{
	return update3(st, Q_KEY_SET_STATUS, key_id, status, 0, 2, 1, "key status");
}

enum tsk_status
store_key_touch(struct store *st, int64_t key_id, int64_t now, int64_t slack)
{
	return update3(st, Q_KEY_TOUCH, key_id, now, slack, 3, 0, "key touch");
}

enum tsk_status
store_key_list(struct store *st, int64_t account_id, store_key_cb cb, void *arg)
{
	sqlite3_stmt		*q = st->q[Q_KEY_LIST];
	struct store_key	 k;
	int			 step;

	if (sqlite3_bind_int64(q, 1, account_id))
		return finish(q, fail(st, "bind"));
	for (step = sqlite3_step(q); step == SQLITE_ROW; step = sqlite3_step(q)) {
		fill_key(q, &k);
		if (cb(&k, arg) != 0)
			break;
	}
	return list_end(st, q, step, "key list");
}

enum tsk_status
store_user_create(struct store *st, int64_t account_id, const char *name, const char *pwhash,
    int64_t now)
{
	sqlite3_stmt	*q = st->q[Q_USER_INSERT];

	if (sqlite3_bind_int64(q, 1, account_id) || bind_text(q, 2, name) ||
	    bind_text(q, 3, pwhash) || sqlite3_bind_int64(q, 4, now))
		return finish(q, fail(st, "bind"));
	return finish(q, step_done(st, q, "user create"));
}

static void
fill_user(sqlite3_stmt *q, void *p)
{
	struct store_user	*u = p;

	u->id = sqlite3_column_int64(q, 0);
	u->account_id = sqlite3_column_int64(q, 1);
	copy_text(u->name, sizeof(u->name), q, 2);
	copy_text(u->pwhash, sizeof(u->pwhash), q, 3);
}

enum tsk_status
store_user_by_name(struct store *st, const char *name, struct store_user *out)
{
	sqlite3_stmt	*q = st->q[Q_USER_BY_NAME];

	if (bind_text(q, 1, name))
		return finish(q, fail(st, "bind"));
	return one_row(st, q, fill_user, out, "user by name");
}

enum tsk_status
store_session_insert(struct store *st, const unsigned char hash[SECRET_HASH_LEN],
    int64_t user_id, int64_t account_id, int64_t now)
{
	sqlite3_stmt	*q = st->q[Q_SESSION_INSERT];

	if (bind_hash(q, 1, hash) || sqlite3_bind_int64(q, 2, user_id) ||
	    sqlite3_bind_int64(q, 3, account_id) || sqlite3_bind_int64(q, 4, now))
		return finish(q, fail(st, "bind"));
	return finish(q, step_done(st, q, "session insert"));
}

static void
fill_session(sqlite3_stmt *q, void *p)
{
	struct store_session	*s = p;

	s->id = sqlite3_column_int64(q, 0);
	s->user_id = sqlite3_column_int64(q, 1);
	s->account_id = sqlite3_column_int64(q, 2);
	copy_text(s->account, sizeof(s->account), q, 3);
	copy_text(s->user, sizeof(s->user), q, 4);
	s->created_at = sqlite3_column_int64(q, 5);
	s->last_seen_at = sqlite3_column_int64(q, 6);
	s->credit = sqlite3_column_int64(q, 7);
}

enum tsk_status
store_session_by_hash(struct store *st, const unsigned char hash[SECRET_HASH_LEN],
    struct store_session *out)
{
	sqlite3_stmt	*q = st->q[Q_SESSION_BY_HASH];

	if (bind_hash(q, 1, hash))
		return finish(q, fail(st, "bind"));
	return one_row(st, q, fill_session, out, "session by hash");
}

enum tsk_status
store_session_touch(struct store *st, int64_t session_id, int64_t now, int64_t slack)
{
	return update3(st, Q_SESSION_TOUCH, session_id, now, slack, 3, 0, "session touch");
}

enum tsk_status
store_session_delete(struct store *st, int64_t session_id)
{
	return update3(st, Q_SESSION_DELETE, session_id, 0, 0, 1, 1, "session delete");
}

enum tsk_status
store_session_purge(struct store *st, int64_t before, int64_t *n_out)
{
	enum tsk_status	rc;

	rc = update3(st, Q_SESSION_PURGE, before, 0, 0, 1, 0, "session purge");
	if (rc == TSK_OK && n_out != NULL)
		*n_out = sqlite3_changes(st->db);
	return rc;
}
