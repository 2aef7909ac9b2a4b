/* SPDX-License-Identifier: MIT */
/*
 * Credential -> verdict. Checks the format first (a tsk_ key with a bad checksum never reaches
 * the store), then looks the SHA-256 of the trimmed credential up as a key, then as a session.
 */
#include "validator.h"

#include <string.h>

#include "log.h"
#include "secret.h"

static const struct {
	const char	*code;
	int		 status;
	const char	*message;
} verdicts[] = {
	[TSK_VERDICT_ERROR] = { "UNAVAILABLE", 503,
	    "The credential could not be checked; try again later" },
	[TSK_VERDICT_OK] = { "OK", 200, "OK" },
	[TSK_VERDICT_MISSING] = { "MISSING", 401, "No API key or session ID was presented" },
	[TSK_VERDICT_INVALID] = { "INVALID", 401, "The API key or session ID is not valid" },
	[TSK_VERDICT_DISABLED] = { "DISABLED", 403, "The API key has been deactivated" },
	[TSK_VERDICT_EXPIRED] = { "EXPIRED", 403, "The API key or session has expired" },
	[TSK_VERDICT_NO_CREDIT] = { "NO_CREDIT", 403, "The account has no credit left" },
};

static int
verdict_known(enum tsk_verdict v)
{
	return (unsigned)v < sizeof(verdicts) / sizeof(verdicts[0]);
}

const char *
validator_code(enum tsk_verdict v)
{
	return verdicts[verdict_known(v) ? v : TSK_VERDICT_ERROR].code;
}

int
validator_http_status(enum tsk_verdict v)
{
	return verdicts[verdict_known(v) ? v : TSK_VERDICT_ERROR].status;
}

const char *
validator_message(enum tsk_verdict v)
{
	return verdicts[verdict_known(v) ? v : TSK_VERDICT_ERROR].message;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

const char *
validator_trim(const char *s, size_t *len)
{
	size_t	n = *len;

	while (n > 0 && is_space(*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_space(s[n - 1]))
		n--;
	*len = n;
	return s;
}

static void
principal_from_key(const struct store_key *k, struct tsk_principal *p)
{
	memset(p, 0, sizeof(*p));
	p->kind = TSK_PRINCIPAL_KEY;
	p->account_id = k->account_id;
	memcpy(p->account, k->account, sizeof(p->account));
	p->credit = k->credit;
	p->key_id = k->id;
	memcpy(p->key_name, k->name, sizeof(p->key_name));
	memcpy(p->prefix, k->prefix, sizeof(p->prefix));
	p->created_at = k->created_at;
	p->expires_at = k->expires_at;
	p->last_used_at = k->last_used_at;
}

static void
principal_from_session(const struct store_session *s, int64_t idle, struct tsk_principal *p)
{
	memset(p, 0, sizeof(*p));
	p->kind = TSK_PRINCIPAL_SESSION;
	p->account_id = s->account_id;
	memcpy(p->account, s->account, sizeof(p->account));
	p->credit = s->credit;
	p->session_id = s->id;
	p->user_id = s->user_id;
	memcpy(p->user, s->user, sizeof(p->user));
	p->created_at = s->created_at;
	p->last_used_at = s->last_seen_at;
	p->expires_at = s->last_seen_at + idle;
}

/* Policy on a found key. Touching last-used is best effort: a failed write denies nothing. */
static enum tsk_verdict
judge_key(struct store *st, const struct validator_policy *pol, const struct validator_req *req,
    const struct store_key *k)
{
	if (k->status != STORE_KEY_ACTIVE)
		return TSK_VERDICT_DISABLED;
	if (k->expires_at != 0 && req->now >= k->expires_at)
		return TSK_VERDICT_EXPIRED;
	if (req->needs_credit && k->credit <= 0)
		return TSK_VERDICT_NO_CREDIT;
	(void)store_key_touch(st, k->id, req->now, pol->touch_slack);
	return TSK_VERDICT_OK;
}

static enum tsk_verdict
judge_session(struct store *st, const struct validator_policy *pol,
    const struct validator_req *req, const struct store_session *s)
{
	if (req->now >= s->last_seen_at + pol->session_idle)
		return TSK_VERDICT_EXPIRED;
	if (req->needs_credit && s->credit <= 0)
		return TSK_VERDICT_NO_CREDIT;
	(void)store_session_touch(st, s->id, req->now, pol->touch_slack);
	return TSK_VERDICT_OK;
}

enum tsk_verdict
validator_check(struct store *st, const struct validator_policy *pol,
    const struct validator_req *req, struct tsk_principal *out)
{
	unsigned char		 hash[SECRET_HASH_LEN];
	struct store_key	 k;
	struct store_session	 s;
	enum tsk_verdict	 v = TSK_VERDICT_ERROR;
	enum tsk_status		 rc;
	enum secret_fmt		 fmt;
	const char		*cred;
	size_t			 len = req->len;

	memset(out, 0, sizeof(*out));
	if (req->credential == NULL)
		return TSK_VERDICT_MISSING;
	cred = validator_trim(req->credential, &len);
	if (len == 0)
		return TSK_VERDICT_MISSING;
	fmt = secret_key_format(cred, len);
	if (fmt == SECRET_FMT_BAD || fmt == SECRET_FMT_BADSUM)
		return TSK_VERDICT_INVALID;
	if (st == NULL)
		return TSK_VERDICT_ERROR;
	secret_hash(cred, len, hash);
	rc = store_key_by_hash(st, hash, &k);
	if (rc == TSK_OK) {
		v = judge_key(st, pol, req, &k);
		principal_from_key(&k, out);
		goto out;
	}
	if (rc != TSK_NOT_FOUND || fmt == SECRET_FMT_TSK)
		goto done;	/* a tsk_ key is never a session key */
	rc = store_session_by_hash(st, hash, &s);
	if (rc == TSK_OK) {
		v = judge_session(st, pol, req, &s);
		principal_from_session(&s, pol->session_idle, out);
		goto out;
	}
done:
	v = rc == TSK_NOT_FOUND ? TSK_VERDICT_INVALID : TSK_VERDICT_ERROR;
out:
	/* Refusals keep who was refused, for the log; nothing else may read them as a yes. */
	if (v != TSK_VERDICT_OK && v != TSK_VERDICT_DISABLED && v != TSK_VERDICT_EXPIRED &&
	    v != TSK_VERDICT_NO_CREDIT)
		memset(out, 0, sizeof(*out));
	secret_wipe(hash, sizeof(hash));
	return v;
}
