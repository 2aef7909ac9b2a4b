/* SPDX-License-Identifier: MIT */
/*
 * The HTTPS listener's TLS, through gSOAP's OpenSSL support: TLS 1.2 and 1.3 only, forward-
 * secret AEAD ciphers for 1.2, the certificate chain and key from PEM files.
 */
#ifndef TLS_H
#define TLS_H

#include "config.h"

struct soap;

/* Make master's SSL context from cfg->tls_cert / tls_key. 0, or -1 with the reason logged. */
int	tls_setup(struct soap *master, const struct config *cfg);

/* The handshake on an accepted connection (a soap_copy of the master). 0, or -1 (logged). */
int	tls_accept(struct soap *soap);

/* Does cfg ask for TLS? */
int	tls_enabled(const struct config *cfg);

#endif
