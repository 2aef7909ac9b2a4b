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

/*
 * zlib's CRC-32 (reflected polynomial 0xEDB88320), a byte at a time: entry i is the bitwise
 * CRC of the byte i (eight shift-and-xor steps), written out so that it is read-only data
 * rather than state built at start. Every key check runs it over 31 bytes, where the bitwise
 * loop's 248 dependent steps showed in profiles (tests/bench/PROFILE.md).
 * tests/unit/test_secret.c checks every entry against the bitwise definition.
 */
static const uint32_t crc32_table[256] = {
	0x00000000, 0x77073096, 0xee0e612c, 0x990951ba, 0x076dc419, 0x706af48f,
	0xe963a535, 0x9e6495a3, 0x0edb8832, 0x79dcb8a4, 0xe0d5e91e, 0x97d2d988,
	0x09b64c2b, 0x7eb17cbd, 0xe7b82d07, 0x90bf1d91, 0x1db71064, 0x6ab020f2,
	0xf3b97148, 0x84be41de, 0x1adad47d, 0x6ddde4eb, 0xf4d4b551, 0x83d385c7,
	0x136c9856, 0x646ba8c0, 0xfd62f97a, 0x8a65c9ec, 0x14015c4f, 0x63066cd9,
	0xfa0f3d63, 0x8d080df5, 0x3b6e20c8, 0x4c69105e, 0xd56041e4, 0xa2677172,
	0x3c03e4d1, 0x4b04d447, 0xd20d85fd, 0xa50ab56b, 0x35b5a8fa, 0x42b2986c,
	0xdbbbc9d6, 0xacbcf940, 0x32d86ce3, 0x45df5c75, 0xdcd60dcf, 0xabd13d59,
	0x26d930ac, 0x51de003a, 0xc8d75180, 0xbfd06116, 0x21b4f4b5, 0x56b3c423,
	0xcfba9599, 0xb8bda50f, 0x2802b89e, 0x5f058808, 0xc60cd9b2, 0xb10be924,
	0x2f6f7c87, 0x58684c11, 0xc1611dab, 0xb6662d3d, 0x76dc4190, 0x01db7106,
	0x98d220bc, 0xefd5102a, 0x71b18589, 0x06b6b51f, 0x9fbfe4a5, 0xe8b8d433,
	0x7807c9a2, 0x0f00f934, 0x9609a88e, 0xe10e9818, 0x7f6a0dbb, 0x086d3d2d,
	0x91646c97, 0xe6635c01, 0x6b6b51f4, 0x1c6c6162, 0x856530d8, 0xf262004e,
	0x6c0695ed, 0x1b01a57b, 0x8208f4c1, 0xf50fc457, 0x65b0d9c6, 0x12b7e950,
	0x8bbeb8ea, 0xfcb9887c, 0x62dd1ddf, 0x15da2d49, 0x8cd37cf3, 0xfbd44c65,
	0x4db26158, 0x3ab551ce, 0xa3bc0074, 0xd4bb30e2, 0x4adfa541, 0x3dd895d7,
	0xa4d1c46d, 0xd3d6f4fb, 0x4369e96a, 0x346ed9fc, 0xad678846, 0xda60b8d0,
	0x44042d73, 0x33031de5, 0xaa0a4c5f, 0xdd0d7cc9, 0x5005713c, 0x270241aa,
	0xbe0b1010, 0xc90c2086, 0x5768b525, 0x206f85b3, 0xb966d409, 0xce61e49f,
	0x5edef90e, 0x29d9c998, 0xb0d09822, 0xc7d7a8b4, 0x59b33d17, 0x2eb40d81,
	0xb7bd5c3b, 0xc0ba6cad, 0xedb88320, 0x9abfb3b6, 0x03b6e20c, 0x74b1d29a,
	0xead54739, 0x9dd277af, 0x04db2615, 0x73dc1683, 0xe3630b12, 0x94643b84,
	0x0d6d6a3e, 0x7a6a5aa8, 0xe40ecf0b, 0x9309ff9d, 0x0a00ae27, 0x7d079eb1,
	0xf00f9344, 0x8708a3d2, 0x1e01f268, 0x6906c2fe, 0xf762575d, 0x806567cb,
	0x196c3671, 0x6e6b06e7, 0xfed41b76, 0x89d32be0, 0x10da7a5a, 0x67dd4acc,
	0xf9b9df6f, 0x8ebeeff9, 0x17b7be43, 0x60b08ed5, 0xd6d6a3e8, 0xa1d1937e,
	0x38d8c2c4, 0x4fdff252, 0xd1bb67f1, 0xa6bc5767, 0x3fb506dd, 0x48b2364b,
	0xd80d2bda, 0xaf0a1b4c, 0x36034af6, 0x41047a60, 0xdf60efc3, 0xa867df55,
	0x316e8eef, 0x4669be79, 0xcb61b38c, 0xbc66831a, 0x256fd2a0, 0x5268e236,
	0xcc0c7795, 0xbb0b4703, 0x220216b9, 0x5505262f, 0xc5ba3bbe, 0xb2bd0b28,
	0x2bb45a92, 0x5cb36a04, 0xc2d7ffa7, 0xb5d0cf31, 0x2cd99e8b, 0x5bdeae1d,
	0x9b64c2b0, 0xec63f226, 0x756aa39c, 0x026d930a, 0x9c0906a9, 0xeb0e363f,
	0x72076785, 0x05005713, 0x95bf4a82, 0xe2b87a14, 0x7bb12bae, 0x0cb61b38,
	0x92d28e9b, 0xe5d5be0d, 0x7cdcefb7, 0x0bdbdf21, 0x86d3d2d4, 0xf1d4e242,
	0x68ddb3f8, 0x1fda836e, 0x81be16cd, 0xf6b9265b, 0x6fb077e1, 0x18b74777,
	0x88085ae6, 0xff0f6a70, 0x66063bca, 0x11010b5c, 0x8f659eff, 0xf862ae69,
	0x616bffd3, 0x166ccf45, 0xa00ae278, 0xd70dd2ee, 0x4e048354, 0x3903b3c2,
	0xa7672661, 0xd06016f7, 0x4969474d, 0x3e6e77db, 0xaed16a4a, 0xd9d65adc,
	0x40df0b66, 0x37d83bf0, 0xa9bcae53, 0xdebb9ec5, 0x47b2cf7f, 0x30b5ffe9,
	0xbdbdf21c, 0xcabac28a, 0x53b39330, 0x24b4a3a6, 0xbad03605, 0xcdd70693,
	0x54de5729, 0x23d967bf, 0xb3667a2e, 0xc4614ab8, 0x5d681b02, 0x2a6f2b94,
	0xb40bbe37, 0xc30c8ea1, 0x5a05df1b, 0x2d02ef8d,
};

uint32_t
secret_crc32(const void *data, size_t n)
{
	const unsigned char	*p = data;
	uint32_t		 crc = 0xffffffffu;
	size_t			 i;

	for (i = 0; i < n; i++)
		crc = crc32_table[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
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
	sum_encode(secret_crc32(key, KEY_SUMMED_LEN), key + KEY_SUMMED_LEN);
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
	return sum == secret_crc32(s, KEY_SUMMED_LEN);
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

/*
 * Request ids are drawn 32 at a time: RAND_bytes costs about half a microsecond a call, paid on
 * every request, whatever the length. An id names a request in logs and answers and guards
 * nothing, so random bytes waiting for their request in a buffer of the thread's own (no lock;
 * the one piece of state here that is not the server context's) give nothing away.
 */
#define REQID_POOL	(32 * (SECRET_REQID_LEN / 2))

int
secret_request_id(char out[SECRET_REQID_LEN + 1])
{
	static _Thread_local unsigned char	pool[REQID_POOL];
	static _Thread_local size_t		left;

	if (left < SECRET_REQID_LEN / 2) {
		if (secret_random(pool, sizeof(pool)) != 0)
			return -1;
		left = sizeof(pool);
	}
	left -= SECRET_REQID_LEN / 2;
	hex_encode(pool + left, SECRET_REQID_LEN / 2, out);
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
