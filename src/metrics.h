/* SPDX-License-Identifier: MIT */
/*
 * The server's counters for GET /metrics (Prometheus text format 0.0.4): requests by channel,
 * verdict code and HTTP status, a fixed-bucket latency histogram by channel, and open
 * connections. Counting is lock-free (relaxed atomics): the request path never waits on a
 * scrape. Gauges that live in the store (keys, sessions, store errors) are read at scrape time
 * by the caller and handed to metrics_render. Labels take values from fixed sets only: never a
 * key, a user, an account or a raw path.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Which front end a request went to; see metrics_channel_of. */
enum metrics_channel {
	METRICS_CH_SOAP = 0,	/* CreditRemaining, Logout and faults of the SOAP endpoint */
	METRICS_CH_REST,	/* /rest/... but Login */
	METRICS_CH_LOGIN,	/* the legacy Login: SOAP Login and POST /rest/login */
	METRICS_CH_ADMIN,	/* /admin/v1/... */
	METRICS_CH_OTHER,	/* contracts, health, metrics, unknown paths, refused framing */
	METRICS_CH__COUNT
};

struct metrics;

/* A zeroed set of counters, owned by the caller (metrics_free); NULL when out of memory. */
struct metrics	*metrics_new(void);
void		 metrics_free(struct metrics *m);	/* NULL is fine */

/*
 * The channel of a request from the route the front end logged (request.h) and whether it went
 * to gSOAP's dispatcher (a SOAP POST; its route stays "-" when it failed before an operation).
 */
enum metrics_channel metrics_channel_of(const char *route, int soap_dispatch);
/* "soap", "rest", "login", "admin", "other". */
const char	*metrics_channel_name(enum metrics_channel ch);

/*
 * Count one answered request: verdict is an enum tsk_verdict, or -1 when none was reached;
 * status the HTTP status sent (0: none); seconds its latency. Thread-safe, lock-free. A NULL
 * m counts nothing (a server set up without metrics, as a test harness may).
 */
void		 metrics_request(struct metrics *m, enum metrics_channel ch, int verdict,
		    int status, double seconds);

/* A connection opened (+1) or closed (-1). Thread-safe, lock-free; NULL m: nothing. */
void		 metrics_conn(struct metrics *m, int delta);

/* What the store says at scrape time. */
struct metrics_store {
	int		up;		/* 0: it could not be asked; the two counts are left out */
	int64_t		keys_active;	/* usable keys: active, not expired, not past a grace */
	int64_t		sessions_live;	/* Login sessions used within the idle limit */
	uint64_t	errors;		/* database errors since start (storepool.h) */
	uint64_t	pool_timeouts;	/* requests that found no free database connection */
};

/*
 * The exposition text of m and st, NUL-terminated, in *out (malloc'd, owned by the caller);
 * *len its length. 0, or -1 when out of memory. Safe beside concurrent metrics_request calls
 * (a scrape may see a request in the counters a moment before its histogram).
 */
int		 metrics_render(const struct metrics *m, const struct metrics_store *st,
		    char **out, size_t *len);

#endif
