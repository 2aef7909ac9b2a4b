/* SPDX-License-Identifier: MIT */
/* The config and backup commands: checking and showing the settings, copying the live database. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
cli_settings(const struct cli *c, struct config *cfg, FILE *errs)
{
	return config_load(cfg, c->config_path, c->gargc, c->gargv, c->serve ? c->argc : 0,
	    c->argv, errs);
}

static int
config_check(struct cli *c)
{
	struct config	 cfg;
	const char	*path = c->argc > 1 ? c->argv[1] : c->config_path;
	int		 nerr;

	if (c->argc > 2)
		return cli_usage_error("config check takes one FILE", "config ");
	if (path == NULL)
		return cli_usage_error("config check: which file? (FILE, --config or "
		    "$TSKEY_CONFIG)", "config ");
	config_defaults(&cfg);
	nerr = config_file(&cfg, path, stderr);
	if (nerr == 0)
		nerr = config_validate(&cfg, stderr);
	if (nerr != 0) {
		fprintf(stderr, "tskey: %s: %d error%s\n", path, nerr, nerr == 1 ? "" : "s");
		return 1;
	}
	printf("%s: ok\n", path);
	return 0;
}

int
cli_config(struct cli *c)
{
	struct config	cfg;
	const char	*sub = c->argc > 0 ? c->argv[0] : "";

	if (strcmp(sub, "check") == 0)
		return config_check(c);
	if (strcmp(sub, "sample") == 0 && c->argc == 1) {
		config_sample(stdout);
		return 0;
	}
	if (strcmp(sub, "show") == 0) {
		struct cli	s = *c;

		/* The options after "show" are serve's. */
		s.serve = 1;
		s.argc = c->argc - 1;
		s.argv = c->argv + 1;
		if (cli_settings(&s, &cfg, stderr) != 0)
			return 1;
		config_show(&cfg, stdout);
		return 0;
	}
	return cli_usage_error("config: check [FILE], show or sample", "config ");
}

/* fsync path (a file or a directory); -1 with errno on failure. */
static int
sync_path(const char *path, int flags)
{
	int	fd = open(path, flags | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
cli_backup(struct cli *c)
{
	struct store	*st = NULL;
	struct stat	 db, dst;
	char		 tmp[1100], dir[1100], *slash;
	int64_t		 pages = 0;
	mode_t		 old;
	int		 rc = 1;

	if (c->argc != 1 || c->argv[0][0] == '\0')
		return cli_usage_error("backup takes one FILE", "backup ");
	if (stat(c->cfg.db_path, &db) != 0) {
		fprintf(stderr, "tskey: backup: no database at %s: %s\n", c->cfg.db_path,
		    strerror(errno));
		return 1;
	}
	if (stat(c->argv[0], &dst) == 0 && dst.st_dev == db.st_dev && dst.st_ino == db.st_ino) {
		fprintf(stderr, "tskey: backup: %s is the database itself\n", c->argv[0]);
		return 1;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", c->argv[0], (long)getpid()) >=
	    sizeof(tmp))
		return cli_usage_error("backup: FILE is too long", "backup ");
	st = cli_open_store(&c->cfg);
	if (st == NULL)
		return 1;
	old = umask(077);	/* the copy holds key hashes and password hashes */
	if (store_backup(st, tmp, &pages) != TSK_OK) {
		fprintf(stderr, "tskey: backup to %s failed\n", c->argv[0]);
		goto out;
	}
	if (sync_path(tmp, O_RDONLY) != 0 || rename(tmp, c->argv[0]) != 0) {
		fprintf(stderr, "tskey: backup: %s: %s\n", c->argv[0], strerror(errno));
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s", c->argv[0]);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		slash[slash == dir ? 1 : 0] = '\0';
	(void)sync_path(dir, O_RDONLY | O_DIRECTORY);
	fprintf(stderr, "tskey: backup of %s written to %s (%lld pages; integrity_check ok)\n",
	    c->cfg.db_path, c->argv[0], (long long)pages);
	rc = 0;
out:
	if (rc != 0)
		(void)unlink(tmp);
	umask(old);
	store_close(st);
	return rc;
}
