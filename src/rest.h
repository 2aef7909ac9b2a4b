/* SPDX-License-Identifier: MIT */
/*
 * The REST shim in the SOAP server's process and port. rest_serve is installed as gSOAP's
 * HTTP method and form hook: it answers every request that is not a SOAP POST.
 */
#ifndef REST_H
#define REST_H

#include <stddef.h>

#include "request.h"

struct soap;

#define REST_SOAP_PATH		"/TrackService.asmx"
#define REST_ADMIN_PREFIX	"/admin/v1/"

/* A request body: the framing's copy (request.h), not NUL-terminated; NULL data for none. */
struct rest_body {
	const char	*data;
	size_t		 len;
};

/*
 * The admin API under REST_ADMIN_PREFIX (rest_admin.c): answers the request, returns SOAP_OK or
 * a gSOAP error, as rest_serve.
 */
int		 rest_admin_serve(struct soap *soap, struct request *r, const struct rest_body *b);

/*
 * Route and answer the request on soap (soap->user is its struct request). Returns SOAP_OK
 * when a response was sent, else a gSOAP error code.
 */
int		 rest_serve(struct soap *soap);


/* 1 when the path part of p (before '?') equals want, ignoring case. */
int		 rest_path_is(const char *p, const char *want);

/* 1 when a request Content-Type is one a SOAP envelope comes in (SOAP 1.1, 1.2, MTOM). */
int		 rest_is_soap_type(const char *content_type);

/* "GET", "POST", ... for gSOAP's soap->status method codes. */
const char	*rest_method(int method);

#endif
