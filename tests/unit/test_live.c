/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/live.c: a snapshot stays whole and valid while held, a publish is seen by
 * the next acquire, the policies follow the config and keep the shared state (the password-check
 * gate made here included), and readers on other threads never see a snapshot half written
 * while publishes go on.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kdfgate.h"
#include "live.h"

#define READERS		4
#define PUBLISHES	2000
#define READS_MAX	2000000	/* per reader: a bound whatever the scheduler does */

static struct live *
make_live(struct live_settings *first, int n)
{
	struct live	*lv;

	memset(first, 0, sizeof(*first));
	config_defaults(&first->cfg);
	first->cfg.max_conns = first->cfg.max_conns_per_client = n;
	first->policy.rl = (struct ratelimit *)first;	/* a marker: never dereferenced */
	first->login.throttle = (struct throttle *)first;
	lv = live_new(first);
	assert_non_null(lv);
	return lv;
}

static void
test_held_snapshot_survives_publish(void **state)
{
	struct live_settings		 first;
	struct live			*lv = make_live(&first, 1);
	const struct live_settings	*a, *b;
	struct config			 next;

	(void)state;
	a = live_acquire(lv);
	assert_int_equal(a->cfg.max_conns, 1);
	next = a->cfg;
	next.max_conns = 2;
	next.session_idle = 77;
	next.uniform_errors = 1;
	assert_int_equal(live_publish(lv, &next, NULL), 0);
	b = live_acquire(lv);
	/* the holder of the old one still has it, whole (ASan would see a free here) */
	assert_int_equal(a->cfg.max_conns, 1);
	assert_int_equal(b->cfg.max_conns, 2);
	/* the policies follow the config and keep the shared state */
	assert_int_equal(b->policy.session_idle, 77);
	assert_int_equal(b->login.idle, 77);
	assert_int_equal(b->policy.uniform_errors, 1);
	assert_ptr_equal(b->policy.rl, (struct ratelimit *)&first);
	assert_ptr_equal(b->login.throttle, (struct throttle *)&first);
	live_release(lv, a);	/* the last holder of the old one frees it */
	live_release(lv, b);
	live_release(lv, NULL);
	live_free(lv);
}

/*
 * No gate given: live_new makes one of cfg.login_concurrency slots (0: one per CPU) and every
 * later snapshot shares it; a gate given is carried as it is.
 */
static void
test_password_gate_shared(void **state)
{
	struct live_settings		 first;
	struct live			*lv;
	const struct live_settings	*a, *b;
	struct kdfgate			*mine;
	struct config			 next;
	long				 cpus = sysconf(_SC_NPROCESSORS_ONLN);

	(void)state;
	lv = make_live(&first, 1);
	a = live_acquire(lv);
	assert_non_null(a->login.gate);
	assert_int_equal(kdfgate_slots(a->login.gate), cpus < 1 ? 1 : cpus);
	next = a->cfg;
	next.login_concurrency = 7;	/* read at start only */
	assert_int_equal(live_publish(lv, &next, NULL), 0);
	b = live_acquire(lv);
	assert_ptr_equal(b->login.gate, a->login.gate);
	assert_int_equal(kdfgate_slots(b->login.gate), kdfgate_slots(a->login.gate));
	live_release(lv, a);
	live_release(lv, b);
	live_free(lv);

	memset(&first, 0, sizeof(first));
	config_defaults(&first.cfg);
	first.cfg.login_concurrency = 3;
	lv = live_new(&first);
	assert_non_null(lv);
	a = live_acquire(lv);
	assert_int_equal(kdfgate_slots(a->login.gate), 3);
	live_release(lv, a);
	live_free(lv);

	mine = kdfgate_new(2, 0, 10);
	assert_non_null(mine);
	first.login.gate = mine;
	lv = live_new(&first);
	assert_non_null(lv);
	a = live_acquire(lv);
	assert_ptr_equal(a->login.gate, mine);
	live_release(lv, a);
	live_free(lv);
	kdfgate_free(mine);	/* the caller's, still there after live_free (ASan) */
}

static atomic_int	started;	/* readers running */

struct race {
	struct live	*lv;
	atomic_int	 done;
	int		 torn;
	int		 reads;
};

static void *
reader(void *arg)
{
	struct race			*r = arg;
	const struct live_settings	*s;
	int				 i;

	atomic_fetch_add(&started, 1);
	i = 0;
	do {
		s = live_acquire(r->lv);
		/* every publish sets both fields alike: unequal means a torn snapshot */
		if (s->cfg.max_conns != s->cfg.max_conns_per_client ||
		    s->policy.session_idle != s->cfg.session_idle)
			r->torn++;
		live_release(r->lv, s);
	} while (++i < READS_MAX && !atomic_load(&r->done));
	r->reads = i;
	return NULL;
}

static void
test_readers_never_see_half_a_config(void **state)
{
	struct live_settings	first;
	struct race		r[READERS];
	pthread_t		tid[READERS];
	struct config		next;
	int			i;

	(void)state;
	memset(r, 0, sizeof(r));
	r[0].lv = make_live(&first, 1);
	next = first.cfg;
	for (i = 0; i < READERS; i++) {
		r[i].lv = r[0].lv;
		assert_int_equal(pthread_create(&tid[i], NULL, reader, &r[i]), 0);
	}
	/* publish while they read (bounded wait for them to start) */
	for (i = 0; i < 1000000 && atomic_load(&started) < READERS; i++)
		sched_yield();
	for (i = 2; i < PUBLISHES; i++) {
		next.max_conns = next.max_conns_per_client = i;
		next.session_idle = i;
		assert_int_equal(live_publish(r[0].lv, &next, NULL), 0);
	}
	for (i = 0; i < READERS; i++)
		atomic_store(&r[i].done, 1);
	for (i = 0; i < READERS; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
		assert_int_equal(r[i].torn, 0);
		assert_true(r[i].reads > 0);
	}
	live_free(r[0].lv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_held_snapshot_survives_publish),
		cmocka_unit_test(test_readers_never_see_half_a_config),
		cmocka_unit_test(test_password_gate_shared),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
