/* SPDX-License-Identifier: MIT */
/* Account, key and user operations shared by every administrative front end. */
#include "admin.h"

#include <string.h>

#include "password.h"

int
admin_name_ok(const char *name)
{
	size_t	n, i;

	if (name == NULL)
		return 0;
	n = strlen(name);
	if (n == 0 || n >= TSK_NAME_MAX || name[0] == ' ' || name[n - 1] == ' ')
		return 0;
	for (i = 0; i < n; i++) {
		if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] == 0x7f)
			return 0;
	}
	return 1;
}

enum tsk_status
admin_account_create(struct store *st, const char *name, int64_t credit, int64_t now,
    int64_t *id_out)
{
	if (!admin_name_ok(name))
		return TSK_ERR_INPUT;
	return store_account_create(st, name, credit, now, id_out);
}

enum tsk_status
admin_credit_set(struct store *st, const char *account, int64_t credit)
{
	struct store_account	a;
	enum tsk_status		rc;

	rc = store_account_by_name(st, account, &a);
	if (rc != TSK_OK)
		return rc;
	return store_credit_set(st, a.id, credit);
}

enum tsk_status
admin_key_create(struct store *st, const struct admin_key_spec *spec, int64_t now,
    char *key_out, int64_t *id_out)
{
	struct store_account	a;
	struct store_key	k;
	unsigned char		hash[SECRET_HASH_LEN];
	char			key[SECRET_KEY_MAX];
	enum tsk_status		rc;

	if (spec->name != NULL && *spec->name != '\0' && !admin_name_ok(spec->name))
		return TSK_ERR_INPUT;
	if (spec->expires_at != 0 && spec->expires_at <= now)
		return TSK_ERR_INPUT;
	rc = store_account_by_name(st, spec->account, &a);
	if (rc != TSK_OK)
		return rc;
	memset(&k, 0, sizeof(k));
	if (secret_key_new(spec->env != NULL ? spec->env : "live", key, sizeof(key), k.prefix,
	    sizeof(k.prefix)) != 0)
		return spec->env != NULL ? TSK_ERR_INPUT : TSK_ERR_INTERNAL;
	secret_hash(key, strlen(key), hash);
	k.account_id = a.id;
	if (spec->name != NULL)
		memcpy(k.name, spec->name, strlen(spec->name) + 1);
	k.status = STORE_KEY_ACTIVE;
	k.created_at = now;
	k.expires_at = spec->expires_at;
	rc = store_key_insert(st, &k, hash, id_out);
	if (rc == TSK_OK)
		memcpy(key_out, key, strlen(key) + 1);
	secret_wipe(key, sizeof(key));
	return rc;
}

enum tsk_status
admin_key_revoke(struct store *st, int64_t key_id)
{
	return store_key_set_status(st, key_id, STORE_KEY_REVOKED);
}

enum tsk_status
admin_user_create(struct store *st, const char *account, const char *user,
    const char *password, int64_t now)
{
	struct store_account	a;
	char			pwhash[PASSWORD_HASH_MAX];
	enum tsk_status		rc;

	if (!admin_name_ok(user) || password == NULL || *password == '\0')
		return TSK_ERR_INPUT;
	rc = store_account_by_name(st, account, &a);
	if (rc != TSK_OK)
		return rc;
	if (password_hash(password, pwhash, sizeof(pwhash)) != 0)
		return TSK_ERR_INPUT;
	return store_user_create(st, a.id, user, pwhash, now);
}
