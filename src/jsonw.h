/* SPDX-License-Identifier: MIT */
/*
 * A JSON text written straight into a caller's buffer, for the small replies of fixed shape
 * that every key check sends (credit, verify, refusals). jansson builds, dumps and frees a tree
 * for each, which perf put at a tenth of such a request (tests/bench/PROFILE.md). Strings are
 * escaped as RFC 8259 asks and must be valid UTF-8, as jansson requires too. A text that does
 * not fit, or a string that is not UTF-8, leaves the writer not ok: the caller then answers as
 * it would have with jansson's failure.
 */
#ifndef JSONW_H
#define JSONW_H

#include <stddef.h>

struct jsonw {
	char	*buf;
	size_t	 cap, len;	/* buf holds len bytes and a NUL */
	int	 ok;
};

void	jsonw_init(struct jsonw *w, char *buf, size_t cap);	/* cap >= 1 */
void	jsonw_raw(struct jsonw *w, const char *s);	/* s as it is: punctuation, keys */
void	jsonw_str(struct jsonw *w, const char *s);	/* "s", escaped */
void	jsonw_int(struct jsonw *w, long long v);

/* The space-separated words of s as a JSON array of strings ("a b" -> ["a","b"]). */
void	jsonw_words(struct jsonw *w, const char *s);

#endif
