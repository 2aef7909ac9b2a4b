/* SPDX-License-Identifier: MIT */
/*
 * Credentials as bytes: random draws, SHA-256, the tsk_ key format and its CRC-32 checksum,
 * session keys and request ids. Holds no state but the SHA-256 implementation it fetches once,
 * and never logs or keeps a credential.
 */
#include "secret.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "log.h"

/* tsk_<env>_<body><sum>: 4 + 4 + 1 + 22 + 6 characters. */
#define KEY_HEAD_LEN	9	/* "tsk_live_" */
#define KEY_BODY_LEN	22	/* 22 * log2(62) = 131 bits of randomness */
#define KEY_SUM_LEN	6	/* 62^6 > 2^32: room for any CRC-32 */
#define KEY_SUMMED_LEN	(KEY_HEAD_LEN + KEY_BODY_LEN)
#define KEY_LEN		(KEY_SUMMED_LEN + KEY_SUM_LEN)
#define KEY_PREFIX_LEN	13	/* "tsk_live_" + 4: enough to tell keys apart in a list */
#define KEY_PREFIX_MIN	16	/* the prefix buffer size the header promises callers need */
#define FMT_MAX		512	/* no credential we issue or accept is longer */

/*
 * Bytes at or above this are redrawn: 248 = 4 * 62 is the largest multiple of 62 that fits a
 * byte, so each base62 digit is hit by exactly four byte values and none is favoured.
 */
#define B62_REJECT	248

_Static_assert(KEY_LEN < SECRET_KEY_MAX, "SECRET_KEY_MAX too small for a tsk_ key");
_Static_assert(KEY_PREFIX_LEN < KEY_PREFIX_MIN, "prefix buffer too small");

static const char b62_digits[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
static const char hex_digits[] = "0123456789abcdef";

/* Log the oldest OpenSSL error and clear the queue, so it cannot leak into a later call. */
static void
ssl_warnx(const char *what)
{
	char		buf[256];
	unsigned long	e = ERR_get_error();

	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	log_warnx("%s: %s", what, e != 0 ? buf : "unknown OpenSSL failure");
}

int
secret_random(void *buf, size_t n)
{
	if (n == 0)
		return 0;
	if (buf == NULL || n > INT_MAX) {
		log_warnx("%s: bad arguments", __func__);
		return -1;
	}
	if (RAND_bytes(buf, (int)n) != 1) {
		ssl_warnx("RAND_bytes");
		return -1;
	}
	return 0;
}

/*
 * SHA-256, fetched from the default provider once. EVP_sha256() in EVP_Digest makes OpenSSL 3
 * look the implementation up again on every call, under a library-wide read-write lock that
 * all workers hashing keys then queue on. Written once under sha256_once and only read after,
 * so it needs no lock; NULL when the fetch failed. Kept for the life of the process, never
 * freed: a server whose connections outlive the drain exits with workers still hashing, and
 * freeing it at exit would pull it from under them.
 */
static pthread_once_t	 sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD		*sha256_md;

static void
sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
}

void
secret_hash(const void *data, size_t n, unsigned char out[SECRET_HASH_LEN])
{
	/*
	 * The fetch or EVP_Digest only fails when OpenSSL cannot allocate or has no SHA-256 at
	 * all. The contract has no way to report that, and handing back a made-up hash could make
	 * two different credentials look alike to the store, so the process stops instead.
	 */
	if (pthread_once(&sha256_once, sha256_fetch) != 0 || sha256_md == NULL) {
		ssl_warnx("SHA-256 fetch");
		abort();
	}
	if (EVP_Digest(data, n, out, NULL, sha256_md, NULL) != 1) {
		ssl_warnx("SHA-256");
		abort();
	}
}

/* The value of c, which the caller has checked is a hex digit of either case. */
static unsigned char
hex_nibble(char c)
{
	return (unsigned char)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
}

int
secret_hash_from_hex(const char *hex, unsigned char out[SECRET_HASH_LEN])
{
	size_t	i;

	/* Check every digit before the first write, so that out is untouched on failure. */
	if (hex == NULL || strlen(hex) != 2 * SECRET_HASH_LEN ||
	    strspn(hex, "0123456789abcdefABCDEF") != 2 * SECRET_HASH_LEN)
		return -1;
	for (i = 0; i < SECRET_HASH_LEN; i++)
		out[i] = (unsigned char)(hex_nibble(hex[2 * i]) << 4 | hex_nibble(hex[2 * i + 1]));
	return 0;
}

/* zlib's CRC-32 (reflected polynomial 0xEDB88320); bitwise, as it only sees 31 bytes. */
static uint32_t
crc32_zlib(const char *s, size_t n)
{
	uint32_t	crc = 0xffffffffu;
	size_t		i;
	int		k;

	for (i = 0; i < n; i++) {
		crc ^= (unsigned char)s[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

/* The value of a base62 digit, or -1 when c is not one. */
static int
b62_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 36;
	return -1;
}

/* The checksum's big-endian base62 spelling, zero-padded to KEY_SUM_LEN characters. */
static void
sum_encode(uint32_t sum, char out[KEY_SUM_LEN])
{
	int	i;

	for (i = KEY_SUM_LEN - 1; i >= 0; i--) {
		out[i] = b62_digits[sum % 62];
		sum /= 62;
	}
}

/* n uniformly random base62 digits into out (no NUL). 0 on success, -1 on failure (logged). */
static int
random_b62(char *out, size_t n)
{
	unsigned char	buf[32];
	size_t		have = 0, next = sizeof(buf);
	int		rc = -1;

	while (have < n) {
		if (next == sizeof(buf)) {
			if (secret_random(buf, sizeof(buf)) != 0)
				goto out;
			next = 0;
		}
		if (buf[next] < B62_REJECT)
			out[have++] = b62_digits[buf[next] % 62];
		next++;
	}
	rc = 0;
out:
	secret_wipe(buf, sizeof(buf));
	return rc;
}

static int
env_valid(const char *s, size_t n)
{
	return n == 4 && (memcmp(s, "live", 4) == 0 || memcmp(s, "test", 4) == 0);
}

int
secret_key_new(const char *env, char *out, size_t outsz, char *prefix, size_t prefixsz)
{
	char	key[KEY_LEN + 1];
	int	rc = -1;

	if (env == NULL || !env_valid(env, strlen(env))) {
		log_warnx("%s: environment must be \"live\" or \"test\"", __func__);
		return -1;
	}
	if (out == NULL || prefix == NULL || outsz < SECRET_KEY_MAX || prefixsz < KEY_PREFIX_MIN) {
		log_warnx("%s: output buffer too small", __func__);
		return -1;
	}
	memcpy(key, "tsk_", 4);
	memcpy(key + 4, env, 4);
	key[8] = '_';
	if (random_b62(key + KEY_HEAD_LEN, KEY_BODY_LEN) != 0)
		goto out;
	sum_encode(crc32_zlib(key, KEY_SUMMED_LEN), key + KEY_SUMMED_LEN);
	key[KEY_LEN] = '\0';
	/* Only now touch the caller's buffers: on failure they stay as they were. */
	memcpy(out, key, sizeof(key));
	memcpy(prefix, key, KEY_PREFIX_LEN);
	prefix[KEY_PREFIX_LEN] = '\0';
	rc = 0;
out:
	secret_wipe(key, sizeof(key));
	return rc;
}

/* s[0..n-1] starts with "tsk_": is it exactly tsk_(live|test)_ + 28 base62 with a good sum? */
static int
tsk_well_formed(const char *s, size_t n)
{
	uint64_t	sum = 0;
	size_t		i;
	int		v;

	if (n != KEY_LEN || !env_valid(s + 4, 4) || s[8] != '_')
		return 0;
	for (i = KEY_HEAD_LEN; i < KEY_LEN; i++) {
		v = b62_value((unsigned char)s[i]);
		if (v < 0)
			return 0;
		if (i >= KEY_SUMMED_LEN)
			sum = sum * 62 + (uint64_t)v;
	}
	return sum == crc32_zlib(s, KEY_SUMMED_LEN);
}

enum secret_fmt
secret_key_format(const char *s, size_t n)
{
	size_t	i;

	if (s == NULL || n == 0 || n > FMT_MAX)
		return SECRET_FMT_BAD;
	/* Callers trim; what is left must be printable ASCII or UTF-8, never controls or spaces. */
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] == 0x7f)
			return SECRET_FMT_BAD;
	}
	if (n < 4 || memcmp(s, "tsk_", 4) != 0)
		return SECRET_FMT_OTHER;
	return tsk_well_formed(s, n) ? SECRET_FMT_TSK : SECRET_FMT_BADSUM;
}

static void
hex_encode(const unsigned char *in, size_t n, char *out)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex_digits[in[i] >> 4];
		out[2 * i + 1] = hex_digits[in[i] & 0x0f];
	}
}

int
secret_session_new(char out[SECRET_SESSION_LEN + 1])
{
	unsigned char	b[16];
	char		hex[32];

	if (secret_random(b, sizeof(b)) != 0)
		return -1;
	/* RFC 9562: version 4 in the high nibble of byte 6, variant 10xx in byte 8. */
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	hex_encode(b, sizeof(b), hex);
	memcpy(out, hex, 8);
	out[8] = '-';
	memcpy(out + 9, hex + 8, 4);
	out[13] = '-';
	memcpy(out + 14, hex + 12, 4);
	out[18] = '-';
	memcpy(out + 19, hex + 16, 4);
	out[23] = '-';
	memcpy(out + 24, hex + 20, 12);
	out[SECRET_SESSION_LEN] = '\0';
	secret_wipe(b, sizeof(b));
	secret_wipe(hex, sizeof(hex));
	return 0;
}

int
secret_request_id(char out[SECRET_REQID_LEN + 1])
{
	unsigned char	b[SECRET_REQID_LEN / 2];

	if (secret_random(b, sizeof(b)) != 0)
		return -1;
	hex_encode(b, sizeof(b), out);
	out[SECRET_REQID_LEN] = '\0';
	return 0;
}

int
secret_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void
secret_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}
