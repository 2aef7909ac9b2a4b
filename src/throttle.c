/* SPDX-License-Identifier: MIT */
/* Failed-Login counters in a fixed hash table keyed by a digest of what is counted. */
#include "throttle.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "secret.h"

#define PROBE		16	/* slots looked at from an entry's home slot */
#define USER_LOCK	60	/* seconds a user name under a spread-out attack is locked */

enum what { PAIR = 0, ADDR, USER };

struct entry {
	uint64_t	id;		/* 0 = empty */
	int64_t		window_start;
	int64_t		failures;
	int64_t		locked_until;
	int64_t		touched;
};

struct throttle {
	pthread_mutex_t	 mu;
	struct entry	*slots;
	int		 nslots;
	int		 max_failures;
	int64_t		 window;
};

struct throttle *
throttle_new(int slots, int max_failures, int64_t window)
{
	struct throttle	*t;

	if (slots < PROBE || max_failures < 1 || window < 1)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (t != NULL)
		t->slots = calloc((size_t)slots, sizeof(*t->slots));
	if (t == NULL || t->slots == NULL) {
		log_warn("throttle_new");
		free(t);
		return NULL;
	}
	pthread_mutex_init(&t->mu, NULL);
	t->nslots = slots;
	t->max_failures = max_failures;
	t->window = window;
	return t;
}

void
throttle_free(struct throttle *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->mu);
	free(t->slots);
	free(t);
}

/* A 64-bit digest of what is counted; never 0. Names and addresses stay out of memory. */
static uint64_t
digest(enum what w, const char *user, const char *addr)
{
	unsigned char	h[SECRET_HASH_LEN];
	char		buf[512];
	uint64_t	id = 0;
	int		i, n;

	n = snprintf(buf, sizeof(buf), "%d\n%s\n%s", (int)w, w == ADDR ? "" : user,
	    w == USER ? "" : addr);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	secret_hash(buf, (size_t)n, h);
	for (i = 0; i < 8; i++)
		id = id << 8 | h[i];
	return id != 0 ? id : 1;
}

/* The entry for id, or a slot to (re)use for it: the least recently touched nearby. */
static struct entry *
slot_for(struct throttle *t, uint64_t id, int create, int64_t now)
{
	struct entry	*e, *victim = NULL;
	int		 i, home = (int)(id % (uint64_t)t->nslots);

	for (i = 0; i < PROBE; i++) {
		e = &t->slots[(home + i) % t->nslots];
		if (e->id == id)
			return e;
		if (victim == NULL || e->id == 0 || (victim->id != 0 && e->touched < victim->touched))
			victim = e;
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->id = id;
	victim->window_start = now;
	victim->touched = now;
	return victim;
}

static int64_t
locked_for(struct throttle *t, enum what w, const char *user, const char *addr, int64_t now)
{
	struct entry	*e = slot_for(t, digest(w, user, addr), 0, now);

	return e != NULL && e->locked_until > now ? e->locked_until - now : 0;
}

int64_t
throttle_check(struct throttle *t, const char *user, const char *addr, int64_t now)
{
	int64_t	wait = 0, w;
	int	i;

	pthread_mutex_lock(&t->mu);
	for (i = PAIR; i <= USER; i++) {
		w = locked_for(t, (enum what)i, user, addr, now);
		if (w > wait)
			wait = w;
	}
	pthread_mutex_unlock(&t->mu);
	return wait;
}

void
throttle_fail(struct throttle *t, const char *user, const char *addr, int64_t now)
{
	static const int	factor[] = { [PAIR] = 1, [ADDR] = 4, [USER] = 10 };
	struct entry		*e;
	int			 i;

	pthread_mutex_lock(&t->mu);
	for (i = PAIR; i <= USER; i++) {
		e = slot_for(t, digest((enum what)i, user, addr), 1, now);
		if (now - e->window_start >= t->window) {
			e->window_start = now;
			e->failures = 0;
		}
		e->touched = now;
		if (++e->failures >= (int64_t)factor[i] * t->max_failures) {
			e->locked_until = now + (i == USER ? USER_LOCK : t->window);
			e->failures = 0;
			e->window_start = now;
		}
	}
	pthread_mutex_unlock(&t->mu);
}

void
throttle_success(struct throttle *t, const char *user, const char *addr)
{
	struct entry	*e;

	pthread_mutex_lock(&t->mu);
	e = slot_for(t, digest(PAIR, user, addr), 0, 0);
	if (e != NULL)
		e->failures = 0;
	pthread_mutex_unlock(&t->mu);
}
