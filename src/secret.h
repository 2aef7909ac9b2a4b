/* SPDX-License-Identifier: MIT */
/*
 * Credentials as bytes: randomness, SHA-256, the tsk_ key format with its checksum, and session
 * keys. Owns no state but OpenSSL's SHA-256 implementation, fetched once and kept for the
 * process's life; never logs a credential. Thread-safe (OpenSSL 3 is).
 */
#ifndef SECRET_H
#define SECRET_H

#include <stddef.h>
#include <stdint.h>

#define SECRET_HASH_LEN		32	/* SHA-256 */
#define SECRET_KEY_MAX		64	/* longest generated key, including the NUL */
#define SECRET_SESSION_LEN	36	/* a GUID: 8-4-4-4-12 hex digits */
#define SECRET_REQID_LEN	16	/* request ids: hex digits */

/* Fill buf with n bytes from RAND_bytes. 0 on success, -1 on failure (logged). */
int	secret_random(void *buf, size_t n);

/*
 * out = SHA-256(data[0..n-1]). Cannot fail on valid arguments; when OpenSSL has no SHA-256 or
 * cannot allocate, it logs and aborts rather than hand back a made-up hash. The implementation
 * is fetched once per process, on first use.
 */
void	secret_hash(const void *data, size_t n, unsigned char out[SECRET_HASH_LEN]);

/* zlib's CRC-32 of data[0..n-1] (the tsk_ key checksum): crc32("123456789") = 0xcbf43926. */
uint32_t	secret_crc32(const void *data, size_t n);

/*
 * A SHA-256 spelled in hex (how a legacy key is imported by its hash) back into its bytes.
 * 0 on success. -1, with out untouched, unless hex is exactly 2 * SECRET_HASH_LEN hex digits
 * of either case and nothing else (no "0x", sign or space); NULL gives -1 too.
 */
int	secret_hash_from_hex(const char *hex, unsigned char out[SECRET_HASH_LEN]);

/*
 * A new TrackServiceKey: "tsk_<env>_" + 22 base62 characters (>= 130 bits from RAND_bytes)
 * + 6 base62 characters of CRC-32 over everything before them. env is "live" or "test".
 * Writes a NUL-terminated key into out (size >= SECRET_KEY_MAX) and its display prefix
 * (the first 13 characters) into prefix (size >= 16). 0 on success, -1 on failure.
 */
int	secret_key_new(const char *env, char *out, size_t outsz, char *prefix, size_t prefixsz);

/*
 * What the format of s[0..n-1] says before any store access:
 *   SECRET_FMT_TSK     a well-formed tsk_ key whose checksum matches
 *   SECRET_FMT_BADSUM  starts like a tsk_ key but is malformed or its checksum fails: reject
 *   SECRET_FMT_OTHER   anything else (a legacy TrackServiceKey or a session key): look it up
 *   SECRET_FMT_BAD     empty, too long, or holds bytes no credential has (controls, NUL): reject
 */
enum secret_fmt { SECRET_FMT_BAD = 0, SECRET_FMT_TSK, SECRET_FMT_BADSUM, SECRET_FMT_OTHER };
enum secret_fmt	secret_key_format(const char *s, size_t n);

/* A new session key, a random (v4) GUID, NUL-terminated into out[SECRET_SESSION_LEN + 1]. */
int	secret_session_new(char out[SECRET_SESSION_LEN + 1]);

/* A request id: SECRET_REQID_LEN hex digits, NUL-terminated. Not secret, just unique. */
int	secret_request_id(char out[SECRET_REQID_LEN + 1]);

/* Constant-time equality of two n-byte buffers: 1 equal, 0 not. */
int	secret_equal(const void *a, const void *b, size_t n);

/* Overwrite n bytes at p so the compiler cannot skip it. */
void	secret_wipe(void *p, size_t n);

#endif
