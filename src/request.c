/* SPDX-License-Identifier: MIT */
/*
 * Per-request helpers the front ends share: the borrowed store, the validator call with the
 * operation's scope and cost, what a refusal is told, extra response headers, the log notes.
 */
#include "request.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "soapH.h"

#define STORE_WAIT_MS	2000	/* a request waits this long for a database connection */

struct store *
request_store(struct request *r)
{
	if (r->store == NULL)
		r->store = storepool_get(r->pool, STORE_WAIT_MS);
	return r->store;
}

static struct store *
lease_get(void *arg)
{
	return request_store(arg);
}

static void
lease_put(void *arg, struct store *st)
{
	struct request	*r = arg;

	if (st != NULL && r->store == st) {
		storepool_put(r->pool, st);
		r->store = NULL;
	}
}

void
request_login_lease(struct request *r, struct login_lease *ls)
{
	ls->get = lease_get;
	ls->put = lease_put;
	ls->arg = r;
}

void
request_note(struct request *r, enum tsk_verdict v, const struct tsk_principal *p)
{
	r->verdict = v;
	r->verdict_set = 1;
	if (p != NULL) {
		r->key_id = p->key_id;
		r->account_id = p->account_id;
		r->retry_after = p->retry_after;
	}
}

enum tsk_verdict
request_authenticate(struct request *r, const char *credential, enum tsk_channel channel,
    enum tsk_op op, struct tsk_principal *p)
{
	struct validator_req	vr;
	enum tsk_verdict	v;

	memset(&vr, 0, sizeof(vr));
	vr.credential = credential;
	vr.len = credential != NULL ? strlen(credential) : 0;
	vr.channel = channel;
	vr.client_addr = r->client;
	vr.scope = ops_info(op)->scope;
	vr.cost = r->cfg->op_cost[op];
	vr.now = time(NULL);
	v = validator_check(request_store(r), r->policy, &vr, p);
	request_note(r, v, p);
	return v;
}

void
request_answer(const struct request *r, enum tsk_verdict v, struct validator_answer *out)
{
	validator_answer(r->policy, v, out);
}

void
request_add_header(struct request *r, struct soap *soap, const char *line)
{
	size_t	n = strlen(r->extra_hdr);

	/* gSOAP sends http_extra_header as one block: lines joined by CRLF. */
	snprintf(r->extra_hdr + n, sizeof(r->extra_hdr) - n, "%s%s", n > 0 ? "\r\n" : "", line);
	soap->http_extra_header = r->extra_hdr;
}

void
request_login_headers(struct request *r, struct soap *soap)
{
	char		line[64];
	time_t		t;
	struct tm	tm;

	if (r->cfg->login_deprecation != 0) {
		snprintf(line, sizeof(line), "Deprecation: @%lld",
		    (long long)r->cfg->login_deprecation);
		request_add_header(r, soap, line);
	}
	t = (time_t)r->cfg->login_sunset;
	if (t != 0 && gmtime_r(&t, &tm) != NULL &&
	    strftime(line, sizeof(line), "Sunset: %a, %d %b %Y %H:%M:%S GMT", &tm) > 0)
		request_add_header(r, soap, line);
}
