/* SPDX-License-Identifier: MIT */
/*
 * Batched key usage: the validator notes each use here in memory (no store write on the request
 * path), and a flusher writes last_used_at and use_count to the store in one transaction every
 * interval and at shutdown. Thread-safe (one mutex). Memory grows with the number of distinct
 * keys used since the last successful flush, up to 1,000,000 keys; uses of further keys are
 * refused until a flush succeeds. Metered calls' credit may be granted here too (usage_debit),
 * fail-closed by its own rule: refused once a flush failed, bounded in total.
 */
#ifndef USAGE_H
#define USAGE_H

#include <stdint.h>

#include "store.h"

struct usage;

/*
 * Who was used, and by which path: what the migration report counts. USAGE_CREDIT is an
 * account's credit spent by metered calls, granted here and written at the next flush.
 */
enum usage_subject { USAGE_KEY = 0, USAGE_USER, USAGE_CREDIT };
enum usage_path {
	USAGE_PATH_REST = 0,		/* REST, with a key or a Login session */
	USAGE_PATH_SOAP_KEY,		/* SOAP with the key in SessionIDHeader */
	USAGE_PATH_SOAP_SESSION,	/* SOAP with a session from the legacy Login */
};

struct usage	*usage_new(void);	/* NULL on allocation failure (logged) */
void		 usage_free(struct usage *u);	/* NULL is fine; pending uses are dropped */

/*
 * Note one use of key_id at now (the latest now noted becomes last_used_at). Returns 0, or -1
 * when memory ran out or key_id would be the 1,000,001st key pending: the use is lost, and
 * logged once until the next flush.
 */
int		 usage_note(struct usage *u, int64_t key_id, int64_t now);

/*
 * Note one use of a key or (through one of its Login sessions) a user at now, by path. A key's
 * uses add to last_used_at and use_count; both count per path, and SOAP ones move the time of
 * the last legacy use. usage_note is this for a key on REST. Returns as usage_note.
 */
int		 usage_note_on(struct usage *u, enum usage_subject subject, int64_t id,
		    enum usage_path path, int64_t now);

/*
 * Metered calls without a store write. balance is the account's credit as the store holds it;
 * credit spent in memory and not yet written (pending, or being flushed) counts against it.
 * The rule, checked in this order:
 *   USAGE_DEBIT_FAILED	the last flush that had something to write failed (the store takes no
 *			writes): refuse the call, fail closed, until a flush succeeds again.
 *			Notes (usage_note_on) are not affected.
 *   USAGE_DEBIT_NO_CREDIT	balance less the spending does not cover cost; nothing taken.
 *   USAGE_DEBIT_STORE	the process's unwritten spending (all accounts) would pass
 *			max_unwritten, or the ledger is full or out of memory: nothing taken,
 *			the caller debits the store itself (which fails closed on its own).
 *   USAGE_DEBIT_OK	cost taken.
 * So the credit granted and never written when the store stops taking writes is at most what
 * is spent before the first flush that fails, and never more than max_unwritten.
 * *left gets the balance as this call leaves it. Atomic against other debits of this process;
 * another process debiting the same account sees these only once flushed.
 */
enum usage_debit {
	USAGE_DEBIT_OK = 0,
	USAGE_DEBIT_NO_CREDIT,
	USAGE_DEBIT_STORE,
	USAGE_DEBIT_FAILED,
};
enum usage_debit usage_debit(struct usage *u, int64_t account_id, int64_t cost,
		    int64_t balance, int64_t max_unwritten, int64_t *left);

/* Credit spent in memory and not yet in the store, all accounts (for tests and metrics). */
int64_t		 usage_unwritten(struct usage *u);

/* 1 when the last flush that had something to write failed: usage_debit refuses meanwhile. */
int		 usage_failed(struct usage *u);

/* Credit of account_id spent in memory and not yet in the store (pending or being flushed). */
int64_t		 usage_spent(struct usage *u, int64_t account_id);

/*
 * Write every pending use to st (store_key_usage for each key, store_credit_spend for each
 * account's spent credit, inside one store_transaction) and forget them. While the write runs,
 * its credit still counts as spent for usage_debit and usage_spent. On a store error the
 * pending uses are kept for the next flush, merged with those noted meanwhile, and usage_debit
 * refuses until a flush succeeds. Returns the store's status; TSK_OK without touching st (and
 * leaving the failed state as it was) when nothing is pending. Safe to call while other threads note uses: the pending map is swapped out under the
 * mutex and written outside it. st is used only by the calling thread.
 */
enum tsk_status	 usage_flush(struct usage *u, struct store *st);

/* How many keys have uses pending (for tests and metrics). */
int		 usage_pending(struct usage *u);

#endif
