/* SPDX-License-Identifier: MIT */
/*
 * Where one HTTP request ends in a connection's byte stream. gSOAP reads a connection through
 * one buffer that it also writes responses into, and its XML parser reads until the envelope
 * ends, not until the body does: pipelined requests are lost and a lying Content-Length decides
 * nothing. So every byte passes through a framing first, which hands gSOAP the request line and
 * headers, then (once they are parsed) exactly the body they declare, already whole in memory,
 * and keeps whatever follows for the next request.
 *
 * One per connection, owned by whichever thread serves the connection at the time; no locking.
 * A connection served from an event loop fills its framing without blocking (framing_prefetch)
 * and is served once a whole head is in; a connection with a thread of its own lets
 * framing_recv read as gSOAP asks.
 */
#ifndef FRAMING_H
#define FRAMING_H

#include <stddef.h>
#include <time.h>

struct framing;

/* Read up to len bytes from the connection into buf; 0 on end of stream, timeout or error. */
typedef size_t (*framing_read_fn)(void *ctx, char *buf, size_t len);

enum framing_status {
	FRAMING_OK,
	FRAMING_EOF,		/* the client closed, stalled past the deadline, or failed */
	FRAMING_TOO_LARGE,	/* the (chunked) body is over the limit */
	FRAMING_BAD_CHUNK,	/* chunked encoding that does not parse */
};

/* head_max: request line and headers; body_max: a body. NULL when out of memory. */
struct framing	*framing_new(size_t head_max, size_t body_max);
void		 framing_free(struct framing *f);

/*
 * Start the next request: forget the bytes of the one before (its body included, read or
 * not) and keep what came after it.
 */
void		 framing_next(struct framing *f);

/* Read what the connection has now, without waiting: -1 when nothing is there, 0 at its end. */
typedef long (*framing_read_now_fn)(void *ctx, char *buf, size_t len);

enum framing_ready {
	FRAMING_WAIT,		/* the request is not all here: wait for the connection */
	FRAMING_READY,		/* the request is here whole, or nothing more will make it (below) */
	FRAMING_STREAM,		/* the head is here; its body comes as the client sends it */
};

/*
 * Read what the connection has without blocking until the current request is whole: its head
 * and the Content-Length bytes it declares. FRAMING_READY also when the stream ended, the
 * request line is not HTTP, the head is over the limit or its body headers are not plain
 * (serving the request then answers or closes as it would from framing_recv). FRAMING_STREAM
 * for a chunked body or an "Expect: 100-continue" whose body is not here yet: the end of the
 * one is known only by decoding it, and the other's client waits for an answer to the head;
 * serve it from a thread that may wait for the body.
 */
enum framing_ready framing_prefetch(struct framing *f, framing_read_now_fn rd, void *ctx);

/*
 * 1 when the current request's bytes that are here (its head and body) contain s: a cheap
 * look before serving, which may be wrong either way for a request that merely quotes s.
 */
int		 framing_says(const struct framing *f, const char *s);

/* Bytes held for the next request (a part of its head, say); 0: the connection is idle. */
size_t		 framing_held(const struct framing *f);

/*
 * gSOAP's receive: up to len bytes of the current request, reading the connection when needed.
 * Before framing_body() that is the request line and headers and never a byte past the empty
 * line that ends them; after it, the body and never a byte past it. 0 when the request's bytes
 * are all handed out, or the connection ended (framing_eof() says which).
 */
size_t		 framing_recv(struct framing *f, char *buf, size_t len, framing_read_fn rd,
		    void *ctx);

/*
 * The head is parsed: read the whole body, Content-Length bytes or chunked (decoded in place,
 * so that gSOAP sees a plain body of framing_body_len() bytes), by deadline (CLOCK_MONOTONIC).
 * The body is then what framing_recv hands out.
 */
enum framing_status framing_body(struct framing *f, size_t length, int chunked,
		    const struct timespec *deadline, framing_read_fn rd, void *ctx);

/* The current request's body as read by framing_body (not NUL-terminated). */
const char	*framing_body_data(const struct framing *f);
size_t		 framing_body_len(const struct framing *f);

int		 framing_eof(const struct framing *f);		/* the stream ended */
int		 framing_head_done(const struct framing *f);	/* the empty line was seen */
int		 framing_head_too_large(const struct framing *f);
int		 framing_bad_head(const struct framing *f);	/* control bytes in the head */
/* The head started with something that is not an HTTP request line. */
int		 framing_bad_request_line(const struct framing *f);
/* Bytes of the current request handed to gSOAP so far (0: nothing arrived). */
size_t		 framing_seen(const struct framing *f);

#endif
