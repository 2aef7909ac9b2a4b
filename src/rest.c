/* SPDX-License-Identifier: MIT */
/*
 * The REST shim: routes every non-SOAP request (credit, login, logout, me, the WSDL) and answers
 * in JSON (jansson) or, where TrackRoad's REST does, in XML (libxml2). Authentication is the
 * validator's; this file maps verdicts onto HTTP statuses and error bodies with a request id.
 */
#include "rest.h"

#include <jansson.h>
#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "login.h"
#include "soapH.h"
#include "soapsvc.h"
#include "tstime.h"
#include "validator.h"

#define TRACKROAD_STATUS_NONE		0
#define TRACKROAD_STATUS_SUCCESS	1
#define TRACKROAD_STATUS_FAILED		2

struct body {
	const char	*data;
	size_t		 len;
};

typedef int	(*route_fn)(struct soap *, struct request *, const struct body *);

static int	r_credit(struct soap *, struct request *, const struct body *);
static int	r_login(struct soap *, struct request *, const struct body *);
static int	r_logout(struct soap *, struct request *, const struct body *);
static int	r_me(struct soap *, struct request *, const struct body *);
static int	r_wsdl(struct soap *, struct request *, const struct body *);

static const struct route {
	const char	*path;		/* matched case-insensitively, as ASMX and TrackRoad do */
	int		 method;	/* SOAP_POST, SOAP_GET */
	route_fn	 fn;
} routes[] = {
	{ "/rest/credit", SOAP_POST, r_credit },
	{ "/rest/login", SOAP_POST, r_login },
	{ "/rest/logout", SOAP_POST, r_logout },
	{ "/rest/me", SOAP_GET, r_me },
	{ REST_SOAP_PATH, SOAP_GET, r_wsdl },	/* POST goes to the SOAP dispatcher */
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

static int
send_body(struct soap *soap, struct request *r, int status, const char *ctype, const char *data,
    size_t len)
{
	r->status = status;
	soap->http_content = ctype;
	if (soap_response(soap, SOAP_FILE + status) || soap_send_raw(soap, data, len) ||
	    soap_end_send(soap))
		return soap_closesock(soap);
	return SOAP_OK;
}

/* Send obj as JSON and release it. A body we cannot encode is our failure: 500. */
static int
send_json(struct soap *soap, struct request *r, int status, json_t *obj)
{
	char	*s = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
	int	 rc;

	json_decref(obj);
	if (s == NULL) {
		static const char oom[] = "{\"message\":\"internal error\",\"code\":\"INTERNAL\"}";

		log_warnx("rest: cannot encode a JSON reply");
		return send_body(soap, r, 500, "application/json", oom, sizeof(oom) - 1);
	}
	rc = send_body(soap, r, status, "application/json; charset=utf-8", s, strlen(s));
	free(s);
	return rc;
}

/* Does the caller want XML? TrackRoad answers in the request's own format. */
static int
wants_xml(struct soap *soap, const struct request *r)
{
	const char	*a = r->accept, *ct = soap->http_content;

	if (a != NULL && *a != '\0' && strstr(a, "*/*") == NULL)
		return strstr(a, "xml") != NULL && strstr(a, "json") == NULL;
	return ct != NULL && strstr(ct, "xml") != NULL;
}

/* Write <root> with the given child elements (NULL-terminated name/value pairs) and send it. */
static int
send_xml(struct soap *soap, struct request *r, int status, const char *root, const char **kv)
{
	xmlBufferPtr		buf = xmlBufferCreate();
	xmlTextWriterPtr	w = buf != NULL ? xmlNewTextWriterMemory(buf, 0) : NULL;
	int			rc, bad;

	bad = w == NULL || xmlTextWriterStartDocument(w, NULL, "utf-8", NULL) < 0 ||
	    xmlTextWriterStartElement(w, BAD_CAST root) < 0;
	for (; !bad && kv[0] != NULL; kv += 2) {
		if (kv[1] == NULL)
			bad = xmlTextWriterWriteElement(w, BAD_CAST kv[0], BAD_CAST "") < 0;
		else
			bad = xmlTextWriterWriteElement(w, BAD_CAST kv[0], BAD_CAST kv[1]) < 0;
	}
	if (!bad)
		bad = xmlTextWriterEndDocument(w) < 0;
	if (w != NULL)
		xmlFreeTextWriter(w);	/* flushes into buf */
	if (bad) {
		log_warnx("rest: cannot write an XML reply");
		rc = send_body(soap, r, 500, "text/plain", "internal error\n", 15);
	} else {
		rc = send_body(soap, r, status, "application/xml; charset=utf-8",
		    (const char *)xmlBufferContent(buf), (size_t)xmlBufferLength(buf));
	}
	xmlBufferFree(buf);
	return rc;
}

/* An error reply: {"message","code","requestId"} (or <Error> for XML callers). */
static int
send_error(struct soap *soap, struct request *r, int status, const char *code, const char *msg)
{
	const char	*kv[] = { "Message", msg, "Code", code, "RequestId", r->id, NULL };

	if (wants_xml(soap, r))
		return send_xml(soap, r, status, "Error", kv);
	return send_json(soap, r, status,
	    json_pack("{s:s, s:s, s:s}", "message", msg, "code", code, "requestId", r->id));
}

int
rest_send_error(struct soap *soap, struct request *r, int status, const char *code,
    const char *msg)
{
	return send_error(soap, r, status, code, msg);
}

static int
send_verdict(struct soap *soap, struct request *r, enum tsk_verdict v)
{
	return send_error(soap, r, validator_http_status(v), validator_code(v),
	    validator_message(v));
}

/* The REST credential: X-API-Key, else Authorization: Bearer. */
static enum tsk_verdict
authenticate(struct soap *soap, struct request *r, struct tsk_principal *p)
{
	struct validator_req	 vr;
	const char		*cred = r->api_key != NULL ? r->api_key : soap->bearer;
	enum tsk_verdict	 v;

	memset(&vr, 0, sizeof(vr));
	vr.credential = cred;
	vr.len = cred != NULL ? strlen(cred) : 0;
	vr.channel = TSK_CHANNEL_REST;
	vr.client_addr = r->client;
	vr.now = time(NULL);
	v = validator_check(request_store(r), r->policy, &vr, p);
	request_note(r, v, p);
	return v;
}

static int
r_credit(struct soap *soap, struct request *r, const struct body *b)
{
	struct tsk_principal	p;
	enum tsk_verdict	v;
	char			credit[24];

	(void)b;
	v = authenticate(soap, r, &p);
	if (v != TSK_VERDICT_OK)
		return send_verdict(soap, r, v);
	if (wants_xml(soap, r)) {
		const char	*kv[] = { "Errors", NULL, "Status", "None", "Credit", credit, NULL };

		snprintf(credit, sizeof(credit), "%lld", (long long)p.credit);
		return send_xml(soap, r, 200, "CreditResult", kv);
	}
	return send_json(soap, r, 200, json_pack("{s:I, s:[], s:i}", "Credit",
	    (json_int_t)p.credit, "Errors", "Status", TRACKROAD_STATUS_NONE));
}

/* Parse a JSON object body; on failure an error reply has been sent and NULL is returned. */
static json_t *
json_body(struct soap *soap, struct request *r, const struct body *b, int *rc)
{
	json_error_t	 err;
	json_t		*obj;
	char		 msg[256];

	obj = json_loadb(b->data != NULL ? b->data : "", b->len, JSON_REJECT_DUPLICATES, &err);
	if (obj == NULL) {
		snprintf(msg, sizeof(msg), "Malformed JSON body: %s (line %d, column %d)",
		    err.text, err.line, err.column);
		*rc = send_error(soap, r, 400, "BAD_REQUEST", msg);
		return NULL;
	}
	if (!json_is_object(obj)) {
		json_decref(obj);
		*rc = send_error(soap, r, 400, "BAD_REQUEST", "The JSON body must be an object");
		return NULL;
	}
	return obj;
}

static int
r_login(struct soap *soap, struct request *r, const struct body *b)
{
	struct tsk_principal	 p;
	json_t			*obj, *ju, *jp;
	char			 key[SECRET_SESSION_LEN + 1];
	enum login_result	 lr;
	int			 rc = SOAP_OK;

	obj = json_body(soap, r, b, &rc);
	if (obj == NULL)
		return rc;
	ju = json_object_get(obj, "UserName");
	jp = json_object_get(obj, "Password");
	if (!json_is_string(ju) || !json_is_string(jp)) {
		json_decref(obj);
		return send_error(soap, r, 400, "BAD_REQUEST",
		    "The body needs \"UserName\" and \"Password\", both strings");
	}
	lr = login_start(request_store(r), json_string_value(ju), json_string_value(jp),
	    time(NULL), r->policy->session_idle, key, &p);
	json_decref(obj);	/* the password goes with it */
	if (lr == LOGIN_ERROR) {
		request_note(r, TSK_VERDICT_ERROR, NULL);
		return send_verdict(soap, r, TSK_VERDICT_ERROR);
	}
	request_note(r, lr == LOGIN_OK ? TSK_VERDICT_OK : TSK_VERDICT_INVALID, &p);
	if (lr == LOGIN_FAILED) {
		/* TrackRoad's fields for old clients, and ours for new ones. */
		return send_json(soap, r, 401, json_pack("{s:s, s:i, s:n, s:s, s:s, s:s}",
		    "Message", "Invalid user name or password", "Status", TRACKROAD_STATUS_FAILED,
		    "Key", "message", "Invalid user name or password", "code", "INVALID",
		    "requestId", r->id));
	}
	rc = send_json(soap, r, 200, json_pack("{s:s, s:i, s:s}", "Message", "Success",
	    "Status", TRACKROAD_STATUS_SUCCESS, "Key", key));
	secret_wipe(key, sizeof(key));
	return rc;
}

static int
r_logout(struct soap *soap, struct request *r, const struct body *b)
{
	struct tsk_principal	p;
	enum tsk_verdict	v;

	(void)b;
	v = authenticate(soap, r, &p);
	if (v != TSK_VERDICT_OK)
		return send_verdict(soap, r, v);
	if (login_end(request_store(r), &p) != TSK_OK)
		return send_verdict(soap, r, TSK_VERDICT_ERROR);
	return send_json(soap, r, 200, json_pack("{s:s, s:i}", "Message", "Success", "Status",
	    TRACKROAD_STATUS_SUCCESS));
}

/* Set key to the RFC 3339 form of t, or to null when t is 0 (never / unknown). */
static void
set_time(json_t *obj, const char *key, int64_t t)
{
	char	buf[TSTIME_LEN];

	if (t == 0) {
		json_object_set_new(obj, key, json_null());
		return;
	}
	tstime_format(t, buf, sizeof(buf));
	json_object_set_new(obj, key, json_string(buf));
}

static int
r_me(struct soap *soap, struct request *r, const struct body *b)
{
	struct tsk_principal	 p;
	enum tsk_verdict	 v;
	json_t			*obj;
	int			 is_key;

	(void)b;
	v = authenticate(soap, r, &p);
	if (v != TSK_VERDICT_OK)
		return send_verdict(soap, r, v);
	is_key = p.kind == TSK_PRINCIPAL_KEY;
	obj = json_pack("{s:s, s:I, s:s, s:I}", "account", p.account, "accountId",
	    (json_int_t)p.account_id, "type", is_key ? "key" : "session", "credit",
	    (json_int_t)p.credit);
	if (obj == NULL)
		return send_json(soap, r, 500, NULL);
	if (is_key) {
		json_object_set_new(obj, "keyId", json_integer(p.key_id));
		json_object_set_new(obj, "keyName", json_string(p.key_name));
		json_object_set_new(obj, "prefix", json_string(p.prefix));
	} else {
		json_object_set_new(obj, "user", json_string(p.user));
	}
	set_time(obj, "createdAt", p.created_at);
	set_time(obj, "lastUsedAt", p.last_used_at);
	set_time(obj, "expiresAt", p.expires_at);
	return send_json(soap, r, 200, obj);
}

static int
r_wsdl(struct soap *soap, struct request *r, const struct body *b)
{
	const char	*q = strchr(soap->path, '?');

	(void)b;
	if (q != NULL && strcasecmp(q + 1, "wsdl") == 0)
		return soapsvc_wsdl(soap, r);
	return send_error(soap, r, 404, "NOT_FOUND",
	    "Send SOAP requests with POST; the contract is at ?WSDL");
}

int
rest_too_large(struct soap *soap)
{
	struct request	*r = soap->user;

	r->route = "body";
	soap->keep_alive = 0;
	return send_error(soap, r, 413, "TOO_LARGE",
	    "The request body is larger than the server accepts");
}

int
rest_serve(struct soap *soap)
{
	struct request		*r = soap->user;
	const struct route	*rt, *path_match = NULL;
	struct body		 b = { NULL, 0 };
	char			 allow[64];
	size_t			 i;

	if (soap->status == SOAP_POST || soap->status == SOAP_PUT || soap->status == SOAP_PATCH) {
		b.data = soap_http_get_body(soap, &b.len);
		if (b.data == NULL || soap_end_recv(soap) != SOAP_OK) {
			/* A chunked body has no length to check up front: gSOAP's cap stops it. */
			if (soap->error == SOAP_EOM || soap->error == SOAP_LENGTH)
				return rest_too_large(soap);
			r->route = "body";
			return soap->error;
		}
	}
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		rt = &routes[i];
		if (!rest_path_is(soap->path, rt->path))
			continue;
		path_match = rt;
		if (rt->method == soap->status) {
			r->route = rt->path;
			return rt->fn(soap, r, &b);
		}
	}
	if (path_match != NULL && soap->status == SOAP_POST &&
	    rest_path_is(soap->path, REST_SOAP_PATH)) {
		r->route = "soap";
		return send_error(soap, r, 415, "UNSUPPORTED_MEDIA_TYPE", "A SOAP request needs "
		    "Content-Type text/xml (SOAP 1.1) or application/soap+xml (SOAP 1.2)");
	}
	if (path_match == NULL) {
		r->route = "unknown";
		return send_error(soap, r, 404, "NOT_FOUND", "No such resource");
	}
	r->route = path_match->path;
	/* The SOAP path also takes POST (SOAP); every other path has one method. */
	snprintf(allow, sizeof(allow), "Allow: %s", rest_path_is(path_match->path, REST_SOAP_PATH) ?
	    "GET, POST" : method_name(path_match->method));
	snprintf(r->extra_hdr, sizeof(r->extra_hdr), "X-Request-Id: %s\r\n%s", r->id, allow);
	soap->http_extra_header = r->extra_hdr;
	return send_error(soap, r, 405, "METHOD_NOT_ALLOWED",
	    "This resource does not answer that method");
}
