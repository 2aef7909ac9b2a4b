/* SPDX-License-Identifier: MIT */
/*
 * The REST shim in the SOAP server's process and port. rest_serve is installed as gSOAP's
 * HTTP method and form hook: it answers every request that is not a SOAP POST.
 */
#ifndef REST_H
#define REST_H

#include "request.h"

struct soap;

#define REST_SOAP_PATH	"/TrackService.asmx"

/*
 * Route and answer the request on soap (soap->user is its struct request). Returns SOAP_OK
 * when a response was sent, else a gSOAP error code.
 */
int		 rest_serve(struct soap *soap);

/*
 * Answer 413 without reading the body, and close the connection (its body is still unread).
 * Installed as gSOAP's form hook when a request declares a body over the limit.
 */
int		 rest_too_large(struct soap *soap);

/* 1 when the path part of p (before '?') equals want, ignoring case. */
int		 rest_path_is(const char *p, const char *want);

/* Send an error reply {"message","code","requestId"} (XML when asked for). */
int		 rest_send_error(struct soap *soap, struct request *r, int status,
		    const char *code, const char *msg);

/* 1 when a request Content-Type is one a SOAP envelope comes in (SOAP 1.1, 1.2, MTOM). */
int		 rest_is_soap_type(const char *content_type);

/* "GET", "POST", ... for gSOAP's soap->status method codes. */
const char	*rest_method(int method);

#endif
