/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: a connection's bytes through the framing (framing.c) and each body through the
 * XML guard (xmlguard.c), as the server uses them. The first byte sets how the input is cut
 * into reads (a socket may split anywhere); the rest is the stream. Each request's head is
 * drained, its body read as Content-Length or chunked (as the head says, read the simple way
 * here), and the body drained and checked. Invariants: the framing never hands out more bytes
 * than arrived, a finished head ends in an empty line, a body is exactly what was asked, and
 * the guard's verdict is one it names.
 */
#define _GNU_SOURCE	/* strcasestr */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "framing.h"
#include "xmlguard.h"

#include "fuzz.h"

#define REQUESTS_MAX	64
#define BODY_MAX	4096
#define HEAD_MAX	2048

struct stream {
	const uint8_t	*data;
	size_t		 size, at, step;
	size_t		 handed;	/* bytes framing_recv gave out in all */
};

static size_t
stream_read(void *arg, char *buf, size_t len)
{
	struct stream	*s = arg;
	size_t		 n = s->size - s->at;

	if (n > s->step)
		n = s->step;
	if (n > len)
		n = len;
	memcpy(buf, s->data + s->at, n);
	s->at += n;
	return n;
}

/* Everything framing_recv gives for the current part, into out (at most cap bytes). */
static size_t
drain(struct framing *f, struct stream *s, char *out, size_t cap)
{
	size_t	got = 0, n;
	int	rounds = 0;

	while (got < cap && rounds++ < 100000 &&
	    (n = framing_recv(f, out + got, 1 + (got % 97), stream_read, s)) > 0) {
		FUZZ_CHECK(n <= 1 + (got % 97));
		got += n;
	}
	s->handed += got;
	FUZZ_CHECK(s->handed <= s->at);
	return got;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char		 head[HEAD_MAX + 32 * 1024], body[BODY_MAX + 1];
	struct stream		 s;
	struct framing		*f;
	struct timespec		 deadline;
	enum framing_status	 st;
	enum xmlguard_verdict	 v;
	size_t			 hn, bn, length;
	const char		*cl;
	int			 i, chunked;

	if (size < 1)
		return 0;
	memset(&s, 0, sizeof(s));
	s.step = 1 + data[0] % 64;
	s.data = data + 1;
	s.size = size - 1;
	f = framing_new(HEAD_MAX, BODY_MAX);
	if (f == NULL)
		abort();
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += 10;
	for (i = 0; i < REQUESTS_MAX; i++) {
		framing_next(f);
		hn = drain(f, &s, head, sizeof(head) - 1);
		head[hn] = '\0';
		if (!framing_head_done(f))
			break;
		FUZZ_CHECK(hn >= 2 && head[hn - 1] == '\n' &&
		    (head[hn - 2] == '\n' || (hn >= 3 && memcmp(head + hn - 3, "\n\r\n", 3) == 0)));
		FUZZ_CHECK(!framing_bad_request_line(f) && !framing_head_too_large(f));
		chunked = strcasestr(head, "\nTransfer-Encoding: chunked") != NULL;
		cl = strcasestr(head, "\nContent-Length:");
		length = cl != NULL ? strtoul(cl + 16, NULL, 10) : 0;
		st = framing_body(f, length, chunked, &deadline, stream_read, &s);
		if (st != FRAMING_OK) {
			FUZZ_CHECK(framing_body_len(f) == 0);
			break;
		}
		FUZZ_CHECK(framing_body_len(f) <= BODY_MAX);
		if (!chunked)
			FUZZ_CHECK(framing_body_len(f) == length);
		bn = drain(f, &s, body, sizeof(body));
		FUZZ_CHECK(bn == framing_body_len(f));
		FUZZ_CHECK(memcmp(body, framing_body_data(f), bn) == 0);
		v = xmlguard_check(body, bn, 32, 256);
		FUZZ_CHECK(v >= XMLGUARD_OK && v <= XMLGUARD_TRUNCATED);
		FUZZ_CHECK(xmlguard_message(v)[0] != '\0');
	}
	framing_free(f);
	return 0;
}
