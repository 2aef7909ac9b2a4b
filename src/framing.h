/* SPDX-License-Identifier: MIT */
/*
 * Where one HTTP request ends in a connection's byte stream. gSOAP reads a connection through
 * one buffer that it also writes responses into, and its XML parser reads until the envelope
 * ends, not until the body does: pipelined requests are lost and a lying Content-Length decides
 * nothing. So every byte passes through a framing first, which hands gSOAP the request line and
 * headers, then (once they are parsed) exactly the body they declare, already whole in memory,
 * and keeps whatever follows for the next request.
 *
 * One per connection, owned by the connection's thread; no locking.
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
