/* SPDX-License-Identifier: MIT */
/* Legacy Login sessions: password check, session key issue, Logout. */
#include "login.h"

#include <string.h>

#include "log.h"
#include "password.h"
#include "validator.h"

enum login_result
login_start(struct store *st, const char *user, const char *password, int64_t now,
    int64_t idle, char key_out[SECRET_SESSION_LEN + 1], struct tsk_principal *out)
{
	struct store_user	u;
	unsigned char		hash[SECRET_HASH_LEN];
	char			key[SECRET_SESSION_LEN + 1];
	struct validator_policy	pol = { idle, idle };
	struct validator_req	vr;
	enum tsk_status		rc;
	int			ok;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return LOGIN_ERROR;
	if (user == NULL || password == NULL || *user == '\0') {
		password_burn(password != NULL ? password : "");
		return LOGIN_FAILED;
	}
	rc = store_user_by_name(st, user, &u);
	if (rc == TSK_NOT_FOUND) {
		password_burn(password);
		return LOGIN_FAILED;
	}
	if (rc != TSK_OK)
		return LOGIN_ERROR;
	ok = password_verify(password, u.pwhash);
	if (ok < 0) {
		log_warnx("login: stored password hash of user id %lld is unreadable",
		    (long long)u.id);
		return LOGIN_ERROR;
	}
	if (ok == 0)
		return LOGIN_FAILED;
	(void)store_session_purge(st, now - idle, NULL);
	if (secret_session_new(key) != 0)
		return LOGIN_ERROR;
	secret_hash(key, strlen(key), hash);
	if (store_session_insert(st, hash, u.id, u.account_id, now) != TSK_OK) {
		secret_wipe(key, sizeof(key));
		return LOGIN_ERROR;
	}
	/*
	 * Describe the new session exactly as the validator will on its next use: ask it. A
	 * session we cannot read back is no session (fail closed).
	 */
	memset(&vr, 0, sizeof(vr));
	vr.credential = key;
	vr.len = strlen(key);
	vr.channel = TSK_CHANNEL_REST;
	vr.now = now;
	if (validator_check(st, &pol, &vr, out) != TSK_VERDICT_OK) {
		(void)store_session_delete(st, out->session_id);
		memset(out, 0, sizeof(*out));
		secret_wipe(key, sizeof(key));
		return LOGIN_ERROR;
	}
	memcpy(key_out, key, sizeof(key));
	secret_wipe(key, sizeof(key));
	return LOGIN_OK;
}

enum tsk_status
login_end(struct store *st, const struct tsk_principal *p)
{
	enum tsk_status	rc;

	if (p->kind != TSK_PRINCIPAL_SESSION)
		return TSK_OK;
	if (st == NULL)
		return TSK_ERR_STORE;
	rc = store_session_delete(st, p->session_id);
	/* Two Logouts racing: the session is gone either way. */
	return rc == TSK_NOT_FOUND ? TSK_OK : rc;
}
