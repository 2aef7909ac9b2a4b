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

#include "request.h"
#include "server.h"
#include "soapH.h"

#define HEADER_ALLOWANCE (64 * 1024)	/* request line and headers, beyond the body limit */

struct framing;
struct live;
struct live_settings;
struct metrics;

struct conn;

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

#endif
