/* SPDX-License-Identifier: MIT */
/*
 * What server.c (the listener, connections, stop and reload) and server_http.c (the hooks gSOAP
 * calls on each request's bytes and headers) share: the server and a connection. Private to
 * those two files.
 */
#ifndef SERVER_INT_H
#define SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "request.h"
#include "server.h"
#include "soapH.h"

#define HEADER_ALLOWANCE (64 * 1024)	/* request line and headers, beyond the body limit */

struct framing;
struct live;
struct live_settings;
struct metrics;

struct conn;
struct server_loop;

struct server {
	const struct config	*cfg;
	struct storepool	*pool;
	struct validator_policy	 policy;
	struct login_policy	 login;
	struct live		*live;		/* the settings now (SIGHUP); NULL: cfg, policy, login */
	server_reload_fn	 reload;
	void			*reload_arg;
	struct metrics		*metrics;	/* GET /metrics: counted in request_end */
	pthread_t		 flusher;	/* writes batched key usage to the store */
	struct soap		*master;
	struct server_loop	*loop;		/* plain connections' workers; NULL: a thread each */
	int			 port;		/* the port bound (cfg may say 0) */
	/* gSOAP's own hooks, which ours wrap; read-only once serving */
	int	(*fparse)(struct soap *);
	int	(*fparsehdr)(struct soap *, const char *, const char *);
	int	(*fposthdr)(struct soap *, const char *, const char *);
	size_t	(*frecv)(struct soap *, char *, size_t);
	atomic_int		 stopping;
	pthread_mutex_t		 mu;		/* guards conns and nconns */
	pthread_cond_t		 drained;
	struct conn		*conns;		/* open connections, to wake them at stop */
	int			 nconns;
};

struct conn {
	struct request	 req;		/* first: soap->user points here */
	struct server	*srv;
	struct soap	*soap;
	struct framing	*fr;		/* where each request ends in the byte stream */
	int		 seen;		/* a request line arrived: log this request */
	int		 fault_kept;	/* a fault is going out on a connection that stays open */
	int		 timed;		/* the request's first byte has arrived (req.start) */
	int		 method;	/* gSOAP's code for the request method */
	const struct live_settings *snap;	/* the settings this request holds */
	struct conn	*prev, *next;
	/* In the event loop (server_loop.c) only: */
	int		 pooled;	/* served by the loop's workers, not a thread of its own */
	int		 fd;		/* its socket, for the sweep */
	int		 in_loop;	/* in the epoll set */
	int64_t		 head_since;	/* ms: when a part of the next head arrived; 0: none */
	int		 first_seen;	/* first_byte holds when the loop first read this request */
	struct timespec	 first_byte;
	atomic_int	 armed;		/* waiting in the set, held by no worker */
	_Atomic int64_t	 deadline;	/* ms (CLOCK_MONOTONIC): the sweep closes it after this */
};

static inline struct conn *
conn_of(struct soap *soap)
{
	return (struct conn *)soap->user;
}

/* gSOAP's hooks on a connection's context (server_http.c); they wrap the server's f* ones. */
size_t	server_http_recv(struct soap *soap, char *buf, size_t len);
int	server_http_parse(struct soap *soap);
int	server_http_parsehdr(struct soap *soap, const char *key, const char *val);
int	server_http_posthdr(struct soap *soap, const char *key, const char *val);

/* server.c: serve one request of c (1: the connection stays open); close and free c. */
int	server_conn_serve(struct conn *c);
void	server_conn_free(struct conn *c);
/*
 * Serve c from a thread of its own (-1: no thread; c is still the caller's): until it closes,
 * or, for a connection of the loop, its next request, after which the loop has it again.
 */
int	server_conn_thread(struct conn *c);

/*
 * server_loop.c: start workers threads serving connections from an epoll set; hand it a new
 * plain connection, or one back (-1: not taken, the caller frees it); close connections past their time
 * (called by the accept loop, without srv->mu); end the workers (after the drain).
 */
int	server_loop_start(struct server *srv, int workers);
int	server_loop_add(struct server *srv, struct conn *c);
int	server_loop_resume(struct server *srv, struct conn *c);	/* after a thread's request */
void	server_loop_sweep(struct server *srv);
void	server_loop_stop(struct server *srv);

#endif
