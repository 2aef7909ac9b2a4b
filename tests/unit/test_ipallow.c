/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/ipallow.c: IPv4 and IPv6 hosts and blocks, IPv4-mapped clients, prefix
 * edges, and every malformed list ipallow_valid must refuse (which then allows nothing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ipallow.h"

/* Some cases pass NULL on purpose; printf's %s must not see it. */
static const char *
show(const char *s)
{
	return s == NULL ? "(null)" : s;
}

static void
allows(const char *list, const char *addr)
{
	if (ipallow_match(list, addr) != 1)
		fail_msg("\"%s\" should allow %s", show(list), show(addr));
}

static void
denies(const char *list, const char *addr)
{
	if (ipallow_match(list, addr) != 0)
		fail_msg("\"%s\" should deny %s", show(list), show(addr));
}

/* A malformed list: invalid, and it allows nothing, not even an address it names. */
static void
refused(const char *list, const char *would_match)
{
	if (ipallow_valid(list) != -1)
		fail_msg("\"%s\" should be invalid", list);
	denies(list, would_match);
}

static void
test_empty_list(void **state)
{
	(void)state;
	assert_int_equal(ipallow_valid(""), 0);
	allows("", "203.0.113.7");
	allows("", "2001:db8::1");
}

static void
test_v4_hosts(void **state)
{
	(void)state;
	assert_int_equal(ipallow_valid("203.0.113.7"), 0);
	allows("203.0.113.7", "203.0.113.7");
	denies("203.0.113.7", "203.0.113.8");
	denies("203.0.113.7", "203.0.113.6");
	allows("198.51.100.1, 203.0.113.7", "203.0.113.7");
	allows("198.51.100.1, 203.0.113.7", "198.51.100.1");
	denies("198.51.100.1, 203.0.113.7", "198.51.100.2");
}

static void
test_v4_blocks(void **state)
{
	(void)state;
	allows("10.0.0.0/8", "10.0.0.0");
	allows("10.0.0.0/8", "10.255.255.255");
	denies("10.0.0.0/8", "11.0.0.0");
	denies("10.0.0.0/8", "9.255.255.255");
	/* A prefix that is not a multiple of 8 compares the partial byte bit by bit. */
	allows("192.168.4.0/22", "192.168.7.255");
	denies("192.168.4.0/22", "192.168.8.0");
	denies("192.168.4.0/22", "192.168.3.255");
	allows("172.16.0.0/12", "172.31.1.1");
	denies("172.16.0.0/12", "172.32.0.0");
}

static void
test_v4_edges(void **state)
{
	(void)state;
	allows("0.0.0.0/0", "0.0.0.0");
	allows("0.0.0.0/0", "255.255.255.255");
	allows("0.0.0.0/0", "::ffff:8.8.8.8");
	/* An IPv4 block speaks for IPv4 only, even the whole space. */
	denies("0.0.0.0/0", "2001:db8::1");
	allows("203.0.113.7/32", "203.0.113.7");
	denies("203.0.113.7/32", "203.0.113.6");
	allows("203.0.113.6/31", "203.0.113.7");
	denies("203.0.113.6/31", "203.0.113.8");
}

static void
test_v6(void **state)
{
	(void)state;
	assert_int_equal(ipallow_valid("2001:db8::/32"), 0);
	allows("2001:db8::/32", "2001:db8::1");
	allows("2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
	denies("2001:db8::/32", "2001:db9::");
	denies("2001:db8::/32", "2001:db7:ffff::1");
	allows("2001:db8::1", "2001:0db8:0000:0000:0000:0000:0000:0001");
	denies("2001:db8::1", "2001:db8::2");
	allows("2001:db8:1234::/47", "2001:db8:1235:ffff::1");
	denies("2001:db8:1234::/47", "2001:db8:1236::");
	allows("::1", "::1");
	denies("::1", "127.0.0.1");
	/* An IPv6 address never matches an IPv4 entry, and the reverse. */
	denies("10.0.0.0/8", "2001:db8::1");
	denies("2001:db8::/32", "10.0.0.1");
}

static void
test_v6_edges(void **state)
{
	(void)state;
	allows("::/0", "::");
	allows("::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	allows("::/0", "2001:db8::1");
	allows("2001:db8::1/128", "2001:db8::1");
	denies("2001:db8::1/128", "2001:db8::");
	allows("2001:db8::/127", "2001:db8::1");
	allows("2001:db8::/127", "2001:db8::");
	denies("2001:db8::/127", "2001:db8::2");
	/* "::/64" covers ::ffff:0:0/96 bitwise; it must still not let in every IPv4 client. */
	denies("::/64", "10.0.0.1");
	denies("::/64", "::ffff:10.0.0.1");
	denies("::/0", "10.0.0.1");
}

static void
test_mapped(void **state)
{
	(void)state;
	allows("203.0.113.7", "::ffff:203.0.113.7");
	allows("203.0.113.7", "::FFFF:203.0.113.7");
	allows("203.0.113.7", "::ffff:cb00:7107");
	denies("203.0.113.7", "::ffff:203.0.113.8");
	allows("10.0.0.0/8", "::ffff:10.20.30.40");
	denies("10.0.0.0/8", "::ffff:11.0.0.1");
	/* Entries in mapped form speak for IPv4 clients in either spelling. */
	allows("::ffff:0:0/96", "192.0.2.1");
	allows("::ffff:0:0/96", "::ffff:192.0.2.1");
	denies("::ffff:0:0/96", "2001:db8::1");
	allows("::ffff:10.0.0.0/104", "10.1.2.3");
	denies("::ffff:10.0.0.0/104", "11.1.2.3");
	allows("::ffff:203.0.113.7", "203.0.113.7");
	/* Not mapped: the IPv4-compatible form and NAT64 are IPv6 addresses. */
	denies("203.0.113.7", "::203.0.113.7");
	denies("203.0.113.7", "64:ff9b::203.0.113.7");
}

static void
test_whitespace(void **state)
{
	const char	*list = "  10.0.0.0/8 ,\t2001:db8::/32\t,203.0.113.7  ";

	(void)state;
	assert_int_equal(ipallow_valid(list), 0);
	allows(list, "10.9.8.7");
	allows(list, "2001:db8::5");
	allows(list, "203.0.113.7");
	denies(list, "203.0.113.8");
	/* Trimming is of the entry's ends; spaces inside an entry make it malformed. */
	refused("10.0.0.0 /8", "10.0.0.1");
	refused("10.0.0.0/ 8", "10.0.0.1");
	refused("10. 0.0.1", "10.0.0.1");
}

static void
test_reject_empty_entries(void **state)
{
	(void)state;
	refused("1.2.3.4,,", "1.2.3.4");
	refused("1.2.3.4,", "1.2.3.4");
	refused(",1.2.3.4", "1.2.3.4");
	refused("1.2.3.4,,5.6.7.8", "1.2.3.4");
	refused("1.2.3.4, ,5.6.7.8", "1.2.3.4");
	refused(" ", "1.2.3.4");
	refused(",", "1.2.3.4");
}

static void
test_reject_prefix(void **state)
{
	(void)state;
	refused("10.0.0.0/33", "10.0.0.1");
	refused("2001:db8::/129", "2001:db8::1");
	refused("0.0.0.0/4294967296", "10.0.0.1");
	refused("10.0.0.0/", "10.0.0.1");
	refused("10.0.0.0/8a", "10.0.0.1");
	refused("10.0.0.0/a8", "10.0.0.1");
	refused("10.0.0.0/+8", "10.0.0.1");
	refused("10.0.0.0/-8", "10.0.0.1");
	refused("10.0.0.0/0x8", "10.0.0.1");
	refused("10.0.0.0/8/8", "10.0.0.1");
	/* One spelling per prefix: no leading zeros, so "/08" is no more octal than decimal. */
	refused("10.0.0.0/08", "10.0.0.1");
	refused("10.0.0.0/0008", "10.0.0.1");
	refused("10.0.0.0/00", "10.0.0.1");
	assert_int_equal(ipallow_valid("0.0.0.0/0"), 0);
	refused("/8", "10.0.0.1");
	/* The mapped form counts its prefix over 128 bits, so /33 is no IPv4 prefix there. */
	refused("::ffff:10.0.0.0/33", "10.0.0.1");
}

static void
test_reject_host_bits(void **state)
{
	(void)state;
	refused("10.0.0.1/8", "10.0.0.1");
	refused("192.168.4.1/22", "192.168.4.1");
	refused("192.168.5.0/22", "192.168.5.1");
	refused("203.0.113.7/31", "203.0.113.7");
	refused("1.0.0.0/0", "1.0.0.0");
	refused("2001:db8::1/127", "2001:db8::1");
	refused("2001:db8::/16", "2001:db8::1");
	refused("::1/0", "::1");
	refused("::ffff:10.0.0.1/104", "10.0.0.1");
	/* Shorter than /96, the mapped form's ffff bits are host bits. */
	refused("::ffff:0:0/95", "10.0.0.1");
	refused("::ffff:0:0/80", "10.0.0.1");
	/* /0 and the full length are fine whatever the address. */
	assert_int_equal(ipallow_valid("10.0.0.1/32"), 0);
	assert_int_equal(ipallow_valid("2001:db8::1/128"), 0);
}

static void
test_reject_count(void **state)
{
	char	list[32 * 16 + 32];
	size_t	len = 0;
	int	i;

	(void)state;
	for (i = 0; i < 32; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s10.0.0.%d",
		    i == 0 ? "" : ",", i);
	assert_int_equal(ipallow_valid(list), 0);
	allows(list, "10.0.0.31");
	snprintf(list + len, sizeof(list) - len, ",10.0.0.32");
	refused(list, "10.0.0.0");
}

static void
test_reject_long_entry(void **state)
{
	/* The longest well-formed entry is 49 characters; 64 is the ceiling for anything. */
	const char	*longest = "0000:0000:0000:0000:0000:ffff:255.255.255.255/128";
	char		 list[400];

	(void)state;
	assert_int_equal(strlen(longest), 49);
	assert_int_equal(ipallow_valid(longest), 0);
	allows(longest, "255.255.255.255");
	/* Length counts after trimming: padding around a short entry is fine. */
	snprintf(list, sizeof(list), "%70s/8%70s", "10.0.0.0", "");
	assert_int_equal(ipallow_valid(list), 0);
	allows(list, "10.1.1.1");
	/* 65 and 300 characters: refused without reading past the entry buffer (ASan). */
	memset(list, '1', sizeof(list));
	list[65] = '\0';
	refused(list, "10.0.0.1");
	memcpy(list, "10.0.0.0/8,", 11);
	list[65] = '1';
	list[300] = '\0';
	refused(list, "10.0.0.1");
	/* A client address that long is malformed too. */
	memset(list, '1', 300);
	denies("0.0.0.0/0", list);
}

static void
test_reject_zone(void **state)
{
	(void)state;
	refused("fe80::1%eth0", "fe80::1");
	refused("fe80::%eth0/64", "fe80::1");
	refused("fe80::1%1", "fe80::1");
	/* A client address with a zone is malformed: denied even by a block that covers it. */
	denies("fe80::/10", "fe80::1%eth0");
	allows("fe80::/10", "fe80::1");
}

static void
test_reject_garbage(void **state)
{
	(void)state;
	refused("example.com", "93.184.216.34");
	refused("10.0.0", "10.0.0.0");
	refused("10.0.0.256", "10.0.0.1");
	refused("010.0.0.1", "10.0.0.1");
	refused("2001:db8:::1", "2001:db8::1");
	refused("10.0.0.1;10.0.0.2", "10.0.0.1");
	refused("*", "10.0.0.1");
	assert_int_equal(ipallow_valid(NULL), -1);
	denies(NULL, "10.0.0.1");
}

static void
test_bad_entry_spoils_the_list(void **state)
{
	(void)state;
	/* The first entry matches, but the list is malformed, so nothing is allowed. */
	refused("10.0.0.1, 10.0.0.2/8", "10.0.0.1");
	refused("10.0.0.1, banana", "10.0.0.1");
}

static void
test_malformed_client(void **state)
{
	const char	*list = "0.0.0.0/0, ::/0";

	(void)state;
	allows(list, "10.0.0.1");
	denies(list, "");
	denies(list, "10.0.0");
	denies(list, "10.0.0.1 ");
	denies(list, " 10.0.0.1");
	denies(list, "10.0.0.1/32");
	denies(list, "10.0.0.1:8080");
	denies(list, "[2001:db8::1]");
	denies(list, "localhost");
	denies(list, "2001:db8::1::2");
	denies(list, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_list),
		cmocka_unit_test(test_v4_hosts),
		cmocka_unit_test(test_v4_blocks),
		cmocka_unit_test(test_v4_edges),
		cmocka_unit_test(test_v6),
		cmocka_unit_test(test_v6_edges),
		cmocka_unit_test(test_mapped),
		cmocka_unit_test(test_whitespace),
		cmocka_unit_test(test_reject_empty_entries),
		cmocka_unit_test(test_reject_prefix),
		cmocka_unit_test(test_reject_host_bits),
		cmocka_unit_test(test_reject_count),
		cmocka_unit_test(test_reject_long_entry),
		cmocka_unit_test(test_reject_zone),
		cmocka_unit_test(test_reject_garbage),
		cmocka_unit_test(test_bad_entry_spoils_the_list),
		cmocka_unit_test(test_malformed_client),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
