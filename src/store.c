/* SPDX-License-Identifier: MIT */
/*
 * The sqlite3 key store: schema migrations, the SQL of every statement, and accounts, users and
 * sessions (keys are in store_key.c, the audit trail in store_audit.c). It sees hashes of
 * credentials, never credentials.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define ACCOUNT_COLS \
	"SELECT id, name, credit, created_at, monthly_allowance, allowance_month FROM accounts"
#define KEY_COLS \
	"SELECT k.id, k.account_id, a.name, k.name, k.prefix, k.status, k.created_at,"\
	    " k.expires_at, k.last_used_at, a.credit, k.env, k.scopes, k.ip_allow, k.rate_minute,"\
	    " k.rate_day, k.stops_at, k.platform, k.rotated_from, k.use_count,"\
	    " a.monthly_allowance, a.allowance_month"\
	    " FROM keys k JOIN accounts a ON a.id = k.account_id"
#define USER_COLS \
	"SELECT id, account_id, name, pwhash, kind, created_at, password_changed_at FROM users"

static const char *const stmt_sql[Q__COUNT] = {
	[Q_ACCOUNT_INSERT] =
	    "INSERT INTO accounts(name, credit, created_at) VALUES (?1, ?2, ?3)",
	[Q_ACCOUNT_BY_NAME] = ACCOUNT_COLS " WHERE name = ?1",
	[Q_ACCOUNT_BY_ID] = ACCOUNT_COLS " WHERE id = ?1",
	[Q_ACCOUNT_COUNT] = "SELECT count(*) FROM accounts",
	[Q_ACCOUNT_LIST] = ACCOUNT_COLS " ORDER BY id",
	[Q_CREDIT_SET] = "UPDATE accounts SET credit = ?2 WHERE id = ?1",
	[Q_CREDIT_ADD] = "UPDATE accounts SET credit = credit + ?2 WHERE id = ?1",
	[Q_CREDIT_DEBIT] = "UPDATE accounts SET credit = credit - ?2 WHERE id = ?1 AND credit - ?2 >= ?3",
	[Q_CREDIT_SPEND] = "UPDATE accounts SET credit = max(0, credit - ?2) WHERE id = ?1",
	[Q_ALLOWANCE_SET] = "UPDATE accounts SET monthly_allowance = ?2 WHERE id = ?1",
	[Q_ALLOWANCE_REFILL] =
	    "UPDATE accounts SET credit = max(credit, monthly_allowance), allowance_month = ?2"
	    " WHERE id = ?1 AND monthly_allowance > 0 AND allowance_month <> ?2",
	[Q_KEY_INSERT] =
	    "INSERT INTO keys(account_id, hash, prefix, name, status, created_at, expires_at,"
	    " env, scopes, ip_allow, rate_minute, rate_day, platform, rotated_from)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
	[Q_KEY_BY_HASH] = KEY_COLS " WHERE k.hash = ?1",
	[Q_KEY_BY_ID] = KEY_COLS " WHERE k.id = ?1",
	[Q_KEY_SET_STATUS] = "UPDATE keys SET status = ?2 WHERE id = ?1",
	[Q_KEY_SET_STOPS] = "UPDATE keys SET stops_at = ?2 WHERE id = ?1",
	[Q_KEY_DELETE] = "DELETE FROM keys WHERE id = ?1",
	[Q_KEY_USAGE] =
	    "UPDATE keys SET last_used_at = max(coalesce(last_used_at, 0), ?2),"
	    " use_count = use_count + ?3, soap_uses = soap_uses + ?4,"
	    " last_soap_at = CASE WHEN ?5 > coalesce(last_soap_at, 0) THEN ?5 ELSE last_soap_at END"
	    " WHERE id = ?1",
	[Q_USER_USAGE] =
	    "UPDATE users SET session_rest_uses = session_rest_uses + ?2,"
	    " session_soap_uses = session_soap_uses + ?3,"
	    " last_soap_at = CASE WHEN ?4 > coalesce(last_soap_at, 0) THEN ?4 ELSE last_soap_at END"
	    " WHERE id = ?1",
	[Q_USER_LOGIN] =
	    "UPDATE users SET logins = logins + 1, last_login_at = ?2 WHERE id = ?1",
	[Q_MIGRATION_LIST] =
	    "SELECT 'key', k.id, k.account_id, a.name, k.name, k.prefix, 0, k.soap_uses,"
	    " k.use_count - k.soap_uses, 0, k.last_soap_at"
	    " FROM keys k JOIN accounts a ON a.id = k.account_id"
	    " WHERE (?1 = 0 OR k.account_id = ?1) AND k.last_soap_at >= ?2"
	    " UNION ALL"
	    " SELECT 'user', u.id, u.account_id, a.name, u.name, '', u.session_soap_uses, 0,"
	    " u.session_rest_uses, u.logins,"
	    " max(coalesce(u.last_soap_at, 0), coalesce(u.last_login_at, 0))"
	    " FROM users u JOIN accounts a ON a.id = u.account_id"
	    " WHERE (?1 = 0 OR u.account_id = ?1)"
	    " AND max(coalesce(u.last_soap_at, 0), coalesce(u.last_login_at, 0)) >= max(?2, 1)"
	    " ORDER BY 11 DESC, 1, 2",
	[Q_KEY_LIST] = KEY_COLS " WHERE ?1 = 0 OR k.account_id = ?1 ORDER BY k.id",
	[Q_KEY_COUNT_ACTIVE] =
	    "SELECT count(*) FROM keys WHERE account_id = ?1 AND status = 1"
	    " AND (expires_at IS NULL OR expires_at > ?2) AND (stops_at IS NULL OR stops_at > ?2)",
	[Q_USER_INSERT] =
	    "INSERT INTO users(account_id, name, pwhash, kind, created_at, password_changed_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
	[Q_USER_BY_NAME] = USER_COLS " WHERE name = ?1",
	[Q_USER_LIST] = USER_COLS " WHERE ?1 = 0 OR account_id = ?1 ORDER BY id",
	[Q_SESSION_INSERT] =
	    "INSERT INTO sessions(hash, user_id, account_id, created_at, last_seen_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?4)",
	[Q_SESSION_BY_HASH] =
	    "SELECT s.id, s.user_id, s.account_id, a.name, u.name, s.created_at, s.last_seen_at,"
	    " a.credit, a.monthly_allowance, a.allowance_month"
	    " FROM sessions s JOIN users u ON u.id = s.user_id"
	    " JOIN accounts a ON a.id = s.account_id WHERE s.hash = ?1",
	[Q_SESSION_TOUCH] =
	    "UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1 AND last_seen_at < ?2 - ?3",
	[Q_SESSION_DELETE] = "DELETE FROM sessions WHERE id = ?1",
	[Q_SESSION_PURGE] = "DELETE FROM sessions WHERE last_seen_at < ?1",
	[Q_AUDIT_INSERT] =
	    "INSERT INTO audit(at, actor, action, account_id, target, client, request_id, detail)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[Q_AUDIT_LIST] =
	    "SELECT id, at, actor, action, coalesce(account_id, 0), target, client, request_id,"
	    " detail FROM audit WHERE (?1 = 0 OR account_id = ?1) AND (?2 = 0 OR id < ?2)"
	    " ORDER BY id DESC LIMIT ?3",
	[Q_CHANGES_GEN] = "SELECT gen FROM changes WHERE id = 1",
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

	/* 2: key lifecycle and policy, API users, monthly allowances, the audit trail */
	"ALTER TABLE keys ADD COLUMN env TEXT NOT NULL DEFAULT 'live';"
	"ALTER TABLE keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'credit:read';"
	"ALTER TABLE keys ADD COLUMN ip_allow TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE keys ADD COLUMN rate_minute INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE keys ADD COLUMN rate_day INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE keys ADD COLUMN stops_at INTEGER;"
	"ALTER TABLE keys ADD COLUMN platform INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE keys ADD COLUMN rotated_from INTEGER;"
	"ALTER TABLE keys ADD COLUMN use_count INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE accounts ADD COLUMN monthly_allowance INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE accounts ADD COLUMN allowance_month TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE users ADD COLUMN kind INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE users ADD COLUMN password_changed_at INTEGER NOT NULL DEFAULT 0;"
	"UPDATE users SET password_changed_at = created_at;"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  account_id INTEGER,"
	"  target TEXT NOT NULL DEFAULT '',"
	"  client TEXT NOT NULL DEFAULT '',"
	"  request_id TEXT NOT NULL DEFAULT '',"
	"  detail TEXT NOT NULL DEFAULT '{}');"
	"CREATE INDEX audit_account ON audit(account_id, id);"
	"CREATE TRIGGER audit_append_only_u BEFORE UPDATE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
	"CREATE TRIGGER audit_append_only_d BEFORE DELETE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
	/* INSERT OR REPLACE deletes without DELETE triggers (recursive_triggers is off). */
	"CREATE TRIGGER audit_append_only_r BEFORE INSERT ON audit"
	"  WHEN EXISTS (SELECT 1 FROM audit WHERE id = NEW.id)"
	"  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;",

	/* 3: migration telemetry: uses by path, Login and the last legacy use */
	"ALTER TABLE keys ADD COLUMN soap_uses INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE keys ADD COLUMN last_soap_at INTEGER;"
	"ALTER TABLE users ADD COLUMN logins INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE users ADD COLUMN last_login_at INTEGER;"
	"ALTER TABLE users ADD COLUMN session_soap_uses INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE users ADD COLUMN session_rest_uses INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE users ADD COLUMN last_soap_at INTEGER;",

	/*
	 * 4: the change generation the key cache checks (keycache.h): any change to a key or an
	 * account, by this process or another (the CLI, a second server), raises it.
	 */
	"CREATE TABLE changes (id INTEGER PRIMARY KEY CHECK (id = 1), gen INTEGER NOT NULL);"
	"INSERT INTO changes VALUES (1, 0);"
	"CREATE TRIGGER keys_changed_i AFTER INSERT ON keys"
	"  BEGIN UPDATE changes SET gen = gen + 1 WHERE id = 1; END;"
	"CREATE TRIGGER keys_changed_u AFTER UPDATE ON keys"
	"  BEGIN UPDATE changes SET gen = gen + 1 WHERE id = 1; END;"
	"CREATE TRIGGER keys_changed_d AFTER DELETE ON keys"
	"  BEGIN UPDATE changes SET gen = gen + 1 WHERE id = 1; END;"
	"CREATE TRIGGER accounts_changed_i AFTER INSERT ON accounts"
	"  BEGIN UPDATE changes SET gen = gen + 1 WHERE id = 1; END;"
	"CREATE TRIGGER accounts_changed_u AFTER UPDATE ON accounts"
	"  BEGIN UPDATE changes SET gen = gen + 1 WHERE id = 1; END;"
	"CREATE TRIGGER accounts_changed_d AFTER DELETE ON accounts"
	"  BEGIN UPDATE changes SET gen = gen + 1 WHERE id = 1; END;",
};
#define SCHEMA_VERSION	((int)(sizeof(migrations) / sizeof(migrations[0])))

enum tsk_status
store_fail(struct store *st, const char *what)
{
	st->errors++;
	log_warnx("store: %s: %s", what, sqlite3_errmsg(st->db));
	return TSK_ERR_STORE;
}

/* Map a step that should have changed a row: constraint violations are the caller's conflict. */
enum tsk_status
store_step_done(struct store *st, sqlite3_stmt *q, const char *what)
{
	int	rc = sqlite3_step(q);

	if (rc == SQLITE_DONE)
		return TSK_OK;
	if (rc == SQLITE_CONSTRAINT)
		return TSK_ERR_CONFLICT;
	return store_fail(st, what);
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

	/*
	 * Up to date (the common case): no write lock, so opening a connection works while
	 * another process writes. Else IMMEDIATE, so two processes starting at once do not both
	 * migrate, and look again inside it.
	 */
	if (user_version(st, &v) == 0 && v == SCHEMA_VERSION)
		return TSK_OK;
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(st, "begin migration");
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
	store_fail(st, "migration");
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
			store_fail(st, path);
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
		store_fail(st, "pragmas");
		goto out;
	}
	rc = migrate(st);
	if (rc != TSK_OK)
		goto out;
	for (i = 0; i < Q__COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		    &st->q[i], NULL) != SQLITE_OK) {
			rc = store_fail(st, stmt_sql[i]);
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
store_use_cache(struct store *st, struct keycache *kc)
{
	st->cache = kc;
}

static void
fill_gen(sqlite3_stmt *q, void *out)
{
	*(int64_t *)out = sqlite3_column_int64(q, 0);
}

enum tsk_status
store_changes_gen(struct store *st, int64_t *gen)
{
	return store_one_row(st, st->q[Q_CHANGES_GEN], fill_gen, gen, "change generation");
}

int
store_readonly(struct store *st)
{
	return sqlite3_db_readonly(st->db, "main") == 1;
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

void
store_copy_text(char *dst, size_t dstsz, sqlite3_stmt *q, int col)
{
	const unsigned char	*s = sqlite3_column_text(q, col);

	snprintf(dst, dstsz, "%s", s != NULL ? (const char *)s : "");
}

/* Run q, which must yield at most one row, into out via fill. */
enum tsk_status
store_one_row(struct store *st, sqlite3_stmt *q, void (*fill)(sqlite3_stmt *, void *), void *out,
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
		rc = store_fail(st, what);
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc;
}

enum tsk_status
store_finish(sqlite3_stmt *q, enum tsk_status rc)
{
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc;
}

int
store_bind_text(sqlite3_stmt *q, int i, const char *s)
{
	return sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC) != SQLITE_OK;
}

int
store_bind_hash(sqlite3_stmt *q, int i, const unsigned char hash[SECRET_HASH_LEN])
{
	return sqlite3_bind_blob(q, i, hash, SECRET_HASH_LEN, SQLITE_STATIC) != SQLITE_OK;
}

enum tsk_status
store_account_create(struct store *st, const char *name, int64_t credit, int64_t now,
    int64_t *id_out)
{
	sqlite3_stmt	*q = st->q[Q_ACCOUNT_INSERT];
	enum tsk_status	 rc;

	if (store_bind_text(q, 1, name) || sqlite3_bind_int64(q, 2, credit) ||
	    sqlite3_bind_int64(q, 3, now))
		return store_finish(q, store_fail(st, "bind"));
	rc = store_step_done(st, q, "account create");
	if (rc == TSK_OK && id_out != NULL)
		*id_out = sqlite3_last_insert_rowid(st->db);
	return store_finish(q, rc);
}

static void
fill_account(sqlite3_stmt *q, void *p)
{
	struct store_account	*a = p;

	a->id = sqlite3_column_int64(q, 0);
	store_copy_text(a->name, sizeof(a->name), q, 1);
	a->credit = sqlite3_column_int64(q, 2);
	a->created_at = sqlite3_column_int64(q, 3);
	a->monthly_allowance = sqlite3_column_int64(q, 4);
	store_copy_text(a->allowance_month, sizeof(a->allowance_month), q, 5);
}

enum tsk_status
store_account_by_name(struct store *st, const char *name, struct store_account *out)
{
	sqlite3_stmt	*q = st->q[Q_ACCOUNT_BY_NAME];

	if (store_bind_text(q, 1, name))
		return store_finish(q, store_fail(st, "bind"));
	return store_one_row(st, q, fill_account, out, "account by name");
}

enum tsk_status
store_account_by_id(struct store *st, int64_t id, struct store_account *out)
{
	sqlite3_stmt	*q = st->q[Q_ACCOUNT_BY_ID];

	if (sqlite3_bind_int64(q, 1, id))
		return store_finish(q, store_fail(st, "bind"));
	return store_one_row(st, q, fill_account, out, "account by id");
}

static void
fill_int64(sqlite3_stmt *q, void *p)
{
	*(int64_t *)p = sqlite3_column_int64(q, 0);
}

enum tsk_status
store_account_count(struct store *st, int64_t *out)
{
	return store_one_row(st, st->q[Q_ACCOUNT_COUNT], fill_int64, out, "account count");
}

enum tsk_status
store_credit_set(struct store *st, int64_t account_id, int64_t credit)
{
	return store_update3(st, Q_CREDIT_SET, account_id, credit, 0, 2, 1, "credit set");
}

enum tsk_status
store_credit_add(struct store *st, int64_t account_id, int64_t delta)
{
	return store_update3(st, Q_CREDIT_ADD, account_id, delta, 0, 2, 1, "credit add");
}

enum tsk_status
store_credit_debit(struct store *st, int64_t account_id, int64_t cost, int64_t keep)
{
	enum tsk_status	rc;

	/* One conditional UPDATE: two requests racing for the last credit cannot both win. */
	rc = store_update3(st, Q_CREDIT_DEBIT, account_id, cost, keep, 3, 1, "credit debit");
	return rc == TSK_NOT_FOUND ? TSK_ERR_CONFLICT : rc;
}

enum tsk_status
store_credit_spend(struct store *st, int64_t account_id, int64_t spent)
{
	/* The account may have gone meanwhile: nothing to take from then. */
	return store_update3(st, Q_CREDIT_SPEND, account_id, spent, 0, 2, 0, "credit spend");
}

enum tsk_status
store_allowance_set(struct store *st, int64_t account_id, int64_t allowance)
{
	return store_update3(st, Q_ALLOWANCE_SET, account_id, allowance, 0, 2, 1,
	    "allowance set");
}

enum tsk_status
store_allowance_refill(struct store *st, int64_t account_id, const char *month)
{
	sqlite3_stmt	*q = st->q[Q_ALLOWANCE_REFILL];

	if (sqlite3_bind_int64(q, 1, account_id) || store_bind_text(q, 2, month))
		return store_finish(q, store_fail(st, "bind"));
	return store_finish(q, store_step_done(st, q, "allowance refill"));
}

enum tsk_status
store_transaction(struct store *st, enum tsk_status (*fn)(struct store *, void *), void *arg)
{
	enum tsk_status	rc;

	/* IMMEDIATE takes the write lock up front: a check and the change it guards stay one. */
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(st, "begin");
	rc = fn(st, arg);
	if (rc == TSK_OK && sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = store_fail(st, "commit");
	if (rc != TSK_OK)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* After a loop of SQLITE_ROW steps: the last step says whether the list is whole. */
enum tsk_status
store_list_end(struct store *st, sqlite3_stmt *q, int step, const char *what)
{
	if (step != SQLITE_DONE && step != SQLITE_ROW)
		return store_finish(q, store_fail(st, what));
	return store_finish(q, TSK_OK);
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
	return store_list_end(st, q, step, "account list");
}

/* Run an UPDATE/DELETE bound to (id, a, b); NOT_FOUND when require_change and nothing changed. */
enum tsk_status
store_update3(struct store *st, enum stmt which, int64_t id, int64_t a, int64_t b, int nargs,
    int require_change, const char *what)
{
	sqlite3_stmt	*q = st->q[which];
	enum tsk_status	 rc;

	if (sqlite3_bind_int64(q, 1, id) ||
	    (nargs > 1 && sqlite3_bind_int64(q, 2, a)) ||
	    (nargs > 2 && sqlite3_bind_int64(q, 3, b)))
		return store_finish(q, store_fail(st, "bind"));
	rc = store_step_done(st, q, what);
	if (rc == TSK_OK && require_change && sqlite3_changes(st->db) == 0)
		rc = TSK_NOT_FOUND;
	return store_finish(q, rc);
}

enum tsk_status
store_user_create(struct store *st, int64_t account_id, const char *name, const char *pwhash,
    int kind, int64_t now)
{
	sqlite3_stmt	*q = st->q[Q_USER_INSERT];

	if (sqlite3_bind_int64(q, 1, account_id) || store_bind_text(q, 2, name) ||
	    store_bind_text(q, 3, pwhash) || sqlite3_bind_int(q, 4, kind) ||
	    sqlite3_bind_int64(q, 5, now))
		return store_finish(q, store_fail(st, "bind"));
	return store_finish(q, store_step_done(st, q, "user create"));
}

static void
fill_user(sqlite3_stmt *q, void *p)
{
	struct store_user	*u = p;

	u->id = sqlite3_column_int64(q, 0);
	u->account_id = sqlite3_column_int64(q, 1);
	store_copy_text(u->name, sizeof(u->name), q, 2);
	store_copy_text(u->pwhash, sizeof(u->pwhash), q, 3);
	u->kind = sqlite3_column_int(q, 4);
	u->created_at = sqlite3_column_int64(q, 5);
	u->password_changed_at = sqlite3_column_int64(q, 6);
}

enum tsk_status
store_user_by_name(struct store *st, const char *name, struct store_user *out)
{
	sqlite3_stmt	*q = st->q[Q_USER_BY_NAME];

	if (store_bind_text(q, 1, name))
		return store_finish(q, store_fail(st, "bind"));
	return store_one_row(st, q, fill_user, out, "user by name");
}

enum tsk_status
store_user_list(struct store *st, int64_t account_id, store_user_cb cb, void *arg)
{
	sqlite3_stmt		*q = st->q[Q_USER_LIST];
	struct store_user	 u;
	int			 step;

	if (sqlite3_bind_int64(q, 1, account_id))
		return store_finish(q, store_fail(st, "bind"));
	for (step = sqlite3_step(q); step == SQLITE_ROW; step = sqlite3_step(q)) {
		fill_user(q, &u);
		if (cb(&u, arg) != 0)
			break;
	}
	return store_list_end(st, q, step, "user list");
}

enum tsk_status
store_session_insert(struct store *st, const unsigned char hash[SECRET_HASH_LEN],
    int64_t user_id, int64_t account_id, int64_t now)
{
	sqlite3_stmt	*q = st->q[Q_SESSION_INSERT];

	if (store_bind_hash(q, 1, hash) || sqlite3_bind_int64(q, 2, user_id) ||
	    sqlite3_bind_int64(q, 3, account_id) || sqlite3_bind_int64(q, 4, now))
		return store_finish(q, store_fail(st, "bind"));
	return store_finish(q, store_step_done(st, q, "session insert"));
}

static void
fill_session(sqlite3_stmt *q, void *p)
{
	struct store_session	*s = p;

	s->id = sqlite3_column_int64(q, 0);
	s->user_id = sqlite3_column_int64(q, 1);
	s->account_id = sqlite3_column_int64(q, 2);
	store_copy_text(s->account, sizeof(s->account), q, 3);
	store_copy_text(s->user, sizeof(s->user), q, 4);
	s->created_at = sqlite3_column_int64(q, 5);
	s->last_seen_at = sqlite3_column_int64(q, 6);
	s->credit = sqlite3_column_int64(q, 7);
	s->monthly_allowance = sqlite3_column_int64(q, 8);
	store_copy_text(s->allowance_month, sizeof(s->allowance_month), q, 9);
}

enum tsk_status
store_session_by_hash(struct store *st, const unsigned char hash[SECRET_HASH_LEN],
    struct store_session *out)
{
	sqlite3_stmt	*q = st->q[Q_SESSION_BY_HASH];

	if (store_bind_hash(q, 1, hash))
		return store_finish(q, store_fail(st, "bind"));
	return store_one_row(st, q, fill_session, out, "session by hash");
}

enum tsk_status
store_session_touch(struct store *st, int64_t session_id, int64_t now, int64_t slack)
{
	return store_update3(st, Q_SESSION_TOUCH, session_id, now, slack, 3, 0, "session touch");
}

enum tsk_status
store_session_delete(struct store *st, int64_t session_id)
{
	return store_update3(st, Q_SESSION_DELETE, session_id, 0, 0, 1, 1, "session delete");
}

enum tsk_status
store_session_purge(struct store *st, int64_t before, int64_t *n_out)
{
	enum tsk_status	rc;

	rc = store_update3(st, Q_SESSION_PURGE, before, 0, 0, 1, 0, "session purge");
	if (rc == TSK_OK && n_out != NULL)
		*n_out = sqlite3_changes(st->db);
	return rc;
}

enum tsk_status
store_user_usage(struct store *st, int64_t user_id, int64_t rest, int64_t soap,
    int64_t last_soap)
{
	sqlite3_stmt	*q = st->q[Q_USER_USAGE];

	if (sqlite3_bind_int64(q, 1, user_id) || sqlite3_bind_int64(q, 2, rest) ||
	    sqlite3_bind_int64(q, 3, soap) || sqlite3_bind_int64(q, 4, last_soap))
		return store_finish(q, store_fail(st, "bind"));
	return store_finish(q, store_step_done(st, q, "user usage"));
}

enum tsk_status
store_user_login(struct store *st, int64_t user_id, int64_t now)
{
	return store_update3(st, Q_USER_LOGIN, user_id, now, 0, 2, 0, "user login");
}

static void
fill_migration(sqlite3_stmt *q, struct store_migration *m)
{
	store_copy_text(m->kind, sizeof(m->kind), q, 0);
	m->id = sqlite3_column_int64(q, 1);
	m->account_id = sqlite3_column_int64(q, 2);
	store_copy_text(m->account, sizeof(m->account), q, 3);
	store_copy_text(m->name, sizeof(m->name), q, 4);
	store_copy_text(m->prefix, sizeof(m->prefix), q, 5);
	m->soap_session = sqlite3_column_int64(q, 6);
	m->soap_key = sqlite3_column_int64(q, 7);
	m->rest = sqlite3_column_int64(q, 8);
	m->logins = sqlite3_column_int64(q, 9);
	m->last_legacy_at = sqlite3_column_int64(q, 10);
}

enum tsk_status
store_migration_list(struct store *st, int64_t account_id, int64_t since,
    store_migration_cb cb, void *arg)
{
	sqlite3_stmt		*q = st->q[Q_MIGRATION_LIST];
	struct store_migration	 m;
	int			 step;

	if (sqlite3_bind_int64(q, 1, account_id) || sqlite3_bind_int64(q, 2, since))
		return store_finish(q, store_fail(st, "bind"));
	for (step = sqlite3_step(q); step == SQLITE_ROW; step = sqlite3_step(q)) {
		fill_migration(q, &m);
		if (cb(&m, arg) != 0)
			break;
	}
	return store_list_end(st, q, step, "migration list");
}
