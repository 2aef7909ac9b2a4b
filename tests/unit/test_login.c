/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/login.c: Login (password check, session key issue, purge of idle sessions)
 * and Logout, against a real store in a fresh mkdtemp directory per test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "admin.h"
#include "kdfgate.h"
#include "login.h"
#include "password.h"
#include "secret.h"
#include "store.h"
#include "throttle.h"
#include "validator.h"

#define T0	INT64_C(1795564800)	/* 2026-11-25T00:00:00Z */
#define IDLE	INT64_C(14400)
#define PW	"correct horse battery staple"

/* The CLI: acts on every account, at T0, without a limit on active keys. */
static const struct admin_actor cli = { "cli", 0, "", "", T0, 0 };
/* Sessions idle out after IDLE; passwords do not age (Login policy: test_policy.c). */
static const struct login_policy lpol = { .idle = IDLE, .api_user_login = 0, .password_max_age = 0 };

struct fx {
	struct fixture	 db;		/* first member: see fixture.h */
	int64_t		 acme;		/* credit 10 */
	int64_t		 alice;		/* user of acme, password PW */
};
_Static_assert(offsetof(struct fx, db) == 0, "struct fixture must come first");

static int
setup(void **state)
{
	struct fx		*f;
	struct store_user	 u;

	if (fixture_setup(state, sizeof(*f), "login") != 0)
		return -1;
	f = *state;
	if (admin_account_create(f->db.st, &cli, "acme", 10, 0, &f->acme) != TSK_OK ||
	    admin_user_create(f->db.st, &cli, "acme", "alice", PW, STORE_USER_PERSON) != TSK_OK ||
	    store_user_by_name(f->db.st, "alice", &u) != TSK_OK) {
		fixture_teardown(state);	/* cmocka skips teardown when setup fails */
		return -1;
	}
	f->alice = u.id;
	return 0;
}

/* How many sessions the store holds. Destructive: it purges them all to count them. */
static int64_t
drain_sessions(struct store *st)
{
	int64_t	n = -1;

	assert_int_equal(store_session_purge(st, INT64_MAX, &n), TSK_OK);
	return n;
}

static int
is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void
assert_guid(const char *s)
{
	size_t	i;

	assert_int_equal(strlen(s), SECRET_SESSION_LEN);
	for (i = 0; i < SECRET_SESSION_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(s[i], '-');
		else
			assert_true(is_lower_hex(s[i]));
	}
	assert_int_equal(s[14], '4');			/* version 4 */
	assert_non_null(strchr("89ab", s[19]));		/* RFC 9562 variant */
}

static struct store_session
session_of(struct store *st, const char *key)
{
	struct store_session	s;
	unsigned char		h[SECRET_HASH_LEN];

	secret_hash(key, strlen(key), h);
	assert_int_equal(store_session_by_hash(st, h, &s), TSK_OK);
	return s;
}

static int
session_exists(struct store *st, const char *key)
{
	struct store_session	s;
	unsigned char		h[SECRET_HASH_LEN];
	enum tsk_status		rc;

	secret_hash(key, strlen(key), h);
	rc = store_session_by_hash(st, h, &s);
	assert_true(rc == TSK_OK || rc == TSK_NOT_FOUND);
	return rc == TSK_OK;
}

static void
test_login_ok(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;
	char			 key[SECRET_SESSION_LEN + 1], key2[SECRET_SESSION_LEN + 1];

	memset(&p, 0xa5, sizeof(p));
	assert_int_equal(login_start(f->db.st, &lpol, "alice", PW, "127.0.0.1", T0, key, &p), LOGIN_OK);
	assert_guid(key);
	assert_int_equal(p.kind, TSK_PRINCIPAL_SESSION);
	assert_int_equal(p.account_id, f->acme);
	assert_int_equal(p.user_id, f->alice);
	assert_string_equal(p.user, "alice");
	assert_int_equal(p.key_id, 0);
	assert_int_equal(p.created_at, T0);
	assert_int_equal(p.last_used_at, T0);
	assert_int_equal(p.expires_at, T0 + IDLE);

	/* Every Login is its own session. */
	assert_int_equal(login_start(f->db.st, &lpol, "alice", PW, "127.0.0.1", T0, key2, &p), LOGIN_OK);
	assert_guid(key2);
	assert_string_not_equal(key, key2);
	assert_true(session_exists(f->db.st, key));
	assert_true(session_exists(f->db.st, key2));
	assert_int_equal(drain_sessions(f->db.st), 2);
}

/* Login's principal is the one validator_check reports for the same session key. */
static void
test_login_principal_matches_validator(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p, v;
	struct validator_policy	 pol = { .session_idle = IDLE, .touch_slack = 60 };
	struct validator_req	 req;
	char			 key[SECRET_SESSION_LEN + 1];

	memset(&p, 0, sizeof(p));
	assert_int_equal(login_start(f->db.st, &lpol, "alice", PW, "127.0.0.1", T0, key, &p), LOGIN_OK);
	memset(&req, 0, sizeof(req));
	req.credential = key;
	req.len = strlen(key);
	req.channel = TSK_CHANNEL_SOAP;
	req.now = T0;
	assert_int_equal(validator_check(f->db.st, &pol, &req, &v), TSK_VERDICT_OK);

	assert_int_equal(p.kind, v.kind);
	assert_int_equal(p.account_id, v.account_id);
	assert_int_equal(p.user_id, v.user_id);
	assert_string_equal(p.user, v.user);
	assert_int_equal(p.created_at, v.created_at);
	assert_int_equal(p.expires_at, v.expires_at);
	/* tsk.h: session_id is what a TSK_PRINCIPAL_SESSION names, and what login_end ends. */
	assert_int_equal(v.session_id, session_of(f->db.st, key).id);
	if (p.session_id != v.session_id)
		fail_msg("login_start principal: session_id %lld, validator's %lld",
		    (long long)p.session_id, (long long)v.session_id);
	if (strcmp(p.account, v.account) != 0)
		fail_msg("login_start principal: account \"%s\", validator's \"%s\"", p.account,
		    v.account);
	assert_int_equal(p.credit, v.credit);
}

static void
test_wrong_password(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;
	char			 key[SECRET_SESSION_LEN + 1];
	char			 longpw[PASSWORD_MAX + 64];

	assert_int_equal(login_start(f->db.st, &lpol, "alice", "wrong", "127.0.0.1", T0, key, &p), LOGIN_FAILED);
	assert_int_equal(login_start(f->db.st, &lpol, "alice", PW " ", "127.0.0.1", T0, key, &p), LOGIN_FAILED);
	assert_int_equal(login_start(f->db.st, &lpol, "alice", "correct horse", "127.0.0.1", T0, key, &p),
	    LOGIN_FAILED);
	assert_int_equal(login_start(f->db.st, &lpol, "alice", "", "127.0.0.1", T0, key, &p), LOGIN_FAILED);
	/* Names are exact. */
	assert_int_equal(login_start(f->db.st, &lpol, "Alice", PW, "127.0.0.1", T0, key, &p), LOGIN_FAILED);
	/* Too long a password is a failed Login, not a server error. */
	memset(longpw, 'a', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	assert_int_equal(login_start(f->db.st, &lpol, "alice", longpw, "127.0.0.1", T0, key, &p), LOGIN_FAILED);
	assert_int_equal(drain_sessions(f->db.st), 0);
}

static void
test_unknown_user(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;
	char			 key[SECRET_SESSION_LEN + 1];

	assert_int_equal(login_start(f->db.st, &lpol, "mallory", PW, "127.0.0.1", T0, key, &p), LOGIN_FAILED);
	assert_int_equal(login_start(f->db.st, &lpol, "mallory", NULL, "127.0.0.1", T0, key, &p), LOGIN_FAILED);
	assert_int_equal(drain_sessions(f->db.st), 0);
}

static void
test_empty_input(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;
	char			 key[SECRET_SESSION_LEN + 1];

	assert_int_equal(login_start(f->db.st, &lpol, "", PW, "127.0.0.1", T0, key, &p), LOGIN_FAILED);
	assert_int_equal(login_start(f->db.st, &lpol, NULL, PW, "127.0.0.1", T0, key, &p), LOGIN_FAILED);
	assert_int_equal(login_start(f->db.st, &lpol, "alice", NULL, "127.0.0.1", T0, key, &p), LOGIN_FAILED);
	assert_int_equal(login_start(f->db.st, &lpol, NULL, NULL, "127.0.0.1", T0, key, &p), LOGIN_FAILED);
	assert_int_equal(drain_sessions(f->db.st), 0);
}

static void
test_no_store(void **state)
{
	struct tsk_principal	p;
	char			key[SECRET_SESSION_LEN + 1];

	(void)state;
	assert_int_equal(login_start(NULL, &lpol, "alice", PW, "127.0.0.1", T0, key, &p), LOGIN_ERROR);
	/* No user name is refused without asking the store, so also without one. */
	assert_int_equal(login_start(NULL, &lpol, "", NULL, "127.0.0.1", T0, key, &p), LOGIN_FAILED);
}

/* A lease that counts, and can run dry on a given get. */
struct count_lease {
	struct store	*st;
	int		 gets, puts, held, dry_on;
};

static struct store *
cl_get(void *arg)
{
	struct count_lease	*c = arg;

	if (++c->gets == c->dry_on)
		return NULL;
	c->held = 1;
	return c->st;
}

static void
cl_put(void *arg, struct store *st)
{
	struct count_lease	*c = arg;

	assert_ptr_equal(st, c->st);
	c->puts++;
	c->held = 0;
}

static void
test_lease_not_held_during_password_check(void **state)
{
	struct fx		*f = *state;
	struct count_lease	 c = { f->db.st, 0, 0, 0, 0 };
	struct login_lease	 ls = { cl_get, cl_put, &c };
	struct tsk_principal	 p;
	char			 key[SECRET_SESSION_LEN + 1];

	/* Right password: looked up, given back, got again for the session (kept by the owner). */
	assert_int_equal(login_start_lease(&ls, &lpol, "alice", PW, "127.0.0.1", T0, key, &p),
	    LOGIN_OK);
	assert_int_equal(c.gets, 2);
	assert_int_equal(c.puts, 1);
	assert_true(session_exists(f->db.st, key));
	/* Wrong password and unknown user: one lookup, given back, nothing more. */
	memset(&c, 0, sizeof(c));
	c.st = f->db.st;
	assert_int_equal(login_start_lease(&ls, &lpol, "alice", "wrong", "127.0.0.1", T0, key, &p),
	    LOGIN_FAILED);
	assert_int_equal(login_start_lease(&ls, &lpol, "nobody", PW, "127.0.0.1", T0, key, &p),
	    LOGIN_FAILED);
	assert_int_equal(c.gets, 2);
	assert_int_equal(c.puts, 2);
	assert_false(c.held);
	/* No store for the session after a right password: an error, never a session. */
	memset(&c, 0, sizeof(c));
	c.st = f->db.st;
	c.dry_on = 2;
	assert_int_equal(login_start_lease(&ls, &lpol, "alice", PW, "127.0.0.1", T0, key, &p),
	    LOGIN_ERROR);
	assert_int_equal(p.kind, 0);
}

/* How many hold a slot of g now. */
static int
gate_busy(struct kdfgate *g)
{
	int	busy, waiting;

	kdfgate_load(g, &busy, &waiting);
	return busy;
}

/*
 * Every password-check slot taken: each Login, right password, wrong one, unknown user or no
 * user at all, is LOGIN_BUSY with a second to wait, opens no session, and counts no failure
 * (the throttle locks a pair after one here). Once a slot is free, the right password works.
 */
static void
test_busy_gate_refuses_without_counting(void **state)
{
	struct fx		*f = *state;
	struct login_policy	 lp = lpol;
	struct tsk_principal	 p;
	char			 key[SECRET_SESSION_LEN + 1];
	static const char	*users[] = { "alice", "alice", "mallory", "" };
	static const char	*pws[] = { PW, "wrong", PW, PW };
	size_t			 i;

	lp.throttle = throttle_new(1024, 1, 900);
	lp.gate = kdfgate_new(1, 0, 50);
	assert_non_null(lp.throttle);
	assert_non_null(lp.gate);
	assert_int_equal(kdfgate_enter(lp.gate), 0);	/* the only slot, held by "another" */
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		memset(&p, 0xa5, sizeof(p));
		assert_int_equal(login_start(f->db.st, &lp, users[i], pws[i], "127.0.0.1", T0, key,
		    &p), LOGIN_BUSY);
		assert_int_equal(p.retry_after, 1);
		assert_int_equal(p.kind, TSK_PRINCIPAL_NONE);
		assert_int_equal(p.user_id, 0);
		assert_int_equal(throttle_check(lp.throttle, users[i], "127.0.0.1", T0), 0);
	}
	assert_int_equal(drain_sessions(f->db.st), 0);
	assert_int_equal(login_verdict(LOGIN_BUSY), TSK_VERDICT_ERROR);
	assert_string_equal(login_code(LOGIN_BUSY), "UNAVAILABLE");
	assert_non_null(strstr(login_message(LOGIN_BUSY), "busy"));
	kdfgate_leave(lp.gate);
	assert_int_equal(login_start(f->db.st, &lp, "alice", PW, "127.0.0.1", T0, key, &p), LOGIN_OK);
	assert_true(session_exists(f->db.st, key));
	assert_int_equal(gate_busy(lp.gate), 0);
	kdfgate_free(lp.gate);
	throttle_free(lp.throttle);
}

/* A lease that records whether the gate's slot is held when the store is asked. */
struct gate_lease {
	struct store	*st;
	struct kdfgate	*g;
	int		 gets, busy_at_get;
};

static struct store *
gl_get(void *arg)
{
	struct gate_lease	*c = arg;

	c->gets++;
	c->busy_at_get += gate_busy(c->g);
	return c->st;
}

static void
gl_put(void *arg, struct store *st)
{
	(void)arg;
	(void)st;
}

/*
 * The slot is held for the password check only: not while the store is asked (the user
 * lookup before, the session after), and given back on every outcome.
 */
static void
test_gate_held_only_for_the_check(void **state)
{
	struct fx		*f = *state;
	struct login_policy	 lp = lpol;
	struct gate_lease	 c = { f->db.st, NULL, 0, 0 };
	struct login_lease	 ls = { gl_get, gl_put, &c };
	struct tsk_principal	 p;
	char			 key[SECRET_SESSION_LEN + 1];

	lp.gate = kdfgate_new(1, 0, 50);
	assert_non_null(lp.gate);
	c.g = lp.gate;
	assert_int_equal(login_start_lease(&ls, &lp, "alice", PW, "127.0.0.1", T0, key, &p),
	    LOGIN_OK);
	assert_int_equal(login_start_lease(&ls, &lp, "alice", "wrong", "127.0.0.1", T0, key, &p),
	    LOGIN_FAILED);
	assert_int_equal(login_start_lease(&ls, &lp, "nobody", PW, "127.0.0.1", T0, key, &p),
	    LOGIN_FAILED);
	assert_int_equal(login_start_lease(&ls, &lp, "", PW, "127.0.0.1", T0, key, &p),
	    LOGIN_FAILED);
	assert_int_equal(c.gets, 4);
	assert_int_equal(c.busy_at_get, 0);
	assert_int_equal(gate_busy(lp.gate), 0);
	kdfgate_free(lp.gate);
}

static void
test_unreadable_hash_fails_closed(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;
	char			 key[SECRET_SESSION_LEN + 1];

	/* A stored hash that is not ours: an error (logged), not a Login. */
	assert_int_equal(store_user_create(f->db.st, f->acme, "carol", "plaintext?",
	    STORE_USER_PERSON, T0), TSK_OK);
	assert_int_equal(login_start(f->db.st, &lpol, "carol", "plaintext?", "127.0.0.1", T0, key, &p),
	    LOGIN_ERROR);
	assert_int_equal(drain_sessions(f->db.st), 0);
}

static void
test_only_hash_stored(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;
	struct store_session	 s;
	unsigned char		 h[SECRET_HASH_LEN];
	char			 key[SECRET_SESSION_LEN + 1], upper[SECRET_SESSION_LEN + 1];
	size_t			 i;

	assert_int_equal(login_start(f->db.st, &lpol, "alice", PW, "127.0.0.1", T0 + 7, key, &p), LOGIN_OK);
	s = session_of(f->db.st, key);
	assert_true(s.id > 0);
	assert_int_equal(s.user_id, f->alice);
	assert_int_equal(s.account_id, f->acme);
	assert_string_equal(s.user, "alice");
	assert_string_equal(s.account, "acme");
	assert_int_equal(s.created_at, T0 + 7);
	assert_int_equal(s.last_seen_at, T0 + 7);

	/* The hash is of exactly the key handed out: another spelling is another session. */
	for (i = 0; i <= SECRET_SESSION_LEN; i++)
		upper[i] = (key[i] >= 'a' && key[i] <= 'f') ? (char)(key[i] - 32) : key[i];
	assert_false(session_exists(f->db.st, upper));

	secret_hash(key, strlen(key), h);
	store_close(f->db.st);	/* the last connection checkpoints the WAL */
	f->db.st = NULL;
	assert_true(fixture_db_has(f->db.path, h, sizeof(h)));	/* the search works */
	assert_false(fixture_db_has(f->db.path, key, strlen(key)));
	assert_false(fixture_db_has(f->db.path, key + 9, 14));	/* nor a piece of it */
	assert_false(fixture_db_has(f->db.path, PW, strlen(PW)));	/* nor the password */
}

static void
test_login_end_key_principal(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p, kp;
	struct admin_key_spec	 spec;
	struct validator_policy	 pol = { .session_idle = IDLE, .touch_slack = 60 };
	struct validator_req	 req;
	char			 key[SECRET_SESSION_LEN + 1], apikey[SECRET_KEY_MAX];
	int64_t			 key_id;

	assert_int_equal(login_start(f->db.st, &lpol, "alice", PW, "127.0.0.1", T0, key, &p), LOGIN_OK);

	/* A real key principal, from the validator. */
	memset(&spec, 0, sizeof(spec));
	spec.account = "acme";
	assert_int_equal(admin_key_create(f->db.st, &cli, &spec, apikey, &key_id), TSK_OK);
	memset(&req, 0, sizeof(req));
	req.credential = apikey;
	req.len = strlen(apikey);
	req.channel = TSK_CHANNEL_REST;
	req.now = T0;
	assert_int_equal(validator_check(f->db.st, &pol, &req, &kp), TSK_VERDICT_OK);
	assert_int_equal(kp.kind, TSK_PRINCIPAL_KEY);
	assert_int_equal(login_end(f->db.st, &kp), TSK_OK);
	assert_int_equal(login_end(NULL, &kp), TSK_OK);

	/* Even one that carries the session's id: the kind decides, nothing is deleted. */
	kp.session_id = session_of(f->db.st, key).id;
	assert_int_equal(login_end(f->db.st, &kp), TSK_OK);
	kp.kind = TSK_PRINCIPAL_NONE;
	assert_int_equal(login_end(f->db.st, &kp), TSK_OK);
	assert_true(session_exists(f->db.st, key));
	assert_int_equal(drain_sessions(f->db.st), 1);
}

static void
test_login_end_session(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p, other;
	struct validator_policy	 pol = { .session_idle = IDLE, .touch_slack = 60 };
	struct validator_req	 req;
	char			 key[SECRET_SESSION_LEN + 1], key2[SECRET_SESSION_LEN + 1];

	assert_int_equal(login_start(f->db.st, &lpol, "alice", PW, "127.0.0.1", T0, key, &p), LOGIN_OK);
	assert_int_equal(login_start(f->db.st, &lpol, "alice", PW, "127.0.0.1", T0, key2, &other), LOGIN_OK);
	memset(&req, 0, sizeof(req));
	req.credential = key;
	req.len = strlen(key);
	req.channel = TSK_CHANNEL_SOAP;
	req.now = T0 + 1;
	assert_int_equal(validator_check(f->db.st, &pol, &req, &p), TSK_VERDICT_OK);

	assert_int_equal(login_end(NULL, &p), TSK_ERR_STORE);
	assert_true(session_exists(f->db.st, key));
	assert_int_equal(login_end(f->db.st, &p), TSK_OK);
	assert_false(session_exists(f->db.st, key));
	/* Only that session: the user's other one lives on. */
	assert_true(session_exists(f->db.st, key2));
	/* A second Logout of the same session (two racing) is not an error. */
	assert_int_equal(login_end(f->db.st, &p), TSK_OK);
	assert_true(session_exists(f->db.st, key2));
}

static void
test_purge_on_login(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;
	char			 a[SECRET_SESSION_LEN + 1], b[SECRET_SESSION_LEN + 1];
	char			 bob[SECRET_SESSION_LEN + 1], c[SECRET_SESSION_LEN + 1];

	assert_int_equal(admin_user_create(f->db.st, &cli, "acme", "bob", PW, STORE_USER_PERSON),
	    TSK_OK);
	assert_int_equal(login_start(f->db.st, &lpol, "alice", PW, "127.0.0.1", T0, a, &p), LOGIN_OK);
	assert_int_equal(login_start(f->db.st, &lpol, "bob", PW, "127.0.0.1", T0, bob, &p), LOGIN_OK);

	/* Exactly idle seconds later the first sessions have not yet run out. */
	assert_int_equal(login_start(f->db.st, &lpol, "alice", PW, "127.0.0.1", T0 + IDLE, b, &p), LOGIN_OK);
	assert_true(session_exists(f->db.st, a));
	assert_true(session_exists(f->db.st, bob));

	/* One second more, and any user's Login clears every session idle since T0. */
	assert_int_equal(login_start(f->db.st, &lpol, "alice", PW, "127.0.0.1", T0 + IDLE + 1, c, &p), LOGIN_OK);
	assert_false(session_exists(f->db.st, a));
	assert_false(session_exists(f->db.st, bob));
	assert_true(session_exists(f->db.st, b));
	assert_true(session_exists(f->db.st, c));
	assert_int_equal(drain_sessions(f->db.st), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_login_ok, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_login_principal_matches_validator, setup,
		    fixture_teardown),
		cmocka_unit_test_setup_teardown(test_wrong_password, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_user, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_empty_input, setup, fixture_teardown),
		cmocka_unit_test(test_no_store),
		cmocka_unit_test_setup_teardown(test_lease_not_held_during_password_check, setup,
		    fixture_teardown),
		cmocka_unit_test_setup_teardown(test_busy_gate_refuses_without_counting, setup,
		    fixture_teardown),
		cmocka_unit_test_setup_teardown(test_gate_held_only_for_the_check, setup,
		    fixture_teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_hash_fails_closed, setup,
		    fixture_teardown),
		cmocka_unit_test_setup_teardown(test_only_hash_stored, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_login_end_key_principal, setup,
		    fixture_teardown),
		cmocka_unit_test_setup_teardown(test_login_end_session, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_purge_on_login, setup, fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
