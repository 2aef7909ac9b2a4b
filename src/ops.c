/* SPDX-License-Identifier: MIT */
/* The operation table: names, scopes and default costs. */
#include "ops.h"

#include <stddef.h>
#include <string.h>

#include "tsk.h"

static const struct ops_info ops[TSK_OP__COUNT] = {
	/* Reading the balance is free, as it is on TrackRoad's service. */
	[TSK_OP_CREDIT] = { "credit", TSK_SCOPE_CREDIT, 0 },
	[TSK_OP_ME] = { "me", NULL, 0 },
	[TSK_OP_LOGOUT] = { "logout", NULL, 0 },
	/* A verified call is the API call a customer pays for. */
	[TSK_OP_VERIFY] = { "verify", NULL, 1 },
	[TSK_OP_ADMIN] = { "admin", TSK_SCOPE_ADMIN, 0 },
};

const struct ops_info *
ops_info(enum tsk_op op)
{
	return (unsigned)op < TSK_OP__COUNT ? &ops[op] : &ops[TSK_OP_ADMIN];
}

int
ops_by_name(const char *name, enum tsk_op *out)
{
	int	i;

	for (i = 0; i < TSK_OP__COUNT; i++) {
		if (strcmp(ops[i].name, name) == 0) {
			*out = (enum tsk_op)i;
			return 0;
		}
	}
	return -1;
}
