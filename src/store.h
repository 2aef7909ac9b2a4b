/* SPDX-License-Identifier: MIT */
/*
 * The key store: accounts, users, keys and Login sessions in sqlite3 (WAL, versioned migrations,
 * prepared statements). The only module that knows SQL. It stores hashes, never credentials.
 *
 * A struct store is one database connection: use it from one thread at a time (storepool.h
 * hands them out to workers). Every function returns a tsk_status and logs store errors itself;
 * out-parameters are written only on TSK_OK.
 */
#ifndef STORE_H
#define STORE_H

#include <stdint.h>

#include "secret.h"
#include "tsk.h"

struct store;

enum store_key_status { STORE_KEY_REVOKED = 0, STORE_KEY_ACTIVE = 1 };

struct store_account {
	int64_t	id;
	char	name[TSK_NAME_MAX];
	int64_t	credit;
	int64_t	created_at;
};

struct store_key {
	int64_t	id;
	int64_t	account_id;
	char	account[TSK_NAME_MAX];
	char	name[TSK_NAME_MAX];
	char	prefix[TSK_PREFIX_MAX];
	int	status;			/* enum store_key_status */
	int64_t	created_at;
	int64_t	expires_at;		/* 0 = never */
	int64_t	last_used_at;		/* 0 = never */
	int64_t	credit;			/* the account's balance, filled by store_key_by_hash */
};

struct store_user {
	int64_t	id;
	int64_t	account_id;
	char	name[TSK_NAME_MAX];
	char	pwhash[160];
};

struct store_session {
	int64_t	id;
	int64_t	user_id;
	int64_t	account_id;
	char	account[TSK_NAME_MAX];
	char	user[TSK_NAME_MAX];
	int64_t	created_at;
	int64_t	last_seen_at;
	int64_t	credit;
};

/*
 * Open (creating if needed) the database at path, set WAL and a busy timeout, and apply
 * pending schema migrations. *out is owned by the caller: store_close it.
 */
enum tsk_status	store_open(const char *path, struct store **out);
void		store_close(struct store *st);	/* NULL is fine */

/* Accounts. Names are unique; *id_out gets the new row id. */
enum tsk_status	store_account_create(struct store *st, const char *name, int64_t credit,
		    int64_t now, int64_t *id_out);
enum tsk_status	store_account_by_name(struct store *st, const char *name, struct store_account *out);
enum tsk_status	store_account_count(struct store *st, int64_t *out);
enum tsk_status	store_credit_set(struct store *st, int64_t account_id, int64_t credit);
typedef int	(*store_account_cb)(const struct store_account *, void *);
enum tsk_status	store_account_list(struct store *st, store_account_cb cb, void *arg);

/* Keys. The hash is SHA-256 of the key; the key itself never reaches the store. */
enum tsk_status	store_key_insert(struct store *st, const struct store_key *k,
		    const unsigned char hash[SECRET_HASH_LEN], int64_t *id_out);
enum tsk_status	store_key_by_hash(struct store *st, const unsigned char hash[SECRET_HASH_LEN],
		    struct store_key *out);
enum tsk_status	store_key_set_status(struct store *st, int64_t key_id, int status);
/* Record use; cheap to call: writes only when the stored time is older than now - slack. */
enum tsk_status	store_key_touch(struct store *st, int64_t key_id, int64_t now, int64_t slack);
typedef int	(*store_key_cb)(const struct store_key *, void *);
/* account_id 0 lists every account's keys. */
enum tsk_status	store_key_list(struct store *st, int64_t account_id, store_key_cb cb, void *arg);

/* Users of the legacy Login. Names are unique across accounts (Login has no account field). */
enum tsk_status	store_user_create(struct store *st, int64_t account_id, const char *name,
		    const char *pwhash, int64_t now);
enum tsk_status	store_user_by_name(struct store *st, const char *name, struct store_user *out);

/* Login sessions, by hash of the session key. */
enum tsk_status	store_session_insert(struct store *st, const unsigned char hash[SECRET_HASH_LEN],
		    int64_t user_id, int64_t account_id, int64_t now);
enum tsk_status	store_session_by_hash(struct store *st, const unsigned char hash[SECRET_HASH_LEN],
		    struct store_session *out);
/* Slide the idle expiry; writes only when last_seen_at is older than now - slack. */
enum tsk_status	store_session_touch(struct store *st, int64_t session_id, int64_t now,
		    int64_t slack);
enum tsk_status	store_session_delete(struct store *st, int64_t session_id);
/* Remove sessions idle since before `before`; *n_out (may be NULL) gets how many. */
enum tsk_status	store_session_purge(struct store *st, int64_t before, int64_t *n_out);

#endif
