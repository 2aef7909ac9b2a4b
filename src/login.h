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
};

/*
 * Check user/password and open a session. On LOGIN_OK key_out holds the new session key
 * (the caller sends it once and wipes it) and *out the principal; otherwise *out is zeroed. An unknown user costs the
 * same password-hashing time as a wrong password. idle is the session idle lifetime, used
 * to purge sessions that ran out.
 */
enum login_result	login_start(struct store *st, const char *user, const char *password,
			    int64_t now, int64_t idle, char key_out[SECRET_SESSION_LEN + 1],
			    struct tsk_principal *out);

/* End the session p (from validator_check). A key principal has nothing to end: TSK_OK. */
enum tsk_status		login_end(struct store *st, const struct tsk_principal *p);

#endif
