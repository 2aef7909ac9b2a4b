/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/jsonw.c: every string it writes is the string jansson reads back (quotes,
 * backslashes, control bytes, multi-byte UTF-8), text jansson would refuse to write (bad
 * UTF-8: overlong, surrogate, past U+10FFFF, truncated) leaves the writer not ok, a text that
 * does not fit leaves it not ok without writing past the buffer, and scopes become an array.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "jsonw.h"

/* {"s":<s>} written by jsonw, parsed by jansson: the same string comes back. */
static void
round_trip(const char *s)
{
	struct jsonw	 w;
	char		 buf[512];
	json_error_t	 err;
	json_t		*o;

	jsonw_init(&w, buf, sizeof(buf));
	jsonw_raw(&w, "{\"s\":");
	jsonw_str(&w, s);
	jsonw_raw(&w, "}");
	assert_true(w.ok);
	assert_int_equal(w.len, strlen(buf));
	o = json_loads(buf, JSON_REJECT_DUPLICATES, &err);
	if (o == NULL)
		fail_msg("jansson cannot read %s: %s", buf, err.text);
	assert_string_equal(json_string_value(json_object_get(o, "s")), s);
	json_decref(o);
}

static void
test_strings_round_trip(void **state)
{
	(void)state;
	round_trip("");
	round_trip("acme");
	round_trip("a \"quoted\" name");
	round_trip("back\\slash\\");
	round_trip("tab\tnew\nline\rcr\x01\x1f");
	round_trip("</script>");
	round_trip("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91");	/* é € 🔑 */
	round_trip("\xef\xbf\xbf\xf4\x8f\xbf\xbf");		/* U+FFFF, U+10FFFF */
}

static void
bad_utf8(const char *s)
{
	struct jsonw	w;
	char		buf[64];

	jsonw_init(&w, buf, sizeof(buf));
	jsonw_str(&w, s);
	if (w.ok)
		fail_msg("not UTF-8, written anyway: %s", buf);
	/* jansson refuses the same string */
	assert_null(json_string(s));
}

static void
test_bad_utf8_refused(void **state)
{
	(void)state;
	bad_utf8("\xc0\xaf");		/* overlong '/' */
	bad_utf8("\xe0\x80\xaf");	/* overlong, 3 bytes */
	bad_utf8("\xed\xa0\x80");	/* a UTF-16 surrogate */
	bad_utf8("\xf4\x90\x80\x80");	/* past U+10FFFF */
	bad_utf8("\xc3");		/* truncated */
	bad_utf8("ab\xff");
	bad_utf8("\x80");
}

static void
test_overflow_stops(void **state)
{
	struct jsonw	w;
	char		buf[16];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	jsonw_init(&w, buf, 8);
	jsonw_raw(&w, "{\"a\":");
	jsonw_str(&w, "longer than the room");
	assert_false(w.ok);
	assert_true(w.len < 8);
	assert_int_equal(buf[w.len], '\0');
	assert_int_equal(buf[8], 'x');		/* nothing written past cap */
	jsonw_int(&w, 5);			/* stays not ok */
	assert_false(w.ok);
}

static void
test_int_and_words(void **state)
{
	struct jsonw	w;
	char		buf[128];

	(void)state;
	jsonw_init(&w, buf, sizeof(buf));
	jsonw_raw(&w, "{\"n\":");
	jsonw_int(&w, -9223372036854775807LL - 1);
	jsonw_raw(&w, ",\"s\":");
	jsonw_words(&w, "  credit:read  keys:admin ");
	jsonw_raw(&w, ",\"e\":");
	jsonw_words(&w, "");
	jsonw_raw(&w, "}");
	assert_true(w.ok);
	assert_string_equal(buf, "{\"n\":-9223372036854775808,\"s\":[\"credit:read\","
	    "\"keys:admin\"],\"e\":[]}");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings_round_trip),
		cmocka_unit_test(test_bad_utf8_refused),
		cmocka_unit_test(test_overflow_stops),
		cmocka_unit_test(test_int_and_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
