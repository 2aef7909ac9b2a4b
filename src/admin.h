/* SPDX-License-Identifier: MIT */
/*
 * Operations on accounts, keys and users: the one code path behind the CLI and the admin API,
 * so the two cannot disagree. Each change is checked, made and written to the audit trail in
 * one transaction. A new key is returned to the caller once; only its hash reaches the store.
 *
 * Tenant isolation lives here: an actor bound to an account (an admin key) gets
 * TSK_ERR_FORBIDDEN for anything of another account's, and learns nothing about it.
 */
#ifndef ADMIN_H
#define ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "secret.h"
#include "store.h"
#include "tsk.h"

/* Who acts, from where, and on what they may act. */
struct admin_actor {
	const char	*who;		/* "cli", "key:12": written to the audit trail */
	int64_t		 account_id;	/* 0 = every account (the CLI, a platform key) */
	const char	*client;	/* client address; "" for the CLI */
	const char	*request_id;	/* "" for the CLI */
	int64_t		 now;
	int		 max_active;	/* active keys an account may hold (0 = no limit) */
};

struct admin_key_spec {
	const char	*account;	/* account name */
	const char	*name;		/* label; NULL or "" for none */
	const char	*env;		/* "live" (NULL) or "test" */
	int64_t		 expires_at;	/* 0 = never; must be in the future */
	const char	*scopes;	/* space-separated; NULL = TSK_SCOPES_DEFAULT */
	const char	*ip_allow;	/* see ipallow.h; NULL = any address */
	int64_t		 rate_minute;	/* 0 = unlimited */
	int64_t		 rate_day;
	int		 platform;	/* only an actor with account_id 0 may grant it */
};

/* Names: 1..127 bytes, no control characters, no spaces at either end. */
int		admin_name_ok(const char *name);
/* Scopes: up to 16 space-separated tokens of [a-z0-9:._-], 255 bytes in all. */
int		admin_scopes_ok(const char *scopes);

/* Credits and allowances are never negative, except that credit_add may take some away. */
enum tsk_status	admin_account_create(struct store *st, const struct admin_actor *who,
		    const char *name, int64_t credit, int64_t allowance, int64_t *id_out);
enum tsk_status	admin_account_get(struct store *st, const struct admin_actor *who,
		    const char *name, struct store_account *out);
enum tsk_status	admin_credit_set(struct store *st, const struct admin_actor *who,
		    const char *account, int64_t credit);
enum tsk_status	admin_credit_add(struct store *st, const struct admin_actor *who,
		    const char *account, int64_t delta);
enum tsk_status	admin_allowance_set(struct store *st, const struct admin_actor *who,
		    const char *account, int64_t allowance);

/*
 * Create a key. key_out (size >= SECRET_KEY_MAX) receives the key, to be shown once and wiped.
 * TSK_NOT_FOUND: no such account; TSK_ERR_INPUT: bad name, scopes, allowlist or an expiry in
 * the past; TSK_ERR_LIMIT: the account holds max_active usable keys already.
 */
enum tsk_status	admin_key_create(struct store *st, const struct admin_actor *who,
		    const struct admin_key_spec *spec, char *key_out, int64_t *id_out);
/* Store the hash of an existing (legacy) key, so that the clients holding it keep working. */
enum tsk_status	admin_key_import(struct store *st, const struct admin_actor *who,
		    const struct admin_key_spec *spec, const unsigned char hash[SECRET_HASH_LEN],
		    int64_t *id_out);
enum tsk_status	admin_key_get(struct store *st, const struct admin_actor *who, int64_t key_id,
		    struct store_key *out);
enum tsk_status	admin_key_deactivate(struct store *st, const struct admin_actor *who,
		    int64_t key_id);
/* TSK_ERR_CONFLICT when the key has expired or its rotation grace has ended. */
enum tsk_status	admin_key_reactivate(struct store *st, const struct admin_actor *who,
		    int64_t key_id);
/* Only an inactive or expired key: TSK_ERR_CONFLICT otherwise. */
enum tsk_status	admin_key_delete(struct store *st, const struct admin_actor *who, int64_t key_id);
/*
 * A new key with the old one's settings; the old one stops at once (grace 0) or after grace
 * seconds. key_out as for admin_key_create. TSK_ERR_CONFLICT for a key that is inactive, ended
 * or already rotated (in its grace window): rotate its successor instead.
 */
enum tsk_status	admin_key_rotate(struct store *st, const struct admin_actor *who, int64_t key_id,
		    int64_t grace, char *key_out, int64_t *id_out);

/* "active", "inactive" or "expired" (past expires_at or the end of a rotation grace). */
const char	*admin_key_state(const struct store_key *k, int64_t now);
/* When the key stops by itself: the earlier of expires_at and stops_at; 0 = never. */
int64_t		 admin_key_ends(const struct store_key *k);

/* Create a Login user (kind: enum store_user_kind); the password is hashed here. */
enum tsk_status	admin_user_create(struct store *st, const struct admin_actor *who,
		    const char *account, const char *user, const char *password, int kind);

#endif
