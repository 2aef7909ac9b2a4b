/* SPDX-License-Identifier: MIT */
/* The live settings: refcounted snapshots, swapped under a mutex held for a few instructions. */
#include "live.h"

#include <pthread.h>
#include <stdlib.h>

#include "kdfgate.h"
#include "log.h"
#include "tls.h"

struct snap {
	struct live_settings	s;	/* first: live_release finds the snap from it */
	int			refs;	/* requests holding it, plus one while current */
};

static void
snap_free(struct snap *sn)
{
	if (sn != NULL)
		tls_ctx_free(sn->s.tls_ctx);
	free(sn);
}

struct live {
	pthread_mutex_t	 mu;		/* guards cur and every refs */
	struct snap	*cur;
	struct kdfgate	*gate;		/* made here (first brought none); freed with the live */
};

void
live_policies(struct live_settings *s, const struct live_settings *base)
{
	const struct config	*cfg = &s->cfg;

	s->policy = base->policy;	/* the rate limiter and usage batch are shared */
	s->policy.session_idle = cfg->session_idle;
	s->policy.touch_slack = cfg->touch_slack;
	s->policy.uniform_errors = cfg->uniform_errors;
	s->login = base->login;		/* so are the throttle and the password-check gate */
	s->login.idle = cfg->session_idle;
	s->login.api_user_login = cfg->api_user_login;
	s->login.password_max_age = cfg->password_max_age;
}

struct live *
live_new(const struct live_settings *first)
{
	struct live	*lv;

	lv = calloc(1, sizeof(*lv));
	if (lv != NULL)
		lv->cur = calloc(1, sizeof(*lv->cur));
	if (lv == NULL || lv->cur == NULL) {
		log_warn("live_new");
		free(lv);
		return NULL;
	}
	/*
	 * The gate bounds the whole process's password checks, so there is one, shared by every
	 * snapshot like the throttle. Its size is read at start only: a reload keeps it.
	 */
	if (first->login.gate == NULL) {
		lv->gate = kdfgate_new(first->cfg.login_concurrency, -1, KDFGATE_WAIT_MS);
		if (lv->gate == NULL) {
			free(lv->cur);
			free(lv);
			return NULL;
		}
	}
	lv->cur->s = *first;
	lv->cur->s.tls_ctx = NULL;	/* the first serves with the master's */
	live_policies(&lv->cur->s, first);
	if (lv->gate != NULL)
		lv->cur->s.login.gate = lv->gate;
	lv->cur->refs = 1;
	pthread_mutex_init(&lv->mu, NULL);
	return lv;
}

void
live_free(struct live *lv)
{
	if (lv == NULL)
		return;
	snap_free(lv->cur);
	kdfgate_free(lv->gate);
	pthread_mutex_destroy(&lv->mu);
	free(lv);
}

const struct live_settings *
live_acquire(struct live *lv)
{
	struct snap	*sn;

	pthread_mutex_lock(&lv->mu);
	sn = lv->cur;
	sn->refs++;
	pthread_mutex_unlock(&lv->mu);
	return &sn->s;
}

void
live_release(struct live *lv, const struct live_settings *s)
{
	struct snap	*sn = (struct snap *)(void *)s, *dead = NULL;

	if (s == NULL)
		return;
	pthread_mutex_lock(&lv->mu);
	if (--sn->refs == 0)
		dead = sn;
	pthread_mutex_unlock(&lv->mu);
	snap_free(dead);
}

int
live_publish(struct live *lv, const struct config *cfg, struct ssl_ctx_st *tls_ctx)
{
	struct snap	*sn, *old, *dead = NULL;

	sn = calloc(1, sizeof(*sn));
	if (sn == NULL) {
		log_warn("live_publish");
		tls_ctx_free(tls_ctx);
		return -1;
	}
	sn->s.cfg = *cfg;
	sn->s.tls_ctx = tls_ctx;
	sn->refs = 1;
	pthread_mutex_lock(&lv->mu);
	old = lv->cur;
	live_policies(&sn->s, &old->s);
	lv->cur = sn;
	if (--old->refs == 0)
		dead = old;
	pthread_mutex_unlock(&lv->mu);
	snap_free(dead);
	return 0;
}
