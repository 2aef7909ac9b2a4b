/* SPDX-License-Identifier: MIT */
/* The admin API under /admin/v1/ (placeholder until it is written: 404 for everything). */
#include "rest.h"

#include "reply.h"

int
rest_admin_serve(struct soap *soap, struct request *r, const struct rest_body *b)
{
	(void)b;
	return reply_error(soap, r, 404, "NOT_FOUND", "No such resource");
}
