/* SPDX-License-Identifier: MIT */
/*
 * The admin API under /admin/v1/: JSON over the operations of admin.h, the ones the CLI calls,
 * so both refuse, isolate tenants and audit alike. Reads come from the store; every change goes
 * through admin.h. This file routes, reads request bodies and serves accounts, users and the
 * audit; the key routes are in rest_admin_keys.c.
 */
#include "rest.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "reply.h"
#include "rest_admin_int.h"
#include "soapH.h"

#define ADMIN_PATH_MAX		512	/* longer paths name nothing here */
#define AUDIT_LIMIT_DEFAULT	100
#define AUDIT_LIMIT_MAX		1000

/* The same words for another tenant's things and for things that do not exist: no probing. */
#define FORBIDDEN_MSG	"This admin key may act only on its own account and its keys"

/* Send a 400 saying what is wrong; returns -1 so that parsers can `return rest_admin_bad(...)`. */
int
rest_admin_bad(struct rest_admin_ctx *c, const char *fmt, ...)
{
	va_list	ap;
	char	msg[256];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->rc = reply_error(c->soap, c->r, 400, "BAD_REQUEST", msg);
	return -1;
}

/*
 * The reply for a refusal by admin.h. input and conflict word TSK_ERR_INPUT and
 * TSK_ERR_CONFLICT for the operation at hand; the rest is the same everywhere.
 */
int
rest_admin_answer(struct rest_admin_ctx *c, enum tsk_status rc, const char *input,
    const char *conflict)
{
	char	msg[128];

	switch (rc) {
	case TSK_NOT_FOUND:
		snprintf(msg, sizeof(msg), "No such %s", c->thing);
		return reply_error(c->soap, c->r, 404, "NOT_FOUND", msg);
	case TSK_ERR_INPUT:
		return reply_error(c->soap, c->r, 400, "BAD_REQUEST", input);
	case TSK_ERR_CONFLICT:
		return reply_error(c->soap, c->r, 409, "CONFLICT", conflict);
	case TSK_ERR_LIMIT:
		snprintf(msg, sizeof(msg), "The account already holds its maximum of %d usable keys",
		    c->who.max_active);
		return reply_error(c->soap, c->r, 409, "KEY_LIMIT", msg);
	case TSK_ERR_FORBIDDEN:
		return reply_error(c->soap, c->r, 403, "FORBIDDEN", FORBIDDEN_MSG);
	default:
		/* TSK_OK never comes here; store and internal failures were logged below us. */
		return reply_error(c->soap, c->r, 503, "UNAVAILABLE",
		    "The service cannot answer now; try again later");
	}
}

/* ---- request bodies ------------------------------------------------------------------------ */

int
rest_admin_is_listed(const char *s, const char *const *list)
{
	for (; *list != NULL; list++) {
		if (strcmp(s, *list) == 0)
			return 1;
	}
	return 0;
}

/*
 * The body as a JSON object with no members but those in allowed (NULL-terminated). An empty
 * body reads as {} when optional. NULL when a reply has been sent (c->rc).
 */
json_t *
rest_admin_body_object(struct rest_admin_ctx *c, const char *const *allowed, int optional)
{
	json_t		*o;
	void		*it;
	const char	*k;

	if (optional && (c->b->data == NULL || c->b->len == 0)) {
		o = json_object();
		if (o == NULL)
			c->rc = reply_json(c->soap, c->r, 500, NULL);
		return o;
	}
	o = reply_json_body(c->soap, c->r, c->b->data, c->b->len, &c->rc);
	if (o == NULL)
		return NULL;
	for (it = json_object_iter(o); it != NULL; it = json_object_iter_next(o, it)) {
		k = json_object_iter_key(it);
		if (!rest_admin_is_listed(k, allowed)) {
			rest_admin_bad(c, "Unknown field \"%.64s\"", k);
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* Wipe the string member field of o: jansson keeps its own copy of a secret. */
void
rest_admin_wipe_member(json_t *o, const char *field)
{
	json_t	*v = json_object_get(o, field);

	if (json_is_string(v))
		secret_wipe((char *)json_string_value(v), json_string_length(v));
}

/* The raw body held a secret too (a password, a legacy key); it is ours until soap_end. */
void
rest_admin_wipe_body(struct rest_admin_ctx *c)
{
	if (c->b->data != NULL)
		secret_wipe((char *)c->b->data, c->b->len);
}

/* The string member field into *out, left as it is when absent. 0, or -1 with a 400 sent. */
int
rest_admin_get_string(struct rest_admin_ctx *c, json_t *o, const char *field, const char **out)
{
	json_t	*v = json_object_get(o, field);

	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return rest_admin_bad(c, "\"%s\" must be a string", field);
	*out = json_string_value(v);
	return 0;
}

int
rest_admin_get_int(struct rest_admin_ctx *c, json_t *o, const char *field, int64_t min,
    int64_t *out)
{
	json_t	*v = json_object_get(o, field);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v))
		return rest_admin_bad(c, "\"%s\" must be an integer", field);
	if (json_integer_value(v) < min)
		return rest_admin_bad(c, "\"%s\" must be at least %lld", field, (long long)min);
	*out = json_integer_value(v);
	return 0;
}

int
rest_admin_get_bool(struct rest_admin_ctx *c, json_t *o, const char *field, int *out)
{
	json_t	*v = json_object_get(o, field);

	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return rest_admin_bad(c, "\"%s\" must be true or false", field);
	*out = json_is_true(v);
	return 0;
}

/* ---- replies --------------------------------------------------------------------------------- */

static json_t *
account_json(const struct store_account *a)
{
	json_t	*o;

	o = json_pack("{s:I, s:s, s:I, s:I}", "id", (json_int_t)a->id, "name", a->name,
	    "credit", (json_int_t)a->credit, "monthlyAllowance", (json_int_t)a->monthly_allowance);
	if (o != NULL)
		reply_set_time(o, "createdAt", a->created_at);
	return o;
}

static json_t *
user_json(const struct store_user *u)
{
	json_t	*o;

	o = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)u->id, "name", u->name, "kind",
	    u->kind == STORE_USER_API ? "api" : "person");
	if (o != NULL)
		reply_set_time(o, "createdAt", u->created_at);
	return o;
}

static json_t *
audit_json(const struct store_audit *a)
{
	json_t	*o, *detail;

	/* admin.c writes detail as a JSON object; anything else is shown as an empty one. */
	detail = json_loads(a->detail, 0, NULL);
	if (!json_is_object(detail)) {
		json_decref(detail);
		detail = json_object();
	}
	o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:o}", "id", (json_int_t)a->id,
	    "actor", a->actor, "action", a->action, "target", a->target, "client", a->client,
	    "requestId", a->request_id, "detail", detail);
	if (o == NULL)
		return NULL;
	reply_set_time(o, "at", a->at);
	json_object_set_new(o, "accountId",
	    a->account_id != 0 ? json_integer(a->account_id) : json_null());
	return o;
}

int
rest_admin_list_add(struct rest_admin_list *l, json_t *item)
{
	if (item == NULL || json_array_append_new(l->arr, item) != 0) {
		l->failed = 1;
		return 1;	/* stops the walk */
	}
	return 0;
}

static int
list_account(const struct store_account *a, void *arg)
{
	return rest_admin_list_add(arg, account_json(a));
}

static int
list_user(const struct store_user *u, void *arg)
{
	return rest_admin_list_add(arg, user_json(u));
}

static int
list_audit(const struct store_audit *a, void *arg)
{
	return rest_admin_list_add(arg, audit_json(a));
}

/*
 * Begin a list of what the account in the path holds: its id into *account_id and a new array
 * into l->arr. 0, or -1 with a reply sent.
 */
int
rest_admin_list_start(struct rest_admin_ctx *c, struct rest_admin_list *l, const char *name,
    int64_t *account_id)
{
	struct store_account	a;
	enum tsk_status		rc;

	*account_id = c->who.account_id;
	if (name != NULL) {
		rc = admin_account_get(c->st, &c->who, name, &a);
		if (rc != TSK_OK) {
			c->rc = rest_admin_answer(c, rc, "", "");
			return -1;
		}
		*account_id = a.id;
	}
	l->arr = json_array();
	if (l->arr == NULL) {
		c->rc = reply_json(c->soap, c->r, 500, NULL);
		return -1;
	}
	return 0;
}

/* {field: l->arr} once a store walk has returned rc. */
int
rest_admin_reply_list(struct rest_admin_ctx *c, enum tsk_status rc, const char *field,
    struct rest_admin_list *l)
{
	if (rc != TSK_OK) {
		json_decref(l->arr);
		return rest_admin_answer(c, rc, "", "");
	}
	if (l->failed) {
		json_decref(l->arr);
		return reply_json(c->soap, c->r, 500, NULL);
	}
	return reply_json(c->soap, c->r, 200, json_pack("{s:o}", field, l->arr));
}

/* The account in the path as JSON with status (after a change: what it is now). */
static int
reply_account(struct rest_admin_ctx *c, int status)
{
	struct store_account	a;
	enum tsk_status		rc;

	rc = admin_account_get(c->st, &c->who, c->name, &a);
	if (rc != TSK_OK)
		return rest_admin_answer(c, rc, "", "");
	return reply_json(c->soap, c->r, status, account_json(&a));
}

/* ---- accounts ------------------------------------------------------------------------------ */

static int
r_accounts_list(struct rest_admin_ctx *c)
{
	struct store_account	a;
	struct rest_admin_list	l = { json_array(), c->who.now, 0 };
	enum tsk_status		rc;

	if (l.arr == NULL)
		return reply_json(c->soap, c->r, 500, NULL);
	if (c->who.account_id == 0) {
		rc = store_account_list(c->st, list_account, &l);
	} else {
		/* A tenant's list is its own account. */
		rc = store_account_by_id(c->st, c->who.account_id, &a);
		if (rc == TSK_OK)
			list_account(&a, &l);
	}
	return rest_admin_reply_list(c, rc, "accounts", &l);
}

static int
r_accounts_create(struct rest_admin_ctx *c)
{
	static const char *const fields[] = { "name", "credit", "monthlyAllowance", NULL };
	json_t		*o;
	const char	*name = NULL;
	int64_t		 credit = 0, allowance = 0, id = 0;
	enum tsk_status	 rc;

	o = rest_admin_body_object(c, fields, 0);
	if (o == NULL)
		return c->rc;
	if (rest_admin_get_string(c, o, "name", &name) != 0 ||
	    rest_admin_get_int(c, o, "credit", INT64_MIN, &credit) != 0 ||
	    rest_admin_get_int(c, o, "monthlyAllowance", 0, &allowance) != 0)
		goto out;
	if (name == NULL || !admin_name_ok(name)) {
		rest_admin_bad(c, "\"name\" must be 1 to 127 bytes, without control characters or "
		    "spaces at either end");
		goto out;
	}
	rc = admin_account_create(c->st, &c->who, name, credit, allowance, &id);
	if (rc != TSK_OK) {
		c->rc = rest_admin_answer(c, rc, "Invalid account settings",
		    "An account with that name exists");
		goto out;
	}
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->rc = reply_account(c, 201);
out:
	json_decref(o);
	return c->rc;
}

static int
r_account_get(struct rest_admin_ctx *c)
{
	return reply_account(c, 200);
}

static int
r_account_credit(struct rest_admin_ctx *c)
{
	static const char *const fields[] = { "set", "add", NULL };
	json_t		*o;
	int64_t		 n = 0;
	int		 set;
	enum tsk_status	 rc;

	o = rest_admin_body_object(c, fields, 0);
	if (o == NULL)
		return c->rc;
	set = json_object_get(o, "set") != NULL;
	if (set == (json_object_get(o, "add") != NULL)) {
		rest_admin_bad(c, "Send one of \"set\" (the new balance) or \"add\" (a change to "
		    "it)");
		goto out;
	}
	if (rest_admin_get_int(c, o, set ? "set" : "add", INT64_MIN, &n) != 0)
		goto out;
	rc = set ? admin_credit_set(c->st, &c->who, c->name, n) :
	    admin_credit_add(c->st, &c->who, c->name, n);
	c->rc = rc == TSK_OK ? reply_account(c, 200) :
	    rest_admin_answer(c, rc, "Invalid credit", "The balance cannot take that change");
out:
	json_decref(o);
	return c->rc;
}

static int
r_account_allowance(struct rest_admin_ctx *c)
{
	static const char *const fields[] = { "monthlyAllowance", NULL };
	json_t		*o;
	int64_t		 n = -1;
	enum tsk_status	 rc;

	o = rest_admin_body_object(c, fields, 0);
	if (o == NULL)
		return c->rc;
	if (rest_admin_get_int(c, o, "monthlyAllowance", 0, &n) != 0)
		goto out;
	if (n < 0) {
		rest_admin_bad(c, "\"monthlyAllowance\" is required (0: none)");
		goto out;
	}
	rc = admin_allowance_set(c->st, &c->who, c->name, n);
	c->rc = rc == TSK_OK ? reply_account(c, 200) :
	    rest_admin_answer(c, rc, "Invalid allowance", "The allowance cannot be changed now");
out:
	json_decref(o);
	return c->rc;
}

/* ---- users --------------------------------------------------------------------------------- */

static int
r_users_list(struct rest_admin_ctx *c)
{
	struct rest_admin_list	l = { NULL, c->who.now, 0 };
	int64_t			account_id;

	if (rest_admin_list_start(c, &l, c->name, &account_id) != 0)
		return c->rc;
	return rest_admin_reply_list(c, store_user_list(c->st, account_id, list_user, &l),
	    "users", &l);
}

static int
r_users_create(struct rest_admin_ctx *c)
{
	static const char *const fields[] = { "name", "password", "api", NULL };
	struct store_user	 u;
	json_t			*o;
	const char		*name = NULL, *pw = NULL;
	int			 api = 0;
	enum tsk_status		 rc;

	o = rest_admin_body_object(c, fields, 0);
	if (o == NULL)
		goto out;
	if (rest_admin_get_string(c, o, "name", &name) != 0 ||
	    rest_admin_get_string(c, o, "password", &pw) != 0 ||
	    rest_admin_get_bool(c, o, "api", &api) != 0)
		goto out;
	if (name == NULL || !admin_name_ok(name)) {
		rest_admin_bad(c, "\"name\" must be 1 to 127 bytes, without control characters or "
		    "spaces at either end");
		goto out;
	}
	if (pw == NULL || *pw == '\0') {
		rest_admin_bad(c, "\"password\" is required");
		goto out;
	}
	rc = admin_user_create(c->st, &c->who, c->name, name, pw,
	    api ? STORE_USER_API : STORE_USER_PERSON);
	if (rc == TSK_OK)
		rc = store_user_by_name(c->st, name, &u);
	c->rc = rc == TSK_OK ? reply_json(c->soap, c->r, 201, user_json(&u)) :
	    rest_admin_answer(c, rc, "Invalid user name or password",
	    "A user with that name exists");
out:
	rest_admin_wipe_member(o, "password");
	json_decref(o);
	rest_admin_wipe_body(c);
	return c->rc;
}

/* ---- audit --------------------------------------------------------------------------------- */

struct audit_query {
	char	account[TSK_NAME_MAX];	/* "" = the actor's own (a tenant) or every account */
	int64_t	limit;
	int64_t	before;
	int64_t	since;			/* the migration report: days back; 0 = all time */
};

/* A query value as a decimal in [min, max]. */
static int
query_number(const char *v, size_t n, int64_t min, int64_t max, int64_t *out)
{
	int64_t	x = 0;
	size_t	i;

	if (n == 0 || n > 18)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	if (x < min || x > max)
		return -1;
	*out = x;
	return 0;
}

/*
 * ?account=NAME&limit=N&before=ID (the audit) or ?account=NAME&since=DAYS (the report), each at
 * most once; values are not percent-decoded.
 */
static int
audit_query_parse(struct rest_admin_ctx *c, struct audit_query *q, int report)
{
	const char	*p, *v;
	size_t		 n, kn;

	memset(q, 0, sizeof(*q));
	q->limit = AUDIT_LIMIT_DEFAULT;
	for (p = c->query; *p != '\0'; p += n + (p[n] == '&')) {
		n = strcspn(p, "&");
		kn = strcspn(p, "=&");
		v = p + kn + (p[kn] == '=');
		if (kn == 7 && strncmp(p, "account", 7) == 0) {
			if (p[kn] != '=' || n - kn - 1 >= sizeof(q->account) ||
			    memchr(v, '%', n - kn - 1) != NULL || n == kn + 1)
				return rest_admin_bad(c, "\"account\" must be an account name, not "
				    "percent-encoded");
			memcpy(q->account, v, n - kn - 1);
			q->account[n - kn - 1] = '\0';
		} else if (report && kn == 5 && strncmp(p, "since", 5) == 0) {
			if (p[kn] != '=' || query_number(v, n - kn - 1, 1, 36500, &q->since) != 0)
				return rest_admin_bad(c, "\"since\" must be a number of days from "
				    "1 to 36500");
		} else if (!report && kn == 5 && strncmp(p, "limit", 5) == 0) {
			if (p[kn] != '=' || query_number(v, n - kn - 1, 1, AUDIT_LIMIT_MAX,
			    &q->limit) != 0)
				return rest_admin_bad(c, "\"limit\" must be a number from 1 to %d",
				    AUDIT_LIMIT_MAX);
		} else if (!report && kn == 6 && strncmp(p, "before", 6) == 0) {
			if (p[kn] != '=' || query_number(v, n - kn - 1, 1, INT64_MAX,
			    &q->before) != 0)
				return rest_admin_bad(c, "\"before\" must be an audit entry id");
		} else if (n > 0) {
			return rest_admin_bad(c, report ? "Unknown query parameter: the report "
			    "takes account and since" : "Unknown query parameter: the audit takes "
			    "account, limit and before");
		}
	}
	return 0;
}

/*
 * The start the audit and the report share: parse the query, resolve ?account= (a tenant gets
 * its own account whatever it asks), open the list. -1 when a reply has been sent (c->rc).
 */
static int
query_start(struct rest_admin_ctx *c, struct audit_query *q, int report,
    struct rest_admin_list *l, int64_t *account_id)
{
	if (audit_query_parse(c, q, report) != 0)
		return -1;
	return rest_admin_list_start(c, l, q->account[0] != '\0' ? q->account : NULL,
	    account_id);
}

/* Newest first. */
static int
r_audit(struct rest_admin_ctx *c)
{
	struct audit_query	q;
	struct rest_admin_list	l = { NULL, c->who.now, 0 };
	int64_t			account_id;
	enum tsk_status		rc;

	if (query_start(c, &q, 0, &l, &account_id) != 0)
		return c->rc;
	rc = store_audit_list(c->st, account_id, q.before, (int)q.limit, list_audit, &l);
	return rest_admin_reply_list(c, rc, "entries", &l);
}

/* ---- the migration report ------------------------------------------------------------------ */

static int
list_migration(const struct store_migration *m, void *arg)
{
	struct rest_admin_list	*l = arg;
	json_t			*o;

	o = json_pack("{s:s, s:I, s:s, s:s, s:{s:I, s:I, s:I, s:I}}", "kind", m->kind, "id",
	    (json_int_t)m->id, "account", m->account, "name", m->name, "requests",
	    "soapSession", (json_int_t)m->soap_session, "soapKey", (json_int_t)m->soap_key,
	    "rest", (json_int_t)m->rest, "logins", (json_int_t)m->logins);
	if (o != NULL && m->prefix[0] != '\0')
		json_object_set_new(o, "prefix", json_string(m->prefix));
	if (o != NULL)
		reply_set_time(o, "lastLegacyUse", m->last_legacy_at);
	return rest_admin_list_add(l, o);
}

/* Keys and Login users still on a legacy path (SOAP, Login), latest legacy use first. */
static int
r_report_migration(struct rest_admin_ctx *c)
{
	struct audit_query	q;
	struct rest_admin_list	l = { NULL, c->who.now, 0 };
	int64_t			account_id;
	enum tsk_status		rc;

	if (query_start(c, &q, 1, &l, &account_id) != 0)
		return c->rc;
	rc = store_migration_list(c->st, account_id, q.since > 0 ? c->who.now - q.since * 86400 :
	    0, list_migration, &l);
	return rest_admin_reply_list(c, rc, "legacy", &l);
}

/* ---- routing ------------------------------------------------------------------------------- */

typedef int	(*admin_fn)(struct rest_admin_ctx *);

/* {name} is an account name, {id} a key id; the pattern is also what the log line names. */
static const struct admin_route {
	const char	*pattern;
	int		 method;
	const char	*thing;
	admin_fn	 fn;
} admin_routes[] = {
	{ REST_ADMIN_PREFIX "accounts", SOAP_GET, "account", r_accounts_list },
	{ REST_ADMIN_PREFIX "accounts", SOAP_POST, "account", r_accounts_create },
	{ REST_ADMIN_PREFIX "accounts/{name}", SOAP_GET, "account", r_account_get },
	{ REST_ADMIN_PREFIX "accounts/{name}/credit", SOAP_POST, "account", r_account_credit },
	{ REST_ADMIN_PREFIX "accounts/{name}/allowance", SOAP_POST, "account",
	    r_account_allowance },
	{ REST_ADMIN_PREFIX "accounts/{name}/keys", SOAP_GET, "account", rest_admin_keys_list },
	{ REST_ADMIN_PREFIX "accounts/{name}/keys", SOAP_POST, "account", rest_admin_keys_create },
	{ REST_ADMIN_PREFIX "accounts/{name}/keys/import", SOAP_POST, "account",
	    rest_admin_keys_import },
	{ REST_ADMIN_PREFIX "accounts/{name}/users", SOAP_GET, "account", r_users_list },
	{ REST_ADMIN_PREFIX "accounts/{name}/users", SOAP_POST, "account", r_users_create },
	{ REST_ADMIN_PREFIX "keys/{id}", SOAP_GET, "key", rest_admin_key_get },
	{ REST_ADMIN_PREFIX "keys/{id}", SOAP_DEL, "key", rest_admin_key_delete },
	{ REST_ADMIN_PREFIX "keys/{id}/deactivate", SOAP_POST, "key", rest_admin_key_deactivate },
	{ REST_ADMIN_PREFIX "keys/{id}/reactivate", SOAP_POST, "key", rest_admin_key_reactivate },
	{ REST_ADMIN_PREFIX "keys/{id}/rotate", SOAP_POST, "key", rest_admin_key_rotate },
	{ REST_ADMIN_PREFIX "audit", SOAP_GET, "account", r_audit },
	{ REST_ADMIN_PREFIX "report/migration", SOAP_GET, "account", r_report_migration },
};

/*
 * Does path (segments after the prefix, no query) fit pat (the same)? A "{...}" segment of pat
 * takes any non-empty segment, which *arg and *argn then point at.
 */
static int
path_fits(const char *pat, const char *path, const char **arg, size_t *argn)
{
	size_t	pn, n;

	for (;;) {
		pn = strcspn(pat, "/");
		n = strcspn(path, "/");
		if (pat[0] == '{') {
			if (n == 0)
				return 0;
			*arg = path;
			*argn = n;
		} else if (pn != n || strncasecmp(pat, path, n) != 0) {
			return 0;
		}
		if (pat[pn] == '\0' || path[n] == '\0')
			return pat[pn] == path[n];
		pat += pn + 1;
		path += n + 1;
	}
}

/*
 * The route for method on path; NULL when there is none, with allow holding the methods the
 * path does take ("" when it names nothing).
 */
static const struct admin_route *
route_find(const char *path, int method, const char **arg, size_t *argn, char *allow,
    size_t allowsz)
{
	const struct admin_route	*rt;
	size_t				 i, skip = strlen(REST_ADMIN_PREFIX), n;

	allow[0] = '\0';
	for (i = 0; i < sizeof(admin_routes) / sizeof(admin_routes[0]); i++) {
		rt = &admin_routes[i];
		if (!path_fits(rt->pattern + skip, path, arg, argn))
			continue;
		if (rt->method == method)
			return rt;
		n = strlen(allow);
		snprintf(allow + n, allowsz - n, "%s%s", n > 0 ? ", " : "",
		    rest_method(rt->method));
	}
	return NULL;
}

/* Take the {name} or {id} of the path into c. */
static int
route_arg(struct rest_admin_ctx *c, const struct admin_route *rt, const char *arg, size_t argn)
{
	if (strstr(rt->pattern, "{name}") != NULL) {
		if (argn >= sizeof(c->name) || memchr(arg, '%', argn) != NULL)
			return rest_admin_bad(c, "An account name in a path is at most 127 bytes "
			    "and is not percent-encoded");
		memcpy(c->name, arg, argn);
		c->name[argn] = '\0';
	} else if (strstr(rt->pattern, "{id}") != NULL) {
		if (query_number(arg, argn, 1, INT64_MAX, &c->id) != 0)
			return rest_admin_bad(c, "A key id is a positive decimal number");
	}
	return 0;
}

/* Route the request and run its handler: 404, 405 or 400 when it cannot be. */
static int
dispatch(struct rest_admin_ctx *c)
{
	const struct admin_route	*rt;
	const char			*arg = NULL, *q;
	char				 path[ADMIN_PATH_MAX], allow[64], line[80];
	size_t				 n, argn = 0;

	q = c->soap->path + strlen(REST_ADMIN_PREFIX);
	n = strcspn(q, "?");
	c->query = q[n] == '?' ? q + n + 1 : "";
	if (n >= sizeof(path))
		return reply_error(c->soap, c->r, 404, "NOT_FOUND", "No such resource");
	memcpy(path, q, n);
	path[n] = '\0';
	rt = route_find(path, c->soap->status, &arg, &argn, allow, sizeof(allow));
	if (rt == NULL && allow[0] == '\0') {
		return reply_error(c->soap, c->r, 404, "NOT_FOUND", "No such resource");
	}
	if (rt == NULL) {
		snprintf(line, sizeof(line), "Allow: %s", allow);
		request_add_header(c->r, c->soap, line);
		return reply_error(c->soap, c->r, 405, "METHOD_NOT_ALLOWED",
		    "This resource does not answer that method");
	}
	c->r->route = rt->pattern;
	c->thing = rt->thing;
	if (route_arg(c, rt, arg, argn) != 0)
		return c->rc;
	return rt->fn(c);
}

int
rest_admin_serve(struct soap *soap, struct request *r, const struct rest_body *b)
{
	struct tsk_principal	p;
	struct rest_admin_ctx	c;
	enum tsk_verdict	v;
	char			who[32];

	v = request_authenticate(r, r->api_key != NULL ? r->api_key : soap->bearer,
	    TSK_CHANNEL_REST, TSK_OP_ADMIN, &p);
	if (v == TSK_VERDICT_OK && p.kind != TSK_PRINCIPAL_KEY) {
		/* Only keys are granted keys:admin; should a session ever hold it, refuse anyway. */
		v = TSK_VERDICT_INSUFFICIENT_SCOPE;
		request_note(r, v, &p);
	}
	if (v != TSK_VERDICT_OK)
		return reply_verdict(soap, r, v);
	memset(&c, 0, sizeof(c));
	c.soap = soap;
	c.r = r;
	c.b = b;
	c.st = request_store(r);
	if (c.st == NULL)
		return reply_verdict(soap, r, TSK_VERDICT_ERROR);
	snprintf(who, sizeof(who), "key:%lld", (long long)p.key_id);
	c.who.who = who;
	c.who.account_id = p.platform ? 0 : p.account_id;
	c.who.client = r->client;
	c.who.request_id = r->id;
	c.who.now = time(NULL);
	c.who.max_active = r->cfg->max_active_keys;
	return dispatch(&c);
}
