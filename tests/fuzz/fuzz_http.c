/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the whole server request path in memory. The input is the bytes a client sends
 * on one connection (one request, or several kept alive); they go through the server's own
 * code: server.c is compiled into this file, and each input is a connection that conn_start
 * takes from the master context as if soap_accept had returned it. conn_start, conn_main (on
 * its own thread, waited for), conn_serve's keep-alive loop and every hook are the ones the
 * server runs, not copies. That covers the framing checks, REST routing, the admin API, JSON
 * bodies, the SOAP envelope parser and handlers, and the validator against a real sqlite store.
 *
 * Only the socket's I/O is replaced, on the master before master_setup (as the socket's own
 * functions are, which the server's hooks wrap): gSOAP's frecv reads the input, fsend keeps the
 * start of the response, and closing does nothing. gSOAP still sees a valid socket (one end of
 * a socketpair, never used), because it chooses by that between standalone HTTP and CGI output.
 * SEGMENT ("\0NEXT\0") in an input separates what the client sends each time it has read a
 * response (see fuzz_recv).
 *
 * Checked besides the sanitizers: whatever is sent begins with a status line; nothing is sent
 * once gSOAP has closed the connection; every request gives its store back.
 *
 * The store is made once, in a temp directory, with the accounts, keys and Login users below;
 * the seed corpus uses them. After an input that changed the database, it is restored from a
 * snapshot, so that every input starts from the same state (a deleted key stays deleted for
 * one input only). The Login throttle and the usage batcher are fresh per input as well; there
 * is no rate limiter.
 *
 * scrypt is the one thing made cheaper: EVP_PBE_scrypt is wrapped (-Wl,--wrap) to run with
 * N = 1024, r = 1, so that a Login costs well under a millisecond instead of tens. Hashes are
 * made and checked through the same wrapper, so Logins still succeed and fail as they should.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>

/* The server itself, statics included: see the comment at the top. */
#include "server.c"

#include "admin.h"
#include "log.h"
#include "storepool.h"

#define FUZZ_HAS_INIT
#include "fuzz.h"

/* Credentials the fixture holds, and the seed corpus presents. */
#define KEY_CREDIT	"fuzz-credit-key-0000000000000001"	/* credit:read */
#define KEY_ADMIN	"fuzz-admin-key-00000000000000001"	/* platform admin */
#define KEY_TENANT	"fuzz-tenant-key-0000000000000001"	/* admin of "other" only */
#define KEY_DISABLED	"fuzz-disabled-key-00000000000001"	/* deactivated */
#define KEY_TSK		"tsk_live_FuzzKeyFuzzKeyFuzzKey00OOzwi"	/* well-formed, allowlisted */
#define USER_NAME	"fuzz"
#define USER_PASSWORD	"fuzz-password"
#define API_USER	"fuzzapi"

#define OUT_MAX		(64 * 1024)	/* response bytes kept for the status-line check */
/* In an input, what separates what a client sends at once (see fuzz_recv). */
#define SEGMENT		"\0NEXT\0"

int	__real_EVP_PBE_scrypt(const char *, size_t, const unsigned char *, size_t, uint64_t,
	    uint64_t, uint64_t, uint64_t, unsigned char *, size_t);
int	__wrap_EVP_PBE_scrypt(const char *, size_t, const unsigned char *, size_t, uint64_t,
	    uint64_t, uint64_t, uint64_t, unsigned char *, size_t);

static struct fuzz {
	struct server	 srv;
	struct config	 cfg;
	char		 dir[64];
	char		 path[128];
	sqlite3		*ctl;		/* our own connection, to see and undo changes */
	sqlite3		*snapshot;	/* the fixture as made, in memory */
	sqlite3_int64	 version;	/* ctl's data_version after the last restore */
	int		 sock[2];	/* the "connection": never read or written, never closed */
	/* the input being served, and the response */
	const uint8_t	*in;
	size_t		 in_len, in_off;
	char		 out[OUT_MAX];
	size_t		 out_len;
	int		 show;		/* $FUZZ_HTTP_SHOW: print each response, for debugging */
} fz;

static void
die(const char *what)
{
	fprintf(stderr, "fuzz_http: set-up failed: %s\n", what);
	exit(1);
}

int
__wrap_EVP_PBE_scrypt(const char *pass, size_t passlen, const unsigned char *salt,
    size_t saltlen, uint64_t N, uint64_t r, uint64_t p, uint64_t maxmem, unsigned char *key,
    size_t keylen)
{
	(void)N;
	(void)r;
	(void)p;
	return __real_EVP_PBE_scrypt(pass, passlen, salt, saltlen, 1024, 1, 1, maxmem, key,
	    keylen);
}

/* ---- the socket: input in, response out --------------------------------------------------- */

/* Where the next SEGMENT is at or after off; fz.in_len when there is none. */
static size_t
segment_end(size_t off)
{
	size_t	n = sizeof(SEGMENT) - 1;

	for (; off + n <= fz.in_len; off++) {
		if (memcmp(fz.in + off, SEGMENT, n) == 0)
			return off;
	}
	return fz.in_len;
}

/*
 * One read of the socket: what is left of the current segment, at most len bytes. gSOAP drops
 * what it has buffered beyond a request when the next one begins, as a pipelining client would
 * see it; a segment is what a client sends after it has read the last response.
 */
static size_t
fuzz_recv(struct soap *soap, char *buf, size_t len)
{
	size_t	end, n;

	(void)soap;
	/* Empty segments send nothing: only the end of the input reads as the client closing. */
	while (fz.in_off + sizeof(SEGMENT) - 1 <= fz.in_len &&
	    memcmp(fz.in + fz.in_off, SEGMENT, sizeof(SEGMENT) - 1) == 0)
		fz.in_off += sizeof(SEGMENT) - 1;
	end = segment_end(fz.in_off);
	n = end - fz.in_off;
	if (n > len)
		n = len;
	memcpy(buf, fz.in + fz.in_off, n);
	fz.in_off += n;
	return n;	/* 0: the client closed */
}

/*
 * gSOAP sends through here. A send after gSOAP closed the connection would, in the server, go
 * to file descriptor 1 (gSOAP's fallback when soap->socket is invalid): never the client.
 */
static int
fuzz_send(struct soap *soap, const char *buf, size_t len)
{
	size_t	n = OUT_MAX - fz.out_len;

	if (!soap_valid_socket(soap->socket))
		fuzz_failed("a response sent after the connection was closed (it would go to "
		    "the server's stdout)", __FILE__, __LINE__);
	if (n > len)
		n = len;
	memcpy(fz.out + fz.out_len, buf, n);
	fz.out_len += n;
	return SOAP_OK;
}

/* gSOAP closes and shuts down through these: our socket stays open for the next input. */
static int
fuzz_closesocket(struct soap *soap, SOAP_SOCKET s)
{
	(void)soap;
	(void)s;
	return SOAP_OK;
}

static int
fuzz_shutdownsocket(struct soap *soap, SOAP_SOCKET s, int how)
{
	(void)soap;
	(void)s;
	(void)how;
	return SOAP_OK;
}

/* ---- the fixture -------------------------------------------------------------------------- */

static void
import_key(struct store *st, const struct admin_actor *who, const char *account,
    const char *key, const char *scopes, const char *ips, int platform, int64_t *id)
{
	struct admin_key_spec	spec;
	unsigned char		hash[SECRET_HASH_LEN];

	memset(&spec, 0, sizeof(spec));
	spec.account = account;
	spec.name = key;
	spec.scopes = scopes;
	spec.ip_allow = ips;
	spec.platform = platform;
	secret_hash(key, strlen(key), hash);
	if (admin_key_import(st, who, &spec, hash, id) != TSK_OK)
		die(key);
}

static void
fixture_make(struct store *st)
{
	struct admin_actor	who = { "cli", 0, "", "", 0, 0 };
	int64_t			id = 0;

	who.now = time(NULL);
	if (admin_account_create(st, &who, "fuzz", 1000000, 0, &id) != TSK_OK ||
	    admin_account_create(st, &who, "other", 10, 100, &id) != TSK_OK)
		die("accounts");
	import_key(st, &who, "fuzz", KEY_CREDIT, "credit:read", NULL, 0, &id);
	import_key(st, &who, "fuzz", KEY_ADMIN, "keys:admin credit:read", NULL, 1, &id);
	import_key(st, &who, "other", KEY_TENANT, "keys:admin credit:read", NULL, 0, &id);
	import_key(st, &who, "fuzz", KEY_DISABLED, "credit:read", NULL, 0, &id);
	if (admin_key_deactivate(st, &who, id) != TSK_OK)
		die("deactivate");
	import_key(st, &who, "fuzz", KEY_TSK, "credit:read",
	    "10.0.0.0/8, 2001:db8::/32, 127.0.0.1", 0, &id);
	if (admin_user_create(st, &who, "fuzz", USER_NAME, USER_PASSWORD,
	    STORE_USER_PERSON) != TSK_OK ||
	    admin_user_create(st, &who, "other", API_USER, USER_PASSWORD, STORE_USER_API) != TSK_OK)
		die("users");
}

static sqlite3_int64
data_version(void)
{
	sqlite3_stmt	*q;
	sqlite3_int64	 v = -1;

	if (sqlite3_prepare_v2(fz.ctl, "PRAGMA data_version", -1, &q, NULL) != SQLITE_OK)
		die(sqlite3_errmsg(fz.ctl));
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

/* Copy database from into to (the sqlite backup API). */
static void
copy_db(sqlite3 *to, sqlite3 *from)
{
	sqlite3_backup	*b = sqlite3_backup_init(to, "main", from, "main");

	if (b == NULL || sqlite3_backup_step(b, -1) != SQLITE_DONE)
		die(sqlite3_errmsg(to));
	if (sqlite3_backup_finish(b) != SQLITE_OK)
		die(sqlite3_errmsg(to));
}

/* Undo whatever the last input wrote. Another connection's commit moves data_version. */
static void
fixture_restore(void)
{
	if (data_version() == fz.version)
		return;
	copy_db(fz.ctl, fz.snapshot);
	fz.version = data_version();
}

static void
cleanup(void)
{
	char	p[256];

	if (fz.srv.master != NULL) {
		soap_destroy(fz.srv.master);
		soap_end(fz.srv.master);
		soap_free(fz.srv.master);
	}
	sqlite3_close(fz.snapshot);
	sqlite3_close(fz.ctl);
	storepool_close(fz.srv.pool);
	metrics_free(fz.srv.metrics);
	snprintf(p, sizeof(p), "%s-wal", fz.path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", fz.path);
	unlink(p);
	unlink(fz.path);
	rmdir(fz.dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*tmp = getenv("TMPDIR");
	struct store	*st;
	struct soap	*master;

	(void)argc;
	(void)argv;
	fz.show = getenv("FUZZ_HTTP_SHOW") != NULL;
	log_init(fz.show ? LOG_LEVEL_INFO : LOG_LEVEL_WARN);	/* a line per request, or not */
	config_defaults(&fz.cfg);
	fz.cfg.demo = 0;
	/* Reach the proxy and deprecation code too: X-Forwarded-For from loopback is believed. */
	snprintf(fz.cfg.trusted_proxies, sizeof(fz.cfg.trusted_proxies), "127.0.0.1, ::1");
	fz.cfg.login_deprecation = 1767225600;	/* 2026-01-01 */
	fz.cfg.login_sunset = 1893456000;	/* 2030-01-01 */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fz.sock) != 0 ||
	    fcntl(fz.sock[0], F_SETFL, O_NONBLOCK) != 0 || fcntl(fz.sock[1], F_SETFL, O_NONBLOCK) != 0)
		die("socketpair");
	snprintf(fz.dir, sizeof(fz.dir), "%s/tsk_fuzz_XXXXXX",
	    tmp != NULL && *tmp != '\0' && strlen(tmp) < 40 ? tmp : "/tmp");
	if (mkdtemp(fz.dir) == NULL)
		die("mkdtemp");
	snprintf(fz.path, sizeof(fz.path), "%s/tskey.db", fz.dir);
	if (storepool_open(fz.path, 1, &fz.srv.pool) != TSK_OK)
		die("storepool_open");
	atexit(cleanup);
	st = storepool_get(fz.srv.pool, 1000);
	if (st == NULL)
		die("storepool_get");
	fixture_make(st);
	storepool_put(fz.srv.pool, st);

	/* As server_run sets it up, less the rate limiter (the policy has none) and the listener. */
	fz.srv.cfg = &fz.cfg;
	fz.srv.policy.session_idle = fz.cfg.session_idle;
	fz.srv.policy.touch_slack = fz.cfg.touch_slack;
	fz.srv.policy.uniform_errors = fz.cfg.uniform_errors;
	fz.srv.login.idle = fz.cfg.session_idle;
	fz.srv.login.api_user_login = fz.cfg.api_user_login;
	fz.srv.login.password_max_age = fz.cfg.password_max_age;
	fz.srv.port = 8080;
	fz.srv.metrics = metrics_new();		/* counted as the server counts: GET /metrics too */
	if (fz.srv.metrics == NULL)
		die("metrics_new");
	pthread_mutex_init(&fz.srv.mu, NULL);
	pthread_cond_init(&fz.srv.drained, NULL);
	/* server_run's flags; keep them the same. */
	master = soap_new1(SOAP_IO_KEEPALIVE | SOAP_C_UTFSTRING | SOAP_XML_STRICT);
	if (master == NULL)
		die("soap_new1");
	master->frecv = fuzz_recv;
	master->fsend = fuzz_send;
	master->fclosesocket = fuzz_closesocket;
	master->fshutdownsocket = fuzz_shutdownsocket;
	master_setup(&fz.srv, master);
	fz.srv.master = master;

	if (sqlite3_open_v2(fz.path, &fz.ctl, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(fz.ctl, 5000) != SQLITE_OK ||
	    sqlite3_exec(fz.ctl, "PRAGMA synchronous=OFF", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_open(":memory:", &fz.snapshot) != SQLITE_OK)
		die("sqlite3_open");
	copy_db(fz.snapshot, fz.ctl);
	fz.version = data_version();
	return 0;
}

/* ---- one connection ----------------------------------------------------------------------- */

/* This process's threads, from /proc (Linux). */
static int
threads(void)
{
	DIR		*d = opendir("/proc/self/task");
	struct dirent	*e;
	int		 n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/*
 * conn_main's thread is detached, and it still frees the connection and runs its thread-local
 * destructors (OpenSSL's) after conn_unlink: wait until it is gone, so that the next input, or
 * the exit and its leak check, never overlaps it.
 */
static void
connection_wait(int before)
{
	struct timespec	tick = { 0, 20 * 1000 };
	int		i;

	pthread_mutex_lock(&fz.srv.mu);
	while (fz.srv.nconns > 0)
		pthread_cond_wait(&fz.srv.drained, &fz.srv.mu);
	pthread_mutex_unlock(&fz.srv.mu);
	for (i = 0; i < 250000 && threads() > before; i++)
		nanosleep(&tick, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct server	*srv = &fz.srv;
	struct store	*st;
	int		 before = threads();

	fz.in = data;
	fz.in_len = size;
	fz.in_off = 0;
	fz.out_len = 0;
	/* The server's has 65536 slots; a few dozen serve one connection's Logins. */
	srv->login.throttle = throttle_new(64, fz.cfg.login_max_failures, 900);
	srv->policy.usage = usage_new();
	if (srv->login.throttle == NULL || srv->policy.usage == NULL)
		die("out of memory");

	/* What soap_accept leaves on the master for conn_start: the socket and the peer. */
	srv->master->socket = fz.sock[0];
	snprintf(srv->master->host, sizeof(srv->master->host), "%s", "127.0.0.1");
	conn_start(srv);
	connection_wait(before);

	if (fz.show)
		fprintf(stderr, "---- %zu of %zu input bytes read; %zu bytes sent\n%.*s\n----\n",
		    fz.in_off, fz.in_len, fz.out_len,
		    (int)(fz.out_len < 3000 ? fz.out_len : 3000), fz.out);
	/* Whatever went out began with a status line. */
	FUZZ_CHECK(fz.out_len == 0 || strncmp(fz.out, "HTTP/1.", 7) == 0);
	/* Every request gave its store back: the pool's one is free. */
	st = storepool_get(srv->pool, 0);
	FUZZ_CHECK(st != NULL);
	storepool_put(srv->pool, st);
	throttle_free(srv->login.throttle);
	usage_free(srv->policy.usage);
	srv->login.throttle = NULL;
	srv->policy.usage = NULL;
	fixture_restore();
	return 0;
}
