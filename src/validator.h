/* SPDX-License-Identifier: MIT */
/*
 * The one place that decides who is authenticated and whether a call may go ahead. Both front
 * ends (SOAP and REST) call validator_check with what the caller presented and what the
 * operation needs, and get a verdict and the principal. No SOAP, HTTP or SQL types here.
 * Fails closed: any internal or store error is TSK_VERDICT_ERROR.
 *
 * Order of the checks, each refusing before the next costs anything: format (no store access
 * for a malformed tsk_ key), lookup, status, expiry, IP allowlist, scope, rate limit, credit.
 * A request refused for its address or scope uses no rate allowance and no credit.
 *
 * With batch_credit (the default) and a usage batcher (policy.usage), a metered call's debit is
 * granted in memory against the stored balance less what this process has spent and not yet
 * written (usage_debit), and reaches the store at the next flush: no store write on the request
 * path, at the price of the spending of the last flush interval when the process dies (kill -9).
 * Every balance a principal reports is net of unwritten spending. Fail-closed rule of its own:
 * once a flush fails, metered calls get TSK_VERDICT_ERROR until one succeeds (the flusher retries
 * every interval); unmetered calls go on. While the process's unwritten spending would pass
 * batch_credit_max_unwritten, a debit is a store write (and fails closed by itself). So when the
 * store stops taking writes, metered calls are still granted until the first flush after that
 * fails: at most one flush interval plus the store's busy timeout (5 s, when another writer
 * holds the lock; a read-only or full store fails at once), and at most
 * batch_credit_max_unwritten credits in all.
 */
#ifndef VALIDATOR_H
#define VALIDATOR_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "tsk.h"

struct ratelimit;
struct usage;

struct validator_policy {
	int64_t		 session_idle;	/* seconds a Login session lives without use (sliding) */
	int64_t		 touch_slack;	/* a session's last-seen time is written at most this often */
	int		 uniform_errors;/* report every 401-class refusal as one UNAUTHORIZED */
	struct ratelimit *rl;		/* per-key rate limits; NULL: not enforced */
	struct usage	*usage;		/* batched last-used; NULL: written to the store at once */
	int		 batch_credit;	/* spend credit through usage, not a store write per call */
	int64_t		 batch_credit_max_unwritten;	/* usage_debit's bound (usage.h) */
};

struct validator_req {
	const char	*credential;	/* as presented, not NUL-terminated; NULL = none */
	size_t		 len;
	enum tsk_channel channel;
	const char	*client_addr;	/* numeric address, for the IP allowlist; NULL = unknown */
	const char	*scope;		/* scope the operation needs; NULL = none */
	int64_t		 cost;		/* credits the operation takes; 0 = not metered */
	int64_t		 now;		/* unix seconds */
	int		 silent;	/* a check, not a use: record no last-used or path count */
};

/*
 * Decide on req. st may be NULL (no store could be had): the verdict is then an error.
 * On TSK_VERDICT_OK *out describes the key or session. A refusal that names a known key
 * (DISABLED, EXPIRED, scope, address, rate, credit) keeps its account and key in *out for
 * the log; every other refusal zeroes *out. Thread-safe as long as st is not shared.
 */
enum tsk_verdict	validator_check(struct store *st, const struct validator_policy *pol,
			    const struct validator_req *req, struct tsk_principal *out);

/* Trim surrounding white space of s[0..*len-1]: returns the new start, updates *len. */
const char	*validator_trim(const char *s, size_t *len);

/* 1 when the space-separated scopes hold want (or want is NULL / empty). */
int		 validator_has_scope(const char *scopes, const char *want);

/* The machine-readable code ("OK", "MISSING", ...), the same on SOAP and REST. */
const char	*validator_code(enum tsk_verdict v);
/* The HTTP status a refusal maps to: 401, 403, 429 or 503 (200 for OK). */
int		 validator_http_status(enum tsk_verdict v);
/* A sentence for people, never naming the credential. */
const char	*validator_message(enum tsk_verdict v);

/*
 * What a caller is told about verdict v: the code, status and message above, except that with
 * pol->uniform_errors every refusal that could tell a probing caller whether a key exists
 * (MISSING, INVALID, DISABLED, EXPIRED) reads as 401 UNAUTHORIZED.
 */
struct validator_answer {
	const char	*code;
	int		 status;
	const char	*message;
};
void		 validator_answer(const struct validator_policy *pol, enum tsk_verdict v,
		    struct validator_answer *out);

#endif
