/* SPDX-License-Identifier: MIT */
/*
 * The settings a running server serves with, and their replacement on SIGHUP: an immutable
 * snapshot (the config and the policies made from it) behind a reference count. A request
 * takes the current snapshot when it begins and gives it back when it ends, so it sees one
 * whole configuration from start to end; a reload publishes a new snapshot in one pointer swap
 * and the old one is freed when its last request ends. Open connections are not touched.
 */
#ifndef LIVE_H
#define LIVE_H

#include "config.h"
#include "login.h"
#include "validator.h"

struct ssl_ctx_st;

struct live_settings {
	struct config		 cfg;
	struct validator_policy	 policy;
	struct login_policy	 login;
	struct ssl_ctx_st	*tls_ctx;	/* new connections' TLS; NULL: the master's */
};

struct live;

/*
 * A live holder whose first snapshot is *first (copied). The policies' shared state (rate
 * limiter, usage batch, throttle) is taken from first->policy / first->login and carried into
 * every later snapshot; the caller owns it and frees it after live_free. The password-check
 * gate too, when first->login.gate is set; when it is NULL, live_new makes one of
 * first->cfg.login_concurrency slots (0: one per online CPU), owns it and frees it in
 * live_free. NULL on failure.
 */
struct live	*live_new(const struct live_settings *first);
void		 live_free(struct live *lv);	/* NULL is fine; no snapshot may be held */

/* The current snapshot, held until live_release. Thread-safe; never NULL. */
const struct live_settings *live_acquire(struct live *lv);
void		 live_release(struct live *lv, const struct live_settings *s);

/*
 * Publish cfg (copied) as the new snapshot, with policies made from it as live_new's were, and
 * tls_ctx (NULL: the master's), which the snapshot owns from now on, even on failure.
 * Requests that hold the old one finish with it. 0, or -1 (out of memory; nothing changed).
 */
int		 live_publish(struct live *lv, const struct config *cfg,
		    struct ssl_ctx_st *tls_ctx);

/* The policies a config asks for, with shared state from base. */
void		 live_policies(struct live_settings *s, const struct live_settings *base);

#endif
