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

int
tls_setup(struct soap *master, const struct config *cfg)
{
	SSL_CTX	*ctx;

	soap_ssl_init();
	/* No keyfile: gSOAP makes the context and we load the chain and key ourselves. */
	if (soap_ssl_server_context(master, SOAP_SSL_NO_AUTHENTICATION | SOAP_TLSv1_2 |
	    SOAP_TLSv1_3, NULL, NULL, NULL, NULL, NULL, NULL, "tskey") != SOAP_OK) {
		log_warnx("tls: cannot make the context: %s", *soap_faultdetail(master) != NULL ?
		    *soap_faultdetail(master) : "error");
		return -1;
	}
	ctx = master->ctx;
	if (ctx == NULL)
		return ssl_fail("no context", NULL);
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

int
tls_accept(struct soap *soap)
{
	if (soap_ssl_accept(soap) == SOAP_OK)
		return 0;
	/* A failed handshake is the client's business (old TLS, a port scan): note it briefly. */
	log_debug("tls: handshake with %.63s failed", soap->host);
	return -1;
}
