/* SPDX-License-Identifier: MIT */
/*
 * GET /metrics, /healthz and /readyz: what a monitoring system and an orchestrator ask. No
 * credential: /metrics is limited by client address instead, and shows counts only, never a
 * key, user, account or path. Store reads here are short and read-only.
 */
#include "rest_ops.h"

#include <jansson.h>
#include <stdlib.h>
#include <time.h>

#include "ipallow.h"
#include "log.h"
#include "metrics.h"
#include "reply.h"
#include "soapH.h"
#include "storepool.h"

#define SCRAPE_STORE_WAIT_MS	1000	/* a scrape waits this long for a database connection */

int
rest_ops_scrape_allowed(const struct request *r)
{
	const struct config	*cfg = r->cfg;

	/* ipallow reads "" as everyone; here it means no one. */
	if (cfg->metrics_allow[0] == '\0')
		return 0;
	if (r->forwarded != NULL && (cfg->trusted_proxies[0] == '\0' ||
	    !ipallow_match(cfg->trusted_proxies, r->peer)))
		return 0;
	return ipallow_match(cfg->metrics_allow, r->client);
}

/* The store's side of a scrape, on a connection of its own so its errors count in this one. */
static void
scrape_store(struct request *r, struct metrics_store *ms)
{
	struct store		*st = storepool_get(r->pool, SCRAPE_STORE_WAIT_MS);
	struct store_stats	 s;

	ms->up = 0;
	if (st != NULL && store_stats(st, (int64_t)time(NULL), r->cfg->session_idle, &s) ==
	    TSK_OK) {
		ms->up = 1;
		ms->keys_active = s.keys_active;
		ms->sessions_live = s.sessions_live;
	}
	storepool_put(r->pool, st);
	storepool_counts(r->pool, &ms->errors, &ms->pool_timeouts);
}

int
rest_ops_metrics(struct soap *soap, struct request *r, const struct rest_body *b)
{
	struct metrics_store	 ms = { 0 };
	char			*text = NULL;
	size_t			 len = 0;
	int			 rc;

	(void)b;
	if (!rest_ops_scrape_allowed(r))
		return reply_error(soap, r, 403, "FORBIDDEN", "Metrics are served to the "
		    "addresses in --metrics-allow only");
	scrape_store(r, &ms);
	if (metrics_render(r->metrics, &ms, &text, &len) != 0) {
		log_warnx("metrics: cannot render");
		return reply_json(soap, r, 500, NULL);
	}
	rc = reply_raw(soap, r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
	free(text);
	return rc;
}

int
rest_ops_healthz(struct soap *soap, struct request *r, const struct rest_body *b)
{
	(void)b;
	/* Answering at all is the check: the process runs and a connection thread served it. */
	return reply_json(soap, r, 200, json_pack("{s:s}", "status", "ok"));
}

int
rest_ops_readyz(struct soap *soap, struct request *r, const struct rest_body *b)
{
	struct store	*st = request_store(r);

	(void)b;
	if (st == NULL || store_ping(st) != TSK_OK)
		return reply_json(soap, r, 503, json_pack("{s:s, s:s}", "status", "unavailable",
		    "store", "error"));
	return reply_json(soap, r, 200, json_pack("{s:s, s:s}", "status", "ready", "store",
	    "ok"));
}
