/* SPDX-License-Identifier: MIT */
/*
 * The store's private interface, shared by store.c (open, migrations, accounts, users, sessions),
 * store_key.c (keys) and store_audit.c (the audit trail). Nothing outside the store includes it:
 * it is the only place sqlite3.h reaches.
 */
#ifndef STORE_INT_H
#define STORE_INT_H

#include <sqlite3.h>

#include "store.h"

/* One prepared statement per question asked of the store; the SQL is in store.c. */
enum stmt {
	Q_ACCOUNT_INSERT,
	Q_ACCOUNT_BY_NAME,
	Q_ACCOUNT_BY_ID,
	Q_ACCOUNT_COUNT,
	Q_ACCOUNT_LIST,
	Q_CREDIT_SET,
	Q_CREDIT_ADD,
	Q_CREDIT_DEBIT,
	Q_CREDIT_SPEND,
	Q_ALLOWANCE_SET,
	Q_ALLOWANCE_REFILL,
	Q_KEY_INSERT,
	Q_KEY_BY_HASH,
	Q_KEY_BY_ID,
	Q_KEY_SET_STATUS,
	Q_KEY_SET_STOPS,
	Q_KEY_DELETE,
	Q_KEY_USAGE,
	Q_KEY_LIST,
	Q_KEY_COUNT_ACTIVE,
	Q_USER_INSERT,
	Q_USER_BY_NAME,
	Q_USER_LIST,
	Q_SESSION_INSERT,
	Q_SESSION_BY_HASH,
	Q_SESSION_TOUCH,
	Q_SESSION_DELETE,
	Q_SESSION_PURGE,
	Q_USER_USAGE,
	Q_USER_LOGIN,
	Q_MIGRATION_LIST,
	Q_AUDIT_INSERT,
	Q_AUDIT_LIST,
	Q_CHANGES_GEN,
	Q__COUNT
};

struct keycache;

struct store {
	sqlite3		*db;
	sqlite3_stmt	*q[Q__COUNT];
	uint64_t	 errors;	/* store_fail calls not yet taken (store_errors_take) */
	struct keycache	*cache;		/* key rows by hash (store_use_cache); NULL: none */
};

/* Log sqlite's message for what failed; returns TSK_ERR_STORE. */
enum tsk_status	store_fail(struct store *st, const char *what);
/* Step a statement that changes rows: DONE -> OK, a constraint -> CONFLICT, else logged. */
enum tsk_status	store_step_done(struct store *st, sqlite3_stmt *q, const char *what);
/* Reset q and its bindings, passing rc through. */
enum tsk_status	store_finish(sqlite3_stmt *q, enum tsk_status rc);
/* Step q for at most one row, filled into out by fill; then finish. */
enum tsk_status	store_one_row(struct store *st, sqlite3_stmt *q,
		    void (*fill)(sqlite3_stmt *, void *), void *out, const char *what);
/* After a loop of SQLITE_ROW steps: the last step says whether the list is whole. */
enum tsk_status	store_list_end(struct store *st, sqlite3_stmt *q, int step, const char *what);
/* Run an UPDATE/DELETE bound to (id, a, b) with nargs binds; NOT_FOUND when require_change
 * and no row changed. */
enum tsk_status	store_update3(struct store *st, enum stmt which, int64_t id, int64_t a,
		    int64_t b, int nargs, int require_change, const char *what);
void		store_copy_text(char *dst, size_t dstsz, sqlite3_stmt *q, int col);
int		store_bind_text(sqlite3_stmt *q, int i, const char *s);
int		store_bind_hash(sqlite3_stmt *q, int i, const unsigned char hash[SECRET_HASH_LEN]);

#endif
