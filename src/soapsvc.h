/* SPDX-License-Identifier: MIT */
/*
 * The SOAP front end. The operation handlers (__tr__Login, __tr__Logout, __tr__CreditRemaining)
 * are called by gSOAP's generated dispatcher with soap->user pointing at the struct request.
 */
#ifndef SOAPSVC_H
#define SOAPSVC_H

#include "request.h"

struct soap;

/* Why a SOAP request's SessionID was not found, for a fault that says which. */
enum soapsvc_hint {
	SOAPSVC_HINT_NONE = 0,
	SOAPSVC_HINT_HEADER_NS,		/* a SessionIDHeader in another namespace */
	SOAPSVC_HINT_SESSIONID_NS,	/* a SessionID element in another namespace (or none) */
};

/*
 * gSOAP's hook for elements it does not know (soap->fignore). Headers that WCF clients mark
 * mustUnderstand (WS-Addressing Action, To, MessageID, ...) are understood and ignored; any
 * other mustUnderstand header still fails the call, as SOAP requires. A SessionIDHeader or
 * SessionID in the wrong namespace is noted, so the fault can say so.
 */
int	soapsvc_ignore(struct soap *soap, const char *tag);

/* Send the WSDL, its soap:address set to the address the client used (Host header). */
/*
 * gSOAP's form hook for an envelope refused before it is parsed (request.xml_refusal says
 * why): a Client (1.1) or Sender (1.2) fault, by the Content-Type's SOAP version.
 */
int	soapsvc_refuse(struct soap *soap);

int	soapsvc_wsdl(struct soap *soap, struct request *r);

#endif
