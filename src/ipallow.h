/* SPDX-License-Identifier: MIT */
/*
 * IP allowlists: a comma-separated list of IPv4 / IPv6 addresses and CIDR blocks
 * ("203.0.113.7, 10.0.0.0/8, 2001:db8::/32"). Pure functions, thread-safe, no allocation.
 */
#ifndef IPALLOW_H
#define IPALLOW_H

/*
 * 0 when list is a well-formed allowlist (the empty string is: it allows every address),
 * -1 otherwise. Entries are trimmed of spaces; at most 32 entries; prefix lengths 0..32 for
 * IPv4 and 0..128 for IPv6; host bits beyond the prefix must be zero.
 */
int	ipallow_valid(const char *list);

/*
 * 1 when addr (a numeric IPv4 or IPv6 address as the server saw it; an IPv4-mapped IPv6
 * address "::ffff:a.b.c.d" counts as the IPv4 one) is allowed by list, 0 when it is not.
 * An empty list allows everything. A malformed list or address allows nothing (fail closed).
 */
int	ipallow_match(const char *list, const char *addr);

#endif
