/* SPDX-License-Identifier: MIT */
/*
 * Replies for the REST shim and the admin API. Each sends one complete HTTP response on soap
 * and returns SOAP_OK, or a gSOAP error when the connection failed (it is then closed).
 */
#ifndef REPLY_H
#define REPLY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "request.h"

struct soap;

/* Send data[0..len-1] as it is, with content type ctype. */
int	reply_raw(struct soap *soap, struct request *r, int status, const char *ctype,
	    const char *data, size_t len);
/* Send obj (owned: released here) as JSON with status. NULL obj: a 500. */
int	reply_json(struct soap *soap, struct request *r, int status, json_t *obj);
/* Send the text w wrote as JSON with status; a writer that is not ok gives a 500. */
struct jsonw;
int	reply_jsonw(struct soap *soap, struct request *r, int status, const struct jsonw *w);
/* Send <root> with child elements from NULL-terminated name/value pairs (NULL value: empty). */
int	reply_xml(struct soap *soap, struct request *r, int status, const char *root,
	    const char **kv);
/* An error: {"message","code","requestId"}, or <Error> for callers that asked for XML. */
int	reply_error(struct soap *soap, struct request *r, int status, const char *code,
	    const char *msg);
/* A refusal by the validator, as request_answer words it (Retry-After on 429). */
int	reply_verdict(struct soap *soap, struct request *r, enum tsk_verdict v);
/* Does the caller want XML? TrackRoad answers in the request's own format. */
int	reply_wants_xml(struct soap *soap, const struct request *r);
/*
 * Parse data[0..len-1] as a JSON object. NULL when it is not one: a 400 has been sent and
 * *rc holds what to return.
 */
json_t	*reply_json_body(struct soap *soap, struct request *r, const char *data, size_t len,
	    int *rc);
/* Set key in obj to the RFC 3339 form of t, or null when t is 0. */
void	reply_set_time(json_t *obj, const char *key, int64_t t);

#endif
