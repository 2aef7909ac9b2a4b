/* SPDX-License-Identifier: MIT */
/* Unix seconds to and from the text forms tskey shows and accepts (RFC 3339, UTC). */
#ifndef TSTIME_H
#define TSTIME_H

#include <stddef.h>
#include <stdint.h>

#define TSTIME_LEN	21	/* "2026-11-25T12:00:00Z" and the NUL */

/* Format t as RFC 3339 UTC into out (size >= TSTIME_LEN). */
void	tstime_format(int64_t t, char *out, size_t outsz);

/*
 * Parse "YYYY-MM-DD" (midnight UTC at the start of that day) or an RFC 3339 time
 * "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)". 0 on success, -1 if malformed.
 */
int	tstime_parse(const char *s, int64_t *out);

#endif
