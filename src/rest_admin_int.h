/* SPDX-License-Identifier: MIT */
/*
 * The admin API's private interface, shared by rest_admin.c (routing, request bodies, accounts,
 * users, the audit) and rest_admin_keys.c (the key routes). Nothing else includes it: the rest
 * of the server sees rest_admin_serve in rest.h only.
 *
 * A helper that returns -1 or NULL has sent the reply, and c->rc is what the handler returns.
 * A context is one request's, on its worker thread.
 */
#ifndef REST_ADMIN_INT_H
#define REST_ADMIN_INT_H

#include <stdint.h>

#include <jansson.h>

#include "admin.h"
#include "rest.h"

/* One admin request, once authenticated and routed. */
struct rest_admin_ctx {
	struct soap		*soap;
	struct request		*r;
	const struct rest_body	*b;
	struct store		*st;
	struct admin_actor	 who;
	const char		*thing;			/* "account", "key": for "No such ..." */
	char			 name[TSK_NAME_MAX];	/* the {name} segment of the path */
	int64_t			 id;			/* the {id} segment of the path */
	const char		*query;			/* after '?'; "" for none */
	int			 rc;			/* to return once a reply has been sent */
};

/* Lists built by store callbacks. */
struct rest_admin_list {
	json_t	*arr;
	int64_t	 now;
	int	 failed;
};

/* ---- rest_admin.c: shared helpers ---------------------------------------------------------- */

/* Send a 400 saying what is wrong (c->rc); returns -1, so that parsers can return it. */
int	rest_admin_bad(struct rest_admin_ctx *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * The reply for a refusal rc (not TSK_OK) by admin.h, returned; input and conflict word
 * TSK_ERR_INPUT and TSK_ERR_CONFLICT for the operation at hand.
 */
int	rest_admin_answer(struct rest_admin_ctx *c, enum tsk_status rc, const char *input,
	    const char *conflict);

/* 1 when s is one of the strings of the NULL-terminated list, else 0. */
int	rest_admin_is_listed(const char *s, const char *const *list);

/*
 * The body as a new JSON object (the caller's to json_decref) with no members but those in
 * allowed (NULL-terminated). An empty body reads as {} when optional. NULL when a reply has
 * been sent.
 */
json_t	*rest_admin_body_object(struct rest_admin_ctx *c, const char *const *allowed,
	    int optional);

/* Wipe the string member field of o (NULL: nothing): jansson keeps its own copy of a secret. */
void	rest_admin_wipe_member(json_t *o, const char *field);

/* Wipe the raw request body, which held a secret too; it is gSOAP's until soap_end. */
void	rest_admin_wipe_body(struct rest_admin_ctx *c);

/*
 * The member field of o into *out, left as it is when absent: a string (owned by o), an integer
 * of at least min, or a boolean (0 or 1). 0, or -1 with a 400 sent.
 */
int	rest_admin_get_string(struct rest_admin_ctx *c, json_t *o, const char *field,
	    const char **out);
int	rest_admin_get_int(struct rest_admin_ctx *c, json_t *o, const char *field, int64_t min,
	    int64_t *out);
int	rest_admin_get_bool(struct rest_admin_ctx *c, json_t *o, const char *field, int *out);

/* Append item (stolen; NULL marks l failed) to l->arr: 0, or 1 to stop the store walk. */
int	rest_admin_list_add(struct rest_admin_list *l, json_t *item);

/*
 * Begin a list of what account name holds (NULL: the actor's own, or every account for a
 * platform key): its id into *account_id and a new empty array into l->arr. 0, or -1 with a
 * reply sent (another tenant's name gets 403).
 */
int	rest_admin_list_start(struct rest_admin_ctx *c, struct rest_admin_list *l,
	    const char *name, int64_t *account_id);

/* Reply {field: l->arr} (stolen) once a store walk has returned rc; returns the reply's rc. */
int	rest_admin_reply_list(struct rest_admin_ctx *c, enum tsk_status rc, const char *field,
	    struct rest_admin_list *l);

/* ---- rest_admin_keys.c: the key routes, each replying and returning the reply's rc --------- */

int	rest_admin_keys_list(struct rest_admin_ctx *c);
int	rest_admin_keys_create(struct rest_admin_ctx *c);
int	rest_admin_keys_import(struct rest_admin_ctx *c);
int	rest_admin_key_get(struct rest_admin_ctx *c);
int	rest_admin_key_deactivate(struct rest_admin_ctx *c);
int	rest_admin_key_reactivate(struct rest_admin_ctx *c);
int	rest_admin_key_rotate(struct rest_admin_ctx *c);
int	rest_admin_key_delete(struct rest_admin_ctx *c);

#endif
