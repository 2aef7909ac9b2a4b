/* SPDX-License-Identifier: MIT */
/* A JSON text written straight into a caller's buffer (see jsonw.h). */
#include "jsonw.h"

#include <stdio.h>
#include <string.h>

void
jsonw_init(struct jsonw *w, char *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->ok = cap > 0;
	if (cap > 0)
		buf[0] = '\0';
}

static void
put(struct jsonw *w, const char *s, size_t n)
{
	if (!w->ok || n >= w->cap - w->len) {
		w->ok = 0;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

void
jsonw_raw(struct jsonw *w, const char *s)
{
	put(w, s, strlen(s));
}

/*
 * Length of the UTF-8 sequence at s (1-4), or 0 when it is not one: overlong forms, UTF-16
 * surrogates and code points past U+10FFFF are refused, as jansson refuses them.
 */
static size_t
utf8_len(const unsigned char *s)
{
	unsigned	c = s[0], cp;
	size_t		n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;	/* a NUL ends the string here too */
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

void
jsonw_str(struct jsonw *w, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			 esc[8];
	size_t			 n;

	put(w, "\"", 1);
	while (w->ok && *p != '\0') {
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			put(w, esc, 2);
			p++;
		} else if (*p < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			put(w, esc, 6);
			p++;
		} else if ((n = utf8_len(p)) == 0) {
			w->ok = 0;
		} else {
			put(w, (const char *)p, n);
			p += n;
		}
	}
	put(w, "\"", 1);
}

void
jsonw_int(struct jsonw *w, long long v)
{
	char	num[24];
	int	n = snprintf(num, sizeof(num), "%lld", v);

	put(w, num, (size_t)n);
}

void
jsonw_words(struct jsonw *w, const char *s)
{
	char	word[256];
	size_t	n;
	int	first = 1;

	put(w, "[", 1);
	while (w->ok && s != NULL && *s != '\0') {
		while (*s == ' ')
			s++;
		n = strcspn(s, " ");
		if (n == 0)
			break;
		if (n >= sizeof(word)) {
			w->ok = 0;
			break;
		}
		memcpy(word, s, n);
		word[n] = '\0';
		if (!first)
			put(w, ",", 1);
		jsonw_str(w, word);
		first = 0;
		s += n;
	}
	put(w, "]", 1);
}
