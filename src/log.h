/* SPDX-License-Identifier: MIT */
/*
 * Logging, OpenBSD style: log_warn appends strerror(errno) and keeps errno; fatal* only at start-up.
 * Lines go to stderr. Callers must never pass a key, session key or password.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>

enum log_level { LOG_LEVEL_WARN = 0, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Set the verbosity; the only mutable global (see STYLE.md). */
void	log_init(enum log_level level);

void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
