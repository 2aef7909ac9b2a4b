/* SPDX-License-Identifier: MIT */
/*
 * The HTTPS listener's TLS, through gSOAP's OpenSSL support: TLS 1.2 and 1.3 only, forward-
 * secret AEAD ciphers for 1.2, the certificate chain and key from PEM files.
 */
#ifndef TLS_H
#define TLS_H

#include "config.h"

struct soap;
struct ssl_ctx_st;	/* OpenSSL's SSL_CTX */

/* Make master's SSL context from cfg->tls_cert / tls_key. 0, or -1 with the reason logged. */
int	tls_setup(struct soap *master, const struct config *cfg);

/*
 * A new server context as tls_setup makes, from cfg's chain and key read now: what a SIGHUP
 * serves new connections with. Owned by the caller (tls_ctx_free). NULL, logged, on failure.
 */
struct ssl_ctx_st *tls_ctx_new(const struct config *cfg);
/* Another reference to ctx (NULL stays NULL); each is given back with tls_ctx_free. */
struct ssl_ctx_st *tls_ctx_ref(struct ssl_ctx_st *ctx);
void	tls_ctx_free(struct ssl_ctx_st *ctx);	/* NULL is fine */

/*
 * The handshake on an accepted connection (a soap_copy of the master), with ctx (NULL: the
 * master's). The connection keeps what it needs of ctx; the caller may free it after.
 * 0, or -1 (logged).
 */
int	tls_accept(struct soap *soap, struct ssl_ctx_st *ctx);

/* Does cfg ask for TLS? */
int	tls_enabled(const struct config *cfg);

#endif
