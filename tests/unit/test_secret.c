/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/secret.c: the tsk_ key format and its checksum, SHA-256 and its hex
 * spelling, session keys, request ids and the constant-time helpers. Real OpenSSL, no mocks.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "secret.h"

/*
 * EVP_MD_fetch is wrapped (-Wl,--wrap, see the Makefile): the wrapper counts the SHA-256
 * fetches, and fails them when fail_fetch is set.
 */
EVP_MD	*__real_EVP_MD_fetch(OSSL_LIB_CTX *ctx, const char *algorithm, const char *properties);
EVP_MD	*__wrap_EVP_MD_fetch(OSSL_LIB_CTX *ctx, const char *algorithm, const char *properties);

static int	sha256_fetches;
static int	fail_fetch;

EVP_MD *
__wrap_EVP_MD_fetch(OSSL_LIB_CTX *ctx, const char *algorithm, const char *properties)
{
	if (algorithm != NULL && strcmp(algorithm, "SHA2-256") == 0) {
		__atomic_add_fetch(&sha256_fetches, 1, __ATOMIC_SEQ_CST);
		if (fail_fetch)
			return NULL;
	}
	return __real_EVP_MD_fetch(ctx, algorithm, properties);
}

#define KEY_LEN		37	/* "tsk_live_" + 22 + 6 */
#define BODY_AT		9
#define SUM_AT		31

static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* Computed independently with Python's zlib.crc32, so the polynomial and spelling are pinned. */
static const char known_key[] = "tsk_test_0123456789ABCDEFGHIJKL1YHaMw";

static int
is_b62(char c)
{
	return c != '\0' && strchr(b62, c) != NULL;
}

static int
is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static enum secret_fmt
fmt(const char *s)
{
	return secret_key_format(s, strlen(s));
}

static void
new_key(const char *env, char key[SECRET_KEY_MAX])
{
	char	prefix[16];

	assert_int_equal(secret_key_new(env, key, SECRET_KEY_MAX, prefix, sizeof(prefix)), 0);
}

static void
test_key_shape(void **state)
{
	char	key[SECRET_KEY_MAX], prefix[16];
	size_t	i;

	(void)state;
	memset(prefix, 'x', sizeof(prefix));
	assert_int_equal(secret_key_new("live", key, sizeof(key), prefix, sizeof(prefix)), 0);
	assert_int_equal(strlen(key), KEY_LEN);
	assert_memory_equal(key, "tsk_live_", BODY_AT);
	for (i = BODY_AT; i < KEY_LEN; i++)
		assert_true(is_b62(key[i]));
	assert_int_equal(strlen(prefix), 13);
	assert_memory_equal(prefix, key, 13);
	assert_int_equal(fmt(key), SECRET_FMT_TSK);

	assert_int_equal(secret_key_new("test", key, sizeof(key), prefix, sizeof(prefix)), 0);
	assert_memory_equal(key, "tsk_test_", BODY_AT);
	assert_memory_equal(prefix, key, 13);
	assert_int_equal(fmt(key), SECRET_FMT_TSK);
}

static void
test_keys_differ(void **state)
{
	char	a[SECRET_KEY_MAX], b[SECRET_KEY_MAX];

	(void)state;
	new_key("live", a);
	new_key("live", b);
	assert_string_not_equal(a, b);
	/* The random part differs, not just the checksum. */
	assert_memory_not_equal(a + BODY_AT, b + BODY_AT, SUM_AT - BODY_AT);
}

/*
 * 2000 keys give 44000 body digits. Without rejection sampling, byte % 62 would favour
 * '0'..'7' (5/256 each instead of 1/62): 6875 expected against 5677, 17 standard deviations
 * apart. Every digit must also turn up.
 */
static void
test_key_alphabet_uniform(void **state)
{
	char	key[SECRET_KEY_MAX];
	size_t	count[62] = { 0 }, low = 0, i;
	int	k;

	(void)state;
	for (k = 0; k < 2000; k++) {
		new_key("test", key);
		assert_int_equal(fmt(key), SECRET_FMT_TSK);
		for (i = BODY_AT; i < SUM_AT; i++)
			count[strchr(b62, key[i]) - b62]++;
	}
	for (i = 0; i < 62; i++) {
		assert_true(count[i] > 0);
		if (i < 8)
			low += count[i];
	}
	/* Expected 5677, sd 70: allow 5 sd. */
	assert_in_range(low, 5677 - 350, 5677 + 350);
}

static void
test_known_checksum(void **state)
{
	char	bad[sizeof(known_key)];

	(void)state;
	assert_int_equal(fmt(known_key), SECRET_FMT_TSK);
	/* The same body under the other environment: the checksum covers the head too. */
	memcpy(bad, known_key, sizeof(bad));
	memcpy(bad + 4, "live", 4);
	assert_int_equal(fmt(bad), SECRET_FMT_BADSUM);
}

/* Every replacement of every character after "tsk_", by any digit or a stray byte, is refused. */
static void
test_single_change_rejected(void **state)
{
	static const char	extra[] = "-_.!~";
	char			key[SECRET_KEY_MAX], bad[SECRET_KEY_MAX];
	const char		*c;
	size_t			i;
	int			round;

	(void)state;
	for (round = 0; round < 2; round++) {
		if (round == 0)
			memcpy(key, known_key, sizeof(known_key));
		else
			new_key("live", key);
		for (i = 4; i < KEY_LEN; i++) {
			for (c = b62; *c != '\0'; c++) {
				if (*c == key[i])
					continue;
				memcpy(bad, key, sizeof(bad));
				bad[i] = *c;
				assert_int_equal(fmt(bad), SECRET_FMT_BADSUM);
			}
			for (c = extra; *c != '\0'; c++) {
				if (*c == key[i])
					continue;
				memcpy(bad, key, sizeof(bad));
				bad[i] = *c;
				assert_int_equal(fmt(bad), SECRET_FMT_BADSUM);
			}
		}
	}
}

static void
test_swap_rejected(void **state)
{
	char	key[SECRET_KEY_MAX], bad[SECRET_KEY_MAX], t;
	size_t	i;

	(void)state;
	memcpy(key, known_key, sizeof(known_key));
	for (i = BODY_AT; i + 1 < KEY_LEN; i++) {
		if (key[i] == key[i + 1])
			continue;
		memcpy(bad, key, sizeof(bad));
		t = bad[i];
		bad[i] = bad[i + 1];
		bad[i + 1] = t;
		assert_int_equal(fmt(bad), SECRET_FMT_BADSUM);
	}
}

static void
test_tsk_garbage_badsum(void **state)
{
	char	buf[SECRET_KEY_MAX + 8];

	(void)state;
	assert_int_equal(fmt("tsk_"), SECRET_FMT_BADSUM);
	assert_int_equal(fmt("tsk_hello"), SECRET_FMT_BADSUM);
	assert_int_equal(fmt("tsk_live_"), SECRET_FMT_BADSUM);
	assert_int_equal(fmt("tsk_live_0123456789ABCDEFGHIJKL1YHaM"), SECRET_FMT_BADSUM);
	assert_int_equal(fmt("tsk_prod_0123456789ABCDEFGHIJKL1YHaMw"), SECRET_FMT_BADSUM);
	assert_int_equal(fmt("tsk_test-0123456789ABCDEFGHIJKL1YHaMw"), SECRET_FMT_BADSUM);
	assert_int_equal(fmt("tsk_TEST_0123456789ABCDEFGHIJKL1YHaMw"), SECRET_FMT_BADSUM);
	/* One character too many or too few, checksum otherwise right. */
	snprintf(buf, sizeof(buf), "%sA", known_key);
	assert_int_equal(fmt(buf), SECRET_FMT_BADSUM);
	assert_int_equal(secret_key_format(known_key, KEY_LEN - 1), SECRET_FMT_BADSUM);
	/* Non-ASCII after the prefix is not base62. */
	assert_int_equal(fmt("tsk_test_0123456789ABCDEFGHIJ\xc3\xa9" "1YHaMw"),
	    SECRET_FMT_BADSUM);
}

static void
test_other(void **state)
{
	char	guid[SECRET_SESSION_LEN + 1], big[512];

	(void)state;
	assert_int_equal(fmt("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f0"), SECRET_FMT_OTHER);
	assert_int_equal(secret_session_new(guid), 0);
	assert_int_equal(fmt(guid), SECRET_FMT_OTHER);
	assert_int_equal(fmt("LEGACY-KEY-0001"), SECRET_FMT_OTHER);
	assert_int_equal(fmt("tsk"), SECRET_FMT_OTHER);
	assert_int_equal(fmt("TSK_live_0123456789ABCDEFGHIJKL1YHaMw"), SECRET_FMT_OTHER);
	assert_int_equal(fmt("x"), SECRET_FMT_OTHER);
	assert_int_equal(fmt("caf\xc3\xa9"), SECRET_FMT_OTHER);
	memset(big, 'a', sizeof(big));
	assert_int_equal(secret_key_format(big, sizeof(big)), SECRET_FMT_OTHER);
}

static void
test_bad(void **state)
{
	char	big[513], buf[sizeof(known_key)];
	int	c;

	(void)state;
	assert_int_equal(secret_key_format("", 0), SECRET_FMT_BAD);
	assert_int_equal(secret_key_format(known_key, 0), SECRET_FMT_BAD);
	assert_int_equal(secret_key_format(NULL, 5), SECRET_FMT_BAD);
	memset(big, 'a', sizeof(big));
	assert_int_equal(secret_key_format(big, sizeof(big)), SECRET_FMT_BAD);
	/* A NUL inside the counted length. */
	assert_int_equal(secret_key_format("abc\0def", 7), SECRET_FMT_BAD);
	assert_int_equal(secret_key_format(known_key, sizeof(known_key)), SECRET_FMT_BAD);
	assert_int_equal(fmt("two words"), SECRET_FMT_BAD);
	assert_int_equal(fmt("tab\there"), SECRET_FMT_BAD);
	assert_int_equal(fmt("del\x7f"), SECRET_FMT_BAD);
	/* Any control byte or space anywhere in a good key spoils it as BAD, not BADSUM. */
	for (c = 1; c <= 0x20; c++) {
		memcpy(buf, known_key, sizeof(buf));
		buf[12] = (char)c;
		assert_int_equal(secret_key_format(buf, KEY_LEN), SECRET_FMT_BAD);
	}
	memcpy(buf, known_key, sizeof(buf));
	buf[KEY_LEN - 1] = 0x7f;
	assert_int_equal(secret_key_format(buf, KEY_LEN), SECRET_FMT_BAD);
}

static void
test_key_new_refuses(void **state)
{
	static const char	*envs[] = { "prod", "LIVE", "liv", "lives", "live ", "", "tes" };
	char			key[SECRET_KEY_MAX], prefix[16];
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(envs) / sizeof(envs[0]); i++) {
		memset(key, 'k', sizeof(key));
		memset(prefix, 'p', sizeof(prefix));
		assert_int_equal(secret_key_new(envs[i], key, sizeof(key), prefix, sizeof(prefix)),
		    -1);
		/* Out-parameters are untouched on failure. */
		assert_int_equal(key[0], 'k');
		assert_int_equal(prefix[0], 'p');
	}
	assert_int_equal(secret_key_new(NULL, key, sizeof(key), prefix, sizeof(prefix)), -1);
	assert_int_equal(secret_key_new("live", key, KEY_LEN, prefix, sizeof(prefix)), -1);
	assert_int_equal(secret_key_new("live", key, sizeof(key), prefix, 13), -1);
	assert_int_equal(key[0], 'k');
}

static void
test_hash_vectors(void **state)
{
	static const unsigned char abc[SECRET_HASH_LEN] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
		0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
		0xf2, 0x00, 0x15, 0xad,
	};
	static const unsigned char empty[SECRET_HASH_LEN] = {
		0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f,
		0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b,
		0x78, 0x52, 0xb8, 0x55,
	};
	unsigned char	out[SECRET_HASH_LEN];

	(void)state;
	secret_hash("abc", 3, out);
	assert_memory_equal(out, abc, sizeof(out));
	secret_hash("", 0, out);
	assert_memory_equal(out, empty, sizeof(out));
}

/*
 * Without SHA-256 nothing can be hashed, and a made-up hash must never reach the store: the
 * process stops. This must run before any other test hashes (the fetch happens once per
 * process), so it is the first in main(); the child is a fresh fork that has not fetched yet.
 */
static void
test_hash_fetch_failure_aborts(void **state)
{
	unsigned char	out[SECRET_HASH_LEN];
	pid_t		pid;
	int		status = 0;

	(void)state;
	assert_int_equal(sha256_fetches, 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		fail_fetch = 1;
		secret_hash("abc", 3, out);
		_exit(0);	/* hashed without SHA-256: the test fails below */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void *
hash_many(void *arg)
{
	unsigned char	out[SECRET_HASH_LEN];
	int		i;

	(void)arg;
	for (i = 0; i < 500; i++)
		secret_hash("abc", 3, out);
	return NULL;
}

/* SHA-256 is fetched once for the process, not on every hash, however many threads hash. */
static void
test_hash_fetched_once(void **state)
{
	pthread_t	t[4];
	int		i;

	(void)state;
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hash_many, NULL), 0);
	hash_many(NULL);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(sha256_fetches, 1);
}

/* CRC-32 as zlib defines it, a bit at a time: the reference for the table. */
static uint32_t
crc32_bitwise(const unsigned char *p, size_t n)
{
	uint32_t	crc = 0xffffffffu;
	size_t		i;
	int		k;

	for (i = 0; i < n; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static void
test_crc32_vectors(void **state)
{
	static const char	fox[] = "The quick brown fox jumps over the lazy dog";
	unsigned char		b, buf[300];
	size_t			i;

	(void)state;
	/* The check value of CRC-32/ISO-HDLC (zlib's), and others from zlib.crc32. */
	assert_int_equal(secret_crc32("123456789", 9), 0xcbf43926u);
	assert_int_equal(secret_crc32("", 0), 0);
	assert_int_equal(secret_crc32("a", 1), 0xe8b7be43u);
	assert_int_equal(secret_crc32(fox, strlen(fox)), 0x414fa339u);
	assert_int_equal(secret_crc32(known_key, SUM_AT), crc32_bitwise((const void *)known_key,
	    SUM_AT));
	/* A one-byte input reads the table at 0xff ^ byte: all 256 entries, each checked. */
	for (i = 0; i < 256; i++) {
		b = (unsigned char)i;
		assert_int_equal(secret_crc32(&b, 1), crc32_bitwise(&b, 1));
	}
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	assert_int_equal(secret_crc32(buf, sizeof(buf)), crc32_bitwise(buf, sizeof(buf)));
}

/* SHA-256("abc") in hex: the bytes test_hash_vectors pins. */
static const char abc_hex[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

static void
test_hash_from_hex(void **state)
{
	unsigned char	out[SECRET_HASH_LEN], want[SECRET_HASH_LEN], fill[SECRET_HASH_LEN];
	char		hex[2 * SECRET_HASH_LEN + 2];
	size_t		i;

	(void)state;
	secret_hash("abc", 3, want);
	memset(fill, 0xa5, sizeof(fill));

	memcpy(out, fill, sizeof(out));
	assert_int_equal(secret_hash_from_hex(abc_hex, out), 0);
	assert_memory_equal(out, want, sizeof(out));

	/* Upper case, and both cases in one string. */
	for (i = 0; i < sizeof(abc_hex); i++)
		hex[i] = (char)(abc_hex[i] >= 'a' ? abc_hex[i] - 'a' + 'A' : abc_hex[i]);
	memcpy(out, fill, sizeof(out));
	assert_int_equal(secret_hash_from_hex(hex, out), 0);
	assert_memory_equal(out, want, sizeof(out));
	hex[0] = 'b';
	memcpy(out, fill, sizeof(out));
	assert_int_equal(secret_hash_from_hex(hex, out), 0);
	assert_memory_equal(out, want, sizeof(out));

	assert_int_equal(secret_hash_from_hex("000000000000000000000000000000000000000000000000"
	    "00000000000000ff", out), 0);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[SECRET_HASH_LEN - 1], 0xff);
}

/* Every refusal leaves out as it was. */
static void
expect_bad_hex(const char *hex)
{
	unsigned char	out[SECRET_HASH_LEN], fill[SECRET_HASH_LEN];

	memset(fill, 0xa5, sizeof(fill));
	memcpy(out, fill, sizeof(out));
	assert_int_equal(secret_hash_from_hex(hex, out), -1);
	assert_memory_equal(out, fill, sizeof(out));
}

static void
test_hash_from_hex_refuses(void **state)
{
	static const char	bad[] = "gG -+x\x10\x7f";
	char			hex[2 * SECRET_HASH_LEN + 2];
	size_t			i, at;

	(void)state;
	expect_bad_hex("");
	expect_bad_hex(NULL);
	/* 63 and 65 digits. */
	memcpy(hex, abc_hex, sizeof(abc_hex));
	hex[2 * SECRET_HASH_LEN - 1] = '\0';
	expect_bad_hex(hex);
	memcpy(hex, abc_hex, sizeof(abc_hex));
	hex[2 * SECRET_HASH_LEN] = '0';
	hex[2 * SECRET_HASH_LEN + 1] = '\0';
	expect_bad_hex(hex);
	/* One non-hex character, first, in the middle (either half of a byte) or last. */
	for (i = 0; bad[i] != '\0'; i++) {
		for (at = 0; at < 2 * SECRET_HASH_LEN; at += 21) {
			memcpy(hex, abc_hex, sizeof(abc_hex));
			hex[at] = bad[i];
			expect_bad_hex(hex);
		}
		memcpy(hex, abc_hex, sizeof(abc_hex));
		hex[2 * SECRET_HASH_LEN - 1] = bad[i];
		expect_bad_hex(hex);
	}
	expect_bad_hex("0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015");
	expect_bad_hex(" ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a");
}

static void
test_session_format(void **state)
{
	char	a[SECRET_SESSION_LEN + 1], b[SECRET_SESSION_LEN + 1];
	size_t	i;
	int	k;

	(void)state;
	/* Enough draws that a missing version or variant bit would show. */
	for (k = 0; k < 64; k++) {
		memset(a, 'x', sizeof(a));
		assert_int_equal(secret_session_new(a), 0);
		assert_int_equal(strlen(a), SECRET_SESSION_LEN);
		for (i = 0; i < SECRET_SESSION_LEN; i++) {
			if (i == 8 || i == 13 || i == 18 || i == 23)
				assert_int_equal(a[i], '-');
			else
				assert_true(is_lower_hex(a[i]));
		}
		assert_int_equal(a[14], '4');
		assert_non_null(strchr("89ab", a[19]));
	}
	assert_int_equal(secret_session_new(b), 0);
	assert_string_not_equal(a, b);
}

static void
test_request_id_format(void **state)
{
	char	a[SECRET_REQID_LEN + 1], b[SECRET_REQID_LEN + 1];
	size_t	i;

	(void)state;
	memset(a, 'x', sizeof(a));
	assert_int_equal(secret_request_id(a), 0);
	assert_int_equal(strlen(a), SECRET_REQID_LEN);
	for (i = 0; i < SECRET_REQID_LEN; i++)
		assert_true(is_lower_hex(a[i]));
	assert_int_equal(secret_request_id(b), 0);
	assert_string_not_equal(a, b);
}

static int
cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Ids come from a per-thread pool refilled every 32: across many refills, no id repeats. */
static void
test_request_ids_distinct(void **state)
{
	static char	ids[1000][SECRET_REQID_LEN + 1];
	size_t		i;

	(void)state;
	for (i = 0; i < 1000; i++)
		assert_int_equal(secret_request_id(ids[i]), 0);
	qsort(ids, 1000, sizeof(ids[0]), cmp_id);
	for (i = 1; i < 1000; i++)
		assert_string_not_equal(ids[i - 1], ids[i]);
}

static void
test_random_equal_wipe(void **state)
{
	unsigned char	a[32], b[32], zero[32] = { 0 };

	(void)state;
	assert_int_equal(secret_random(a, 0), 0);
	assert_int_equal(secret_random(a, sizeof(a)), 0);
	assert_int_equal(secret_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(secret_equal(a, a, sizeof(a)), 1);
	assert_int_equal(secret_equal(a, b, sizeof(a)), 0);
	memcpy(b, a, sizeof(b));
	b[31] ^= 1;
	assert_int_equal(secret_equal(a, b, sizeof(a)), 0);
	assert_int_equal(secret_equal(a, b, sizeof(a) - 1), 1);
	secret_wipe(a, sizeof(a));
	assert_memory_equal(a, zero, sizeof(a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_fetch_failure_aborts),	/* first: see there */
		cmocka_unit_test(test_key_shape),
		cmocka_unit_test(test_keys_differ),
		cmocka_unit_test(test_key_alphabet_uniform),
		cmocka_unit_test(test_known_checksum),
		cmocka_unit_test(test_single_change_rejected),
		cmocka_unit_test(test_swap_rejected),
		cmocka_unit_test(test_tsk_garbage_badsum),
		cmocka_unit_test(test_other),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_key_new_refuses),
		cmocka_unit_test(test_hash_vectors),
		cmocka_unit_test(test_hash_fetched_once),
		cmocka_unit_test(test_crc32_vectors),
		cmocka_unit_test(test_hash_from_hex),
		cmocka_unit_test(test_hash_from_hex_refuses),
		cmocka_unit_test(test_session_format),
		cmocka_unit_test(test_request_id_format),
		cmocka_unit_test(test_request_ids_distinct),
		cmocka_unit_test(test_random_equal_wipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
