/* SPDX-License-Identifier: MIT */
/* The password-check gate: a counting semaphore (mutex + condition) with a bounded queue. */
#include "kdfgate.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

struct kdfgate {
	pthread_mutex_t	mu;		/* guards free_slots and waiting */
	pthread_cond_t	freed;		/* a slot came free */
	int		slots;
	int		max_waiting;
	int		wait_ms;
	int		free_slots;
	int		waiting;
};

static int
online_cpus(void)
{
	long	n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 1024 ? 1024 : (int)n;
}

struct kdfgate *
kdfgate_new(int slots, int max_waiting, int wait_ms)
{
	struct kdfgate		*g;
	pthread_condattr_t	 ca;

	g = calloc(1, sizeof(*g));
	if (g == NULL) {
		log_warn("kdfgate_new");
		return NULL;
	}
	g->slots = slots > 0 ? slots : online_cpus();
	g->max_waiting = max_waiting >= 0 ? max_waiting : KDFGATE_QUEUE_PER_SLOT * g->slots;
	g->wait_ms = wait_ms > 0 ? wait_ms : KDFGATE_WAIT_MS;
	g->free_slots = g->slots;
	/* The wait is measured on the monotonic clock: setting the date must not stretch it. */
	if (pthread_condattr_init(&ca) != 0) {
		log_warnx("kdfgate_new: pthread_condattr_init failed");
		free(g);
		return NULL;
	}
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&g->freed, &ca) != 0) {
		log_warnx("kdfgate_new: cannot make the condition variable");
		pthread_condattr_destroy(&ca);
		free(g);
		return NULL;
	}
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&g->mu, NULL);
	return g;
}

void
kdfgate_free(struct kdfgate *g)
{
	if (g == NULL)
		return;
	pthread_cond_destroy(&g->freed);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

int
kdfgate_enter(struct kdfgate *g)
{
	struct timespec	deadline;
	int		rc = -1, err = 0;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += g->wait_ms / 1000;
	deadline.tv_nsec += (long)(g->wait_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&g->mu);
	if (g->free_slots == 0) {
		/* A long queue only turns a quick "retry" into a slow one: refuse past its end. */
		if (g->waiting >= g->max_waiting)
			goto out;
		g->waiting++;
		/*
		 * A wake-up may be spurious or lose the slot to another thread: wait on until the
		 * deadline (ETIMEDOUT) or any other error, never past it.
		 */
		while (g->free_slots == 0 && err == 0)
			err = pthread_cond_timedwait(&g->freed, &g->mu, &deadline);
		g->waiting--;
		if (g->free_slots == 0)
			goto out;
	}
	g->free_slots--;
	rc = 0;
out:
	pthread_mutex_unlock(&g->mu);
	return rc;
}

void
kdfgate_leave(struct kdfgate *g)
{
	pthread_mutex_lock(&g->mu);
	if (g->free_slots < g->slots)
		g->free_slots++;
	pthread_mutex_unlock(&g->mu);
	pthread_cond_signal(&g->freed);
}

int
kdfgate_slots(const struct kdfgate *g)
{
	return g->slots;
}

void
kdfgate_load(struct kdfgate *g, int *busy, int *waiting)
{
	pthread_mutex_lock(&g->mu);
	*busy = g->slots - g->free_slots;
	*waiting = g->waiting;
	pthread_mutex_unlock(&g->mu);
}
