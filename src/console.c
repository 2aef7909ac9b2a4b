/* SPDX-License-Identifier: MIT */
/*
 * Serves the keys console's static files from the copies compiled into the binary, so that
 * the page always matches the server it came with. Every response carries the console's
 * Content-Security-Policy and headers that keep it out of frames, sniffing and Referers.
 * Holds no state and reads no files at run time.
 */
#include "console.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "reply.h"
#include "rest.h"
#include "soapH.h"

/* gen/console_blob.c, made by the Makefile from src/console/ */
extern const unsigned char	tsk_console_index_html[], tsk_console_console_css[],
				tsk_console_console_js[];
extern const size_t		tsk_console_index_html_size, tsk_console_console_css_size,
				tsk_console_console_js_size;

static const struct console_file {
	const char		*path;
	const char		*type;
	const unsigned char	*data;
	const size_t		*size;
} files[] = {
	/* The page names its files by absolute paths, so it works without the slash too. */
	{ "/console", "text/html; charset=utf-8", tsk_console_index_html,
	    &tsk_console_index_html_size },
	{ CONSOLE_PREFIX, "text/html; charset=utf-8", tsk_console_index_html,
	    &tsk_console_index_html_size },
	{ CONSOLE_PREFIX "console.css", "text/css; charset=utf-8", tsk_console_console_css,
	    &tsk_console_console_css_size },
	{ CONSOLE_PREFIX "console.js", "text/javascript; charset=utf-8", tsk_console_console_js,
	    &tsk_console_console_js_size },
};

/*
 * The headers of every console response, after those already set for the request (its id).
 * no-cache: the browser asks again each time, so a new server never runs an old script.
 */
static const char security_headers[] =
    "Content-Security-Policy: " CONSOLE_CSP "\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "Cross-Origin-Opener-Policy: same-origin\r\n"
    "Cross-Origin-Resource-Policy: same-origin\r\n"
    "Cache-Control: no-cache";

/* Put security_headers after the request's own extra headers, in gSOAP memory (per request). */
static int
set_headers(struct soap *soap, struct request *r)
{
	size_t	n = strlen(r->extra_hdr) + sizeof(security_headers) + 4;
	char	*h = soap_malloc(soap, n);

	if (h == NULL)
		return -1;
	snprintf(h, n, "%s%s%s", r->extra_hdr, r->extra_hdr[0] != '\0' ? "\r\n" : "",
	    security_headers);
	soap->http_extra_header = h;
	return 0;
}

static int
send_file(struct soap *soap, struct request *r, const struct console_file *f)
{
	const char	*xfo = soap->x_frame_options;
	int		 rc;

	if (set_headers(soap, r) != 0)
		return reply_json(soap, r, 500, NULL);
	soap->x_frame_options = "DENY";		/* for browsers older than frame-ancestors */
	rc = reply_raw(soap, r, 200, f->type, (const char *)f->data, *f->size);
	soap->x_frame_options = xfo;		/* the connection's other responses keep gSOAP's */
	return rc;
}

int
console_serve(struct soap *soap, struct request *r)
{
	size_t	i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (rest_path_is(soap->path, files[i].path))
			return send_file(soap, r, &files[i]);
	}
	return reply_error(soap, r, 404, "NOT_FOUND", "No such resource");
}
