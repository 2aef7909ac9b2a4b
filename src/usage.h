/* SPDX-License-Identifier: MIT */
/*
 * Batched key usage: the validator notes each use here in memory (no store write on the request
 * path), and a flusher writes last_used_at and use_count to the store in one transaction every
 * interval and at shutdown. Thread-safe (one mutex). Memory is bounded by the number of distinct
 * keys used between two flushes.
 */
#ifndef USAGE_H
#define USAGE_H

#include <stdint.h>

#include "store.h"

struct usage;

struct usage	*usage_new(void);	/* NULL on allocation failure (logged) */
void		 usage_free(struct usage *u);	/* NULL is fine; pending uses are dropped */

/* Note one use of key_id at now. Returns 0, or -1 when memory ran out (the use is lost, logged). */
int		 usage_note(struct usage *u, int64_t key_id, int64_t now);

/*
 * Write every pending use to st (store_key_usage for each key, inside one store_transaction)
 * and forget them. On a store error the pending uses are kept for the next flush. Returns the
 * store's status. Safe to call while other threads note uses.
 */
enum tsk_status	 usage_flush(struct usage *u, struct store *st);

/* How many keys have uses pending (for tests and metrics). */
int		 usage_pending(struct usage *u);

#endif
