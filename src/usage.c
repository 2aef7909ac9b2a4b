/* SPDX-License-Identifier: MIT */
/*
 * Pending key uses in a growable open-addressing map, handed to the store in one transaction per
 * flush. The request path only touches memory here; SQL stays in the store.
 */
#include "usage.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* A bound on memory when the flusher falls behind (about 48 MB of table at the cap). */
#define PENDING_MAX	1000000
#define MIN_SLOTS	64

/* A slot is empty when count is 0: every pending use has count >= 1. */
struct use {
	int64_t	key_id;		/* the key's or the user's id */
	int	subject;	/* enum usage_subject */
	int64_t	last;
	int64_t	count;
	int64_t	soap;		/* of count, the SOAP ones */
	int64_t	last_soap;	/* 0 = none pending */
};

struct use_map {
	struct use	*slots;
	size_t		 nslots;	/* 0 or a power of two */
	size_t		 n;
};

struct usage {
	pthread_mutex_t	mu;
	struct use_map	map;
	struct use_map	flying;		/* what a flush is writing now; read-only meanwhile */
	int		warned;		/* a lost use was logged since the last flush */
	int		failed;		/* the last flush that wrote something failed */
	int64_t		unwritten;	/* credit spent in map and flying, all accounts */
};

struct usage *
usage_new(void)
{
	struct usage	*u;

	u = calloc(1, sizeof(*u));
	if (u == NULL) {
		log_warn("%s", __func__);
		return NULL;
	}
	errno = pthread_mutex_init(&u->mu, NULL);
	if (errno != 0) {
		log_warn("%s: mutex", __func__);
		free(u);
		return NULL;
	}
	return u;
}

void
usage_free(struct usage *u)
{
	if (u == NULL)
		return;
	pthread_mutex_destroy(&u->mu);
	free(u->map.slots);
	free(u);
}

static size_t
hash_id(int64_t key_id, int subject)
{
	uint64_t	x = (uint64_t)key_id ^ ((uint64_t)subject << 62);

	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return (size_t)(x ^ (x >> 31));
}

/* The (subject, id) slot in m, or the empty slot where it belongs. m->nslots must be > 0. */
static struct use *
map_slot(struct use_map *m, int64_t key_id, int subject)
{
	size_t		 i = hash_id(key_id, subject) & (m->nslots - 1);
	struct use	*s;

	/* The load factor stays under 3/4, so an empty slot ends every probe. */
	for (;;) {
		s = &m->slots[i];
		if (s->count == 0 || (s->key_id == key_id && s->subject == subject))
			return s;
		i = (i + 1) & (m->nslots - 1);
	}
}

/* Make room for one more key: 0, or -1 with errno when memory ran out (m unchanged). */
static int
map_reserve(struct use_map *m)
{
	struct use_map	 bigger;
	size_t		 i;

	if ((m->n + 1) * 4 <= m->nslots * 3)
		return 0;
	bigger.nslots = m->nslots == 0 ? MIN_SLOTS : m->nslots * 2;
	bigger.n = m->n;
	bigger.slots = calloc(bigger.nslots, sizeof(*bigger.slots));
	if (bigger.slots == NULL)
		return -1;
	for (i = 0; i < m->nslots; i++) {
		if (m->slots[i].count != 0)
			*map_slot(&bigger, m->slots[i].key_id, m->slots[i].subject) = m->slots[i];
	}
	free(m->slots);
	*m = bigger;
	return 0;
}

/* Add the uses in d to d's (subject, id). 0, or -1 when they are lost (logged once). */
static int
map_add(struct usage *u, struct use_map *m, const struct use *d)
{
	struct use	*s = NULL;

	if (m->nslots != 0)
		s = map_slot(m, d->key_id, d->subject);
	if (s == NULL || s->count == 0) {
		if (m->n >= PENDING_MAX) {
			if (!u->warned)
				log_warnx("usage: %d keys pending, uses lost until the next flush",
				    PENDING_MAX);
			u->warned = 1;
			return -1;
		}
		if (map_reserve(m) != 0) {
			if (!u->warned)
				log_warn("usage: uses lost until the next flush");
			u->warned = 1;
			return -1;
		}
		s = map_slot(m, d->key_id, d->subject);
		memset(s, 0, sizeof(*s));
		s->key_id = d->key_id;
		s->subject = d->subject;
		s->last = d->last;
		m->n++;
	}
	/* Threads note out of order: keep the latest time, not the last one written. */
	if (d->last > s->last)
		s->last = d->last;
	if (d->last_soap > s->last_soap)
		s->last_soap = d->last_soap;
	s->count += d->count;
	s->soap += d->soap;
	return 0;
}

int
usage_note_on(struct usage *u, enum usage_subject subject, int64_t id, enum usage_path path,
    int64_t now)
{
	struct use	d;
	int		rc;

	memset(&d, 0, sizeof(d));
	d.key_id = id;
	d.subject = subject;
	d.last = now;
	d.count = 1;
	if (path != USAGE_PATH_REST) {
		d.soap = 1;
		d.last_soap = now;
	}
	pthread_mutex_lock(&u->mu);
	rc = map_add(u, &u->map, &d);
	pthread_mutex_unlock(&u->mu);
	return rc;
}

/* Credit of account_id spent in m. Called with u->mu held. */
static int64_t
spent_in(struct use_map *m, int64_t account_id)
{
	if (m->nslots == 0)
		return 0;
	return map_slot(m, account_id, USAGE_CREDIT)->count;
}

enum usage_debit
usage_debit(struct usage *u, int64_t account_id, int64_t cost, int64_t balance,
    int64_t max_unwritten, int64_t *left)
{
	struct use		d;
	int64_t			spent;
	enum usage_debit	rc = USAGE_DEBIT_OK;

	memset(&d, 0, sizeof(d));
	d.key_id = account_id;
	d.subject = USAGE_CREDIT;
	d.count = cost;
	pthread_mutex_lock(&u->mu);
	spent = spent_in(&u->map, account_id) + spent_in(&u->flying, account_id);
	/*
	 * Fail closed: spending granted here is only as good as the next flush. Once one failed,
	 * the store cannot take writes, so granting more would be credit never charged.
	 */
	if (u->failed)
		rc = USAGE_DEBIT_FAILED;
	else if (balance - spent < cost)
		rc = USAGE_DEBIT_NO_CREDIT;
	else if (u->unwritten > max_unwritten - cost)
		rc = USAGE_DEBIT_STORE;	/* a stuck flusher must not grant without end */
	else if (map_add(u, &u->map, &d) != 0)
		rc = USAGE_DEBIT_STORE;
	else
		u->unwritten += cost;
	pthread_mutex_unlock(&u->mu);
	*left = balance - spent - (rc == USAGE_DEBIT_OK ? cost : 0);
	return rc;
}

int64_t
usage_unwritten(struct usage *u)
{
	int64_t	n;

	pthread_mutex_lock(&u->mu);
	n = u->unwritten;
	pthread_mutex_unlock(&u->mu);
	return n;
}

int
usage_failed(struct usage *u)
{
	int	failed;

	pthread_mutex_lock(&u->mu);
	failed = u->failed;
	pthread_mutex_unlock(&u->mu);
	return failed;
}

int64_t
usage_spent(struct usage *u, int64_t account_id)
{
	int64_t	spent;

	pthread_mutex_lock(&u->mu);
	spent = spent_in(&u->map, account_id) + spent_in(&u->flying, account_id);
	pthread_mutex_unlock(&u->mu);
	return spent;
}

int
usage_note(struct usage *u, int64_t key_id, int64_t now)
{
	return usage_note_on(u, USAGE_KEY, key_id, USAGE_PATH_REST, now);
}

static enum tsk_status
write_all(struct store *st, void *arg)
{
	const struct use_map	*m = arg;
	enum tsk_status		 rc = TSK_OK;
	size_t			 i;

	for (i = 0; i < m->nslots && rc == TSK_OK; i++) {
		const struct use	*x = &m->slots[i];

		if (x->count == 0)
			continue;
		if (x->subject == USAGE_KEY)
			rc = store_key_usage(st, x->key_id, x->last, x->count, x->soap,
			    x->last_soap);
		else if (x->subject == USAGE_CREDIT)
			rc = store_credit_spend(st, x->key_id, x->count);
		else
			rc = store_user_usage(st, x->key_id, x->count - x->soap, x->soap,
			    x->last_soap);
	}
	return rc;
}

/*
 * Put a failed flush's uses back beside those noted meanwhile. The bigger map absorbs the
 * smaller one, so the common case (nothing noted during the write) costs no allocation.
 */
static void
merge_back(struct usage *u, struct use_map *taken)
{
	struct use_map	 big, small;
	size_t		 i;

	if (taken->n >= u->map.n) {
		big = *taken;
		small = u->map;
	} else {
		big = u->map;
		small = *taken;
	}
	for (i = 0; i < small.nslots; i++) {
		const struct use	*x = &small.slots[i];

		/* Credit that does not fit is lost to the store: stop counting it as unwritten. */
		if (x->count != 0 && map_add(u, &big, x) != 0 && x->subject == USAGE_CREDIT)
			u->unwritten -= x->count;
	}
	free(small.slots);
	u->map = big;
	memset(taken, 0, sizeof(*taken));
}

/* Credit spent in m, all accounts. m must not change meanwhile. */
static int64_t
credit_in(const struct use_map *m)
{
	int64_t	sum = 0;
	size_t	i;

	for (i = 0; i < m->nslots; i++) {
		if (m->slots[i].count != 0 && m->slots[i].subject == USAGE_CREDIT)
			sum += m->slots[i].count;
	}
	return sum;
}

enum tsk_status
usage_flush(struct usage *u, struct store *st)
{
	struct use_map	taken;
	enum tsk_status	rc;
	int64_t		credit;

	/*
	 * Swap the map out so noting goes on, into a fresh map, while the store writes. Until the
	 * write is done its credit still counts as spent ("flying"): no request may spend it twice.
	 */
	pthread_mutex_lock(&u->mu);
	u->warned = 0;
	if (u->map.n == 0) {
		pthread_mutex_unlock(&u->mu);
		return TSK_OK;	/* nothing tried: says nothing about the store */
	}
	taken = u->map;
	memset(&u->map, 0, sizeof(u->map));
	u->flying = taken;
	pthread_mutex_unlock(&u->mu);
	credit = credit_in(&taken);
	rc = store_transaction(st, write_all, &taken);
	pthread_mutex_lock(&u->mu);
	memset(&u->flying, 0, sizeof(u->flying));
	u->failed = rc != TSK_OK;
	if (rc == TSK_OK)
		u->unwritten -= credit;
	else
		merge_back(u, &taken);
	pthread_mutex_unlock(&u->mu);
	free(taken.slots);
	return rc;
}

int
usage_pending(struct usage *u)
{
	size_t	n;

	pthread_mutex_lock(&u->mu);
	n = u->map.n;
	pthread_mutex_unlock(&u->mu);
	return (int)n;
}
