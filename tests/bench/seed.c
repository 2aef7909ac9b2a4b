/* SPDX-License-Identifier: MIT */
/*
 * Seeds a benchmark database through the store's own code: one account ("bench") with a large
 * balance, a Login user, N active keys inserted in large transactions (store_key_insert, so the
 * schema and hashing are the store's), one revoked key, and writes a sample of the active keys
 * (spread over the whole set), the revoked one, and 100 well-formed keys that are not in the
 * store (a lookup that misses) to files for the load generator.
 *
 *   seed DB N HOT HOTFILE REVOKEDFILE UNKNOWNFILE PASSWORD
 *
 * The key files are created 0600 and hold keys in the clear: the caller keeps them in a private
 * temp directory and deletes them. Prints "seeded N keys in S s" on stdout; exits non-zero on
 * any failure.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "log.h"
#include "secret.h"
#include "store.h"

#define BATCH	50000	/* keys per transaction */

struct batch {
	int64_t		 account_id;
	int64_t		 first, n;	/* key numbers first .. first + n - 1 */
	int64_t		 total, hot;
	FILE		*hotf;
	int64_t		 now;
};

/* Key number i goes to the hot file when it falls on the hot sample's stride. */
static int
is_hot(const struct batch *b, int64_t i)
{
	int64_t	stride = b->total / b->hot;

	return stride > 0 && i % stride == 0 && i / stride < b->hot;
}

static enum tsk_status
insert_batch(struct store *st, void *arg)
{
	struct batch		*b = arg;
	struct store_key	 k;
	unsigned char		 hash[SECRET_HASH_LEN];
	char			 key[SECRET_KEY_MAX];
	enum tsk_status		 rc;
	int64_t			 i;

	memset(&k, 0, sizeof(k));
	k.account_id = b->account_id;
	k.status = STORE_KEY_ACTIVE;
	k.created_at = b->now;
	snprintf(k.env, sizeof(k.env), "%s", "live");
	snprintf(k.scopes, sizeof(k.scopes), "%s", TSK_SCOPES_DEFAULT);
	for (i = b->first; i < b->first + b->n; i++) {
		if (secret_key_new("live", key, sizeof(key), k.prefix, sizeof(k.prefix)) != 0)
			return TSK_ERR_INTERNAL;
		snprintf(k.name, sizeof(k.name), "bench-%lld", (long long)i);
		secret_hash(key, strlen(key), hash);
		rc = store_key_insert(st, &k, hash, NULL);
		if (rc != TSK_OK)
			return rc;
		if (is_hot(b, i) && fprintf(b->hotf, "%s\n", key) < 0)
			return TSK_ERR_INTERNAL;
	}
	secret_wipe(key, sizeof(key));
	return TSK_OK;
}

static FILE *
open_private(const char *path)
{
	int	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	return fd < 0 ? NULL : fdopen(fd, "w");
}

int
main(int argc, char **argv)
{
	struct admin_key_spec	 spec;
	struct admin_actor	 who;
	struct store		*st = NULL;
	struct batch		 b;
	struct timespec		 t0, t1;
	char			 key[SECRET_KEY_MAX];
	FILE			*revf = NULL, *unkf = NULL;
	char			 prefix[TSK_PREFIX_MAX];
	int64_t			 id = 0, kid = 0;
	int			 rc = 1, i;

	if (argc != 8) {
		fprintf(stderr, "usage: seed DB N HOT HOTFILE REVOKEDFILE UNKNOWNFILE PASSWORD\n");
		return 2;
	}
	log_init(LOG_LEVEL_WARN);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&b, 0, sizeof(b));
	b.total = atoll(argv[2]);
	b.hot = atoll(argv[3]);
	b.now = time(NULL);
	if (b.total < 1 || b.hot < 1 || b.hot > b.total) {
		fprintf(stderr, "seed: need 1 <= HOT <= N\n");
		return 2;
	}
	memset(&who, 0, sizeof(who));
	who.who = "bench";
	who.client = "";
	who.request_id = "";
	who.now = b.now;
	b.hotf = open_private(argv[4]);
	revf = open_private(argv[5]);
	unkf = open_private(argv[6]);
	if (b.hotf == NULL || revf == NULL || unkf == NULL || store_open(argv[1], &st) != TSK_OK)
		goto out;
	if (admin_account_create(st, &who, "bench", INT64_C(1) << 50, 0, &id) != TSK_OK ||
	    admin_user_create(st, &who, "bench", "bench", argv[7], STORE_USER_API) != TSK_OK)
		goto out;
	b.account_id = id;
	for (b.first = 0; b.first < b.total; b.first += BATCH) {
		b.n = b.total - b.first < BATCH ? b.total - b.first : BATCH;
		if (store_transaction(st, insert_batch, &b) != TSK_OK)
			goto out;
	}
	/* The revoked key goes through the admin path, as a revocation by the CLI would. */
	memset(&spec, 0, sizeof(spec));
	spec.account = "bench";
	spec.name = "revoked";
	if (admin_key_create(st, &who, &spec, key, &kid) != TSK_OK ||
	    admin_key_deactivate(st, &who, kid) != TSK_OK || fprintf(revf, "%s\n", key) < 0)
		goto out;
	for (i = 0; i < 100; i++) {
		if (secret_key_new("live", key, sizeof(key), prefix, sizeof(prefix)) != 0 ||
		    fprintf(unkf, "%s\n", key) < 0)
			goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("seeded %lld keys in %.2f s\n", (long long)b.total,
	    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	rc = 0;
out:
	secret_wipe(key, sizeof(key));
	if (rc != 0)
		fprintf(stderr, "seed: failed\n");
	if (b.hotf != NULL && fclose(b.hotf) != 0)
		rc = 1;
	if (revf != NULL && fclose(revf) != 0)
		rc = 1;
	if (unkf != NULL && fclose(unkf) != 0)
		rc = 1;
	store_close(st);
	return rc;
}
