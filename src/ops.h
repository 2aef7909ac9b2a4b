/* SPDX-License-Identifier: MIT */
/*
 * The operations the validator is asked about, with the scope each needs and its default cost
 * in credits. One table for both front ends: SOAP CreditRemaining and REST /rest/credit are the
 * same operation, so they need the same scope and cost the same.
 */
#ifndef OPS_H
#define OPS_H

#include <stdint.h>

enum tsk_op {
	TSK_OP_CREDIT = 0,	/* SOAP CreditRemaining, POST /rest/credit */
	TSK_OP_ME,		/* GET /rest/me */
	TSK_OP_LOGOUT,		/* SOAP Logout, POST /rest/logout */
	TSK_OP_VERIFY,		/* /rest/verify: a proxy asks before passing a call on */
	TSK_OP_ADMIN,		/* /admin/v1/... */
	TSK_OP__COUNT
};

struct ops_info {
	const char	*name;		/* as in --cost NAME=N and the log */
	const char	*scope;		/* needed scope; NULL = none */
	int64_t		 cost;		/* default credits taken per call */
};

const struct ops_info	*ops_info(enum tsk_op op);
/* The operation named name: 0 and *out set, or -1. */
int			 ops_by_name(const char *name, enum tsk_op *out);

#endif
