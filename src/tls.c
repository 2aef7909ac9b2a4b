/* SPDX-License-Identifier: MIT */
/* TLS for the listener: gSOAP makes the OpenSSL context, we narrow it to what is safe today. */
#include "tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "log.h"
#include "soapH.h"

/* TLS 1.2 suites: ECDHE only (forward secrecy), AEAD only. TLS 1.3's defaults are all good. */
#define TLS12_CIPHERS	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
			"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
			"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

int
tls_enabled(const struct config *cfg)
{
	return cfg->tls_cert[0] != '\0';
}

static int
ssl_fail(const char *what, const char *file)
{
	unsigned long	e = ERR_get_error();

	log_warnx("tls: %s %s: %s", what, file != NULL ? file : "",
	    e != 0 ? ERR_reason_error_string(e) : "failed");
	ERR_clear_error();
	return -1;
}

/* cfg's chain and key into ctx, and only TLS 1.2 and 1.3 with the ciphers above. */
static int
restrict_ctx(SSL_CTX *ctx, const struct config *cfg)
{
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1)
		return ssl_fail("cannot read the certificate", cfg->tls_cert);
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1)
		return ssl_fail("cannot read the key", cfg->tls_key);
	if (SSL_CTX_check_private_key(ctx) != 1)
		return ssl_fail("the key does not match the certificate", cfg->tls_key);
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1)
		return ssl_fail("cannot restrict versions and ciphers", NULL);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_COMPRESSION);
	return 0;
}

/* gSOAP makes soap's server context (its options, session id context, no client auth). */
static int
gsoap_ctx(struct soap *soap)
{
	soap_ssl_init();
	/* No keyfile: gSOAP makes the context and we load the chain and key ourselves. */
	if (soap_ssl_server_context(soap, SOAP_SSL_NO_AUTHENTICATION | SOAP_TLSv1_2 |
	    SOAP_TLSv1_3, NULL, NULL, NULL, NULL, NULL, NULL, "tskey") != SOAP_OK) {
		log_warnx("tls: cannot make the context: %s", *soap_faultdetail(soap) != NULL ?
		    *soap_faultdetail(soap) : "error");
		return -1;
	}
	if (soap->ctx == NULL)
		return ssl_fail("no context", NULL);
	return 0;
}

int
tls_setup(struct soap *master, const struct config *cfg)
{
	if (gsoap_ctx(master) != 0)
		return -1;
	return restrict_ctx(master->ctx, cfg);
}

struct ssl_ctx_st *
tls_ctx_new(const struct config *cfg)
{
	struct soap	*tmp = soap_new();
	SSL_CTX		*ctx = NULL;

	/* Made by gSOAP as the master's was, then kept when the temporary context goes. */
	if (tmp == NULL) {
		log_warnx("tls: out of memory");
		return NULL;
	}
	if (gsoap_ctx(tmp) == 0 && SSL_CTX_up_ref(tmp->ctx) == 1) {
		ctx = tmp->ctx;
		if (restrict_ctx(ctx, cfg) != 0) {
			SSL_CTX_free(ctx);
			ctx = NULL;
		}
	}
	soap_free(tmp);
	return ctx;
}

struct ssl_ctx_st *
tls_ctx_ref(struct ssl_ctx_st *ctx)
{
	if (ctx != NULL)
		SSL_CTX_up_ref(ctx);
	return ctx;
}

void
tls_ctx_free(struct ssl_ctx_st *ctx)
{
	SSL_CTX_free(ctx);
}

int
tls_accept(struct soap *soap, struct ssl_ctx_st *ctx)
{
	SSL_CTX	*master = soap->ctx;
	int	 rc;

	/* SSL_new takes its own reference to ctx; the copy goes back to the master's. */
	if (ctx != NULL)
		soap->ctx = ctx;
	rc = soap_ssl_accept(soap);
	soap->ctx = master;
	if (rc == SOAP_OK)
		return 0;
	/* A failed handshake is the client's business (old TLS, a port scan): note it briefly. */
	log_debug("tls: handshake with %.63s failed", soap->host);
	return -1;
}
