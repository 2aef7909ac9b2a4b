/* SPDX-License-Identifier: MIT */
/*
 * What one HTTP request carries between the server's hooks and a front end (soapsvc, rest):
 * the request id, the client, the credential headers seen, and what the answer was, for the
 * log line. Owned by the server's per-connection state and reset before every request, so
 * nothing leaks from one keep-alive request into the next.
 */
#ifndef REQUEST_H
#define REQUEST_H

#include <stdint.h>
#include <time.h>

#include "config.h"
#include "login.h"
#include "ops.h"
#include "secret.h"
#include "storepool.h"
#include "tsk.h"
#include "validator.h"

struct metrics;
struct soap;

struct request {
	/* set once per connection */
	const struct config		*cfg;
	const struct validator_policy	*policy;
	const struct login_policy	*login;
	struct storepool		*pool;
	struct metrics			*metrics;	/* the server's counters (metrics.h) */
	char				 peer[64];	/* the connection's peer address */
	int				 port;		/* the port the server listens on */

	/* reset per request */
	char		 id[SECRET_REQID_LEN + 1];
	char		 client[64];	/* the peer, or what a trusted proxy says the client is */
	const char	*forwarded;	/* X-Forwarded-For (gSOAP memory), NULL if absent */
	struct timespec	 start;
	const char	*api_key;	/* X-API-Key value (gSOAP memory), NULL if absent */
	const char	*accept;	/* Accept header */
	const char	*host;		/* Host header */
	const char	*route;		/* what the log names; never the raw path */
	int		 status;	/* HTTP status sent */
	int		 verdict_set;
	enum tsk_verdict verdict;
	int64_t		 key_id;
	int64_t		 account_id;
	int64_t		 retry_after;	/* RATE_LIMITED: seconds, for Retry-After */
	struct store	*store;		/* borrowed lazily, returned by the server */
	int		 sid_hint;	/* what a SOAP header without a SessionID held (soapsvc.h) */
	int		 head;		/* a HEAD request: answer without a body */
	/* framing checks (server.c): what the bytes of this request looked like */
	int		 bad_head;	/* a malformed header line */
	int		 eof;		/* the client went quiet or away mid-request */
	int		 nheaders;
	int		 has_length;	/* a Content-Length header */
	const char	*te;		/* Transfer-Encoding value, NULL if absent */
	int		 reject_status;	/* answer this instead of serving: 0 = serve */
	const char	*reject_code;
	const char	*reject_msg;
	const char	*xml_refusal;	/* why the SOAP envelope is refused unparsed (xmlguard) */
	const char	*body;		/* the whole body, read before serving (framing.h); NULL: */
	size_t		 body_len;	/* none; not NUL-terminated, wiped when the request ends */
	char		 extra_hdr[512];/* response headers gSOAP adds (X-Request-Id, ...) */
};

/*
 * The store for this request, borrowed from the pool on first use and given back by the
 * server when the request ends. NULL when none could be had: callers fail closed.
 */
struct store	*request_store(struct request *r);

/* A lease on this request's store for login_start_lease (given back to the pool on put). */
void		 request_login_lease(struct request *r, struct login_lease *ls);

/* Note the verdict and principal of this request for the log line. */
void		 request_note(struct request *r, enum tsk_verdict v,
		    const struct tsk_principal *p);

/*
 * Ask the validator about credential (NUL-terminated; NULL = none presented) for operation op
 * on channel, with the operation's scope and configured cost; note the outcome. The one way
 * both front ends authenticate.
 */
enum tsk_verdict request_authenticate(struct request *r, const char *credential,
		    enum tsk_channel channel, enum tsk_op op, struct tsk_principal *p);

/* What the caller is told about v (uniform errors applied). */
void		 request_answer(const struct request *r, enum tsk_verdict v,
		    struct validator_answer *out);

/*
 * The legacy Login's deprecation, as configured: "Deprecation: @<unix time>" (RFC 9745) and
 * "Sunset: <HTTP date>" (RFC 8594) on its responses, SOAP and REST alike.
 */
void		 request_login_headers(struct request *r, struct soap *soap);

/* Add a response header line ("Name: value") to those gSOAP sends with this response. */
void		 request_add_header(struct request *r, struct soap *soap, const char *line);

#endif
