/* SPDX-License-Identifier: MIT */
/*
 * Account, key and user operations shared by every administrative front end. Each runs as one
 * store transaction: tenant check, rule check, change, audit row.
 */
#include "admin.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "ipallow.h"
#include "log.h"
#include "password.h"

int
admin_name_ok(const char *name)
{
	size_t	n, i;

	if (name == NULL)
		return 0;
	n = strlen(name);
	if (n == 0 || n >= TSK_NAME_MAX || name[0] == ' ' || name[n - 1] == ' ')
		return 0;
	for (i = 0; i < n; i++) {
		if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] == 0x7f)
			return 0;
	}
	return 1;
}

int
admin_scopes_ok(const char *scopes)
{
	size_t	n, tokens = 0;

	if (scopes == NULL || strlen(scopes) >= TSK_SCOPES_MAX)
		return 0;
	for (const char *p = scopes; *p != '\0'; p += n) {
		if (*p == ' ') {
			n = 1;
			continue;
		}
		n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789:._-");
		if (n == 0 || (p[n] != ' ' && p[n] != '\0') || ++tokens > 16)
			return 0;
	}
	return 1;
}

/* Append one audit row: detail is a JSON object built from NULL-terminated key/value pairs. */
static enum tsk_status
audit(struct store *st, const struct admin_actor *who, const char *action, int64_t account_id,
    const char *target, json_t *detail)
{
	struct store_audit	 a;
	char			*d = NULL;
	enum tsk_status		 rc;

	memset(&a, 0, sizeof(a));
	a.at = who->now;
	snprintf(a.actor, sizeof(a.actor), "%s", who->who);
	snprintf(a.action, sizeof(a.action), "%s", action);
	a.account_id = account_id;
	snprintf(a.target, sizeof(a.target), "%s", target);
	snprintf(a.client, sizeof(a.client), "%s", who->client != NULL ? who->client : "");
	snprintf(a.request_id, sizeof(a.request_id), "%s",
	    who->request_id != NULL ? who->request_id : "");
	if (detail != NULL)
		d = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(detail);
	/* The detail is bounded by what a key's settings can hold, so this only guards. */
	if (d != NULL && strlen(d) < sizeof(a.detail))
		memcpy(a.detail, d, strlen(d) + 1);
	else if (d != NULL)
		log_warnx("audit: detail of %s too long, not kept", action);
	free(d);
	rc = store_audit_append(st, &a);
	return rc;
}

/* May who act on account_id? The answer for another tenant's things is always the same. */
static enum tsk_status
tenant(const struct admin_actor *who, int64_t account_id)
{
	return who->account_id == 0 || who->account_id == account_id ? TSK_OK :
	    TSK_ERR_FORBIDDEN;
}

/* The account by name, if who may see it. */
static enum tsk_status
account_for(struct store *st, const struct admin_actor *who, const char *name,
    struct store_account *out)
{
	enum tsk_status	rc;

	rc = store_account_by_name(st, name, out);
	if (rc == TSK_NOT_FOUND && who->account_id != 0)
		return TSK_ERR_FORBIDDEN;	/* a tenant cannot probe which accounts exist */
	if (rc != TSK_OK)
		return rc;
	return tenant(who, out->id);
}

static enum tsk_status
key_for(struct store *st, const struct admin_actor *who, int64_t key_id, struct store_key *out)
{
	enum tsk_status	rc;

	rc = store_key_by_id(st, key_id, out);
	if (rc == TSK_NOT_FOUND && who->account_id != 0)
		return TSK_ERR_FORBIDDEN;
	if (rc != TSK_OK)
		return rc;
	return tenant(who, out->account_id);
}

/* Every transaction below gets one of these. */
struct op {
	const struct admin_actor	*who;
	const char			*name;		/* account or user name */
	const char			*user;
	const char			*password;
	const struct admin_key_spec	*spec;
	const unsigned char		*hash;
	int64_t				 id;		/* key id */
	int64_t				 n;		/* credit, delta, allowance, grace */
	int64_t				 n2;
	int				 kind;
	char				*key_out;
	int64_t				*id_out;
};

static enum tsk_status
tx_account_create(struct store *st, void *arg)
{
	struct op	*o = arg;
	int64_t		 id = 0;
	enum tsk_status	 rc;
	char		 target[64];

	if (o->who->account_id != 0)
		return TSK_ERR_FORBIDDEN;	/* only the CLI and platform keys make accounts */
	rc = store_account_create(st, o->name, o->n, o->who->now, &id);
	if (rc == TSK_OK && o->n2 > 0)
		rc = store_allowance_set(st, id, o->n2);
	if (rc != TSK_OK)
		return rc;
	snprintf(target, sizeof(target), "account:%lld", (long long)id);
	if (o->id_out != NULL)
		*o->id_out = id;
	return audit(st, o->who, "account.create", id, target,
	    json_pack("{s:s, s:I, s:I}", "name", o->name, "credit", (json_int_t)o->n,
	    "monthly_allowance", (json_int_t)o->n2));
}

enum tsk_status
admin_account_create(struct store *st, const struct admin_actor *who, const char *name,
    int64_t credit, int64_t allowance, int64_t *id_out)
{
	struct op	o = { .who = who, .name = name, .n = credit, .n2 = allowance,
			    .id_out = id_out };

	if (!admin_name_ok(name) || credit < 0 || allowance < 0)
		return TSK_ERR_INPUT;
	return store_transaction(st, tx_account_create, &o);
}

enum tsk_status
admin_account_get(struct store *st, const struct admin_actor *who, const char *name,
    struct store_account *out)
{
	return account_for(st, who, name, out);
}

/* credit set (n2 = 0), credit add (n2 = 1), allowance set (n2 = 2) */
static enum tsk_status
tx_account_money(struct store *st, void *arg)
{
	static const char *const actions[] = { "account.credit_set", "account.credit_add",
	    "account.allowance_set" };
	struct op		*o = arg;
	struct store_account	 a;
	enum tsk_status		 rc;
	char			 target[64];

	rc = account_for(st, o->who, o->name, &a);
	if (rc != TSK_OK)
		return rc;
	if (o->n2 == 0)
		rc = store_credit_set(st, a.id, o->n);
	else if (o->n2 == 1)
		rc = store_credit_add(st, a.id, o->n);
	else
		rc = store_allowance_set(st, a.id, o->n);
	if (rc != TSK_OK)
		return rc;
	snprintf(target, sizeof(target), "account:%lld", (long long)a.id);
	return audit(st, o->who, actions[o->n2], a.id, target,
	    json_pack("{s:I, s:I}", "before", (json_int_t)(o->n2 == 2 ? a.monthly_allowance :
	    a.credit), "value", (json_int_t)o->n));
}

enum tsk_status
admin_credit_set(struct store *st, const struct admin_actor *who, const char *account,
    int64_t credit)
{
	struct op	o = { .who = who, .name = account, .n = credit, .n2 = 0 };

	if (credit < 0)
		return TSK_ERR_INPUT;	/* a balance is never set below zero; add may take some */
	return store_transaction(st, tx_account_money, &o);
}

enum tsk_status
admin_credit_add(struct store *st, const struct admin_actor *who, const char *account,
    int64_t delta)
{
	struct op	o = { .who = who, .name = account, .n = delta, .n2 = 1 };

	return store_transaction(st, tx_account_money, &o);
}

enum tsk_status
admin_allowance_set(struct store *st, const struct admin_actor *who, const char *account,
    int64_t allowance)
{
	struct op	o = { .who = who, .name = account, .n = allowance, .n2 = 2 };

	if (allowance < 0)
		return TSK_ERR_INPUT;
	return store_transaction(st, tx_account_money, &o);
}

static enum tsk_status
spec_check(const struct admin_actor *who, const struct admin_key_spec *spec)
{
	if (spec->name != NULL && *spec->name != '\0' && !admin_name_ok(spec->name))
		return TSK_ERR_INPUT;
	if (spec->expires_at != 0 && spec->expires_at <= who->now)
		return TSK_ERR_INPUT;
	if (spec->scopes != NULL && !admin_scopes_ok(spec->scopes))
		return TSK_ERR_INPUT;
	if (spec->ip_allow != NULL && (strlen(spec->ip_allow) >= STORE_IPS_MAX ||
	    ipallow_valid(spec->ip_allow) != 0))
		return TSK_ERR_INPUT;
	if (spec->rate_minute < 0 || spec->rate_day < 0)
		return TSK_ERR_INPUT;
	if (spec->env != NULL && strcmp(spec->env, "live") != 0 && strcmp(spec->env, "test") != 0)
		return TSK_ERR_INPUT;
	if (spec->platform && who->account_id != 0)
		return TSK_ERR_FORBIDDEN;
	return TSK_OK;
}

/* Room for one more usable key in the account? `replacing` does not count (rotation). */
static enum tsk_status
room_for_key(struct store *st, const struct admin_actor *who, int64_t account_id, int replacing)
{
	int64_t		n = 0;
	enum tsk_status	rc;

	if (who->max_active <= 0)
		return TSK_OK;
	rc = store_key_count_active(st, account_id, who->now, &n);
	if (rc != TSK_OK)
		return rc;
	return n - replacing >= who->max_active ? TSK_ERR_LIMIT : TSK_OK;
}

static void
key_from_spec(const struct admin_key_spec *spec, int64_t account_id, int64_t now,
    struct store_key *k)
{
	memset(k, 0, sizeof(*k));
	k->account_id = account_id;
	snprintf(k->name, sizeof(k->name), "%s", spec->name != NULL ? spec->name : "");
	snprintf(k->env, sizeof(k->env), "%s", spec->env != NULL ? spec->env : "live");
	snprintf(k->scopes, sizeof(k->scopes), "%s",
	    spec->scopes != NULL ? spec->scopes : TSK_SCOPES_DEFAULT);
	snprintf(k->ip_allow, sizeof(k->ip_allow), "%s",
	    spec->ip_allow != NULL ? spec->ip_allow : "");
	k->status = STORE_KEY_ACTIVE;
	k->platform = spec->platform;
	k->rate_minute = spec->rate_minute;
	k->rate_day = spec->rate_day;
	k->created_at = now;
	k->expires_at = spec->expires_at;
}

static json_t *
key_detail(const struct store_key *k)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:b}", "name", k->name,
	    "prefix", k->prefix, "env", k->env, "scopes", k->scopes, "ip_allow", k->ip_allow,
	    "rate_minute", (json_int_t)k->rate_minute, "rate_day", (json_int_t)k->rate_day,
	    "expires_at", (json_int_t)k->expires_at, "platform", k->platform);
}

/* Insert k (hash of a new or imported key) and audit it under action. */
static enum tsk_status
insert_key(struct store *st, const struct admin_actor *who, struct store_key *k,
    const unsigned char *hash, const char *action, int64_t *id_out)
{
	enum tsk_status	rc;
	int64_t		id = 0;
	char		target[64];
	json_t		*d;

	rc = store_key_insert(st, k, hash, &id);
	if (rc != TSK_OK)
		return rc;
	k->id = id;
	if (id_out != NULL)
		*id_out = id;
	snprintf(target, sizeof(target), "key:%lld", (long long)id);
	d = key_detail(k);
	if (d != NULL && k->rotated_from != 0)
		json_object_set_new(d, "rotated_from", json_integer(k->rotated_from));
	return audit(st, who, action, k->account_id, target, d);
}

static enum tsk_status
tx_key_create(struct store *st, void *arg)
{
	struct op		*o = arg;
	struct store_account	 a;
	struct store_key	 k;
	unsigned char		 hash[SECRET_HASH_LEN];
	char			 key[SECRET_KEY_MAX];
	enum tsk_status		 rc;

	rc = account_for(st, o->who, o->spec->account, &a);
	if (rc == TSK_OK)
		rc = room_for_key(st, o->who, a.id, 0);
	if (rc != TSK_OK)
		return rc;
	key_from_spec(o->spec, a.id, o->who->now, &k);
	if (o->hash == NULL) {
		if (secret_key_new(k.env, key, sizeof(key), k.prefix, sizeof(k.prefix)) != 0)
			return TSK_ERR_INTERNAL;
		secret_hash(key, strlen(key), hash);
	} else {
		/* An imported key: its hash is all we ever had; show where it came from instead. */
		memcpy(hash, o->hash, sizeof(hash));
		snprintf(k.env, sizeof(k.env), "legacy");
		snprintf(k.prefix, sizeof(k.prefix), "legacy");
	}
	rc = insert_key(st, o->who, &k, hash, o->hash == NULL ? "key.create" : "key.import",
	    o->id_out);
	if (rc == TSK_OK && o->hash == NULL)
		memcpy(o->key_out, key, strlen(key) + 1);
	secret_wipe(key, sizeof(key));
	return rc;
}

/* A new key (hash NULL: generated, into key_out) or an imported one (its hash). */
static enum tsk_status
key_add(struct store *st, const struct admin_actor *who, const struct admin_key_spec *spec,
    const unsigned char *hash, char *key_out, int64_t *id_out)
{
	struct op	o = { .who = who, .spec = spec, .hash = hash, .key_out = key_out,
			    .id_out = id_out };
	enum tsk_status	rc;

	rc = spec_check(who, spec);
	if (rc != TSK_OK)
		return rc;
	return store_transaction(st, tx_key_create, &o);
}

enum tsk_status
admin_key_create(struct store *st, const struct admin_actor *who,
    const struct admin_key_spec *spec, char *key_out, int64_t *id_out)
{
	return key_add(st, who, spec, NULL, key_out, id_out);
}

enum tsk_status
admin_key_import(struct store *st, const struct admin_actor *who,
    const struct admin_key_spec *spec, const unsigned char hash[SECRET_HASH_LEN],
    int64_t *id_out)
{
	return key_add(st, who, spec, hash, NULL, id_out);
}

enum tsk_status
admin_key_get(struct store *st, const struct admin_actor *who, int64_t key_id,
    struct store_key *out)
{
	return key_for(st, who, key_id, out);
}

int64_t
admin_key_ends(const struct store_key *k)
{
	if (k->stops_at != 0 && (k->expires_at == 0 || k->stops_at < k->expires_at))
		return k->stops_at;
	return k->expires_at;
}

/* A key that can no longer be used whatever its status: expired, or its grace is over. */
static int
key_ended(const struct store_key *k, int64_t now)
{
	int64_t	ends = admin_key_ends(k);

	return ends != 0 && now >= ends;
}

const char *
admin_key_state(const struct store_key *k, int64_t now)
{
	if (k->status != STORE_KEY_ACTIVE)
		return "inactive";
	return key_ended(k, now) ? "expired" : "active";
}

enum key_change { KEY_DEACTIVATE, KEY_REACTIVATE, KEY_DELETE };

static enum tsk_status
tx_key_change(struct store *st, void *arg)
{
	static const char *const actions[] = { "key.deactivate", "key.reactivate", "key.delete" };
	struct op		*o = arg;
	struct store_key	 k;
	enum tsk_status		 rc;
	char			 target[64];

	rc = key_for(st, o->who, o->id, &k);
	if (rc != TSK_OK)
		return rc;
	switch ((enum key_change)o->kind) {
	case KEY_DEACTIVATE:
		rc = store_key_set_status(st, k.id, STORE_KEY_INACTIVE);
		break;
	case KEY_REACTIVATE:
		if (key_ended(&k, o->who->now))
			return TSK_ERR_CONFLICT;
		rc = room_for_key(st, o->who, k.account_id, k.status == STORE_KEY_ACTIVE);
		if (rc == TSK_OK)
			rc = store_key_set_status(st, k.id, STORE_KEY_ACTIVE);
		break;
	case KEY_DELETE:
		if (k.status == STORE_KEY_ACTIVE && !key_ended(&k, o->who->now))
			return TSK_ERR_CONFLICT;
		rc = store_key_delete(st, k.id);
		break;
	}
	if (rc != TSK_OK)
		return rc;
	snprintf(target, sizeof(target), "key:%lld", (long long)k.id);
	return audit(st, o->who, actions[o->kind], k.account_id, target,
	    json_pack("{s:s, s:s}", "name", k.name, "prefix", k.prefix));
}

static enum tsk_status
key_change(struct store *st, const struct admin_actor *who, int64_t key_id, enum key_change c)
{
	struct op	o = { .who = who, .id = key_id, .kind = (int)c };

	return store_transaction(st, tx_key_change, &o);
}

enum tsk_status
admin_key_deactivate(struct store *st, const struct admin_actor *who, int64_t key_id)
{
	return key_change(st, who, key_id, KEY_DEACTIVATE);
}

enum tsk_status
admin_key_reactivate(struct store *st, const struct admin_actor *who, int64_t key_id)
{
	return key_change(st, who, key_id, KEY_REACTIVATE);
}

enum tsk_status
admin_key_delete(struct store *st, const struct admin_actor *who, int64_t key_id)
{
	return key_change(st, who, key_id, KEY_DELETE);
}

static enum tsk_status
tx_key_rotate(struct store *st, void *arg)
{
	struct op		*o = arg;
	struct store_key	 old, k;
	unsigned char		 hash[SECRET_HASH_LEN];
	char			 key[SECRET_KEY_MAX];
	enum tsk_status		 rc;

	rc = key_for(st, o->who, o->id, &old);
	if (rc != TSK_OK)
		return rc;
	/*
	 * Only a working key is rotated, and only once: rotating a key in its grace window again
	 * would stretch the window and fork its line of successors. Rotate the successor.
	 */
	if (old.status != STORE_KEY_ACTIVE || key_ended(&old, o->who->now) || old.stops_at != 0)
		return TSK_ERR_CONFLICT;
	rc = room_for_key(st, o->who, old.account_id, 1);
	if (rc != TSK_OK)
		return rc;
	k = old;	/* same account, name, environment, scopes, allowlist, limits, expiry */
	k.id = 0;
	k.stops_at = k.last_used_at = k.use_count = 0;
	k.created_at = o->who->now;
	k.rotated_from = old.id;
	if (strcmp(k.env, "legacy") == 0)
		snprintf(k.env, sizeof(k.env), "live");	/* a legacy key rotates into a new one */
	if (secret_key_new(k.env, key, sizeof(key), k.prefix, sizeof(k.prefix)) != 0)
		return TSK_ERR_INTERNAL;
	secret_hash(key, strlen(key), hash);
	rc = o->n > 0 ? store_key_set_stops(st, old.id, o->who->now + o->n) :
	    store_key_set_status(st, old.id, STORE_KEY_INACTIVE);
	if (rc == TSK_OK)
		rc = insert_key(st, o->who, &k, hash, "key.rotate", o->id_out);
	if (rc == TSK_OK)
		memcpy(o->key_out, key, strlen(key) + 1);
	secret_wipe(key, sizeof(key));
	return rc;
}

enum tsk_status
admin_key_rotate(struct store *st, const struct admin_actor *who, int64_t key_id,
    int64_t grace, char *key_out, int64_t *id_out)
{
	struct op	o = { .who = who, .id = key_id, .n = grace, .key_out = key_out,
			    .id_out = id_out };

	if (grace < 0)
		return TSK_ERR_INPUT;
	return store_transaction(st, tx_key_rotate, &o);
}

static enum tsk_status
tx_user_create(struct store *st, void *arg)
{
	struct op		*o = arg;
	struct store_account	 a;
	enum tsk_status		 rc;
	char			 target[160];

	rc = account_for(st, o->who, o->name, &a);
	if (rc != TSK_OK)
		return rc;
	rc = store_user_create(st, a.id, o->user, o->password, o->kind, o->who->now);
	if (rc != TSK_OK)
		return rc;
	snprintf(target, sizeof(target), "user:%s", o->user);
	return audit(st, o->who, "user.create", a.id, target,
	    json_pack("{s:s}", "kind", o->kind == STORE_USER_API ? "api" : "person"));
}

enum tsk_status
admin_user_create(struct store *st, const struct admin_actor *who, const char *account,
    const char *user, const char *password, int kind)
{
	char		pwhash[PASSWORD_HASH_MAX];
	struct op	o = { .who = who, .name = account, .user = user, .password = pwhash,
			    .kind = kind };

	if (!admin_name_ok(user) || password == NULL || *password == '\0' ||
	    (kind != STORE_USER_PERSON && kind != STORE_USER_API))
		return TSK_ERR_INPUT;
	/* Hash outside the transaction: scrypt is slow and the write lock is shared. */
	if (password_hash(password, pwhash, sizeof(pwhash)) != 0)
		return TSK_ERR_INPUT;
	return store_transaction(st, tx_user_create, &o);
}
