/* SPDX-License-Identifier: MIT */
/*
 * The legacy Login / Logout: user name + password -> a session key, valid while used
 * (sliding idle expiry), ended by Logout. Both front ends call these; the session key is
 * returned once and only its hash is stored.
 */
#ifndef LOGIN_H
#define LOGIN_H

#include <stdint.h>

#include "secret.h"
#include "store.h"
#include "tsk.h"

enum login_result {
	LOGIN_ERROR = 0,	/* store or crypto failure: no session (fail closed) */
	LOGIN_OK,
	LOGIN_FAILED,		/* unknown user or wrong password: the caller cannot tell which */
	LOGIN_PASSWORD_EXPIRED,	/* right password, older than the configured maximum age */
	LOGIN_NOT_ALLOWED,	/* right password, but an API user and Login is off for them */
	LOGIN_THROTTLED,	/* too many failures for this user or address: try again later */
	LOGIN_BUSY,		/* every password-check slot stayed taken: not a failure, retry */
};

struct kdfgate;
struct throttle;

struct login_policy {
	int64_t	idle;			/* session idle lifetime, seconds */
	int	api_user_login;		/* may API users log in? */
	int64_t	password_max_age;	/* seconds; 0 = passwords do not expire */
	struct throttle *throttle;	/* failed-Login brakes; NULL: none */
	struct kdfgate	*gate;		/* bound on password checks at once; NULL: none */
};

/*
 * Check user/password and open a session. On LOGIN_OK key_out holds the new session key
 * (the caller sends it once and wipes it) and *out the principal; otherwise *out is zeroed.
 * An unknown user costs the same password-hashing time as a wrong password, and the
 * expiry / API-user refusals come only after the password was right, so none of them tells
 * a stranger that a user exists. Sessions idle beyond lp->idle are purged on the way.
 * With lp->throttle, a user or client address with too many recent failures gets
 * LOGIN_THROTTLED at once (no password check), with out->retry_after seconds to wait.
 * With lp->gate, the password check (or its stand-in for an unknown user) waits for a slot;
 * without one in time the result is LOGIN_BUSY with out->retry_after 1, the password unchecked
 * and nothing counted against the user or address.
 */
enum login_result	login_start(struct store *st, const struct login_policy *lp,
			    const char *user, const char *password, const char *client, int64_t now,
			    char key_out[SECRET_SESSION_LEN + 1], struct tsk_principal *out);

/*
 * Where login_start_lease gets a store: it gives the one it looked the user up with back
 * (put, once) before the password check, tens of ms of CPU, and gets one again to open the
 * session, which it does not give back (the lease's owner does). A burst of Logins then does
 * not hold every store the key checks need. get returns NULL when none is free in time.
 */
struct login_lease {
	struct store	*(*get)(void *arg);
	void		 (*put)(void *arg, struct store *st);
	void		*arg;
};

/* login_start, with the store held only around the store work. */
enum login_result	login_start_lease(const struct login_lease *ls,
			    const struct login_policy *lp, const char *user, const char *password,
			    const char *client, int64_t now, char key_out[SECRET_SESSION_LEN + 1],
			    struct tsk_principal *out);

/* The verdict a Login outcome is logged as, and the sentence a refused Login is told. */
enum tsk_verdict	login_verdict(enum login_result lr);
const char		*login_message(enum login_result lr);
/* The machine-readable code of a refused Login (REST "code"). */
const char		*login_code(enum login_result lr);

/* End the session p (from validator_check). A key principal has nothing to end: TSK_OK. */
enum tsk_status		login_end(struct store *st, const struct tsk_principal *p);

#endif
