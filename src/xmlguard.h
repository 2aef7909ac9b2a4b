/* SPDX-License-Identifier: MIT */
/*
 * The limits gSOAP does not apply to the XML it skips. gSOAP counts depth and string length
 * only in the elements it deserializes: an unknown Header entry, or an unknown child of an
 * operation, may be nested 100,000 deep or carry 10 MB of text, and a DOCTYPE or a NUL
 * character is dropped or cuts a value short rather than refused. One pass over the whole body
 * before gSOAP parses it holds every byte to the same rules.
 */
#ifndef XMLGUARD_H
#define XMLGUARD_H

#include <stddef.h>

enum xmlguard_verdict {
	XMLGUARD_OK,
	XMLGUARD_DOCTYPE,	/* a document type declaration (SOAP forbids one) */
	XMLGUARD_CHAR,		/* a character XML 1.0 does not allow, raw or as a reference */
	XMLGUARD_DEPTH,		/* elements nested deeper than max_depth */
	XMLGUARD_LENGTH,	/* a text run, attribute value or name longer than max_string */
	XMLGUARD_TRUNCATED,	/* no element, or the body ends inside one */
};

/*
 * Check len bytes of XML. Not a parser: malformed XML that breaks none of these rules (a
 * mismatched end tag, say) is left for gSOAP to refuse.
 */
enum xmlguard_verdict xmlguard_check(const char *xml, size_t len, unsigned max_depth,
		    size_t max_string);

/* What a refusal says, for a fault string. */
const char	*xmlguard_message(enum xmlguard_verdict v);

#endif
