/* SPDX-License-Identifier: MIT */
/*
 * The event loop for plain HTTP connections: every open connection waits in one epoll set,
 * and a fixed pool of worker threads takes whichever connection has a whole request head
 * (framing_prefetch) and serves it (server_conn_serve). A thread per connection costs a wake-up
 * and a context switch for every request; here a worker that finishes one request takes the
 * next ready connection without sleeping, and an idle connection holds no thread. TLS
 * connections keep a thread each (server.c): their handshake and buffered records would need
 * a loop of their own. A request that may keep its server waiting is served on a thread of its
 * own, and its connection then comes back to the loop: a body whose end is known only by
 * reading it (chunked), a client that waits for 100 Continue, a Login (scrypt, behind the
 * password-check gate). A Content-Length body is waited for here, in the set.
 *
 * Each connection is in the set with EPOLLONESHOT: at most one worker holds it at a time, and
 * the worker arms it again when it wants the next request. Time limits: an idle connection
 * (nothing of a next request) is closed after --timeout, a request head that stalls for
 * --timeout or is not whole within twice that is closed too, by server_loop_sweep, which the
 * accept loop calls a few times a second. The sweep only shuts a connection's socket down;
 * the worker that then takes it closes and frees it, so a connection is freed by its holder.
 */
#include "server_int.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "framing.h"
#include "log.h"

#define TURNS_MAX	32	/* pipelined requests served in one turn before others get theirs */

struct server_loop {
	int		 ep;		/* the epoll set */
	int		 stop;		/* an eventfd: readable once the workers are to end */
	int		 nworkers;
	pthread_t	*workers;
};

static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What the socket has now, without waiting (framing_read_now_fn). */
static long
read_now(void *arg, char *buf, size_t len)
{
	struct conn	*c = arg;
	ssize_t		 n;

	do
		n = recv(c->fd, buf, len, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : 0;
	return (long)n;
}

/*
 * gSOAP's send for a connection of the loop: straight to the socket, waiting (up to
 * --timeout) only when it is full. gSOAP's own waits in select() before every send.
 */
static int
send_now(struct soap *soap, const char *s, size_t n)
{
	struct conn	*c = conn_of(soap);
	struct pollfd	 pfd = { .fd = c->fd, .events = POLLOUT };
	int64_t		 deadline = now_ms() + (int64_t)c->srv->cfg->send_timeout * 1000, left;
	ssize_t		 k;

	while (n > 0) {
		k = send(c->fd, s, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k > 0) {
			s += k;
			n -= (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		left = deadline - now_ms();
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && left > 0 &&
		    poll(&pfd, 1, (int)left) >= 0)
			continue;	/* writable, timed out (then left <= 0), or EINTR */
		soap->errnum = k < 0 ? errno : 0;
		return SOAP_EOF;
	}
	return SOAP_OK;
}

/*
 * Put c back in the set for its next request (or, with more already buffered, right after
 * the connections that are waiting), with the time by which it must have one.
 */
static int
arm(struct server_loop *lp, struct conn *c, int buffered)
{
	struct epoll_event	ev;
	int64_t			now = now_ms(), limit = (int64_t)c->srv->cfg->recv_timeout * 1000;
	int64_t			deadline = now + limit;
	int			op;

	if (framing_held(c->fr) == 0) {
		c->head_since = 0;
	} else {
		if (c->head_since == 0)
			c->head_since = now;
		if (c->head_since + 2 * limit < deadline)
			deadline = c->head_since + 2 * limit;
	}
	memset(&ev, 0, sizeof(ev));
	/* EPOLLOUT is ready at once: a connection with a request buffered comes back in turn. */
	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT | (buffered ? EPOLLOUT : 0);
	ev.data.ptr = c;
	/* Everything a worker reads is written first: one may take c before epoll_ctl returns. */
	op = c->in_loop ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	c->in_loop = 1;
	atomic_store(&c->deadline, deadline);
	atomic_store(&c->armed, 1);
	if (epoll_ctl(lp->ep, op, c->fd, &ev) != 0) {
		/* not in the set (ADD) or no longer armed (MOD): nobody else can hold c */
		atomic_store(&c->armed, 0);
		log_warn("epoll_ctl");
		return -1;
	}
	return 0;
}

/* A worker holds c: serve what it has whole, then give it back to the set or close it. */
static void
turn(struct server_loop *lp, struct conn *c)
{
	enum framing_ready	ready;
	int			n;

	atomic_store(&c->armed, 0);
	for (n = 0; n < TURNS_MAX; n++) {
		ready = framing_prefetch(c->fr, read_now, c);
		/* A request's logged time starts when its first bytes are read (server_http.c). */
		if (!c->first_seen && framing_held(c->fr) > 0) {
			clock_gettime(CLOCK_MONOTONIC, &c->first_byte);
			c->first_seen = 1;
		}
		switch (ready) {
		case FRAMING_WAIT:
			if (arm(lp, c, 0) != 0)
				server_conn_free(c);
			return;
		case FRAMING_STREAM:
			/* Its body may take its time: that wait must not hold a worker. */
			if (server_conn_thread(c) == 0)
				return;
			break;		/* no thread to be had: serve it here */
		case FRAMING_READY:
			/*
			 * A Login waits for a password-check slot (kdfgate.h) and then runs
			 * scrypt: tens of ms, up to a second. Workers are few; a burst of
			 * Logins must not stop every key check behind it. One look finds both
			 * the SOAP <Login> and REST's /rest/login ("ogin"); a request that
			 * only quotes it costs a thread, nothing else.
			 */
			if (framing_says(c->fr, "ogin") && server_conn_thread(c) == 0)
				return;
			break;
		}
		if (!server_conn_serve(c)) {
			server_conn_free(c);
			return;
		}
		c->head_since = 0;
		c->first_seen = 0;
	}
	if (arm(lp, c, 1) != 0)
		server_conn_free(c);
}

static void *
worker_main(void *arg)
{
	struct server_loop	*lp = arg;
	struct epoll_event	 ev;
	int			 n;

	log_batch_begin();
	for (;;) {
		/*
		 * One at a time: a worker that took several would hold the others' turn. Before
		 * it waits for work, the request lines it held back go out (log.h).
		 */
		n = epoll_wait(lp->ep, &ev, 1, 0);
		if (n == 0) {
			log_flush();
			n = epoll_wait(lp->ep, &ev, 1, -1);
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_warn("epoll_wait");
			break;
		}
		if (n == 0)
			continue;
		if (ev.data.ptr == NULL)
			break;		/* the stop eventfd, level-triggered: every worker sees it */
		turn(lp, ev.data.ptr);
	}
	log_batch_end();
	return NULL;
}

int
server_loop_start(struct server *srv, int workers)
{
	struct server_loop	*lp;
	struct epoll_event	 ev;
	pthread_attr_t		 attr;
	int			 i;

	lp = calloc(1, sizeof(*lp));
	if (lp == NULL)
		return -1;
	lp->ep = epoll_create1(EPOLL_CLOEXEC);
	lp->stop = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	lp->workers = calloc((size_t)workers, sizeof(*lp->workers));
	if (lp->ep < 0 || lp->stop < 0 || lp->workers == NULL)
		goto fail;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(lp->ep, EPOLL_CTL_ADD, lp->stop, &ev) != 0)
		goto fail;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 1024 * 1024);
	for (i = 0; i < workers; i++) {
		if (pthread_create(&lp->workers[i], &attr, worker_main, lp) != 0)
			break;
		lp->nworkers++;
	}
	pthread_attr_destroy(&attr);
	srv->loop = lp;
	if (lp->nworkers < workers) {
		log_warnx("cannot start %d worker threads (%d started)", workers, lp->nworkers);
		server_loop_stop(srv);
		return -1;
	}
	return 0;
fail:
	log_warn("event loop");
	if (lp->ep >= 0)
		close(lp->ep);
	if (lp->stop >= 0)
		close(lp->stop);
	free(lp->workers);
	free(lp);
	return -1;
}

int
server_loop_resume(struct server *srv, struct conn *c)
{
	c->head_since = 0;
	c->first_seen = 0;
	return arm(srv->loop, c, framing_held(c->fr) > 0);
}

int
server_loop_add(struct server *srv, struct conn *c)
{
	c->pooled = 1;
	c->fd = c->soap->socket;
	c->soap->fsend = send_now;
	return arm(srv->loop, c, 0);
}

void
server_loop_sweep(struct server *srv)
{
	struct conn	*c;
	int64_t		 now = now_ms();

	if (srv->loop == NULL)
		return;
	/*
	 * Under the list lock a connection cannot be freed (server_conn_free unlinks it first),
	 * and accepts wait for this thread: its descriptor is still its own.
	 */
	pthread_mutex_lock(&srv->mu);
	for (c = srv->conns; c != NULL; c = c->next) {
		if (c->pooled && atomic_load(&c->armed) && now >= atomic_load(&c->deadline))
			(void)shutdown(c->fd, SHUT_RD);	/* its worker sees the end and closes */
	}
	pthread_mutex_unlock(&srv->mu);
}

void
server_loop_stop(struct server *srv)
{
	struct server_loop	*lp = srv->loop;
	uint64_t		 one = 1;
	int			 i;

	if (lp == NULL)
		return;
	if (write(lp->stop, &one, sizeof(one)) != (ssize_t)sizeof(one))
		log_warn("server_loop_stop");
	for (i = 0; i < lp->nworkers; i++)
		pthread_join(lp->workers[i], NULL);
	close(lp->ep);
	close(lp->stop);
	free(lp->workers);
	free(lp);
	srv->loop = NULL;
}
