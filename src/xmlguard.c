/* SPDX-License-Identifier: MIT */
/* The limits gSOAP does not apply to the XML it skips (see xmlguard.h). */
#include "xmlguard.h"

#include <string.h>

#define NPOS	((size_t)-1)

/* Where needle starts at or after from, or NPOS. */
static size_t
find(const char *s, size_t len, size_t from, const char *needle)
{
	size_t	 n = strlen(needle);
	const char *p;

	while (from + n <= len) {
		p = memchr(s + from, needle[0], len - from - n + 1);
		if (p == NULL)
			return NPOS;
		if (memcmp(p, needle, n) == 0)
			return (size_t)(p - s);
		from = (size_t)(p - s) + 1;
	}
	return NPOS;
}

static int
starts(const char *s, size_t len, size_t at, const char *prefix)
{
	size_t	n = strlen(prefix);

	return at + n <= len && memcmp(s + at, prefix, n) == 0;
}

/* XML 1.0 section 2.2: Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | ... */
static int
xml_char(unsigned long c)
{
	return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
	    (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

/*
 * A character reference "&#...;" at at: 1 if it names a character XML allows (or is not a
 * well-formed reference at all, which gSOAP refuses), 0 if it names one XML does not (&#0;).
 */
static int
charref_ok(const char *s, size_t len, size_t at)
{
	unsigned long	v = 0;
	size_t		i = at + 2;
	int		hex = 0, digits = 0, d;

	if (i < len && s[i] == 'x') {
		hex = 1;
		i++;
	}
	for (; i < len && s[i] != ';'; i++) {
		char	c = s[i];

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (hex && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (hex && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return 1;
		if (v > 0x10FFFF)
			return 0;	/* already too big: leading zeros cannot hide it */
		v = v * (hex ? 16 : 10) + (unsigned long)d;
		digits++;
	}
	return i >= len || digits == 0 || xml_char(v);
}

/* A start tag from at ('<'): its end ('>'), or NPOS; *empty when it ends "/>". */
static enum xmlguard_verdict
start_tag(const char *s, size_t len, size_t at, size_t max_string, size_t *end, int *empty)
{
	size_t	j, vstart = 0;
	char	q = 0, last = 0;

	for (j = at + 1; j < len; j++) {
		char	c = s[j];

		if (j - at > 4 * max_string)
			return XMLGUARD_LENGTH;	/* names and attributes together */
		if (q != 0) {
			if (c == q) {
				if (j - vstart > max_string)
					return XMLGUARD_LENGTH;
				q = 0;
			} else if (c == '&' && j + 1 < len && s[j + 1] == '#' &&
			    !charref_ok(s, len, j)) {
				return XMLGUARD_CHAR;
			}
			continue;
		}
		if (c == '"' || c == '\'') {
			q = c;
			vstart = j + 1;
		} else if (c == '>') {
			break;
		} else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			last = c;
		}
	}
	*end = j < len ? j : NPOS;
	*empty = last == '/';
	return XMLGUARD_OK;
}

enum xmlguard_verdict
xmlguard_check(const char *xml, size_t len, unsigned max_depth, size_t max_string)
{
	enum xmlguard_verdict	v;
	size_t			i, e, run = 0;
	unsigned		depth = 0;
	int			empty, elements = 0;

	/* Raw control characters first: XML 1.0 has none but tab, CR and LF (and never NUL). */
	for (i = 0; i < len; i++) {
		unsigned char	b = (unsigned char)xml[i];

		if (b < 0x20 && b != '\t' && b != '\r' && b != '\n')
			return XMLGUARD_CHAR;
	}
	for (i = 0; i < len;) {
		if (xml[i] != '<') {
			if (xml[i] == '&' && i + 1 < len && xml[i + 1] == '#' &&
			    !charref_ok(xml, len, i))
				return XMLGUARD_CHAR;
			if (++run > max_string)
				return XMLGUARD_LENGTH;
			i++;
			continue;
		}
		run = 0;
		if (starts(xml, len, i, "<!--")) {
			e = find(xml, len, i + 4, "-->");
			if (e == NPOS)
				return XMLGUARD_TRUNCATED;
			i = e + 3;
		} else if (starts(xml, len, i, "<![CDATA[")) {
			e = find(xml, len, i + 9, "]]>");
			if (e == NPOS)
				return XMLGUARD_TRUNCATED;
			if (e - (i + 9) > max_string)
				return XMLGUARD_LENGTH;
			i = e + 3;
		} else if (starts(xml, len, i, "<!")) {
			return XMLGUARD_DOCTYPE;	/* DOCTYPE, or a stray ENTITY/ELEMENT */
		} else if (starts(xml, len, i, "<?")) {
			e = find(xml, len, i + 2, "?>");
			if (e == NPOS)
				return XMLGUARD_TRUNCATED;
			i = e + 2;
		} else if (starts(xml, len, i, "</")) {
			const char	*gt = memchr(xml + i, '>', len - i);

			if (gt == NULL)
				return XMLGUARD_TRUNCATED;
			if (depth > 0)
				depth--;
			i = (size_t)(gt - xml) + 1;
		} else {
			v = start_tag(xml, len, i, max_string, &e, &empty);
			if (v != XMLGUARD_OK)
				return v;
			if (e == NPOS)
				return XMLGUARD_TRUNCATED;
			elements++;
			if (depth + 1 > max_depth)
				return XMLGUARD_DEPTH;	/* an empty element is that deep too */
			if (!empty)
				depth++;
			i = e + 1;
		}
	}
	/*
	 * gSOAP reads an envelope until it ends; one cut short meets the end of the body and gSOAP
	 * takes that for a connection that went away, and answers nothing.
	 */
	return elements == 0 || depth > 0 ? XMLGUARD_TRUNCATED : XMLGUARD_OK;
}

const char *
xmlguard_message(enum xmlguard_verdict v)
{
	switch (v) {
	case XMLGUARD_OK:
		return "ok";
	case XMLGUARD_DOCTYPE:
		return "A SOAP message must not contain a document type declaration";
	case XMLGUARD_CHAR:
		return "The message contains a character XML does not allow";
	case XMLGUARD_DEPTH:
		return "XML elements are nested deeper than the server accepts";
	case XMLGUARD_LENGTH:
		return "An XML value is longer than the server accepts";
	case XMLGUARD_TRUNCATED:
		return "The request body ends before the SOAP envelope does";
	}
	return "The message is not acceptable XML";
}
