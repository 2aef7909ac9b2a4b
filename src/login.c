/* SPDX-License-Identifier: MIT */
/* Legacy Login sessions: password check, session key issue, Logout. */
#include "login.h"

#include <string.h>

#include "kdfgate.h"
#include "log.h"
#include "password.h"
#include "throttle.h"
#include "validator.h"

/* A failed Login counts against the user name and the address (unknown names too). */
static enum login_result
failed(const struct login_policy *lp, const char *user, const char *client, int64_t now)
{
	if (lp->throttle != NULL)
		throttle_fail(lp->throttle, user, client, now);
	return LOGIN_FAILED;
}

/*
 * Run the password check (verify, or burn for an unknown user: the same wait and work either
 * way) inside a slot of lp->gate. 1 match, 0 no match, -1 unreadable hash, -2 no slot in time.
 */
static int
check_password(const struct login_policy *lp, const char *password, const char *pwhash)
{
	int	ok = 0;

	if (lp->gate != NULL && kdfgate_enter(lp->gate) != 0)
		return -2;
	if (pwhash != NULL)
		ok = password_verify(password, pwhash);
	else
		password_burn(password);
	if (lp->gate != NULL)
		kdfgate_leave(lp->gate);
	return ok;
}

/* Too busy to check: the caller may retry in a second; no failure is counted. */
static enum login_result
busy(struct tsk_principal *out)
{
	out->retry_after = 1;
	return LOGIN_BUSY;
}

static struct store *
fixed_get(void *arg)
{
	return arg;
}

static void
fixed_put(void *arg, struct store *st)
{
	(void)arg;
	(void)st;
}

enum login_result
login_start(struct store *st, const struct login_policy *lp, const char *user,
    const char *password, const char *client, int64_t now, char key_out[SECRET_SESSION_LEN + 1],
    struct tsk_principal *out)
{
	struct login_lease	ls = { fixed_get, fixed_put, st };

	return login_start_lease(&ls, lp, user, password, client, now, key_out, out);
}

enum login_result
login_start_lease(const struct login_lease *ls, const struct login_policy *lp, const char *user,
    const char *password, const char *client, int64_t now, char key_out[SECRET_SESSION_LEN + 1],
    struct tsk_principal *out)
{
	struct store_user	u;
	unsigned char		hash[SECRET_HASH_LEN];
	char			key[SECRET_SESSION_LEN + 1];
	struct validator_policy	pol;
	struct validator_req	vr;
	struct store		*st;
	enum tsk_status		rc;
	int			ok;

	memset(out, 0, sizeof(*out));
	if (client == NULL)
		client = "";
	/* Locked out: refuse before spending a password check on it. */
	if (lp->throttle != NULL && user != NULL) {
		out->retry_after = throttle_check(lp->throttle, user, client, now);
		if (out->retry_after > 0)
			return LOGIN_THROTTLED;
	}
	if (user == NULL || password == NULL || *user == '\0') {
		if (check_password(lp, password != NULL ? password : "", NULL) == -2)
			return busy(out);
		return LOGIN_FAILED;
	}
	st = ls->get(ls->arg);
	if (st == NULL)
		return LOGIN_ERROR;
	rc = store_user_by_name(st, user, &u);
	/* The password check is tens of ms of CPU: it holds no store (see login_lease). */
	ls->put(ls->arg, st);
	if (rc != TSK_OK && rc != TSK_NOT_FOUND)
		return LOGIN_ERROR;
	ok = check_password(lp, password, rc == TSK_OK ? u.pwhash : NULL);
	if (ok == -2)
		return busy(out);
	if (rc == TSK_NOT_FOUND)
		return failed(lp, user, client, now);
	if (ok < 0) {
		log_warnx("login: stored password hash of user id %lld is unreadable",
		    (long long)u.id);
		return LOGIN_ERROR;
	}
	if (ok == 0)
		return failed(lp, user, client, now);
	if (lp->throttle != NULL)
		throttle_success(lp->throttle, user, client);
	if (u.kind == STORE_USER_API && !lp->api_user_login)
		return LOGIN_NOT_ALLOWED;
	/* API users are service accounts: their passwords do not age. */
	if (u.kind != STORE_USER_API && lp->password_max_age > 0 &&
	    now - u.password_changed_at >= lp->password_max_age)
		return LOGIN_PASSWORD_EXPIRED;
	st = ls->get(ls->arg);
	if (st == NULL)
		return LOGIN_ERROR;
	(void)store_session_purge(st, now - lp->idle, NULL);
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
	memset(&pol, 0, sizeof(pol));
	pol.session_idle = lp->idle;
	pol.touch_slack = lp->idle;
	memset(&vr, 0, sizeof(vr));
	vr.credential = key;
	vr.len = strlen(key);
	vr.channel = TSK_CHANNEL_REST;
	vr.now = now;
	vr.silent = 1;	/* reading the new session back is not a use of it */
	(void)store_user_login(st, u.id, now);	/* for the migration report; best effort */
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

enum tsk_verdict
login_verdict(enum login_result lr)
{
	switch (lr) {
	case LOGIN_OK:
		return TSK_VERDICT_OK;
	case LOGIN_FAILED:
		return TSK_VERDICT_INVALID;
	case LOGIN_PASSWORD_EXPIRED:
		return TSK_VERDICT_EXPIRED;
	case LOGIN_NOT_ALLOWED:
		return TSK_VERDICT_INSUFFICIENT_SCOPE;
	case LOGIN_THROTTLED:
		return TSK_VERDICT_RATE_LIMITED;
	default:	/* LOGIN_BUSY too: 503, retry */
		return TSK_VERDICT_ERROR;
	}
}

const char *
login_message(enum login_result lr)
{
	switch (lr) {
	case LOGIN_OK:
		return "Success";
	case LOGIN_FAILED:
		return "Invalid user name or password";
	case LOGIN_PASSWORD_EXPIRED:
		return "The password has expired; ask an administrator to set a new one";
	case LOGIN_NOT_ALLOWED:
		return "API users cannot use Login; use an API key";
	case LOGIN_THROTTLED:
		return "Too many failed logins; try again later";
	case LOGIN_BUSY:
		return "The server is too busy to check passwords now; retry in a second";
	default:
		return "Login is unavailable; try again later";
	}
}

const char *
login_code(enum login_result lr)
{
	switch (lr) {
	case LOGIN_OK:
		return "OK";
	case LOGIN_FAILED:
		return "INVALID";
	case LOGIN_PASSWORD_EXPIRED:
		return "PASSWORD_EXPIRED";
	case LOGIN_NOT_ALLOWED:
		return "LOGIN_NOT_ALLOWED";
	case LOGIN_THROTTLED:
		return "LOGIN_THROTTLED";
	default:
		return "UNAVAILABLE";
	}
}
