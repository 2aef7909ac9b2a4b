/* SPDX-License-Identifier: MIT */
/*
 * The key store: accounts, users, keys, Login sessions and the audit trail in sqlite3 (WAL,
 * versioned migrations, prepared statements). The only module that knows SQL. It stores hashes,
 * never credentials.
 *
 * A struct store is one database connection: use it from one thread at a time (storepool.h
 * hands them out to workers). Every function returns a tsk_status and logs store errors itself;
 * out-parameters are written only on TSK_OK.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#include "secret.h"
#include "tsk.h"

struct store;

enum store_key_status { STORE_KEY_INACTIVE = 0, STORE_KEY_ACTIVE = 1 };
enum store_user_kind { STORE_USER_PERSON = 0, STORE_USER_API = 1 };

#define STORE_ENV_MAX		8	/* "live", "test", "legacy" */
#define STORE_SCOPES_MAX	256	/* space-separated scopes */
#define STORE_IPS_MAX		512	/* comma-separated addresses and CIDR blocks */
#define STORE_MONTH_MAX		8	/* "2026-11" */
#define STORE_AUDIT_DETAIL_MAX	4096	/* a key's whole settings, JSON-escaped, fit */

struct store_account {
	int64_t	id;
	char	name[TSK_NAME_MAX];
	int64_t	credit;
	int64_t	monthly_allowance;	/* 0 = none */
	char	allowance_month[STORE_MONTH_MAX];	/* month of the last refill */
	int64_t	created_at;
};

struct store_key {
	int64_t	id;
	int64_t	account_id;
	char	account[TSK_NAME_MAX];
	char	name[TSK_NAME_MAX];
	char	prefix[TSK_PREFIX_MAX];
	char	env[STORE_ENV_MAX];
	char	scopes[STORE_SCOPES_MAX];
	char	ip_allow[STORE_IPS_MAX];	/* "" = any address */
	int	status;			/* enum store_key_status */
	int	platform;		/* may administer every account */
	int64_t	rate_minute;		/* requests per minute; 0 = unlimited */
	int64_t	rate_day;		/* requests per day; 0 = unlimited */
	int64_t	created_at;
	int64_t	expires_at;		/* 0 = never */
	int64_t	stops_at;		/* end of a rotation's grace window; 0 = none */
	int64_t	last_used_at;		/* 0 = never */
	int64_t	use_count;
	int64_t	rotated_from;		/* the key this one replaced; 0 = none */
	/* the account's, filled by the lookups */
	int64_t	credit;
	int64_t	monthly_allowance;
	char	allowance_month[STORE_MONTH_MAX];
};

struct store_user {
	int64_t	id;
	int64_t	account_id;
	char	name[TSK_NAME_MAX];
	char	pwhash[160];
	int	kind;			/* enum store_user_kind */
	int64_t	created_at;
	int64_t	password_changed_at;
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
	int64_t	monthly_allowance;
	char	allowance_month[STORE_MONTH_MAX];
};

/* One lifecycle change. Never holds a secret. */
struct store_audit {
	int64_t	id;
	int64_t	at;
	char	actor[64];		/* "cli", "key:12" */
	char	action[48];		/* "key.create", "key.deactivate", ... */
	int64_t	account_id;		/* 0 = none */
	char	target[64];		/* "key:12", "account:3", "user:alice" */
	char	client[64];		/* client address, "" for the CLI */
	char	request_id[24];
	char	detail[STORE_AUDIT_DETAIL_MAX];	/* JSON object, no secrets */
};

/*
 * Open (creating if needed) the database at path, set WAL and a busy timeout, and apply
 * pending schema migrations. *out is owned by the caller: store_close it.
 */
enum tsk_status	store_open(const char *path, struct store **out);
void		store_close(struct store *st);	/* NULL is fine */
/* Database errors this connection logged since the last call, for the metrics (storepool.h). */
uint64_t	store_errors_take(struct store *st);

/* What GET /metrics shows of the store (store_stats.c): read-only, two counts. */
struct store_stats {
	int64_t	keys_active;	/* status active, not expired, not past a rotation's grace */
	int64_t	sessions_live;	/* Login sessions seen within session_idle seconds of now */
};
enum tsk_status	store_stats(struct store *st, int64_t now, int64_t session_idle,
		    struct store_stats *out);
/* One cheap read of the keys table (GET /readyz): TSK_OK when the database answers. */
enum tsk_status	store_ping(struct store *st);

/* 1 when sqlite could only open the database for reading (a read-only file or disk). */
int		store_readonly(struct store *st);

/*
 * Look key rows up through kc (keycache.h; shared by the stores of a pool, owned by the
 * caller, outliving st); NULL: no cache. store_key_by_hash then reads the store's change
 * generation and answers from kc when the row cached there is of that generation.
 */
struct keycache;
void		store_use_cache(struct store *st, struct keycache *kc);
/* The change generation: raised by every change to keys or accounts, by any process. */
enum tsk_status	store_changes_gen(struct store *st, int64_t *gen);

/*
 * Copy st's database into a new file at path (created; the caller renames it into place) with
 * sqlite's online backup API, a few pages per step, so the server keeps reading and writing
 * meanwhile; the copy is one consistent state of the database. If writers keep restarting
 * the copy, the rest goes in one step (a WAL read, which blocks no writer). Then the copy
 * must pass PRAGMA integrity_check. On TSK_OK *pages is the copy's size in pages.
 */
enum tsk_status	store_backup(struct store *st, const char *path, int64_t *pages);

/* Run fn inside one IMMEDIATE transaction: committed when it returns TSK_OK, else rolled back. */
enum tsk_status	store_transaction(struct store *st, enum tsk_status (*fn)(struct store *, void *),
		    void *arg);

/* Accounts. Names are unique; *id_out gets the new row id. */
enum tsk_status	store_account_create(struct store *st, const char *name, int64_t credit,
		    int64_t now, int64_t *id_out);
enum tsk_status	store_account_by_name(struct store *st, const char *name, struct store_account *out);
enum tsk_status	store_account_by_id(struct store *st, int64_t id, struct store_account *out);
enum tsk_status	store_account_count(struct store *st, int64_t *out);
typedef int	(*store_account_cb)(const struct store_account *, void *);
enum tsk_status	store_account_list(struct store *st, store_account_cb cb, void *arg);
enum tsk_status	store_credit_set(struct store *st, int64_t account_id, int64_t credit);
enum tsk_status	store_credit_add(struct store *st, int64_t account_id, int64_t delta);
/*
 * Take cost from the balance if at least keep remains after it (keep: credit already granted
 * in memory and not yet written, usage.h; else 0): TSK_OK, else TSK_ERR_CONFLICT. Atomic.
 */
enum tsk_status	store_credit_debit(struct store *st, int64_t account_id, int64_t cost,
		    int64_t keep);
/*
 * Write a batch of debits already granted in memory (usage.h): the balance falls by spent, but
 * not below 0 (a balance lowered meanwhile by the CLI absorbs the difference). TSK_OK also when
 * the account is gone.
 */
enum tsk_status	store_credit_spend(struct store *st, int64_t account_id, int64_t spent);
enum tsk_status	store_allowance_set(struct store *st, int64_t account_id, int64_t allowance);
/* Once per month: top the balance up to the monthly allowance. TSK_OK whether or not it did. */
enum tsk_status	store_allowance_refill(struct store *st, int64_t account_id, const char *month);

/* Keys. The hash is SHA-256 of the key; the key itself never reaches the store. */
enum tsk_status	store_key_insert(struct store *st, const struct store_key *k,
		    const unsigned char hash[SECRET_HASH_LEN], int64_t *id_out);
enum tsk_status	store_key_by_hash(struct store *st, const unsigned char hash[SECRET_HASH_LEN],
		    struct store_key *out);
enum tsk_status	store_key_by_id(struct store *st, int64_t key_id, struct store_key *out);
enum tsk_status	store_key_set_status(struct store *st, int64_t key_id, int status);
enum tsk_status	store_key_set_stops(struct store *st, int64_t key_id, int64_t stops_at);
enum tsk_status	store_key_delete(struct store *st, int64_t key_id);
/*
 * Add batched use: last_used_at becomes at least last, use_count grows by count, of which soap
 * came over SOAP (the key in SessionIDHeader), the latest at last_soap (0: none).
 */
enum tsk_status	store_key_usage(struct store *st, int64_t key_id, int64_t last, int64_t count,
		    int64_t soap, int64_t last_soap);
typedef int	(*store_key_cb)(const struct store_key *, void *);
/* account_id 0 lists every account's keys. */
enum tsk_status	store_key_list(struct store *st, int64_t account_id, store_key_cb cb, void *arg);
/* Keys of the account that can still be used at now (active, not expired, not stopped). */
enum tsk_status	store_key_count_active(struct store *st, int64_t account_id, int64_t now,
		    int64_t *out);

/* Users of the legacy Login. Names are unique across accounts (Login has no account field). */
enum tsk_status	store_user_create(struct store *st, int64_t account_id, const char *name,
		    const char *pwhash, int kind, int64_t now);
enum tsk_status	store_user_by_name(struct store *st, const char *name, struct store_user *out);
typedef int	(*store_user_cb)(const struct store_user *, void *);
enum tsk_status	store_user_list(struct store *st, int64_t account_id, store_user_cb cb, void *arg);

/* Batched use of a user's Login sessions, by path; and one Login. */
enum tsk_status	store_user_usage(struct store *st, int64_t user_id, int64_t rest, int64_t soap,
		    int64_t last_soap);
enum tsk_status	store_user_login(struct store *st, int64_t user_id, int64_t now);

/* A key or user still on a legacy path (SOAP, or the legacy Login): the migration report. */
struct store_migration {
	char	kind[8];		/* "key" or "user" */
	int64_t	id;
	int64_t	account_id;
	char	account[TSK_NAME_MAX];
	char	name[TSK_NAME_MAX];
	char	prefix[TSK_PREFIX_MAX];	/* keys only */
	int64_t	soap_session;		/* SOAP calls with a session from Login (users) */
	int64_t	soap_key;		/* SOAP calls with the key in the header (keys) */
	int64_t	rest;			/* REST calls */
	int64_t	logins;			/* legacy Logins (users) */
	int64_t	last_legacy_at;		/* last SOAP call or Login */
};
typedef int	(*store_migration_cb)(const struct store_migration *, void *);
/* Whatever had a legacy use at or after since, latest first; account_id 0 = every account. */
enum tsk_status	store_migration_list(struct store *st, int64_t account_id, int64_t since,
		    store_migration_cb cb, void *arg);

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

/* The audit trail: append-only (the schema refuses UPDATE and DELETE on it). */
enum tsk_status	store_audit_append(struct store *st, const struct store_audit *a);
typedef int	(*store_audit_cb)(const struct store_audit *, void *);
/* Newest first; account_id 0 = every account; at most limit rows with id < before (0 = any). */
enum tsk_status	store_audit_list(struct store *st, int64_t account_id, int64_t before, int limit,
		    store_audit_cb cb, void *arg);

#endif
