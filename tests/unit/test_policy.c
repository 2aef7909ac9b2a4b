/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the key and Login policy, against a real store in a fresh mkdtemp directory
 * per test: scopes, IP allowlists, rate limits, credits and monthly allowances, rotation grace
 * and batched usage and credit in src/validator.c; the refusal answers of validator_answer; the Login
 * policy (API users, password age) and its strings in src/login.c; the operation table in
 * src/ops.c. Keys are made through admin.c as the CLI makes them; times are explicit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "fixture.h"
#include "admin.h"
#include "login.h"
#include "ops.h"
#include "ratelimit.h"
#include "secret.h"
#include "store.h"
#include "usage.h"
#include "validator.h"

#define T0	INT64_C(1795564800)	/* 2026-11-25T00:00:00Z, a Wednesday */
#define DAY	INT64_C(86400)
#define DEC1	(T0 + 6 * DAY)		/* 2026-12-01T00:00:00Z */
#define JAN1	(T0 + 37 * DAY)		/* 2027-01-01T00:00:00Z */
#define IDLE	INT64_C(14400)
#define PW	"correct horse battery staple"

static const struct admin_actor cli = { "cli", 0, "", "", T0, 0 };

struct fx {
	struct fixture		 db;		/* first member: see fixture.h */
	struct validator_policy	 pol;		/* no rate limiter, no usage batching */
	int64_t			 acme;		/* credit 10 */
	struct ratelimit	*rl;		/* made for pol.rl by the tests that want one */
	struct usage		*usage;
};
_Static_assert(offsetof(struct fx, db) == 0, "struct fixture must come first");

static int
setup(void **state)
{
	struct fx	*f;

	if (fixture_setup(state, sizeof(*f), "policy") != 0)
		return -1;
	f = *state;
	f->pol.session_idle = IDLE;
	f->pol.touch_slack = 60;
	if (admin_account_create(f->db.st, &cli, "acme", 10, 0, &f->acme) != TSK_OK) {
		fixture_teardown(state);	/* cmocka skips teardown when setup fails */
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*f = *state;

	if (f != NULL) {
		ratelimit_free(f->rl);
		usage_free(f->usage);
	}
	return fixture_teardown(state);
}

static void
use_ratelimit(struct fx *f)
{
	f->rl = ratelimit_new(64);
	assert_non_null(f->rl);
	f->pol.rl = f->rl;
}

/* A key of acme made at T0 to spec (its account is filled in). */
static int64_t
make_key(struct fx *f, struct admin_key_spec *spec, char key[SECRET_KEY_MAX])
{
	int64_t	id = 0;

	spec->account = "acme";
	assert_int_equal(admin_key_create(f->db.st, &cli, spec, key, &id), TSK_OK);
	return id;
}

static int64_t
plain_key(struct fx *f, const char *scopes, const char *ip_allow, char key[SECRET_KEY_MAX])
{
	struct admin_key_spec	spec;

	memset(&spec, 0, sizeof(spec));
	spec.scopes = scopes;
	spec.ip_allow = ip_allow;
	return make_key(f, &spec, key);
}

/*
 * validator_check of cred from addr, for an operation needing scope and taking cost, at now.
 * The principal is filled with junk first, so what it holds afterwards is the validator's.
 */
static enum tsk_verdict
check(struct fx *f, const char *cred, const char *scope, const char *addr, int64_t cost,
    int64_t now, struct tsk_principal *p)
{
	struct validator_req	req;

	memset(&req, 0, sizeof(req));
	req.credential = cred;
	req.len = strlen(cred);
	req.channel = TSK_CHANNEL_REST;
	req.client_addr = addr;
	req.scope = scope;
	req.cost = cost;
	req.now = now;
	memset(p, 0xa5, sizeof(*p));
	return validator_check(f->db.st, &f->pol, &req, p);
}

static int64_t
balance(struct fx *f)
{
	struct store_account	a;

	assert_int_equal(store_account_by_id(f->db.st, f->acme, &a), TSK_OK);
	return a.credit;
}

static struct store_key
key_row(struct fx *f, int64_t id)
{
	struct store_key	k;

	assert_int_equal(store_key_by_id(f->db.st, id, &k), TSK_OK);
	return k;
}

static void
assert_zero_principal(const struct tsk_principal *p)
{
	struct tsk_principal	zero;

	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(p, &zero, sizeof(zero));
}

static void
test_scope(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;
	struct login_policy	 lp = { .idle = IDLE, .api_user_login = 0, .password_max_age = 0 };
	char			 key[SECRET_KEY_MAX], admin[SECRET_KEY_MAX], bare[SECRET_KEY_MAX];
	char			 sess[SECRET_SESSION_LEN + 1];
	int64_t			 id;

	id = plain_key(f, "credit:read", NULL, key);
	assert_int_equal(check(f, key, TSK_SCOPE_ADMIN, NULL, 0, T0, &p),
	    TSK_VERDICT_INSUFFICIENT_SCOPE);
	/* The refusal names the key, for the log. */
	assert_int_equal(p.key_id, id);
	assert_string_equal(p.account, "acme");
	assert_string_equal(p.scopes, "credit:read");
	assert_int_equal(p.retry_after, 0);
	assert_int_equal(check(f, key, NULL, NULL, 0, T0, &p), TSK_VERDICT_OK);
	assert_int_equal(check(f, key, "", NULL, 0, T0, &p), TSK_VERDICT_OK);
	assert_int_equal(check(f, key, TSK_SCOPE_CREDIT, NULL, 0, T0, &p), TSK_VERDICT_OK);

	plain_key(f, "credit:read keys:admin", NULL, admin);
	assert_int_equal(check(f, admin, TSK_SCOPE_ADMIN, NULL, 0, T0, &p), TSK_VERDICT_OK);
	assert_int_equal(check(f, admin, TSK_SCOPE_CREDIT, NULL, 0, T0, &p), TSK_VERDICT_OK);
	/* A scope is a whole token, not a prefix of one. */
	plain_key(f, "credit", NULL, bare);
	assert_int_equal(check(f, bare, TSK_SCOPE_CREDIT, NULL, 0, T0, &p),
	    TSK_VERDICT_INSUFFICIENT_SCOPE);
	assert_int_equal(check(f, key, "credit", NULL, 0, T0, &p),
	    TSK_VERDICT_INSUFFICIENT_SCOPE);

	/* A Login session holds the default scope only: nothing administrative. */
	assert_int_equal(admin_user_create(f->db.st, &cli, "acme", "alice", PW,
	    STORE_USER_PERSON), TSK_OK);
	assert_int_equal(login_start(f->db.st, &lp, "alice", PW, "127.0.0.1", T0, sess, &p), LOGIN_OK);
	assert_int_equal(check(f, sess, TSK_SCOPE_CREDIT, NULL, 0, T0, &p), TSK_VERDICT_OK);
	assert_int_equal(check(f, sess, TSK_SCOPE_ADMIN, NULL, 0, T0, &p),
	    TSK_VERDICT_INSUFFICIENT_SCOPE);
	assert_string_equal(p.user, "alice");
}

static void
test_has_scope(void **state)
{
	(void)state;
	assert_true(validator_has_scope("credit:read", "credit:read"));
	assert_true(validator_has_scope("credit:read keys:admin", "keys:admin"));
	assert_true(validator_has_scope("credit:read keys:admin", "credit:read"));
	/* Substrings either way are not the scope. */
	assert_false(validator_has_scope("credit:read", "credit"));
	assert_false(validator_has_scope("credit", "credit:read"));
	assert_false(validator_has_scope("credit:read", "read"));
	assert_false(validator_has_scope("credit:readx", "credit:read"));
	assert_false(validator_has_scope("xcredit:read", "credit:read"));
	/* Runs of spaces, and spaces at either end, separate as one does. */
	assert_true(validator_has_scope("credit:read   keys:admin", "keys:admin"));
	assert_true(validator_has_scope("  keys:admin  ", "keys:admin"));
	assert_true(validator_has_scope("a  b   c", "c"));
	assert_false(validator_has_scope("   ", "keys:admin"));
	/* A wanted scope with a space in it spans two tokens: no single token is it. */
	assert_false(validator_has_scope("credit:read keys:admin", "credit:read keys:admin"));
	assert_false(validator_has_scope("credit:read keys:admin", "read keys"));
	/* Nothing held. */
	assert_false(validator_has_scope("", "keys:admin"));
	assert_false(validator_has_scope(NULL, "keys:admin"));
	/* Nothing wanted: always. */
	assert_true(validator_has_scope("credit:read", NULL));
	assert_true(validator_has_scope("credit:read", ""));
	assert_true(validator_has_scope("", NULL));
	assert_true(validator_has_scope(NULL, NULL));
}

static void
test_ip_allow(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;
	char			 v4[SECRET_KEY_MAX], v6[SECRET_KEY_MAX], any[SECRET_KEY_MAX];
	int64_t			 id;

	id = plain_key(f, NULL, "10.0.0.0/8", v4);
	assert_int_equal(check(f, v4, NULL, "10.1.2.3", 0, T0, &p), TSK_VERDICT_OK);
	assert_int_equal(check(f, v4, NULL, "10.255.255.255", 0, T0, &p), TSK_VERDICT_OK);
	assert_int_equal(check(f, v4, NULL, "::ffff:10.1.2.3", 0, T0, &p), TSK_VERDICT_OK);
	assert_int_equal(check(f, v4, NULL, "192.168.1.1", 0, T0, &p),
	    TSK_VERDICT_IP_NOT_ALLOWED);
	assert_int_equal(p.key_id, id);
	assert_string_equal(p.account, "acme");
	assert_int_equal(check(f, v4, NULL, "11.0.0.1", 0, T0, &p), TSK_VERDICT_IP_NOT_ALLOWED);
	/* No address known: an allowlist cannot be satisfied. */
	assert_int_equal(check(f, v4, NULL, NULL, 0, T0, &p), TSK_VERDICT_IP_NOT_ALLOWED);
	assert_int_equal(p.key_id, id);
	assert_int_equal(check(f, v4, NULL, "", 0, T0, &p), TSK_VERDICT_IP_NOT_ALLOWED);
	assert_int_equal(check(f, v4, NULL, "not-an-address", 0, T0, &p),
	    TSK_VERDICT_IP_NOT_ALLOWED);
	assert_int_equal(check(f, v4, NULL, "::1", 0, T0, &p), TSK_VERDICT_IP_NOT_ALLOWED);

	plain_key(f, NULL, "2001:db8::/32, 192.0.2.7", v6);
	assert_int_equal(check(f, v6, NULL, "2001:db8::1", 0, T0, &p), TSK_VERDICT_OK);
	assert_int_equal(check(f, v6, NULL, "2001:db8:ffff::42", 0, T0, &p), TSK_VERDICT_OK);
	assert_int_equal(check(f, v6, NULL, "192.0.2.7", 0, T0, &p), TSK_VERDICT_OK);
	assert_int_equal(check(f, v6, NULL, "2001:db9::1", 0, T0, &p),
	    TSK_VERDICT_IP_NOT_ALLOWED);
	assert_int_equal(check(f, v6, NULL, "192.0.2.8", 0, T0, &p), TSK_VERDICT_IP_NOT_ALLOWED);
	assert_int_equal(check(f, v6, NULL, NULL, 0, T0, &p), TSK_VERDICT_IP_NOT_ALLOWED);

	/* No allowlist: any address, or none. */
	plain_key(f, NULL, NULL, any);
	assert_int_equal(check(f, any, NULL, "192.168.1.1", 0, T0, &p), TSK_VERDICT_OK);
	assert_int_equal(check(f, any, NULL, NULL, 0, T0, &p), TSK_VERDICT_OK);

	/* A deactivated key says so whatever the address. */
	assert_int_equal(admin_key_deactivate(f->db.st, &cli, id), TSK_OK);
	assert_int_equal(check(f, v4, NULL, "192.168.1.1", 0, T0, &p), TSK_VERDICT_DISABLED);
}

/* A request refused for its address or scope takes no credit and no rate allowance. */
static void
test_refusal_costs_nothing(void **state)
{
	struct fx		*f = *state;
	struct admin_key_spec	 spec;
	struct tsk_principal	 p;
	struct store_key	 k;
	char			 key[SECRET_KEY_MAX];
	int64_t			 id, minute = -1, day = -1;

	use_ratelimit(f);
	memset(&spec, 0, sizeof(spec));
	spec.scopes = "credit:read";
	spec.ip_allow = "10.0.0.0/8";
	spec.rate_minute = 5;
	spec.rate_day = 100;
	id = make_key(f, &spec, key);

	assert_int_equal(check(f, key, NULL, "192.168.1.1", 1, T0, &p),
	    TSK_VERDICT_IP_NOT_ALLOWED);
	assert_int_equal(check(f, key, NULL, NULL, 1, T0, &p), TSK_VERDICT_IP_NOT_ALLOWED);
	assert_int_equal(check(f, key, TSK_SCOPE_ADMIN, "10.0.0.1", 1, T0, &p),
	    TSK_VERDICT_INSUFFICIENT_SCOPE);
	assert_int_equal(balance(f), 10);
	ratelimit_peek(f->rl, id, T0, &minute, &day);
	assert_int_equal(minute, 0);
	assert_int_equal(day, 0);
	/* Nor is it a use of the key. */
	k = key_row(f, id);
	assert_int_equal(k.last_used_at, 0);
	assert_int_equal(k.use_count, 0);

	/* The control: an allowed request takes both, and is a use. */
	assert_int_equal(check(f, key, TSK_SCOPE_CREDIT, "10.0.0.1", 1, T0, &p), TSK_VERDICT_OK);
	assert_int_equal(balance(f), 9);
	ratelimit_peek(f->rl, id, T0, &minute, &day);
	assert_int_equal(minute, 1);
	assert_int_equal(day, 1);
	k = key_row(f, id);
	assert_int_equal(k.last_used_at, T0);
	assert_int_equal(k.use_count, 1);

	/* Deactivated or expired, a key costs nothing either. */
	assert_int_equal(admin_key_deactivate(f->db.st, &cli, id), TSK_OK);
	assert_int_equal(check(f, key, NULL, "10.0.0.1", 1, T0 + 1, &p), TSK_VERDICT_DISABLED);
	assert_int_equal(balance(f), 9);
	ratelimit_peek(f->rl, id, T0 + 1, &minute, &day);
	assert_int_equal(minute, 1);
	assert_int_equal(day, 1);
}

static void
test_rate_minute(void **state)
{
	struct fx		*f = *state;
	struct admin_key_spec	 spec;
	struct tsk_principal	 p;
	char			 key[SECRET_KEY_MAX], other[SECRET_KEY_MAX];
	int64_t			 id;

	use_ratelimit(f);
	memset(&spec, 0, sizeof(spec));
	spec.rate_minute = 2;
	id = make_key(f, &spec, key);
	make_key(f, &spec, other);

	assert_int_equal(check(f, key, NULL, NULL, 1, T0 + 10, &p), TSK_VERDICT_OK);
	assert_int_equal(p.retry_after, 0);
	assert_int_equal(check(f, key, NULL, NULL, 1, T0 + 20, &p), TSK_VERDICT_OK);
	assert_int_equal(check(f, key, NULL, NULL, 1, T0 + 30, &p), TSK_VERDICT_RATE_LIMITED);
	assert_true(p.retry_after >= 1 && p.retry_after <= 60);
	assert_int_equal(p.retry_after, 30);	/* until the minute ends */
	assert_int_equal(p.key_id, id);
	assert_int_equal(p.account_id, f->acme);
	assert_string_equal(p.account, "acme");
	assert_int_equal(p.rate_minute, 2);
	/* A limited call costs no credit. */
	assert_int_equal(balance(f), 8);
	assert_int_equal(check(f, key, NULL, NULL, 0, T0 + 59, &p), TSK_VERDICT_RATE_LIMITED);
	assert_int_equal(p.retry_after, 1);
	/* Another key of the account has its own allowance. */
	assert_int_equal(check(f, other, NULL, NULL, 0, T0 + 30, &p), TSK_VERDICT_OK);
	assert_int_equal(p.retry_after, 0);
	/* The next minute starts afresh. */
	assert_int_equal(check(f, key, NULL, NULL, 0, T0 + 10 + 60, &p), TSK_VERDICT_OK);
	assert_int_equal(check(f, key, NULL, NULL, 0, T0 + 10 + 61, &p), TSK_VERDICT_OK);
	assert_int_equal(check(f, key, NULL, NULL, 0, T0 + 10 + 62, &p),
	    TSK_VERDICT_RATE_LIMITED);

	/* Without a limiter in the policy, limits are not enforced. */
	f->pol.rl = NULL;
	assert_int_equal(check(f, key, NULL, NULL, 0, T0 + 10 + 63, &p), TSK_VERDICT_OK);
	assert_int_equal(check(f, key, NULL, NULL, 0, T0 + 10 + 64, &p), TSK_VERDICT_OK);
}

static void
test_rate_day(void **state)
{
	struct fx		*f = *state;
	struct admin_key_spec	 spec;
	struct tsk_principal	 p;
	char			 key[SECRET_KEY_MAX];
	int64_t			 id;

	use_ratelimit(f);
	memset(&spec, 0, sizeof(spec));
	spec.rate_minute = 10;
	spec.rate_day = 3;
	id = make_key(f, &spec, key);

	assert_int_equal(check(f, key, NULL, NULL, 0, T0 + 100, &p), TSK_VERDICT_OK);
	assert_int_equal(check(f, key, NULL, NULL, 0, T0 + 200, &p), TSK_VERDICT_OK);
	assert_int_equal(check(f, key, NULL, NULL, 0, T0 + 300, &p), TSK_VERDICT_OK);
	assert_int_equal(check(f, key, NULL, NULL, 0, T0 + 400, &p), TSK_VERDICT_RATE_LIMITED);
	assert_int_equal(p.retry_after, DAY - 400);	/* until the UTC day ends */
	assert_int_equal(p.key_id, id);
	assert_int_equal(p.rate_day, 3);
	assert_int_equal(check(f, key, NULL, NULL, 0, T0 + DAY - 1, &p),
	    TSK_VERDICT_RATE_LIMITED);
	assert_int_equal(p.retry_after, 1);
	assert_int_equal(check(f, key, NULL, NULL, 0, T0 + DAY, &p), TSK_VERDICT_OK);
}

static void
test_credit_cost(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;
	char			 key[SECRET_KEY_MAX];

	plain_key(f, NULL, NULL, key);
	assert_int_equal(admin_credit_set(f->db.st, &cli, "acme", 3), TSK_OK);
	assert_int_equal(check(f, key, NULL, NULL, 2, T0, &p), TSK_VERDICT_OK);
	assert_int_equal(p.credit, 1);
	assert_int_equal(balance(f), 1);
	/* Not enough for the cost: refused whole, nothing taken. */
	assert_int_equal(check(f, key, NULL, NULL, 2, T0, &p), TSK_VERDICT_NO_CREDIT);
	assert_int_equal(p.credit, 1);
	assert_int_equal(balance(f), 1);
	assert_int_equal(check(f, key, NULL, NULL, 1, T0, &p), TSK_VERDICT_OK);
	assert_int_equal(balance(f), 0);
	assert_int_equal(check(f, key, NULL, NULL, 0, T0, &p), TSK_VERDICT_OK);
}

static struct store_account
account(struct fx *f)
{
	struct store_account	a;

	assert_int_equal(store_account_by_id(f->db.st, f->acme, &a), TSK_OK);
	return a;
}

static void
test_allowance(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;
	char			 key[SECRET_KEY_MAX];

	plain_key(f, NULL, NULL, key);
	assert_int_equal(store_allowance_set(f->db.st, f->acme, 10), TSK_OK);
	assert_int_equal(store_credit_set(f->db.st, f->acme, 0), TSK_OK);

	/* The account's first call of the month refills, even a free one, so it shows. */
	assert_int_equal(check(f, key, NULL, NULL, 0, T0, &p), TSK_VERDICT_OK);
	assert_int_equal(balance(f), 10);
	assert_int_equal(p.credit, 10);
	assert_string_equal(account(f).allowance_month, "2026-11");
	/* A metered call that month takes its cost without a second refill. */
	assert_int_equal(check(f, key, NULL, NULL, 1, T0, &p), TSK_VERDICT_OK);
	assert_int_equal(balance(f), 9);
	/* Later calls that month do not refill. */
	assert_int_equal(check(f, key, NULL, NULL, 1, DEC1 - 1, &p), TSK_VERDICT_OK);
	assert_int_equal(balance(f), 8);
	assert_int_equal(p.credit, 8);
	assert_int_equal(store_credit_set(f->db.st, f->acme, 3), TSK_OK);
	assert_int_equal(check(f, key, NULL, NULL, 1, T0 + 3600, &p), TSK_VERDICT_OK);
	assert_int_equal(balance(f), 2);
	/* The next month tops up to max(balance, allowance): here the allowance. */
	assert_int_equal(check(f, key, NULL, NULL, 1, DEC1, &p), TSK_VERDICT_OK);
	assert_int_equal(balance(f), 9);
	assert_string_equal(account(f).allowance_month, "2026-12");
	/* A balance above the allowance is kept. */
	assert_int_equal(store_credit_set(f->db.st, f->acme, 50), TSK_OK);
	assert_int_equal(check(f, key, NULL, NULL, 1, JAN1 + 5, &p), TSK_VERDICT_OK);
	assert_int_equal(balance(f), 49);
	assert_string_equal(account(f).allowance_month, "2027-01");
	/* A cost above even the refilled balance is refused; the refill stands. */
	assert_int_equal(store_credit_set(f->db.st, f->acme, 0), TSK_OK);
	assert_int_equal(check(f, key, NULL, NULL, 11, JAN1 + 31 * DAY, &p),
	    TSK_VERDICT_NO_CREDIT);
	assert_int_equal(balance(f), 10);
}

/* The principal's credit is what is left after the call, refill or not (tsk.h, validator.c). */
static void
test_allowance_principal_credit(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;
	char			 key[SECRET_KEY_MAX];

	plain_key(f, NULL, NULL, key);
	assert_int_equal(store_allowance_set(f->db.st, f->acme, 10), TSK_OK);
	assert_int_equal(store_credit_set(f->db.st, f->acme, 0), TSK_OK);
	assert_int_equal(check(f, key, NULL, NULL, 1, T0, &p), TSK_VERDICT_OK);
	assert_int_equal(balance(f), 9);
	if (p.credit != 9)
		fail_msg("after the month's refill to 10 and a cost of 1 the balance is 9, but the"
		    " principal says %lld", (long long)p.credit);
	assert_int_equal(store_credit_set(f->db.st, f->acme, 2), TSK_OK);
	assert_int_equal(check(f, key, NULL, NULL, 1, DEC1, &p), TSK_VERDICT_OK);
	assert_int_equal(balance(f), 9);
	assert_int_equal(p.credit, 9);
}

static void
test_rotation_grace(void **state)
{
	struct fx		*f = *state;
	struct admin_key_spec	 spec;
	struct admin_actor	 a = cli;
	struct tsk_principal	 p;
	char			 key[SECRET_KEY_MAX], key2[SECRET_KEY_MAX], key3[SECRET_KEY_MAX];
	char			 never[SECRET_KEY_MAX], never2[SECRET_KEY_MAX];
	int64_t			 id, id2, id3, nid, nid2;

	memset(&spec, 0, sizeof(spec));
	spec.expires_at = T0 + 3600;
	id = make_key(f, &spec, key);
	assert_int_equal(admin_key_rotate(f->db.st, &cli, id, 60, key2, &id2), TSK_OK);

	/* In the grace window both work; the old one says when it stops. */
	assert_int_equal(check(f, key, NULL, NULL, 0, T0 + 30, &p), TSK_VERDICT_OK);
	assert_int_equal(p.key_id, id);
	assert_int_equal(p.expires_at, T0 + 60);
	assert_int_equal(check(f, key2, NULL, NULL, 0, T0 + 30, &p), TSK_VERDICT_OK);
	assert_int_equal(p.expires_at, T0 + 3600);
	/* Past its stop the old key has expired; the new one goes on. */
	assert_int_equal(check(f, key, NULL, NULL, 0, T0 + 60, &p), TSK_VERDICT_EXPIRED);
	assert_int_equal(p.key_id, id);
	assert_string_equal(p.account, "acme");
	assert_int_equal(p.expires_at, T0 + 60);
	assert_int_equal(check(f, key, NULL, NULL, 0, T0 + 61, &p), TSK_VERDICT_EXPIRED);
	assert_int_equal(check(f, key2, NULL, NULL, 0, T0 + 61, &p), TSK_VERDICT_OK);

	/* A grace reaching past the expiry: the expiry is the earlier end. */
	a.now = T0 + 3590;
	assert_int_equal(admin_key_rotate(f->db.st, &a, id2, 3600, key3, &id3), TSK_OK);
	assert_int_equal(check(f, key2, NULL, NULL, 0, T0 + 3595, &p), TSK_VERDICT_OK);
	assert_int_equal(p.expires_at, T0 + 3600);
	assert_int_equal(check(f, key2, NULL, NULL, 0, T0 + 3600, &p), TSK_VERDICT_EXPIRED);

	/* A key that never expires stops at the end of its grace. */
	memset(&spec, 0, sizeof(spec));
	nid = make_key(f, &spec, never);
	assert_int_equal(admin_key_rotate(f->db.st, &cli, nid, 120, never2, &nid2), TSK_OK);
	assert_int_equal(check(f, never, NULL, NULL, 0, T0 + 119, &p), TSK_VERDICT_OK);
	assert_int_equal(p.expires_at, T0 + 120);
	assert_int_equal(check(f, never, NULL, NULL, 0, T0 + 120, &p), TSK_VERDICT_EXPIRED);
	assert_int_equal(check(f, never2, NULL, NULL, 0, T0 + 120, &p), TSK_VERDICT_OK);
	assert_int_equal(p.expires_at, 0);
}

static void
test_usage_batching(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;
	struct store_key	 k;
	char			 key[SECRET_KEY_MAX], other[SECRET_KEY_MAX];
	int64_t			 id, oid;

	id = plain_key(f, NULL, NULL, key);
	oid = plain_key(f, NULL, NULL, other);
	f->usage = usage_new();
	assert_non_null(f->usage);
	f->pol.usage = f->usage;

	assert_int_equal(check(f, key, NULL, NULL, 0, T0 + 10, &p), TSK_VERDICT_OK);
	assert_int_equal(usage_pending(f->usage), 1);
	k = key_row(f, id);
	assert_int_equal(k.last_used_at, 0);
	assert_int_equal(k.use_count, 0);
	assert_int_equal(check(f, key, NULL, NULL, 0, T0 + 20, &p), TSK_VERDICT_OK);
	assert_int_equal(usage_pending(f->usage), 1);	/* one key pending, used twice */
	/* A refusal is not a use. */
	assert_int_equal(check(f, key, TSK_SCOPE_ADMIN, NULL, 0, T0 + 30, &p),
	    TSK_VERDICT_INSUFFICIENT_SCOPE);
	assert_int_equal(key_row(f, id).last_used_at, 0);

	assert_int_equal(usage_flush(f->usage, f->db.st), TSK_OK);
	assert_int_equal(usage_pending(f->usage), 0);
	k = key_row(f, id);
	assert_int_equal(k.last_used_at, T0 + 20);
	assert_int_equal(k.use_count, 2);
	assert_int_equal(key_row(f, oid).use_count, 0);

	/* Without batching the store is written at once. */
	f->pol.usage = NULL;
	assert_int_equal(check(f, other, NULL, NULL, 0, T0 + 40, &p), TSK_VERDICT_OK);
	assert_int_equal(usage_pending(f->usage), 0);
	k = key_row(f, oid);
	assert_int_equal(k.last_used_at, T0 + 40);
	assert_int_equal(k.use_count, 1);
}

/* A statement through a connection of our own, as another process would run it. */
static void
sql_exec(const char *path, const char *sql)
{
	sqlite3	*db = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/*
 * Batched credit's own fail-closed rule: spending granted in memory, a failed flush refuses
 * metered calls (not free ones) until a flush succeeds, and past the unwritten bound the debit
 * is a store write that leaves the unwritten spending alone.
 */
static void
test_batch_credit_rule(void **state)
{
	struct fx		*f = *state;
	struct tsk_principal	 p;
	char			 key[SECRET_KEY_MAX];

	plain_key(f, NULL, NULL, key);
	f->usage = usage_new();
	assert_non_null(f->usage);
	f->pol.usage = f->usage;
	f->pol.batch_credit = 1;
	f->pol.batch_credit_max_unwritten = 4;

	/* In memory: nothing written, the balance reported net. */
	assert_int_equal(check(f, key, NULL, NULL, 3, T0, &p), TSK_VERDICT_OK);
	assert_int_equal(p.credit, 7);
	assert_int_equal(balance(f), 10);
	/* Past the bound (3 + 2 > 4): a store write, keeping the 3 unwritten out of reach. */
	assert_int_equal(check(f, key, NULL, NULL, 2, T0, &p), TSK_VERDICT_OK);
	assert_int_equal(p.credit, 5);
	assert_int_equal(balance(f), 8);
	assert_int_equal(usage_unwritten(f->usage), 3);
	assert_int_equal(check(f, key, NULL, NULL, 6, T0, &p), TSK_VERDICT_NO_CREDIT);
	assert_int_equal(balance(f), 8);
	/* The flush fails: metered calls are refused, free ones are not. */
	sql_exec(f->db.path, "CREATE TRIGGER no_spend BEFORE UPDATE ON accounts"
	    " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
	assert_int_not_equal(usage_flush(f->usage, f->db.st), TSK_OK);
	assert_int_equal(check(f, key, NULL, NULL, 1, T0, &p), TSK_VERDICT_ERROR);
	assert_int_equal(check(f, key, NULL, NULL, 0, T0, &p), TSK_VERDICT_OK);
	assert_int_equal(p.credit, 5);
	/* A flush succeeds: metered calls again, and the store has every grant. */
	sql_exec(f->db.path, "DROP TRIGGER no_spend");
	assert_int_equal(usage_flush(f->usage, f->db.st), TSK_OK);
	assert_int_equal(balance(f), 5);
	assert_int_equal(check(f, key, NULL, NULL, 1, T0, &p), TSK_VERDICT_OK);
	assert_int_equal(p.credit, 4);
	assert_int_equal(balance(f), 5);
}

static void
test_answer(void **state)
{
	static const struct {
		enum tsk_verdict	 v;
		const char		*code;
		int			 status;
		int			 masked;	/* reads as UNAUTHORIZED when uniform */
	} want[] = {
		{ TSK_VERDICT_OK, "OK", 200, 0 },
		{ TSK_VERDICT_MISSING, "MISSING", 401, 1 },
		{ TSK_VERDICT_INVALID, "INVALID", 401, 1 },
		{ TSK_VERDICT_DISABLED, "DISABLED", 403, 1 },
		{ TSK_VERDICT_EXPIRED, "EXPIRED", 403, 1 },
		{ TSK_VERDICT_INSUFFICIENT_SCOPE, "INSUFFICIENT_SCOPE", 403, 0 },
		{ TSK_VERDICT_IP_NOT_ALLOWED, "IP_NOT_ALLOWED", 403, 0 },
		{ TSK_VERDICT_NO_CREDIT, "NO_CREDIT", 403, 0 },
		{ TSK_VERDICT_RATE_LIMITED, "RATE_LIMITED", 429, 0 },
		{ TSK_VERDICT_ERROR, "UNAVAILABLE", 503, 0 },
	};
	struct validator_policy		plain, uniform;
	struct validator_answer		a;
	const char			*masked_message = NULL;
	size_t				i;

	(void)state;
	memset(&plain, 0, sizeof(plain));
	memset(&uniform, 0, sizeof(uniform));
	uniform.uniform_errors = 1;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		/* Without uniform errors (or without a policy): the verdict's own answer. */
		memset(&a, 0, sizeof(a));
		validator_answer(&plain, want[i].v, &a);
		assert_string_equal(a.code, want[i].code);
		assert_int_equal(a.status, want[i].status);
		assert_string_equal(a.message, validator_message(want[i].v));
		validator_answer(NULL, want[i].v, &a);
		assert_string_equal(a.code, want[i].code);
		assert_int_equal(a.status, want[i].status);

		memset(&a, 0, sizeof(a));
		validator_answer(&uniform, want[i].v, &a);
		if (!want[i].masked) {
			assert_string_equal(a.code, want[i].code);
			assert_int_equal(a.status, want[i].status);
			assert_string_equal(a.message, validator_message(want[i].v));
			continue;
		}
		assert_string_equal(a.code, "UNAUTHORIZED");
		assert_int_equal(a.status, 401);
		assert_non_null(a.message);
		assert_true(strlen(a.message) > 0);
		/* One answer for all four: nothing tells them apart. */
		if (masked_message == NULL)
			masked_message = a.message;
		assert_string_equal(a.message, masked_message);
	}
	validator_answer(&uniform, (enum tsk_verdict)99, &a);
	assert_string_equal(a.code, "UNAVAILABLE");
	assert_int_equal(a.status, 503);
}

static int64_t
drain_sessions(struct store *st)
{
	int64_t	n = -1;

	assert_int_equal(store_session_purge(st, INT64_MAX, &n), TSK_OK);
	return n;
}

static void
test_login_api_user(void **state)
{
	struct fx		*f = *state;
	struct login_policy	 lp = { .idle = IDLE, .api_user_login = 0, .password_max_age = 0 };
	struct tsk_principal	 p;
	char			 key[SECRET_SESSION_LEN + 1];

	assert_int_equal(admin_user_create(f->db.st, &cli, "acme", "svc", PW, STORE_USER_API),
	    TSK_OK);
	assert_int_equal(admin_user_create(f->db.st, &cli, "acme", "alice", PW,
	    STORE_USER_PERSON), TSK_OK);

	/* Login off for API users: refused, but only once the password was right. */
	memset(&p, 0xa5, sizeof(p));
	assert_int_equal(login_start(f->db.st, &lp, "svc", PW, "127.0.0.1", T0, key, &p), LOGIN_NOT_ALLOWED);
	assert_zero_principal(&p);
	memset(&p, 0xa5, sizeof(p));
	assert_int_equal(login_start(f->db.st, &lp, "svc", "wrong", "127.0.0.1", T0, key, &p), LOGIN_FAILED);
	assert_zero_principal(&p);
	assert_int_equal(drain_sessions(f->db.st), 0);
	/* People are not affected. */
	assert_int_equal(login_start(f->db.st, &lp, "alice", PW, "127.0.0.1", T0, key, &p), LOGIN_OK);
	assert_int_equal(drain_sessions(f->db.st), 1);

	/* Login on for API users. */
	lp.api_user_login = 1;
	assert_int_equal(login_start(f->db.st, &lp, "svc", PW, "127.0.0.1", T0, key, &p), LOGIN_OK);
	assert_string_equal(p.user, "svc");
	assert_int_equal(p.kind, TSK_PRINCIPAL_SESSION);
	assert_int_equal(login_start(f->db.st, &lp, "svc", "wrong", "127.0.0.1", T0, key, &p), LOGIN_FAILED);
	assert_int_equal(drain_sessions(f->db.st), 1);
}

static void
test_login_password_age(void **state)
{
	struct fx		*f = *state;
	struct login_policy	 lp = { .idle = IDLE, .api_user_login = 1, .password_max_age = 30 * DAY };
	struct tsk_principal	 p;
	char			 key[SECRET_SESSION_LEN + 1];

	assert_int_equal(admin_user_create(f->db.st, &cli, "acme", "alice", PW,
	    STORE_USER_PERSON), TSK_OK);
	assert_int_equal(admin_user_create(f->db.st, &cli, "acme", "svc", PW, STORE_USER_API),
	    TSK_OK);

	assert_int_equal(login_start(f->db.st, &lp, "alice", PW, "127.0.0.1", T0 + 30 * DAY - 1, key, &p),
	    LOGIN_OK);
	assert_int_equal(drain_sessions(f->db.st), 1);
	memset(&p, 0xa5, sizeof(p));
	assert_int_equal(login_start(f->db.st, &lp, "alice", PW, "127.0.0.1", T0 + 30 * DAY, key, &p),
	    LOGIN_PASSWORD_EXPIRED);
	assert_zero_principal(&p);
	/* A wrong password is a failed Login, expired or not: expiry tells only the owner. */
	assert_int_equal(login_start(f->db.st, &lp, "alice", "wrong", "127.0.0.1", T0 + 30 * DAY, key, &p),
	    LOGIN_FAILED);
	assert_int_equal(drain_sessions(f->db.st), 0);
	/* An API user's password never ages. */
	assert_int_equal(login_start(f->db.st, &lp, "svc", PW, "127.0.0.1", T0 + 3650 * DAY, key, &p),
	    LOGIN_OK);
	/* No maximum age: nobody's password expires. */
	lp.password_max_age = 0;
	assert_int_equal(login_start(f->db.st, &lp, "alice", PW, "127.0.0.1", T0 + 3650 * DAY, key, &p),
	    LOGIN_OK);
	assert_int_equal(drain_sessions(f->db.st), 2);
}

static void
test_login_strings(void **state)
{
	static const struct {
		enum login_result	 lr;
		const char		*code;
		enum tsk_verdict	 v;
	} want[] = {
		{ LOGIN_OK, "OK", TSK_VERDICT_OK },
		{ LOGIN_FAILED, "INVALID", TSK_VERDICT_INVALID },
		{ LOGIN_PASSWORD_EXPIRED, "PASSWORD_EXPIRED", TSK_VERDICT_EXPIRED },
		{ LOGIN_NOT_ALLOWED, "LOGIN_NOT_ALLOWED", TSK_VERDICT_INSUFFICIENT_SCOPE },
		{ LOGIN_ERROR, "UNAVAILABLE", TSK_VERDICT_ERROR },
	};
	const char	*m;
	size_t		 i, j;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_string_equal(login_code(want[i].lr), want[i].code);
		assert_int_equal(login_verdict(want[i].lr), want[i].v);
		m = login_message(want[i].lr);
		assert_non_null(m);
		assert_true(strlen(m) > 0);
		for (j = 0; j < i; j++)
			assert_string_not_equal(m, login_message(want[j].lr));
	}
	/* A refused Login is never a yes, and an unknown result is an error. */
	assert_int_equal(login_verdict((enum login_result)99), TSK_VERDICT_ERROR);
	assert_string_equal(login_code((enum login_result)99), "UNAVAILABLE");
	assert_string_equal(login_message((enum login_result)99), login_message(LOGIN_ERROR));
	/* The Login refusals map to the HTTP status their verdicts have. */
	assert_int_equal(validator_http_status(login_verdict(LOGIN_FAILED)), 401);
	assert_int_equal(validator_http_status(login_verdict(LOGIN_PASSWORD_EXPIRED)), 403);
	assert_int_equal(validator_http_status(login_verdict(LOGIN_NOT_ALLOWED)), 403);
	assert_int_equal(validator_http_status(login_verdict(LOGIN_ERROR)), 503);
}

static void
test_ops_table(void **state)
{
	enum tsk_op	op = TSK_OP__COUNT;
	int		i;

	(void)state;
	/* SOAP CreditRemaining and REST /rest/credit: one operation, free, needs credit:read. */
	assert_string_equal(ops_info(TSK_OP_CREDIT)->name, "credit");
	assert_string_equal(ops_info(TSK_OP_CREDIT)->scope, TSK_SCOPE_CREDIT);
	assert_int_equal(ops_info(TSK_OP_CREDIT)->cost, 0);
	assert_null(ops_info(TSK_OP_ME)->scope);
	assert_null(ops_info(TSK_OP_LOGOUT)->scope);
	assert_int_equal(ops_info(TSK_OP_VERIFY)->cost, 1);
	assert_string_equal(ops_info(TSK_OP_ADMIN)->scope, TSK_SCOPE_ADMIN);
	/* Out of range: the most demanding operation, never a free pass. */
	assert_string_equal(ops_info(TSK_OP__COUNT)->scope, TSK_SCOPE_ADMIN);
	assert_string_equal(ops_info((enum tsk_op)-1)->scope, TSK_SCOPE_ADMIN);
	for (i = 0; i < TSK_OP__COUNT; i++) {
		assert_int_equal(ops_by_name(ops_info((enum tsk_op)i)->name, &op), 0);
		assert_int_equal(op, i);
	}
	op = TSK_OP_ME;
	assert_int_equal(ops_by_name("nosuch", &op), -1);
	assert_int_equal(ops_by_name("", &op), -1);
	assert_int_equal(ops_by_name("Credit", &op), -1);
	assert_int_equal(op, TSK_OP_ME);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scope, setup, teardown),
		cmocka_unit_test(test_has_scope),
		cmocka_unit_test_setup_teardown(test_ip_allow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusal_costs_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_minute, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_day, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credit_cost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allowance, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allowance_principal_credit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_grace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usage_batching, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_credit_rule, setup, teardown),
		cmocka_unit_test(test_answer),
		cmocka_unit_test_setup_teardown(test_login_api_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_password_age, setup, teardown),
		cmocka_unit_test(test_login_strings),
		cmocka_unit_test(test_ops_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
