/* SPDX-License-Identifier: MIT */
/*
 * Web origins for the admin API: parse and normalize configured ones, and tell the server's own
 * origin, a configured one and a foreign one apart. Deciding what to answer is rest.c's.
 */
#include "origin.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int
host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '.' || c == '-';
}

/* "HOST[:PORT]" or "[V6]:PORT" up to the end of s: 0 when well formed. */
static int
authority_ok(const char *s)
{
	const char	*p = s, *colon;
	long		 port = 0;

	if (*p == '[') {
		p++;
		if (*p == ']')
			return -1;
		while (*p != ']') {
			if (*p == '\0' || !(host_char(*p) || *p == ':'))
				return -1;
			p++;
		}
		p++;
	} else {
		if (!host_char(*p))
			return -1;
		while (host_char(*p))
			p++;
	}
	if (*p == '\0')
		return 0;
	if (*p != ':' || p[1] == '\0')
		return -1;
	for (colon = p++; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || p - colon > 5)
			return -1;
		port = port * 10 + (*p - '0');
	}
	return port >= 1 && port <= 65535 ? 0 : -1;
}

int
origin_normalize(const char *spec, char *out, size_t outsz)
{
	const char	*rest;
	size_t		 n, i;

	if (strncasecmp(spec, "http://", 7) == 0)
		rest = spec + 7;
	else if (strncasecmp(spec, "https://", 8) == 0)
		rest = spec + 8;
	else
		return -1;
	n = strlen(spec);
	if (n >= outsz || n >= ORIGIN_MAX || authority_ok(rest) != 0)
		return -1;
	for (i = 0; i <= n; i++)
		out[i] = (spec[i] >= 'A' && spec[i] <= 'Z') ? (char)(spec[i] - 'A' + 'a') : spec[i];
	return 0;
}

int
origin_list_add(char *list, size_t listsz, const char *spec)
{
	char	o[ORIGIN_MAX];
	size_t	n = strlen(list);

	if (origin_normalize(spec, o, sizeof(o)) != 0)
		return -1;
	if (n + (n > 0) + strlen(o) + 1 > listsz)
		return -1;
	snprintf(list + n, listsz - n, "%s%s", n > 0 ? " " : "", o);
	return 0;
}

/* Is origin (n bytes) one of the space-separated list? */
static int
listed(const char *origin, size_t n, const char *list)
{
	size_t	len;

	for (const char *p = list; *p != '\0'; p += len) {
		while (*p == ' ')
			p++;
		len = strcspn(p, " ");
		if (len == n && len > 0 && strncasecmp(p, origin, n) == 0)
			return 1;
	}
	return 0;
}

enum origin_kind
origin_classify(const char *origin, const char *host, int tls, const char *allowed)
{
	const char	*scheme = tls ? "https://" : "http://";
	size_t		 sn = strlen(scheme), n;

	if (origin == NULL)
		return ORIGIN_NONE;
	n = strlen(origin);
	/* The Host a browser sends is the host of the URL it loaded: its origin is ours. */
	if (host != NULL && *host != '\0' && n == sn + strlen(host) &&
	    strncasecmp(origin, scheme, sn) == 0 && strcasecmp(origin + sn, host) == 0 &&
	    authority_ok(host) == 0)
		return ORIGIN_SAME;
	if (listed(origin, n, allowed))
		return ORIGIN_CONFIGURED;
	return ORIGIN_FOREIGN;
}
