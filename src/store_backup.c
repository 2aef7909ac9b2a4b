/* SPDX-License-Identifier: MIT */
/* The online backup: sqlite3_backup_* into a new file, then an integrity check of the copy. */
#include "store_int.h"

#include <string.h>
#include <time.h>

#include "log.h"

#define BACKUP_PAGES		64	/* pages per step: a short hold on the source */
#define BACKUP_RESTARTS		3	/* restarts by other writers before copying the rest at once */
#define BACKUP_MAX_STEPS	100000	/* a bound on the loop, whatever happens */
#define BACKUP_SECONDS		120	/* and on its time */

static enum tsk_status
integrity_ok(sqlite3 *db, const char *path)
{
	sqlite3_stmt		*q = NULL;
	enum tsk_status		 rc = TSK_ERR_STORE;
	const unsigned char	*t;

	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL) != SQLITE_OK) {
		log_warnx("store: backup %s: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	t = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_text(q, 0) : NULL;
	if (t != NULL && strcmp((const char *)t, "ok") == 0)
		rc = TSK_OK;
	else
		log_warnx("store: backup %s: integrity_check failed", path);
out:
	sqlite3_finalize(q);
	return rc;
}

/* Step b to the end. SQLITE_DONE, or the error that stopped it. */
static int
copy_all(sqlite3_backup *b)
{
	time_t	until = time(NULL) + BACKUP_SECONDS;
	int	rc, steps = 0, restarts = 0, left = -1, pages = BACKUP_PAGES;

	for (;;) {
		rc = sqlite3_backup_step(b, pages);
		if (rc == SQLITE_DONE) {
			log_debug("store: backup: %d steps, %d restarts by writers", steps + 1,
			    restarts);
			return rc;
		}
		if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			return rc;
		if (++steps > BACKUP_MAX_STEPS || time(NULL) > until)
			return SQLITE_BUSY;
		/* More left than after the last step: a writer made sqlite start over. */
		if (rc == SQLITE_OK && left >= 0 && sqlite3_backup_remaining(b) > left &&
		    ++restarts >= BACKUP_RESTARTS)
			pages = -1;
		left = sqlite3_backup_remaining(b);
		/* Let writers in between steps; wait longer when the source was busy. */
		sqlite3_sleep(rc == SQLITE_OK ? 1 : 20);
	}
}

enum tsk_status
store_backup(struct store *st, const char *path, int64_t *pages)
{
	sqlite3		*dst = NULL;
	sqlite3_backup	*b;
	enum tsk_status	 rc = TSK_ERR_STORE;
	int		 step, n;

	if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_EXCLUSIVE, NULL) != SQLITE_OK) {
		log_warnx("store: backup %s: %s", path, dst != NULL ? sqlite3_errmsg(dst) :
		    "cannot open");
		goto out;
	}
	b = sqlite3_backup_init(dst, "main", st->db, "main");
	if (b == NULL) {
		log_warnx("store: backup %s: %s", path, sqlite3_errmsg(dst));
		goto out;
	}
	step = copy_all(b);
	n = sqlite3_backup_pagecount(b);
	if (sqlite3_backup_finish(b) != SQLITE_OK || step != SQLITE_DONE) {
		log_warnx("store: backup %s: %s", path, step == SQLITE_DONE ?
		    sqlite3_errmsg(dst) : sqlite3_errstr(step));
		goto out;
	}
	rc = integrity_ok(dst, path);
	if (rc == TSK_OK)
		*pages = n;
out:
	sqlite3_close(dst);
	return rc;
}
