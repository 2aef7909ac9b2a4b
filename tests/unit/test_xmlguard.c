/* SPDX-License-Identifier: MIT */
/* Unit tests for src/xmlguard.c: the limits held over a whole SOAP body before gSOAP parses it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "xmlguard.h"

#define ENV_HEAD "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<soap:Envelope " \
	"xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Header>" \
	"<SessionIDHeader xmlns=\"http://TrackService.TrackRoad.com/\"><SessionID>K</SessionID>" \
	"</SessionIDHeader></soap:Header><soap:Body>"
#define ENV_TAIL "</soap:Body></soap:Envelope>"

static enum xmlguard_verdict
check(const char *xml)
{
	return xmlguard_check(xml, strlen(xml), 32, 64);
}

/* An envelope with body inside soap:Body. */
static enum xmlguard_verdict
env(const char *body)
{
	size_t			 n = strlen(ENV_HEAD) + strlen(body) + strlen(ENV_TAIL) + 1;
	char			*s = malloc(n);
	enum xmlguard_verdict	 v;

	assert_non_null(s);
	snprintf(s, n, "%s%s%s", ENV_HEAD, body, ENV_TAIL);
	v = check(s);
	free(s);
	return v;
}

static void
test_ordinary_envelopes_pass(void **state)
{
	(void)state;
	assert_int_equal(env("<CreditRemaining xmlns=\"http://TrackService.TrackRoad.com/\"/>"),
	    XMLGUARD_OK);
	assert_int_equal(env("<!-- a comment with <tags> --><Login><UserName>a&amp;b&#233;"
	    "</UserName><Password><![CDATA[p<>w]]></Password></Login>"), XMLGUARD_OK);
	assert_int_equal(env("<x a='1>2' b=\"&#x41;\"/>"), XMLGUARD_OK);
}

static void
test_doctype_refused(void **state)
{
	(void)state;
	assert_int_equal(check("<?xml version=\"1.0\"?><!DOCTYPE x><a/>"), XMLGUARD_DOCTYPE);
	assert_int_equal(env("<!ENTITY e \"x\">"), XMLGUARD_DOCTYPE);
}

static void
test_characters_xml_forbids(void **state)
{
	static const char	raw_nul[] = "<a>key\0junk</a>";

	(void)state;
	assert_int_equal(xmlguard_check(raw_nul, sizeof(raw_nul) - 1, 32, 64), XMLGUARD_CHAR);
	assert_int_equal(env("<a>key&#0;junk</a>"), XMLGUARD_CHAR);
	assert_int_equal(env("<a>key&#x0000;junk</a>"), XMLGUARD_CHAR);
	assert_int_equal(env("<a>&#1;</a>"), XMLGUARD_CHAR);
	assert_int_equal(env("<a x=\"&#x1;\"/>"), XMLGUARD_CHAR);
	assert_int_equal(env("<a>&#99999999999999999999;</a>"), XMLGUARD_CHAR);
	assert_int_equal(env("<a>\x01</a>"), XMLGUARD_CHAR);
	assert_int_equal(env("<a>&#9;&#10;&#13;&#x10FFFF;</a>"), XMLGUARD_OK);
}

/* n nested elements */
static void
nest(char *out, size_t cap, int n)
{
	out[0] = '\0';
	for (int i = 0; i < n; i++)
		strncat(out, "<a>", cap - strlen(out) - 1);
	for (int i = 0; i < n; i++)
		strncat(out, "</a>", cap - strlen(out) - 1);
}

static void
test_depth_counts_every_element(void **state)
{
	char	deep[1024];

	(void)state;
	/* Envelope and Body are 2: 30 more is 32, the limit; 31 more is over. */
	nest(deep, sizeof(deep), 30);
	assert_int_equal(env(deep), XMLGUARD_OK);
	nest(deep, sizeof(deep), 31);
	assert_int_equal(env(deep), XMLGUARD_DEPTH);
	assert_int_equal(xmlguard_check("<a><b/><b/><b/></a>", 19, 2, 64), XMLGUARD_OK);
	assert_int_equal(xmlguard_check("<a><b><c/></b></a>", 18, 2, 64), XMLGUARD_DEPTH);
}

static void
test_lengths(void **state)
{
	char	 s[512];

	(void)state;
	memset(s, 0, sizeof(s));
	snprintf(s, sizeof(s), "<a>%0100d</a>", 0);
	assert_int_equal(check(s), XMLGUARD_LENGTH);			/* text */
	snprintf(s, sizeof(s), "<a x=\"%0100d\"/>", 0);
	assert_int_equal(check(s), XMLGUARD_LENGTH);			/* attribute */
	snprintf(s, sizeof(s), "<a><![CDATA[%0100d]]></a>", 0);
	assert_int_equal(check(s), XMLGUARD_LENGTH);			/* CDATA */
	snprintf(s, sizeof(s), "<a%0300d/>", 0);
	assert_int_equal(check(s), XMLGUARD_LENGTH);			/* the tag as a whole */
	snprintf(s, sizeof(s), "<a>%064d</a>", 0);
	assert_int_equal(check(s), XMLGUARD_OK);			/* exactly the limit */
}

static void
test_truncated(void **state)
{
	(void)state;
	assert_int_equal(check(""), XMLGUARD_TRUNCATED);
	assert_int_equal(check("   "), XMLGUARD_TRUNCATED);
	assert_int_equal(check("<a><b>x</b>"), XMLGUARD_TRUNCATED);
	assert_int_equal(check("<a x=\"1"), XMLGUARD_TRUNCATED);
	assert_int_equal(check("<a><!-- never ends"), XMLGUARD_TRUNCATED);
	assert_int_equal(check("<a><![CDATA[x"), XMLGUARD_TRUNCATED);
	assert_int_equal(check("<?xml version=\"1.0\""), XMLGUARD_TRUNCATED);
	assert_int_equal(check("<a></a"), XMLGUARD_TRUNCATED);
	assert_int_equal(check("<a/>"), XMLGUARD_OK);
}

static void
test_messages_name_the_rule(void **state)
{
	(void)state;
	assert_non_null(strstr(xmlguard_message(XMLGUARD_DOCTYPE), "document type"));
	assert_non_null(strstr(xmlguard_message(XMLGUARD_DEPTH), "nested"));
	assert_non_null(strstr(xmlguard_message(XMLGUARD_TRUNCATED), "ends before"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ordinary_envelopes_pass),
		cmocka_unit_test(test_doctype_refused),
		cmocka_unit_test(test_characters_xml_forbids),
		cmocka_unit_test(test_depth_counts_every_element),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_messages_name_the_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
