/* SPDX-License-Identifier: MIT */
/*
 * Password hashing for the legacy Login: scrypt (OpenSSL EVP_PBE_scrypt) with a random salt,
 * encoded with its parameters so they can be raised later without breaking old hashes.
 * Thread-safe; never logs a password.
 */
#ifndef PASSWORD_H
#define PASSWORD_H

#include <stddef.h>

#define PASSWORD_HASH_MAX	160	/* encoded hash, including the NUL */
#define PASSWORD_MAX		1024	/* longer passwords are refused, not truncated */

/*
 * Encode a new hash of pw into out: "scrypt$<log2 N>$<r>$<p>$<salt b64>$<hash b64>".
 * 0 on success, -1 on failure (logged) or when pw is longer than PASSWORD_MAX.
 */
int	password_hash(const char *pw, char *out, size_t outsz);

/*
 * 1 when pw matches encoded, 0 when it does not, -1 when encoded is malformed or hashing
 * failed. Compares in constant time.
 */
int	password_verify(const char *pw, const char *encoded);

/*
 * Spend the time a password_verify costs without a stored hash, so that a Login for an unknown
 * user takes as long as one for a known user with a wrong password.
 */
void	password_burn(const char *pw);

#endif
