/* SPDX-License-Identifier: MIT */
/*
 * The hooks gSOAP calls on each request of a connection: every byte read goes through the
 * connection's framing (framing.h); the head is checked for the framing rules gSOAP does not
 * enforce, the credential headers are kept, the body is read whole and (for SOAP) guarded
 * (xmlguard.h), the request is routed to gSOAP's dispatcher or the REST shim, and every
 * response is named (X-Request-Id) and its status seen for the log.
 */
#include "server_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "framing.h"
#include "ipallow.h"
#include "live.h"
#include "rest.h"
#include "soapsvc.h"
#include "xmlguard.h"

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
 * at a time (framing.h): the head, then, once server_http_parse has read it, the declared body.
 */
size_t
server_http_recv(struct soap *soap, char *buf, size_t len)
{
	struct conn	*c = conn_of(soap);
	size_t		 n = framing_recv(c->fr, buf, len, conn_read, c);

	/* A request's time starts with its first byte, not with the wait for it (keep-alive). */
	if (n > 0 && !c->timed) {
		/* In the event loop its bytes may have come in before a worker served it. */
		if (c->first_seen)
			c->req.start = c->first_byte;
		else
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
		/* the REST shim reads it here; gSOAP's dispatcher through server_http_recv */
		r->body = framing_body_data(c->fr);
		r->body_len = framing_body_len(c->fr);
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
int
server_http_parse(struct soap *soap)
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
	/*
	 * A declared body over the limit is refused before a byte of it is read, on any path and
	 * for any method, and the connection closed: its bytes must never be read as a request.
	 */
	if (c->req.reject_status == 0 && soap->length > c->srv->cfg->max_body)
		reject(soap, &c->req, 413, "TOO_LARGE", "The request body is larger than the "
		    "server accepts");
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
int
server_http_parsehdr(struct soap *soap, const char *key, const char *val)
{
	struct request	*r = &conn_of(soap)->req;

	if (++r->nheaders > MAX_HEADERS)
		return SOAP_OK;		/* refused in server_http_parse; do not keep more */
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
int
server_http_posthdr(struct soap *soap, const char *key, const char *val)
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
