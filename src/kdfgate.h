/* SPDX-License-Identifier: MIT */
/*
 * A bound on password checks (scrypt, tens of ms of CPU each) running at once: a counting
 * semaphore with a bounded queue and a bounded wait. With more checks at once than CPUs, every
 * one of them gets slower and a burst of Logins ends with all of them timing out; with the gate,
 * as many run as there are slots, a few wait for one, and the rest are told at once to retry.
 * Knows nothing of users or passwords. Thread-safe.
 */
#ifndef KDFGATE_H
#define KDFGATE_H

/*
 * The defaults: wait at most a second for a slot, and let 64 wait per slot. The wait is what
 * normally refuses. The queue is long because a waiter is parked and costs no CPU, while a
 * client refused at once tends to retry at once, and a crowd of those takes the CPU the checks
 * need (make bench: with 16 a slot, soap-login at 64 connections was nearly all refusals).
 */
#define KDFGATE_WAIT_MS		1000
#define KDFGATE_QUEUE_PER_SLOT	64

struct kdfgate;

/*
 * A gate of slots checks at once (<= 0: one per online CPU, at least 1), letting at most
 * max_waiting more wait (< 0: KDFGATE_QUEUE_PER_SLOT x slots; 0: none wait) for at most
 * wait_ms each (<= 0: KDFGATE_WAIT_MS). NULL on failure (logged). The caller owns it.
 */
struct kdfgate	*kdfgate_new(int slots, int max_waiting, int wait_ms);
void		 kdfgate_free(struct kdfgate *g);	/* NULL is fine; no slot may be held */

/*
 * Take a slot: 0 once one is held (give it back with kdfgate_leave), or -1 without one when
 * max_waiting others already wait or none came free within wait_ms. Never waits longer.
 */
int		 kdfgate_enter(struct kdfgate *g);
void		 kdfgate_leave(struct kdfgate *g);

/* The gate's size, and how many hold a slot and wait for one now (for tests and metrics). */
int		 kdfgate_slots(const struct kdfgate *g);
void		 kdfgate_load(struct kdfgate *g, int *busy, int *waiting);

#endif
