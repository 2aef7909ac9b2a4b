/* SPDX-License-Identifier: MIT */
/* RFC 3339 formatting and parsing without locale or time zone state (timegm, gmtime_r). */
#include "tstime.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void
tstime_format(int64_t t, char *out, size_t outsz)
{
	time_t		tt = (time_t)t;
	struct tm	tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, outsz, "%s", "");
}

static int
digits(const char *s, int n, int *out)
{
	int	v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Parse the zone suffix at s: Z, or +HH:MM / -HH:MM, into seconds east of UTC. */
static int
zone(const char *s, int *offset)
{
	int	hh, mm;

	if (strcmp(s, "Z") == 0 || strcmp(s, "z") == 0) {
		*offset = 0;
		return 0;
	}
	if ((s[0] != '+' && s[0] != '-') || strlen(s) != 6 || s[3] != ':' ||
	    digits(s + 1, 2, &hh) || digits(s + 4, 2, &mm) || hh > 23 || mm > 59)
		return -1;
	*offset = (hh * 3600 + mm * 60) * (s[0] == '-' ? -1 : 1);
	return 0;
}

int
tstime_parse(const char *s, int64_t *out)
{
	struct tm	tm;
	const char	*p;
	int		y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
	time_t		t;

	if (strlen(s) < 10 || s[4] != '-' || s[7] != '-' || digits(s, 4, &y) ||
	    digits(s + 5, 2, &mo) || digits(s + 8, 2, &d))
		return -1;
	if (s[10] != '\0') {
		if ((s[10] != 'T' && s[10] != 't') || strlen(s) < 20 || s[13] != ':' ||
		    s[16] != ':' || digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) ||
		    digits(s + 17, 2, &sec))
			return -1;
		p = s + 19;
		if (*p == '.') {
			const char	*frac = ++p;

			while (*p >= '0' && *p <= '9')
				p++;
			if (p == frac)
				return -1;	/* RFC 3339: a dot needs digits after it */
		}
		if (zone(p, &off) != 0)
			return -1;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	/* A leap second (23:59:60) is the instant after :59; timegm would roll the date over. */
	tm.tm_sec = sec == 60 ? 59 : sec;
	t = timegm(&tm);
	/* timegm normalises 2026-02-31 to March: refuse dates that do not exist. */
	if (tm.tm_mday != d || tm.tm_mon != mo - 1)
		return -1;
	*out = (int64_t)t + (sec == 60) - off;
	return 0;
}
