/* SPDX-License-Identifier: MIT */
/*
 * A bounded pool of store connections shared by the server's workers: each request borrows one
 * and gives it back, so connections (and their prepared statements) outlive requests.
 * Thread-safe.
 */
#ifndef STOREPOOL_H
#define STOREPOOL_H

#include "store.h"

struct storepool;

/*
 * Open a pool of at most size connections to path. One is opened at once (applying
 * migrations, so a bad database fails here); the rest on demand. *out is owned by the caller.
 */
enum tsk_status	storepool_open(const char *path, int size, struct storepool **out);
void		storepool_close(struct storepool *pool);	/* all stores must be back */

/*
 * Borrow a store, waiting at most wait_ms for one to come back when all are lent.
 * NULL when none could be had (logged): callers fail closed.
 */
struct store	*storepool_get(struct storepool *pool, int wait_ms);
void		 storepool_put(struct storepool *pool, struct store *st);

/*
 * Since the pool opened: database errors (those of stores given back, and connections that
 * failed to open) and storepool_get calls that found no store in time. For GET /metrics.
 */
void		 storepool_counts(struct storepool *pool, uint64_t *errors, uint64_t *timeouts);

#endif
