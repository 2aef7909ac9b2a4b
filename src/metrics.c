/* SPDX-License-Identifier: MIT */
/*
 * Request counters and the latency histogram behind GET /metrics, kept in fixed arrays of
 * relaxed atomics indexed by channel, verdict and status: counting is one or three atomic adds,
 * with no lock and no allocation, and the label sets are fixed here so that no caller can grow
 * them. The store's gauges come from the caller; this file knows no SQL and no HTTP.
 */
#include "metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tsk.h"
#include "validator.h"

#define NCODES		(TSK_VERDICT__COUNT + 1)	/* the verdicts, and "none" last */

/* The statuses tskey sends; anything else is counted as "other" (the last slot). */
static const int statuses[] = { 0, 200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 415,
    429, 431, 500, 501, 503 };
#define NSTATUS		(sizeof(statuses) / sizeof(statuses[0]) + 1)

/* Upper bounds in seconds: sub-millisecond REST lookups up to a Login's scrypt and beyond. */
static const double buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1, 2.5, 5, 10 };
#define NBUCKETS	(sizeof(buckets) / sizeof(buckets[0]) + 1)	/* and +Inf */

static const char *const channel_names[METRICS_CH__COUNT] = {
	[METRICS_CH_SOAP] = "soap",
	[METRICS_CH_REST] = "rest",
	[METRICS_CH_LOGIN] = "login",
	[METRICS_CH_ADMIN] = "admin",
	[METRICS_CH_OTHER] = "other",
};

struct metrics {
	_Atomic uint64_t	requests[METRICS_CH__COUNT][NCODES][NSTATUS];
	/* per bucket, not cumulative: one add per request; summed up when rendered */
	_Atomic uint64_t	latency[METRICS_CH__COUNT][NBUCKETS];
	_Atomic uint64_t	latency_ns[METRICS_CH__COUNT];
	_Atomic int64_t		conns;
	time_t			started;
};

struct metrics *
metrics_new(void)
{
	struct metrics	*m = calloc(1, sizeof(*m));

	if (m != NULL)
		m->started = time(NULL);
	return m;
}

void
metrics_free(struct metrics *m)
{
	free(m);
}

const char *
metrics_channel_name(enum metrics_channel ch)
{
	return (unsigned)ch < METRICS_CH__COUNT ? channel_names[ch] : "other";
}

enum metrics_channel
metrics_channel_of(const char *route, int soap_dispatch)
{
	if (route == NULL || strcmp(route, "-") == 0)
		return soap_dispatch ? METRICS_CH_SOAP : METRICS_CH_OTHER;
	if (strcmp(route, "soap:Login") == 0 || strcmp(route, "/rest/login") == 0)
		return METRICS_CH_LOGIN;
	if (strncmp(route, "soap:", 5) == 0)
		return METRICS_CH_SOAP;
	if (strncmp(route, "/rest/", 6) == 0)
		return METRICS_CH_REST;
	if (strncmp(route, "/admin/", 7) == 0)
		return METRICS_CH_ADMIN;
	return METRICS_CH_OTHER;
}

static size_t
status_slot(int status)
{
	size_t	i;

	for (i = 0; i < NSTATUS - 1; i++) {
		if (statuses[i] == status)
			return i;
	}
	return NSTATUS - 1;
}

void
metrics_request(struct metrics *m, enum metrics_channel ch, int verdict, int status,
    double seconds)
{
	size_t	code, b;

	if (m == NULL)
		return;
	if ((unsigned)ch >= METRICS_CH__COUNT)
		ch = METRICS_CH_OTHER;
	code = verdict >= 0 && verdict < TSK_VERDICT__COUNT ? (size_t)verdict : NCODES - 1;
	if (seconds < 0)
		seconds = 0;
	for (b = 0; b < NBUCKETS - 1 && seconds > buckets[b]; b++)
		;
	atomic_fetch_add_explicit(&m->requests[ch][code][status_slot(status)], 1,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&m->latency[ch][b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->latency_ns[ch], (uint64_t)(seconds * 1e9),
	    memory_order_relaxed);
}

void
metrics_conn(struct metrics *m, int delta)
{
	if (m == NULL)
		return;
	atomic_fetch_add_explicit(&m->conns, delta, memory_order_relaxed);
}

static uint64_t
load(const _Atomic uint64_t *a)
{
	return atomic_load_explicit((_Atomic uint64_t *)a, memory_order_relaxed);
}

static void
help(FILE *f, const char *name, const char *type, const char *text)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void
render_requests(FILE *f, const struct metrics *m)
{
	size_t	ch, code, s;
	uint64_t n;

	help(f, "tskey_requests_total", "counter", "Requests answered, by channel (soap, rest, "
	    "login, admin, other), verdict code (none: no credential was checked) and HTTP "
	    "status (0: no response was sent).");
	for (ch = 0; ch < METRICS_CH__COUNT; ch++) {
		for (code = 0; code < NCODES; code++) {
			for (s = 0; s < NSTATUS; s++) {
				n = load(&m->requests[ch][code][s]);
				if (n == 0)
					continue;
				fprintf(f, "tskey_requests_total{channel=\"%s\",code=\"%s\","
				    "status=\"", channel_names[ch], code < NCODES - 1 ?
				    validator_code((enum tsk_verdict)code) : "none");
				if (s < NSTATUS - 1)
					fprintf(f, "%d", statuses[s]);
				else
					fputs("other", f);
				fprintf(f, "\"} %llu\n", (unsigned long long)n);
			}
		}
	}
}

static void
render_latency(FILE *f, const struct metrics *m)
{
	size_t		ch, b;
	uint64_t	cum;

	help(f, "tskey_request_duration_seconds", "histogram", "Time from the request line to "
	    "the end of the answer, by channel.");
	for (ch = 0; ch < METRICS_CH__COUNT; ch++) {
		cum = 0;
		for (b = 0; b < NBUCKETS; b++) {
			cum += load(&m->latency[ch][b]);
			if (b < NBUCKETS - 1)
				fprintf(f, "tskey_request_duration_seconds_bucket{channel=\"%s\","
				    "le=\"%g\"} %llu\n", channel_names[ch], buckets[b],
				    (unsigned long long)cum);
			else
				fprintf(f, "tskey_request_duration_seconds_bucket{channel=\"%s\","
				    "le=\"+Inf\"} %llu\n", channel_names[ch],
				    (unsigned long long)cum);
		}
		fprintf(f, "tskey_request_duration_seconds_sum{channel=\"%s\"} %.9f\n",
		    channel_names[ch], (double)load(&m->latency_ns[ch]) / 1e9);
		fprintf(f, "tskey_request_duration_seconds_count{channel=\"%s\"} %llu\n",
		    channel_names[ch], (unsigned long long)cum);
	}
}

static void
render_store(FILE *f, const struct metrics_store *st)
{
	help(f, "tskey_store_up", "gauge", "1 when this scrape could read the database, else 0.");
	fprintf(f, "tskey_store_up %d\n", st->up ? 1 : 0);
	if (st->up) {
		help(f, "tskey_keys_active", "gauge", "API keys usable now: active, not expired, "
		    "not past a rotation's grace.");
		fprintf(f, "tskey_keys_active %lld\n", (long long)st->keys_active);
		help(f, "tskey_sessions_live", "gauge", "Login sessions used within the idle "
		    "limit.");
		fprintf(f, "tskey_sessions_live %lld\n", (long long)st->sessions_live);
	}
	help(f, "tskey_store_errors_total", "counter", "Database errors since the server "
	    "started (each is also logged).");
	fprintf(f, "tskey_store_errors_total %llu\n", (unsigned long long)st->errors);
	help(f, "tskey_store_pool_timeouts_total", "counter", "Requests that found no free "
	    "database connection in time (answered UNAVAILABLE).");
	fprintf(f, "tskey_store_pool_timeouts_total %llu\n",
	    (unsigned long long)st->pool_timeouts);
}

int
metrics_render(const struct metrics *m, const struct metrics_store *st, char **out,
    size_t *len)
{
	char	*buf = NULL;
	size_t	 n = 0;
	FILE	*f;
	int	 bad;

	if (m == NULL)
		return -1;
	f = open_memstream(&buf, &n);
	if (f == NULL)
		return -1;
	render_requests(f, m);
	render_latency(f, m);
	help(f, "tskey_connections_open", "gauge", "Client connections open now.");
	fprintf(f, "tskey_connections_open %lld\n", (long long)atomic_load_explicit(
	    (_Atomic int64_t *)&m->conns, memory_order_relaxed));
	render_store(f, st);
	help(f, "tskey_start_time_seconds", "gauge", "When the server started, in seconds since "
	    "the epoch.");
	fprintf(f, "tskey_start_time_seconds %lld\n", (long long)m->started);
	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		free(buf);
		return -1;
	}
	*out = buf;
	*len = n;
	return 0;
}
