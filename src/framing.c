/* SPDX-License-Identifier: MIT */
/* Where one HTTP request ends in a connection's byte stream (see framing.h). */
#include "framing.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "secret.h"

#define READ_MIN	(16 * 1024)	/* free space offered to each read */
#define KEEP_CAP	(64 * 1024)	/* a buffer grown past this shrinks back between requests */
#define CHUNK_LINE_MAX	1024		/* a chunk-size line, extensions included */
#define TRAILER_MAX	(8 * 1024)	/* all trailer lines of a chunked body */

enum state { HEAD, BODY };

enum chunk_state { CH_SIZE, CH_DATA, CH_DATA_END, CH_TRAILER, CH_DONE };

struct framing {
	char		*buf;
	size_t		 cap, len;	/* buf holds len bytes */
	size_t		 off;		/* the next byte for gSOAP */
	size_t		 lim;		/* gSOAP may have bytes up to here */
	size_t		 head_max, body_max;
	enum state	 state;
	/* the head scanner */
	size_t		 scan;		/* bytes of the head looked at */
	size_t		 head_end;	/* just past the empty line; 0 until seen */
	size_t		 line1_start;	/* where the request line starts (after blank lines) */
	int		 started;	/* a byte other than CR or LF was seen */
	int		 line1_done;
	int		 head_state;	/* CR LF CR LF progress */
	int		 bad_head, bad_line, head_too_large, eof;
	/* the body, once read */
	size_t		 body_len;
	/* what the head declares of its body (head_body), for framing_prefetch */
	int		 body_known;	/* looked at */
	int		 body_stream;	/* chunked, or the client expects a 100 Continue */
	size_t		 body_want;	/* Content-Length; 0: none */
};

struct framing *
framing_new(size_t head_max, size_t body_max)
{
	struct framing	*f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->head_max = head_max;
	f->body_max = body_max;
	return f;
}

/*
 * Drop the bytes from len on, wiping them: a request's bytes may hold a key, a session id or a
 * password, and this buffer outlives the request (and goes back to malloc on shrink or free).
 */
static void
truncate_to(struct framing *f, size_t len)
{
	if (len < f->len)
		secret_wipe(f->buf + len, f->len - len);
	f->len = len;
}

/* Move the buffer to one of ncap bytes (ncap >= len), wiping the old one: see truncate_to. */
static int
resize(struct framing *f, size_t ncap)
{
	char	*nb = malloc(ncap);

	if (nb == NULL)
		return -1;
	if (f->buf != NULL) {
		memcpy(nb, f->buf, f->len);
		secret_wipe(f->buf, f->len);
		free(f->buf);
	}
	f->buf = nb;
	f->cap = ncap;
	return 0;
}

void
framing_free(struct framing *f)
{
	if (f == NULL)
		return;
	truncate_to(f, 0);
	free(f->buf);
	free(f);
}

static void
head_reset(struct framing *f)
{
	f->state = HEAD;
	f->off = f->lim = f->scan = f->head_end = f->line1_start = f->body_len = 0;
	f->started = f->line1_done = f->head_state = 0;
	f->bad_head = f->bad_line = f->head_too_large = 0;
	f->body_known = f->body_stream = 0;
	f->body_want = 0;
}

void
framing_next(struct framing *f)
{
	size_t	used = f->state == BODY ? f->head_end + f->body_len : f->head_end;

	if (f->eof || used == 0 || used > f->len) {
		/* nothing finished, or the stream ended: nothing of it can be the next request */
		if (f->eof || used > f->len)
			truncate_to(f, 0);
	} else {
		memmove(f->buf, f->buf + used, f->len - used);
		truncate_to(f, f->len - used);
	}
	/* A large body grew the buffer: give the memory back rather than keep it per connection. */
	if (f->cap > KEEP_CAP && f->len <= KEEP_CAP)
		(void)resize(f, KEEP_CAP);	/* on failure the large one stays */
	head_reset(f);
}

/* Room for at least want more bytes, up to max in all. -1: out of memory or over max. */
static int
reserve(struct framing *f, size_t want, size_t max)
{
	size_t	ncap;

	if (f->cap - f->len >= want)
		return 0;
	if (f->len + want > max)
		want = max > f->len ? max - f->len : 0;
	if (want == 0)
		return -1;
	if (f->cap - f->len >= want)
		return 0;
	ncap = f->cap < READ_MIN ? READ_MIN : f->cap;
	while (ncap - f->len < want)
		ncap *= 2;
	if (ncap > max)
		ncap = max;
	return resize(f, ncap);
}

/* Read once more from the connection, up to max bytes held in all. 0, or -1 at the end. */
static int
fill(struct framing *f, size_t max, framing_read_fn rd, void *ctx)
{
	size_t	n;

	if (reserve(f, READ_MIN, max) != 0)
		return -1;
	n = rd(ctx, f->buf + f->len, f->cap - f->len);
	if (n == 0) {
		f->eof = 1;
		return -1;
	}
	f->len += n;
	return 0;
}

static int
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* RFC 9112 3: method SP request-target SP HTTP-version, the line end excluded. */
static int
request_line_ok(const unsigned char *s, size_t n)
{
	size_t	i = 0, m;

	if (n > 0 && s[n - 1] == '\r')
		n--;
	for (m = i; i < n && is_tchar(s[i]); i++)
		;
	if (i == m || i >= n || s[i++] != ' ')
		return 0;
	for (m = i; i < n && s[i] > ' ' && s[i] != 0x7f; i++)
		;
	if (i == m || i >= n || s[i++] != ' ')
		return 0;
	return n - i == 8 && memcmp(s + i, "HTTP/", 5) == 0 && s[i + 5] >= '0' &&
	    s[i + 5] <= '9' && s[i + 6] == '.' && s[i + 7] >= '0' && s[i + 7] <= '9';
}

/*
 * Look at the head bytes read since last time: control bytes, the request line, and the empty
 * line ("\r\n\r\n" or "\n\n") that ends the head. Leading empty lines are not a head (RFC 9112
 * 2.2 lets a server ignore them).
 */
static void
head_scan(struct framing *f)
{
	unsigned char	b;

	for (; f->scan < f->len && f->head_end == 0; f->scan++) {
		b = (unsigned char)f->buf[f->scan];
		if (!f->started) {
			if (b == '\r' || b == '\n')
				continue;
			f->started = 1;
			f->line1_start = f->scan;
		}
		if ((b < 0x20 && b != '\t' && b != '\r' && b != '\n') || b == 0x7f)
			f->bad_head = 1;
		if (b == '\n' && !f->line1_done) {
			f->line1_done = 1;
			if (!request_line_ok((unsigned char *)f->buf + f->line1_start,
			    f->scan - f->line1_start)) {
				f->bad_line = 1;
				return;		/* not a request: its end does not matter */
			}
		}
		if (b == '\n')
			f->head_state = f->head_state >= 2 ? 4 : 2;
		else if (b == '\r')
			f->head_state = f->head_state == 2 ? 3 : 1;
		else
			f->head_state = 0;
		if (f->head_state == 4)
			f->head_end = f->scan + 1;
	}
	if (f->head_end == 0 && f->len - f->line1_start > f->head_max)
		f->head_too_large = 1;
}

size_t
framing_recv(struct framing *f, char *buf, size_t len, framing_read_fn rd, void *ctx)
{
	size_t	n;

	while (f->off >= f->lim) {
		if (f->state == BODY || f->bad_line || f->head_too_large)
			return 0;	/* this request's bytes are all out, or must not go out */
		/* framing_prefetch may have scanned further than gSOAP has read */
		if (f->lim < (f->head_end != 0 ? f->head_end : f->scan)) {
			f->lim = f->head_end != 0 ? f->head_end : f->scan;
			continue;
		}
		if (f->head_end != 0 || f->eof)
			return 0;
		if (f->scan >= f->len && fill(f, f->head_max + READ_MIN, rd, ctx) != 0)
			return 0;
		head_scan(f);
		if (f->bad_line || f->head_too_large)
			return 0;
		f->lim = f->head_end != 0 ? f->head_end : f->scan;
	}
	n = f->lim - f->off < len ? f->lim - f->off : len;
	memcpy(buf, f->buf + f->off, n);
	f->off += n;
	return n;
}

/* Header line s[0..n-1] (no line end) is name: the value, trimmed, in *v and *vn; else 0. */
static int
header_is(const char *s, size_t n, const char *name, const char **v, size_t *vn)
{
	size_t	k = strlen(name);

	if (n <= k || strncasecmp(s, name, k) != 0 || s[k] != ':')
		return 0;
	s += k + 1;
	n -= k + 1;
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	*v = s;
	*vn = n;
	return 1;
}

/*
 * What the whole head says of its body, for framing_prefetch only: gSOAP parses the head
 * again and decides. Anything but one plain Content-Length (or none) is left to that: the
 * request is served as it is, and refused there.
 */
static void
head_body(struct framing *f)
{
	const char	*p = f->buf + f->line1_start, *end = f->buf + f->head_end, *nl, *v;
	size_t		 n, vn, i, lengths = 0, len = 0;

	f->body_known = 1;
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			break;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (header_is(p, n, "Transfer-Encoding", &v, &vn) ||
		    (header_is(p, n, "Expect", &v, &vn) && vn == 12 &&
		    strncasecmp(v, "100-continue", 12) == 0)) {
			f->body_stream = 1;
		} else if (header_is(p, n, "Content-Length", &v, &vn)) {
			lengths++;
			len = 0;
			for (i = 0; i < vn && i < 12 && v[i] >= '0' && v[i] <= '9'; i++)
				len = len * 10 + (size_t)(v[i] - '0');
			if (vn == 0 || i != vn)
				lengths = 2;	/* not a plain number: gSOAP decides */
		}
	}
	if (lengths == 1 && len <= f->body_max)
		f->body_want = len;
}

/*
 * What the bytes held say of the current request: 1 and *out when it is whole (or never will
 * be, or is a stream), 0 when more must be read.
 */
static int
prefetch_done(struct framing *f, enum framing_ready *out)
{
	size_t	have;

	if (f->scan < f->len && f->head_end == 0)
		head_scan(f);
	*out = FRAMING_READY;
	if (f->bad_line || f->head_too_large || f->eof)
		return 1;
	if (f->head_end == 0)
		return 0;
	if (!f->body_known)
		head_body(f);
	have = f->len - f->head_end;
	if (f->body_stream && (f->body_want == 0 || have < f->body_want)) {
		*out = FRAMING_STREAM;
		return 1;
	}
	return have >= f->body_want;
}

enum framing_ready
framing_prefetch(struct framing *f, framing_read_now_fn rd, void *ctx)
{
	enum framing_ready	st;
	long			n;
	int			reads;

	/* Bounded: 64 reads a call, and the head and body limits stop a sender that never ends. */
	for (reads = 0;; reads++) {
		if (prefetch_done(f, &st))
			return st;
		if (reads == 64)
			return FRAMING_WAIT;	/* more is there: the connection is ready again */
		/* Room for the whole body at once, as body_plain makes: not a doubling series. */
		if (f->head_end != 0 && reserve(f, f->head_end + f->body_want - f->len,
		    f->head_end + f->body_want + READ_MIN) != 0) {
			f->eof = 1;
			return FRAMING_READY;
		}
		if (reserve(f, READ_MIN, f->head_end != 0 ? f->head_end + f->body_want + READ_MIN :
		    f->head_max + READ_MIN) != 0) {
			f->eof = 1;
			return FRAMING_READY;
		}
		n = rd(ctx, f->buf + f->len, f->cap - f->len);
		if (n < 0)
			return FRAMING_WAIT;
		if (n == 0) {
			f->eof = 1;
			return FRAMING_READY;
		}
		f->len += (size_t)n;
	}
}

int
framing_says(const struct framing *f, const char *s)
{
	size_t		 end = f->len, n = strlen(s);
	const char	*p, *stop;

	if (f->head_end != 0 && f->head_end + f->body_want < end)
		end = f->head_end + f->body_want;	/* not the next request's */
	if (f->buf == NULL || n == 0 || end < f->line1_start + n)
		return 0;
	stop = f->buf + end - n;	/* the last place s can start */
	for (p = f->buf + f->line1_start; p <= stop; p++) {
		p = memchr(p, s[0], (size_t)(stop - p) + 1);
		if (p == NULL)
			return 0;
		if (memcmp(p, s, n) == 0)
			return 1;
	}
	return 0;
}

size_t
framing_held(const struct framing *f)
{
	return f->len;
}

static int
past(const struct timespec *deadline)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec ||
	    (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* Content-Length bytes after the head, all in the buffer. */
static enum framing_status
body_plain(struct framing *f, size_t length, const struct timespec *deadline, framing_read_fn rd,
    void *ctx)
{
	/* Room for the whole body at once: one allocation, not a doubling series, for a big one. */
	if (f->len - f->head_end < length && reserve(f, f->head_end + length - f->len,
	    f->head_end + length + READ_MIN) != 0) {
		f->eof = 1;
		return FRAMING_EOF;
	}
	while (f->len - f->head_end < length) {
		if (past(deadline) || fill(f, f->head_end + length + READ_MIN, rd, ctx) != 0) {
			f->eof = 1;
			return FRAMING_EOF;
		}
	}
	f->body_len = length;
	return FRAMING_OK;
}

/* The next line from *pos (within max bytes): its length with the line end, 0 if not all here. */
static size_t
line_at(const struct framing *f, size_t pos)
{
	const char	*nl = memchr(f->buf + pos, '\n', f->len - pos);

	return nl == NULL ? 0 : (size_t)(nl - (f->buf + pos)) + 1;
}

/* "1a2b[;ext][ ]\r\n": the size, or -1. */
static long long
chunk_size(const char *s, size_t n)
{
	long long	v = 0;
	size_t		i;
	int		d, digits = 0;

	for (i = 0; i < n; i++) {
		char	c = s[i];

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			break;
		if (++digits > 15)
			return -1;
		v = v * 16 + d;
	}
	if (digits == 0)
		return -1;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < n && s[i] == ';')
		return v;	/* extensions: ignored (RFC 9112 7.1.1) */
	if (i < n && s[i] == '\r')
		i++;
	return i == n - 1 && s[i] == '\n' ? v : -1;
}

/*
 * A chunked body, decoded in place as it arrives: data is moved down over the chunk framing,
 * so the buffer holds the head, the plain body, and then whatever followed the last chunk.
 */
static enum framing_status
body_chunked(struct framing *f, const struct timespec *deadline, framing_read_fn rd, void *ctx)
{
	enum chunk_state	st = CH_SIZE;
	size_t			rpos = f->head_end, wpos = f->head_end, data = 0, n, trailer = 0;
	size_t			max = f->head_end + f->body_max + 2 * READ_MIN;
	long long		sz;

	while (st != CH_DONE) {
		n = 0;
		switch (st) {
		case CH_SIZE:
		case CH_DATA_END:
		case CH_TRAILER:
			n = line_at(f, rpos);
			if (n == 0 && f->len - rpos > CHUNK_LINE_MAX)
				return FRAMING_BAD_CHUNK;
			if (n == 0)
				break;
			if (st == CH_SIZE) {
				sz = chunk_size(f->buf + rpos, n);
				if (sz < 0)
					return FRAMING_BAD_CHUNK;
				if ((size_t)sz > f->body_max - (wpos - f->head_end))
					return FRAMING_TOO_LARGE;
				data = (size_t)sz;
				st = data == 0 ? CH_TRAILER : CH_DATA;
			} else if (st == CH_DATA_END) {
				if (!(n == 1 || (n == 2 && f->buf[rpos] == '\r')))
					return FRAMING_BAD_CHUNK;
				st = CH_SIZE;
			} else {
				trailer += n;
				if (trailer > TRAILER_MAX)
					return FRAMING_BAD_CHUNK;
				if (n == 1 || (n == 2 && f->buf[rpos] == '\r'))
					st = CH_DONE;
			}
			rpos += n;
			continue;
		case CH_DATA:
			n = f->len - rpos < data ? f->len - rpos : data;
			memmove(f->buf + wpos, f->buf + rpos, n);
			wpos += n;
			rpos += n;
			data -= n;
			if (data == 0)
				st = CH_DATA_END;
			if (n > 0)
				continue;
			break;
		case CH_DONE:
			break;
		}
		/* Nothing more to decode here: read. Move the decoded data up first, to make room. */
		memmove(f->buf + wpos, f->buf + rpos, f->len - rpos);
		truncate_to(f, f->len - (rpos - wpos));
		rpos = wpos;
		if (past(deadline) || fill(f, max, rd, ctx) != 0) {
			if (!f->eof)
				return FRAMING_TOO_LARGE;	/* the framing overhead itself */
			return FRAMING_EOF;
		}
	}
	memmove(f->buf + wpos, f->buf + rpos, f->len - rpos);
	truncate_to(f, f->len - (rpos - wpos));
	f->body_len = wpos - f->head_end;
	return FRAMING_OK;
}

enum framing_status
framing_body(struct framing *f, size_t length, int chunked, const struct timespec *deadline,
    framing_read_fn rd, void *ctx)
{
	enum framing_status	rc;

	/* gSOAP has had the head, and not a byte more (framing_recv stops at the empty line). */
	f->state = BODY;
	f->body_len = 0;
	f->off = f->lim = f->head_end;
	if (chunked)
		rc = body_chunked(f, deadline, rd, ctx);
	else if (length > f->body_max)
		rc = FRAMING_TOO_LARGE;
	else
		rc = body_plain(f, length, deadline, rd, ctx);
	if (rc != FRAMING_OK) {
		f->eof = f->eof || rc == FRAMING_EOF;
		f->body_len = 0;
		return rc;
	}
	f->lim = f->head_end + f->body_len;
	return FRAMING_OK;
}

const char *
framing_body_data(const struct framing *f)
{
	return f->buf != NULL ? f->buf + f->head_end : "";
}

size_t
framing_body_len(const struct framing *f)
{
	return f->body_len;
}

int
framing_eof(const struct framing *f)
{
	return f->eof;
}

int
framing_head_done(const struct framing *f)
{
	return f->head_end != 0;
}

int
framing_head_too_large(const struct framing *f)
{
	return f->head_too_large;
}

int
framing_bad_head(const struct framing *f)
{
	return f->bad_head;
}

int
framing_bad_request_line(const struct framing *f)
{
	return f->bad_line;
}

size_t
framing_seen(const struct framing *f)
{
	return f->off;
}
