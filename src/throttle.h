/* SPDX-License-Identifier: MIT */
/*
 * Brute-force brakes for the legacy Login, in this process's memory: failures are counted per
 * (user name, client address) pair, per client address and per user name in a window, and each
 * count past its limit locks that one thing for a while:
 *
 *   pair     max_failures        in the window -> the pair is locked for the window
 *   address  4 x max_failures    in the window -> the address is locked for the window
 *   user     10 x max_failures   in the window -> the user name is locked for one minute
 *
 * so guessing one user's password from one place stops quickly, spraying from one address
 * stops, and a user name under attack from many addresses is slowed without being locked out
 * for long: no one can lock another user out for more than a minute at a time from addresses
 * that are not themselves locked. Unknown user names count like known ones, so a lock says
 * nothing about who exists. Thread-safe; memory is a fixed table (old entries are reused).
 */
#ifndef THROTTLE_H
#define THROTTLE_H

#include <stdint.h>

struct throttle;

/* window: seconds (e.g. 900); max_failures >= 1. NULL on allocation failure (logged). */
struct throttle	*throttle_new(int slots, int max_failures, int64_t window);
void		 throttle_free(struct throttle *t);	/* NULL is fine */

/* 0 when a Login by user from addr may be tried at now, else the seconds until it may. */
int64_t		 throttle_check(struct throttle *t, const char *user, const char *addr, int64_t now);
/* Count a failed Login; a success forgets the pair's failures. */
void		 throttle_fail(struct throttle *t, const char *user, const char *addr, int64_t now);
void		 throttle_success(struct throttle *t, const char *user, const char *addr);

#endif
