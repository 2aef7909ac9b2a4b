/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/password.c: scrypt hashes round-trip, are salted, parse strictly, and
 * refuse over-long passwords. Known answers come from Python's hashlib.scrypt, not from us.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "password.h"

#define KAT_PW	"correct horse battery staple"

/* hashlib.scrypt(KAT_PW, salt=bytes(range(16)), n=2**14, r=8, p=1, dklen=32) */
static const char kat[] =
    "scrypt$14$8$1$AAECAwQFBgcICQoLDA0ODw==$11kKyiyYAc8G7rp3KmncMc44YlkdllIqxOa7pq0fMaU=";
/* hashlib.scrypt(b"pw", salt=bytes(range(16)), n=2**10, r=1, p=2, dklen=32): other parameters. */
static const char kat_small[] =
    "scrypt$10$1$2$AAECAwQFBgcICQoLDA0ODw==$KYPqQmHAy0oNqUoXEwoURzJDrpbNTtIGxWbPzDFrFKk=";
/* hashlib.scrypt(b"a" * (PASSWORD_MAX + 1), salt=bytes(range(16)), n=2**14, r=8, p=1) */
static const char kat_long[] =
    "scrypt$14$8$1$AAECAwQFBgcICQoLDA0ODw==$ktG+EdEFb3KVbvLkKptmJwuN981i1s025XVeff+ZYAE=";

enum { F_ALG, F_LOG2N, F_R, F_P, F_SALT, F_HASH, F_COUNT };

/* kat with field idx replaced by val, into out. */
static void
with_field(int idx, const char *val, char *out, size_t outsz)
{
	char	copy[sizeof(kat)], *f[F_COUNT], *s = copy;
	int	i;

	memcpy(copy, kat, sizeof(kat));
	for (i = 0; i < F_COUNT; i++) {
		f[i] = s;
		s = strchr(s, '$');
		if (s != NULL)
			*s++ = '\0';
	}
	f[idx] = (char *)val;
	snprintf(out, outsz, "%s$%s$%s$%s$%s$%s", f[0], f[1], f[2], f[3], f[4], f[5]);
}

static int
verify_with(int idx, const char *val)
{
	char	enc[512];

	with_field(idx, val, enc, sizeof(enc));
	return password_verify(KAT_PW, enc);
}

static char *
long_pw(size_t n)
{
	char	*pw = malloc(n + 1);

	assert_non_null(pw);
	memset(pw, 'a', n);
	pw[n] = '\0';
	return pw;
}

static void
test_known_answers(void **state)
{
	(void)state;
	assert_int_equal(password_verify(KAT_PW, kat), 1);
	assert_int_equal(password_verify("pw", kat_small), 1);
	assert_int_equal(password_verify("pw ", kat_small), 0);
}

static void
test_round_trip(void **state)
{
	char	enc[PASSWORD_HASH_MAX];

	(void)state;
	assert_int_equal(password_hash("s3cret pässword", enc, sizeof(enc)), 0);
	/* New hashes carry the default parameters; 16- and 32-byte fields are 24 and 44 long. */
	assert_memory_equal(enc, "scrypt$14$8$1$", 14);
	assert_int_equal(strlen(enc), 14 + 24 + 1 + 44);
	assert_int_equal(enc[14 + 24], '$');
	assert_int_equal(password_verify("s3cret pässword", enc), 1);
	assert_int_equal(password_verify("s3cret passw0rd", enc), 0);
	assert_int_equal(password_verify("s3cret pässwor", enc), 0);
	assert_int_equal(password_verify("", enc), 0);
	assert_int_equal(password_verify(NULL, enc), 0);

	assert_int_equal(password_hash("", enc, sizeof(enc)), 0);
	assert_int_equal(password_verify("", enc), 1);
	assert_int_equal(password_verify(" ", enc), 0);
}

static void
test_salted(void **state)
{
	char	a[PASSWORD_HASH_MAX], b[PASSWORD_HASH_MAX];

	(void)state;
	assert_int_equal(password_hash("same", a, sizeof(a)), 0);
	assert_int_equal(password_hash("same", b, sizeof(b)), 0);
	assert_string_not_equal(a, b);
	/* The salts differ, not only the keys. */
	assert_memory_not_equal(a + 14, b + 14, 24);
	assert_int_equal(password_verify("same", a), 1);
	assert_int_equal(password_verify("same", b), 1);
}

static void
test_small_buffer(void **state)
{
	char	enc[83];

	(void)state;
	memset(enc, 'x', sizeof(enc));
	assert_int_equal(password_hash("pw", enc, sizeof(enc)), -1);
	assert_int_equal(enc[0], 'x');
	assert_int_equal(password_hash(NULL, enc, sizeof(enc)), -1);
}

static void
test_bad_algorithm(void **state)
{
	(void)state;
	assert_int_equal(verify_with(F_ALG, "bcrypt"), -1);
	assert_int_equal(verify_with(F_ALG, "SCRYPT"), -1);
	assert_int_equal(verify_with(F_ALG, "scrypt2"), -1);
	assert_int_equal(verify_with(F_ALG, ""), -1);
}

static void
test_bad_numbers(void **state)
{
	static const char	*log2n[] = { "9", "21", "0", "014", "+14", "1a", "", " 14", "99999999999" };
	static const char	*r[] = { "0", "33", "08", "-8", "", "8 " };
	static const char	*p[] = { "0", "17", "01", "x", "" };
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(log2n) / sizeof(log2n[0]); i++)
		assert_int_equal(verify_with(F_LOG2N, log2n[i]), -1);
	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		assert_int_equal(verify_with(F_R, r[i]), -1);
	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		assert_int_equal(verify_with(F_P, p[i]), -1);
	/* Just past the limits with a small N, so OpenSSL's memory cap cannot be what refuses. */
	assert_int_equal(password_verify("pw",
	    "scrypt$10$33$1$AAECAwQFBgcICQoLDA0ODw==$KYPqQmHAy0oNqUoXEwoURzJDrpbNTtIGxWbPzDFrFKk="),
	    -1);
	assert_int_equal(password_verify("pw",
	    "scrypt$10$1$17$AAECAwQFBgcICQoLDA0ODw==$KYPqQmHAy0oNqUoXEwoURzJDrpbNTtIGxWbPzDFrFKk="),
	    -1);
}

/* Well-formed but different parameters derive a different key: no match, no error. */
static void
test_changed_numbers(void **state)
{
	(void)state;
	assert_int_equal(verify_with(F_LOG2N, "12"), 0);
	assert_int_equal(verify_with(F_R, "7"), 0);
	assert_int_equal(verify_with(F_P, "2"), 0);
}

/* Parameters in range but over the memory cap fail rather than allocate gigabytes. */
static void
test_memory_cap(void **state)
{
	(void)state;
	assert_int_equal(verify_with(F_LOG2N, "20"), -1);
	assert_int_equal(verify_with(F_R, "32"), -1);
}

static void
test_bad_base64(void **state)
{
	static const char	*salt[] = {
		"AAECAwQFBgcICQoLDA0ODw=",	/* one short */
		"AAECAwQFBgcICQoLDA0ODw===",	/* one long */
		"AAECAwQFBgcICQoLDA0ODwAA",	/* 18 bytes, no padding */
		"AAECAwQFBgcICQoLDA0ODw",	/* padding dropped */
		"AAECAwQFBgcICQoLDA0ODx==",	/* stray bits in the last digit */
		"AAECAwQFBgcICQoLDA0O*w==",	/* not base64 */
		"AAECAwQFBgcICQoLDA0O w==",
		"AAECAwQFBgc=CQoLDA0ODw==",	/* padding in the middle */
		"AAECAwQFBgcICQoLDA0ODw==AAAA",	/* 19 bytes */
		"AAECAwQFBgcICQoLDA0O",		/* 15 bytes */
		"",
	};
	static const char	*hash[] = {
		"11kKyiyYAc8G7rp3KmncMc44YlkdllIqxOa7pq0fMaU",
		"11kKyiyYAc8G7rp3KmncMc44YlkdllIqxOa7pq0fMaU==",
		"11kKyiyYAc8G7rp3KmncMc44YlkdllIqxOa7pq0fMaV=",	/* stray bits */
		"11kKyiyYAc8G7rp3KmncMc44YlkdllIqxOa7pq0fMa==",	/* 31 bytes */
		"11kKyiyYAc8G7rp3KmncMc44YlkdllIqxOa7pq0fMaUA",	/* 33 bytes */
		"11kKyiyYAc8G7rp3KmncMc44YlkdllIqxOa7pq0fM_U=",	/* base64url is not ours */
		"",
	};
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(salt) / sizeof(salt[0]); i++)
		assert_int_equal(verify_with(F_SALT, salt[i]), -1);
	for (i = 0; i < sizeof(hash) / sizeof(hash[0]); i++)
		assert_int_equal(verify_with(F_HASH, hash[i]), -1);
}

static void
test_changed_salt_or_hash(void **state)
{
	(void)state;
	assert_int_equal(verify_with(F_SALT, "BAECAwQFBgcICQoLDA0ODw=="), 0);
	assert_int_equal(verify_with(F_SALT, "AAECAwQFBgcICQoLDA0ODg=="), 0);
	assert_int_equal(verify_with(F_HASH, "21kKyiyYAc8G7rp3KmncMc44YlkdllIqxOa7pq0fMaU="), 0);
	assert_int_equal(verify_with(F_HASH, "11kKyiyYAc8G7rp3KmncMc44YlkdllIqxOa7pq0fMaQ="), 0);
}

static void
test_bad_structure(void **state)
{
	char	enc[512];

	(void)state;
	assert_int_equal(password_verify(KAT_PW, NULL), -1);
	assert_int_equal(password_verify(KAT_PW, ""), -1);
	assert_int_equal(password_verify(KAT_PW, "scrypt"), -1);
	assert_int_equal(password_verify(KAT_PW,
	    "scrypt$14$8$AAECAwQFBgcICQoLDA0ODw==$11kKyiyYAc8G7rp3KmncMc44YlkdllIqxOa7pq0fMaU="),
	    -1);
	snprintf(enc, sizeof(enc), "%s$", kat);
	assert_int_equal(password_verify(KAT_PW, enc), -1);
	snprintf(enc, sizeof(enc), "%s$AAAA", kat);
	assert_int_equal(password_verify(KAT_PW, enc), -1);
	snprintf(enc, sizeof(enc), "%s ", kat);
	assert_int_equal(password_verify(KAT_PW, enc), -1);
	snprintf(enc, sizeof(enc), "%s\n", kat);
	assert_int_equal(password_verify(KAT_PW, enc), -1);
	snprintf(enc, sizeof(enc), " %s", kat);
	assert_int_equal(password_verify(KAT_PW, enc), -1);
	snprintf(enc, sizeof(enc), "$%s", kat);
	assert_int_equal(password_verify(KAT_PW, enc), -1);
	/* Longer than any encoding we write. */
	memset(enc, 'A', PASSWORD_HASH_MAX + 10);
	memcpy(enc, kat, sizeof(kat) - 1);
	enc[PASSWORD_HASH_MAX + 10] = '\0';
	assert_int_equal(password_verify(KAT_PW, enc), -1);
}

static void
test_long_password(void **state)
{
	char	enc[PASSWORD_HASH_MAX], *at_max = long_pw(PASSWORD_MAX);
	char	*over = long_pw(PASSWORD_MAX + 1), *huge = long_pw(100000);

	(void)state;
	memset(enc, 'x', sizeof(enc));
	assert_int_equal(password_hash(over, enc, sizeof(enc)), -1);
	assert_int_equal(password_hash(huge, enc, sizeof(enc)), -1);
	assert_int_equal(enc[0], 'x');

	assert_int_equal(password_hash(at_max, enc, sizeof(enc)), 0);
	assert_int_equal(password_verify(at_max, enc), 1);
	/* Refused, not truncated: the over-long password does not match its own prefix. */
	assert_int_equal(password_verify(over, enc), 0);
	assert_int_equal(password_verify(huge, enc), 0);
	/* Even a stored hash that was made from exactly this over-long password says no. */
	assert_int_equal(password_verify(over, kat_long), 0);
	/* Malformed still wins over too long. */
	assert_int_equal(password_verify(over, "scrypt$"), -1);
	free(at_max);
	free(over);
	free(huge);
}

static void
test_burn(void **state)
{
	char	*over = long_pw(PASSWORD_MAX + 1);

	(void)state;
	/* Nothing to observe but that it returns and stays clean under the sanitizers. */
	password_burn("");
	password_burn(NULL);
	password_burn(KAT_PW);
	password_burn(over);
	free(over);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_salted),
		cmocka_unit_test(test_small_buffer),
		cmocka_unit_test(test_bad_algorithm),
		cmocka_unit_test(test_bad_numbers),
		cmocka_unit_test(test_changed_numbers),
		cmocka_unit_test(test_memory_cap),
		cmocka_unit_test(test_bad_base64),
		cmocka_unit_test(test_changed_salt_or_hash),
		cmocka_unit_test(test_bad_structure),
		cmocka_unit_test(test_long_password),
		cmocka_unit_test(test_burn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
