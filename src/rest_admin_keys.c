/* SPDX-License-Identifier: MIT */
/*
 * The key routes of the admin API (rest_admin.c routes to them): list, create, import, show,
 * deactivate, reactivate, rotate and delete, all through admin.h. A new key is shown once, in
 * the reply that made it, and then wiped; an imported one is wiped from the body once hashed.
 */
#include "rest_admin_int.h"

#include <string.h>

#include "ipallow.h"
#include "reply.h"
#include "tstime.h"

/* What a create or import body says about the key, with the buffers the spec points into. */
struct key_input {
	struct admin_key_spec	spec;
	char			scopes[TSK_SCOPES_MAX];
	char			ips[STORE_IPS_MAX];
};

/*
 * The array-of-strings member field joined with sep into out; *res = out, or left as it is
 * when the member is absent. No entry may be empty or hold sep itself.
 */
static int
get_joined(struct rest_admin_ctx *c, json_t *o, const char *field, char sep, char *out,
    size_t outsz, const char **res)
{
	json_t		*a = json_object_get(o, field), *v;
	const char	*s;
	size_t		 i, n = 0, len;

	if (a == NULL)
		return 0;
	if (!json_is_array(a))
		return rest_admin_bad(c, "\"%s\" must be an array of strings", field);
	out[0] = '\0';
	for (i = 0; i < json_array_size(a); i++) {
		v = json_array_get(a, i);
		if (!json_is_string(v))
			return rest_admin_bad(c, "\"%s\" must be an array of strings", field);
		s = json_string_value(v);
		len = strlen(s);
		if (len == 0 || strchr(s, sep) != NULL)
			return rest_admin_bad(c, "\"%s\" holds an empty entry or one with '%c' "
			    "in it", field, sep);
		if (n + len + 2 > outsz)
			return rest_admin_bad(c, "\"%s\" is too long", field);
		if (n > 0)
			out[n++] = sep;
		memcpy(out + n, s, len + 1);
		n += len;
	}
	*res = out;
	return 0;
}

static int
rate_limits(struct rest_admin_ctx *c, json_t *o, struct admin_key_spec *s)
{
	static const char *const fields[] = { "perMinute", "perDay", NULL };
	json_t	*rl = json_object_get(o, "rateLimits");
	void	*it;

	if (rl == NULL)
		return 0;
	if (!json_is_object(rl))
		return rest_admin_bad(c, "\"rateLimits\" must be an object");
	for (it = json_object_iter(rl); it != NULL; it = json_object_iter_next(rl, it)) {
		if (!rest_admin_is_listed(json_object_iter_key(it), fields))
			return rest_admin_bad(c, "\"rateLimits\" takes \"perMinute\" and "
			    "\"perDay\" only");
	}
	if (rest_admin_get_int(c, rl, "perMinute", 0, &s->rate_minute) != 0 ||
	    rest_admin_get_int(c, rl, "perDay", 0, &s->rate_day) != 0)
		return -1;
	return 0;
}

/* Check here what admin.h would refuse anyway, so that the 400 can say what is wrong. */
static int
key_input_parse(struct rest_admin_ctx *c, json_t *o, struct key_input *in)
{
	struct admin_key_spec	*s = &in->spec;
	const char		*exp = NULL;

	memset(in, 0, sizeof(*in));
	s->account = c->name;
	if (rest_admin_get_string(c, o, "name", &s->name) != 0 ||
	    rest_admin_get_string(c, o, "environment", &s->env) != 0 ||
	    rest_admin_get_string(c, o, "expiresAt", &exp) != 0 ||
	    rest_admin_get_bool(c, o, "platform", &s->platform) != 0 ||
	    get_joined(c, o, "scopes", ' ', in->scopes, sizeof(in->scopes), &s->scopes) != 0 ||
	    get_joined(c, o, "ipAllow", ',', in->ips, sizeof(in->ips), &s->ip_allow) != 0 ||
	    rate_limits(c, o, s) != 0)
		return -1;
	if (s->name != NULL && *s->name != '\0' && !admin_name_ok(s->name))
		return rest_admin_bad(c, "\"name\" must be at most 127 bytes, without control "
		    "characters or spaces at either end");
	if (s->env != NULL && strcmp(s->env, "live") != 0 && strcmp(s->env, "test") != 0)
		return rest_admin_bad(c, "\"environment\" must be \"live\" or \"test\"");
	if (exp != NULL && tstime_parse(exp, &s->expires_at) != 0)
		return rest_admin_bad(c, "\"expiresAt\" must be YYYY-MM-DD or an RFC 3339 time");
	if (exp != NULL && s->expires_at <= c->who.now)
		return rest_admin_bad(c, "\"expiresAt\" is in the past");
	if (s->scopes != NULL && !admin_scopes_ok(s->scopes))
		return rest_admin_bad(c, "\"scopes\" takes at most 16 scopes of a-z, 0-9 and "
		    "\":._-\", 255 bytes in all");
	/* An empty list would read as "any address": make the caller say so by leaving it out. */
	if (s->ip_allow != NULL && (*s->ip_allow == '\0' || ipallow_valid(s->ip_allow) != 0))
		return rest_admin_bad(c, "\"ipAllow\" takes 1 to 32 IPv4 or IPv6 addresses or CIDR "
		    "blocks without host bits; leave it out to allow any address");
	return 0;
}

/* The hash to import: of "key" (a legacy key, never a tsk_ one) or from "sha256". */
static int
import_hash(struct rest_admin_ctx *c, json_t *o, unsigned char hash[SECRET_HASH_LEN])
{
	const char	*key = NULL, *hex = NULL;
	size_t		 n;

	if (rest_admin_get_string(c, o, "key", &key) != 0 ||
	    rest_admin_get_string(c, o, "sha256", &hex) != 0)
		return -1;
	if ((key == NULL) == (hex == NULL))
		return rest_admin_bad(c, "Send one of \"key\" (the legacy key) or \"sha256\" (its "
		    "SHA-256 in hex)");
	if (hex != NULL) {
		if (secret_hash_from_hex(hex, hash) != 0)
			return rest_admin_bad(c, "\"sha256\" must be 64 hex digits");
		return 0;
	}
	n = strlen(key);
	/* Clients present the key trimmed, so a stored one with spaces could never match. */
	if (secret_key_format(key, n) != SECRET_FMT_OTHER || key[0] == ' ' || key[n - 1] == ' ')
		return rest_admin_bad(c, "\"key\" is not a key that can be imported (a tsk_ key is "
		    "one of ours already)");
	secret_hash(key, n, hash);
	return 0;
}

/* ---- replies ------------------------------------------------------------------------------- */

/* Space- or comma-separated items as a JSON array of strings, trimmed of spaces. */
static json_t *
split_array(const char *s, char sep)
{
	json_t	*a = json_array();
	size_t	 n;
	char	 seps[2] = { sep, '\0' };

	for (const char *p = s; a != NULL && *p != '\0'; p += n) {
		while (*p == ' ' || *p == sep)
			p++;
		n = strcspn(p, seps);
		while (n > 0 && p[n - 1] == ' ')
			n--;
		if (n > 0)
			json_array_append_new(a, json_stringn(p, n));
		while (p[n] == ' ')
			n++;
	}
	return a;
}

static json_t *
key_json(const struct store_key *k, int64_t now)
{
	json_t	*o;

	o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:{s:I, s:I}, s:b, s:I}",
	    "id", (json_int_t)k->id, "account", k->account, "name", k->name, "prefix", k->prefix,
	    "environment", k->env, "status", admin_key_state(k, now),
	    "scopes", split_array(k->scopes, ' '), "ipAllow", split_array(k->ip_allow, ','),
	    "rateLimits", "perMinute", (json_int_t)k->rate_minute, "perDay",
	    (json_int_t)k->rate_day, "platform", k->platform, "useCount", (json_int_t)k->use_count);
	if (o == NULL)
		return NULL;
	reply_set_time(o, "createdAt", k->created_at);
	reply_set_time(o, "expiresAt", admin_key_ends(k));
	reply_set_time(o, "lastUsedAt", k->last_used_at);
	json_object_set_new(o, "rotatedFrom",
	    k->rotated_from != 0 ? json_integer(k->rotated_from) : json_null());
	return o;
}

static int
list_key(const struct store_key *k, void *arg)
{
	struct rest_admin_list	*l = arg;

	return rest_admin_list_add(l, key_json(k, l->now));
}

/*
 * Key id as JSON with status; with secret (a key just made) as "key" too. The reply must go
 * out even if the key cannot be read back, or the secret would be lost.
 */
static int
reply_key(struct rest_admin_ctx *c, int status, int64_t id, const char *secret)
{
	struct store_key	 k;
	json_t			*o = NULL, *all;
	enum tsk_status		 rc;
	int			 ret;

	rc = admin_key_get(c->st, &c->who, id, &k);
	if (rc == TSK_OK)
		o = key_json(&k, c->who.now);
	else if (secret == NULL)
		return rest_admin_answer(c, rc, "", "");
	if (o == NULL)
		o = json_pack("{s:I}", "id", (json_int_t)id);
	if (secret == NULL)
		return reply_json(c->soap, c->r, status, o);
	/* The key first: it is what the caller must keep. */
	all = json_pack("{s:s}", "key", secret);
	if (all != NULL && o != NULL)
		(void)json_object_update(all, o);	/* short of memory, the key alone */
	json_decref(o);
	json_incref(all);	/* kept past reply_json so that the copy in it can be wiped */
	ret = reply_json(c->soap, c->r, status, all);
	rest_admin_wipe_member(all, "key");
	json_decref(all);
	return ret;
}

/* ---- routes -------------------------------------------------------------------------------- */

int
rest_admin_keys_list(struct rest_admin_ctx *c)
{
	struct rest_admin_list	l = { NULL, c->who.now, 0 };
	int64_t			account_id;

	if (rest_admin_list_start(c, &l, c->name, &account_id) != 0)
		return c->rc;
	return rest_admin_reply_list(c, store_key_list(c->st, account_id, list_key, &l), "keys",
	    &l);
}

int
rest_admin_keys_create(struct rest_admin_ctx *c)
{
	static const char *const fields[] = { "name", "environment", "expiresAt", "scopes",
	    "ipAllow", "rateLimits", "platform", NULL };
	struct key_input	 in;
	json_t			*o;
	char			 key[SECRET_KEY_MAX];
	int64_t			 id = 0;
	enum tsk_status		 rc;

	o = rest_admin_body_object(c, fields, 1);
	if (o == NULL)
		return c->rc;
	if (key_input_parse(c, o, &in) != 0)
		goto out;
	rc = admin_key_create(c->st, &c->who, &in.spec, key, &id);
	c->rc = rc == TSK_OK ? reply_key(c, 201, id, key) :
	    rest_admin_answer(c, rc, "Invalid key settings", "The key cannot be created now");
	secret_wipe(key, sizeof(key));
out:
	json_decref(o);
	return c->rc;
}

int
rest_admin_keys_import(struct rest_admin_ctx *c)
{
	static const char *const fields[] = { "key", "sha256", "name", "expiresAt", "scopes",
	    "ipAllow", "rateLimits", NULL };
	struct key_input	 in;
	json_t			*o;
	unsigned char		 hash[SECRET_HASH_LEN];
	int64_t			 id = 0;
	enum tsk_status		 rc;

	memset(hash, 0, sizeof(hash));
	o = rest_admin_body_object(c, fields, 0);
	if (o == NULL)
		goto out;
	if (import_hash(c, o, hash) != 0 || key_input_parse(c, o, &in) != 0)
		goto out;
	rc = admin_key_import(c->st, &c->who, &in.spec, hash, &id);
	c->rc = rc == TSK_OK ? reply_key(c, 201, id, NULL) :
	    rest_admin_answer(c, rc, "Invalid key settings", "That key is stored already");
out:
	rest_admin_wipe_member(o, "key");
	json_decref(o);
	secret_wipe(hash, sizeof(hash));
	rest_admin_wipe_body(c);
	return c->rc;
}

int
rest_admin_key_get(struct rest_admin_ctx *c)
{
	return reply_key(c, 200, c->id, NULL);
}

int
rest_admin_key_deactivate(struct rest_admin_ctx *c)
{
	enum tsk_status	rc = admin_key_deactivate(c->st, &c->who, c->id);

	return rc == TSK_OK ? reply_key(c, 200, c->id, NULL) : rest_admin_answer(c, rc, "", "");
}

int
rest_admin_key_reactivate(struct rest_admin_ctx *c)
{
	enum tsk_status	rc = admin_key_reactivate(c->st, &c->who, c->id);

	return rc == TSK_OK ? reply_key(c, 200, c->id, NULL) : rest_admin_answer(c, rc, "",
	    "An expired key, or one whose rotation grace has ended, cannot be reactivated");
}

int
rest_admin_key_rotate(struct rest_admin_ctx *c)
{
	static const char *const fields[] = { "grace", NULL };
	json_t		*o;
	char		 key[SECRET_KEY_MAX];
	int64_t		 grace = 0, id = 0;
	enum tsk_status	 rc;

	o = rest_admin_body_object(c, fields, 1);
	if (o == NULL)
		return c->rc;
	if (rest_admin_get_int(c, o, "grace", 0, &grace) == 0) {
		rc = admin_key_rotate(c->st, &c->who, c->id, grace, key, &id);
		c->rc = rc == TSK_OK ? reply_key(c, 201, id, key) : rest_admin_answer(c, rc,
		    "Invalid grace period", "Only an active key can be rotated");
		secret_wipe(key, sizeof(key));
	}
	json_decref(o);
	return c->rc;
}

int
rest_admin_key_delete(struct rest_admin_ctx *c)
{
	enum tsk_status	rc = admin_key_delete(c->st, &c->who, c->id);

	if (rc != TSK_OK)
		return rest_admin_answer(c, rc, "",
		    "Only an inactive or expired key can be deleted");
	return reply_json(c->soap, c->r, 200, json_pack("{s:I}", "deleted", (json_int_t)c->id));
}
