/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/metrics.c: channels from routes, the status and verdict slots, histogram
 * buckets at their bounds, the exposition text, and exact counts from many threads at once.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"
#include "tsk.h"

static char *
render(struct metrics *m, const struct metrics_store *st)
{
	char	*text = NULL;
	size_t	 len = 0;

	assert_int_equal(metrics_render(m, st, &text, &len), 0);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	return text;
}

/* The value of the sample line that starts with series (name and labels), or -1. */
static double
value_of(const char *text, const char *series)
{
	const char	*p = text;
	size_t		 n = strlen(series);

	for (; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p != NULL ? p + 1 : NULL) {
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return atof(p + n + 1);
	}
	return -1;
}

static void
test_channels(void **state)
{
	(void)state;
	assert_int_equal(metrics_channel_of("soap:CreditRemaining", 1), METRICS_CH_SOAP);
	assert_int_equal(metrics_channel_of("soap:Logout", 1), METRICS_CH_SOAP);
	assert_int_equal(metrics_channel_of("soap:action", 1), METRICS_CH_SOAP);
	assert_int_equal(metrics_channel_of("soap:Login", 1), METRICS_CH_LOGIN);
	assert_int_equal(metrics_channel_of("/rest/login", 0), METRICS_CH_LOGIN);
	assert_int_equal(metrics_channel_of("/rest/credit", 0), METRICS_CH_REST);
	assert_int_equal(metrics_channel_of("/rest/verify", 0), METRICS_CH_REST);
	assert_int_equal(metrics_channel_of("/admin/v1/keys/{id}", 0), METRICS_CH_ADMIN);
	assert_int_equal(metrics_channel_of("/admin/v1/", 0), METRICS_CH_ADMIN);
	/* A SOAP POST that failed before an operation keeps the route "-". */
	assert_int_equal(metrics_channel_of("-", 1), METRICS_CH_SOAP);
	assert_int_equal(metrics_channel_of("-", 0), METRICS_CH_OTHER);
	assert_int_equal(metrics_channel_of(NULL, 0), METRICS_CH_OTHER);
	assert_int_equal(metrics_channel_of("/metrics", 0), METRICS_CH_OTHER);
	assert_int_equal(metrics_channel_of("wsdl", 0), METRICS_CH_OTHER);
	assert_int_equal(metrics_channel_of("unknown", 0), METRICS_CH_OTHER);
	assert_string_equal(metrics_channel_name(METRICS_CH_LOGIN), "login");
	assert_string_equal(metrics_channel_name((enum metrics_channel)99), "other");
}

static void
test_counts_and_labels(void **state)
{
	struct metrics		*m = metrics_new();
	struct metrics_store	 st = { 1, 7, 3, 2, 1 };
	char			*t;

	(void)state;
	assert_non_null(m);
	metrics_request(m, METRICS_CH_REST, TSK_VERDICT_OK, 200, 0.0001);
	metrics_request(m, METRICS_CH_REST, TSK_VERDICT_OK, 200, 0.0002);
	metrics_request(m, METRICS_CH_REST, TSK_VERDICT_INVALID, 401, 0.0003);
	metrics_request(m, METRICS_CH_SOAP, TSK_VERDICT_ERROR, 500, 0.002);
	metrics_request(m, METRICS_CH_OTHER, -1, 404, 0.0001);
	metrics_request(m, METRICS_CH_OTHER, -1, 0, 0.0001);		/* no response sent */
	metrics_request(m, METRICS_CH_OTHER, -1, 418, 0.0001);		/* not a status of ours */
	metrics_request(m, (enum metrics_channel)42, 99, 200, 0.0001);	/* out of range */
	metrics_conn(m, 1);
	metrics_conn(m, 1);
	metrics_conn(m, -1);
	t = render(m, &st);
	assert_true(value_of(t, "tskey_requests_total{channel=\"rest\",code=\"OK\","
	    "status=\"200\"}") == 2);
	assert_true(value_of(t, "tskey_requests_total{channel=\"rest\",code=\"INVALID\","
	    "status=\"401\"}") == 1);
	assert_true(value_of(t, "tskey_requests_total{channel=\"soap\",code=\"UNAVAILABLE\","
	    "status=\"500\"}") == 1);
	assert_true(value_of(t, "tskey_requests_total{channel=\"other\",code=\"none\","
	    "status=\"404\"}") == 1);
	assert_true(value_of(t, "tskey_requests_total{channel=\"other\",code=\"none\","
	    "status=\"0\"}") == 1);
	assert_true(value_of(t, "tskey_requests_total{channel=\"other\",code=\"none\","
	    "status=\"other\"}") == 1);
	assert_true(value_of(t, "tskey_requests_total{channel=\"other\",code=\"none\","
	    "status=\"200\"}") == 1);
	/* Zero series are left out; the histogram is there for every channel. */
	assert_null(strstr(t, "channel=\"login\",code="));
	assert_true(value_of(t, "tskey_request_duration_seconds_count{channel=\"login\"}") == 0);
	assert_true(value_of(t, "tskey_connections_open") == 1);
	assert_true(value_of(t, "tskey_store_up") == 1);
	assert_true(value_of(t, "tskey_keys_active") == 7);
	assert_true(value_of(t, "tskey_sessions_live") == 3);
	assert_true(value_of(t, "tskey_store_errors_total") == 2);
	assert_true(value_of(t, "tskey_store_pool_timeouts_total") == 1);
	assert_non_null(strstr(t, "# TYPE tskey_requests_total counter\n"));
	assert_non_null(strstr(t, "# TYPE tskey_request_duration_seconds histogram\n"));
	free(t);
	/* The store down: its gauges are left out rather than shown as 0. */
	st.up = 0;
	t = render(m, &st);
	assert_true(value_of(t, "tskey_store_up") == 0);
	assert_null(strstr(t, "tskey_keys_active"));
	assert_null(strstr(t, "tskey_sessions_live"));
	assert_true(value_of(t, "tskey_store_errors_total") == 2);
	free(t);
	metrics_free(m);
}

static void
test_histogram_buckets(void **state)
{
	struct metrics		*m = metrics_new();
	struct metrics_store	 st = { 0 };
	char			*t;

	(void)state;
	/* A bound is inclusive (le): 1 ms lands in le="0.001". */
	metrics_request(m, METRICS_CH_LOGIN, TSK_VERDICT_OK, 200, 0.001);
	metrics_request(m, METRICS_CH_LOGIN, TSK_VERDICT_OK, 200, 0.0011);
	metrics_request(m, METRICS_CH_LOGIN, TSK_VERDICT_OK, 200, 0.08);
	metrics_request(m, METRICS_CH_LOGIN, TSK_VERDICT_OK, 200, 60);
	metrics_request(m, METRICS_CH_LOGIN, TSK_VERDICT_OK, 200, -1);	/* clock oddity: 0 */
	t = render(m, &st);
	assert_true(value_of(t, "tskey_request_duration_seconds_bucket{channel=\"login\","
	    "le=\"0.0005\"}") == 1);
	assert_true(value_of(t, "tskey_request_duration_seconds_bucket{channel=\"login\","
	    "le=\"0.001\"}") == 2);
	assert_true(value_of(t, "tskey_request_duration_seconds_bucket{channel=\"login\","
	    "le=\"0.0025\"}") == 3);
	assert_true(value_of(t, "tskey_request_duration_seconds_bucket{channel=\"login\","
	    "le=\"0.1\"}") == 4);
	assert_true(value_of(t, "tskey_request_duration_seconds_bucket{channel=\"login\","
	    "le=\"10\"}") == 4);
	assert_true(value_of(t, "tskey_request_duration_seconds_bucket{channel=\"login\","
	    "le=\"+Inf\"}") == 5);
	assert_true(value_of(t, "tskey_request_duration_seconds_count{channel=\"login\"}") == 5);
	assert_true(value_of(t, "tskey_request_duration_seconds_sum{channel=\"login\"}") > 60.08);
	assert_true(value_of(t, "tskey_request_duration_seconds_sum{channel=\"login\"}") < 60.09);
	free(t);
	metrics_free(m);
}

#define THREADS	8
#define EACH	20000

static void *
hammer(void *arg)
{
	struct metrics	*m = arg;
	int		 i;

	for (i = 0; i < EACH; i++)
		metrics_request(m, METRICS_CH_SOAP, TSK_VERDICT_OK, 200, 0.003);
	return NULL;
}

static void
test_threads_lose_nothing(void **state)
{
	struct metrics		*m = metrics_new();
	struct metrics_store	 st = { 0 };
	pthread_t		 t[THREADS];
	char			*text;
	int			 i;

	(void)state;
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, m), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	text = render(m, &st);
	assert_true(value_of(text, "tskey_requests_total{channel=\"soap\",code=\"OK\","
	    "status=\"200\"}") == THREADS * EACH);
	assert_true(value_of(text, "tskey_request_duration_seconds_bucket{channel=\"soap\","
	    "le=\"0.005\"}") == THREADS * EACH);
	free(text);
	metrics_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_channels),
		cmocka_unit_test(test_counts_and_labels),
		cmocka_unit_test(test_histogram_buckets),
		cmocka_unit_test(test_threads_lose_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
