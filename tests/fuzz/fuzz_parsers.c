/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the small text parsers a request or a setting reaches: RFC 3339 times
 * (tstime_parse), IP allowlists (ipallow_valid, ipallow_match), scopes (validator_has_scope,
 * admin_scopes_ok), names (admin_name_ok), --listen and --cost (config_*_parse) and the REST
 * path and content-type tests. The input is up to three NUL-separated strings a, b, c; each
 * parser gets NUL-terminated heap copies, so a read past the end is one for the sanitizers.
 * Results are checked against what the headers promise; any disagreement aborts.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "config.h"
#include "ipallow.h"
#include "rest.h"
#include "tstime.h"
#include "validator.h"

#include "fuzz.h"

#define ENTRIES_MAX	32	/* ipallow.h: entries in one list */
#define ENTRY_LEN_MAX	64	/* ipallow.h: characters in one entry */

/* A NUL-terminated heap copy of data[0..n-1] (cut at a NUL inside). Never NULL. */
static char *
dup_n(const uint8_t *data, size_t n)
{
	char	*s = malloc(n + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, n);
	s[n] = '\0';
	return s;
}

/* "x" + sep + "y" on the heap. */
static char *
join(const char *x, const char *sep, const char *y)
{
	size_t	 n = strlen(x) + strlen(sep) + strlen(y) + 1;
	char	*s = malloc(n);

	if (s == NULL)
		abort();
	snprintf(s, n, "%s%s%s", x, sep, y);
	return s;
}

/* ---- tstime ------------------------------------------------------------------------------ */

static void
check_time(const char *s)
{
	char	 buf[TSTIME_LEN], *full;
	int64_t	 t = 0, t2 = 0;

	if (tstime_parse(s, &t) != 0)
		return;
	/* What tstime_format writes reads back as the same instant (years 1000..9999). */
	tstime_format(t, buf, sizeof(buf));
	if (strlen(buf) == TSTIME_LEN - 1) {
		FUZZ_CHECK(tstime_parse(buf, &t2) == 0);
		FUZZ_CHECK(t2 == t);
	}
	/* A date alone is midnight UTC at its start. */
	if (strlen(s) == 10) {
		full = join(s, "", "T00:00:00Z");
		FUZZ_CHECK(tstime_parse(full, &t2) == 0);
		FUZZ_CHECK(t2 == t);
		free(full);
	}
}

/* ---- ipallow ----------------------------------------------------------------------------- */

/* A numeric address ipallow_match must understand: 1 IPv4 text, 2 IPv6 text, 0 neither. */
static int
addr_kind(const char *s, int *mapped)
{
	unsigned char	a[16];
	static const unsigned char pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	*mapped = 0;
	if (strlen(s) > ENTRY_LEN_MAX || strchr(s, '%') != NULL)
		return 0;
	if (inet_pton(AF_INET, s, a) == 1)
		return 1;
	if (inet_pton(AF_INET6, s, a) != 1)
		return 0;
	*mapped = memcmp(a, pfx, sizeof(pfx)) == 0;
	return 2;
}

static int
entries(const char *list)
{
	int	n = 1;

	for (; *list != '\0'; list++)
		n += *list == ',';
	return n;
}

/* An address as its own allowlist, alone and as a one-host block, and the catch-alls. */
static void
check_addr(const char *addr)
{
	char	*host;
	int	 kind, mapped, v4;

	kind = addr_kind(addr, &mapped);
	if (kind == 0) {
		FUZZ_CHECK(ipallow_match("0.0.0.0/0", addr) == 0);
		FUZZ_CHECK(ipallow_match("::/0", addr) == 0);
		FUZZ_CHECK(ipallow_match("", addr) == 1);
		return;
	}
	v4 = kind == 1 || mapped;
	FUZZ_CHECK(ipallow_valid(addr) == 0);
	FUZZ_CHECK(ipallow_match(addr, addr) == 1);
	host = join(addr, "", kind == 1 ? "/32" : "/128");
	if (strlen(host) <= ENTRY_LEN_MAX) {
		FUZZ_CHECK(ipallow_valid(host) == 0);
		FUZZ_CHECK(ipallow_match(host, addr) == 1);
	}
	free(host);
	/* IPv4 and mapped clients are IPv4's; "::/0" covers only the IPv6 ones. */
	FUZZ_CHECK(ipallow_match("0.0.0.0/0", addr) == v4);
	FUZZ_CHECK(ipallow_match("::/0", addr) == !v4);
	FUZZ_CHECK(ipallow_match("::ffff:0:0/96", addr) == v4);
}

static void
check_lists(const char *a, const char *b, const char *c)
{
	char	*ac, *ca;
	int	 va = ipallow_valid(a), vc = ipallow_valid(c), ma, mc;

	FUZZ_CHECK(va == 0 || va == -1);
	ma = ipallow_match(a, b);
	FUZZ_CHECK(ma == 0 || ma == 1);
	if (a[0] == '\0')
		FUZZ_CHECK(ma == 1);	/* no list: every address */
	else if (va != 0)
		FUZZ_CHECK(ma == 0);	/* a bad list allows nothing */
	if (va != 0 || vc != 0 || a[0] == '\0' || c[0] == '\0' ||
	    entries(a) + entries(c) > ENTRIES_MAX)
		return;
	/* Two good lists joined allow what either allows, whatever the order. */
	mc = ipallow_match(c, b);
	ac = join(a, ",", c);
	ca = join(c, " ,\t", a);
	FUZZ_CHECK(ipallow_valid(ac) == 0);
	FUZZ_CHECK(ipallow_valid(ca) == 0);
	FUZZ_CHECK(ipallow_match(ac, b) == (ma || mc));
	FUZZ_CHECK(ipallow_match(ca, b) == (ma || mc));
	free(ac);
	free(ca);
}

/* ---- scopes and names -------------------------------------------------------------------- */

static int
ref_has_scope(const char *scopes, const char *want)
{
	size_t	wn = strlen(want), n;

	if (wn == 0)
		return 1;
	for (const char *p = scopes; *p != '\0'; p += n) {
		n = strcspn(p, " ");
		if (n == wn && memcmp(p, want, n) == 0)
			return 1;
		if (n == 0)
			n = 1;
	}
	return 0;
}

static int
ref_scopes_ok(const char *s)
{
	static const char	ok[] = "abcdefghijklmnopqrstuvwxyz0123456789:._-";
	size_t			n;
	int			tokens = 0;

	if (strlen(s) > 255)
		return 0;
	for (const char *p = s; *p != '\0'; p += n) {
		n = strcspn(p, " ");
		if (n == 0) {
			n = 1;
			continue;
		}
		if (strspn(p, ok) != n || ++tokens > 16)
			return 0;
	}
	return 1;
}

static int
ref_name_ok(const char *s)
{
	size_t	n = strlen(s), i;

	if (n < 1 || n > 127 || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return 0;
	}
	return 1;
}

static void
check_scopes(const char *a, const char *b)
{
	size_t	n;
	char	tok[256];

	FUZZ_CHECK(validator_has_scope(a, b) == ref_has_scope(a, b));
	FUZZ_CHECK(validator_has_scope(a, NULL) == 1);
	FUZZ_CHECK(admin_scopes_ok(a) == ref_scopes_ok(a));
	FUZZ_CHECK(admin_name_ok(a) == ref_name_ok(a));
	FUZZ_CHECK(admin_name_ok(b) == ref_name_ok(b));
	if (!admin_scopes_ok(a))
		return;
	/* Every scope a key may be given is one it then holds. */
	for (const char *p = a; *p != '\0'; p += n) {
		n = strcspn(p, " ");
		if (n == 0) {
			n = 1;
			continue;
		}
		memcpy(tok, p, n);
		tok[n] = '\0';
		FUZZ_CHECK(validator_has_scope(a, tok) == 1);
	}
}

/* ---- config and REST helpers ------------------------------------------------------------- */

static void
check_config(const char *s)
{
	static struct config	base;
	static int		ready;
	struct config		cfg;

	if (!ready) {
		config_defaults(&base);
		ready = 1;
	}
	/* Out-parameters are untouched on failure (STYLE.md). */
	cfg = base;
	if (config_listen_parse(&cfg, s) != 0) {
		FUZZ_CHECK(memcmp(&cfg, &base, sizeof(cfg)) == 0);
	} else {
		FUZZ_CHECK(cfg.listen_port >= 0 && cfg.listen_port <= 65535);
		FUZZ_CHECK(cfg.listen_host[0] != '\0');
	}
	cfg = base;
	if (config_cost_parse(&cfg, s) != 0)
		FUZZ_CHECK(memcmp(&cfg, &base, sizeof(cfg)) == 0);
}

static void
check_rest(const char *a, const char *b)
{
	int	r = rest_path_is(a, b);

	FUZZ_CHECK(r == 0 || r == 1);
	if (strchr(a, '?') == NULL)
		FUZZ_CHECK(rest_path_is(a, a) == 1);
	r = rest_is_soap_type(a);
	FUZZ_CHECK(r == 0 || r == 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t	*p = data, *end = data + size, *nul;
	char		*f[3];
	int		 i;

	for (i = 0; i < 3; i++) {
		nul = p < end ? memchr(p, '\0', (size_t)(end - p)) : NULL;
		if (nul == NULL)
			nul = end;
		f[i] = dup_n(p, (size_t)(nul - p));
		p = nul < end ? nul + 1 : end;
	}
	check_time(f[0]);
	check_time(f[1]);
	check_addr(f[1]);
	check_lists(f[0], f[1], f[2]);
	check_scopes(f[0], f[1]);
	check_config(f[0]);
	check_rest(f[0], f[1]);
	for (i = 0; i < 3; i++)
		free(f[i]);
	return 0;
}
