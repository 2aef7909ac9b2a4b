/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/ratelimit.c: per-minute and per-day windows, retry_after, roll-over,
 * refusals that do not count, reuse of entries in a full table, and exact counting under
 * concurrent takes.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ratelimit.h"

#define NOV25	INT64_C(1795564800)	/* 2026-11-25T00:00:00Z: a minute and a day boundary */

/* A value no take in these tests writes, to see whether one wrote retry_after. */
#define UNTOUCHED	INT64_C(-4242)

static int
setup(void **state)
{
	*state = ratelimit_new(64);
	return *state == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	ratelimit_free(*state);
	return 0;
}

/* Take n requests that must all be allowed. */
static void
take_ok(struct ratelimit *rl, int64_t key, int64_t pm, int64_t pd, int64_t now, int n)
{
	int64_t	retry = UNTOUCHED;
	int	i;

	for (i = 0; i < n; i++) {
		if (ratelimit_take(rl, key, pm, pd, now, &retry) != 1)
			fail_msg("key %lld: take %d of %d refused", (long long)key, i + 1, n);
	}
	assert_int_equal(retry, UNTOUCHED);
}

/* A take that must be refused; its retry_after. */
static int64_t
take_refused(struct ratelimit *rl, int64_t key, int64_t pm, int64_t pd, int64_t now)
{
	int64_t	retry = UNTOUCHED;

	assert_int_equal(ratelimit_take(rl, key, pm, pd, now, &retry), 0);
	assert_true(retry >= 1);
	return retry;
}

static void
used(struct ratelimit *rl, int64_t key, int64_t now, int64_t minute, int64_t day)
{
	int64_t	m = UNTOUCHED, d = UNTOUCHED;

	ratelimit_peek(rl, key, now, &m, &d);
	assert_int_equal(m, minute);
	assert_int_equal(d, day);
}

static void
test_new_rejects_zero(void **state)
{
	(void)state;
	assert_null(ratelimit_new(0));
	assert_null(ratelimit_new(-1));
	ratelimit_free(NULL);
}

static void
test_per_minute(void **state)
{
	struct ratelimit	*rl = *state;

	take_ok(rl, 1, 5, 0, NOV25 + 10, 5);
	used(rl, 1, NOV25 + 10, 5, 5);
	/* The window ends at NOV25 + 60: 50 seconds from the 10th second, 1 from the 59th. */
	assert_int_equal(take_refused(rl, 1, 5, 0, NOV25 + 10), 50);
	assert_int_equal(take_refused(rl, 1, 5, 0, NOV25 + 59), 1);
	/* Other keys have their own windows. */
	take_ok(rl, 2, 5, 0, NOV25 + 59, 5);
}

static void
test_minute_rollover(void **state)
{
	struct ratelimit	*rl = *state;

	take_ok(rl, 1, 3, 0, NOV25 + 30, 3);
	take_refused(rl, 1, 3, 0, NOV25 + 59);
	/* A fixed window: the next minute starts empty, whatever happened late in the last one. */
	used(rl, 1, NOV25 + 60, 0, 3);
	take_ok(rl, 1, 3, 0, NOV25 + 60, 3);
	assert_int_equal(take_refused(rl, 1, 3, 0, NOV25 + 61), 59);
	used(rl, 1, NOV25 + 61, 3, 6);
	take_ok(rl, 1, 3, 0, NOV25 + 3600, 3);
}

static void
test_per_day(void **state)
{
	struct ratelimit	*rl = *state;
	int64_t			 t = NOV25 + 3600;

	take_ok(rl, 1, 0, 4, t, 2);
	take_ok(rl, 1, 0, 4, t + 600, 2);
	/* The day ends at NOV25 + 86400. */
	assert_int_equal(take_refused(rl, 1, 0, 4, t + 1200), 86400 - 3600 - 1200);
	assert_int_equal(take_refused(rl, 1, 0, 4, NOV25 + 86399), 1);
	used(rl, 1, NOV25 + 86399, 0, 4);
	take_ok(rl, 1, 0, 4, NOV25 + 86400, 4);
	take_refused(rl, 1, 0, 4, NOV25 + 86400 + 5);
}

static void
test_both_limits(void **state)
{
	struct ratelimit	*rl = *state;
	int64_t			 midnight = NOV25 + 86400, t = midnight - 600;

	/* The minute limit bites first, while the day has room. */
	take_ok(rl, 1, 2, 5, t, 2);
	assert_int_equal(take_refused(rl, 1, 2, 5, t + 1), 59);
	take_ok(rl, 1, 2, 5, t + 60, 2);
	take_ok(rl, 1, 2, 5, t + 120, 1);
	used(rl, 1, t + 120, 1, 5);
	/* Now the day is full and the minute is not: wait for midnight, not the minute's end. */
	assert_int_equal(take_refused(rl, 1, 2, 5, t + 125), 475);
	assert_int_equal(take_refused(rl, 1, 2, 5, t + 300), 300);
	used(rl, 1, t + 300, 0, 5);
	/* The next day both windows are new, and the minute limit bites again. */
	take_ok(rl, 1, 2, 5, midnight, 2);
	assert_int_equal(take_refused(rl, 1, 2, 5, midnight), 60);
	used(rl, 1, midnight, 2, 2);
}

static void
test_both_full_later_end(void **state)
{
	struct ratelimit	*rl = *state;
	int64_t			 t = NOV25 + 7200 + 15;

	/* Minute and day full at once: the day ends far later, so that is the wait. */
	take_ok(rl, 1, 3, 3, t, 3);
	assert_int_equal(take_refused(rl, 1, 3, 3, t), 86400 - 7200 - 15);
	/* Minute full, day not: the minute's end. */
	take_ok(rl, 2, 3, 4, t, 3);
	assert_int_equal(take_refused(rl, 2, 3, 4, t), 45);
	/* Day full, minute not: the day's end. */
	take_ok(rl, 3, 4, 3, t, 3);
	assert_int_equal(take_refused(rl, 3, 4, 3, t), 86400 - 7200 - 15);
}

static void
test_refused_not_counted(void **state)
{
	struct ratelimit	*rl = *state;
	int			 i;

	take_ok(rl, 1, 2, 10, NOV25, 2);
	for (i = 0; i < 50; i++)
		take_refused(rl, 1, 2, 10, NOV25 + 1);
	used(rl, 1, NOV25 + 1, 2, 2);
	/* Had the refusals counted, the day would be full by now. */
	take_ok(rl, 1, 2, 10, NOV25 + 60, 2);
	take_ok(rl, 1, 2, 10, NOV25 + 120, 2);
	used(rl, 1, NOV25 + 120, 2, 6);
}

static void
test_unlimited_stores_nothing(void **state)
{
	struct ratelimit	*rl;
	int64_t			 key;

	(void)state;
	/* One slot only: were unlimited keys stored, they would push the limited key out. */
	rl = ratelimit_new(1);
	assert_non_null(rl);
	take_ok(rl, 1, 2, 0, NOV25, 2);
	for (key = 100; key < 200; key++)
		take_ok(rl, key, 0, 0, NOV25 + 1, 3);
	used(rl, 100, NOV25 + 1, 0, 0);
	used(rl, 1, NOV25 + 1, 2, 2);
	take_refused(rl, 1, 2, 0, NOV25 + 1);
	/* Both 0 is always allowed, even for a key that has an entry and a full window. */
	take_ok(rl, 1, 0, 0, NOV25 + 1, 5);
	ratelimit_free(rl);
}

static void
test_peek_unknown(void **state)
{
	struct ratelimit	*rl = *state;

	used(rl, 42, NOV25, 0, 0);
	take_ok(rl, 42, 10, 10, NOV25, 1);
	used(rl, 42, NOV25, 1, 1);
	/* peek never counts. */
	used(rl, 42, NOV25, 1, 1);
	used(rl, 42, NOV25 + 86400, 0, 0);
}

static void
test_table_full_reuse(void **state)
{
	struct ratelimit	*rl;
	int64_t			 key, t = NOV25;

	(void)state;
	rl = ratelimit_new(4);
	assert_non_null(rl);
	/* 100 keys through 4 slots, each a second later: every one gets a working entry. */
	for (key = 1; key <= 100; key++) {
		t++;
		take_ok(rl, key, 2, 0, t, 2);
		take_refused(rl, key, 2, 0, t);
		used(rl, key, t, 2, 2);
	}
	/* The four most recently touched keys are still there; the first ones were reused. */
	for (key = 97; key <= 100; key++)
		used(rl, key, t, 2, 2);
	used(rl, 1, t, 0, 0);
	take_ok(rl, 1, 2, 0, t, 2);
	/* Reusing the stalest slot (key 97's) leaves the three touched after it alone. */
	for (key = 98; key <= 100; key++)
		used(rl, key, t, 2, 2);
	used(rl, 97, t, 0, 0);
	ratelimit_free(rl);
}

struct hammer {
	struct ratelimit	*rl;
	pthread_barrier_t	*start;
	int64_t			 now;
	int			 allowed;
};

static void *
hammer_run(void *arg)
{
	struct hammer	*h = arg;
	int64_t		 retry;
	int		 i;

	/* All four start together, so the takes really do contend for the lock. */
	pthread_barrier_wait(h->start);
	for (i = 0; i < 1000; i++)
		h->allowed += ratelimit_take(h->rl, 7, 1500, 0, h->now, &retry);
	return NULL;
}

/* 4 threads x 1000 takes against 1500 a minute, in the minute holding now: exactly 1500 pass. */
static void
hammer_round(struct ratelimit *rl, int64_t now)
{
	struct hammer		h[4];
	pthread_t		tid[4];
	pthread_barrier_t	start;
	int			i, total = 0;

	assert_int_equal(pthread_barrier_init(&start, NULL, 4), 0);
	for (i = 0; i < 4; i++) {
		h[i].rl = rl;
		h[i].start = &start;
		h[i].now = now;
		h[i].allowed = 0;
		assert_int_equal(pthread_create(&tid[i], NULL, hammer_run, &h[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
		total += h[i].allowed;
	}
	pthread_barrier_destroy(&start);
	assert_int_equal(total, 1500);
	/* The day counts every round so far. */
	used(rl, 7, now, 1500, 1500 * ((now - NOV25) / 60 + 1));
}

static void
test_threads_exact(void **state)
{
	struct ratelimit	*rl = *state;
	int64_t			 minute;

	/* A lost update shows only when two takes interleave: give it twenty rounds to show. */
	for (minute = 0; minute < 20; minute++)
		hammer_round(rl, NOV25 + 60 * minute + 30);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_rejects_zero),
		cmocka_unit_test_setup_teardown(test_per_minute, setup, teardown),
		cmocka_unit_test_setup_teardown(test_minute_rollover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_day, setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_full_later_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_not_counted, setup, teardown),
		cmocka_unit_test(test_unlimited_stores_nothing),
		cmocka_unit_test_setup_teardown(test_peek_unknown, setup, teardown),
		cmocka_unit_test(test_table_full_reuse),
		cmocka_unit_test_setup_teardown(test_threads_exact, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
