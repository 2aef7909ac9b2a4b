/* SPDX-License-Identifier: MIT */
/* The key commands: create, import, list, show, deactivate (revoke), reactivate, delete, rotate. */
#include "cli.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tstime.h"
#include "validator.h"

static int
print_key(const struct store_key *k, void *arg)
{
	char	created[32], expires[32], used[32];
	int64_t	now = *(const int64_t *)arg;

	cli_time(k->created_at, created, sizeof(created), "-");
	cli_time(admin_key_ends(k), expires, sizeof(expires), "never");
	cli_time(k->last_used_at, used, sizeof(used), "never");
	printf("%lld\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", (long long)k->id, k->account,
	    *k->name != '\0' ? k->name : "-", k->prefix, admin_key_state(k, now), k->env,
	    k->scopes, created, expires, used);
	return 0;
}

static void
print_key_details(const struct store_key *k)
{
	char	t[32];

	printf("id\t%lld\naccount\t%s\nname\t%s\nprefix\t%s\nenvironment\t%s\n", (long long)k->id,
	    k->account, k->name, k->prefix, k->env);
	printf("status\t%s\nscopes\t%s\nip_allow\t%s\nplatform\t%s\n",
	    admin_key_state(k, time(NULL)), k->scopes,
	    *k->ip_allow != '\0' ? k->ip_allow : "any", k->platform ? "yes" : "no");
	printf("rate_per_minute\t%lld\nrate_per_day\t%lld\nuse_count\t%lld\n",
	    (long long)k->rate_minute, (long long)k->rate_day, (long long)k->use_count);
	cli_time(k->created_at, t, sizeof(t), "-");
	printf("created_at\t%s\n", t);
	cli_time(k->expires_at, t, sizeof(t), "never");
	printf("expires_at\t%s\n", t);
	cli_time(k->stops_at, t, sizeof(t), "-");
	printf("grace_ends_at\t%s\n", t);
	cli_time(k->last_used_at, t, sizeof(t), "never");
	printf("last_used_at\t%s\n", t);
	if (k->rotated_from != 0)
		printf("rotated_from\t%lld\n", (long long)k->rotated_from);
}

/* The options key create and key import share; *hash_in set by --hash (import only). */
static int
key_options(struct cli *c, int from, struct admin_key_spec *spec, int *hash_in)
{
	int	i;

	for (i = from; i < c->argc; i++) {
		const char	*opt = c->argv[i], *val = i + 1 < c->argc ? c->argv[i + 1] : NULL;

		if (strcmp(opt, "--test") == 0) {
			spec->env = "test";
			continue;
		}
		if (strcmp(opt, "--platform") == 0) {
			spec->platform = 1;
			continue;
		}
		if (strcmp(opt, "--hash") == 0 && hash_in != NULL) {
			*hash_in = 1;
			continue;
		}
		if (val == NULL)
			return -1;
		i++;
		if (strcmp(opt, "--name") == 0)
			spec->name = val;
		else if (strcmp(opt, "--scopes") == 0)
			spec->scopes = val;
		else if (strcmp(opt, "--ip") == 0)
			spec->ip_allow = val;
		else if (strcmp(opt, "--expires") == 0) {
			if (tstime_parse(val, &spec->expires_at) != 0)
				return -1;
		} else if (strcmp(opt, "--rate-minute") == 0) {
			if (cli_parse_int64(val, &spec->rate_minute) != 0)
				return -1;
		} else if (strcmp(opt, "--rate-day") == 0) {
			if (cli_parse_int64(val, &spec->rate_day) != 0)
				return -1;
		} else
			return -1;
	}
	return 0;
}

static int
key_create(struct cli *c, struct store *st)
{
	struct admin_key_spec	spec;
	struct admin_actor	who;
	char			key[SECRET_KEY_MAX];
	int64_t			id = 0;
	int			rc;

	memset(&spec, 0, sizeof(spec));
	spec.account = c->argv[1];
	if (key_options(c, 2, &spec, NULL) != 0)
		return cli_usage_error("key create: bad option or value", "key ");
	cli_actor(c, &who);
	if (spec.expires_at != 0 && spec.expires_at <= who.now)
		return cli_usage_error("key create: --expires is in the past", "key ");
	rc = cli_report(admin_key_create(st, &who, &spec, key, &id), "key create", "conflict");
	if (rc == 0) {
		/* The one and only time the key is shown: alone on stdout, details on stderr. */
		printf("%s\n", key);
		fflush(stdout);
		fprintf(stderr, "tskey: created key %lld for account '%s'\n", (long long)id,
		    spec.account);
		secret_wipe(key, sizeof(key));
	}
	return rc;
}

/*
 * A legacy TrackServiceKey on stdin (or with --hash, its SHA-256 in hex): stored by hash, so
 * clients that hold it keep working.
 */
static int
key_import(struct cli *c, struct store *st)
{
	struct admin_key_spec	 spec;
	struct admin_actor	 who;
	unsigned char		 hash[SECRET_HASH_LEN];
	char			 line[1024];
	const char		*key;
	size_t			 len;
	int64_t			 id = 0;
	int			 by_hash = 0, rc;

	memset(&spec, 0, sizeof(spec));
	spec.account = c->argv[1];
	if (key_options(c, 2, &spec, &by_hash) != 0 || spec.env != NULL || spec.platform)
		return cli_usage_error("key import: bad option or value", "key ");
	if (cli_read_line(line, sizeof(line)) != 0)
		return cli_usage_error("key import: no key on stdin", "key ");
	len = strlen(line);
	key = validator_trim(line, &len);
	if (by_hash) {
		line[key - line + (ptrdiff_t)len] = '\0';
		rc = secret_hash_from_hex(key, hash);
	} else {
		rc = secret_key_format(key, len) == SECRET_FMT_OTHER ? 0 : -1;
		if (rc == 0)
			secret_hash(key, len, hash);
	}
	secret_wipe(line, sizeof(line));
	if (rc != 0)
		return cli_usage_error(by_hash ? "key import: --hash takes 64 hex digits" :
		    "key import: not a key that can be imported", "key ");
	cli_actor(c, &who);
	rc = cli_report(admin_key_import(st, &who, &spec, hash, &id), "key import",
	    "that key is stored already");
	if (rc == 0)
		printf("%lld\n", (long long)id);
	return rc;
}

/* key deactivate | revoke | reactivate | delete | show | rotate KEY_ID */
static int
key_by_id(struct cli *c, struct store *st)
{
	struct admin_actor	 who;
	struct store_key	 k;
	char			 key[SECRET_KEY_MAX];
	const char		*verb = c->argv[0];
	int64_t			 id, grace = 0, new_id = 0;
	int			 rc;

	if (cli_parse_int64(c->argv[1], &id) != 0)
		return cli_usage_error("key: KEY_ID is a number", "key ");
	cli_actor(c, &who);
	if (strcmp(verb, "show") == 0) {
		rc = cli_report(admin_key_get(st, &who, id, &k), "key show", "");
		if (rc == 0)
			print_key_details(&k);
		return rc;
	}
	if (strcmp(verb, "rotate") == 0) {
		if (c->argc == 4 && strcmp(c->argv[2], "--grace") == 0 &&
		    cli_parse_int64(c->argv[3], &grace) == 0 && grace >= 0)
			;
		else if (c->argc != 2)
			return cli_usage_error("key rotate: KEY_ID [--grace SECONDS]", "key ");
		rc = cli_report(admin_key_rotate(st, &who, id, grace, key, &new_id), "key rotate",
		    "only an active key can be rotated");
		if (rc == 0) {
			printf("%s\n", key);
			fflush(stdout);
			fprintf(stderr, "tskey: key %lld replaces key %lld, which stops %s\n",
			    (long long)new_id, (long long)id, grace > 0 ? "after the grace period" :
			    "now");
			secret_wipe(key, sizeof(key));
		}
		return rc;
	}
	if (c->argc != 2)
		return cli_usage_error("key: too many arguments", "key ");
	if (strcmp(verb, "deactivate") == 0 || strcmp(verb, "revoke") == 0)
		rc = cli_report(admin_key_deactivate(st, &who, id), "key deactivate", "");
	else if (strcmp(verb, "reactivate") == 0)
		rc = cli_report(admin_key_reactivate(st, &who, id), "key reactivate",
		    "an expired key cannot be reactivated");
	else
		rc = cli_report(admin_key_delete(st, &who, id), "key delete",
		    "only an inactive or expired key can be deleted");
	if (rc == 0)
		fprintf(stderr, "tskey: key %lld: %s done\n", (long long)id, verb);
	return rc;
}

int
cli_key(struct cli *c)
{
	static const char *const by_id[] = { "deactivate", "revoke", "reactivate", "delete",
	    "show", "rotate", "create", "import" };
	struct store_account	 a;
	struct store		*st;
	const char		*verb = c->argc > 0 ? c->argv[0] : "";
	int64_t			 now = time(NULL);
	size_t			 i;
	int			 known, rc;

	known = strcmp(verb, "list") == 0 && c->argc <= 2;
	for (i = 0; i < sizeof(by_id) / sizeof(by_id[0]) && !known; i++)
		known = strcmp(verb, by_id[i]) == 0 && c->argc >= 2;
	if (!known)
		return cli_usage_error("key: expected create, import, list, show, deactivate, "
		    "reactivate, delete or rotate", "key ");
	st = cli_open_store(&c->cfg);
	if (st == NULL)
		return 1;
	if (strcmp(verb, "create") == 0) {
		rc = key_create(c, st);
	} else if (strcmp(verb, "import") == 0) {
		rc = key_import(c, st);
	} else if (strcmp(verb, "list") == 0) {
		a.id = 0;
		rc = c->argc == 2 ? cli_report(store_account_by_name(st, c->argv[1], &a),
		    "key list", "") : 0;
		if (rc == 0) {
			printf("ID\tACCOUNT\tNAME\tPREFIX\tSTATUS\tENV\tSCOPES\tCREATED\tEXPIRES\t"
			    "LAST_USED\n");
			rc = cli_report(store_key_list(st, a.id, print_key, &now), "key list", "");
		}
	} else {
		rc = key_by_id(c, st);
	}
	store_close(st);
	return rc;
}
