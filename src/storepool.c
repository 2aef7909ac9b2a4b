/* SPDX-License-Identifier: MIT */
/* A mutex-guarded stack of idle store connections, grown lazily up to a fixed size. */
#include "storepool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keycache.h"
#include "log.h"

struct storepool {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	char		*path;
	struct store	**idle;		/* stack of idle connections */
	int		 nidle;
	int		 nopen;		/* idle + lent */
	int		 size;
	uint64_t	 errors;	/* see storepool_counts */
	uint64_t	 timeouts;
	struct keycache	*cache;		/* shared by every store of the pool */
};

enum tsk_status
storepool_open(const char *path, int size, struct storepool **out)
{
	struct storepool	*pool;
	struct store		*first = NULL;
	enum tsk_status		 rc;

	if (size < 1)
		return TSK_ERR_INPUT;
	pool = calloc(1, sizeof(*pool));
	if (pool == NULL) {
		log_warn("storepool_open");
		return TSK_ERR_INTERNAL;
	}
	pool->path = strdup(path);
	pool->idle = calloc((size_t)size, sizeof(*pool->idle));
	if (pool->path == NULL || pool->idle == NULL) {
		log_warn("storepool_open");
		rc = TSK_ERR_INTERNAL;
		goto fail;
	}
	pool->cache = keycache_new();
	if (pool->cache == NULL) {
		rc = TSK_ERR_INTERNAL;
		goto fail;
	}
	rc = store_open(path, &first);
	if (rc != TSK_OK)
		goto fail;
	store_use_cache(first, pool->cache);
	/* Say so once, at start: every check that must write (credit, Login) will fail closed. */
	if (store_readonly(first))
		log_warnx("store: %s is read-only: key checks that only read still answer; those "
		    "that must write (credit, Login, usage, admin changes) fail closed", path);
	pthread_mutex_init(&pool->mu, NULL);
	pthread_cond_init(&pool->cv, NULL);
	pool->size = size;
	pool->idle[pool->nidle++] = first;
	pool->nopen = 1;
	*out = pool;
	return TSK_OK;
fail:
	keycache_free(pool->cache);
	free(pool->idle);
	free(pool->path);
	free(pool);
	return rc;
}

void
storepool_close(struct storepool *pool)
{
	int	i;

	if (pool == NULL)
		return;
	for (i = 0; i < pool->nidle; i++)
		store_close(pool->idle[i]);
	if (pool->nidle != pool->nopen)
		log_warnx("storepool: %d stores still lent at close", pool->nopen - pool->nidle);
	else
		keycache_free(pool->cache);	/* a lent store may still read it */
	pthread_cond_destroy(&pool->cv);
	pthread_mutex_destroy(&pool->mu);
	free(pool->idle);
	free(pool->path);
	free(pool);
}

static void
deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

struct store *
storepool_get(struct storepool *pool, int wait_ms)
{
	struct store	*st = NULL;
	struct timespec	 until;
	int		 grow = 0;

	deadline_in(&until, wait_ms);
	pthread_mutex_lock(&pool->mu);
	while (pool->nidle == 0 && pool->nopen >= pool->size) {
		if (pthread_cond_timedwait(&pool->cv, &pool->mu, &until) == ETIMEDOUT)
			break;
	}
	if (pool->nidle > 0) {
		st = pool->idle[--pool->nidle];
	} else if (pool->nopen < pool->size) {
		pool->nopen++;	/* reserve the slot; open outside the lock */
		grow = 1;
	} else {
		pool->timeouts++;
	}
	pthread_mutex_unlock(&pool->mu);
	if (!grow) {
		if (st == NULL)
			log_warnx("storepool: no store free after %d ms", wait_ms);
		return st;
	}
	if (store_open(pool->path, &st) != TSK_OK) {
		pthread_mutex_lock(&pool->mu);
		pool->nopen--;
		pool->errors++;
		pthread_cond_signal(&pool->cv);
		pthread_mutex_unlock(&pool->mu);
		return NULL;
	}
	store_use_cache(st, pool->cache);
	return st;
}

void
storepool_put(struct storepool *pool, struct store *st)
{
	if (st == NULL)
		return;
	pthread_mutex_lock(&pool->mu);
	/* Under the lock taken anyway: counting a store's errors costs the request nothing. */
	pool->errors += store_errors_take(st);
	pool->idle[pool->nidle++] = st;
	pthread_cond_signal(&pool->cv);
	pthread_mutex_unlock(&pool->mu);
}

void
storepool_counts(struct storepool *pool, uint64_t *errors, uint64_t *timeouts)
{
	pthread_mutex_lock(&pool->mu);
	*errors = pool->errors;
	*timeouts = pool->timeouts;
	pthread_mutex_unlock(&pool->mu);
}
