/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/admin.c against a real store in a fresh mkdtemp directory per test: every
 * rule admin.h states (names, scopes, allowlists, expiry, the active-key limit, the key
 * lifecycle, rotation, import), tenant isolation, and the audit trail each change writes. The
 * store's word is checked through store_* reads, and the audit table's guards and the absence
 * of keys on disk through the file itself.
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
#include "secret.h"
#include "store.h"
#include "validator.h"

#define T0	INT64_C(1795564800)	/* 2026-11-25T00:00:00Z */
#define PREFIX_LEN	13		/* "tsk_live_" + 4 */
#define LEGACY	"legacy-key-from-trackroad"

/* The CLI: every account, at T0, no limit on active keys. */
static const struct admin_actor cli = { "cli", 0, "", "", T0, 0 };

struct fx {
	struct fixture	db;		/* first member: see fixture.h */
	int64_t		acme;		/* credit 10 */
	int64_t		beta;		/* credit 5 */
};
_Static_assert(offsetof(struct fx, db) == 0, "struct fixture must come first");

static int
setup(void **state)
{
	struct fx	*f;

	if (fixture_setup(state, sizeof(*f), "admin") != 0)
		return -1;
	f = *state;
	if (admin_account_create(f->db.st, &cli, "acme", 10, 0, &f->acme) != TSK_OK ||
	    admin_account_create(f->db.st, &cli, "beta", 5, 0, &f->beta) != TSK_OK) {
		fixture_teardown(state);	/* cmocka skips teardown when setup fails */
		return -1;
	}
	return 0;
}

/* An admin key of account_id (0: a platform key), acting at now. */
static struct admin_actor
tenant(int64_t account_id, int64_t now)
{
	struct admin_actor	a = { "key:99", account_id, "203.0.113.9", "req-tenant", now, 0 };

	return a;
}

static struct admin_key_spec
spec_for(const char *account)
{
	struct admin_key_spec	s;

	memset(&s, 0, sizeof(s));
	s.account = account;
	return s;
}

/* A key of account made by who, expiring at expires_at (0: never); asserts it was made. */
static int64_t
make_key(struct store *st, const struct admin_actor *who, const char *account,
    int64_t expires_at, char key[SECRET_KEY_MAX])
{
	struct admin_key_spec	spec = spec_for(account);
	int64_t			id = 0;

	spec.name = "ci";
	spec.expires_at = expires_at;
	assert_int_equal(admin_key_create(st, who, &spec, key, &id), TSK_OK);
	assert_true(id > 0);
	return id;
}

static struct store_key
key_by_id(struct store *st, int64_t id)
{
	struct store_key	k;

	memset(&k, 0, sizeof(k));
	assert_int_equal(store_key_by_id(st, id, &k), TSK_OK);
	return k;
}

static struct store_account
account_by_id(struct store *st, int64_t id)
{
	struct store_account	a;

	memset(&a, 0, sizeof(a));
	assert_int_equal(store_account_by_id(st, id, &a), TSK_OK);
	return a;
}

static int
count_cb(const void *row, void *arg)
{
	(void)row;
	(*(int64_t *)arg)++;
	return 0;
}

static int
count_key(const struct store_key *k, void *arg)
{
	return count_cb(k, arg);
}

static int
count_audit(const struct store_audit *a, void *arg)
{
	return count_cb(a, arg);
}

static int64_t
key_count(struct store *st, int64_t account_id)
{
	int64_t	n = 0;

	assert_int_equal(store_key_list(st, account_id, count_key, &n), TSK_OK);
	return n;
}

static int64_t
audit_count(struct store *st)
{
	int64_t	n = 0;

	assert_int_equal(store_audit_list(st, 0, 0, 1000000, count_audit, &n), TSK_OK);
	return n;
}

static int
first_audit(const struct store_audit *a, void *arg)
{
	*(struct store_audit *)arg = *a;
	return 1;
}

static const char *
target(char *buf, size_t bufsz, const char *kind, int64_t id)
{
	snprintf(buf, bufsz, "%s:%lld", kind, (long long)id);
	return buf;
}

/*
 * Exactly one audit row was added since there were n, and it is who doing action on
 * account_id's target. Returns the new count, and the row in *out (may be NULL).
 */
static int64_t
expect_audit(struct store *st, int64_t n, const struct admin_actor *who, const char *action,
    int64_t account_id, const char *tgt, struct store_audit *out)
{
	struct store_audit	a;

	assert_int_equal(audit_count(st), n + 1);
	memset(&a, 0, sizeof(a));
	assert_int_equal(store_audit_list(st, 0, 0, 1, first_audit, &a), TSK_OK);
	assert_string_equal(a.action, action);
	assert_string_equal(a.actor, who->who);
	assert_int_equal(a.account_id, account_id);
	assert_string_equal(a.target, tgt);
	assert_string_equal(a.client, who->client);
	assert_string_equal(a.request_id, who->request_id);
	assert_int_equal(a.at, who->now);
	if (out != NULL)
		*out = a;
	return n + 1;
}

static void
test_names(void **state)
{
	char	name[TSK_NAME_MAX + 1], scopes[TSK_SCOPES_MAX + 1];
	int	i;

	(void)state;
	assert_true(admin_name_ok("acme"));
	assert_true(admin_name_ok("a b"));
	assert_true(admin_name_ok("caf\xc3\xa9"));
	assert_false(admin_name_ok(NULL));
	assert_false(admin_name_ok(""));
	assert_false(admin_name_ok(" acme"));
	assert_false(admin_name_ok("acme "));
	assert_false(admin_name_ok("ac\tme"));
	assert_false(admin_name_ok("ac\nme"));
	assert_false(admin_name_ok("ac\x7fme"));
	memset(name, 'n', sizeof(name));
	name[TSK_NAME_MAX - 1] = '\0';		/* 127 bytes */
	assert_true(admin_name_ok(name));
	name[TSK_NAME_MAX - 1] = 'n';
	name[TSK_NAME_MAX] = '\0';		/* 128 bytes */
	assert_false(admin_name_ok(name));

	assert_true(admin_scopes_ok("credit:read"));
	assert_true(admin_scopes_ok("credit:read keys:admin"));
	assert_true(admin_scopes_ok("a.b_c-d:0"));
	assert_false(admin_scopes_ok(NULL));
	assert_false(admin_scopes_ok("UPPER"));
	assert_false(admin_scopes_ok("credit:Read"));
	assert_false(admin_scopes_ok("credit;read"));
	assert_false(admin_scopes_ok("credit:read,keys:admin"));
	assert_false(admin_scopes_ok("credit:read\tkeys:admin"));
	assert_false(admin_scopes_ok("caf\xc3\xa9"));
	/* 16 tokens are fine, 17 are too many. */
	scopes[0] = '\0';
	for (i = 0; i < 16; i++)
		strcat(scopes, i == 0 ? "s" : " s");
	assert_true(admin_scopes_ok(scopes));
	strcat(scopes, " s");
	assert_false(admin_scopes_ok(scopes));
	/* 255 bytes are fine, 256 are too long. */
	memset(scopes, 'x', sizeof(scopes));
	scopes[TSK_SCOPES_MAX - 1] = '\0';
	assert_true(admin_scopes_ok(scopes));
	scopes[TSK_SCOPES_MAX - 1] = 'x';
	scopes[TSK_SCOPES_MAX] = '\0';
	assert_false(admin_scopes_ok(scopes));
}

static void
test_account_create(void **state)
{
	struct fx		*f = *state;
	struct admin_actor	 a = tenant(f->acme, T0);
	struct store_account	 acct;
	int64_t			 id = -7, n = -1;

	assert_int_equal(admin_account_create(f->db.st, &cli, "gamma", 3, 10, &id), TSK_OK);
	assert_true(id > f->beta);
	memset(&acct, 0, sizeof(acct));
	assert_int_equal(admin_account_get(f->db.st, &cli, "gamma", &acct), TSK_OK);
	assert_int_equal(acct.id, id);
	assert_string_equal(acct.name, "gamma");
	assert_int_equal(acct.credit, 3);
	assert_int_equal(acct.monthly_allowance, 10);
	assert_int_equal(acct.created_at, T0);

	/* Names are unique; bad names and allowances are the caller's mistake. */
	id = -7;
	assert_int_equal(admin_account_create(f->db.st, &cli, "gamma", 1, 0, &id),
	    TSK_ERR_CONFLICT);
	assert_int_equal(id, -7);
	assert_int_equal(admin_account_create(f->db.st, &cli, "", 1, 0, &id), TSK_ERR_INPUT);
	assert_int_equal(admin_account_create(f->db.st, &cli, NULL, 1, 0, &id), TSK_ERR_INPUT);
	assert_int_equal(admin_account_create(f->db.st, &cli, " delta", 1, 0, &id),
	    TSK_ERR_INPUT);
	assert_int_equal(admin_account_create(f->db.st, &cli, "del\x01ta", 1, 0, &id),
	    TSK_ERR_INPUT);
	assert_int_equal(admin_account_create(f->db.st, &cli, "delta", 1, -1, &id),
	    TSK_ERR_INPUT);
	assert_int_equal(admin_account_create(f->db.st, &cli, "delta", -1, 0, &id),
	    TSK_ERR_INPUT);

	/* Only the CLI and platform keys make accounts. */
	assert_int_equal(admin_account_create(f->db.st, &a, "delta", 1, 0, &id),
	    TSK_ERR_FORBIDDEN);
	assert_int_equal(id, -7);
	assert_int_equal(admin_account_get(f->db.st, &cli, "delta", &acct), TSK_NOT_FOUND);
	a = tenant(0, T0);
	assert_int_equal(admin_account_create(f->db.st, &a, "delta", 1, 0, &id), TSK_OK);
	assert_int_equal(store_account_count(f->db.st, &n), TSK_OK);
	assert_int_equal(n, 4);
}

static void
test_key_create(void **state)
{
	struct fx		*f = *state;
	struct admin_key_spec	 spec = spec_for("acme");
	struct admin_actor	 a = tenant(f->acme, T0);
	struct store_key	 k;
	unsigned char		 h[SECRET_HASH_LEN];
	char			 key[SECRET_KEY_MAX];
	int64_t			 id = 0, id2 = 0;

	spec.name = "billing";
	spec.env = "test";
	spec.scopes = "credit:read keys:admin";
	spec.ip_allow = "10.0.0.0/8, 2001:db8::/32";
	spec.rate_minute = 30;
	spec.rate_day = 1000;
	spec.expires_at = T0 + 86400;
	assert_int_equal(admin_key_create(f->db.st, &cli, &spec, key, &id), TSK_OK);
	assert_int_equal(strncmp(key, "tsk_test_", 9), 0);
	assert_int_equal(secret_key_format(key, strlen(key)), SECRET_FMT_TSK);

	memset(&k, 0, sizeof(k));
	assert_int_equal(admin_key_get(f->db.st, &cli, id, &k), TSK_OK);
	assert_int_equal(k.id, id);
	assert_int_equal(k.account_id, f->acme);
	assert_string_equal(k.account, "acme");
	assert_string_equal(k.name, "billing");
	assert_string_equal(k.env, "test");
	assert_string_equal(k.scopes, "credit:read keys:admin");
	assert_string_equal(k.ip_allow, "10.0.0.0/8, 2001:db8::/32");
	assert_int_equal(k.rate_minute, 30);
	assert_int_equal(k.rate_day, 1000);
	assert_int_equal(k.expires_at, T0 + 86400);
	assert_int_equal(k.created_at, T0);
	assert_int_equal(k.status, STORE_KEY_ACTIVE);
	assert_int_equal(k.platform, 0);
	assert_int_equal(k.stops_at, 0);
	assert_int_equal(k.rotated_from, 0);
	assert_int_equal(strlen(k.prefix), PREFIX_LEN);
	assert_memory_equal(k.prefix, key, PREFIX_LEN);
	/* Stored under the hash of exactly the key handed out. */
	secret_hash(key, strlen(key), h);
	assert_int_equal(store_key_by_hash(f->db.st, h, &k), TSK_OK);
	assert_int_equal(k.id, id);

	/* Nothing but the account: a live key with the default scope, open to any address. */
	spec = spec_for("acme");
	assert_int_equal(admin_key_create(f->db.st, &cli, &spec, key, &id2), TSK_OK);
	assert_int_equal(strncmp(key, "tsk_live_", 9), 0);
	k = key_by_id(f->db.st, id2);
	assert_string_equal(k.name, "");
	assert_string_equal(k.env, "live");
	assert_string_equal(k.scopes, TSK_SCOPES_DEFAULT);
	assert_string_equal(k.ip_allow, "");
	assert_int_equal(k.rate_minute, 0);
	assert_int_equal(k.rate_day, 0);
	assert_int_equal(k.expires_at, 0);
	assert_int_equal(k.platform, 0);

	/* A platform key: the CLI and platform actors may grant one, a tenant may not. */
	spec.platform = 1;
	assert_int_equal(admin_key_create(f->db.st, &cli, &spec, key, &id2), TSK_OK);
	assert_int_equal(key_by_id(f->db.st, id2).platform, 1);
	assert_int_equal(key_count(f->db.st, f->acme), 3);
	assert_int_equal(admin_key_create(f->db.st, &a, &spec, key, &id2), TSK_ERR_FORBIDDEN);
	assert_int_equal(key_count(f->db.st, f->acme), 3);
	a = tenant(0, T0);
	assert_int_equal(admin_key_create(f->db.st, &a, &spec, key, &id2), TSK_OK);
	assert_int_equal(key_by_id(f->db.st, id2).platform, 1);
	/* A tenant makes ordinary keys of its own account. */
	a = tenant(f->acme, T0);
	spec.platform = 0;
	assert_int_equal(admin_key_create(f->db.st, &a, &spec, key, &id2), TSK_OK);
	assert_int_equal(key_by_id(f->db.st, id2).account_id, f->acme);

	/* No such account. */
	spec = spec_for("nosuch");
	assert_int_equal(admin_key_create(f->db.st, &cli, &spec, key, &id2), TSK_NOT_FOUND);
}

/* Each spec is refused as input, and nothing is written: no key, no audit row. */
static void
test_key_create_invalid(void **state)
{
	static const char *const bad_scopes[] = {
		"UPPER", "credit;read", "credit:read,keys:admin", "credit:read\tkeys:admin",
		"s s s s s s s s s s s s s s s s s",
	};
	static const char *const bad_ips[] = {
		"10.0.0.0/33", "not-an-ip", "10.0.0.1/8", "1.2.3.4,", ",", " ", "10.0.0.0/08",
		"2001:db8::/129", "fe80::1%eth0", "example.com",
	};
	struct fx		*f = *state;
	struct admin_key_spec	 spec;
	char			 key[SECRET_KEY_MAX];
	int64_t			 id = -7, n_audit;
	size_t			 i;

	n_audit = audit_count(f->db.st);
	for (i = 0; i < sizeof(bad_scopes) / sizeof(bad_scopes[0]); i++) {
		spec = spec_for("acme");
		spec.scopes = bad_scopes[i];
		if (admin_key_create(f->db.st, &cli, &spec, key, &id) != TSK_ERR_INPUT)
			fail_msg("scopes \"%s\" were not refused as input", bad_scopes[i]);
	}
	for (i = 0; i < sizeof(bad_ips) / sizeof(bad_ips[0]); i++) {
		spec = spec_for("acme");
		spec.ip_allow = bad_ips[i];
		if (admin_key_create(f->db.st, &cli, &spec, key, &id) != TSK_ERR_INPUT)
			fail_msg("allowlist \"%s\" was not refused as input", bad_ips[i]);
	}
	/* An expiry must be in the future: now itself is not. */
	spec = spec_for("acme");
	spec.expires_at = T0 - 1;
	assert_int_equal(admin_key_create(f->db.st, &cli, &spec, key, &id), TSK_ERR_INPUT);
	spec.expires_at = T0;
	assert_int_equal(admin_key_create(f->db.st, &cli, &spec, key, &id), TSK_ERR_INPUT);
	spec = spec_for("acme");
	spec.name = " padded";
	assert_int_equal(admin_key_create(f->db.st, &cli, &spec, key, &id), TSK_ERR_INPUT);
	spec = spec_for("acme");
	spec.env = "prod";
	assert_int_equal(admin_key_create(f->db.st, &cli, &spec, key, &id), TSK_ERR_INPUT);
	spec = spec_for("acme");
	spec.rate_minute = -1;
	assert_int_equal(admin_key_create(f->db.st, &cli, &spec, key, &id), TSK_ERR_INPUT);
	spec = spec_for("acme");
	spec.rate_day = -1;
	assert_int_equal(admin_key_create(f->db.st, &cli, &spec, key, &id), TSK_ERR_INPUT);

	assert_int_equal(id, -7);
	assert_int_equal(key_count(f->db.st, 0), 0);
	assert_int_equal(audit_count(f->db.st), n_audit);
	/* The control: the same spec with a good value goes through. */
	spec = spec_for("acme");
	spec.expires_at = T0 + 1;
	spec.ip_allow = "10.0.0.0/8";
	spec.scopes = "s s s s s s s s s s s s s s s s";
	assert_int_equal(admin_key_create(f->db.st, &cli, &spec, key, &id), TSK_OK);
}

static void
test_max_active(void **state)
{
	struct fx		*f = *state;
	struct admin_actor	 a = cli;
	char			 key[SECRET_KEY_MAX];
	int64_t			 k1, k2, id = -7;
	struct admin_key_spec	 spec = spec_for("acme");

	a.max_active = 3;
	/* beta's keys are beta's: they do not count against acme. */
	make_key(f->db.st, &a, "beta", 0, key);
	make_key(f->db.st, &a, "beta", 0, key);

	k1 = make_key(f->db.st, &a, "acme", 0, key);
	k2 = make_key(f->db.st, &a, "acme", 0, key);
	make_key(f->db.st, &a, "acme", 0, key);
	assert_int_equal(admin_key_create(f->db.st, &a, &spec, key, &id), TSK_ERR_LIMIT);
	assert_int_equal(id, -7);
	assert_int_equal(key_count(f->db.st, f->acme), 3);

	/* A deactivated key frees its slot... */
	assert_int_equal(admin_key_deactivate(f->db.st, &a, k1), TSK_OK);
	make_key(f->db.st, &a, "acme", 0, key);
	assert_int_equal(admin_key_create(f->db.st, &a, &spec, key, &id), TSK_ERR_LIMIT);
	/* ...and takes one again when reactivated: not while the account is full. */
	assert_int_equal(admin_key_reactivate(f->db.st, &a, k1), TSK_ERR_LIMIT);
	assert_int_equal(key_by_id(f->db.st, k1).status, STORE_KEY_INACTIVE);
	assert_int_equal(admin_key_deactivate(f->db.st, &a, k2), TSK_OK);
	assert_int_equal(admin_key_reactivate(f->db.st, &a, k1), TSK_OK);
	/* Reactivating a key that is active already needs no second slot. */
	assert_int_equal(admin_key_reactivate(f->db.st, &a, k1), TSK_OK);
	/* Rotation replaces a key: it needs no extra slot either. */
	assert_int_equal(admin_key_rotate(f->db.st, &a, k1, 60, key, &id), TSK_OK);
	/* The limit is the actor's: the CLI without one is not held to it. */
	assert_int_equal(admin_key_create(f->db.st, &cli, &spec, key, &id), TSK_OK);
}

/* A key that expired by the time of the next create does not hold a slot. */
static void
test_max_active_expired(void **state)
{
	struct fx		*f = *state;
	struct admin_actor	 a = cli;
	struct admin_key_spec	 spec = spec_for("acme");
	char			 key[SECRET_KEY_MAX];
	int64_t			 id = -7;

	a.max_active = 3;
	make_key(f->db.st, &a, "acme", T0 + 100, key);
	make_key(f->db.st, &a, "acme", 0, key);
	make_key(f->db.st, &a, "acme", 0, key);
	assert_int_equal(admin_key_create(f->db.st, &a, &spec, key, &id), TSK_ERR_LIMIT);
	a.now = T0 + 99;
	assert_int_equal(admin_key_create(f->db.st, &a, &spec, key, &id), TSK_ERR_LIMIT);
	a.now = T0 + 100;
	assert_int_equal(admin_key_create(f->db.st, &a, &spec, key, &id), TSK_OK);
	assert_int_equal(admin_key_create(f->db.st, &a, &spec, key, &id), TSK_ERR_LIMIT);
	assert_int_equal(key_count(f->db.st, f->acme), 4);
}

static void
test_deactivate_reactivate(void **state)
{
	struct fx		*f = *state;
	struct admin_actor	 a = cli;
	char			 key[SECRET_KEY_MAX];
	int64_t			 id, exp;

	id = make_key(f->db.st, &cli, "acme", 0, key);
	assert_int_equal(admin_key_deactivate(f->db.st, &cli, id), TSK_OK);
	assert_int_equal(key_by_id(f->db.st, id).status, STORE_KEY_INACTIVE);
	assert_string_equal(admin_key_state(&(struct store_key){ .status = STORE_KEY_INACTIVE },
	    T0), "inactive");
	assert_int_equal(admin_key_reactivate(f->db.st, &cli, id), TSK_OK);
	assert_int_equal(key_by_id(f->db.st, id).status, STORE_KEY_ACTIVE);
	assert_int_equal(admin_key_deactivate(f->db.st, &cli, id + 1000), TSK_NOT_FOUND);
	assert_int_equal(admin_key_reactivate(f->db.st, &cli, id + 1000), TSK_NOT_FOUND);

	/* An expired key cannot be brought back, deactivated in between or not. */
	exp = make_key(f->db.st, &cli, "acme", T0 + 100, key);
	a.now = T0 + 50;
	assert_int_equal(admin_key_deactivate(f->db.st, &a, exp), TSK_OK);
	a.now = T0 + 100;
	assert_int_equal(admin_key_reactivate(f->db.st, &a, exp), TSK_ERR_CONFLICT);
	assert_int_equal(key_by_id(f->db.st, exp).status, STORE_KEY_INACTIVE);
	a.now = T0 + 99;
	assert_int_equal(admin_key_reactivate(f->db.st, &a, exp), TSK_OK);
	a.now = T0 + 200;
	assert_int_equal(admin_key_reactivate(f->db.st, &a, exp), TSK_ERR_CONFLICT);
	assert_string_equal(admin_key_state(&(struct store_key){ .status = STORE_KEY_ACTIVE,
	    .expires_at = T0 + 100 }, T0 + 200), "expired");
}

static void
test_delete(void **state)
{
	struct fx		*f = *state;
	struct admin_actor	 a = cli;
	struct store_key	 k;
	unsigned char		 h[SECRET_HASH_LEN];
	char			 key[SECRET_KEY_MAX];
	int64_t			 id, exp;

	id = make_key(f->db.st, &cli, "acme", 0, key);
	secret_hash(key, strlen(key), h);
	/* A working key must be deactivated first. */
	assert_int_equal(admin_key_delete(f->db.st, &cli, id), TSK_ERR_CONFLICT);
	assert_int_equal(admin_key_get(f->db.st, &cli, id, &k), TSK_OK);
	assert_int_equal(admin_key_deactivate(f->db.st, &cli, id), TSK_OK);
	assert_int_equal(admin_key_delete(f->db.st, &cli, id), TSK_OK);
	assert_int_equal(admin_key_get(f->db.st, &cli, id, &k), TSK_NOT_FOUND);
	assert_int_equal(store_key_by_hash(f->db.st, h, &k), TSK_NOT_FOUND);
	assert_int_equal(admin_key_delete(f->db.st, &cli, id), TSK_NOT_FOUND);

	/* An expired key is done already: it may go without being deactivated. */
	exp = make_key(f->db.st, &cli, "acme", T0 + 100, key);
	a.now = T0 + 99;
	assert_int_equal(admin_key_delete(f->db.st, &a, exp), TSK_ERR_CONFLICT);
	a.now = T0 + 100;
	assert_int_equal(admin_key_delete(f->db.st, &a, exp), TSK_OK);
	assert_int_equal(admin_key_get(f->db.st, &cli, exp, &k), TSK_NOT_FOUND);
}

/* The settings a rotation carries over from old to new. */
static void
assert_same_settings(const struct store_key *old, const struct store_key *new)
{
	assert_int_equal(new->account_id, old->account_id);
	assert_string_equal(new->name, old->name);
	assert_string_equal(new->env, old->env);
	assert_string_equal(new->scopes, old->scopes);
	assert_string_equal(new->ip_allow, old->ip_allow);
	assert_int_equal(new->rate_minute, old->rate_minute);
	assert_int_equal(new->rate_day, old->rate_day);
	assert_int_equal(new->expires_at, old->expires_at);
	assert_int_equal(new->platform, old->platform);
}

static int64_t
rich_key(struct store *st, char key[SECRET_KEY_MAX])
{
	struct admin_key_spec	spec = spec_for("acme");
	int64_t			id = 0;

	spec.name = "billing";
	spec.scopes = "credit:read keys:admin";
	spec.ip_allow = "10.0.0.0/8";
	spec.rate_minute = 5;
	spec.rate_day = 50;
	spec.expires_at = T0 + 86400;
	assert_int_equal(admin_key_create(st, &cli, &spec, key, &id), TSK_OK);
	return id;
}

static void
test_rotate_now(void **state)
{
	struct fx		*f = *state;
	struct admin_actor	 a = cli;
	struct store_key	 old, new;
	unsigned char		 h[SECRET_HASH_LEN];
	char			 key[SECRET_KEY_MAX], key2[SECRET_KEY_MAX];
	int64_t			 id, id2 = 0;

	id = rich_key(f->db.st, key);
	a.now = T0 + 10;
	assert_int_equal(admin_key_rotate(f->db.st, &a, id, 0, key2, &id2), TSK_OK);
	assert_true(id2 > id);
	assert_string_not_equal(key, key2);
	assert_int_equal(secret_key_format(key2, strlen(key2)), SECRET_FMT_TSK);

	old = key_by_id(f->db.st, id);
	new = key_by_id(f->db.st, id2);
	/* Grace 0: the old key stops at once. */
	assert_int_equal(old.status, STORE_KEY_INACTIVE);
	assert_string_equal(admin_key_state(&old, T0 + 10), "inactive");
	assert_same_settings(&old, &new);
	assert_string_equal(new.name, "billing");
	assert_string_equal(new.scopes, "credit:read keys:admin");
	assert_string_equal(new.ip_allow, "10.0.0.0/8");
	assert_int_equal(new.rate_minute, 5);
	assert_int_equal(new.rate_day, 50);
	assert_int_equal(new.expires_at, T0 + 86400);
	assert_int_equal(new.rotated_from, id);
	assert_int_equal(new.status, STORE_KEY_ACTIVE);
	assert_int_equal(new.created_at, T0 + 10);
	assert_int_equal(new.stops_at, 0);
	assert_int_equal(new.use_count, 0);
	assert_memory_equal(new.prefix, key2, PREFIX_LEN);
	assert_string_equal(admin_key_state(&new, T0 + 10), "active");
	secret_hash(key2, strlen(key2), h);
	assert_int_equal(store_key_by_hash(f->db.st, h, &new), TSK_OK);
	assert_int_equal(new.id, id2);

	/* Only a working key is rotated. */
	assert_int_equal(admin_key_rotate(f->db.st, &a, id, 0, key2, &id2), TSK_ERR_CONFLICT);
	assert_int_equal(admin_key_rotate(f->db.st, &a, id + 1000, 0, key2, &id2),
	    TSK_NOT_FOUND);
	assert_int_equal(admin_key_rotate(f->db.st, &a, new.id, -1, key2, &id2), TSK_ERR_INPUT);
	a.now = T0 + 86400;
	assert_int_equal(admin_key_rotate(f->db.st, &a, new.id, 0, key2, &id2), TSK_ERR_CONFLICT);
	assert_int_equal(key_count(f->db.st, f->acme), 2);
}

static void
test_rotate_grace(void **state)
{
	struct fx		*f = *state;
	struct admin_actor	 a = cli;
	struct store_key	 old, new;
	char			 key[SECRET_KEY_MAX], key2[SECRET_KEY_MAX];
	int64_t			 id, id2 = 0;

	id = rich_key(f->db.st, key);
	a.now = T0 + 10;
	assert_int_equal(admin_key_rotate(f->db.st, &a, id, 60, key2, &id2), TSK_OK);
	old = key_by_id(f->db.st, id);
	new = key_by_id(f->db.st, id2);
	/* The old key works on through the grace window, and stops at its end. */
	assert_int_equal(old.status, STORE_KEY_ACTIVE);
	assert_int_equal(old.stops_at, T0 + 10 + 60);
	assert_int_equal(admin_key_ends(&old), T0 + 70);
	assert_string_equal(admin_key_state(&old, T0 + 69), "active");
	assert_string_equal(admin_key_state(&old, T0 + 70), "expired");
	assert_string_equal(admin_key_state(&old, T0 + 10 + 61), "expired");
	assert_same_settings(&old, &new);
	assert_int_equal(new.rotated_from, id);
	assert_int_equal(new.stops_at, 0);
	assert_int_equal(admin_key_ends(&new), T0 + 86400);

	/* Once the grace is over the old key cannot be brought back. */
	a.now = T0 + 10 + 61;
	assert_int_equal(admin_key_reactivate(f->db.st, &a, id), TSK_ERR_CONFLICT);
	assert_int_equal(admin_key_rotate(f->db.st, &a, id, 0, key2, &id2), TSK_ERR_CONFLICT);
	/* ...but, done, it may be deleted. */
	assert_int_equal(admin_key_delete(f->db.st, &a, id), TSK_OK);

	/* A grace that would outlast the expiry ends at the expiry. */
	a.now = T0 + 86400 - 30;
	assert_int_equal(admin_key_rotate(f->db.st, &a, new.id, 3600, key2, &id2), TSK_OK);
	new = key_by_id(f->db.st, new.id);
	assert_int_equal(new.stops_at, T0 + 86400 - 30 + 3600);
	assert_int_equal(admin_key_ends(&new), T0 + 86400);
	assert_int_equal(admin_key_ends(&(struct store_key){ .stops_at = 0 }), 0);
}

static void
test_rotate_inactive(void **state)
{
	struct fx	*f = *state;
	char		 key[SECRET_KEY_MAX], key2[SECRET_KEY_MAX];
	int64_t		 id, id2 = -7;

	id = make_key(f->db.st, &cli, "acme", 0, key);
	assert_int_equal(admin_key_deactivate(f->db.st, &cli, id), TSK_OK);
	assert_int_equal(admin_key_rotate(f->db.st, &cli, id, 0, key2, &id2), TSK_ERR_CONFLICT);
	assert_int_equal(admin_key_rotate(f->db.st, &cli, id, 60, key2, &id2), TSK_ERR_CONFLICT);
	assert_int_equal(id2, -7);
	assert_int_equal(key_count(f->db.st, f->acme), 1);
	assert_int_equal(key_by_id(f->db.st, id).stops_at, 0);
}

static void
test_import(void **state)
{
	struct fx		*f = *state;
	struct admin_key_spec	 spec = spec_for("acme");
	struct validator_policy	 pol;
	struct validator_req	 req;
	struct tsk_principal	 p;
	struct store_key	 k;
	unsigned char		 h[SECRET_HASH_LEN];
	char			 key2[SECRET_KEY_MAX];
	int64_t			 id = 0, id2 = -7;

	secret_hash(LEGACY, strlen(LEGACY), h);
	spec.name = "from trackroad";
	assert_int_equal(admin_key_import(f->db.st, &cli, &spec, h, &id), TSK_OK);
	memset(&k, 0, sizeof(k));
	assert_int_equal(store_key_by_hash(f->db.st, h, &k), TSK_OK);
	assert_int_equal(k.id, id);
	assert_int_equal(k.account_id, f->acme);
	assert_string_equal(k.env, "legacy");
	assert_string_equal(k.name, "from trackroad");
	assert_string_equal(k.scopes, TSK_SCOPES_DEFAULT);
	assert_int_equal(k.status, STORE_KEY_ACTIVE);

	/* The same hash twice, even for another account: refused, nothing written. */
	assert_int_equal(admin_key_import(f->db.st, &cli, &spec, h, &id2), TSK_ERR_CONFLICT);
	spec.account = "beta";
	assert_int_equal(admin_key_import(f->db.st, &cli, &spec, h, &id2), TSK_ERR_CONFLICT);
	assert_int_equal(id2, -7);
	assert_int_equal(key_count(f->db.st, 0), 1);

	/* The clients holding the legacy key keep working. */
	memset(&pol, 0, sizeof(pol));
	memset(&req, 0, sizeof(req));
	req.credential = LEGACY;
	req.len = strlen(LEGACY);
	req.channel = TSK_CHANNEL_SOAP;
	req.now = T0 + 1;
	assert_int_equal(validator_check(f->db.st, &pol, &req, &p), TSK_VERDICT_OK);
	assert_int_equal(p.key_id, id);
	assert_string_equal(p.env, "legacy");

	/* Rotated, a legacy key becomes a tsk_ key. */
	assert_int_equal(admin_key_rotate(f->db.st, &cli, id, 0, key2, &id2), TSK_OK);
	assert_int_equal(strncmp(key2, "tsk_live_", 9), 0);
	assert_string_equal(key_by_id(f->db.st, id2).env, "live");

	/* Imports obey the same input rules as creates. */
	spec = spec_for("acme");
	spec.scopes = "UPPER";
	secret_hash("another legacy key", 18, h);
	assert_int_equal(admin_key_import(f->db.st, &cli, &spec, h, &id2), TSK_ERR_INPUT);
	spec = spec_for("nosuch");
	assert_int_equal(admin_key_import(f->db.st, &cli, &spec, h, &id2), TSK_NOT_FOUND);
}

static void
test_credit_ops(void **state)
{
	struct fx		*f = *state;
	struct store_account	 a;

	assert_int_equal(admin_credit_set(f->db.st, &cli, "acme", 42), TSK_OK);
	assert_int_equal(account_by_id(f->db.st, f->acme).credit, 42);
	assert_int_equal(admin_credit_add(f->db.st, &cli, "acme", -2), TSK_OK);
	assert_int_equal(account_by_id(f->db.st, f->acme).credit, 40);
	assert_int_equal(admin_allowance_set(f->db.st, &cli, "acme", 100), TSK_OK);
	a = account_by_id(f->db.st, f->acme);
	assert_int_equal(a.monthly_allowance, 100);
	assert_int_equal(a.credit, 40);
	assert_int_equal(admin_allowance_set(f->db.st, &cli, "acme", -1), TSK_ERR_INPUT);
	assert_int_equal(account_by_id(f->db.st, f->acme).monthly_allowance, 100);
	/* A balance is never set below zero; an adjustment may take it there. */
	assert_int_equal(admin_credit_set(f->db.st, &cli, "acme", -1), TSK_ERR_INPUT);
	assert_int_equal(account_by_id(f->db.st, f->acme).credit, 40);
	assert_int_equal(admin_credit_add(f->db.st, &cli, "acme", -41), TSK_OK);
	assert_int_equal(account_by_id(f->db.st, f->acme).credit, -1);
	assert_int_equal(admin_credit_set(f->db.st, &cli, "nosuch", 1), TSK_NOT_FOUND);
	assert_int_equal(admin_credit_add(f->db.st, &cli, "nosuch", 1), TSK_NOT_FOUND);
	assert_int_equal(admin_allowance_set(f->db.st, &cli, "nosuch", 1), TSK_NOT_FOUND);
	assert_int_equal(admin_account_get(f->db.st, &cli, "nosuch", &a), TSK_NOT_FOUND);
	/* beta is untouched by all that. */
	assert_int_equal(account_by_id(f->db.st, f->beta).credit, 5);
}

static void
test_user_create(void **state)
{
	struct fx		*f = *state;
	struct store_user	 u;

	assert_int_equal(admin_user_create(f->db.st, &cli, "acme", "svc", "s3cret pass",
	    STORE_USER_API), TSK_OK);
	memset(&u, 0, sizeof(u));
	assert_int_equal(store_user_by_name(f->db.st, "svc", &u), TSK_OK);
	assert_int_equal(u.account_id, f->acme);
	assert_int_equal(u.kind, STORE_USER_API);
	assert_int_equal(u.created_at, T0);
	assert_int_equal(u.password_changed_at, T0);
	assert_int_equal(strncmp(u.pwhash, "scrypt$", 7), 0);
	assert_null(strstr(u.pwhash, "s3cret"));

	assert_int_equal(admin_user_create(f->db.st, &cli, "beta", "svc", "x", STORE_USER_PERSON),
	    TSK_ERR_CONFLICT);
	assert_int_equal(admin_user_create(f->db.st, &cli, "acme", "bob", "x", 7), TSK_ERR_INPUT);
	assert_int_equal(admin_user_create(f->db.st, &cli, "acme", "bob", "", STORE_USER_PERSON),
	    TSK_ERR_INPUT);
	assert_int_equal(admin_user_create(f->db.st, &cli, "acme", "bob", NULL, STORE_USER_PERSON),
	    TSK_ERR_INPUT);
	assert_int_equal(admin_user_create(f->db.st, &cli, "acme", " bob", "x", STORE_USER_PERSON),
	    TSK_ERR_INPUT);
	assert_int_equal(admin_user_create(f->db.st, &cli, "nosuch", "bob", "x",
	    STORE_USER_PERSON), TSK_NOT_FOUND);
	assert_int_equal(store_user_by_name(f->db.st, "bob", &u), TSK_NOT_FOUND);
}

/*
 * An actor bound to acme gets FORBIDDEN for anything of beta's and for anything that does not
 * exist (so it cannot tell the two apart), and nothing changes.
 */
static void
test_tenant_isolation(void **state)
{
	struct fx		*f = *state;
	struct admin_actor	 a = tenant(f->acme, T0 + 5);
	struct admin_key_spec	 spec;
	struct store_account	 acct;
	struct store_key	 k, before;
	struct store_user	 u;
	unsigned char		 h[SECRET_HASH_LEN];
	char			 key[SECRET_KEY_MAX], key2[SECRET_KEY_MAX];
	const char		*accounts[] = { "beta", "nosuch" };
	int64_t			 mine, theirs, ghost, id = -7, n_audit;
	size_t			 i;

	mine = make_key(f->db.st, &cli, "acme", 0, key);
	theirs = make_key(f->db.st, &cli, "beta", 0, key);
	ghost = theirs + 1000;
	before = key_by_id(f->db.st, theirs);
	n_audit = audit_count(f->db.st);

	/* Another tenant's key, and a key that does not exist, read the same. */
	assert_int_equal(admin_key_get(f->db.st, &a, theirs, &k), TSK_ERR_FORBIDDEN);
	assert_int_equal(admin_key_get(f->db.st, &a, ghost, &k), TSK_ERR_FORBIDDEN);
	assert_int_equal(admin_key_deactivate(f->db.st, &a, theirs), TSK_ERR_FORBIDDEN);
	assert_int_equal(admin_key_deactivate(f->db.st, &a, ghost), TSK_ERR_FORBIDDEN);
	assert_int_equal(admin_key_reactivate(f->db.st, &a, theirs), TSK_ERR_FORBIDDEN);
	assert_int_equal(admin_key_reactivate(f->db.st, &a, ghost), TSK_ERR_FORBIDDEN);
	assert_int_equal(admin_key_delete(f->db.st, &a, theirs), TSK_ERR_FORBIDDEN);
	assert_int_equal(admin_key_delete(f->db.st, &a, ghost), TSK_ERR_FORBIDDEN);
	assert_int_equal(admin_key_rotate(f->db.st, &a, theirs, 0, key2, &id),
	    TSK_ERR_FORBIDDEN);
	assert_int_equal(admin_key_rotate(f->db.st, &a, ghost, 0, key2, &id), TSK_ERR_FORBIDDEN);
	/* Even the delete that would be refused anyway (an active key) says FORBIDDEN. */
	assert_int_equal(admin_key_deactivate(f->db.st, &cli, theirs), TSK_OK);
	assert_int_equal(admin_key_delete(f->db.st, &a, theirs), TSK_ERR_FORBIDDEN);
	assert_int_equal(admin_key_reactivate(f->db.st, &a, theirs), TSK_ERR_FORBIDDEN);
	assert_int_equal(admin_key_reactivate(f->db.st, &cli, theirs), TSK_OK);
	n_audit += 2;

	for (i = 0; i < sizeof(accounts) / sizeof(accounts[0]); i++) {
		assert_int_equal(admin_account_get(f->db.st, &a, accounts[i], &acct),
		    TSK_ERR_FORBIDDEN);
		assert_int_equal(admin_credit_set(f->db.st, &a, accounts[i], 1000),
		    TSK_ERR_FORBIDDEN);
		assert_int_equal(admin_credit_add(f->db.st, &a, accounts[i], 1000),
		    TSK_ERR_FORBIDDEN);
		assert_int_equal(admin_allowance_set(f->db.st, &a, accounts[i], 1000),
		    TSK_ERR_FORBIDDEN);
		assert_int_equal(admin_user_create(f->db.st, &a, accounts[i], "mallory", "pw",
		    STORE_USER_PERSON), TSK_ERR_FORBIDDEN);
		spec = spec_for(accounts[i]);
		assert_int_equal(admin_key_create(f->db.st, &a, &spec, key2, &id),
		    TSK_ERR_FORBIDDEN);
		secret_hash(accounts[i], strlen(accounts[i]), h);
		assert_int_equal(admin_key_import(f->db.st, &a, &spec, h, &id),
		    TSK_ERR_FORBIDDEN);
		assert_int_equal(store_key_by_hash(f->db.st, h, &k), TSK_NOT_FOUND);
	}
	assert_int_equal(id, -7);

	/* Nothing of beta's changed, nothing was made, nothing was written to the trail. */
	k = key_by_id(f->db.st, theirs);
	assert_int_equal(k.status, STORE_KEY_ACTIVE);
	assert_int_equal(k.stops_at, before.stops_at);
	assert_int_equal(key_count(f->db.st, f->beta), 1);
	acct = account_by_id(f->db.st, f->beta);
	assert_int_equal(acct.credit, 5);
	assert_int_equal(acct.monthly_allowance, 0);
	assert_int_equal(store_user_by_name(f->db.st, "mallory", &u), TSK_NOT_FOUND);
	assert_int_equal(admin_account_get(f->db.st, &cli, "nosuch", &acct), TSK_NOT_FOUND);
	assert_int_equal(audit_count(f->db.st), n_audit);

	/* The control: the same actor may do all of it to its own account. */
	assert_int_equal(admin_key_get(f->db.st, &a, mine, &k), TSK_OK);
	assert_int_equal(admin_account_get(f->db.st, &a, "acme", &acct), TSK_OK);
	assert_int_equal(admin_credit_add(f->db.st, &a, "acme", 1), TSK_OK);
	assert_int_equal(admin_allowance_set(f->db.st, &a, "acme", 3), TSK_OK);
	spec = spec_for("acme");
	assert_int_equal(admin_key_create(f->db.st, &a, &spec, key2, &id), TSK_OK);
	assert_int_equal(admin_key_rotate(f->db.st, &a, mine, 0, key2, &id), TSK_OK);
	assert_int_equal(admin_key_delete(f->db.st, &a, mine), TSK_OK);
}

/* Each successful change writes exactly one row naming who, what, where; a refusal writes none. */
static void
test_audit_rows(void **state)
{
	struct fx		*f = *state;
	struct admin_actor	 a = { "key:7", 0, "203.0.113.9", "req-abc123", T0 + 5, 0 };
	struct admin_actor	 t = tenant(f->acme, T0 + 5);
	struct admin_key_spec	 spec;
	struct store_audit	 row;
	char			 key[SECRET_KEY_MAX], tg[64];
	unsigned char		 h[SECRET_HASH_LEN];
	int64_t			 gamma = 0, kid = 0, kid2 = 0, imp = 0, exp = 0, id, n;

	n = audit_count(f->db.st);	/* the fixture's two accounts */
	assert_int_equal(n, 2);

	assert_int_equal(admin_account_create(f->db.st, &a, "gamma", 3, 10, &gamma), TSK_OK);
	n = expect_audit(f->db.st, n, &a, "account.create", gamma,
	    target(tg, sizeof(tg), "account", gamma), &row);
	assert_non_null(strstr(row.detail, "\"name\":\"gamma\""));
	assert_int_equal(admin_credit_set(f->db.st, &a, "gamma", 7), TSK_OK);
	n = expect_audit(f->db.st, n, &a, "account.credit_set", gamma, tg, &row);
	assert_non_null(strstr(row.detail, "\"value\":7"));
	assert_int_equal(admin_credit_add(f->db.st, &a, "gamma", 3), TSK_OK);
	n = expect_audit(f->db.st, n, &a, "account.credit_add", gamma, tg, NULL);
	assert_int_equal(admin_allowance_set(f->db.st, &a, "gamma", 20), TSK_OK);
	n = expect_audit(f->db.st, n, &a, "account.allowance_set", gamma, tg, NULL);

	spec = spec_for("gamma");
	spec.scopes = "credit:read keys:admin";
	assert_int_equal(admin_key_create(f->db.st, &a, &spec, key, &kid), TSK_OK);
	n = expect_audit(f->db.st, n, &a, "key.create", gamma, target(tg, sizeof(tg), "key", kid),
	    &row);
	assert_non_null(strstr(row.detail, "\"scopes\":\"credit:read keys:admin\""));
	assert_int_equal(admin_key_deactivate(f->db.st, &a, kid), TSK_OK);
	n = expect_audit(f->db.st, n, &a, "key.deactivate", gamma, tg, NULL);
	assert_int_equal(admin_key_reactivate(f->db.st, &a, kid), TSK_OK);
	n = expect_audit(f->db.st, n, &a, "key.reactivate", gamma, tg, NULL);
	assert_int_equal(admin_key_rotate(f->db.st, &a, kid, 0, key, &kid2), TSK_OK);
	n = expect_audit(f->db.st, n, &a, "key.rotate", gamma,
	    target(tg, sizeof(tg), "key", kid2), &row);
	assert_non_null(strstr(row.detail, "\"rotated_from\""));
	assert_int_equal(admin_key_delete(f->db.st, &a, kid), TSK_OK);
	n = expect_audit(f->db.st, n, &a, "key.delete", gamma, target(tg, sizeof(tg), "key", kid),
	    NULL);
	secret_hash(LEGACY, strlen(LEGACY), h);
	assert_int_equal(admin_key_import(f->db.st, &a, &spec, h, &imp), TSK_OK);
	n = expect_audit(f->db.st, n, &a, "key.import", gamma, target(tg, sizeof(tg), "key", imp),
	    NULL);
	assert_int_equal(admin_user_create(f->db.st, &a, "gamma", "carol", "pw",
	    STORE_USER_API), TSK_OK);
	n = expect_audit(f->db.st, n, &a, "user.create", gamma, "user:carol", &row);
	assert_string_equal(row.detail, "{\"kind\":\"api\"}");

	/* Refusals of every kind write nothing. */
	spec = spec_for("gamma");
	spec.expires_at = T0 + 100;
	assert_int_equal(admin_key_create(f->db.st, &cli, &spec, key, &exp), TSK_OK);
	n++;
	assert_int_equal(admin_key_delete(f->db.st, &a, kid2), TSK_ERR_CONFLICT);
	assert_int_equal(admin_key_rotate(f->db.st, &a, kid + 1000, 0, key, &id), TSK_NOT_FOUND);
	assert_int_equal(admin_key_import(f->db.st, &a, &spec, h, &id), TSK_ERR_CONFLICT);
	assert_int_equal(admin_account_create(f->db.st, &a, "gamma", 1, 0, &id),
	    TSK_ERR_CONFLICT);
	assert_int_equal(admin_user_create(f->db.st, &a, "gamma", "carol", "pw",
	    STORE_USER_PERSON), TSK_ERR_CONFLICT);
	assert_int_equal(admin_key_deactivate(f->db.st, &t, kid2), TSK_ERR_FORBIDDEN);
	assert_int_equal(admin_credit_set(f->db.st, &t, "gamma", 0), TSK_ERR_FORBIDDEN);
	assert_int_equal(admin_account_create(f->db.st, &t, "delta", 1, 0, &id),
	    TSK_ERR_FORBIDDEN);
	spec.expires_at = T0 - 1;
	assert_int_equal(admin_key_create(f->db.st, &a, &spec, key, &id), TSK_ERR_INPUT);
	a.now = T0 + 200;
	assert_int_equal(admin_key_reactivate(f->db.st, &a, exp), TSK_ERR_CONFLICT);
	assert_int_equal(admin_key_deactivate(f->db.st, &a, imp), TSK_OK);
	n = expect_audit(f->db.st, n, &a, "key.deactivate", gamma,
	    target(tg, sizeof(tg), "key", imp), NULL);
	assert_int_equal(admin_key_rotate(f->db.st, &a, imp, 0, key, &id), TSK_ERR_CONFLICT);
	a.max_active = 1;
	spec = spec_for("gamma");
	assert_int_equal(admin_key_create(f->db.st, &a, &spec, key, &id), TSK_ERR_LIMIT);
	assert_int_equal(audit_count(f->db.st), n);

	/* One account's trail holds only its rows. */
	n = 0;
	assert_int_equal(store_audit_list(f->db.st, f->acme, 0, 100, count_audit, &n), TSK_OK);
	assert_int_equal(n, 1);
}

/* Run sql through a connection of our own: the sqlite3 result code. */
static int
sql_try(const char *path, const char *sql)
{
	sqlite3	*db = NULL;
	int	 rc;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

struct trail {
	int			n;
	struct store_audit	row[8];
};

static int
collect_trail(const struct store_audit *a, void *arg)
{
	struct trail	*t = arg;

	if (t->n < 8)
		t->row[t->n] = *a;
	t->n++;
	return 0;
}

/* Rows compared field by field: the bytes after each string's NUL are not the store's. */
static void
assert_same_row(const struct store_audit *a, const struct store_audit *b)
{
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->at, b->at);
	assert_string_equal(a->actor, b->actor);
	assert_string_equal(a->action, b->action);
	assert_int_equal(a->account_id, b->account_id);
	assert_string_equal(a->target, b->target);
	assert_string_equal(a->client, b->client);
	assert_string_equal(a->request_id, b->request_id);
	assert_string_equal(a->detail, b->detail);
}

static void
read_trail(struct store *st, struct trail *t)
{
	memset(t, 0, sizeof(*t));
	assert_int_equal(store_audit_list(st, 0, 0, 8, collect_trail, t), TSK_OK);
}

static void
test_audit_append_only(void **state)
{
	struct fx	*f = *state;
	struct trail	 before, after;
	char		 key[SECRET_KEY_MAX];
	int		 i;

	make_key(f->db.st, &cli, "acme", 0, key);
	read_trail(f->db.st, &before);
	assert_int_equal(before.n, 3);

	assert_int_not_equal(sql_try(f->db.path, "UPDATE audit SET actor = 'mallory'"), SQLITE_OK);
	assert_int_not_equal(sql_try(f->db.path, "UPDATE audit SET detail = '{}' WHERE id = 1"),
	    SQLITE_OK);
	assert_int_not_equal(sql_try(f->db.path, "DELETE FROM audit"), SQLITE_OK);
	assert_int_not_equal(sql_try(f->db.path, "DELETE FROM audit WHERE id = 1"), SQLITE_OK);
	assert_int_not_equal(sql_try(f->db.path, "INSERT INTO audit(id, at, actor, action)"
	    " VALUES (1, 0, 'mallory', 'forged') ON CONFLICT(id) DO UPDATE SET actor = 'mallory'"),
	    SQLITE_OK);
	/* The control: the same connection may append. */
	assert_int_equal(sql_try(f->db.path, "INSERT INTO audit(at, actor, action)"
	    " VALUES (1, 'test', 'test.append')"), SQLITE_OK);

	read_trail(f->db.st, &after);
	assert_int_equal(after.n, 4);
	for (i = 0; i < 3; i++)
		assert_same_row(&after.row[i + 1], &before.row[i]);
}

/*
 * REPLACE is a DELETE and an INSERT: the delete trigger does not fire for it (SQLite runs
 * delete triggers on REPLACE only with recursive_triggers on), so it must be refused too.
 */
static void
test_audit_replace_refused(void **state)
{
	struct fx	*f = *state;
	struct trail	 before, after;
	char		 sql[256];

	read_trail(f->db.st, &before);
	assert_int_equal(before.n, 2);
	snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO audit(id, at, actor, action)"
	    " VALUES (%lld, 0, 'mallory', 'forged')", (long long)before.row[1].id);
	if (sql_try(f->db.path, sql) == SQLITE_OK) {
		read_trail(f->db.st, &after);
		fail_msg("INSERT OR REPLACE rewrote audit row %lld: actor \"%s\" -> \"%s\", action"
		    " \"%s\" -> \"%s\"", (long long)before.row[1].id, before.row[1].actor,
		    after.row[1].actor, before.row[1].action, after.row[1].action);
	}
	snprintf(sql, sizeof(sql), "REPLACE INTO audit(id, at, actor, action)"
	    " VALUES (%lld, 0, 'mallory', 'forged')", (long long)before.row[0].id);
	assert_int_not_equal(sql_try(f->db.path, sql), SQLITE_OK);
	read_trail(f->db.st, &after);
	assert_int_equal(after.n, 2);
	assert_same_row(&after.row[0], &before.row[0]);
	assert_same_row(&after.row[1], &before.row[1]);
}

static int
detail_has(const struct store_audit *a, void *arg)
{
	const char	*secret = arg;

	if (strstr(a->detail, secret) != NULL || strstr(a->target, secret) != NULL)
		fail_msg("audit row %lld (%s) holds a key", (long long)a->id, a->action);
	return 0;
}

/* The secret part of a key: everything after its display prefix. */
static const char *
secret_part(const char *key)
{
	assert_true(strlen(key) > PREFIX_LEN + 8);
	return key + PREFIX_LEN;
}

static void
test_audit_no_secret(void **state)
{
	struct fx	*f = *state;
	char		 keys[4][SECRET_KEY_MAX];
	int64_t		 id, id2;
	int		 i;

	id = make_key(f->db.st, &cli, "acme", 0, keys[0]);
	assert_int_equal(admin_key_rotate(f->db.st, &cli, id, 60, keys[1], &id2), TSK_OK);
	assert_int_equal(admin_key_rotate(f->db.st, &cli, id2, 0, keys[2], &id), TSK_OK);
	make_key(f->db.st, &cli, "beta", 0, keys[3]);
	for (i = 0; i < 4; i++) {
		assert_int_equal(store_audit_list(f->db.st, 0, 0, 100, detail_has,
		    (void *)keys[i]), TSK_OK);
		assert_int_equal(store_audit_list(f->db.st, 0, 0, 100, detail_has,
		    (void *)secret_part(keys[i])), TSK_OK);
	}

	/* Nor anywhere in the file: closing the last connection checkpoints the WAL. */
	store_close(f->db.st);
	f->db.st = NULL;
	for (i = 0; i < 4; i++) {
		/* The search works: the display prefix is stored, in the key row and the trail. */
		assert_true(fixture_db_has(f->db.path, keys[i], PREFIX_LEN));
		assert_false(fixture_db_has(f->db.path, keys[i], strlen(keys[i])));
		assert_false(fixture_db_has(f->db.path, secret_part(keys[i]),
		    strlen(secret_part(keys[i]))));
		assert_false(fixture_db_has(f->db.path, secret_part(keys[i]), 10));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_account_create, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_key_create, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_key_create_invalid, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_max_active, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_max_active_expired, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_deactivate_reactivate, setup,
		    fixture_teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_rotate_now, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_rotate_grace, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_rotate_inactive, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_import, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_credit_ops, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_user_create, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_tenant_isolation, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_audit_rows, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_audit_append_only, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_audit_replace_refused, setup,
		    fixture_teardown),
		cmocka_unit_test_setup_teardown(test_audit_no_secret, setup, fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
