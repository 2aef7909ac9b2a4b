/* SPDX-License-Identifier: MIT */
/* Logging to stderr with a level check before any formatting. Never sees a secret. */
#include "log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Atomic: SIGHUP may change it while workers log. */
static _Atomic int log_verbosity = LOG_LEVEL_INFO;

void
log_init(enum log_level level)
{
	log_verbosity = level;
}

#define LINE_MAX_BYTES	4096	/* longer lines are cut, marked with "..." */

/*
 * Format the whole line first, then hand it to the kernel in one write: one system call per
 * line (stderr is unbuffered, and piecewise fprintf cost four), and lines from workers cannot
 * interleave. Worth it: this runs once per request.
 */
static void __attribute__((format(printf, 2, 0)))
vlog(const char *tag, const char *fmt, va_list ap, const char *suffix)
{
	char		line[LINE_MAX_BYTES];
	time_t		now = time(NULL);
	struct tm	tm;
	size_t		n, room = sizeof(line) - 1;	/* one byte kept for the newline */
	int		k;
	ssize_t		w;

	gmtime_r(&now, &tm);
	n = strftime(line, room, "%Y-%m-%dT%H:%M:%SZ ", &tm);
	k = snprintf(line + n, room - n, "%s ", tag);
	n = k < 0 ? n : n + (size_t)k < room ? n + (size_t)k : room;
	k = vsnprintf(line + n, room - n, fmt, ap);
	n = k < 0 ? n : n + (size_t)k < room ? n + (size_t)k : room;
	if (suffix != NULL) {
		k = snprintf(line + n, room - n, ": %s", suffix);
		n = k < 0 ? n : n + (size_t)k < room ? n + (size_t)k : room;
	}
	if (n == room)
		memcpy(line + room - 3, "...", 3);
	line[n++] = '\n';
	/* A short write goes on; a failing one gives up (bounded: each pass writes or ends). */
	for (size_t off = 0, tries = 0; off < n && tries < 16; tries++) {
		w = write(STDERR_FILENO, line + off, n - off);
		if (w > 0)
			off += (size_t)w;
		else if (w == 0 || errno != EINTR)
			break;
	}
}

void
log_warn(const char *fmt, ...)
{
	int	saved = errno;
	va_list	ap;

	va_start(ap, fmt);
	vlog("warn", fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog("warn", fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	if (log_verbosity < LOG_LEVEL_INFO)
		return;
	va_start(ap, fmt);
	vlog("info", fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (log_verbosity < LOG_LEVEL_DEBUG)
		return;
	va_start(ap, fmt);
	vlog("debug", fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int	saved = errno;
	va_list	ap;

	va_start(ap, fmt);
	vlog("fatal", fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog("fatal", fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
