/* SPDX-License-Identifier: MIT */
/*
 * The keys console: the files of src/console/, compiled in (gen/console_blob.c), served under
 * CONSOLE_PREFIX with a strict Content-Security-Policy. The page talks to the admin API only.
 */
#ifndef CONSOLE_H
#define CONSOLE_H

#include "request.h"

struct soap;

#define CONSOLE_PREFIX	"/console/"

/* The policy every console response carries: our own scripts, styles and API, nothing else. */
#define CONSOLE_CSP	"default-src 'none'; script-src 'self'; style-src 'self'; " \
			"connect-src 'self'; img-src 'self'; frame-ancestors 'none'; " \
			"base-uri 'none'; form-action 'none'"

/*
 * Answer a GET for soap->path: a console file (matched without case, query ignored; "/console"
 * is the page too) with its Content-Type and the security and cache headers, anything else
 * 404. Returns as rest_serve.
 */
int	console_serve(struct soap *soap, struct request *r);

#endif
