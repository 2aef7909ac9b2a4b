/* SPDX-License-Identifier: MIT */
/*
 * A TrackService client in C, generated from tskey's WSDL by gSOAP (wsdl2h -c, soapcpp2 -c -C):
 * the key in the SessionIDHeader, or the legacy Login -> CreditRemaining -> Logout. Both WSDL
 * bindings end up in one generated service: soap_call___tr__X for TrackServiceSoap (SOAP 1.1) and
 * soap_call___tr__X_ for TrackServiceSoap12 (SOAP 1.2). A refusal is a SOAP fault: the call
 * returns SOAP_FAULT, soap->fault holds faultstring (1.1) or Reason (1.2), and the detail's
 * <AuthFault> is deserialized into a struct tr__AuthFault by the generated code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soapH.h"
#include "TrackServiceSoap.nsmap"

#define ENV11	"http://schemas.xmlsoap.org/soap/envelope/"
#define ENV12	"http://www.w3.org/2003/05/soap-envelope"

struct ops {
	int (*login)(struct soap *, const char *, const char *, struct _tr__Login *,
	    struct _tr__LoginResponse *);
	int (*logout)(struct soap *, const char *, const char *, struct _tr__Logout *,
	    struct _tr__LogoutResponse *);
	int (*credit)(struct soap *, const char *, const char *, struct _tr__CreditRemaining *,
	    struct _tr__CreditRemainingResponse *);
	short version;
};

static const struct ops soap11 = {
	soap_call___tr__Login, soap_call___tr__Logout, soap_call___tr__CreditRemaining, 1
};
static const struct ops soap12 = {
	soap_call___tr__Login_, soap_call___tr__Logout_, soap_call___tr__CreditRemaining_, 2
};

static int
usage(void)
{
	fprintf(stderr, "usage: trackservice BASE_URL key KEY [1.1|1.2]\n"
	    "       trackservice BASE_URL login USER PASSWORD [1.1|1.2]\n");
	return 2;
}

/*
 * Before each call: the SOAP version (the generated namespace table starts as SOAP 1.2, since
 * the WSDL has a 1.2 binding) and the input header, which a call's response replaces.
 */
static void
prepare(struct soap *soap, const struct ops *op, const char *sid)
{
	struct SOAP_ENV__Header		*h = NULL;
	struct tr__SessionIDHeader	*s;

	soap_set_version(soap, op->version);
	if (sid != NULL) {
		h = soap_new_SOAP_ENV__Header(soap, 1);
		s = soap_new_tr__SessionIDHeader(soap, 1);
		s->SessionID = (char *)sid;
		h->tr__SessionIDHeader = s;
	}
	soap->header = h;
}

static void
trace(struct soap *soap, const struct ops *op, const char *name)
{
	if (getenv("TRACKSERVICE_TRACE") == NULL)
		return;
	fprintf(stderr, "trace: %s sent %s, got HTTP %d %s\n", name,
	    op->version == 2 ? ENV12 : ENV11, soap->status,
	    soap->version == 2 ? ENV12 : soap->version == 1 ? ENV11 : "?");
}

/* "Fault: <faultstring> [<AuthFault Code>]"; the detail is SOAP 1.1's detail or 1.2's Detail. */
static void
print_fault(struct soap *soap, FILE *out, const char *prefix)
{
	struct SOAP_ENV__Detail		*d = NULL;
	const struct tr__AuthFault	*af = NULL;
	const char			*s;

	if (soap->fault != NULL)
		d = soap->fault->detail != NULL ? soap->fault->detail
		    : soap->fault->SOAP_ENV__Detail;
	if (d != NULL && d->__type == SOAP_TYPE_tr__AuthFault)
		af = d->fault;
	s = soap_fault_string(soap);
	fprintf(out, "%sFault: %s", prefix, s != NULL ? s : "(none)");
	if (af != NULL && af->Code != NULL)
		fprintf(out, " [%s]", af->Code);
	if (out == stdout)
		fprintf(out, " (HTTP %d)\n", soap->status);
	else
		fprintf(out, "\nHTTP status: %d\n", soap->status);
}

static int
credit(struct soap *soap, const struct ops *op, const char *url, const char *sid, int *out)
{
	struct _tr__CreditRemaining		req;
	struct _tr__CreditRemainingResponse	res;
	int					rc;

	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	prepare(soap, op, sid);
	rc = op->credit(soap, url, NULL, &req, &res);
	trace(soap, op, "CreditRemaining");
	if (rc != SOAP_OK)
		return rc;
	if (res.CreditRemainingResult == NULL)
		return soap_set_receiver_error(soap, "no CreditRemainingResult", NULL, SOAP_NO_DATA);
	*out = res.CreditRemainingResult->Credit;
	return SOAP_OK;
}

static int
login_flow(struct soap *soap, const struct ops *op, const char *url, const char *user,
    const char *password)
{
	struct _tr__Login		req;
	struct _tr__LoginResponse	res;
	struct _tr__Logout		lo;
	struct _tr__LogoutResponse	lo_res;
	const char			*sid;
	int				n;

	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	req.userName = (char *)user;
	req.password = (char *)password;
	prepare(soap, op, NULL);
	if (op->login(soap, url, NULL, &req, &res) != SOAP_OK) {
		trace(soap, op, "Login");
		return -1;
	}
	trace(soap, op, "Login");
	if (res.LoginResult == NULL)
		return soap_set_receiver_error(soap, "no LoginResult", NULL, SOAP_NO_DATA), -1;
	printf("Login: %s\n", soap_tr__Status2s(soap, res.LoginResult->Status));
	if (res.LoginResult->Status != tr__Status__Success)
		return 1;
	/* The session key comes back twice, as ASMX sends it: in LoginResult/Key and in the
	 * output SessionIDHeader, now in soap->header. Copy it before the next call replaces both. */
	sid = res.LoginResult->Key;
	if (soap->header != NULL && soap->header->tr__SessionIDHeader != NULL &&
	    soap->header->tr__SessionIDHeader->SessionID != NULL)
		sid = soap->header->tr__SessionIDHeader->SessionID;
	if (sid == NULL)
		return soap_set_receiver_error(soap, "no session key", NULL, SOAP_NO_DATA), -1;
	sid = soap_strdup(soap, sid);

	if (credit(soap, op, url, sid, &n) != SOAP_OK)
		return -1;
	printf("Credit: %d\n", n);

	memset(&lo, 0, sizeof(lo));
	prepare(soap, op, sid);
	if (op->logout(soap, url, NULL, &lo, &lo_res) != SOAP_OK) {
		trace(soap, op, "Logout");
		return -1;
	}
	trace(soap, op, "Logout");
	printf("Logout: done\n");

	if (credit(soap, op, url, sid, &n) == SOAP_OK) {
		printf("After logout: Credit: %d (the session should be gone)\n", n);
		return 1;
	}
	if (soap->error != SOAP_FAULT)
		return -1;
	print_fault(soap, stdout, "After logout: ");
	return 0;
}

int
main(int argc, char *argv[])
{
	struct soap		*soap;
	const struct ops	*op = &soap11;
	const char		*version;
	char			*url;
	size_t			 len;
	int			 login, n, rc = 1;

	if (argc < 4 || (strcmp(argv[2], "key") != 0 && strcmp(argv[2], "login") != 0))
		return usage();
	login = strcmp(argv[2], "login") == 0;
	version = argc > (login ? 5 : 4) ? argv[login ? 5 : 4] : "1.1";
	if (strcmp(version, "1.2") == 0)
		op = &soap12;
	else if (strcmp(version, "1.1") != 0)
		return usage();

	/* The stubs' default endpoint is the WSDL's soap:address; take the one asked for instead. */
	len = strlen(argv[1]);
	while (len > 0 && argv[1][len - 1] == '/')
		len--;
	soap = soap_new();
	if (soap == NULL)
		return 1;
	url = soap_malloc(soap, len + sizeof("/TrackService.asmx"));
	memcpy(url, argv[1], len);
	memcpy(url + len, "/TrackService.asmx", sizeof("/TrackService.asmx"));
	soap->connect_timeout = 10;
	soap->send_timeout = 10;
	soap->recv_timeout = 10;

	if (login) {
		rc = login_flow(soap, op, url, argv[3], argc > 4 ? argv[4] : "");
	} else if (credit(soap, op, url, argv[3], &n) == SOAP_OK) {
		printf("Credit: %d\n", n);
		rc = 0;
	} else {
		rc = -1;
	}
	if (rc < 0) {
		print_fault(soap, stderr, "");
		rc = 1;
	}
	soap_destroy(soap);
	soap_end(soap);
	soap_free(soap);
	return rc;
}
