/* SPDX-License-Identifier: MIT */
/*
 * The listener: one gSOAP context bound to the address, a thread per open connection (capped),
 * keep-alive with idle timeouts, the per-request hooks that reset state, capture the credential
 * headers and route non-SOAP requests to the REST shim, one log line per request, and a clean
 * stop on SIGTERM / SIGINT; SIGHUP reloads the settings (live.h) without closing a connection.
 * Knows nothing about keys: that is the validator's.
 */
#include "server.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "framing.h"
#include "ipallow.h"
#include "live.h"
#include "log.h"
#include "metrics.h"
#include "ratelimit.h"
#include "throttle.h"
#include "tls.h"
#include "usage.h"
#include "xmlguard.h"
#include "reply.h"
#include "rest.h"
#include "soapH.h"
#include "soapsvc.h"

#define STORE_WAIT_MS	2000	/* a request waits this long for a database connection */
#define DRAIN_SECONDS	5	/* on stop, open connections get this long to finish */
#define HEADER_ALLOWANCE (64 * 1024)	/* request line and headers, beyond the body limit */

struct conn;

struct server {
	const struct config	*cfg;
	struct storepool	*pool;
	struct validator_policy	 policy;
	struct login_policy	 login;
	struct live		*live;		/* the settings now (SIGHUP); NULL: cfg, policy, login */
	server_reload_fn	 reload;
	void			*reload_arg;
	struct metrics		*metrics;	/* GET /metrics: counted in request_end */
	pthread_t		 flusher;	/* writes batched key usage to the store */
	struct soap		*master;
	int			 port;		/* the port bound (cfg may say 0) */
	/* gSOAP's own hooks, which ours wrap; read-only once serving */
	int	(*fparse)(struct soap *);
	int	(*fparsehdr)(struct soap *, const char *, const char *);
	int	(*fposthdr)(struct soap *, const char *, const char *);
	size_t	(*frecv)(struct soap *, char *, size_t);
	atomic_int		 stopping;
	pthread_mutex_t		 mu;		/* guards conns and nconns */
	pthread_cond_t		 drained;
	struct conn		*conns;		/* open connections, to wake them at stop */
	int			 nconns;
};

struct conn {
	struct request	 req;		/* first: soap->user points here */
	struct server	*srv;
	struct soap	*soap;
	struct framing	*fr;		/* where each request ends in the byte stream */
	int		 seen;		/* a request line arrived: log this request */
	int		 fault_kept;	/* a fault is going out on a connection that stays open */
	int		 timed;		/* the request's first byte has arrived (req.start) */
	int		 method;	/* gSOAP's code for the request method */
	const struct live_settings *snap;	/* the settings this request holds */
	struct conn	*prev, *next;
};

static struct conn *
conn_of(struct soap *soap)
{
	return (struct conn *)soap->user;
}

#define MAX_HEADERS	100	/* header lines in one request */

/* The connection itself, under the framing: gSOAP's socket (or TLS) receive. */
static size_t
conn_read(void *arg, char *buf, size_t len)
{
	struct conn	*c = arg;

	return c->srv->frecv(c->soap, buf, len);
}

/*
 * A head that is not HTTP, or too large to be: gSOAP would answer nothing (or wait for more),
 * so answer 400 or 431 here, straight to the connection, and let gSOAP see the end of input.
 */
static void
refuse_head(struct conn *c)
{
	struct request	*r = &c->req;
	char		 body[256], out[640];
	int		 large = framing_head_too_large(c->fr), n;

	r->status = large ? 431 : 400;
	r->route = "framing";
	c->seen = 1;
	snprintf(body, sizeof(body), "{\"message\":\"%s\",\"code\":\"%s\",\"requestId\":\"%s\"}",
	    large ? "The request line and headers are larger than the server accepts" :
	    "The request line is not HTTP", large ? "HEADERS_TOO_LARGE" : "BAD_REQUEST", r->id);
	n = snprintf(out, sizeof(out), "HTTP/1.1 %d %s\r\nServer: tskey\r\nContent-Type: "
	    "application/json; charset=utf-8\r\nContent-Length: %zu\r\nX-Request-Id: %s\r\n"
	    "Connection: close\r\n\r\n%s", r->status, large ? "Request Header Fields Too Large" :
	    "Bad Request", strlen(body), r->id, body);
	if (n > 0 && (size_t)n < sizeof(out))
		(void)c->soap->fsend(c->soap, out, (size_t)n);
}

/*
 * Every byte gSOAP reads comes through the connection's framing, which hands it one request
 * at a time (framing.h): the head, then, once hook_parse has read it, the declared body.
 */
static size_t
hook_recv(struct soap *soap, char *buf, size_t len)
{
	struct conn	*c = conn_of(soap);
	size_t		 n = framing_recv(c->fr, buf, len, conn_read, c);

	/* A request's time starts with its first byte, not with the wait for it (keep-alive). */
	if (n > 0 && !c->timed) {
		clock_gettime(CLOCK_MONOTONIC, &c->req.start);
		c->timed = 1;
	}
	if (n == 0 && framing_eof(c->fr))
		c->req.eof = 1;
	else if (n == 0 && !c->seen && (framing_bad_request_line(c->fr) ||
	    framing_head_too_large(c->fr)))
		refuse_head(c);
	return n;
}

/* Refuse the request with status (the body is not read) and close the connection after. */
static void
reject(struct soap *soap, struct request *r, int status, const char *code, const char *msg)
{
	r->reject_status = status;
	r->reject_code = code;
	r->reject_msg = msg;
	soap->keep_alive = 0;
	if (soap->status == SOAP_POST)
		soap->fform = rest_serve;	/* the SOAP endpoint too: nothing is parsed */
}

/*
 * Framing rules gSOAP does not enforce: no control bytes in the head, a bounded number of
 * headers, and no Transfer-Encoding but plain chunked, never beside a Content-Length (the
 * request-smuggling shapes). 0 to serve; SOAP_EOF to drop a request that never finished.
 */
static int
check_framing(struct soap *soap, struct request *r)
{
	if (r->eof)
		return SOAP_EOF;
	if (r->bad_head || framing_bad_head(conn_of(soap)->fr))
		reject(soap, r, 400, "BAD_REQUEST", "Control characters in the request line or "
		    "headers");
	else if (r->nheaders > MAX_HEADERS)
		reject(soap, r, 431, "HEADERS_TOO_LARGE", "Too many header lines");
	else if (r->te != NULL && r->has_length)
		reject(soap, r, 400, "BAD_REQUEST", "Content-Length and Transfer-Encoding together");
	else if (r->te != NULL && strcasecmp(r->te, "chunked") != 0)
		reject(soap, r, 501, "NOT_IMPLEMENTED", "Only Transfer-Encoding: chunked is "
		    "understood");
	return SOAP_OK;
}

/*
 * Behind a trusted proxy, the client is the right-most X-Forwarded-For address that is not one
 * of the trusted proxies; anything else in the header is the client's own word and ignored.
 */
static void
forwarded_client(struct request *r, const char *trusted)
{
	char	 addr[64];
	size_t	 n, end;

	if (*trusted == '\0' || r->forwarded == NULL || !ipallow_match(trusted, r->peer))
		return;
	for (end = strlen(r->forwarded); end > 0; end = n > 0 ? n - 1 : 0) {
		for (n = end; n > 0 && r->forwarded[n - 1] != ','; n--)
			;
		snprintf(addr, sizeof(addr), "%.*s", (int)(end - n), r->forwarded + n);
		/* trim: "a, b" */
		while (addr[0] == ' ')
			memmove(addr, addr + 1, strlen(addr));
		while (addr[0] != '\0' && addr[strlen(addr) - 1] == ' ')
			addr[strlen(addr) - 1] = '\0';
		if (ipallow_valid(addr) != 0 || addr[0] == '\0' || strchr(addr, '/') != NULL) {
			snprintf(r->client, sizeof(r->client), "%s", "invalid-forwarded-for");
			return;	/* a garbled header matches no allowlist: fail closed */
		}
		snprintf(r->client, sizeof(r->client), "%s", addr);
		if (!ipallow_match(trusted, addr))
			return;
	}
}

/*
 * The head is parsed: read the whole declared body before anything acts on the request, so that
 * a body that never arrives is never half served, and a chunked one is held to --max-body.
 */
static void
read_body(struct soap *soap, struct conn *c)
{
	struct request		*r = &c->req;
	struct timespec		 deadline;
	int			 chunked = (soap->imode & SOAP_IO) == SOAP_IO_CHUNK;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += soap->transfer_timeout > 0 ? soap->transfer_timeout : 30;
	switch (framing_body(c->fr, (size_t)soap->length, chunked, &deadline, conn_read, c)) {
	case FRAMING_OK:
		if (chunked) {
			/* decoded in place: gSOAP reads it as a plain body of this length */
			soap->imode &= ~SOAP_IO;
			soap->length = framing_body_len(c->fr);
		}
		break;
	case FRAMING_EOF:
		r->eof = 1;
		reject(soap, r, 408, "REQUEST_TIMEOUT", "The request body did not arrive in full");
		break;
	case FRAMING_TOO_LARGE:
		reject(soap, r, 413, "TOO_LARGE", "The request body is larger than the server "
		    "accepts");
		break;
	case FRAMING_BAD_CHUNK:
		reject(soap, r, 400, "BAD_REQUEST", "The chunked body is malformed");
		break;
	}
}

/*
 * A SOAP envelope is checked whole before gSOAP parses it: the depth and length limits hold
 * for the content gSOAP would skip as well, and a DTD or a NUL is refused, not skipped.
 */
static void
guard_envelope(struct soap *soap, struct conn *c)
{
	enum xmlguard_verdict	v;

	v = xmlguard_check(framing_body_data(c->fr), framing_body_len(c->fr),
	    (unsigned)c->srv->cfg->max_xml_depth, c->srv->cfg->max_string);
	if (v == XMLGUARD_OK)
		return;
	c->req.xml_refusal = xmlguard_message(v);
	soap->fform = soapsvc_refuse;
}

/*
 * The settings of this request: the snapshot current when its head arrived (not when the
 * connection began waiting for it), held whole until request_end even if SIGHUP swaps it.
 */
static void
request_settings(struct conn *c)
{
	if (c->srv->live == NULL || c->snap != NULL)
		return;
	c->snap = live_acquire(c->srv->live);
	c->req.cfg = &c->snap->cfg;
	c->req.policy = &c->snap->policy;
	c->req.login = &c->snap->login;
}

/* After the request line and headers: route, and name the request in the response. */
static int
hook_parse(struct soap *soap)
{
	struct conn	*c = conn_of(soap);
	char		 line[64];
	int		 err;

	request_settings(c);
	err = c->srv->fparse(soap);
	c->seen = 1;
	if (err == SOAP_OK)
		err = check_framing(soap, &c->req);
	c->method = soap->status;	/* soap->status is reused for the response */
	c->req.head = soap->status == SOAP_HEAD;
	forwarded_client(&c->req, c->req.cfg->trusted_proxies);
	/*
	 * gSOAP 2.8.124 skips 4 bytes of "PATCH " when it cuts the path out of the request line,
	 * leaving "H /path": put the path where it belongs.
	 */
	if (soap->status == SOAP_PATCH && strncmp(soap->path, "H /", 3) == 0)
		memmove(soap->path, soap->path + 2, strlen(soap->path + 2) + 1);
	/* Every answer names the request, gSOAP's own errors (405, 400) too. */
	c->req.extra_hdr[0] = '\0';
	snprintf(line, sizeof(line), "X-Request-Id: %s", c->req.id);
	request_add_header(&c->req, soap, line);
	if (err != SOAP_OK) {
		soap->cors_origin = NULL;	/* see below */
		return err;
	}
	/* A declared body over the limit is refused before a byte of it is read, on any path. */
	if (soap->length > c->srv->cfg->max_body)
		soap->fform = rest_too_large;
	else if (c->req.reject_status == 0)
		read_body(soap, c);
	/*
	 * POST to the SOAP endpoint goes to gSOAP's dispatcher, if it carries XML; every other
	 * POST is the REST shim's (which answers a non-XML POST to the endpoint with 415).
	 */
	if (soap->status == SOAP_POST && soap->fform == NULL && (c->req.reject_status != 0 ||
	    !rest_path_is(soap->path, REST_SOAP_PATH) || !rest_is_soap_type(soap->http_content)))
		soap->fform = rest_serve;
	if (soap->status == SOAP_POST && soap->fform == NULL) {
		/*
		 * gSOAP answers any request with an Origin header "Access-Control-Allow-Origin: *":
		 * not ours to grant. The REST shim decides CORS itself (rest.c); SOAP allows none.
		 */
		soap->cors_origin = NULL;
		guard_envelope(soap, c);
	}
	return SOAP_OK;
}

/* Keep the headers the front ends read; gSOAP's parser sees every header too. */
static int
hook_parsehdr(struct soap *soap, const char *key, const char *val)
{
	struct request	*r = &conn_of(soap)->req;

	if (++r->nheaders > MAX_HEADERS)
		return SOAP_OK;		/* refused in hook_parse; do not keep more */
	/* RFC 9112 5.1: no white space between a field name and its colon. */
	if (strpbrk(key, " \t") != NULL)
		r->bad_head = 1;
	if (strcasecmp(key, "Transfer-Encoding") == 0)
		r->te = soap_strdup(soap, val);
	else if (strcasecmp(key, "Content-Length") == 0)
		r->has_length = 1;
	if (strcasecmp(key, "X-API-Key") == 0) {
		/* Two keys on one request is ambiguous: refuse rather than pick one. */
		r->api_key = r->api_key == NULL ? soap_strdup(soap, val) : "\x01";
	} else if (strcasecmp(key, "Accept") == 0) {
		r->accept = soap_strdup(soap, val);
	} else if (strcasecmp(key, "Host") == 0) {
		r->host = soap_strdup(soap, val);
	} else if (strcasecmp(key, "X-Forwarded-For") == 0) {
		r->forwarded = soap_strdup(soap, val);
	}
	return conn_of(soap)->srv->fparsehdr(soap, key, val);
}

/* See the status line of every response for the log, and do not advertise gSOAP. */
static int
hook_posthdr(struct soap *soap, const char *key, const char *val)
{
	struct conn	*c = conn_of(soap);

	if (key == NULL)	/* the end of the headers */
		return c->srv->fposthdr(soap, key, val);
	if (val == NULL && strncmp(key, "HTTP/", 5) == 0) {
		const char	*sp = strchr(key, ' ');

		/* "100 Continue" goes out before the answer: it is not the answer */
		if (sp != NULL && atoi(sp + 1) >= 200)
			c->req.status = atoi(sp + 1);
	} else if (val != NULL && strcasecmp(key, "Server") == 0) {
		val = "tskey";
	} else if (c->fault_kept && val != NULL && strcasecmp(key, "Connection") == 0) {
		val = "keep-alive";	/* see send_fault */
	}
	return c->srv->fposthdr(soap, key, val);
}

static void
request_begin(struct conn *c)
{
	struct request	*r = &c->req;

	r->api_key = r->accept = r->host = r->forwarded = NULL;
	memcpy(r->client, r->peer, sizeof(r->client));
	r->sid_hint = 0;
	r->head = 0;
	r->xml_refusal = NULL;
	r->bad_head = r->eof = r->nheaders = r->has_length = r->reject_status = 0;
	r->te = NULL;
	r->route = "-";
	r->status = 0;
	r->verdict_set = 0;
	r->verdict = TSK_VERDICT_ERROR;
	r->key_id = r->account_id = r->retry_after = 0;
	r->store = NULL;
	c->seen = 0;
	c->method = 0;
	c->timed = 0;
	/*
	 * What is left of the last request goes; what came after it stays in the framing. gSOAP's
	 * buffer holds nothing of the next request (the framing never gave it any), and the last
	 * response was written over it anyway.
	 */
	framing_next(c->fr);
	c->soap->bufidx = c->soap->buflen = 0;
	if (secret_request_id(r->id) != 0)
		snprintf(r->id, sizeof(r->id), "%s", "0000000000000000");
	clock_gettime(CLOCK_MONOTONIC, &r->start);
}

/* The request's one log line. Never the raw path: a client may put a key in it. */
static void
request_log(const struct conn *c, enum metrics_channel ch, double ms)
{
	const struct request	*r = &c->req;
	const struct log_field	 f[] = {
		log_str("id", r->id), log_str("client", r->client),
		log_str("channel", metrics_channel_name(ch)),
		log_str("method", rest_method(c->method)), log_str("route", r->route),
		log_int("status", r->status),
		log_str("verdict", r->verdict_set ? validator_code(r->verdict) : "-"),
		log_int("key_id", r->key_id), log_int("account_id", r->account_id),
		log_real("ms", ms),
	};

	log_fields("request", f, sizeof(f) / sizeof(f[0]));
}

/* Give back what the request borrowed, log it, and free its gSOAP memory. */
static void
request_end(struct conn *c)
{
	struct request	*r = &c->req;
	struct soap	*soap = c->soap;
	struct timespec	 now;
	double		 ms;
	enum metrics_channel ch;

	storepool_put(r->pool, r->store);
	r->store = NULL;
	if (c->seen) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (double)(now.tv_sec - r->start.tv_sec) * 1e3 +
		    (double)(now.tv_nsec - r->start.tv_nsec) / 1e6;
		ch = metrics_channel_of(r->route, c->method == SOAP_POST &&
		    soap->fform != rest_serve && soap->fform != rest_too_large);
		metrics_request(c->srv->metrics, ch, r->verdict_set ? (int)r->verdict : -1,
		    r->status, ms / 1e3);
		request_log(c, ch, ms);
	}
	/* gSOAP's keep-alive loop keeps request memory until the connection ends: free it now. */
	soap_free_temp(soap);
	soap_dealloc(soap, NULL);
	if (c->snap != NULL) {
		r->cfg = c->srv->cfg;
		r->policy = &c->srv->policy;
		r->login = &c->srv->login;
		live_release(c->srv->live, c->snap);
		c->snap = NULL;
	}
}

static int
close_later(struct soap *soap)
{
	(void)soap;
	return SOAP_OK;
}

/*
 * Send the fault of a call that was refused (a bad key, a wrong SOAPAction). gSOAP closes the
 * connection after every fault, so a client whose key was revoked would reconnect for each
 * call; ASMX keeps the connection, and so do we: the framing has the whole request, so nothing
 * of it can be read as the next one. Other errors (a broken envelope, a connection that went)
 * still close. 1 when the connection stays open.
 */
static int
send_fault(struct conn *c)
{
	struct soap	*soap = c->soap;
	int		(*fclose)(struct soap *) = soap->fclose;
	int		 keep = soap->keep_alive;

	if (soap->error != SOAP_FAULT || keep == 0 || c->req.eof) {
		soap_send_fault(soap);
		return 0;
	}
	c->fault_kept = 1;		/* hook_posthdr says keep-alive, not close */
	soap->fclose = close_later;	/* soap_send_fault ends in soap_closesock */
	soap_send_fault(soap);
	soap->fclose = fclose;
	c->fault_kept = 0;
	if (!soap_valid_socket(soap->socket) || c->req.status == 0)
		return 0;
	soap->keep_alive = keep;
	return 1;
}

/* gSOAP's soap_serve loop, with our request bracket around each request. */
static void
conn_serve(struct conn *c)
{
	struct soap	*soap = c->soap;

	soap->keep_alive = soap->max_keep_alive + 1;
	do {
		if (soap->keep_alive > 0 && soap->max_keep_alive > 0)
			soap->keep_alive--;
		if (atomic_load(&c->srv->stopping))
			soap->keep_alive = 0;	/* answer this one, then close */
		request_begin(c);
		if (soap_begin_serve(soap) != SOAP_OK) {
			/* SOAP_STOP: the REST shim answered. Anything else was answered or died. */
			int	served = soap->error >= SOAP_STOP;

			if (served && c->req.status == 0 && soap_valid_socket(soap->socket)) {
				/*
				 * gSOAP stopped without answering (it does for some non-XML
				 * bodies): answer, and close rather than read the rest of the
				 * body as the next request.
				 */
				soap->keep_alive = 0;
				reply_error(soap, &c->req, 400, "BAD_REQUEST",
				    "The request body is not a SOAP envelope");
				served = 0;
			}
			request_end(c);
			if (!served)
				break;
			continue;
		}
		if (soap_serve_request(soap) != SOAP_OK && soap->error < SOAP_STOP) {
			int	kept = send_fault(c);

			request_end(c);
			if (!kept)
				break;
			continue;
		}
		request_end(c);
	} while (soap->keep_alive);
}

static void
conn_link(struct server *srv, struct conn *c)
{
	pthread_mutex_lock(&srv->mu);
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nconns++;
	metrics_conn(srv->metrics, 1);
	pthread_mutex_unlock(&srv->mu);
}

static void
conn_unlink(struct server *srv, struct conn *c)
{
	pthread_mutex_lock(&srv->mu);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->nconns--;
	metrics_conn(srv->metrics, -1);
	pthread_cond_broadcast(&srv->drained);
	pthread_mutex_unlock(&srv->mu);
}

/* TLS with the certificate of the settings now (a SIGHUP may have loaded a new one). */
static int
handshake(struct conn *c)
{
	const struct live_settings	*ls = NULL;
	int				 rc;

	if (c->srv->live != NULL)
		ls = live_acquire(c->srv->live);
	rc = tls_accept(c->soap, ls != NULL ? ls->tls_ctx : NULL);
	live_release(c->srv->live, ls);
	return rc;
}

static void *
conn_main(void *arg)
{
	struct conn	*c = arg;
	struct server	*srv = c->srv;

	/* The handshake runs here, not in the accept loop: a slow client holds only itself. */
	if (!tls_enabled(srv->cfg) || handshake(c) == 0)
		conn_serve(c);
	framing_free(c->fr);
	soap_destroy(c->soap);
	soap_end(c->soap);
	conn_unlink(srv, c);
	soap_free(c->soap);
	free(c);
	return NULL;
}

/* Open connections from host. Called with srv->mu held. */
static int
from_client(struct server *srv, const char *host)
{
	struct conn	*c;
	int		 n = 0;

	for (c = srv->conns; c != NULL; c = c->next) {
		if (strcmp(c->req.peer, host) == 0)
			n++;
	}
	return n;
}

/*
 * One address holds too many connections (slow clients, say): tell it so in one write, without
 * reading its request, and close, so that every other client still gets a thread.
 */
static void
refuse_busy(struct soap *master)
{
	static const char	busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
				    "Content-Type: application/json\r\nContent-Length: 89\r\n"
				    "Retry-After: 1\r\nConnection: close\r\n\r\n"
				    "{\"message\":\"Too many connections from this address\","
				    "\"code\":\"UNAVAILABLE\",\"requestId\":\"-\"}";

	log_warnx("connection from %.63s refused: too many from that address", master->host);
	(void)send(master->socket, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	soap_force_closesock(master);
}

/* Take the accepted socket off the master into a connection of its own, on its own thread. */
static void
conn_start(struct server *srv)
{
	struct soap	*master = srv->master;
	struct conn	*c;
	pthread_attr_t	 attr;
	pthread_t	 tid;
	int		 full, busy, max_conns;
	const struct live_settings *ls = srv->live != NULL ? live_acquire(srv->live) : NULL;
	const struct config *cfg = ls != NULL ? &ls->cfg : srv->cfg;

	pthread_mutex_lock(&srv->mu);
	max_conns = cfg->max_conns;
	full = srv->nconns >= max_conns;
	busy = !full && from_client(srv, master->host) >= cfg->max_conns_per_client;
	pthread_mutex_unlock(&srv->mu);
	live_release(srv->live, ls);
	if (busy) {
		refuse_busy(master);
		return;
	}
	c = full ? NULL : calloc(1, sizeof(*c));
	if (c != NULL) {
		c->soap = soap_copy(master);
		c->fr = framing_new(HEADER_ALLOWANCE, srv->cfg->max_body);
	}
	if (c == NULL || c->soap == NULL || c->fr == NULL) {
		if (c != NULL) {
			framing_free(c->fr);
			if (c->soap != NULL) {
				c->soap->socket = SOAP_INVALID_SOCKET;	/* the master's */
				soap_free(c->soap);
			}
		}
		if (!full)
			log_warn("conn_start");
		else
			log_warnx("connection from %s refused: %d connections open", master->host,
			    max_conns);
		free(c);
		soap_force_closesock(master);
		return;
	}
	master->socket = SOAP_INVALID_SOCKET;	/* the copy owns it now */
	c->srv = srv;
	c->req.cfg = srv->cfg;
	c->req.policy = &srv->policy;
	c->req.login = &srv->login;
	c->req.pool = srv->pool;
	c->req.metrics = srv->metrics;
	c->req.port = srv->port;
	snprintf(c->req.peer, sizeof(c->req.peer), "%.63s", c->soap->host);
	/* Our hooks go on the copy only: they need the connection the master does not have. */
	c->soap->user = &c->req;
	c->soap->fparse = hook_parse;
	c->soap->fparsehdr = hook_parsehdr;
	c->soap->fposthdr = hook_posthdr;
	c->soap->frecv = hook_recv;
	c->soap->fignore = soapsvc_ignore;
	conn_link(srv, c);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 1024 * 1024);
	if (pthread_create(&tid, &attr, conn_main, c) != 0) {
		log_warnx("cannot start a connection thread");
		soap_force_closesock(c->soap);
		conn_unlink(srv, c);
		framing_free(c->fr);
		soap_free(c->soap);
		free(c);
	}
	pthread_attr_destroy(&attr);
}

static void
master_setup(struct server *srv, struct soap *soap)
{
	const struct config	*cfg = srv->cfg;

	soap_set_namespaces(soap, namespaces);
	soap->bind_flags = SO_REUSEADDR;
	soap->socket_flags = MSG_NOSIGNAL;
	soap->accept_timeout = -250000;	/* µs: look at the stop flag four times a second */
	soap->recv_timeout = cfg->recv_timeout;
	soap->send_timeout = cfg->send_timeout;
	soap->transfer_timeout = cfg->recv_timeout * 2;
	soap->max_keep_alive = cfg->max_keep_alive;
	/* gSOAP counts headers too; the body limit itself is checked per request (hook_parse). */
	soap->recv_maxlength = cfg->max_body + HEADER_ALLOWANCE;
	soap->maxlevel = (unsigned int)cfg->max_xml_depth;
	soap->maxlength = (long)cfg->max_string;
	srv->fparse = soap->fparse;
	srv->fparsehdr = soap->fparsehdr;
	srv->fposthdr = soap->fposthdr;
	srv->frecv = soap->frecv;
	/* Every method but POST to the SOAP endpoint is the REST shim's (the WSDL GET too). */
	soap->fget = rest_serve;
	soap->fput = rest_serve;
	soap->fpatch = rest_serve;
	soap->fdel = rest_serve;
	soap->fhead = rest_serve;
	soap->fopt = rest_serve;
}

/* Wake every connection blocked in recv so that it ends; replies in flight still go out. */
static int
drain(struct server *srv)
{
	struct timespec	until;
	struct conn	*c;
	int		left;

	pthread_mutex_lock(&srv->mu);
	for (c = srv->conns; c != NULL; c = c->next) {
		if (soap_valid_socket(c->soap->socket))
			shutdown(c->soap->socket, SHUT_RD);
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += DRAIN_SECONDS;
	while (srv->nconns > 0) {
		if (pthread_cond_timedwait(&srv->drained, &srv->mu, &until) == ETIMEDOUT)
			break;
	}
	left = srv->nconns;
	pthread_mutex_unlock(&srv->mu);
	if (left > 0)
		log_warnx("stopping with %d connections still open", left);
	return left;
}

static void
flush_usage(struct server *srv)
{
	struct store	*st;

	if (usage_pending(srv->policy.usage) == 0)
		return;
	st = storepool_get(srv->pool, 5000);
	if (st == NULL)
		return;	/* kept for the next round */
	(void)usage_flush(srv->policy.usage, st);
	storepool_put(srv->pool, st);
}

/*
 * Last-used times, use counts and metered calls' spent credit reach the store every
 * usage_flush_ms (the staleness bound), and once more when the server stops, after the
 * connections are drained.
 */
static void *
flusher_main(void *arg)
{
	struct server	*srv = arg;
	struct timespec	 tick = { 0, 50 * 1000000L };
	int		 waited = 0;

	while (!atomic_load(&srv->stopping)) {
		const struct live_settings *ls = srv->live != NULL ? live_acquire(srv->live) : NULL;
		int	every = ls != NULL ? ls->cfg.usage_flush_ms : srv->cfg->usage_flush_ms;

		live_release(srv->live, ls);
		nanosleep(&tick, NULL);
		waited += 50;
		if (waited >= every) {
			flush_usage(srv);
			waited = 0;
		}
	}
	/* Wait for the workers: uses noted while draining must be written too. */
	pthread_mutex_lock(&srv->mu);
	while (srv->nconns > 0)
		pthread_cond_wait(&srv->drained, &srv->mu);
	pthread_mutex_unlock(&srv->mu);
	flush_usage(srv);
	return NULL;
}

/* Plain HTTP carries keys in the clear: off loopback it needs TLS, or --allow-plain. */
static int
plain_refused(const struct config *cfg)
{
	struct in6_addr	a6;
	struct in_addr	a4;
	const char	*h = cfg->listen_host;

	if (cfg->allow_plain || strcmp(h, "localhost") == 0 ||
	    (inet_pton(AF_INET, h, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127) ||
	    (inet_pton(AF_INET6, h, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6)))
		return 0;
	log_warnx("refusing plain HTTP on %s: keys would cross the network in the clear; give "
	    "--tls-cert and --tls-key, or --allow-plain", h);
	return 1;
}

/* The port the listening socket got (the configured one, unless that was 0). */
static int
bound_port(SOAP_SOCKET s, int fallback)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);

	if (getsockname(s, (struct sockaddr *)&ss, &len) != 0)
		return fallback;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/*
 * With TLS on, a reload reads the certificate and key again (renewed in place, or new paths):
 * the new context serves new connections. If they do not load, the running ones stay.
 */
static struct ssl_ctx_st *
reload_tls(struct server *srv, struct config *next, const struct live_settings *running)
{
	struct ssl_ctx_st	*ctx;

	if (!tls_enabled(srv->cfg))
		return NULL;
	ctx = tls_ctx_new(next);
	if (ctx != NULL) {
		log_info("reload: tls: certificate and key loaded from %s and %s", next->tls_cert,
		    next->tls_key);
		return ctx;
	}
	log_warnx("reload: tls: keeping the running certificate");
	memcpy(next->tls_cert, running->cfg.tls_cert, sizeof(next->tls_cert));
	memcpy(next->tls_key, running->cfg.tls_key, sizeof(next->tls_key));
	return tls_ctx_ref(running->tls_ctx);
}

/*
 * SIGHUP: the caller's reload function builds the new settings (file, environment, flags);
 * what needs a restart is kept as it runs, the rest is published for the next request.
 */
static void
reload(struct server *srv)
{
	const struct live_settings	*ls;
	struct config			*next;
	struct ssl_ctx_st		*tls_ctx;
	int				 n;

	if (srv->reload == NULL || srv->live == NULL)
		return;
	next = malloc(sizeof(*next));
	if (next == NULL) {
		log_warn("reload");
		return;
	}
	if (srv->reload(next, srv->reload_arg) != 0) {
		log_warnx("reload: the configuration has errors; keeping the running settings");
		free(next);
		return;
	}
	ls = live_acquire(srv->live);
	n = config_reload_merge(next, &ls->cfg);
	tls_ctx = reload_tls(srv, next, ls);
	live_release(srv->live, ls);
	if (live_publish(srv->live, next, tls_ctx) == 0) {
		/* done is said at the old level: a reload to "warn" still shows it finished */
		log_info("reload: done; %d setting%s changed", n, n == 1 ? "" : "s");
		log_init((enum log_level)next->log_level);
	}
	free(next);
}

static void *
signal_main(void *arg)
{
	struct server	*srv = arg;
	sigset_t	 set;
	int		 sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
		log_info("signal %d: reloading", sig);
		reload(srv);
	}
	log_info("signal %d: stopping", sig);
	atomic_store(&srv->stopping, 1);
	return NULL;
}

/*
 * A serving process holds keys, session keys and passwords in memory while it checks them: a
 * core dump would write them to disk. None is written (soft and hard limit 0, so a crash
 * handler cannot raise it again).
 */
static void
no_core_dumps(void)
{
	struct rlimit	rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) != 0)
		log_warn("setrlimit RLIMIT_CORE");
}

int
server_run(const struct config *cfg, struct storepool *pool, server_ready_fn ready,
    server_reload_fn reload_fn, void *arg)
{
	struct server	 srv;
	pthread_t	 sigthr;
	sigset_t	 set;
	int		 rc = -1, flushing = 0;

	no_core_dumps();
	memset(&srv, 0, sizeof(srv));
	srv.cfg = cfg;
	srv.pool = pool;
	srv.policy.session_idle = cfg->session_idle;
	srv.policy.touch_slack = cfg->touch_slack;
	srv.policy.uniform_errors = cfg->uniform_errors;
	srv.policy.batch_credit = cfg->batch_credit;
	srv.login.idle = cfg->session_idle;
	srv.login.api_user_login = cfg->api_user_login;
	srv.login.password_max_age = cfg->password_max_age;
	if (cfg->login_max_failures > 0) {
		srv.login.throttle = throttle_new(65536, cfg->login_max_failures, 900);
		if (srv.login.throttle == NULL)
			goto out;
	}
	srv.policy.rl = ratelimit_new(cfg->rate_max_keys);
	srv.policy.usage = usage_new();
	srv.metrics = metrics_new();
	if (srv.policy.rl == NULL || srv.policy.usage == NULL || srv.metrics == NULL)
		goto out;
	{
		struct live_settings	first = { .cfg = *cfg, .policy = srv.policy,
					    .login = srv.login };

		srv.live = live_new(&first);
		if (srv.live == NULL)
			goto out;
	}
	srv.reload = reload_fn;
	srv.reload_arg = arg;
	pthread_mutex_init(&srv.mu, NULL);
	pthread_cond_init(&srv.drained, NULL);
	/* Signals go to one thread that sets the stop flag; workers never see them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* XML_STRICT: unknown elements in a Body are refused, not skipped (soapsvc_ignore). */
	srv.master = soap_new1(SOAP_IO_KEEPALIVE | SOAP_C_UTFSTRING | SOAP_XML_STRICT);
	if (srv.master == NULL) {
		log_warnx("cannot create the gSOAP context");
		goto out;
	}
	master_setup(&srv, srv.master);
	if (tls_enabled(cfg) ? tls_setup(srv.master, cfg) != 0 : plain_refused(cfg))
		goto out;
	if (!soap_valid_socket(soap_bind(srv.master, cfg->listen_host, cfg->listen_port, 128))) {
		log_warnx("cannot listen on %s:%d: %s", cfg->listen_host, cfg->listen_port,
		    *soap_faultstring(srv.master) ? *soap_faultstring(srv.master) : "error");
		goto out;
	}
	if (pthread_create(&sigthr, NULL, signal_main, &srv) != 0) {
		log_warnx("cannot start the signal thread");
		goto out;
	}
	pthread_detach(sigthr);
	if (pthread_create(&srv.flusher, NULL, flusher_main, &srv) != 0) {
		log_warnx("cannot start the usage flusher");
		goto out;
	}
	flushing = 1;
	srv.port = bound_port(srv.master->master, cfg->listen_port);
	if (ready != NULL)
		ready(cfg, srv.port, arg);
	while (!atomic_load(&srv.stopping)) {
		if (soap_valid_socket(soap_accept(srv.master)))
			conn_start(&srv);
		else if (srv.master->errnum != 0 && srv.master->errnum != EINTR)
			log_debug("accept: error %d", srv.master->errnum);
	}
	rc = drain(&srv) == 0 ? 0 : 1;
	if (rc == 1)
		return rc;	/* connections still run: leave what they use alone */
out:
	if (flushing) {
		pthread_join(srv.flusher, NULL);	/* it flushes once more on its way out */
	}
	ratelimit_free(srv.policy.rl);
	throttle_free(srv.login.throttle);
	usage_free(srv.policy.usage);
	live_free(srv.live);
	metrics_free(srv.metrics);
	if (srv.master != NULL) {
		soap_destroy(srv.master);
		soap_end(srv.master);
		soap_free(srv.master);
	}
	return rc;
}
