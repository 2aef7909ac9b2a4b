/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: what a presented credential's bytes are (secret_key_format), after the trim every
 * caller applies first (validator_trim), and a SHA-256 written in hex (secret_hash_from_hex).
 * Each result is checked against a second, independent reading of the contract in secret.h
 * (a table-driven CRC-32 here, the bitwise one in secret.c). Aborts on any disagreement.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "validator.h"

#include "fuzz.h"

#define TSK_LEN		37	/* "tsk_live_" + 22 body + 6 checksum */
#define TSK_SUMMED	31	/* the checksum covers the head and the body */
#define FMT_MAX		512	/* secret.c: nothing longer is a credential */

static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* zlib's CRC-32, table-driven: a different implementation from secret.c's bitwise one. */
static uint32_t
ref_crc32(const char *s, size_t n)
{
	static uint32_t	table[256];
	static int	ready;
	uint32_t	c, crc = 0xffffffffu;
	size_t		i;
	int		k;

	if (!ready) {
		for (i = 0; i < 256; i++) {
			c = (uint32_t)i;
			for (k = 0; k < 8; k++)
				c = (c & 1u) ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
		ready = 1;
	}
	for (i = 0; i < n; i++)
		crc = table[(crc ^ (unsigned char)s[i]) & 0xffu] ^ (crc >> 8);
	return ~crc;
}

static int
ref_b62(unsigned char c)
{
	const char	*p = c != '\0' ? strchr(b62, c) : NULL;

	return p != NULL ? (int)(p - b62) : -1;
}

/* secret.h's four classes, read straight from its comment. */
static enum secret_fmt
ref_format(const char *s, size_t n)
{
	uint64_t	sum = 0;
	size_t		i;

	if (n == 0 || n > FMT_MAX)
		return SECRET_FMT_BAD;
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] == 0x7f)
			return SECRET_FMT_BAD;
	}
	if (n < 4 || memcmp(s, "tsk_", 4) != 0)
		return SECRET_FMT_OTHER;
	if (n != TSK_LEN || (memcmp(s, "tsk_live_", 9) != 0 && memcmp(s, "tsk_test_", 9) != 0))
		return SECRET_FMT_BADSUM;
	for (i = 9; i < TSK_LEN; i++) {
		if (ref_b62((unsigned char)s[i]) < 0)
			return SECRET_FMT_BADSUM;
		if (i >= TSK_SUMMED)
			sum = sum * 62 + (uint64_t)ref_b62((unsigned char)s[i]);
	}
	return sum == ref_crc32(s, TSK_SUMMED) ? SECRET_FMT_TSK : SECRET_FMT_BADSUM;
}

/* A well-formed key made from the input's bytes, so that the TSK class is reached at all. */
static void
make_key(const uint8_t *data, size_t size, char key[TSK_LEN + 1])
{
	uint32_t	sum;
	size_t		i;

	memcpy(key, size > 0 && (data[0] & 1) ? "tsk_test_" : "tsk_live_", 9);
	for (i = 0; i < 22; i++)
		key[9 + i] = b62[(i + 1 < size ? data[i + 1] : i) % 62];
	sum = ref_crc32(key, TSK_SUMMED);
	for (i = TSK_LEN; i-- > TSK_SUMMED;) {
		key[i] = b62[sum % 62];
		sum /= 62;
	}
	key[TSK_LEN] = '\0';
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void
check_trim(const char *s, size_t n)
{
	const char	*t;
	size_t		 len = n, i;

	t = validator_trim(s, &len);
	FUZZ_CHECK(t >= s && len <= n && (size_t)(t - s) + len <= n);
	FUZZ_CHECK(len == 0 || (!is_space(t[0]) && !is_space(t[len - 1])));
	for (i = 0; i < (size_t)(t - s); i++)
		FUZZ_CHECK(is_space(s[i]));
	for (i = (size_t)(t - s) + len; i < n; i++)
		FUZZ_CHECK(is_space(s[i]));
	/* What is left classifies as a credential the same way, however it was padded. */
	FUZZ_CHECK(secret_key_format(t, len) == ref_format(t, len));
}

/* secret_hash_from_hex on a NUL-terminated copy: exactly 64 hex digits, and back again. */
static void
check_hex(const uint8_t *data, size_t size)
{
	unsigned char	out[SECRET_HASH_LEN], before[SECRET_HASH_LEN];
	char		*s, again[2 * SECRET_HASH_LEN + 1];
	size_t		 i;
	int		 want, rc;

	s = malloc(size + 1);
	if (s == NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	want = strlen(s) == 2 * SECRET_HASH_LEN &&
	    strspn(s, "0123456789abcdefABCDEF") == 2 * SECRET_HASH_LEN;
	memset(out, 0xa5, sizeof(out));
	memcpy(before, out, sizeof(out));
	rc = secret_hash_from_hex(s, out);
	FUZZ_CHECK(rc == (want ? 0 : -1));
	if (rc != 0) {
		FUZZ_CHECK(memcmp(out, before, sizeof(out)) == 0);	/* untouched on failure */
	} else {
		for (i = 0; i < SECRET_HASH_LEN; i++)
			snprintf(again + 2 * i, 3, "%02x", out[i]);
		for (i = 0; i < 2 * SECRET_HASH_LEN; i++)
			FUZZ_CHECK(again[i] == (s[i] >= 'A' && s[i] <= 'F' ? s[i] + ('a' - 'A') : s[i]));
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*s = (const char *)data;
	char		 key[TSK_LEN + 1], padded[TSK_LEN + 5];
	enum secret_fmt	 fmt;
	size_t		 at;

	/* The raw bytes, as libFuzzer hands them: not NUL-terminated, exactly size long. */
	fmt = secret_key_format(s, size);
	FUZZ_CHECK(fmt == ref_format(s, size));
	if (fmt == SECRET_FMT_TSK) {
		FUZZ_CHECK(size == TSK_LEN);
		FUZZ_CHECK(memcmp(s, "tsk_live_", 9) == 0 || memcmp(s, "tsk_test_", 9) == 0);
	}
	FUZZ_CHECK(secret_key_format(NULL, size) == SECRET_FMT_BAD);
	check_trim(s, size);
	check_hex(data, size);

	/* A good key is TSK; any one character changed makes it BADSUM (CRC-32 sees any burst). */
	make_key(data, size, key);
	FUZZ_CHECK(secret_key_format(key, TSK_LEN) == SECRET_FMT_TSK);
	at = size > 23 ? data[23] % TSK_LEN : size % TSK_LEN;
	if (at >= 9) {
		char	old = key[at];

		key[at] = b62[(ref_b62((unsigned char)old) + 1 + (size > 24 ? data[24] % 61 : 0)) %
		    62];
		FUZZ_CHECK(secret_key_format(key, TSK_LEN) == SECRET_FMT_BADSUM);
		key[at] = old;
	}
	/* Padded, it is refused as it stands and accepted once trimmed, as the validator does. */
	snprintf(padded, sizeof(padded), " \t%s\r\n", key);
	FUZZ_CHECK(secret_key_format(padded, strlen(padded)) == SECRET_FMT_BAD);
	check_trim(padded, strlen(padded));
	return 0;
}
