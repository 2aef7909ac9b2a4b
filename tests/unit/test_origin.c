/* SPDX-License-Identifier: MIT */
/* Unit tests for src/origin.c: --admin-origin's syntax and which origins may call the admin API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "origin.h"

static void
test_normalize_accepts_origins(void **state)
{
	static const char *const ok[][2] = {
		{ "https://admin.example.com", "https://admin.example.com" },
		{ "HTTPS://Admin.Example.COM", "https://admin.example.com" },
		{ "http://127.0.0.1:8080", "http://127.0.0.1:8080" },
		{ "http://[::1]:65535", "http://[::1]:65535" },
		{ "http://localhost", "http://localhost" },
	};
	char	out[ORIGIN_MAX];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		memset(out, 'x', sizeof(out));
		assert_int_equal(origin_normalize(ok[i][0], out, sizeof(out)), 0);
		assert_string_equal(out, ok[i][1]);
	}
}

static void
test_normalize_refuses_what_is_not_an_origin(void **state)
{
	static const char *const bad[] = {
		"", "null", "*", "admin.example.com", "ftp://admin.example.com",
		"https://", "https://admin.example.com/", "https://admin.example.com/console",
		"https://admin.example.com:0", "https://admin.example.com:65536",
		"https://admin.example.com:", "https://admin.example.com:123456",
		"https://user@admin.example.com", "https://admin.example.com?x",
		"https://a b", "https://[]", "https://[::1", "https://admin.example.com\r\nX: y",
		"https://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
	};
	char	out[ORIGIN_MAX] = "unchanged";
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(origin_normalize(bad[i], out, sizeof(out)), -1);
		assert_string_equal(out, "unchanged");
	}
}

static void
test_list_add(void **state)
{
	char	list[64] = "";

	(void)state;
	assert_int_equal(origin_list_add(list, sizeof(list), "https://A.example"), 0);
	assert_int_equal(origin_list_add(list, sizeof(list), "http://b.example:81"), 0);
	assert_string_equal(list, "https://a.example http://b.example:81");
	assert_int_equal(origin_list_add(list, sizeof(list), "https://c.example/"), -1);
	/* Full: the list stays as it was. */
	assert_int_equal(origin_list_add(list, sizeof(list), "https://a-long-name.example"), -1);
	assert_string_equal(list, "https://a.example http://b.example:81");
}

static void
test_classify(void **state)
{
	const char	*allowed = "https://admin.example.com http://127.0.0.1:9000";

	(void)state;
	assert_int_equal(origin_classify(NULL, "127.0.0.1:8080", 0, allowed), ORIGIN_NONE);
	/* Our own origin: the scheme we serve and the Host the browser named. */
	assert_int_equal(origin_classify("http://127.0.0.1:8080", "127.0.0.1:8080", 0, ""),
	    ORIGIN_SAME);
	assert_int_equal(origin_classify("HTTP://Keys.Example:8080", "keys.example:8080", 0, ""),
	    ORIGIN_SAME);
	assert_int_equal(origin_classify("https://keys.example", "keys.example", 1, ""),
	    ORIGIN_SAME);
	/* The other scheme, port or host is another origin. */
	assert_int_equal(origin_classify("https://127.0.0.1:8080", "127.0.0.1:8080", 0, ""),
	    ORIGIN_FOREIGN);
	assert_int_equal(origin_classify("http://127.0.0.1:8080", "127.0.0.1:8080", 1, ""),
	    ORIGIN_FOREIGN);
	assert_int_equal(origin_classify("http://127.0.0.1:8081", "127.0.0.1:8080", 0, ""),
	    ORIGIN_FOREIGN);
	assert_int_equal(origin_classify("http://evil.example", "127.0.0.1:8080", 0, allowed),
	    ORIGIN_FOREIGN);
	/* No Host, or a Host that is no authority: nothing is our own. */
	assert_int_equal(origin_classify("http://", NULL, 0, ""), ORIGIN_FOREIGN);
	assert_int_equal(origin_classify("http://", "", 0, ""), ORIGIN_FOREIGN);
	assert_int_equal(origin_classify("http://a/b", "a/b", 0, ""), ORIGIN_FOREIGN);
	/* Sandboxed frames and file: pages send "null": never allowed. */
	assert_int_equal(origin_classify("null", "127.0.0.1:8080", 0, allowed), ORIGIN_FOREIGN);
	/* Configured ones, in any case; a prefix or a longer name is not a match. */
	assert_int_equal(origin_classify("https://ADMIN.example.com", "127.0.0.1:8080", 0,
	    allowed), ORIGIN_CONFIGURED);
	assert_int_equal(origin_classify("http://127.0.0.1:9000", "127.0.0.1:8080", 0, allowed),
	    ORIGIN_CONFIGURED);
	assert_int_equal(origin_classify("https://admin.example", "127.0.0.1:8080", 0, allowed),
	    ORIGIN_FOREIGN);
	assert_int_equal(origin_classify("https://admin.example.com.evil", "x", 0, allowed),
	    ORIGIN_FOREIGN);
	assert_int_equal(origin_classify("http://127.0.0.1:900", "x", 0, allowed),
	    ORIGIN_FOREIGN);
	assert_int_equal(origin_classify("", "x", 0, allowed), ORIGIN_FOREIGN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize_accepts_origins),
		cmocka_unit_test(test_normalize_refuses_what_is_not_an_origin),
		cmocka_unit_test(test_list_add),
		cmocka_unit_test(test_classify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
