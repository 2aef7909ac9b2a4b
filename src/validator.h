/* SPDX-License-Identifier: MIT */
/*
 * The one place that decides who is authenticated. Both front ends (SOAP and REST) call
 * validator_check with what the caller presented and get a verdict and the principal. No SOAP,
 * HTTP or SQL types here. Fails closed: any internal or store error is TSK_VERDICT_ERROR.
 */
#ifndef VALIDATOR_H
#define VALIDATOR_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "tsk.h"

struct validator_policy {
	int64_t	session_idle;	/* seconds a Login session lives without use (sliding) */
	int64_t	touch_slack;	/* last-used / last-seen times are written at most this often */
};

struct validator_req {
	const char	*credential;	/* as presented, not NUL-terminated; NULL = none */
	size_t		 len;
	enum tsk_channel channel;
	const char	*client_addr;	/* for the log and later policy; may be NULL */
	int		 needs_credit;	/* the operation is metered: refuse an empty balance */
	int64_t		 now;		/* unix seconds */
};

/*
 * Decide on req. st may be NULL (no store could be had): the verdict is then an error.
 * On TSK_VERDICT_OK *out describes the key or session; on anything else *out is zeroed,
 * except that DISABLED / EXPIRED / NO_CREDIT name the account and key, for the log.
 * Thread-safe as long as st is not shared.
 */
enum tsk_verdict	validator_check(struct store *st, const struct validator_policy *pol,
			    const struct validator_req *req, struct tsk_principal *out);

/* Trim surrounding white space of s[0..*len-1]: returns the new start, updates *len. */
const char	*validator_trim(const char *s, size_t *len);

/* The machine-readable code ("OK", "MISSING", ...), the same on SOAP and REST. */
const char	*validator_code(enum tsk_verdict v);
/* The HTTP status a refusal maps to: 401, 403 or 503 (200 for OK). */
int		 validator_http_status(enum tsk_verdict v);
/* A sentence for people, never naming the credential. */
const char	*validator_message(enum tsk_verdict v);

#endif
