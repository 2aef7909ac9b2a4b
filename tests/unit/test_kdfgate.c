/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/kdfgate.c: slots are counted, a waiter gets a slot given back, a wait
 * ends by its deadline, and a full queue is refused at once. Waits are real (threads and the
 * monotonic clock); no test asserts a speed, only lower bounds the contract promises and upper
 * bounds far above anything but a hang.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kdfgate.h"

#define LONG_WAIT_MS	30000	/* a waiter that must be woken, not time out */
#define POLLS_MAX	30000	/* 1 ms apart: how long a test waits for a thread to queue */

static double
now_ms(void)
{
	struct timespec	t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void
sleep_ms(long ms)
{
	struct timespec	t = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

/* Poll until n threads wait on g (bounded: the test fails rather than hangs). */
static void
await_waiting(struct kdfgate *g, int n)
{
	int	busy, waiting = -1, i;

	for (i = 0; i < POLLS_MAX; i++) {
		kdfgate_load(g, &busy, &waiting);
		if (waiting == n)
			return;
		sleep_ms(1);
	}
	fail_msg("%d waiting, want %d", waiting, n);
}

struct entrant {
	pthread_t	 thr;
	struct kdfgate	*g;
	int		 rc;
};

static void *
enter_main(void *arg)
{
	struct entrant	*e = arg;

	e->rc = kdfgate_enter(e->g);
	return NULL;
}

static void
start_entrant(struct entrant *e, struct kdfgate *g)
{
	e->g = g;
	e->rc = 99;
	assert_int_equal(pthread_create(&e->thr, NULL, enter_main, e), 0);
}

static void
test_slots_counted(void **state)
{
	struct kdfgate	*g = kdfgate_new(2, 0, 50);
	int		 busy, waiting;

	(void)state;
	assert_non_null(g);
	assert_int_equal(kdfgate_slots(g), 2);
	assert_int_equal(kdfgate_enter(g), 0);
	assert_int_equal(kdfgate_enter(g), 0);
	kdfgate_load(g, &busy, &waiting);
	assert_int_equal(busy, 2);
	assert_int_equal(waiting, 0);
	/* No queue: the third is refused. */
	assert_int_equal(kdfgate_enter(g), -1);
	kdfgate_leave(g);
	assert_int_equal(kdfgate_enter(g), 0);
	kdfgate_leave(g);
	kdfgate_leave(g);
	kdfgate_load(g, &busy, &waiting);
	assert_int_equal(busy, 0);
	/* A leave without an enter does not make a slot out of nothing. */
	kdfgate_leave(g);
	assert_int_equal(kdfgate_enter(g), 0);
	assert_int_equal(kdfgate_enter(g), 0);
	assert_int_equal(kdfgate_enter(g), -1);
	kdfgate_leave(g);
	kdfgate_leave(g);
	kdfgate_free(g);
}

static void
test_defaults(void **state)
{
	struct kdfgate	*g = kdfgate_new(0, -1, 0);
	long		 cpus = sysconf(_SC_NPROCESSORS_ONLN);

	(void)state;
	assert_non_null(g);
	assert_int_equal(kdfgate_slots(g), cpus < 1 ? 1 : cpus);
	kdfgate_free(g);
	kdfgate_free(NULL);
}

/* A full gate makes the next one wait for the deadline, not less, and then refuses it. */
static void
test_wait_is_bounded(void **state)
{
	struct kdfgate	*g = kdfgate_new(1, 4, 200);
	double		 t0, waited;
	int		 busy, waiting;

	(void)state;
	assert_non_null(g);
	assert_int_equal(kdfgate_enter(g), 0);
	t0 = now_ms();
	assert_int_equal(kdfgate_enter(g), -1);
	waited = now_ms() - t0;
	assert_true(waited >= 199.0);
	assert_true(waited < 20000.0);	/* bounded: far above any scheduler delay */
	kdfgate_load(g, &busy, &waiting);
	assert_int_equal(busy, 1);
	assert_int_equal(waiting, 0);
	kdfgate_leave(g);
	kdfgate_free(g);
}

/* A waiter gets the slot that is given back, well before its deadline. */
static void
test_waiter_gets_freed_slot(void **state)
{
	struct kdfgate	*g = kdfgate_new(1, 4, LONG_WAIT_MS);
	struct entrant	 e;
	double		 t0;
	int		 busy, waiting;

	(void)state;
	assert_non_null(g);
	assert_int_equal(kdfgate_enter(g), 0);
	start_entrant(&e, g);
	await_waiting(g, 1);
	t0 = now_ms();
	kdfgate_leave(g);
	assert_int_equal(pthread_join(e.thr, NULL), 0);
	assert_int_equal(e.rc, 0);
	assert_true(now_ms() - t0 < LONG_WAIT_MS);	/* woken, not timed out */
	kdfgate_load(g, &busy, &waiting);
	assert_int_equal(busy, 1);	/* the waiter holds it now */
	assert_int_equal(waiting, 0);
	kdfgate_leave(g);
	kdfgate_free(g);
}

/* With the queue full, one more is refused at once, without waiting its deadline. */
static void
test_full_queue_refused_at_once(void **state)
{
	struct kdfgate	*g = kdfgate_new(1, 2, LONG_WAIT_MS);
	struct entrant	 e[2];
	double		 t0;
	int		 i;

	(void)state;
	assert_non_null(g);
	assert_int_equal(kdfgate_enter(g), 0);
	for (i = 0; i < 2; i++)
		start_entrant(&e[i], g);
	await_waiting(g, 2);
	t0 = now_ms();
	assert_int_equal(kdfgate_enter(g), -1);
	assert_true(now_ms() - t0 < LONG_WAIT_MS);	/* it did not queue */
	/* The two waiting get the slot in turn as it is given back. */
	kdfgate_leave(g);
	for (i = 0; i < 2; i++) {
		int	busy = 0, waiting = 0, polls;

		/* whichever waiter has the slot gives it back once it has it */
		for (polls = 0; polls < POLLS_MAX; polls++) {
			kdfgate_load(g, &busy, &waiting);
			if (busy == 1 && waiting == 1 - i)
				break;
			sleep_ms(1);
		}
		assert_int_equal(waiting, 1 - i);
		kdfgate_leave(g);
	}
	for (i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(e[i].thr, NULL), 0);
		assert_int_equal(e[i].rc, 0);
	}
	kdfgate_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slots_counted),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_wait_is_bounded),
		cmocka_unit_test(test_waiter_gets_freed_slot),
		cmocka_unit_test(test_full_queue_refused_at_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
