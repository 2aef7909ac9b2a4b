/* SPDX-License-Identifier: MIT */
/*
 * Operations on accounts, keys and users: the one code path behind the CLI (and the admin API
 * to come), so the two cannot disagree. A new key is returned to the caller once; only its
 * hash reaches the store.
 */
#ifndef ADMIN_H
#define ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "secret.h"
#include "store.h"
#include "tsk.h"

struct admin_key_spec {
	const char	*account;	/* account name */
	const char	*name;		/* label; NULL or "" for none */
	const char	*env;		/* "live" (default when NULL) or "test" */
	int64_t		 expires_at;	/* 0 = never; must be in the future */
};

/* Names: 1..127 bytes of printable ASCII without spaces at either end. */
int		admin_name_ok(const char *name);

enum tsk_status	admin_account_create(struct store *st, const char *name, int64_t credit,
		    int64_t now, int64_t *id_out);
enum tsk_status	admin_credit_set(struct store *st, const char *account, int64_t credit);

/*
 * Create a key. key_out (size >= SECRET_KEY_MAX) receives the key, to be shown once and wiped.
 * TSK_NOT_FOUND: no such account; TSK_ERR_INPUT: bad name or expiry in the past.
 */
enum tsk_status	admin_key_create(struct store *st, const struct admin_key_spec *spec,
		    int64_t now, char *key_out, int64_t *id_out);
enum tsk_status	admin_key_revoke(struct store *st, int64_t key_id);

/* Create a Login user; the password is hashed here and never stored. */
enum tsk_status	admin_user_create(struct store *st, const char *account, const char *user,
		    const char *password, int64_t now);

#endif
