/* SPDX-License-Identifier: MIT */
/*
 * Per-key fixed-window request counters in a table sized once at ratelimit_new: taking a request
 * never allocates. Knows nothing of keys beyond their id and nothing of the store.
 */
#include "ratelimit.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "log.h"

#define MINUTE		INT64_C(60)
#define DAY		INT64_C(86400)

/*
 * How many slots from a key's home slot it may live in. A new key that finds all of them taken
 * reuses the one touched least recently among them: an LRU over a small neighbourhood rather
 * than over the whole table, so a take costs at most this many probes and needs no list.
 * The victim is the oldest of 16 candidates, which in a full table of idle keys is almost
 * always one whose windows have already ended (and so loses nothing).
 */
#define NEIGHBOURHOOD	16

struct slot {
	int64_t	key_id;
	int64_t	minute_start;
	int64_t	minute_count;
	int64_t	day_start;
	int64_t	day_count;
	int64_t	touched;
	int	used;
};

struct ratelimit {
	pthread_mutex_t	 mu;
	struct slot	*slots;
	size_t		 nslots;
	size_t		 probe;		/* min(NEIGHBOURHOOD, nslots) */
};

struct ratelimit *
ratelimit_new(int max_keys)
{
	struct ratelimit	*rl = NULL;

	if (max_keys < 1) {
		log_warnx("%s: max_keys %d", __func__, max_keys);
		goto fail;
	}
	rl = calloc(1, sizeof(*rl));
	if (rl == NULL) {
		log_warn("%s", __func__);
		goto fail;
	}
	rl->nslots = (size_t)max_keys;
	rl->probe = rl->nslots < NEIGHBOURHOOD ? rl->nslots : NEIGHBOURHOOD;
	rl->slots = calloc(rl->nslots, sizeof(*rl->slots));
	if (rl->slots == NULL) {
		log_warn("%s: %d keys", __func__, max_keys);
		goto fail;
	}
	errno = pthread_mutex_init(&rl->mu, NULL);
	if (errno != 0) {
		log_warn("%s: mutex", __func__);
		goto fail;
	}
	return rl;
fail:
	if (rl != NULL)
		free(rl->slots);
	free(rl);
	return NULL;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->mu);
	free(rl->slots);
	free(rl);
}

/* splitmix64's finaliser: sequential key ids spread over the table instead of clustering. */
static size_t
home_slot(const struct ratelimit *rl, int64_t key_id)
{
	uint64_t	x = (uint64_t)key_id;

	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return (size_t)(x % rl->nslots);
}

/* The slot holding key_id, or NULL. Caller holds the mutex. */
static struct slot *
slot_find(struct ratelimit *rl, int64_t key_id)
{
	size_t		 h = home_slot(rl, key_id), i;
	struct slot	*s;

	for (i = 0; i < rl->probe; i++) {
		s = &rl->slots[(h + i) % rl->nslots];
		if (s->used && s->key_id == key_id)
			return s;
	}
	return NULL;
}

/* A slot for a key that has none: a free one in its neighbourhood, else the stalest there. */
static struct slot *
slot_claim(struct ratelimit *rl, int64_t key_id)
{
	size_t		 h = home_slot(rl, key_id), i;
	struct slot	*s, *victim = NULL;

	for (i = 0; i < rl->probe; i++) {
		s = &rl->slots[(h + i) % rl->nslots];
		if (!s->used) {
			victim = s;
			break;
		}
		if (victim == NULL || s->touched < victim->touched)
			victim = s;
	}
	victim->used = 1;
	victim->key_id = key_id;
	victim->minute_start = victim->day_start = INT64_MIN;
	victim->minute_count = victim->day_count = 0;
	return victim;
}

/* The start of the window of length len holding now; floor, so negative times work too. */
static int64_t
window_start(int64_t now, int64_t len)
{
	int64_t	r = now % len;

	if (r < 0)
		r += len;
	return now - r;
}

/*
 * Move s's windows up to now. A clock that stepped back keeps the later window and its count:
 * resetting there would hand a key a fresh allowance for every backward step.
 */
static void
slot_roll(struct slot *s, int64_t now)
{
	int64_t	m = window_start(now, MINUTE), d = window_start(now, DAY);

	if (m > s->minute_start) {
		s->minute_start = m;
		s->minute_count = 0;
	}
	if (d > s->day_start) {
		s->day_start = d;
		s->day_count = 0;
	}
}

int
ratelimit_take(struct ratelimit *rl, int64_t key_id, int64_t per_minute, int64_t per_day,
    int64_t now, int64_t *retry_after)
{
	struct slot	*s;
	int64_t		 wait = 0;
	int		 allowed = 0;

	/* No limit: storing nothing keeps unlimited keys from pushing limited ones out. */
	if (per_minute <= 0 && per_day <= 0)
		return 1;
	pthread_mutex_lock(&rl->mu);
	s = slot_find(rl, key_id);
	if (s == NULL)
		s = slot_claim(rl, key_id);
	slot_roll(s, now);
	/* Refusals touch too: a key being refused is busy, and reusing its entry would reset it. */
	s->touched = now;
	if (per_minute > 0 && s->minute_count >= per_minute)
		wait = s->minute_start + MINUTE - now;
	/* Both full: the request can go only once the later window has ended. */
	if (per_day > 0 && s->day_count >= per_day && s->day_start + DAY - now > wait)
		wait = s->day_start + DAY - now;
	if (wait == 0) {
		s->minute_count++;
		s->day_count++;
		allowed = 1;
	}
	pthread_mutex_unlock(&rl->mu);
	if (!allowed && retry_after != NULL)
		*retry_after = wait;
	return allowed;
}

void
ratelimit_peek(struct ratelimit *rl, int64_t key_id, int64_t now, int64_t *minute_used,
    int64_t *day_used)
{
	struct slot	*s;
	int64_t		 m = 0, d = 0;

	pthread_mutex_lock(&rl->mu);
	s = slot_find(rl, key_id);
	/* Same rule as slot_roll, without moving anything: an ended window has used nothing. */
	if (s != NULL && s->minute_start >= window_start(now, MINUTE))
		m = s->minute_count;
	if (s != NULL && s->day_start >= window_start(now, DAY))
		d = s->day_count;
	pthread_mutex_unlock(&rl->mu);
	if (minute_used != NULL)
		*minute_used = m;
	if (day_used != NULL)
		*day_used = d;
}
