/* SPDX-License-Identifier: MIT */
/*
 * The REST shim: routes every non-SOAP request (credit, login, logout, me, verify, the WSDL, and
 * the admin API's prefix, the keys console) and answers in JSON or, where TrackRoad's REST
 * does, in XML. Authentication is the validator's; this file maps verdicts onto HTTP statuses.
 * It also decides which web origins may call the admin API from a browser (CORS).
 */
#include "rest.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "console.h"
#include "log.h"
#include "origin.h"
#include "jsonw.h"
#include "reply.h"
#include "rest_ops.h"
#include "login.h"
#include "soapH.h"
#include "soapsvc.h"
#include "tls.h"
#include "tstime.h"
#include "validator.h"

#define TRACKROAD_STATUS_NONE		0
#define TRACKROAD_STATUS_SUCCESS	1
#define TRACKROAD_STATUS_FAILED		2

typedef int	(*route_fn)(struct soap *, struct request *, const struct rest_body *);

static int	r_credit(struct soap *, struct request *, const struct rest_body *);
static int	r_login(struct soap *, struct request *, const struct rest_body *);
static int	r_logout(struct soap *, struct request *, const struct rest_body *);
static int	r_me(struct soap *, struct request *, const struct rest_body *);
static int	r_verify(struct soap *, struct request *, const struct rest_body *);
static int	r_wsdl(struct soap *, struct request *, const struct rest_body *);
static int	r_openapi(struct soap *, struct request *, const struct rest_body *);
static int	r_console(struct soap *, struct request *, const struct rest_body *);

static const struct route {
	const char	*path;		/* matched case-insensitively, as ASMX and TrackRoad do */
	int		 method;	/* SOAP_POST, SOAP_GET; 0 = any */
	route_fn	 fn;
} routes[] = {
	{ "/rest/credit", SOAP_POST, r_credit },
	{ "/rest/login", SOAP_POST, r_login },
	{ "/rest/logout", SOAP_POST, r_logout },
	{ "/rest/me", SOAP_GET, r_me },
	{ "/rest/verify", 0, r_verify },
	{ REST_SOAP_PATH, SOAP_GET, r_wsdl },	/* POST goes to the SOAP dispatcher */
	{ "/openapi.json", SOAP_GET, r_openapi },
	{ "/console", SOAP_GET, r_console },
	{ "/console/", SOAP_GET, r_console },
	{ "/console/console.css", SOAP_GET, r_console },
	{ "/console/console.js", SOAP_GET, r_console },
	{ "/metrics", SOAP_GET, rest_ops_metrics },
	{ "/healthz", SOAP_GET, rest_ops_healthz },
	{ "/readyz", SOAP_GET, rest_ops_readyz },
};

static const char *
method_name(int m)
{
	switch (m) {
	case SOAP_POST: return "POST";
	case SOAP_GET: return "GET";
	case SOAP_PUT: return "PUT";
	case SOAP_DEL: return "DELETE";
	case SOAP_HEAD: return "HEAD";
	case SOAP_OPTIONS: return "OPTIONS";
	case SOAP_PATCH: return "PATCH";
	default: return "OTHER";
	}
}

const char *
rest_method(int m)
{
	return method_name(m);
}

/* Compare the path part of p (up to '?') with want, ignoring case. */
int
rest_path_is(const char *p, const char *want)
{
	size_t	n = strcspn(p, "?");

	return n == strlen(want) && strncasecmp(p, want, n) == 0;
}

int
rest_is_soap_type(const char *ct)
{
	static const char *const types[] = { "text/xml", "application/soap+xml",
	    "application/xml", "multipart/related" };
	size_t	n, i;

	if (ct == NULL)
		return 0;
	n = strcspn(ct, ";");
	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (n == strlen(types[i]) && strncasecmp(ct, types[i], n) == 0)
			return 1;
	}
	return 0;
}

/* The REST credential: X-API-Key, else Authorization: Bearer. */
static enum tsk_verdict
authenticate(struct soap *soap, struct request *r, enum tsk_op op, struct tsk_principal *p)
{
	return request_authenticate(r, r->api_key != NULL ? r->api_key : soap->bearer,
	    TSK_CHANNEL_REST, op, p);
}

static int
r_credit(struct soap *soap, struct request *r, const struct rest_body *b)
{
	struct tsk_principal	p;
	enum tsk_verdict	v;
	struct jsonw		w;
	char			credit[24], out[128];

	(void)b;
	v = authenticate(soap, r, TSK_OP_CREDIT, &p);
	if (v != TSK_VERDICT_OK)
		return reply_verdict(soap, r, v);
	if (reply_wants_xml(soap, r)) {
		const char	*kv[] = { "Errors", NULL, "Status", "None", "Credit", credit, NULL };

		snprintf(credit, sizeof(credit), "%lld", (long long)p.credit);
		return reply_xml(soap, r, 200, "CreditResult", kv);
	}
	jsonw_init(&w, out, sizeof(out));
	jsonw_raw(&w, "{\"Credit\":");
	jsonw_int(&w, (long long)p.credit);
	jsonw_raw(&w, ",\"Errors\":[],\"Status\":");
	jsonw_int(&w, TRACKROAD_STATUS_NONE);
	jsonw_raw(&w, "}");
	return reply_jsonw(soap, r, 200, &w);
}

static int
r_login(struct soap *soap, struct request *r, const struct rest_body *b)
{
	struct tsk_principal	 p;
	json_t			*obj, *ju, *jp;
	char			 key[SECRET_SESSION_LEN + 1];
	enum login_result	 lr;
	struct login_lease	 ls;
	int			 rc = SOAP_OK;

	request_login_headers(r, soap);
	obj = reply_json_body(soap, r, b->data, b->len, &rc);
	if (obj == NULL)
		return rc;
	ju = json_object_get(obj, "UserName");
	jp = json_object_get(obj, "Password");
	if (!json_is_string(ju) || !json_is_string(jp)) {
		json_decref(obj);
		return reply_error(soap, r, 400, "BAD_REQUEST",
		    "The body needs \"UserName\" and \"Password\", both strings");
	}
	request_login_lease(r, &ls);
	lr = login_start_lease(&ls, r->login, json_string_value(ju), json_string_value(jp),
	    r->client, time(NULL), key, &p);
	json_decref(obj);	/* the password goes with it */
	request_note(r, login_verdict(lr), &p);
	if (lr == LOGIN_ERROR)
		return reply_verdict(soap, r, TSK_VERDICT_ERROR);
	if (lr == LOGIN_BUSY) {
		/* As the store-failure 503, with when to retry: the password was not checked. */
		char	line[48];

		snprintf(line, sizeof(line), "Retry-After: %lld", (long long)p.retry_after);
		request_add_header(r, soap, line);
		snprintf(line, sizeof(line), "X-Tskey-Code: %s", login_code(lr));
		request_add_header(r, soap, line);
		return reply_error(soap, r, 503, login_code(lr), login_message(lr));
	}
	if (lr == LOGIN_THROTTLED) {
		char	line[48];

		snprintf(line, sizeof(line), "Retry-After: %lld", (long long)p.retry_after);
		request_add_header(r, soap, line);
	}
	if (lr != LOGIN_OK) {
		/* A wrong password is a 401 like any other under --uniform-errors. */
		const char	*code = lr == LOGIN_FAILED && r->policy->uniform_errors ?
				    "UNAUTHORIZED" : login_code(lr);

		/* TrackRoad's fields for old clients, and ours for new ones. */
		return reply_json(soap, r, lr == LOGIN_FAILED ? 401 : lr == LOGIN_THROTTLED ? 429 : 403,
		    json_pack("{s:s, s:i, s:n, s:s, s:s, s:s}", "Message", login_message(lr),
		    "Status", TRACKROAD_STATUS_FAILED, "Key", "message", login_message(lr), "code",
		    code, "requestId", r->id));
	}
	rc = reply_json(soap, r, 200, json_pack("{s:s, s:i, s:s}", "Message", "Success",
	    "Status", TRACKROAD_STATUS_SUCCESS, "Key", key));
	secret_wipe(key, sizeof(key));
	return rc;
}

static int
r_logout(struct soap *soap, struct request *r, const struct rest_body *b)
{
	struct tsk_principal	p;
	enum tsk_verdict	v;

	(void)b;
	v = authenticate(soap, r, TSK_OP_LOGOUT, &p);
	if (v != TSK_VERDICT_OK)
		return reply_verdict(soap, r, v);
	if (login_end(request_store(r), &p) != TSK_OK)
		return reply_verdict(soap, r, TSK_VERDICT_ERROR);
	return reply_json(soap, r, 200, json_pack("{s:s, s:i}", "Message", "Success", "Status",
	    TRACKROAD_STATUS_SUCCESS));
}

/* Space-separated scopes as a JSON array. */
static json_t *
scopes_array(const char *scopes)
{
	json_t	*a = json_array();
	size_t	 n;

	for (const char *p = scopes; a != NULL && *p != '\0'; p += n) {
		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n > 0)
			json_array_append_new(a, json_stringn(p, n));
	}
	return a;
}

static int
r_me(struct soap *soap, struct request *r, const struct rest_body *b)
{
	struct tsk_principal	 p;
	enum tsk_verdict	 v;
	json_t			*obj;
	int			 is_key;

	(void)b;
	v = authenticate(soap, r, TSK_OP_ME, &p);
	if (v != TSK_VERDICT_OK)
		return reply_verdict(soap, r, v);
	is_key = p.kind == TSK_PRINCIPAL_KEY;
	obj = json_pack("{s:s, s:I, s:s, s:o, s:I, s:I, s:{s:I, s:I}}", "account", p.account,
	    "accountId", (json_int_t)p.account_id, "type", is_key ? "key" : "session",
	    "scopes", scopes_array(p.scopes), "credit", (json_int_t)p.credit,
	    "monthlyAllowance", (json_int_t)p.monthly_allowance, "rateLimits",
	    "perMinute", (json_int_t)p.rate_minute, "perDay", (json_int_t)p.rate_day);
	if (obj == NULL)
		return reply_json(soap, r, 500, NULL);
	if (is_key) {
		json_object_set_new(obj, "keyId", json_integer(p.key_id));
		json_object_set_new(obj, "keyName", json_string(p.key_name));
		json_object_set_new(obj, "prefix", json_string(p.prefix));
		json_object_set_new(obj, "environment", json_string(p.env));
		json_object_set_new(obj, "platform", json_boolean(p.platform));
	} else {
		json_object_set_new(obj, "user", json_string(p.user));
	}
	reply_set_time(obj, "createdAt", p.created_at);
	reply_set_time(obj, "lastUsedAt", p.last_used_at);
	reply_set_time(obj, "expiresAt", p.expires_at);
	return reply_json(soap, r, 200, obj);
}

/*
 * For reverse proxies (nginx auth_request): any method; 2xx with the principal in X-Tskey-*
 * headers for a good key, the usual refusal otherwise. A metered call: it costs credit.
 */
static int
r_verify(struct soap *soap, struct request *r, const struct rest_body *b)
{
	struct tsk_principal	p;
	enum tsk_verdict	v;
	struct jsonw		w;
	char			line[TSK_SCOPES_MAX + 32], out[6 * (TSK_NAME_MAX + TSK_SCOPES_MAX) + 128];

	(void)b;
	v = authenticate(soap, r, TSK_OP_VERIFY, &p);
	if (v != TSK_VERDICT_OK)
		return reply_verdict(soap, r, v);
	snprintf(line, sizeof(line), "X-Tskey-Account: %s", p.account);
	request_add_header(r, soap, line);
	snprintf(line, sizeof(line), "X-Tskey-Key-Id: %lld", (long long)p.key_id);
	request_add_header(r, soap, line);
	snprintf(line, sizeof(line), "X-Tskey-Scopes: %s", p.scopes);
	request_add_header(r, soap, line);
	jsonw_init(&w, out, sizeof(out));
	jsonw_raw(&w, "{\"account\":");
	jsonw_str(&w, p.account);
	jsonw_raw(&w, ",\"keyId\":");
	jsonw_int(&w, (long long)p.key_id);
	jsonw_raw(&w, ",\"scopes\":");
	jsonw_words(&w, p.scopes);
	jsonw_raw(&w, ",\"credit\":");
	jsonw_int(&w, (long long)p.credit);
	jsonw_raw(&w, "}");
	return reply_jsonw(soap, r, 200, &w);
}

static int
r_wsdl(struct soap *soap, struct request *r, const struct rest_body *b)
{
	const char	*q = strchr(soap->path, '?');

	(void)b;
	if (q != NULL && strcasecmp(q + 1, "wsdl") == 0)
		return soapsvc_wsdl(soap, r);
	return reply_error(soap, r, 404, "NOT_FOUND",
	    "Send SOAP requests with POST; the contract is at ?WSDL");
}

/* The REST contract (wsdl/openapi.json, compiled in). */
static int
r_openapi(struct soap *soap, struct request *r, const struct rest_body *b)
{
	extern const unsigned char	tsk_openapi_data[];
	extern const size_t		tsk_openapi_size;

	(void)b;
	return reply_raw(soap, r, 200, "application/json; charset=utf-8",
	    (const char *)tsk_openapi_data, tsk_openapi_size);
}

/* The keys console's files (console.c). */
static int
r_console(struct soap *soap, struct request *r, const struct rest_body *b)
{
	(void)b;
	return console_serve(soap, r);
}

/*
 * The Origin header of this request, or NULL. gSOAP keeps soap->origin from one request to the
 * next on a connection, but sets soap->cors_origin (to "Access-Control-Allow-Origin: *" for
 * every response) only when this request had one, and clears it before each request: take it
 * as the sign, and clear it, so that no response allows every origin. What may call the
 * admin API is decided in admin_origin below.
 */
static const char *
request_origin(struct soap *soap)
{
	const char	*o = soap->cors_origin != NULL ? soap->origin : NULL;

	soap->cors_origin = NULL;
	return o;
}

/*
 * A browser's request to the admin API: the server's own origin passes; a configured one
 * (serve --admin-origin) passes with CORS headers, and its preflight (OPTIONS with
 * Access-Control-Request-Method) is answered here; any other origin gets 403 before the key is
 * looked at. Returns 0 to go on to the admin API, else 1 with a reply sent (its rc in *rc).
 */
static int
admin_origin(struct soap *soap, struct request *r, const char *origin, int *rc)
{
	char	line[ORIGIN_MAX + 40];

	request_add_header(r, soap, "Vary: Origin");
	request_add_header(r, soap, "Cache-Control: no-store");
	switch (origin_classify(origin, r->host, tls_enabled(r->cfg), r->cfg->admin_origins)) {
	case ORIGIN_NONE:
	case ORIGIN_SAME:
		return 0;
	case ORIGIN_CONFIGURED:
		break;
	default:
		*rc = reply_error(soap, r, 403, "ORIGIN_NOT_ALLOWED", "Requests from this web "
		    "origin may not call the admin API (see serve --admin-origin)");
		return 1;
	}
	snprintf(line, sizeof(line), "Access-Control-Allow-Origin: %s", origin);
	request_add_header(r, soap, line);
	if (soap->status == SOAP_OPTIONS && soap->cors_method != NULL) {
		request_add_header(r, soap, "Access-Control-Allow-Methods: GET, POST, DELETE");
		request_add_header(r, soap, "Access-Control-Allow-Headers: Authorization, "
		    "Content-Type, X-API-Key");
		request_add_header(r, soap, "Access-Control-Max-Age: 600");
		r->route = "cors-preflight";
		*rc = reply_raw(soap, r, 204, NULL, "", 0);
		return 1;
	}
	request_add_header(r, soap, "Access-Control-Expose-Headers: X-Request-Id, X-Tskey-Code, "
	    "Retry-After");
	return 0;
}

int
rest_serve(struct soap *soap)
{
	struct request		*r = soap->user;
	const struct route	*rt, *path_match = NULL;
	struct rest_body	 b = { NULL, 0 };
	const char		*origin = request_origin(soap);
	char			 allow[64];
	size_t			 i;
	int			 rc;

	if (r->reject_status != 0) {
		r->route = "framing";
		return reply_error(soap, r, r->reject_status, r->reject_code, r->reject_msg);
	}
	/* The whole body, read and held to --max-body by the framing before this was called. */
	if (soap->status == SOAP_POST || soap->status == SOAP_PUT || soap->status == SOAP_PATCH) {
		b.data = r->body;
		b.len = r->body_len;
	}
	if (strncasecmp(soap->path, REST_ADMIN_PREFIX, strlen(REST_ADMIN_PREFIX)) == 0) {
		r->route = REST_ADMIN_PREFIX;
		if (admin_origin(soap, r, origin, &rc) != 0)
			return rc;
		return rest_admin_serve(soap, r, &b);
	}
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		rt = &routes[i];
		if (!rest_path_is(soap->path, rt->path))
			continue;
		path_match = rt;
		if (rt->method == soap->status || rt->method == 0) {
			r->route = rt->path;
			return rt->fn(soap, r, &b);
		}
	}
	if (path_match != NULL && soap->status == SOAP_POST &&
	    rest_path_is(soap->path, REST_SOAP_PATH)) {
		r->route = "soap";
		return reply_error(soap, r, 415, "UNSUPPORTED_MEDIA_TYPE", "A SOAP request needs "
		    "Content-Type text/xml (SOAP 1.1) or application/soap+xml (SOAP 1.2)");
	}
	if (path_match == NULL) {
		r->route = "unknown";
		return reply_error(soap, r, 404, "NOT_FOUND", "No such resource");
	}
	r->route = path_match->path;
	/* The SOAP path also takes POST (SOAP); every other path has one method. */
	snprintf(allow, sizeof(allow), "Allow: %s", rest_path_is(path_match->path, REST_SOAP_PATH) ?
	    "GET, POST" : method_name(path_match->method));
	request_add_header(r, soap, allow);
	return reply_error(soap, r, 405, "METHOD_NOT_ALLOWED",
	    "This resource does not answer that method");
}
