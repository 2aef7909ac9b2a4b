/* SPDX-License-Identifier: MIT */
/*
 * IP allowlists: a comma-separated list of IPv4 / IPv6 addresses and CIDR blocks
 * ("203.0.113.7, 10.0.0.0/8, 2001:db8::/32"). Pure functions, thread-safe, no allocation.
 */
#ifndef IPALLOW_H
#define IPALLOW_H

/*
 * 0 when list is a well-formed allowlist (the empty string is: it allows every address),
 * -1 otherwise (NULL too). Entries are separated by commas and trimmed of spaces and tabs at
 * both ends; none may be empty (so "1.2.3.4,", ",," and " " are malformed); at most 32 entries
 * of at most 64 characters each. An entry is an address (one host) or address/len, len in
 * decimal without sign or leading zeros, 0..32 for IPv4 and 0..128 for IPv6; host bits beyond
 * the prefix must be zero. No names, no zone ids ("fe80::1%eth0").
 */
int	ipallow_valid(const char *list);

/*
 * 1 when addr (a numeric IPv4 or IPv6 address as the server saw it; an IPv4-mapped IPv6
 * address "::ffff:a.b.c.d" counts as the IPv4 one) is allowed by list, 0 when it is not.
 * An empty list allows everything without looking at addr. Otherwise a malformed list or
 * address allows nothing (fail closed), even when an entry before the bad one matches.
 * IPv4 entries, and IPv6 ones in mapped form of /96 or longer ("::ffff:0:0/96"), match only
 * IPv4 clients; other IPv6 entries, even "::/0", match only IPv6 clients that are not mapped.
 */
int	ipallow_match(const char *list, const char *addr);

#endif
