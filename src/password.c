/* SPDX-License-Identifier: MIT */
/*
 * Password hashes for the legacy Login: scrypt through EVP_PBE_scrypt, stored as
 * "scrypt$<log2 N>$<r>$<p>$<salt>$<key>" in standard base64. Never logs or keeps a password,
 * and wipes every derived key it computes.
 */
#include "password.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "log.h"
#include "secret.h"

/* What new hashes use: 16 MiB and some tens of milliseconds per derivation. */
#define SCRYPT_LOG2N	14
#define SCRYPT_R	8
#define SCRYPT_P	1

/*
 * What a stored hash may ask for. These bound the syntax; SCRYPT_MAXMEM bounds the memory,
 * so a hash within these ranges that needs more (about 128 * r * (N + p) bytes) fails (-1).
 */
#define LOG2N_MIN	10
#define LOG2N_MAX	20
#define R_MAX		32
#define P_MAX		16
#define SCRYPT_MAXMEM	((uint64_t)64 << 20)	/* a tampered hash must not cost a worker GiBs */

#define SALT_LEN	16
#define DK_LEN		32
#define B64_LEN(n)	(4 * (((n) + 2) / 3))
#define FIELDS		6	/* scrypt, log2 N, r, p, salt, key */

struct pwhash {
	unsigned	log2n, r, p;
	unsigned char	salt[SALT_LEN];
	unsigned char	dk[DK_LEN];	/* the derived key, as stored */
};

/* password_burn's salt: fixed, since its result is thrown away. */
static const unsigned char burn_salt[SALT_LEN] = {
	0x74, 0x73, 0x6b, 0x65, 0x79, 0x2d, 0x62, 0x75,
	0x72, 0x6e, 0x2d, 0x73, 0x61, 0x6c, 0x74, 0x00,
};

static void
pwhash_defaults(struct pwhash *h)
{
	memset(h, 0, sizeof(*h));
	h->log2n = SCRYPT_LOG2N;
	h->r = SCRYPT_R;
	h->p = SCRYPT_P;
}

/* dk = scrypt(pw[0..n-1]) with h's parameters and salt. 0 on success, -1 on failure (logged). */
static int
derive(const char *pw, size_t n, const struct pwhash *h, unsigned char dk[DK_LEN])
{
	char		buf[256];
	unsigned long	e;

	if (EVP_PBE_scrypt(pw, n, h->salt, SALT_LEN, (uint64_t)1 << h->log2n, h->r, h->p,
	    SCRYPT_MAXMEM, dk, DK_LEN) == 1)
		return 0;
	e = ERR_get_error();
	ERR_error_string_n(e, buf, sizeof(buf));
	/* Clear the queue, or a worker's next OpenSSL call would find this error first. */
	ERR_clear_error();
	log_warnx("scrypt (log2 N %u, r %u, p %u): %s", h->log2n, h->r, h->p,
	    e != 0 ? buf : "unknown OpenSSL failure");
	return -1;
}

static int
encode(const struct pwhash *h, char *out, size_t outsz)
{
	unsigned char	salt64[B64_LEN(SALT_LEN) + 1], dk64[B64_LEN(DK_LEN) + 1];
	int		n;

	EVP_EncodeBlock(salt64, h->salt, SALT_LEN);
	EVP_EncodeBlock(dk64, h->dk, DK_LEN);
	n = snprintf(out, outsz, "scrypt$%u$%u$%u$%s$%s", h->log2n, h->r, h->p,
	    (const char *)salt64, (const char *)dk64);
	secret_wipe(dk64, sizeof(dk64));
	if (n < 0 || (size_t)n >= outsz) {
		log_warnx("password_hash: encoding longer than PASSWORD_HASH_MAX");
		return -1;
	}
	return 0;
}

int
password_hash(const char *pw, char *out, size_t outsz)
{
	struct pwhash	h;
	unsigned char	dk[DK_LEN];
	char		enc[PASSWORD_HASH_MAX];
	size_t		n, len;
	int		rc = -1;

	if (pw == NULL || out == NULL)
		return -1;
	n = strnlen(pw, PASSWORD_MAX + 1);
	if (n > PASSWORD_MAX)
		return -1;	/* refused: truncating would let a prefix log in */
	pwhash_defaults(&h);
	if (secret_random(h.salt, SALT_LEN) != 0 || derive(pw, n, &h, dk) != 0)
		goto out;
	memcpy(h.dk, dk, DK_LEN);
	if (encode(&h, enc, sizeof(enc)) != 0)
		goto out;
	len = strlen(enc);
	if (len >= outsz) {
		log_warnx("%s: output buffer too small", __func__);
		goto out;
	}
	memcpy(out, enc, len + 1);
	rc = 0;
out:
	secret_wipe(dk, sizeof(dk));
	secret_wipe(&h, sizeof(h));
	secret_wipe(enc, sizeof(enc));
	return rc;
}

/* f[0..n-1] as a decimal in [min, max]: digits only, no sign, no leading zero. */
static int
parse_uint(const char *f, size_t n, unsigned min, unsigned max, unsigned *out)
{
	unsigned	v = 0;
	size_t		i;

	if (n == 0 || n > 9 || f[0] == '0')
		return -1;
	for (i = 0; i < n; i++) {
		if (f[i] < '0' || f[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(f[i] - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* f[0..n-1] must be the canonical standard base64 of exactly want bytes (want <= DK_LEN). */
static int
b64_field(const char *f, size_t n, unsigned char *out, size_t want)
{
	unsigned char	bin[B64_LEN(DK_LEN) / 4 * 3], again[B64_LEN(DK_LEN) + 1];
	int		rc = -1;

	if (want > DK_LEN || n != B64_LEN(want))
		return -1;
	/* EVP_DecodeBlock counts the bytes that '=' stands for, so it reports n / 4 * 3. */
	if (EVP_DecodeBlock(bin, (const unsigned char *)f, (int)n) != (int)(n / 4 * 3))
		goto out;
	/*
	 * EVP_DecodeBlock lets through wrong padding and stray bits in the last digit, so two
	 * spellings could stand for one salt. Only the one spelling we would write is accepted.
	 */
	EVP_EncodeBlock(again, bin, (int)want);
	if (memcmp(again, f, n) != 0)
		goto out;
	memcpy(out, bin, want);
	rc = 0;
out:
	secret_wipe(bin, sizeof(bin));
	secret_wipe(again, sizeof(again));
	return rc;
}

/* Split enc on '$' into exactly FIELDS fields. 0, or -1 when there are more or fewer. */
static int
split(const char *enc, const char *f[FIELDS], size_t len[FIELDS])
{
	const char	*s = enc;
	int		 i;

	for (i = 0; i < FIELDS; i++) {
		if (i > 0) {
			if (*s != '$')
				return -1;
			s++;
		}
		f[i] = s;
		len[i] = strcspn(s, "$");
		s += len[i];
	}
	return *s == '\0' ? 0 : -1;
}

static int
parse(const char *enc, struct pwhash *h)
{
	const char	*f[FIELDS];
	size_t		 len[FIELDS];

	if (strnlen(enc, PASSWORD_HASH_MAX) >= PASSWORD_HASH_MAX || split(enc, f, len) != 0)
		return -1;
	if (len[0] != 6 || memcmp(f[0], "scrypt", 6) != 0)
		return -1;
	if (parse_uint(f[1], len[1], LOG2N_MIN, LOG2N_MAX, &h->log2n) != 0 ||
	    parse_uint(f[2], len[2], 1, R_MAX, &h->r) != 0 ||
	    parse_uint(f[3], len[3], 1, P_MAX, &h->p) != 0)
		return -1;
	if (b64_field(f[4], len[4], h->salt, SALT_LEN) != 0 ||
	    b64_field(f[5], len[5], h->dk, DK_LEN) != 0)
		return -1;
	return 0;
}

int
password_verify(const char *pw, const char *encoded)
{
	struct pwhash	h;
	unsigned char	dk[DK_LEN];
	size_t		n;
	int		rc = -1;

	if (encoded == NULL || parse(encoded, &h) != 0)
		goto out;
	if (pw == NULL) {
		rc = 0;
		goto out;
	}
	/*
	 * A password over PASSWORD_MAX never matches, but still pays for one derivation (of its
	 * first PASSWORD_MAX + 1 bytes), as password_burn does: its length must not tell a known
	 * user from an unknown one.
	 */
	n = strnlen(pw, PASSWORD_MAX + 1);
	if (derive(pw, n, &h, dk) != 0)
		goto out;
	rc = n <= PASSWORD_MAX && secret_equal(dk, h.dk, DK_LEN);
out:
	secret_wipe(dk, sizeof(dk));
	secret_wipe(&h, sizeof(h));
	return rc;
}

void
password_burn(const char *pw)
{
	struct pwhash	h;
	unsigned char	dk[DK_LEN];
	const char	*s = pw != NULL ? pw : "";

	pwhash_defaults(&h);
	memcpy(h.salt, burn_salt, SALT_LEN);
	(void)derive(s, strnlen(s, PASSWORD_MAX + 1), &h, dk);
	secret_wipe(dk, sizeof(dk));
}
