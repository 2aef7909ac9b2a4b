/* SPDX-License-Identifier: MIT */
/*
 * Logging, OpenBSD style: log_warn appends strerror(errno) and keeps errno; fatal* only at start-up.
 * Lines go to stderr (or syslog(3)), as plain text, JSON lines or logfmt. Callers must never pass
 * a key, session key or password.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_LEVEL_WARN = 0, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/*
 * How a line looks. TEXT: "2026-11-25T18:54:06Z info request id=... ms=0.42" (the historic
 * format, the default). JSON: one object per line, {"ts","level","msg", fields...}. LOGFMT:
 * ts=... level=... msg=... key=value..., values quoted where they need it.
 */
enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON, LOG_FORMAT_LOGFMT };
/* Where lines go: stderr, or syslog(3) (facility daemon, ident "tskey", with the pid). */
enum log_target { LOG_TARGET_STDERR = 0, LOG_TARGET_SYSLOG };

/* Set the verbosity; with log_setup's choices the only mutable globals (see STYLE.md). */
void	log_init(enum log_level level);

/*
 * Choose the format and the target. Call at start-up, before other threads log. Going to
 * syslog opens the connection at once; a missing /dev/log is reported on stderr.
 */
void	log_setup(enum log_format format, enum log_target target);

/* "text", "json", "logfmt" / "stderr", "syslog" -> *out: 0, or -1 for anything else. */
int	log_format_parse(const char *s, enum log_format *out);
int	log_target_parse(const char *s, enum log_target *out);

/* One named value of a structured line (log_fields): a string, an integer or a real. */
enum log_type { LOG_T_STR, LOG_T_INT, LOG_T_REAL };
struct log_field {
	const char	*key;	/* a plain identifier: [a-z_]+ */
	enum log_type	 type;
	const char	*s;	/* LOG_T_STR; NULL is written as "-" */
	long long	 i;	/* LOG_T_INT */
	double		 d;	/* LOG_T_REAL, written with two decimals */
};

static inline struct log_field
log_str(const char *key, const char *s)
{
	return (struct log_field){ key, LOG_T_STR, s, 0, 0 };
}

static inline struct log_field
log_int(const char *key, long long i)
{
	return (struct log_field){ key, LOG_T_INT, NULL, i, 0 };
}

static inline struct log_field
log_real(const char *key, double d)
{
	return (struct log_field){ key, LOG_T_REAL, NULL, 0, d };
}

/*
 * One line at info level: msg (a fixed word, such as "request") and the fields in order, in
 * the chosen format (TEXT: "msg key=value ...", values as they are). Thread-safe: a line is
 * written whole.
 */
void	log_fields(const char *msg, const struct log_field *f, size_t n);

/*
 * This thread holds its info lines back and writes them together (to stderr; syslog lines go
 * one by one): when it calls log_flush, logs a warning, holds 32 KiB, or its oldest line held
 * is 100 ms old. For the event loop's workers, which call log_flush before they wait for work
 * and log_batch_end when they stop. Lines held when the process is killed (-9) are lost.
 */
void	log_batch_begin(void);
void	log_flush(void);
void	log_batch_end(void);

void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
