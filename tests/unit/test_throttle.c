/* SPDX-License-Identifier: MIT */
/* Unit tests for src/throttle.c: the failed-Login brakes per pair, address and user name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "throttle.h"

#define T0	INT64_C(1795564800)
#define WINDOW	INT64_C(900)

static void
fail_n(struct throttle *t, const char *user, const char *addr, int n, int64_t now)
{
	for (int i = 0; i < n; i++)
		throttle_fail(t, user, addr, now);
}

static void
test_pair_locks_after_max_failures(void **state)
{
	struct throttle	*t = throttle_new(1024, 5, WINDOW);

	(void)state;
	assert_non_null(t);
	fail_n(t, "alice", "10.0.0.1", 4, T0);
	assert_int_equal(throttle_check(t, "alice", "10.0.0.1", T0), 0);
	throttle_fail(t, "alice", "10.0.0.1", T0);
	assert_int_equal(throttle_check(t, "alice", "10.0.0.1", T0 + 10), WINDOW - 10);
	/* Only that pair: the same user from elsewhere, and others from there, go on. */
	assert_int_equal(throttle_check(t, "alice", "10.0.0.2", T0 + 10), 0);
	assert_int_equal(throttle_check(t, "bob", "10.0.0.1", T0 + 10), 0);
	/* The lock ends with the window. */
	assert_int_equal(throttle_check(t, "alice", "10.0.0.1", T0 + WINDOW), 0);
	throttle_free(t);
}

static void
test_success_forgets_the_pair(void **state)
{
	struct throttle	*t = throttle_new(1024, 5, WINDOW);

	(void)state;
	fail_n(t, "alice", "10.0.0.1", 4, T0);
	throttle_success(t, "alice", "10.0.0.1");
	fail_n(t, "alice", "10.0.0.1", 4, T0 + 1);
	assert_int_equal(throttle_check(t, "alice", "10.0.0.1", T0 + 1), 0);
	throttle_free(t);
}

static void
test_window_resets_counts(void **state)
{
	struct throttle	*t = throttle_new(1024, 5, WINDOW);

	(void)state;
	fail_n(t, "alice", "10.0.0.1", 4, T0);
	fail_n(t, "alice", "10.0.0.1", 4, T0 + WINDOW);	/* a new window */
	assert_int_equal(throttle_check(t, "alice", "10.0.0.1", T0 + WINDOW), 0);
	throttle_free(t);
}

static void
test_address_spraying_locks_the_address(void **state)
{
	struct throttle	*t = throttle_new(4096, 5, WINDOW);
	char		 user[16];

	(void)state;
	/* 4 x 5 failures over many user names, never 5 for one: the address is locked. */
	for (int i = 0; i < 20; i++) {
		snprintf(user, sizeof(user), "user%d", i);
		assert_int_equal(throttle_check(t, user, "10.0.0.9", T0), 0);
		throttle_fail(t, user, "10.0.0.9", T0);
	}
	assert_true(throttle_check(t, "someone-new", "10.0.0.9", T0 + 1) > 0);
	assert_int_equal(throttle_check(t, "someone-new", "10.0.0.10", T0 + 1), 0);
	throttle_free(t);
}

static void
test_user_under_distributed_attack_is_locked_briefly(void **state)
{
	struct throttle	*t = throttle_new(4096, 5, WINDOW);
	char		 addr[32];

	(void)state;
	/* 10 x 5 failures for one user name from 50 addresses, one each. */
	for (int i = 0; i < 50; i++) {
		snprintf(addr, sizeof(addr), "10.1.0.%d", i);
		throttle_fail(t, "carol", addr, T0);
	}
	/* Locked everywhere, but only for a minute: no one keeps a user out for long. */
	assert_true(throttle_check(t, "carol", "192.168.7.7", T0 + 1) > 0);
	assert_true(throttle_check(t, "carol", "192.168.7.7", T0 + 1) <= 60);
	assert_int_equal(throttle_check(t, "carol", "192.168.7.7", T0 + 61), 0);
	throttle_free(t);
}

static void
test_bad_arguments_and_full_table(void **state)
{
	struct throttle	*t;
	char		 user[16];

	(void)state;
	assert_null(throttle_new(8, 5, WINDOW));	/* fewer slots than one probe */
	assert_null(throttle_new(1024, 0, WINDOW));
	assert_null(throttle_new(1024, 5, 0));
	throttle_free(NULL);
	/* A tiny table keeps working when more is counted than it holds. */
	t = throttle_new(16, 5, WINDOW);
	assert_non_null(t);
	for (int i = 0; i < 1000; i++) {
		snprintf(user, sizeof(user), "u%d", i);
		throttle_fail(t, user, "10.2.0.1", T0 + i);
	}
	fail_n(t, "dave", "10.3.0.1", 5, T0 + 2000);
	assert_true(throttle_check(t, "dave", "10.3.0.1", T0 + 2000) > 0);
	throttle_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pair_locks_after_max_failures),
		cmocka_unit_test(test_success_forgets_the_pair),
		cmocka_unit_test(test_window_resets_counts),
		cmocka_unit_test(test_address_spraying_locks_the_address),
		cmocka_unit_test(test_user_under_distributed_attack_is_locked_briefly),
		cmocka_unit_test(test_bad_arguments_and_full_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
