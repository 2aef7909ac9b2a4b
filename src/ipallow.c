/* SPDX-License-Identifier: MIT */
/*
 * IP allowlist parsing and matching with inet_pton and bitwise prefix comparison. Owns no
 * state and allocates nothing; it never resolves names and never accepts zone ids.
 */
#include "ipallow.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#define ENTRIES_MAX	32
#define ENTRY_LEN_MAX	64

/*
 * Every address is held in 16 bytes, IPv4 ones in their IPv4-mapped IPv6 form
 * (::ffff:a.b.c.d), so one comparison serves both families. The family is kept beside it so
 * that an IPv6 block written as "::/64" does not quietly cover every IPv4 client, whose mapped
 * form also starts with zero bits.
 */
struct net {
	unsigned char	addr[16];
	int		v4;	/* IPv4, or an IPv4-mapped IPv6 address / block */
	int		bits;	/* prefix length over all 128 bits */
};

static const unsigned char mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/*
 * A numeric address in s: 0 with out->addr, out->v4 and out->bits (a single host), else -1.
 * *text_v4 tells whether s was written as IPv4, whose prefix lengths count 32 bits.
 */
static int
addr_parse(const char *s, struct net *out, int *text_v4)
{
	unsigned char	a4[4];

	memset(out, 0, sizeof(*out));
	*text_v4 = 0;
	out->bits = 128;
	/* inet_pton refuses "%zone" too; checking here keeps that from resting on the libc. */
	if (strchr(s, '%') != NULL)
		return -1;
	if (inet_pton(AF_INET, s, a4) == 1) {
		memcpy(out->addr, mapped_prefix, sizeof(mapped_prefix));
		memcpy(out->addr + 12, a4, sizeof(a4));
		out->v4 = 1;
		*text_v4 = 1;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->addr) != 1)
		return -1;
	out->v4 = memcmp(out->addr, mapped_prefix, sizeof(mapped_prefix)) == 0;
	return 0;
}

/* Do a and b agree in their first bits bits? */
static int
prefix_equal(const unsigned char *a, const unsigned char *b, int bits)
{
	int	full = bits / 8, rem = bits % 8;

	if (memcmp(a, b, (size_t)full) != 0)
		return 0;
	if (rem == 0)
		return 1;
	return ((a[full] ^ b[full]) & (0xff << (8 - rem)) & 0xff) == 0;
}

/* Are all bits of addr after the first bits zero? */
static int
host_bits_zero(const unsigned char *addr, int bits)
{
	int	i = bits / 8, rem = bits % 8;

	if (rem != 0) {
		if ((addr[i] & (0xff >> rem)) != 0)
			return 0;
		i++;
	}
	for (; i < 16; i++) {
		if (addr[i] != 0)
			return 0;
	}
	return 1;
}

/*
 * A prefix length: 1 to 3 decimal digits without a leading zero (one spelling per length, and
 * no question of octal), no sign, no spaces, at most max.
 */
static int
prefix_parse(const char *s, int max, int *out)
{
	int	v = 0, n;

	for (n = 0; s[n] != '\0'; n++) {
		if (n == 3 || s[n] < '0' || s[n] > '9')
			return -1;
		v = v * 10 + (s[n] - '0');
	}
	if (n == 0 || v > max || (n > 1 && s[0] == '0'))
		return -1;
	*out = v;
	return 0;
}

/* One trimmed entry s[0..n-1], "addr" or "addr/len", into out. 0 or -1. */
static int
entry_parse(const char *s, size_t n, struct net *out)
{
	char	buf[ENTRY_LEN_MAX + 1];
	char	*slash;
	int	len, text_v4;

	if (n == 0 || n > ENTRY_LEN_MAX)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	if (addr_parse(buf, out, &text_v4) != 0)
		return -1;
	if (slash != NULL) {
		if (prefix_parse(slash + 1, text_v4 ? 32 : 128, &len) != 0)
			return -1;
		out->bits = text_v4 ? 96 + len : len;
	}
	/*
	 * This also settles the entry's family: a block in mapped form shorter than /96 would
	 * have the ffff bits as host bits, so what passes is "::ffff:0:0/96" or narrower, an IPv4
	 * block. Wider IPv6 blocks ("::/8") hold zeros there and stay IPv6.
	 */
	if (!host_bits_zero(out->addr, out->bits))
		return -1;
	return 0;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Parse every entry of a non-empty list; when client is not NULL, *matched becomes 1 if an
 * entry covers it. 0 when the whole list is well formed, -1 otherwise: the walk does not stop
 * at a match, so a list with a bad entry never allows anything.
 */
static int
list_walk(const char *list, const struct net *client, int *matched)
{
	const char	*p = list, *end, *b, *e;
	struct net	 net;
	int		 count = 0;

	for (;;) {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		b = p;
		e = end;
		while (b < e && is_space(*b))
			b++;
		while (e > b && is_space(e[-1]))
			e--;
		count++;
		if (count > ENTRIES_MAX || entry_parse(b, (size_t)(e - b), &net) != 0)
			return -1;
		if (client != NULL && client->v4 == net.v4 &&
		    prefix_equal(client->addr, net.addr, net.bits))
			*matched = 1;
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

int
ipallow_valid(const char *list)
{
	int	matched = 0;

	if (list == NULL)
		return -1;
	if (list[0] == '\0')
		return 0;
	return list_walk(list, NULL, &matched);
}

int
ipallow_match(const char *list, const char *addr)
{
	struct net	client;
	int		matched = 0, text_v4;

	if (list == NULL)
		return 0;
	/* No allowlist: the key is not bound to addresses, so the address is not consulted. */
	if (list[0] == '\0')
		return 1;
	if (addr == NULL || strlen(addr) > ENTRY_LEN_MAX ||
	    addr_parse(addr, &client, &text_v4) != 0)
		return 0;
	if (list_walk(list, &client, &matched) != 0)
		return 0;
	return matched;
}
