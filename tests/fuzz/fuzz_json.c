/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: a JSON request body, read the way the REST shim reads one: reply_json_body
 * (jansson, JSON_REJECT_DUPLICATES) on a gSOAP context whose output is thrown away, then the
 * Login handler's field checks (UserName, Password), and the admin API's body readers
 * (rest_admin_body_object with each route's field list, rest_admin_get_string/_int/_bool).
 *
 * Checked: a body that is not an object gets a 400 (never a 500, never silence); an object gets
 * no reply; an admin body with a field outside the route's list gets a 400; what a getter
 * returns has the type it promises; and an accepted object survives json_dumps and a second
 * json_loadb unchanged. Any disagreement aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "reply.h"
#include "rest_admin_int.h"
#include "soapH.h"

#define FUZZ_HAS_INIT
#include "fuzz.h"

static struct soap		*soap;
static struct config		 cfg;
static struct validator_policy	 policy;

/* The replies go nowhere; gSOAP only needs to think they left. */
static int
discard(struct soap *s, const char *buf, size_t n)
{
	(void)s;
	(void)buf;
	(void)n;
	return SOAP_OK;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	config_defaults(&cfg);
	soap = soap_new1(SOAP_IO_KEEPALIVE | SOAP_C_UTFSTRING);
	if (soap == NULL)
		abort();
	return 0;
}

/* A request as the server has it when a route runs: an id, no headers of note. */
static void
request_reset(struct request *r)
{
	memset(r, 0, sizeof(*r));
	r->cfg = &cfg;
	r->policy = &policy;
	snprintf(r->id, sizeof(r->id), "%s", "00000000f0220000");
	snprintf(r->client, sizeof(r->client), "%s", "127.0.0.1");
	r->route = "-";
	soap->fsend = discard;
	soap->http_extra_header = NULL;
}

/* What the Login handler asks of its body, and the round trip through the encoder. */
static void
check_object(json_t *obj)
{
	json_t	*ju = json_object_get(obj, "UserName"), *jp = json_object_get(obj, "Password");
	json_t	*again;
	char	*s;

	if (json_is_string(ju) && json_is_string(jp)) {
		FUZZ_CHECK(json_string_value(ju) != NULL && json_string_value(jp) != NULL);
		/* login_start gets C strings: no NUL inside them (no JSON_ALLOW_NUL). */
		FUZZ_CHECK(strlen(json_string_value(ju)) == json_string_length(ju));
		FUZZ_CHECK(strlen(json_string_value(jp)) == json_string_length(jp));
	}
	s = json_dumps(obj, JSON_COMPACT);
	if (s == NULL)
		return;	/* out of memory */
	again = json_loadb(s, strlen(s), JSON_REJECT_DUPLICATES, NULL);
	FUZZ_CHECK(again != NULL);
	FUZZ_CHECK(json_equal(obj, again));
	json_decref(again);
	free(s);
}

/* The admin body readers over one route's field list. */
static void
check_admin(const uint8_t *data, size_t size, const char *const *fields, int optional)
{
	struct request		 r;
	struct rest_body	 b = { (const char *)data, size };
	struct rest_admin_ctx	 c;
	json_t			*o;
	const char		*s;
	int64_t			 n;
	int			 flag;
	size_t			 i;
	void			*it;

	request_reset(&r);
	memset(&c, 0, sizeof(c));
	c.soap = soap;
	c.r = &r;
	c.b = &b;
	c.rc = -12345;
	o = rest_admin_body_object(&c, fields, optional);
	if (o == NULL) {
		FUZZ_CHECK(r.status == 400);
		FUZZ_CHECK(c.rc == SOAP_OK);
		return;
	}
	FUZZ_CHECK(r.status == 0 && json_is_object(o));
	for (it = json_object_iter(o); it != NULL; it = json_object_iter_next(o, it))
		FUZZ_CHECK(rest_admin_is_listed(json_object_iter_key(it), fields));
	for (i = 0; fields[i] != NULL; i++) {
		json_t	*v = json_object_get(o, fields[i]);

		s = NULL;
		n = -1;
		flag = -1;
		r.status = 0;
		if (rest_admin_get_string(&c, o, fields[i], &s) == 0)
			FUZZ_CHECK(v == NULL ? s == NULL : json_is_string(v) && s == json_string_value(v));
		else
			FUZZ_CHECK(r.status == 400 && !json_is_string(v) && s == NULL);
		r.status = 0;
		if (rest_admin_get_int(&c, o, fields[i], 0, &n) == 0)
			FUZZ_CHECK(v == NULL ? n == -1 : json_is_integer(v) && n >= 0);
		else
			FUZZ_CHECK(r.status == 400 && n == -1);
		r.status = 0;
		if (rest_admin_get_bool(&c, o, fields[i], &flag) == 0)
			FUZZ_CHECK(v == NULL ? flag == -1 : json_is_boolean(v) && (flag == 0 || flag == 1));
		else
			FUZZ_CHECK(r.status == 400 && flag == -1);
	}
	rest_admin_wipe_member(o, "password");
	json_decref(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const account[] = { "name", "credit", "monthlyAllowance", NULL };
	static const char *const credit[] = { "set", "add", NULL };
	static const char *const user[] = { "name", "password", "api", NULL };
	static const char *const key[] = { "name", "environment", "expiresAt", "scopes",
	    "ipAllow", "rateLimits", "platform", NULL };
	static const char *const import[] = { "key", "sha256", "name", "expiresAt", "scopes",
	    "ipAllow", "rateLimits", NULL };
	static const char *const rotate[] = { "grace", NULL };
	struct request	 r;
	json_t		*obj;
	int		 rc = -12345;

	/* As r_login reads it: the body's bytes, not NUL-terminated. */
	request_reset(&r);
	obj = reply_json_body(soap, &r, (const char *)data, size, &rc);
	if (obj == NULL) {
		FUZZ_CHECK(r.status == 400);	/* a reply was sent, and it says the caller erred */
		FUZZ_CHECK(rc == SOAP_OK);
	} else {
		FUZZ_CHECK(json_is_object(obj) && r.status == 0 && rc == -12345);
		check_object(obj);
		json_decref(obj);
	}
	soap_end(soap);

	check_admin(data, size, account, 0);
	check_admin(data, size, credit, 0);
	check_admin(data, size, user, 0);
	check_admin(data, size, key, 1);
	check_admin(data, size, import, 0);
	check_admin(data, size, rotate, 1);
	soap_end(soap);
	return 0;
}
