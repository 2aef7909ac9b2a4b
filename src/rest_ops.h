/* SPDX-License-Identifier: MIT */
/*
 * The operator's routes of the REST shim (rest_ops.c): GET /metrics (Prometheus text, for
 * addresses in --metrics-allow only), GET /healthz (the process answers) and GET /readyz (the
 * store answers). Each answers the request and returns SOAP_OK or a gSOAP error, as rest_serve.
 */
#ifndef REST_OPS_H
#define REST_OPS_H

#include "rest.h"

int	rest_ops_metrics(struct soap *soap, struct request *r, const struct rest_body *b);
int	rest_ops_healthz(struct soap *soap, struct request *r, const struct rest_body *b);
int	rest_ops_readyz(struct soap *soap, struct request *r, const struct rest_body *b);

/*
 * May this request read /metrics? Its client (after --trusted-proxy) must be in
 * cfg->metrics_allow ("" allows nobody), and an X-Forwarded-For from a peer that is not a
 * trusted proxy refuses it: some proxy we do not know passed it on, for anyone.
 */
int	rest_ops_scrape_allowed(const struct request *r);

#endif
