/* SPDX-License-Identifier: MIT */
/*
 * The listener: one gSOAP context bound to the address, a thread per open connection (capped),
 * keep-alive with idle timeouts, each request bracketed (state reset before, store given back,
 * counted and logged after), refused calls' faults sent without closing, and a clean stop on
 * SIGTERM / SIGINT; SIGHUP reloads the settings (live.h) without closing a connection. The
 * hooks gSOAP calls on each request's bytes and headers are in server_http.c. Knows nothing
 * about keys: that is the validator's.
 */
#include "server_int.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "framing.h"
#include "live.h"
#include "log.h"
#include "metrics.h"
#include "ratelimit.h"
#include "throttle.h"
#include "tls.h"
#include "usage.h"
#include "reply.h"
#include "rest.h"
#include "soapH.h"
#include "soapsvc.h"

#define STORE_WAIT_MS	2000	/* a request waits this long for a database connection */
#define DRAIN_SECONDS	5	/* on stop, open connections get this long to finish */

static void
request_begin(struct conn *c)
{
	struct request	*r = &c->req;

	r->api_key = r->accept = r->host = r->forwarded = NULL;
	memcpy(r->client, r->peer, sizeof(r->client));
	r->sid_hint = 0;
	r->head = 0;
	r->xml_refusal = NULL;
	r->body = NULL;
	r->body_len = 0;
	r->bad_head = r->eof = r->nheaders = r->has_length = r->reject_status = 0;
	r->te = NULL;
	r->route = "-";
	r->status = 0;
	r->verdict_set = 0;
	r->verdict = TSK_VERDICT_ERROR;
	r->key_id = r->account_id = r->retry_after = 0;
	r->store = NULL;
	c->seen = 0;
	c->method = 0;
	c->timed = 0;
	/*
	 * gSOAP's buffer holds nothing of this request (the framing never gave it any before now),
	 * and the last response was written over it anyway.
	 */
	c->soap->bufidx = c->soap->buflen = 0;
	if (secret_request_id(r->id) != 0)
		snprintf(r->id, sizeof(r->id), "%s", "0000000000000000");
	clock_gettime(CLOCK_MONOTONIC, &r->start);
}

/* The request's one log line. Never the raw path: a client may put a key in it. */
static void
request_log(const struct conn *c, enum metrics_channel ch, double ms)
{
	const struct request	*r = &c->req;
	const struct log_field	 f[] = {
		log_str("id", r->id), log_str("client", r->client),
		log_str("channel", metrics_channel_name(ch)),
		log_str("method", rest_method(c->method)), log_str("route", r->route),
		log_int("status", r->status),
		log_str("verdict", r->verdict_set ? validator_code(r->verdict) : "-"),
		log_int("key_id", r->key_id), log_int("account_id", r->account_id),
		log_real("ms", ms),
	};

	log_fields("request", f, sizeof(f) / sizeof(f[0]));
}

/* Give back what the request borrowed, log it, and free its gSOAP memory. */
static void
request_end(struct conn *c)
{
	struct request	*r = &c->req;
	struct soap	*soap = c->soap;
	struct timespec	 now;
	double		 ms;
	enum metrics_channel ch;

	storepool_put(r->pool, r->store);
	r->store = NULL;
	if (c->seen) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (double)(now.tv_sec - r->start.tv_sec) * 1e3 +
		    (double)(now.tv_nsec - r->start.tv_nsec) / 1e6;
		ch = metrics_channel_of(r->route, c->method == SOAP_POST &&
		    soap->fform != rest_serve);
		metrics_request(c->srv->metrics, ch, r->verdict_set ? (int)r->verdict : -1,
		    r->status, ms / 1e3);
		request_log(c, ch, ms);
	}
	/* gSOAP's keep-alive loop keeps request memory until the connection ends: free it now. */
	soap_free_temp(soap);
	soap_dealloc(soap, NULL);
	if (c->snap != NULL) {
		r->cfg = c->srv->cfg;
		r->policy = &c->srv->policy;
		r->login = &c->srv->login;
		live_release(c->srv->live, c->snap);
		c->snap = NULL;
	}
}

static int
close_later(struct soap *soap)
{
	(void)soap;
	return SOAP_OK;
}

/*
 * Send the fault of a call that was refused (a bad key, a wrong SOAPAction). gSOAP closes the
 * connection after every fault, so a client whose key was revoked would reconnect for each
 * call; ASMX keeps the connection, and so do we: the framing has the whole request, so nothing
 * of it can be read as the next one. Other errors (a broken envelope, a connection that went)
 * still close. 1 when the connection stays open.
 */
static int
send_fault(struct conn *c)
{
	struct soap	*soap = c->soap;
	int		(*fclose)(struct soap *) = soap->fclose;
	int		 keep = soap->keep_alive;

	if (soap->error != SOAP_FAULT || keep == 0 || c->req.eof) {
		soap_send_fault(soap);
		return 0;
	}
	c->fault_kept = 1;		/* server_http_posthdr says keep-alive, not close */
	soap->fclose = close_later;	/* soap_send_fault ends in soap_closesock */
	soap_send_fault(soap);
	soap->fclose = fclose;
	c->fault_kept = 0;
	if (!soap_valid_socket(soap->socket) || c->req.status == 0)
		return 0;
	soap->keep_alive = keep;
	return 1;
}

/*
 * One turn of gSOAP's soap_serve loop, with our request bracket around it. 1 when the
 * connection stays open for the next request.
 */
int
server_conn_serve(struct conn *c)
{
	struct soap	*soap = c->soap;
	int		 open = 1;

	if (soap->keep_alive > 0 && soap->max_keep_alive > 0)
		soap->keep_alive--;
	if (atomic_load(&c->srv->stopping))
		soap->keep_alive = 0;	/* answer this one, then close */
	request_begin(c);
	if (soap_begin_serve(soap) != SOAP_OK) {
		/* SOAP_STOP: the REST shim answered. Anything else was answered or died. */
		int	served = soap->error >= SOAP_STOP;

		if (served && c->req.status == 0 && soap_valid_socket(soap->socket)) {
			/*
			 * gSOAP stopped without answering (it does for some non-XML bodies):
			 * answer, and close rather than read the rest of the body as the next
			 * request.
			 */
			soap->keep_alive = 0;
			reply_error(soap, &c->req, 400, "BAD_REQUEST",
			    "The request body is not a SOAP envelope");
			served = 0;
		}
		open = served;
	} else if (soap_serve_request(soap) != SOAP_OK && soap->error < SOAP_STOP) {
		open = send_fault(c);
	}
	request_end(c);
	/* What is left of this request goes; what came after it stays for the next one. */
	framing_next(c->fr);
	return open && soap->keep_alive != 0 && soap_valid_socket(soap->socket);
}

static void
conn_link(struct server *srv, struct conn *c)
{
	pthread_mutex_lock(&srv->mu);
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nconns++;
	metrics_conn(srv->metrics, 1);
	pthread_mutex_unlock(&srv->mu);
}

static void
conn_unlink(struct server *srv, struct conn *c)
{
	pthread_mutex_lock(&srv->mu);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->nconns--;
	metrics_conn(srv->metrics, -1);
	pthread_cond_broadcast(&srv->drained);
	pthread_mutex_unlock(&srv->mu);
}

/* TLS with the certificate of the settings now (a SIGHUP may have loaded a new one). */
static int
handshake(struct conn *c)
{
	const struct live_settings	*ls = NULL;
	int				 rc;

	if (c->srv->live != NULL)
		ls = live_acquire(c->srv->live);
	rc = tls_accept(c->soap, ls != NULL ? ls->tls_ctx : NULL);
	live_release(c->srv->live, ls);
	return rc;
}

static void *
conn_main(void *arg)
{
	struct conn	*c = arg;
	struct server	*srv = c->srv;

	/* One request of the loop's that may keep a worker waiting (server_loop.c). */
	if (c->pooled) {
		if (!server_conn_serve(c) || server_loop_resume(srv, c) != 0)
			server_conn_free(c);
		return NULL;
	}
	/* The handshake runs here, not in the accept loop: a slow client holds only itself. */
	if (!tls_enabled(srv->cfg) || handshake(c) == 0) {
		while (server_conn_serve(c))
			;	/* bounded by --max-keep-alive and the timeouts */
	}
	server_conn_free(c);
	return NULL;
}

/* Close the connection (if still open) and free it; it is off every list after this. */
void
server_conn_free(struct conn *c)
{
	struct server	*srv = c->srv;

	framing_free(c->fr);
	soap_destroy(c->soap);
	soap_end(c->soap);
	conn_unlink(srv, c);
	soap_free(c->soap);
	free(c);
}

/* Open connections from host. Called with srv->mu held. */
static int
from_client(struct server *srv, const char *host)
{
	struct conn	*c;
	int		 n = 0;

	for (c = srv->conns; c != NULL; c = c->next) {
		if (strcmp(c->req.peer, host) == 0)
			n++;
	}
	return n;
}

/*
 * One address holds too many connections (slow clients, say): tell it so in one write, without
 * reading its request, and close, so that every other client still gets a thread.
 */
static void
refuse_busy(struct soap *master)
{
	static const char	busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
				    "Content-Type: application/json\r\nContent-Length: 89\r\n"
				    "Retry-After: 1\r\nConnection: close\r\n\r\n"
				    "{\"message\":\"Too many connections from this address\","
				    "\"code\":\"UNAVAILABLE\",\"requestId\":\"-\"}";

	log_warnx("connection from %.63s refused: too many from that address", master->host);
	(void)send(master->socket, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	soap_force_closesock(master);
}

/* Take the accepted socket off the master into a connection of its own, on its own thread. */
static void
conn_start(struct server *srv)
{
	struct soap	*master = srv->master;
	struct conn	*c;
	int		 full, busy, max_conns;
	const struct live_settings *ls = srv->live != NULL ? live_acquire(srv->live) : NULL;
	const struct config *cfg = ls != NULL ? &ls->cfg : srv->cfg;

	pthread_mutex_lock(&srv->mu);
	max_conns = cfg->max_conns;
	full = srv->nconns >= max_conns;
	busy = !full && from_client(srv, master->host) >= cfg->max_conns_per_client;
	pthread_mutex_unlock(&srv->mu);
	live_release(srv->live, ls);
	if (busy) {
		refuse_busy(master);
		return;
	}
	c = full ? NULL : calloc(1, sizeof(*c));
	if (c != NULL) {
		c->soap = soap_copy(master);
		c->fr = framing_new(HEADER_ALLOWANCE, srv->cfg->max_body);
	}
	if (c == NULL || c->soap == NULL || c->fr == NULL) {
		if (c != NULL) {
			framing_free(c->fr);
			if (c->soap != NULL) {
				c->soap->socket = SOAP_INVALID_SOCKET;	/* the master's */
				soap_free(c->soap);
			}
		}
		if (!full)
			log_warn("conn_start");
		else
			log_warnx("connection from %s refused: %d connections open", master->host,
			    max_conns);
		free(c);
		soap_force_closesock(master);
		return;
	}
	master->socket = SOAP_INVALID_SOCKET;	/* the copy owns it now */
	c->srv = srv;
	c->req.cfg = srv->cfg;
	c->req.policy = &srv->policy;
	c->req.login = &srv->login;
	c->req.pool = srv->pool;
	c->req.metrics = srv->metrics;
	c->req.port = srv->port;
	snprintf(c->req.peer, sizeof(c->req.peer), "%.63s", c->soap->host);
	/* Our hooks go on the copy only: they need the connection the master does not have. */
	c->soap->user = &c->req;
	c->soap->fparse = server_http_parse;
	c->soap->fparsehdr = server_http_parsehdr;
	c->soap->fposthdr = server_http_posthdr;
	c->soap->frecv = server_http_recv;
	c->soap->fignore = soapsvc_ignore;
	c->soap->keep_alive = c->soap->max_keep_alive + 1;	/* server_conn_serve counts down */
	conn_link(srv, c);
	if (srv->loop != NULL && !tls_enabled(srv->cfg)) {
		if (server_loop_add(srv, c) != 0)
			server_conn_free(c);
		return;
	}
	if (server_conn_thread(c) != 0)
		server_conn_free(c);
}

int
server_conn_thread(struct conn *c)
{
	pthread_attr_t	attr;
	pthread_t	tid;
	int		rc;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 1024 * 1024);
	rc = pthread_create(&tid, &attr, conn_main, c);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		log_warnx("cannot start a connection thread");
	return rc != 0 ? -1 : 0;
}

static void
master_setup(struct server *srv, struct soap *soap)
{
	const struct config	*cfg = srv->cfg;

	soap_set_namespaces(soap, namespaces);
	soap->bind_flags = SO_REUSEADDR;
	soap->socket_flags = MSG_NOSIGNAL;
	soap->accept_timeout = -250000;	/* µs: look at the stop flag four times a second */
	soap->recv_timeout = cfg->recv_timeout;
	soap->send_timeout = cfg->send_timeout;
	soap->transfer_timeout = cfg->recv_timeout * 2;
	soap->max_keep_alive = cfg->max_keep_alive;
	/* gSOAP counts headers too; the body limit itself is checked per request (server_http_parse). */
	soap->recv_maxlength = cfg->max_body + HEADER_ALLOWANCE;
	soap->maxlevel = (unsigned int)cfg->max_xml_depth;
	soap->maxlength = (long)cfg->max_string;
	srv->fparse = soap->fparse;
	srv->fparsehdr = soap->fparsehdr;
	srv->fposthdr = soap->fposthdr;
	srv->frecv = soap->frecv;
	/* Every method but POST to the SOAP endpoint is the REST shim's (the WSDL GET too). */
	soap->fget = rest_serve;
	soap->fput = rest_serve;
	soap->fpatch = rest_serve;
	soap->fdel = rest_serve;
	soap->fhead = rest_serve;
	soap->fopt = rest_serve;
}

/* Wake every connection blocked in recv so that it ends; replies in flight still go out. */
static int
drain(struct server *srv)
{
	struct timespec	until;
	struct conn	*c;
	int		left;

	pthread_mutex_lock(&srv->mu);
	for (c = srv->conns; c != NULL; c = c->next) {
		if (soap_valid_socket(c->soap->socket))
			shutdown(c->soap->socket, SHUT_RD);
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += DRAIN_SECONDS;
	while (srv->nconns > 0) {
		if (pthread_cond_timedwait(&srv->drained, &srv->mu, &until) == ETIMEDOUT)
			break;
	}
	left = srv->nconns;
	pthread_mutex_unlock(&srv->mu);
	if (left > 0)
		log_warnx("stopping with %d connections still open", left);
	return left;
}

static void
flush_usage(struct server *srv)
{
	struct store	*st;

	if (usage_pending(srv->policy.usage) == 0)
		return;
	st = storepool_get(srv->pool, 5000);
	if (st == NULL)
		return;	/* kept for the next round; the unwritten bound caps spending meanwhile */
	(void)usage_flush(srv->policy.usage, st);
	storepool_put(srv->pool, st);
}

/*
 * Last-used times, use counts and metered calls' spent credit reach the store every
 * usage_flush_ms (the staleness bound), and once more when the server stops, after the
 * connections are drained. A failed flush is tried again the next interval; until one succeeds,
 * metered calls are refused (usage_debit).
 */
static void *
flusher_main(void *arg)
{
	struct server	*srv = arg;
	struct timespec	 tick = { 0, 50 * 1000000L };
	int		 waited = 0;

	while (!atomic_load(&srv->stopping)) {
		const struct live_settings *ls = srv->live != NULL ? live_acquire(srv->live) : NULL;
		int	every = ls != NULL ? ls->cfg.usage_flush_ms : srv->cfg->usage_flush_ms;

		live_release(srv->live, ls);
		nanosleep(&tick, NULL);
		waited += 50;
		if (waited >= every) {
			flush_usage(srv);
			waited = 0;
		}
	}
	/* Wait for the workers: uses noted while draining must be written too. */
	pthread_mutex_lock(&srv->mu);
	while (srv->nconns > 0)
		pthread_cond_wait(&srv->drained, &srv->mu);
	pthread_mutex_unlock(&srv->mu);
	flush_usage(srv);
	return NULL;
}

/* Plain HTTP carries keys in the clear: off loopback it needs TLS, or --allow-plain. */
static int
plain_refused(const struct config *cfg)
{
	struct in6_addr	a6;
	struct in_addr	a4;
	const char	*h = cfg->listen_host;

	if (cfg->allow_plain || strcmp(h, "localhost") == 0 ||
	    (inet_pton(AF_INET, h, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127) ||
	    (inet_pton(AF_INET6, h, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6)))
		return 0;
	log_warnx("refusing plain HTTP on %s: keys would cross the network in the clear; give "
	    "--tls-cert and --tls-key, or --allow-plain", h);
	return 1;
}

/* The port the listening socket got (the configured one, unless that was 0). */
static int
bound_port(SOAP_SOCKET s, int fallback)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);

	if (getsockname(s, (struct sockaddr *)&ss, &len) != 0)
		return fallback;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/*
 * With TLS on, a reload reads the certificate and key again (renewed in place, or new paths):
 * the new context serves new connections. If they do not load, the running ones stay.
 */
static struct ssl_ctx_st *
reload_tls(struct server *srv, struct config *next, const struct live_settings *running)
{
	struct ssl_ctx_st	*ctx;

	if (!tls_enabled(srv->cfg))
		return NULL;
	ctx = tls_ctx_new(next);
	if (ctx != NULL) {
		log_info("reload: tls: certificate and key loaded from %s and %s", next->tls_cert,
		    next->tls_key);
		return ctx;
	}
	log_warnx("reload: tls: keeping the running certificate");
	memcpy(next->tls_cert, running->cfg.tls_cert, sizeof(next->tls_cert));
	memcpy(next->tls_key, running->cfg.tls_key, sizeof(next->tls_key));
	return tls_ctx_ref(running->tls_ctx);
}

/*
 * SIGHUP: the caller's reload function builds the new settings (file, environment, flags);
 * what needs a restart is kept as it runs, the rest is published for the next request.
 */
static void
reload(struct server *srv)
{
	const struct live_settings	*ls;
	struct config			*next;
	struct ssl_ctx_st		*tls_ctx;
	int				 n;

	if (srv->reload == NULL || srv->live == NULL)
		return;
	next = malloc(sizeof(*next));
	if (next == NULL) {
		log_warn("reload");
		return;
	}
	if (srv->reload(next, srv->reload_arg) != 0) {
		log_warnx("reload: the configuration has errors; keeping the running settings");
		free(next);
		return;
	}
	ls = live_acquire(srv->live);
	n = config_reload_merge(next, &ls->cfg);
	tls_ctx = reload_tls(srv, next, ls);
	live_release(srv->live, ls);
	if (live_publish(srv->live, next, tls_ctx) == 0) {
		/* done is said at the old level: a reload to "warn" still shows it finished */
		log_info("reload: done; %d setting%s changed", n, n == 1 ? "" : "s");
		log_init((enum log_level)next->log_level);
	}
	free(next);
}

static void *
signal_main(void *arg)
{
	struct server	*srv = arg;
	sigset_t	 set;
	int		 sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
		log_info("signal %d: reloading", sig);
		reload(srv);
	}
	log_info("signal %d: stopping", sig);
	atomic_store(&srv->stopping, 1);
	return NULL;
}

/*
 * A serving process holds keys, session keys and passwords in memory while it checks them: a
 * core dump would write them to disk. None is written (soft and hard limit 0, so a crash
 * handler cannot raise it again).
 */
static void
no_core_dumps(void)
{
	struct rlimit	rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) != 0)
		log_warn("setrlimit RLIMIT_CORE");
}

/* The event loop's workers: as configured, or two per CPU and at least 4 (see server_loop.c). */
static int
workers_for(const struct config *cfg)
{
	long	n = sysconf(_SC_NPROCESSORS_ONLN);

	/*
	 * A worker blocks only where the store makes it wait (another process's write lock); what
	 * else may wait runs on threads of its own (server_loop.c). Measured on 2 cores, REST
	 * credit at 64 connections: 2 workers ~98k req/s, 4 ~108k, 8 ~95k (more threads, more
	 * switching). Four at least, so that a few stalled writes leave workers for the rest.
	 */
	if (cfg->workers > 0)
		return cfg->workers;
	n = n > 0 ? 2 * n : 4;
	return n < 4 ? 4 : n > 256 ? 256 : (int)n;
}

/* Time-outs of connections in the event loop, looked at four times a second. */
static void
sweep(struct server *srv, struct timespec *last)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_sec - last->tv_sec) * 1000 + (now.tv_nsec - last->tv_nsec) / 1000000 < 250)
		return;
	*last = now;
	server_loop_sweep(srv);
}

/*
 * Large blocks (a request body of megabytes, gSOAP's buffers for it) are mapped and unmapped
 * for each request instead of being kept by glibc: its threshold would otherwise rise to the
 * largest block freed (up to 32 MiB), and each worker thread's arena would keep such a block,
 * so that the memory a few big requests took stays taken.
 */
static void
malloc_returns_large_blocks(void)
{
	/* A sanitizer's allocator refuses it, and keeps its own accounts: nothing to warn of. */
	if (mallopt(M_MMAP_THRESHOLD, 256 * 1024) != 1)
		log_debug("mallopt M_MMAP_THRESHOLD: not set");
}

int
server_run(const struct config *cfg, struct storepool *pool, server_ready_fn ready,
    server_reload_fn reload_fn, void *arg)
{
	struct server	 srv;
	pthread_t	 sigthr;
	sigset_t	 set;
	struct timespec	 swept = { 0, 0 };
	int		 rc = -1, flushing = 0;

	no_core_dumps();
	malloc_returns_large_blocks();
	memset(&srv, 0, sizeof(srv));
	srv.cfg = cfg;
	srv.pool = pool;
	srv.policy.session_idle = cfg->session_idle;
	srv.policy.touch_slack = cfg->touch_slack;
	srv.policy.uniform_errors = cfg->uniform_errors;
	srv.policy.batch_credit = cfg->batch_credit;
	srv.policy.batch_credit_max_unwritten = cfg->batch_credit_max_unwritten;
	srv.login.idle = cfg->session_idle;
	srv.login.api_user_login = cfg->api_user_login;
	srv.login.password_max_age = cfg->password_max_age;
	if (cfg->login_max_failures > 0) {
		srv.login.throttle = throttle_new(65536, cfg->login_max_failures, 900);
		if (srv.login.throttle == NULL)
			goto out;
	}
	srv.policy.rl = ratelimit_new(cfg->rate_max_keys);
	srv.policy.usage = usage_new();
	srv.metrics = metrics_new();
	if (srv.policy.rl == NULL || srv.policy.usage == NULL || srv.metrics == NULL)
		goto out;
	{
		struct live_settings	first = { .cfg = *cfg, .policy = srv.policy,
					    .login = srv.login };

		srv.live = live_new(&first);
		if (srv.live == NULL)
			goto out;
	}
	srv.reload = reload_fn;
	srv.reload_arg = arg;
	pthread_mutex_init(&srv.mu, NULL);
	pthread_cond_init(&srv.drained, NULL);
	/* Signals go to one thread that sets the stop flag; workers never see them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* XML_STRICT: unknown elements in a Body are refused, not skipped (soapsvc_ignore). */
	srv.master = soap_new1(SOAP_IO_KEEPALIVE | SOAP_C_UTFSTRING | SOAP_XML_STRICT);
	if (srv.master == NULL) {
		log_warnx("cannot create the gSOAP context");
		goto out;
	}
	master_setup(&srv, srv.master);
	if (tls_enabled(cfg) ? tls_setup(srv.master, cfg) != 0 : plain_refused(cfg))
		goto out;
	/*
	 * The accept queue as long as the kernel allows (somaxconn, 4096 on Debian 12): with 128,
	 * a burst of new connections (a client pool starting, 1,000 at once in the benchmark)
	 * overflowed it, and the kernel dropped the SYNs it had no room for, so those clients
	 * waited a second for the retransmission before their first request.
	 */
	if (!soap_valid_socket(soap_bind(srv.master, cfg->listen_host, cfg->listen_port,
	    SOMAXCONN))) {
		log_warnx("cannot listen on %s:%d: %s", cfg->listen_host, cfg->listen_port,
		    *soap_faultstring(srv.master) ? *soap_faultstring(srv.master) : "error");
		goto out;
	}
	if (pthread_create(&sigthr, NULL, signal_main, &srv) != 0) {
		log_warnx("cannot start the signal thread");
		goto out;
	}
	pthread_detach(sigthr);
	if (pthread_create(&srv.flusher, NULL, flusher_main, &srv) != 0) {
		log_warnx("cannot start the usage flusher");
		goto out;
	}
	flushing = 1;
	if (!tls_enabled(cfg) && !cfg->thread_per_conn &&
	    server_loop_start(&srv, workers_for(cfg)) != 0)
		goto out;
	srv.port = bound_port(srv.master->master, cfg->listen_port);
	if (ready != NULL)
		ready(cfg, srv.port, arg);
	while (!atomic_load(&srv.stopping)) {
		if (soap_valid_socket(soap_accept(srv.master)))
			conn_start(&srv);
		else if (srv.master->errnum != 0 && srv.master->errnum != EINTR)
			log_debug("accept: error %d", srv.master->errnum);
		sweep(&srv, &swept);
	}
	rc = drain(&srv) == 0 ? 0 : 1;
	if (rc == 1)
		return rc;	/* connections still run: leave what they use alone */
out:
	server_loop_stop(&srv);
	if (flushing) {
		pthread_join(srv.flusher, NULL);	/* it flushes once more on its way out */
	}
	ratelimit_free(srv.policy.rl);
	throttle_free(srv.login.throttle);
	usage_free(srv.policy.usage);
	live_free(srv.live);
	metrics_free(srv.metrics);
	if (srv.master != NULL) {
		soap_destroy(srv.master);
		soap_end(srv.master);
		soap_free(srv.master);
	}
	return rc;
}
