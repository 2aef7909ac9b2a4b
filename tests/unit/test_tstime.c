/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/tstime.c: RFC 3339 / date-only parsing and UTC formatting. Expected epoch
 * values were computed independently with `date -u -d <time> +%s` (GNU coreutils).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tstime.h"

#define NOV25		INT64_C(1795564800)	/* 2026-11-25T00:00:00Z */
#define NOV25_123456	INT64_C(1795610096)	/* 2026-11-25T12:34:56Z */
#define LEAP_DAY_END	INT64_C(1709251199)	/* 2024-02-29T23:59:59Z */

/* A value no parse in these tests yields, to see whether a parse wrote its result. */
#define UNTOUCHED	INT64_C(-4242)

static int64_t
parse_ok(const char *s)
{
	int64_t	t = UNTOUCHED;

	if (tstime_parse(s, &t) != 0)
		fail_msg("refused \"%s\"", s);
	return t;
}

static void
test_date_only(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("2026-11-25"), NOV25);
	assert_int_equal(parse_ok("1970-01-01"), 0);
	assert_int_equal(parse_ok("2024-02-29"), LEAP_DAY_END - 86399);
}

static void
test_rfc3339_utc(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("2026-11-25T12:34:56Z"), NOV25_123456);
	assert_int_equal(parse_ok("2026-11-25T00:00:00Z"), NOV25);
	assert_int_equal(parse_ok("2024-02-29T23:59:59Z"), LEAP_DAY_END);
	assert_int_equal(parse_ok("1969-12-31T23:59:59Z"), -1);
}

static void
test_rfc3339_fraction(void **state)
{
	(void)state;
	/* Fractions are dropped, not rounded: the result is whole seconds. */
	assert_int_equal(parse_ok("2026-11-25T12:34:56.789Z"), NOV25_123456);
	assert_int_equal(parse_ok("2026-11-25T12:34:56.0Z"), NOV25_123456);
	assert_int_equal(parse_ok("2026-11-25T12:34:56.123456789Z"), NOV25_123456);
	assert_int_equal(parse_ok("2026-11-25T12:34:56.5+02:00"), NOV25_123456 - 7200);
}

static void
test_rfc3339_offsets(void **state)
{
	(void)state;
	/* Local time minus its offset east of UTC. */
	assert_int_equal(parse_ok("2026-11-25T12:34:56+02:00"), NOV25_123456 - 2 * 3600);
	assert_int_equal(parse_ok("2026-11-25T12:34:56-05:30"), NOV25_123456 + 5 * 3600 + 1800);
	assert_int_equal(parse_ok("2026-11-25T12:34:56+00:00"), NOV25_123456);
	assert_int_equal(parse_ok("2026-11-25T12:34:56-00:00"), NOV25_123456);
	/* Offsets that cross a day boundary land on the same instant as the Z form. */
	assert_int_equal(parse_ok("2026-11-25T00:00:00+02:00"), INT64_C(1795557600));
	assert_int_equal(parse_ok("2026-11-24T23:30:00-05:30"), INT64_C(1795582800));
}

static void
test_rejects(void **state)
{
	static const char *const bad[] = {
		"2026-02-30",			/* no such day */
		"2026-02-29",			/* not a leap year */
		"2026-04-31",
		"2026-13-01",			/* no such month */
		"2026-00-10",
		"2026-11-00",
		"2026-11-25T25:00:00Z",		/* no such hour */
		"2026-11-25T24:00:00Z",
		"2026-11-25T10:60:00Z",
		"2026-11-25T10:00:00",		/* no zone */
		"2026-11-25T10:00:00+02",	/* zone without minutes */
		"2026-11-25T10:00:00+0200",
		"2026-11-25T10:00:00+24:00",
		"2026-11-25T10:00:00+02:60",
		"2026-11-25T10:00:00Zjunk",
		"2026-11-25T10:00Z",		/* no seconds */
		"2026-11-25 10:00:00Z",		/* space instead of T */
		"2026-11-25 ",
		"2026-11-2",
		"2026/11/25",
		"26-11-25",
		"",
		"abc",
	};
	size_t	i;
	int64_t	t;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (tstime_parse(bad[i], &t) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	}
}

/* RFC 3339: time-secfrac = "." 1*DIGIT, so a dot needs at least one digit after it. */
static void
test_rejects_empty_fraction(void **state)
{
	int64_t	t = UNTOUCHED;

	(void)state;
	assert_int_equal(tstime_parse("2026-11-25T10:00:00.Z", &t), -1);
}

/*
 * tstime_parse allows second 60 (RFC 3339 leap seconds), but a leap second is only ever
 * inserted at 23:59:60 UTC, which is also where timegm's normalisation rolls into the next day.
 */
static void
test_leap_second(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("2026-11-25T12:34:60Z"), NOV25_123456 + 4);
	assert_int_equal(parse_ok("2016-12-31T18:59:60-05:00"), INT64_C(1483228800));
	assert_int_equal(parse_ok("2016-12-31T23:59:60Z"), INT64_C(1483228800));
}

static void
test_format(void **state)
{
	char	buf[TSTIME_LEN];

	(void)state;
	tstime_format(NOV25_123456, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-25T12:34:56Z");
	assert_int_equal(strlen(buf), TSTIME_LEN - 1);
	tstime_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	tstime_format(-1, buf, sizeof(buf));
	assert_string_equal(buf, "1969-12-31T23:59:59Z");
	tstime_format(LEAP_DAY_END, buf, sizeof(buf));
	assert_string_equal(buf, "2024-02-29T23:59:59Z");
}

static void
test_format_small_buffer(void **state)
{
	char	buf[TSTIME_LEN];

	(void)state;
	/* Too small for the whole time: an empty string, never a truncated time. */
	memset(buf, 'x', sizeof(buf));
	tstime_format(NOV25_123456, buf, 10);
	assert_string_equal(buf, "");
}

static void
test_round_trip(void **state)
{
	static const int64_t	times[] = {
		0, 1, -1, 86399, NOV25, NOV25_123456, LEAP_DAY_END, INT64_C(951782400),
		INT64_C(2147483647), INT64_C(2147483648), INT64_C(4102444799),
	};
	char	buf[TSTIME_LEN];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		tstime_format(times[i], buf, sizeof(buf));
		assert_int_equal(strlen(buf), TSTIME_LEN - 1);
		assert_int_equal(parse_ok(buf), times[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_date_only),
		cmocka_unit_test(test_rfc3339_utc),
		cmocka_unit_test(test_rfc3339_fraction),
		cmocka_unit_test(test_rfc3339_offsets),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_rejects_empty_fraction),
		cmocka_unit_test(test_leap_second),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_small_buffer),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
