/* SPDX-License-Identifier: MIT */
/*
 * Credential + operation -> verdict. Checks the format first (a tsk_ key with a bad checksum
 * never reaches the store), looks the SHA-256 of the trimmed credential up as a key, then as a
 * session, then applies the key's policy in the order validator.h gives.
 */
#include "validator.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ipallow.h"
#include "log.h"
#include "ratelimit.h"
#include "secret.h"
#include "usage.h"

static const struct {
	const char	*code;
	int		 status;
	const char	*message;
} verdicts[TSK_VERDICT__COUNT] = {
	[TSK_VERDICT_ERROR] = { "UNAVAILABLE", 503,
	    "The credential could not be checked; try again later" },
	[TSK_VERDICT_OK] = { "OK", 200, "OK" },
	[TSK_VERDICT_MISSING] = { "MISSING", 401, "No API key or session ID was presented" },
	[TSK_VERDICT_INVALID] = { "INVALID", 401, "The API key or session ID is not valid" },
	[TSK_VERDICT_DISABLED] = { "DISABLED", 403, "The API key has been deactivated" },
	[TSK_VERDICT_EXPIRED] = { "EXPIRED", 403, "The API key or session has expired" },
	[TSK_VERDICT_NO_CREDIT] = { "NO_CREDIT", 403, "The account has no credit left" },
	[TSK_VERDICT_INSUFFICIENT_SCOPE] = { "INSUFFICIENT_SCOPE", 403,
	    "The API key does not have the scope this operation needs" },
	[TSK_VERDICT_IP_NOT_ALLOWED] = { "IP_NOT_ALLOWED", 403,
	    "The API key may not be used from this address" },
	[TSK_VERDICT_RATE_LIMITED] = { "RATE_LIMITED", 429,
	    "The API key's rate limit is used up; retry later" },
};

static enum tsk_verdict
known(enum tsk_verdict v)
{
	return (unsigned)v < TSK_VERDICT__COUNT ? v : TSK_VERDICT_ERROR;
}

const char *
validator_code(enum tsk_verdict v)
{
	return verdicts[known(v)].code;
}

int
validator_http_status(enum tsk_verdict v)
{
	return verdicts[known(v)].status;
}

const char *
validator_message(enum tsk_verdict v)
{
	return verdicts[known(v)].message;
}

void
validator_answer(const struct validator_policy *pol, enum tsk_verdict v,
    struct validator_answer *out)
{
	v = known(v);
	out->code = verdicts[v].code;
	out->status = verdicts[v].status;
	out->message = verdicts[v].message;
	if (pol != NULL && pol->uniform_errors && (v == TSK_VERDICT_MISSING ||
	    v == TSK_VERDICT_INVALID || v == TSK_VERDICT_DISABLED || v == TSK_VERDICT_EXPIRED)) {
		out->code = "UNAUTHORIZED";
		out->status = 401;
		out->message = "A valid API key or session ID is required";
	}
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

int
validator_has_scope(const char *scopes, const char *want)
{
	size_t		 n, wn;
	const char	*p = scopes;

	if (want == NULL || *want == '\0')
		return 1;
	wn = strlen(want);
	while (p != NULL && *p != '\0') {
		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n == wn && strncmp(p, want, n) == 0)
			return 1;
		p += n;
	}
	return 0;
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
	memcpy(p->env, k->env, sizeof(p->env));
	memcpy(p->scopes, k->scopes, sizeof(p->scopes));
	p->platform = k->platform;
	p->monthly_allowance = k->monthly_allowance;
	p->rate_minute = k->rate_minute;
	p->rate_day = k->rate_day;
	p->created_at = k->created_at;
	p->expires_at = k->expires_at;
	/* A key in its rotation grace window stops at the earlier of the two. */
	if (k->stops_at != 0 && (p->expires_at == 0 || k->stops_at < p->expires_at))
		p->expires_at = k->stops_at;
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
	p->monthly_allowance = s->monthly_allowance;
	p->session_id = s->id;
	p->user_id = s->user_id;
	memcpy(p->user, s->user, sizeof(p->user));
	/* A Login session may do what the legacy service offered, nothing administrative. */
	snprintf(p->scopes, sizeof(p->scopes), "%s", TSK_SCOPES_DEFAULT);
	p->created_at = s->created_at;
	p->last_used_at = s->last_seen_at;
	p->expires_at = s->last_seen_at + idle;
}

/* The month a monthly allowance belongs to: "YYYY-MM", UTC. */
static void
month_of(int64_t now, char out[STORE_MONTH_MAX])
{
	time_t		t = (time_t)now;
	struct tm	tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, STORE_MONTH_MAX, "%Y-%m", &tm) == 0)
		out[0] = '\0';
}

/*
 * The checks every principal shares once it is known to be current: address, scope, rate,
 * credit. Keys carry an allowlist and limits; sessions carry neither.
 */
static enum tsk_verdict
judge_policy(struct store *st, const struct validator_policy *pol,
    const struct validator_req *req, const char *ip_allow, struct tsk_principal *p,
    const char *allowance_month)
{
	char	month[STORE_MONTH_MAX];
	int64_t	keep = 0;

	if (ip_allow != NULL && *ip_allow != '\0' &&
	    (req->client_addr == NULL || !ipallow_match(ip_allow, req->client_addr)))
		return TSK_VERDICT_IP_NOT_ALLOWED;
	if (!validator_has_scope(p->scopes, req->scope))
		return TSK_VERDICT_INSUFFICIENT_SCOPE;
	if (pol->rl != NULL && (p->rate_minute > 0 || p->rate_day > 0) &&
	    !ratelimit_take(pol->rl, p->key_id, p->rate_minute, p->rate_day, req->now,
	    &p->retry_after))
		return TSK_VERDICT_RATE_LIMITED;
	/*
	 * A new month's allowance shows on any call, so a free balance query is not stale. The
	 * month is worked out only for accounts that have an allowance: it costs a gmtime_r.
	 */
	if (p->monthly_allowance > 0)
		month_of(req->now, month);
	if (p->monthly_allowance > 0 && strcmp(month, allowance_month) != 0) {
		if (store_allowance_refill(st, p->account_id, month) != TSK_OK)
			return TSK_VERDICT_ERROR;
		/* What the refill made of the balance we read before it. */
		if (p->credit < p->monthly_allowance)
			p->credit = p->monthly_allowance;
	}
	/* p->credit is the stored balance; credit spent in memory and not yet written counts. */
	if (req->cost <= 0) {
		if (pol->usage != NULL && pol->batch_credit)
			p->credit -= usage_spent(pol->usage, p->account_id);
		return TSK_VERDICT_OK;
	}
	/* A store opened read-only will never take the spending: let it refuse the debit itself. */
	if (pol->usage != NULL && pol->batch_credit && !store_readonly(st)) {
		switch (usage_debit(pol->usage, p->account_id, req->cost, p->credit,
		    pol->batch_credit_max_unwritten, &p->credit)) {
		case USAGE_DEBIT_OK:
			return TSK_VERDICT_OK;
		case USAGE_DEBIT_NO_CREDIT:
			return TSK_VERDICT_NO_CREDIT;
		case USAGE_DEBIT_FAILED:
			return TSK_VERDICT_ERROR;	/* spending could not be written: fail closed */
		case USAGE_DEBIT_STORE:
			break;
		}
		/* What is spent here and not written is not the store's to give again. */
		keep = usage_spent(pol->usage, p->account_id);
	}
	switch (store_credit_debit(st, p->account_id, req->cost, keep)) {
	case TSK_OK:
		p->credit -= req->cost;	/* what remains, as far as this request knows */
		return TSK_VERDICT_OK;
	case TSK_ERR_CONFLICT:
		return TSK_VERDICT_NO_CREDIT;
	default:
		return TSK_VERDICT_ERROR;
	}
}

/*
 * Record a successful use for last-used and the migration report: batched where the server
 * runs a flusher, else written at once. A lost note denies nothing.
 */
static void
note_use(struct store *st, const struct validator_policy *pol, const struct validator_req *req,
    enum usage_subject subject, int64_t id)
{
	enum usage_path	path = USAGE_PATH_REST;
	int64_t		soap_at;

	if (req->silent)
		return;
	if (req->channel == TSK_CHANNEL_SOAP)
		path = subject == USAGE_KEY ? USAGE_PATH_SOAP_KEY : USAGE_PATH_SOAP_SESSION;
	if (pol->usage != NULL) {
		(void)usage_note_on(pol->usage, subject, id, path, req->now);
		return;
	}
	soap_at = path == USAGE_PATH_REST ? 0 : req->now;
	if (subject == USAGE_KEY)
		(void)store_key_usage(st, id, req->now, 1, soap_at != 0, soap_at);
	else
		(void)store_user_usage(st, id, soap_at == 0, soap_at != 0, soap_at);
}

static enum tsk_verdict
judge_key(struct store *st, const struct validator_policy *pol, const struct validator_req *req,
    const struct store_key *k, struct tsk_principal *p)
{
	enum tsk_verdict	v;

	principal_from_key(k, p);
	if (k->status != STORE_KEY_ACTIVE)
		return TSK_VERDICT_DISABLED;
	if (p->expires_at != 0 && req->now >= p->expires_at)
		return TSK_VERDICT_EXPIRED;
	v = judge_policy(st, pol, req, k->ip_allow, p, k->allowance_month);
	if (v != TSK_VERDICT_OK)
		return v;
	note_use(st, pol, req, USAGE_KEY, k->id);
	return TSK_VERDICT_OK;
}

static enum tsk_verdict
judge_session(struct store *st, const struct validator_policy *pol,
    const struct validator_req *req, const struct store_session *s, struct tsk_principal *p)
{
	enum tsk_verdict	v;

	principal_from_session(s, pol->session_idle, p);
	if (req->now >= p->expires_at)
		return TSK_VERDICT_EXPIRED;
	v = judge_policy(st, pol, req, NULL, p, s->allowance_month);
	if (v != TSK_VERDICT_OK)
		return v;
	(void)store_session_touch(st, s->id, req->now, pol->touch_slack);
	note_use(st, pol, req, USAGE_USER, s->user_id);
	return TSK_VERDICT_OK;
}

/* Refusals that name a known key keep it for the log; nothing may read them as a yes. */
static int
keeps_principal(enum tsk_verdict v)
{
	return v != TSK_VERDICT_ERROR && v != TSK_VERDICT_MISSING && v != TSK_VERDICT_INVALID;
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
		v = judge_key(st, pol, req, &k, out);
		goto out;
	}
	if (rc == TSK_NOT_FOUND && fmt != SECRET_FMT_TSK) {
		/* A tsk_ key is never a session key: only other shapes are looked up as one. */
		rc = store_session_by_hash(st, hash, &s);
		if (rc == TSK_OK) {
			v = judge_session(st, pol, req, &s, out);
			goto out;
		}
	}
	v = rc == TSK_NOT_FOUND ? TSK_VERDICT_INVALID : TSK_VERDICT_ERROR;
out:
	if (!keeps_principal(v)) {
		memset(out, 0, sizeof(*out));
	} else if (v != TSK_VERDICT_RATE_LIMITED) {
		out->retry_after = 0;
	}
	secret_wipe(hash, sizeof(hash));
	return v;
}
