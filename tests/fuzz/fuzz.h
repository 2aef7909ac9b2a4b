/* SPDX-License-Identifier: MIT */
/*
 * What every fuzz harness shares: libFuzzer's entry points, FUZZ_CHECK, and the replay main()
 * used when a harness is built without libFuzzer (-DREPLAY): each argument is a corpus
 * directory (every regular file in it is one input, in name order) or a single input file,
 * and each input goes through LLVMFuzzerTestOneInput once. A harness that needs set-up defines
 * FUZZ_HAS_INIT and LLVMFuzzerInitialize before including this. The replay exits 0 when every
 * input ran; a finding aborts, as it does under libFuzzer.
 */
#ifndef TSK_FUZZ_H
#define TSK_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant of the code under test; not assert(), so that it holds in every build. */
#define FUZZ_CHECK(cond)	do { if (!(cond)) fuzz_failed(#cond, __FILE__, __LINE__); } while (0)

static inline void __attribute__((noreturn))
fuzz_failed(const char *what, const char *file, int line)
{
	fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, what);
	abort();
}

#ifdef REPLAY

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

/* Run the input in the file at path. 0, or -1 when it cannot be read. */
static int
replay_file(const char *path)
{
	FILE		*fp;
	uint8_t		*buf;
	struct stat	 sb;
	size_t		 n;

	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
		return -1;
	fp = fopen(path, "rb");
	if (fp == NULL)
		return -1;
	/* An exact-size copy, as libFuzzer gives, so that an over-read is one in the sanitizers. */
	buf = malloc(sb.st_size > 0 ? (size_t)sb.st_size : 1);
	n = buf != NULL ? fread(buf, 1, (size_t)sb.st_size, fp) : 0;
	fclose(fp);
	if (buf == NULL || n != (size_t)sb.st_size) {
		free(buf);
		return -1;
	}
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

static int
replay_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file in dir, in name order; *count grows by the inputs run. -1 on failure. */
static int
replay_dir(const char *dir, int *count)
{
	DIR		 *d;
	struct dirent	 *e;
	char		**names = NULL, **more, path[4096];
	size_t		  n = 0, cap = 0, i;
	int		  rc = 0;

	d = opendir(dir);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			more = realloc(names, cap * sizeof(*names));
			if (more == NULL) {
				rc = -1;
				break;
			}
			names = more;
		}
		names[n] = strdup(e->d_name);
		if (names[n] == NULL) {
			rc = -1;
			break;
		}
		n++;
	}
	closedir(d);
	if (rc == 0 && n > 0)
		qsort(names, n, sizeof(*names), replay_name_cmp);
	for (i = 0; i < n; i++) {
		if (rc == 0 && (size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) <
		    sizeof(path) && replay_file(path) == 0)
			(*count)++;
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	struct stat	sb;
	int		i, count = 0;

#ifdef FUZZ_HAS_INIT
	LLVMFuzzerInitialize(&argc, &argv);
#endif
	for (i = 1; i < argc; i++) {
		int	is_dir = stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode);
		int	rc = is_dir ? replay_dir(argv[i], &count) : replay_file(argv[i]);

		if (rc != 0) {
			fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[i]);
			return 1;
		}
		if (!is_dir)
			count++;
	}
	printf("%s: %d inputs replayed\n", argv[0], count);
	return 0;
}

#endif /* REPLAY */
#endif /* TSK_FUZZ_H */
