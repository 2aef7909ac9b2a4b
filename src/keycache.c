/* SPDX-License-Identifier: MIT */
/* Key rows by key hash, valid for one store change generation (see keycache.h). */
#include "keycache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define STRIPES	64	/* mutexes; slot i is guarded by mu[i % STRIPES] */

struct entry {
	unsigned char	 hash[SECRET_HASH_LEN];
	int64_t		 gen;
	struct store_key key;
};

struct keycache {
	pthread_mutex_t	 mu[STRIPES];
	struct entry	*slot[KEYCACHE_SLOTS];
};

struct keycache *
keycache_new(void)
{
	struct keycache	*kc = calloc(1, sizeof(*kc));
	int		 i;

	if (kc == NULL) {
		log_warn("keycache_new");
		return NULL;
	}
	for (i = 0; i < STRIPES; i++)
		pthread_mutex_init(&kc->mu[i], NULL);
	return kc;
}

void
keycache_free(struct keycache *kc)
{
	int	i;

	if (kc == NULL)
		return;
	for (i = 0; i < KEYCACHE_SLOTS; i++)
		free(kc->slot[i]);
	for (i = 0; i < STRIPES; i++)
		pthread_mutex_destroy(&kc->mu[i]);
	free(kc);
}

/* The hash is SHA-256 of a random key: any 8 of its bytes are as good as a hash of it. */
static size_t
slot_of(const unsigned char hash[SECRET_HASH_LEN])
{
	uint64_t	h;

	memcpy(&h, hash, sizeof(h));
	return (size_t)(h % KEYCACHE_SLOTS);
}

int
keycache_get(struct keycache *kc, const unsigned char hash[SECRET_HASH_LEN], int64_t gen,
    struct store_key *out)
{
	size_t		 i = slot_of(hash);
	struct entry	*e;
	int		 hit = 0;

	pthread_mutex_lock(&kc->mu[i % STRIPES]);
	e = kc->slot[i];
	if (e != NULL && e->gen == gen && memcmp(e->hash, hash, SECRET_HASH_LEN) == 0) {
		memcpy(out, &e->key, sizeof(*out));
		hit = 1;
	}
	pthread_mutex_unlock(&kc->mu[i % STRIPES]);
	return hit;
}

void
keycache_put(struct keycache *kc, const unsigned char hash[SECRET_HASH_LEN], int64_t gen,
    const struct store_key *k)
{
	size_t		 i = slot_of(hash);
	struct entry	*e;

	pthread_mutex_lock(&kc->mu[i % STRIPES]);
	e = kc->slot[i];
	if (e == NULL)
		e = kc->slot[i] = malloc(sizeof(*e));
	if (e != NULL) {
		memcpy(e->hash, hash, SECRET_HASH_LEN);
		e->gen = gen;
		memcpy(&e->key, k, sizeof(*k));
	}
	pthread_mutex_unlock(&kc->mu[i % STRIPES]);
}
