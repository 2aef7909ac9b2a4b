/* SPDX-License-Identifier: MIT */
/*
 * A TrackService client in C, generated from tskey's WSDL by gSOAP (wsdl2h -c, soapcpp2 -c -C):
 * the key in the SessionIDHeader, or the legacy Login -> CreditRemaining -> Logout. Both WSDL
 * bindings end up in one generated service: soap_call___tr__X for TrackServiceSoap (SOAP 1.1) and
 * soap_call___tr__X_ for TrackServiceSoap12 (SOAP 1.2); the envelope's version, though, comes
 * from the namespace table (see namespaces_soap11). A refusal is a SOAP fault: the call returns
 * SOAP_CLI_FAULT (Client/Sender) or SOAP_SVR_FAULT (Server/Receiver), soap->fault holds
 * faultstring (1.1) or Reason (1.2), and the detail's <AuthFault> is deserialized into a
 * struct tr__AuthFault (typemap.dat adds it to SOAP_ENV__Detail).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soapH.h"
#include "TrackServiceSoap.nsmap"

#define ENV11	"http://schemas.xmlsoap.org/soap/envelope/"
#define ENV12	"http://www.w3.org/2003/05/soap-envelope"
#define ENC11	"http://schemas.xmlsoap.org/soap/encoding/"

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
 * gSOAP takes the SOAP version from the namespace table, afresh for every message, so
 * soap_set_version() before a call does not last: soap_begin() drops it. The generated table
 * (TrackServiceSoap.nsmap) is SOAP 1.2, since the WSDL has a 1.2 binding, and it is used by the
 * stubs of both bindings. For SOAP 1.1 this is the same table with SOAP-ENV and SOAP-ENC set to
 * 1.1 (inbound, either version still matches). The caller frees it after soap_free().
 */
static struct Namespace *
namespaces_soap11(void)
{
	struct Namespace	*ns;
	size_t			 n = 0;

	while (namespaces[n].id != NULL)
		n++;
	ns = calloc(n + 1, sizeof(*ns));
	if (ns == NULL)
		return NULL;
	memcpy(ns, namespaces, (n + 1) * sizeof(*ns));
	ns[0].ns = ENV11;
	ns[0].in = "http://www.w3.org/*/soap-envelope";
	ns[1].ns = ENC11;
	ns[1].in = "http://www.w3.org/*/soap-encoding";
	return ns;
}

/* Before each call the input header, which the previous call's response replaced. */
static void
prepare(struct soap *soap, const char *sid)
{
	struct SOAP_ENV__Header		*h = NULL;
	struct tr__SessionIDHeader	*s;

	if (sid != NULL) {
		h = soap_new_SOAP_ENV__Header(soap, 1);
		s = soap_new_tr__SessionIDHeader(soap, 1);
		s->SessionID = (char *)sid;
		h->tr__SessionIDHeader = s;
	}
	soap->header = h;
}

/* The HTTP status of the last response, or 0 when none came (soap->status is also used for
 * the request method, SOAP_POST and so on, before a response arrives). */
static int
http_status(const struct soap *soap)
{
	return soap->status >= 100 && soap->status <= 599 ? soap->status : 0;
}

/* A fault that the server sent, as opposed to a transport or parsing error. */
static int
is_soap_fault(const struct soap *soap)
{
	return soap->error == SOAP_CLI_FAULT || soap->error == SOAP_SVR_FAULT ||
	    soap->error == SOAP_FAULT;
}

static void
trace(const struct soap *soap, const char *name)
{
	if (getenv("TRACKSERVICE_TRACE") == NULL)
		return;
	fprintf(stderr, "trace: %s sent %s, got HTTP %d %s\n", name, soap->namespaces[0].ns,
	    http_status(soap), soap->version == 2 ? ENV12 : soap->version == 1 ? ENV11 : "?");
}

/* "Fault: <faultstring> [<AuthFault Code>]"; the detail is SOAP 1.1's detail or 1.2's Detail. */
static void
print_fault(struct soap *soap, FILE *out, const char *prefix)
{
	struct SOAP_ENV__Detail		*d = NULL;
	const struct tr__AuthFault	*af = NULL;
	const char			*s;

	if (is_soap_fault(soap) && soap->fault != NULL)
		d = soap->fault->detail != NULL ? soap->fault->detail
		    : soap->fault->SOAP_ENV__Detail;
	if (d != NULL)
		af = d->tr__AuthFault;
	s = soap_fault_string(soap);
	fprintf(out, "%s%s: %s", prefix, is_soap_fault(soap) ? "Fault" : "Error",
	    s != NULL ? s : "(none)");
	if (af != NULL && af->Code != NULL)
		fprintf(out, " [%s]", af->Code);
	if (out == stdout)
		fprintf(out, " (HTTP %d)\n", http_status(soap));
	else if (http_status(soap) != 0)
		fprintf(out, "\nHTTP status: %d\n", http_status(soap));
	else
		fprintf(out, "\n");
}

static int
credit(struct soap *soap, const struct ops *op, const char *url, const char *sid, int *out)
{
	struct _tr__CreditRemaining		req;
	struct _tr__CreditRemainingResponse	res;
	int					rc;

	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	prepare(soap, sid);
	rc = op->credit(soap, url, NULL, &req, &res);
	trace(soap, "CreditRemaining");
	if (rc != SOAP_OK)
		return rc;
	if (res.CreditRemainingResult == NULL)
		return soap_set_receiver_error(soap, "no CreditRemainingResult", NULL,
		    SOAP_NO_DATA);
	*out = res.CreditRemainingResult->Credit;
	return SOAP_OK;
}

/* Login -> CreditRemaining -> Logout, then the logged-out session once more. Returns the exit
 * status, or -1 with the error (a fault or a transport error) in soap. */
static int
login_flow(struct soap *soap, const struct ops *op, const char *url, const char *user,
    const char *password)
{
	struct _tr__Login		req;
	struct _tr__LoginResponse	res;
	struct _tr__Logout		lo;
	struct _tr__LogoutResponse	lo_res;
	const struct SOAP_ENV__Header	*h;
	const char			*sid;
	int				 n, rc;

	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	req.userName = (char *)user;
	req.password = (char *)password;
	prepare(soap, NULL);
	rc = op->login(soap, url, NULL, &req, &res);
	trace(soap, "Login");
	if (rc != SOAP_OK)
		return -1;
	if (res.LoginResult == NULL) {
		soap_set_receiver_error(soap, "no LoginResult", NULL, SOAP_NO_DATA);
		return -1;
	}
	printf("Login: %s\n", soap_tr__Status2s(soap, res.LoginResult->Status));
	if (res.LoginResult->Status != tr__Status__Success)
		return 1;
	/* The session key comes back twice, as ASMX sends it: in LoginResult/Key and in the output
	 * SessionIDHeader (soap->header until the next call; its memory lives until soap_end). */
	h = soap->header;
	sid = res.LoginResult->Key;
	if (h != NULL && h->tr__SessionIDHeader != NULL && h->tr__SessionIDHeader->SessionID != NULL)
		sid = h->tr__SessionIDHeader->SessionID;
	if (sid == NULL) {
		soap_set_receiver_error(soap, "no session key", NULL, SOAP_NO_DATA);
		return -1;
	}

	if (credit(soap, op, url, sid, &n) != SOAP_OK)
		return -1;
	printf("Credit: %d\n", n);

	memset(&lo, 0, sizeof(lo));
	memset(&lo_res, 0, sizeof(lo_res));
	prepare(soap, sid);
	rc = op->logout(soap, url, NULL, &lo, &lo_res);
	trace(soap, "Logout");
	if (rc != SOAP_OK)
		return -1;
	printf("Logout: done\n");

	if (credit(soap, op, url, sid, &n) == SOAP_OK) {
		printf("After logout: Credit: %d (the session should be gone)\n", n);
		return 1;
	}
	if (!is_soap_fault(soap))
		return -1;
	print_fault(soap, stdout, "After logout: ");
	return 0;
}

int
main(int argc, char *argv[])
{
	struct soap		*soap = NULL;
	struct Namespace	*ns11 = NULL;
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

	soap = soap_new();
	if (soap == NULL)
		goto out;
	if (op->version == 1) {
		ns11 = namespaces_soap11();
		if (ns11 == NULL || soap_set_namespaces(soap, ns11) != SOAP_OK)
			goto out;
	}
	soap->connect_timeout = 10;
	soap->send_timeout = 10;
	soap->recv_timeout = 10;
	/* The stubs' default endpoint is the soap:address of the WSDL they were made from; call
	 * the server named on the command line instead. */
	len = strlen(argv[1]);
	while (len > 0 && argv[1][len - 1] == '/')
		len--;
	url = soap_malloc(soap, len + sizeof("/TrackService.asmx"));
	if (url == NULL)
		goto out;
	memcpy(url, argv[1], len);
	memcpy(url + len, "/TrackService.asmx", sizeof("/TrackService.asmx"));

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
out:
	if (soap != NULL) {
		soap_destroy(soap);
		soap_end(soap);
		soap_free(soap);
	}
	free(ns11);
	return rc;
}
