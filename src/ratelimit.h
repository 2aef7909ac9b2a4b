/* SPDX-License-Identifier: MIT */
/*
 * Per-key request rate limits in this process's memory: fixed one-minute and one-day windows
 * (aligned to the Unix epoch, so UTC days). Thread-safe (one mutex). Memory grows with the
 * number of distinct keys that have a limit, and is bounded by max_keys: beyond it the oldest
 * idle entries are reused.
 */
#ifndef RATELIMIT_H
#define RATELIMIT_H

#include <stdint.h>

struct ratelimit;

/* A new limiter holding at most max_keys entries (>= 1). NULL on allocation failure (logged). */
struct ratelimit	*ratelimit_new(int max_keys);
void			 ratelimit_free(struct ratelimit *rl);	/* NULL is fine */

/*
 * Count one request by key_id at unix time now against per_minute and per_day (0 = no limit
 * on that window; both 0: always allowed, nothing stored). Returns 1 when allowed (and counted
 * in both windows), 0 when a window is full (counted in neither); then *retry_after gets the
 * seconds until the full window ends (>= 1).
 */
int	ratelimit_take(struct ratelimit *rl, int64_t key_id, int64_t per_minute, int64_t per_day,
	    int64_t now, int64_t *retry_after);

/* What key_id has used in the current windows at now (0 when unknown). Never counts. */
void	ratelimit_peek(struct ratelimit *rl, int64_t key_id, int64_t now, int64_t *minute_used,
	    int64_t *day_used);

#endif
