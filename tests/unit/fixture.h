/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the unit tests that run against a real database: a store opened in a fresh
 * mkdtemp directory (the cmocka setup and teardown), the directory's removal, and searches for
 * bytes in the files on disk. Test code only: failures are cmocka assertions.
 */
#ifndef TSK_TEST_FIXTURE_H
#define TSK_TEST_FIXTURE_H

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"

/* A test's database. A test's own state struct has one as its first member. */
struct fixture {
	char		 dir[64];	/* /tmp/tsk_<tag>_XXXXXX */
	char		 path[128];	/* <dir>/tskey.db */
	struct store	*st;		/* open on path; a test may close it and set NULL */
};

/* Make a fresh directory /tmp/tsk_<tag>_XXXXXX in fx->dir and name fx->path in it. 0 or -1. */
static inline int
fixture_tmpdir(struct fixture *fx, const char *tag)
{
	int	n;

	n = snprintf(fx->dir, sizeof(fx->dir), "/tmp/tsk_%s_XXXXXX", tag);
	if (n < 0 || (size_t)n >= sizeof(fx->dir) || mkdtemp(fx->dir) == NULL)
		return -1;
	n = snprintf(fx->path, sizeof(fx->path), "%s/tskey.db", fx->dir);
	if (n < 0 || (size_t)n >= sizeof(fx->path)) {
		rmdir(fx->dir);
		return -1;
	}
	return 0;
}

/* Remove every file in dir (the database, -wal, -shm, extras), then dir itself. */
static inline void
fixture_rm_tree(const char *dir)
{
	char		 p[512];
	DIR		*d;
	struct dirent	*e;

	d = opendir(dir);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

/* Is needle[0..n-1] anywhere in hay[0..haylen-1]? (memmem is GNU; the build asks for POSIX.) */
static inline int
fixture_contains(const unsigned char *hay, size_t haylen, const void *needle, size_t n)
{
	size_t	i;

	for (i = 0; n <= haylen && i <= haylen - n; i++) {
		if (memcmp(hay + i, needle, n) == 0)
			return 1;
	}
	return 0;
}

/*
 * Read the whole file at path into a malloc'd buffer the caller frees, its size into *len.
 * A missing file reads as empty (a non-NULL buffer, *len 0).
 */
static inline unsigned char *
fixture_slurp(const char *path, size_t *len)
{
	unsigned char	*buf;
	FILE		*fp;
	long		 n;

	*len = 0;
	fp = fopen(path, "rb");
	if (fp == NULL) {
		buf = calloc(1, 1);
		assert_non_null(buf);
		return buf;
	}
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n >= 0);
	assert_int_equal(fseek(fp, 0, SEEK_SET), 0);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

/* Is needle[0..n-1] in the file at path? A missing file holds nothing. */
static inline int
fixture_file_has(const char *path, const void *needle, size_t n)
{
	unsigned char	*buf;
	size_t		 len;
	int		 found;

	buf = fixture_slurp(path, &len);
	found = len > 0 && fixture_contains(buf, len, needle, n);
	free(buf);
	return found;
}

/*
 * Is needle[0..n-1] in the database file at dbpath or in its write-ahead log? Close the store
 * first if the question is what reached the main file.
 */
static inline int
fixture_db_has(const char *dbpath, const void *needle, size_t n)
{
	char	wal[256];

	assert_true((size_t)snprintf(wal, sizeof(wal), "%s-wal", dbpath) < sizeof(wal));
	return fixture_file_has(dbpath, needle, n) || fixture_file_has(wal, needle, n);
}

/*
 * cmocka setup half: allocate a zeroed test struct of size bytes whose first member is a struct
 * fixture, make its directory and open a store there. On success *state owns it and the caller
 * goes on to fill in the rest; on failure -1, *state NULL, nothing left behind.
 */
static inline int
fixture_setup(void **state, size_t size, const char *tag)
{
	struct fixture	*fx;

	*state = NULL;
	assert_true(size >= sizeof(*fx));
	fx = calloc(1, size);
	if (fx == NULL)
		return -1;
	if (fixture_tmpdir(fx, tag) != 0) {
		free(fx);
		return -1;
	}
	if (store_open(fx->path, &fx->st) != TSK_OK) {
		fixture_rm_tree(fx->dir);
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

/*
 * cmocka teardown for what fixture_setup made: close the store, remove the directory, free the
 * struct. *state may be NULL. Setup calls it itself when its own part fails, since cmocka skips
 * the teardown of a failed setup.
 */
static inline int
fixture_teardown(void **state)
{
	struct fixture	*fx = *state;

	if (fx == NULL)
		return 0;
	store_close(fx->st);
	fixture_rm_tree(fx->dir);
	free(fx);
	*state = NULL;
	return 0;
}

#endif /* TSK_TEST_FIXTURE_H */
