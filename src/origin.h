/* SPDX-License-Identifier: MIT */
/*
 * Which web origins may call the admin API from a browser: the server's own (the scheme it
 * serves and the Host the request names) and those configured with `serve --admin-origin`.
 * Pure functions over strings: no HTTP or gSOAP types.
 */
#ifndef ORIGIN_H
#define ORIGIN_H

#include <stddef.h>

#define ORIGIN_MAX	128	/* bytes in one origin, NUL included */

enum origin_kind {
	ORIGIN_NONE = 0,	/* no Origin header: not a browser's cross-site request */
	ORIGIN_SAME,		/* the server's own origin */
	ORIGIN_CONFIGURED,	/* one of the configured origins: CORS applies */
	ORIGIN_FOREIGN		/* anything else, "null" included: refused */
};

/*
 * Check spec as an origin for --admin-origin: "http" or "https", "://", a host (letters,
 * digits, '.', '-', or an IPv6 literal in brackets) and an optional ":PORT" (1-65535), nothing
 * after (no path, no trailing '/'). On success the lower-cased form is written to out
 * (outsz >= ORIGIN_MAX) and 0 returned; -1 when spec is not such an origin.
 */
int	origin_normalize(const char *spec, char *out, size_t outsz);

/*
 * Add spec (see origin_normalize) to list, a space-separated set of normalized origins of
 * listsz bytes. 0, or -1 when spec is malformed or the list is full (list unchanged).
 */
int	origin_list_add(char *list, size_t listsz, const char *spec);

/*
 * Classify origin (the Origin header's value; NULL when absent) for a request that named host
 * (the Host header; NULL when absent) on a server speaking https when tls is 1, against
 * allowed (a list built by origin_list_add; "" for none). Case-insensitive, as origins are.
 */
enum origin_kind	origin_classify(const char *origin, const char *host, int tls,
			    const char *allowed);

#endif
