/* SPDX-License-Identifier: MIT */
/*
 * Key rows by key hash, so that a key check that hits needs no join and no B-tree search of a
 * large store. Every entry carries the store's change generation at the time it was read
 * (store.c: a counter that triggers on the keys and accounts tables raise with every change,
 * whoever makes it, this process or another); an entry whose generation is not the store's
 * current one is never returned. The cache therefore never outlives a revocation, a credit
 * change or a new allowance, and costs the hot path one read of the counter.
 *
 * Direct-mapped: slot = hash mod KEYCACHE_SLOTS; a colliding key replaces the one there.
 * Entries are allocated when a slot is first used, so memory follows the keys in use
 * (about 1.3 KB each, at most KEYCACHE_SLOTS of them). Thread-safe: striped mutexes.
 */
#ifndef KEYCACHE_H
#define KEYCACHE_H

#include <stdint.h>

#include "secret.h"
#include "store.h"

#define KEYCACHE_SLOTS	8192

struct keycache;

struct keycache	*keycache_new(void);	/* NULL when out of memory (logged) */
void		 keycache_free(struct keycache *kc);	/* NULL is fine */

/* 1 and *out filled when hash is cached at generation gen; else 0. */
int		 keycache_get(struct keycache *kc, const unsigned char hash[SECRET_HASH_LEN],
		    int64_t gen, struct store_key *out);
/* Cache k as the row of hash at generation gen (a failed allocation caches nothing). */
void		 keycache_put(struct keycache *kc, const unsigned char hash[SECRET_HASH_LEN],
		    int64_t gen, const struct store_key *k);

#endif
