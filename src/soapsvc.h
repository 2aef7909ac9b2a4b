/* SPDX-License-Identifier: MIT */
/*
 * The SOAP front end. The operation handlers (__tr__Login, __tr__Logout, __tr__CreditRemaining)
 * are called by gSOAP's generated dispatcher with soap->user pointing at the struct request.
 */
#ifndef SOAPSVC_H
#define SOAPSVC_H

#include "request.h"

struct soap;

/* Send the WSDL, its soap:address set to the address the client used (Host header). */
int	soapsvc_wsdl(struct soap *soap, struct request *r);

#endif
