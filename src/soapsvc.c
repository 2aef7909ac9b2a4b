/* SPDX-License-Identifier: MIT */
/*
 * The SOAP front end: TrackService's Login, Logout and CreditRemaining as gSOAP operation
 * handlers, and the WSDL served to clients. Authentication is the validator's; this file only
 * maps its verdicts onto SOAP faults, and never echoes the caller's SessionID.
 */
#include "soapsvc.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "login.h"
#include "soapH.h"
#include "tls.h"
#include "validator.h"

#define TR_NS		"http://TrackService.TrackRoad.com/"
#define WSDL_ADDRESS	"http://localhost:8080/TrackService.asmx"

extern const unsigned char	tsk_wsdl_data[];
extern const size_t		tsk_wsdl_size;

static struct request *
req_of(struct soap *soap)
{
	return soap->user;
}

/*
 * A refusal as a fault: Client/Sender for the caller's fault, Server/Receiver when we could not
 * decide. The detail carries the machine-readable code, the same as REST's JSON "code", and for
 * a rate limit the seconds to wait, also sent as an HTTP Retry-After header.
 */
static int
verdict_fault_msg(struct soap *soap, struct request *r, enum tsk_verdict v, const char *why)
{
	struct validator_answer	 a;
	char			 detail[448], msg[256], retry[64] = "", line[48];
	const char		*kind;

	request_answer(r, v, &a);
	kind = a.status == 401 ? "Unauthorized" : a.status == 403 ? "Forbidden" :
	    a.status == 429 ? "Too Many Requests" : "Unavailable";
	snprintf(msg, sizeof(msg), "%s: %s", kind, why != NULL ? why : a.message);
	/* A rate limit says when it ends; so does a refusal noted with a wait (a busy Login). */
	if (v == TSK_VERDICT_RATE_LIMITED || r->retry_after > 0) {
		snprintf(retry, sizeof(retry), "<RetryAfter>%lld</RetryAfter>",
		    (long long)r->retry_after);
		snprintf(line, sizeof(line), "Retry-After: %lld", (long long)r->retry_after);
		request_add_header(r, soap, line);
	}
	snprintf(detail, sizeof(detail),
	    "<AuthFault xmlns=\"" TR_NS "\"><Code>%s</Code><Status>%d</Status>"
	    "<RequestId>%s</RequestId>%s</AuthFault>", a.code, a.status, r->id, retry);
	/* soap_sender_fault keeps soap->header: without this the SessionID goes back out. */
	soap->header = NULL;
	if (v == TSK_VERDICT_ERROR)
		return soap_receiver_fault(soap, soap_strdup(soap, msg), soap_strdup(soap, detail));
	return soap_sender_fault(soap, soap_strdup(soap, msg), soap_strdup(soap, detail));
}

/*
 * A refusal as a fault: Client/Sender for the caller's fault, Server/Receiver when we could not
 * decide. The detail carries the machine-readable code, the same as REST's JSON "code", and for
 * a rate limit the seconds to wait, also sent as an HTTP Retry-After header.
 */
static int
verdict_fault(struct soap *soap, struct request *r, enum tsk_verdict v)
{
	return verdict_fault_msg(soap, r, v, NULL);
}

/* What to tell a caller whose SessionID we did not find: say which part was missing. */
static const char *
missing_why(struct soap *soap, const struct request *r, const char *sid)
{
	const struct tr__SessionIDHeader *h = soap->header != NULL ?
	    soap->header->tr__SessionIDHeader : NULL;

	if (sid != NULL)
		return "The SessionID is empty";
	if (h != NULL)
		return r->sid_hint == SOAPSVC_HINT_SESSIONID_NS ?
		    "The SessionID element is not in the namespace " TR_NS :
		    "The SessionIDHeader has no SessionID";
	if (r->sid_hint == SOAPSVC_HINT_HEADER_NS)
		return "The SessionIDHeader is not in the namespace " TR_NS;
	return "No SessionIDHeader in the SOAP header";
}

static enum tsk_verdict
authenticate(struct soap *soap, struct request *r, enum tsk_op op, struct tsk_principal *p,
    const char **why)
{
	const char	*sid = NULL;
	enum tsk_verdict v;

	if (soap->header != NULL && soap->header->tr__SessionIDHeader != NULL)
		sid = soap->header->tr__SessionIDHeader->SessionID;
	v = request_authenticate(r, sid, TSK_CHANNEL_SOAP, op, p);
	/* Under --uniform-errors every 401 reads the same, this one included. */
	*why = v == TSK_VERDICT_MISSING && !r->policy->uniform_errors ?
	    missing_why(soap, r, sid) : NULL;
	return v;
}

/*
 * SOAPAction, checked the way ASMX checks it: SOAP 1.1 must name the operation in the
 * SOAPAction header; SOAP 1.2 may name it in the Content-Type's action parameter, and when it
 * does it must be the operation's.
 */
static int
action_fault(struct soap *soap, struct request *r, const char *op)
{
	char	want[96], msg[320];

	snprintf(want, sizeof(want), TR_NS "%s", op);
	if ((soap->action != NULL && strcmp(soap->action, want) == 0) ||
	    (soap->action == NULL && soap->version == 2)) {
		/* gSOAP would echo the request's action in a 1.2 response's Content-Type. */
		soap->action = NULL;
		return SOAP_OK;
	}
	if (soap->action == NULL || *soap->action == '\0')
		snprintf(msg, sizeof(msg), "Unable to handle request without a valid action "
		    "parameter. Please supply a valid soap action.");
	else
		snprintf(msg, sizeof(msg), "Server did not recognize the value of HTTP Header "
		    "SOAPAction: %.200s.", soap->action);
	r->route = "soap:action";
	soap->header = NULL;
	return soap_sender_fault(soap, soap_strdup(soap, msg), NULL);
}

int
soapsvc_refuse(struct soap *soap)
{
	struct request	*r = soap->user;
	const char	*ct = soap->http_content;

	r->route = "soap:xml";
	soap->keep_alive = 0;	/* gSOAP closes after a fault; say so */
	soap_set_version(soap, ct != NULL && strncasecmp(ct, "application/soap+xml", 20) == 0 ?
	    2 : 1);
	soap->header = NULL;
	return soap_sender_fault(soap, r->xml_refusal, NULL);
}

int
soapsvc_ignore(struct soap *soap, const char *tag)
{
	static const char *const wsa[] = { "http://www.w3.org/2005/08/addressing",
	    "http://schemas.xmlsoap.org/ws/2004/08/addressing",
	    "http://schemas.xmlsoap.org/ws/2004/03/addressing" };
	struct request	*r = soap->user;
	const char	*ns = soap_current_namespace_tag(soap, tag);
	const char	*local = strchr(tag, ':') != NULL ? strchr(tag, ':') + 1 : tag;
	size_t		 i;

	if (r != NULL && soap->part == SOAP_IN_HEADER) {
		if (strcmp(local, "SessionIDHeader") == 0)
			r->sid_hint = SOAPSVC_HINT_HEADER_NS;
		else if (strcmp(local, "SessionID") == 0)
			r->sid_hint = SOAPSVC_HINT_SESSIONID_NS;
	}
	/* With fignore set, gSOAP leaves strict mode's decision on Body content to us. */
	if (soap->part != SOAP_IN_HEADER && (soap->mode & SOAP_XML_STRICT))
		return SOAP_TAG_MISMATCH;
	if (!soap->mustUnderstand)
		return SOAP_OK;
	for (i = 0; ns != NULL && i < sizeof(wsa) / sizeof(wsa[0]); i++) {
		if (strcmp(ns, wsa[i]) == 0)
			return SOAP_OK;
	}
	return SOAP_MUSTUNDERSTAND;
}

int
__tr__Login(struct soap *soap, struct _tr__Login *in, struct _tr__LoginResponse *out)
{
	struct request		*r = req_of(soap);
	struct tsk_principal	 p;
	struct tr__LoginResult	*res;
	char			 key[SECRET_SESSION_LEN + 1];
	enum login_result	 lr;
	struct login_lease	 ls;

	r->route = "soap:Login";
	request_login_headers(r, soap);
	if (action_fault(soap, r, "Login") != SOAP_OK)
		return soap->error;
	soap->header = NULL;
	request_login_lease(r, &ls);
	lr = login_start_lease(&ls, r->login, in->userName, in->password, r->client,
	    time(NULL), key, &p);
	if (lr == LOGIN_ERROR)
		return verdict_fault(soap, r, TSK_VERDICT_ERROR);
	request_note(r, login_verdict(lr), &p);
	/* Not a refused password but a server that could not check it: a Server fault, retry. */
	if (lr == LOGIN_BUSY)
		return verdict_fault_msg(soap, r, TSK_VERDICT_ERROR, login_message(lr));
	res = soap_new_tr__LoginResult(soap, -1);
	if (res == NULL)
		return soap->error;
	out->LoginResult = res;
	if (lr == LOGIN_THROTTLED) {
		char	line[48];

		snprintf(line, sizeof(line), "Retry-After: %lld", (long long)p.retry_after);
		request_add_header(r, soap, line);
	}
	if (lr != LOGIN_OK) {
		/* ASMX answers a refused Login with Status Failed, not a fault: clients check it. */
		res->Status = tr__Status__Failed;
		res->Message = (char *)login_message(lr);
		return SOAP_OK;
	}
	res->Status = tr__Status__Success;
	res->Message = "Success";
	res->Key = soap_strdup(soap, key);
	soap->header = soap_new_SOAP_ENV__Header(soap, -1);
	if (soap->header != NULL)
		soap->header->tr__SessionIDHeader = soap_new_tr__SessionIDHeader(soap, -1);
	if (soap->header == NULL || soap->header->tr__SessionIDHeader == NULL)
		return soap->error;
	soap->header->tr__SessionIDHeader->SessionID = res->Key;
	secret_wipe(key, sizeof(key));
	return SOAP_OK;
}

int
__tr__Logout(struct soap *soap, struct _tr__Logout *in, struct _tr__LogoutResponse *out)
{
	struct request		*r = req_of(soap);
	struct tsk_principal	 p;
	enum tsk_verdict	 v;
	const char		*why;

	(void)in;
	(void)out;
	r->route = "soap:Logout";
	if (action_fault(soap, r, "Logout") != SOAP_OK)
		return soap->error;
	v = authenticate(soap, r, TSK_OP_LOGOUT, &p, &why);
	if (v != TSK_VERDICT_OK)
		return verdict_fault_msg(soap, r, v, why);
	soap->header = NULL;
	if (login_end(request_store(r), &p) != TSK_OK)
		return verdict_fault(soap, r, TSK_VERDICT_ERROR);
	return SOAP_OK;
}

int
__tr__CreditRemaining(struct soap *soap, struct _tr__CreditRemaining *in,
    struct _tr__CreditRemainingResponse *out)
{
	struct request		*r = req_of(soap);
	struct tsk_principal	 p;
	struct tr__CreditResult	*res;
	enum tsk_verdict	 v;
	const char		*why;

	(void)in;
	r->route = "soap:CreditRemaining";
	if (action_fault(soap, r, "CreditRemaining") != SOAP_OK)
		return soap->error;
	v = authenticate(soap, r, TSK_OP_CREDIT, &p, &why);
	if (v != TSK_VERDICT_OK)
		return verdict_fault_msg(soap, r, v, why);
	soap->header = NULL;
	res = soap_new_tr__CreditResult(soap, -1);
	if (res == NULL)
		return soap->error;
	res->Errors = soap_new_tr__ArrayOfError(soap, -1);	/* <Errors/>, as ASMX sends */
	if (res->Errors == NULL)
		return soap->error;
	res->Credit = p.credit > INT_MAX ? INT_MAX : p.credit < INT_MIN ? INT_MIN : (int)p.credit;
	res->Status = tr__Status__None;	/* TrackRoad's own answer on success */
	out->CreditRemainingResult = res;
	return SOAP_OK;
}

/*
 * wsdl2h collects both bindings (SOAP 1.1 and 1.2) into one service, so every operation has a
 * twin with a trailing underscore. The dispatcher matches the first; these keep the link whole.
 */
int
__tr__Login_(struct soap *soap, struct _tr__Login *in, struct _tr__LoginResponse *out)
{
	return __tr__Login(soap, in, out);
}

int
__tr__Logout_(struct soap *soap, struct _tr__Logout *in, struct _tr__LogoutResponse *out)
{
	return __tr__Logout(soap, in, out);
}

int
__tr__CreditRemaining_(struct soap *soap, struct _tr__CreditRemaining *in,
    struct _tr__CreditRemainingResponse *out)
{
	return __tr__CreditRemaining(soap, in, out);
}

/* A Host header we are willing to write into the WSDL: host[:port], nothing that escapes XML. */
static int
host_ok(const char *h)
{
	size_t	n = 0;

	if (h == NULL || *h == '\0')
		return 0;
	for (; h[n] != '\0'; n++) {
		char	c = h[n];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == ':' || c == '[' ||
		    c == ']'))
			return 0;
	}
	return n < 256;
}

int
soapsvc_wsdl(struct soap *soap, struct request *r)
{
	const char	*wsdl = (const char *)tsk_wsdl_data, *at, *rest, *scheme;
	char		 addr[300];
	size_t		 alen = strlen(WSDL_ADDRESS);
	int		 status = 200;

	r->route = "wsdl";
	scheme = tls_enabled(r->cfg) ? "https" : "http";
	if (host_ok(r->host))
		snprintf(addr, sizeof(addr), "%s://%s/TrackService.asmx", scheme, r->host);
	else if (strchr(r->cfg->listen_host, ':') != NULL)
		snprintf(addr, sizeof(addr), "%s://[%s]:%d/TrackService.asmx", scheme,
		    r->cfg->listen_host, r->port);
	else
		snprintf(addr, sizeof(addr), "%s://%s:%d/TrackService.asmx", scheme,
		    r->cfg->listen_host, r->port);
	r->status = status;
	soap->http_content = "text/xml; charset=utf-8";
	if (soap_response(soap, SOAP_FILE + status))
		return soap_closesock(soap);
	/* Every soap:address in the contract points at the address the client used. */
	for (rest = wsdl, at = strstr(rest, WSDL_ADDRESS); at != NULL;
	    rest = at + alen, at = strstr(rest, WSDL_ADDRESS)) {
		if (soap_send_raw(soap, rest, (size_t)(at - rest)) || soap_send(soap, addr))
			return soap_closesock(soap);
	}
	if (soap_send_raw(soap, rest, tsk_wsdl_size - (size_t)(rest - wsdl)) ||
	    soap_end_send(soap))
		return soap_closesock(soap);
	return SOAP_OK;
}
