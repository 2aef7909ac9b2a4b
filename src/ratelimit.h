/* SPDX-License-Identifier: MIT */
/*
 * Per-key request rate limits in this process's memory: fixed one-minute and one-day windows
 * (aligned to the Unix epoch, so UTC days). Thread-safe (one mutex). The table of max_keys
 * entries is allocated once by ratelimit_new; taking never allocates. Only keys with a limit
 * get an entry. A new key whose neighbourhood of the table (16 slots) is full reuses the entry
 * there touched least recently, which starts that key's count afresh.
 */
#ifndef RATELIMIT_H
#define RATELIMIT_H

#include <stdint.h>

struct ratelimit;

/* A limiter holding at most max_keys entries. NULL when max_keys < 1 or on failure (logged). */
struct ratelimit	*ratelimit_new(int max_keys);
void			 ratelimit_free(struct ratelimit *rl);	/* NULL is fine */

/*
 * Count one request by key_id at unix time now against per_minute and per_day (0 or less = no
 * limit on that window; both: always allowed, nothing stored). Returns 1 when allowed (and
 * counted in both windows), 0 when a window is full (counted in neither); then *retry_after
 * (unless retry_after is NULL) gets the seconds until the full window ends (>= 1), the later
 * end when both are full. *retry_after is left alone when allowed. A now earlier than a
 * key's current window (a clock stepped back) is counted in that window, not in a fresh one.
 */
int	ratelimit_take(struct ratelimit *rl, int64_t key_id, int64_t per_minute, int64_t per_day,
	    int64_t now, int64_t *retry_after);

/*
 * What key_id has used in the windows holding now (0 when unknown or when the window has ended).
 * Never counts. Either out-parameter may be NULL.
 */
void	ratelimit_peek(struct ratelimit *rl, int64_t key_id, int64_t now, int64_t *minute_used,
	    int64_t *day_used);

#endif
