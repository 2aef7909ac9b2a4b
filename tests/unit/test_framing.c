/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/framing.c: where one request ends in a connection's bytes. The connection
 * is a scripted list of reads (as a socket would deliver them, split anywhere).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "framing.h"

struct script {
	const char	*parts[8];	/* what each read returns; then end of stream */
	size_t		 next, at;	/* part, offset in it */
	int		 reads;
};

static size_t
script_read(void *arg, char *buf, size_t len)
{
	struct script	*s = arg;
	const char	*p;
	size_t		 n;

	s->reads++;
	if (s->next >= 8 || (p = s->parts[s->next]) == NULL)
		return 0;
	n = strlen(p + s->at) < len ? strlen(p + s->at) : len;
	memcpy(buf, p + s->at, n);
	s->at += n;
	if (p[s->at] == '\0') {
		s->next++;
		s->at = 0;
	}
	return n;
}

static struct timespec
soon(void)
{
	struct timespec	t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += 5;
	return t;
}

/* Everything framing_recv hands out until it says 0, in reads of at most step bytes. */
static size_t
drain(struct framing *f, struct script *s, char *out, size_t cap, size_t step)
{
	size_t	got = 0, n;

	while (got < cap && (n = framing_recv(f, out + got, step < cap - got ? step : cap - got,
	    script_read, s)) > 0)
		got += n;
	out[got] = '\0';
	return got;
}

static void
test_head_then_declared_body_only(void **state)
{
	struct script	 s = { .parts = { "POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\n",
			    "\r\n" } };
	struct framing	*f = framing_new(65536, 1024);
	struct timespec	 t = soon();
	char		 out[256];

	(void)state;
	framing_next(f);
	drain(f, &s, out, sizeof(out) - 1, 7);
	assert_string_equal(out, "POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\n");
	assert_true(framing_head_done(f));
	assert_int_equal(framing_body(f, 5, 0, &t, script_read, &s), FRAMING_OK);
	drain(f, &s, out, sizeof(out) - 1, 3);
	assert_string_equal(out, "hello");
	/* the pipelined request is kept for the next round, whole */
	framing_next(f);
	drain(f, &s, out, sizeof(out) - 1, 100);
	assert_string_equal(out, "GET /b HTTP/1.1\r\n\r\n");
	assert_int_equal(framing_body(f, 0, 0, &t, script_read, &s), FRAMING_OK);
	assert_int_equal(framing_recv(f, out, 10, script_read, &s), 0);
	assert_false(framing_eof(f));
	framing_free(f);
}

static void
test_body_cut_short_is_eof(void **state)
{
	struct script	 s = { .parts = { "POST /a HTTP/1.1\r\nContent-Length: 50\r\n\r\n<Envelope/>" } };
	struct framing	*f = framing_new(65536, 1024);
	struct timespec	 t = soon();
	char		 out[256];

	(void)state;
	framing_next(f);
	drain(f, &s, out, sizeof(out) - 1, 64);
	assert_int_equal(framing_body(f, 50, 0, &t, script_read, &s), FRAMING_EOF);
	assert_true(framing_eof(f));
	assert_int_equal(framing_body_len(f), 0);
	framing_free(f);
}

static void
test_body_over_limit(void **state)
{
	struct script	 s = { .parts = { "POST /a HTTP/1.1\r\n\r\n" } };
	struct framing	*f = framing_new(65536, 16);
	struct timespec	 t = soon();
	char		 out[256];

	(void)state;
	framing_next(f);
	drain(f, &s, out, sizeof(out) - 1, 64);
	assert_int_equal(framing_body(f, 17, 0, &t, script_read, &s), FRAMING_TOO_LARGE);
	assert_int_equal(s.reads, 1);	/* refused without reading the body */
	framing_free(f);
}

static void
test_chunked_decoded_in_place(void **state)
{
	struct script	 s = { .parts = { "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab",
			    "c\r\n4;ext=1\r\ndefg\r\n0\r\nX-Trailer: 1\r\n\r\nGET /next HTTP/1.1\r\n\r\n" } };
	struct framing	*f = framing_new(65536, 1024);
	struct timespec	 t = soon();
	char		 out[256];

	(void)state;
	framing_next(f);
	drain(f, &s, out, sizeof(out) - 1, 64);
	assert_int_equal(framing_body(f, 0, 1, &t, script_read, &s), FRAMING_OK);
	assert_int_equal(framing_body_len(f), 7);
	drain(f, &s, out, sizeof(out) - 1, 2);
	assert_string_equal(out, "abcdefg");
	framing_next(f);
	drain(f, &s, out, sizeof(out) - 1, 64);
	assert_string_equal(out, "GET /next HTTP/1.1\r\n\r\n");
	framing_free(f);
}

static void
test_chunked_over_limit_and_malformed(void **state)
{
	struct script	 big = { .parts = { "POST / HTTP/1.1\r\n\r\n8\r\n12345678\r\n9\r\n123456789\r\n0\r\n\r\n" } };
	struct script	 bad = { .parts = { "POST / HTTP/1.1\r\n\r\nzz\r\nabc\r\n0\r\n\r\n" } };
	struct script	 nocrlf = { .parts = { "POST / HTTP/1.1\r\n\r\n3\r\nabcX\r\n0\r\n\r\n" } };
	struct script	*cases[] = { &big, &bad, &nocrlf };
	enum framing_status want[] = { FRAMING_TOO_LARGE, FRAMING_BAD_CHUNK, FRAMING_BAD_CHUNK };
	struct timespec	 t = soon();
	char		 out[256];

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct framing	*f = framing_new(65536, 16);

		framing_next(f);
		drain(f, cases[i], out, sizeof(out) - 1, 64);
		assert_int_equal(framing_body(f, 0, 1, &t, script_read, cases[i]), want[i]);
		framing_free(f);
	}
}

static void
test_bad_request_lines(void **state)
{
	const char *bad[] = { "\x01GARBAGE \xff\r\n\r\n", "hello world\r\n", "GET /\r\n\r\n",
	    "GET  / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1 x\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n" };
	const char *good[] = { "\r\nGET / HTTP/1.1\r\n\r\n", "BREW /pot?x=1 HTTP/1.0\n\n" };
	char		 out[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct script	 s = { .parts = { bad[i] } };
		struct framing	*f = framing_new(65536, 16);

		framing_next(f);
		drain(f, &s, out, sizeof(out) - 1, 64);
		assert_true(framing_bad_request_line(f));
		assert_string_equal(out, "");	/* gSOAP is given none of it */
		framing_free(f);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct script	 s = { .parts = { good[i] } };
		struct framing	*f = framing_new(65536, 16);

		framing_next(f);
		drain(f, &s, out, sizeof(out) - 1, 64);
		assert_false(framing_bad_request_line(f));
		assert_true(framing_head_done(f));
		assert_string_equal(out, good[i]);
		framing_free(f);
	}
}

static void
test_head_limit_and_control_bytes(void **state)
{
	static char	 big[4096];
	struct script	 s = { .parts = { "GET / HTTP/1.1\r\nX: ", big } };
	struct script	 ctl = { .parts = { "GET / HTTP/1.1\r\nX: a\x01\r\n\r\n" } };
	struct framing	*f = framing_new(1024, 16);
	char		 out[8192];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	framing_next(f);
	drain(f, &s, out, sizeof(out) - 1, 512);
	assert_true(framing_head_too_large(f));
	assert_false(framing_head_done(f));
	framing_free(f);
	f = framing_new(1024, 16);
	framing_next(f);
	drain(f, &ctl, out, sizeof(out) - 1, 512);
	assert_true(framing_bad_head(f));
	framing_free(f);
}

static void
test_a_finished_request_is_wiped(void **state)
{
	struct script	 s = { .parts = { "POST /login HTTP/1.1\r\nContent-Length: 6\r\n\r\nsecret" } };
	struct framing	*f = framing_new(65536, 1024);
	struct timespec	 t = soon();
	const char	*body;
	char		 out[256], zero[6] = { 0 };

	(void)state;
	framing_next(f);
	drain(f, &s, out, sizeof(out) - 1, 64);
	assert_int_equal(framing_body(f, 6, 0, &t, script_read, &s), FRAMING_OK);
	body = framing_body_data(f);
	assert_memory_equal(body, "secret", 6);
	/* The next request starts: the buffer is the same one (small), its old bytes zero. */
	framing_next(f);
	assert_memory_equal(body, zero, 6);
	assert_memory_equal(body - 4, "\0\0\0\0", 4);	/* the head's end too */
	framing_free(f);
}

static void
test_many_pipelined_in_one_read(void **state)
{
	static char	 all[20 * 64];
	struct script	 s = { .parts = { all } };
	struct framing	*f = framing_new(65536, 1024);
	struct timespec	 t = soon();
	char		 out[256], want[64];
	int		 i;

	(void)state;
	all[0] = '\0';
	for (i = 0; i < 20; i++) {
		snprintf(want, sizeof(want), "GET /%d HTTP/1.1\r\nContent-Length: 2\r\n\r\n", i);
		strcat(all, want);
		strcat(all, "ok");
	}
	for (i = 0; i < 20; i++) {
		framing_next(f);
		drain(f, &s, out, sizeof(out) - 1, 5);
		snprintf(want, sizeof(want), "GET /%d HTTP/1.1\r\nContent-Length: 2\r\n\r\n", i);
		assert_string_equal(out, want);
		assert_int_equal(framing_body(f, 2, 0, &t, script_read, &s), FRAMING_OK);
		drain(f, &s, out, sizeof(out) - 1, 5);
		assert_string_equal(out, "ok");
	}
	assert_int_equal(s.reads, 1);
	framing_free(f);
}

/*
 * A socket that has what is in `data` from `from` on, `step` bytes a read, then would block
 * (-1) until the test moves `avail` on. For framing_prefetch.
 */
struct trickle {
	const char	*data;
	size_t		 from, avail, step;
	int		 reads;
};

static long
trickle_read(void *arg, char *buf, size_t len)
{
	struct trickle	*t = arg;
	size_t		 n = t->avail - t->from;

	t->reads++;
	if (n == 0)
		return strlen(t->data) == t->from ? 0 : -1;
	if (n > t->step)
		n = t->step;
	if (n > len)
		n = len;
	memcpy(buf, t->data + t->from, n);
	t->from += n;
	return (long)n;
}

/*
 * The whole request is here only after the last of a call's 64 reads: it is ready then (it
 * was once left waiting for bytes that would never come, until the time-out closed it).
 */
static void
test_prefetch_ready_on_the_last_read(void **state)
{
	static const char	head[] = "POST /rest/credit HTTP/1.1\r\nHost: x\r\n"
				    "Content-Length: 64\r\n\r\n";
	char			req[sizeof(head) + 64];
	struct trickle		t = { req, 0, 0, 1, 0 };
	struct framing		*f = framing_new(8192, 1024);
	char			got[256];

	(void)state;
	assert_non_null(f);
	snprintf(req, sizeof(req), "%s%.*s", head, 64,
	    "{\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}");
	assert_int_equal(strlen(req), strlen(head) + 64);
	/* the head in one read, then the body a byte a read: the 64th read of the call ends it */
	t.step = strlen(head);
	t.avail = strlen(head);
	assert_int_equal(framing_prefetch(f, trickle_read, &t), FRAMING_WAIT);
	t.step = 1;
	t.avail = strlen(req);
	t.reads = 0;
	assert_int_equal(framing_prefetch(f, trickle_read, &t), FRAMING_READY);
	assert_int_equal(t.reads, 64);
	/* gSOAP then gets the head, and the framing the body, without another read */
	assert_int_equal(drain(f, NULL, got, sizeof(got), 64), strlen(head));
	framing_free(f);
}

/* A head cut short waits; a chunked body or 100-continue is a stream; junk is ready (refused). */
static void
test_prefetch_states(void **state)
{
	static const char	part[] = "GET /rest/me HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char	chunked[] = "POST /rest/credit HTTP/1.1\r\nTransfer-Encoding: "
				    "chunked\r\n\r\n1\r\n{\r\n";
	static const char	expect[] = "POST /rest/credit HTTP/1.1\r\nExpect: 100-continue\r\n"
				    "Content-Length: 10\r\n\r\n";
	static const char	junk[] = "\x01\x02 nonsense\r\n\r\n";
	struct trickle		t;
	struct framing		*f;
	const char		*cases[] = { part, chunked, expect, junk };
	enum framing_ready	 want[] = { FRAMING_WAIT, FRAMING_STREAM, FRAMING_STREAM,
				    FRAMING_READY };
	size_t			 i;

	(void)state;
	for (i = 0; i < 4; i++) {
		f = framing_new(8192, 1024);
		assert_non_null(f);
		/* the first case's head is cut short, and the socket stays open behind it */
		t = (struct trickle){ cases[i], 0, strlen(cases[i]) - (i == 0 ? 6 : 0), 4096, 0 };
		if (framing_prefetch(f, trickle_read, &t) != want[i])
			fail_msg("case %zu: not %d", i, (int)want[i]);
		framing_free(f);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head_then_declared_body_only),
		cmocka_unit_test(test_prefetch_ready_on_the_last_read),
		cmocka_unit_test(test_prefetch_states),
		cmocka_unit_test(test_body_cut_short_is_eof),
		cmocka_unit_test(test_body_over_limit),
		cmocka_unit_test(test_chunked_decoded_in_place),
		cmocka_unit_test(test_chunked_over_limit_and_malformed),
		cmocka_unit_test(test_bad_request_lines),
		cmocka_unit_test(test_head_limit_and_control_bytes),
		cmocka_unit_test(test_many_pipelined_in_one_read),
		cmocka_unit_test(test_a_finished_request_is_wiped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
