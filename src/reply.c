/* SPDX-License-Identifier: MIT */
/*
 * HTTP replies of the REST shim and the admin API: JSON (jansson) or, for callers that ask for
 * it, XML (libxml2); errors as {"message","code","requestId"} with the X-Request-Id header;
 * each reply sent in one piece with its Content-Length.
 */
#include "reply.h"

#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <string.h>

#include "jsonw.h"
#include "log.h"
#include "secret.h"
#include "soapH.h"
#include "tstime.h"

int
reply_raw(struct soap *soap, struct request *r, int status, const char *ctype, const char *data,
    size_t len)
{
	soap_mode	omode;
	int		rc;

	r->status = status;
	soap->http_content = ctype;
	/* A HEAD answer has the headers and no body (RFC 9110 9.3.2). */
	if (r->head)
		len = 0;
	/*
	 * Head and body in one send(): soap_response would store the body and send the head on
	 * its own (a second system call and TCP segment on every reply), so do what it does with
	 * buffered output instead; a reply over gSOAP's 64 KiB buffer goes out in pieces.
	 */
	omode = soap->omode;
	soap->omode = (omode & ~SOAP_IO) | SOAP_IO_BUFFER;
	soap->status = SOAP_FILE + status;
	rc = soap_begin_send(soap) != SOAP_OK;
	if (!rc) {
		soap->error = soap->fresponse(soap, SOAP_FILE + status, (ULONG64)len);
		rc = soap->error != SOAP_OK || soap_send_raw(soap, data, len) ||
		    soap_end_send(soap);
	}
	soap->omode = omode;
	if (rc)
		return soap_closesock(soap);
	return SOAP_OK;
}

/* Send obj as JSON and release it. A body we cannot encode is our failure: 500. */
int
reply_json(struct soap *soap, struct request *r, int status, json_t *obj)
{
	char	*s = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
	int	 rc;

	json_decref(obj);
	if (s == NULL) {
		char	oom[128];

		snprintf(oom, sizeof(oom), "{\"message\":\"internal error\","
		    "\"code\":\"INTERNAL\",\"requestId\":\"%s\"}", r->id);

		log_warnx("rest: cannot encode a JSON reply");
		return reply_raw(soap, r, 500, "application/json", oom, strlen(oom));
	}
	rc = reply_raw(soap, r, status, "application/json; charset=utf-8", s, strlen(s));
	secret_wipe(s, strlen(s));	/* it may have held a new key or session key */
	free(s);
	return rc;
}

int
reply_jsonw(struct soap *soap, struct request *r, int status, const struct jsonw *w)
{
	if (!w->ok)
		return reply_json(soap, r, status, NULL);	/* the 500 jansson's failure gives */
	return reply_raw(soap, r, status, "application/json; charset=utf-8", w->buf, w->len);
}

/* Does the caller want XML? TrackRoad answers in the request's own format. */
int
reply_wants_xml(struct soap *soap, const struct request *r)
{
	const char	*a = r->accept, *ct = soap->http_content;

	if (a != NULL && *a != '\0' && strstr(a, "*/*") == NULL)
		return strstr(a, "xml") != NULL && strstr(a, "json") == NULL;
	return ct != NULL && strstr(ct, "xml") != NULL;
}

/* Write <root> with the given child elements (NULL-terminated name/value pairs) and send it. */
int
reply_xml(struct soap *soap, struct request *r, int status, const char *root, const char **kv)
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
		rc = reply_json(soap, r, 500, NULL);	/* the error shape, whatever was asked */
	} else {
		rc = reply_raw(soap, r, status, "application/xml; charset=utf-8",
		    (const char *)xmlBufferContent(buf), (size_t)xmlBufferLength(buf));
	}
	xmlBufferFree(buf);
	return rc;
}

/* An error reply: {"message","code","requestId"} (or <Error> for XML callers). */
int
reply_error(struct soap *soap, struct request *r, int status, const char *code, const char *msg)
{
	const char	*kv[] = { "Message", msg, "Code", code, "RequestId", r->id, NULL };

	struct jsonw	 w;
	char		 buf[1024];

	if (reply_wants_xml(soap, r))
		return reply_xml(soap, r, status, "Error", kv);
	jsonw_init(&w, buf, sizeof(buf));
	jsonw_raw(&w, "{\"message\":");
	jsonw_str(&w, msg);
	jsonw_raw(&w, ",\"code\":");
	jsonw_str(&w, code);
	jsonw_raw(&w, ",\"requestId\":");
	jsonw_str(&w, r->id);
	jsonw_raw(&w, "}");
	if (!w.ok)	/* a long message: jansson has the room */
		return reply_json(soap, r, status, json_pack("{s:s, s:s, s:s}", "message", msg,
		    "code", code, "requestId", r->id));
	return reply_jsonw(soap, r, status, &w);
}

int
reply_verdict(struct soap *soap, struct request *r, enum tsk_verdict v)
{
	struct validator_answer	a;
	char			line[48];

	request_answer(r, v, &a);
	if (v == TSK_VERDICT_RATE_LIMITED) {
		snprintf(line, sizeof(line), "Retry-After: %lld", (long long)r->retry_after);
		request_add_header(r, soap, line);
	}
	/* HTTP asks a 401 to say how to authenticate; proxies read the code from a header. */
	if (a.status == 401)
		request_add_header(r, soap, "WWW-Authenticate: Bearer realm=\"tskey\"");
	snprintf(line, sizeof(line), "X-Tskey-Code: %s", a.code);
	request_add_header(r, soap, line);
	return reply_error(soap, r, a.status, a.code, a.message);
}

/* Parse a JSON object body; on failure an error reply has been sent and NULL is returned. */
json_t *
reply_json_body(struct soap *soap, struct request *r, const char *data, size_t len, int *rc)
{
	json_error_t	 err;
	json_t		*obj;
	char		 msg[256];

	obj = json_loadb(data != NULL ? data : "", len, JSON_REJECT_DUPLICATES, &err);
	if (obj == NULL) {
		/* jansson quotes the input near the error, maybe half a UTF-8 character: ASCII only. */
		for (char *p = err.text; *p != '\0'; p++) {
			if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
				*p = '?';
		}
		snprintf(msg, sizeof(msg), "Malformed JSON body: %s (line %d, column %d)",
		    err.text, err.line, err.column);
		*rc = reply_error(soap, r, 400, "BAD_REQUEST", msg);
		return NULL;
	}
	if (!json_is_object(obj)) {
		json_decref(obj);
		*rc = reply_error(soap, r, 400, "BAD_REQUEST", "The JSON body must be an object");
		return NULL;
	}
	return obj;
}

/* Set key to the RFC 3339 form of t, or to null when t is 0 (never / unknown). */
void
reply_set_time(json_t *obj, const char *key, int64_t t)
{
	char	buf[TSTIME_LEN];

	if (t == 0) {
		json_object_set_new(obj, key, json_null());
		return;
	}
	tstime_format(t, buf, sizeof(buf));
	json_object_set_new(obj, key, json_string(buf));
}

