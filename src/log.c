/* SPDX-License-Identifier: MIT */
/*
 * Logging to stderr or syslog, as text, JSON lines or logfmt, with a level check before any
 * formatting. Each line is built in one buffer and written in one call, so lines from workers
 * never interleave. Never sees a secret.
 */
#include "log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/*
 * A message is at most MSG_MAX bytes; escaped for JSON it can grow sixfold, and the head must
 * always fit. Fields past the end are dropped whole, and the line says it was cut.
 */
#define MSG_MAX		2048
#define LINE_MAX_BYTES	(6 * MSG_MAX + 4096)

/* Atomic: SIGHUP may change it while workers log. */
static _Atomic int	log_verbosity = LOG_LEVEL_INFO;
static enum log_format	log_fmt = LOG_FORMAT_TEXT;
static enum log_target	log_tgt = LOG_TARGET_STDERR;

/* A line being built; once full, further text is dropped and the line marked cut. */
struct line {
	char	buf[LINE_MAX_BYTES];
	size_t	len;
	size_t	whole;	/* the length up to the last complete field */
	int	cut;
};

void
log_init(enum log_level level)
{
	log_verbosity = level;
}

void
log_setup(enum log_format format, enum log_target target)
{
	log_fmt = format;
	log_tgt = target;
	if (target == LOG_TARGET_SYSLOG) {
		openlog("tskey", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		/* glibc drops messages silently without a socket: say so once, where it shows. */
		if (access("/dev/log", W_OK) != 0)
			fprintf(stderr, "tskey: --log-target syslog: /dev/log: %s; log lines may be "
			    "lost\n", strerror(errno));
	}
}

int
log_format_parse(const char *s, enum log_format *out)
{
	if (strcmp(s, "text") == 0)
		*out = LOG_FORMAT_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = LOG_FORMAT_JSON;
	else if (strcmp(s, "logfmt") == 0)
		*out = LOG_FORMAT_LOGFMT;
	else
		return -1;
	return 0;
}

int
log_target_parse(const char *s, enum log_target *out)
{
	if (strcmp(s, "stderr") == 0)
		*out = LOG_TARGET_STDERR;
	else if (strcmp(s, "syslog") == 0)
		*out = LOG_TARGET_SYSLOG;
	else
		return -1;
	return 0;
}

static void
put(struct line *l, const char *s, size_t n)
{
	/* Keep room for the cut mark, the end of the line and the NUL. */
	if (l->cut || l->len + n + 16 > sizeof(l->buf)) {
		l->cut = 1;
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void
puts_(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
putf(struct line *l, const char *fmt, ...)
{
	char	tmp[64];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(l, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Bytes in a valid UTF-8 sequence at s (at most n bytes), 0 when it is not one. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t	want, i;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	want = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (want > n)
		return 0;
	for (i = 1; i < want; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	}
	/* overlong three- and four-byte forms, surrogates, beyond U+10FFFF */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return want;
}

/*
 * s as a JSON string: quotes, backslashes and control bytes escaped, invalid UTF-8 replaced
 * by U+FFFD, so that every line parses whatever a message carried.
 */
static void
put_json_str(struct line *l, const char *s)
{
	const unsigned char	*p = (const unsigned char *)(s != NULL ? s : "-");
	size_t			 n = strlen((const char *)p), i, k;

	puts_(l, "\"");
	for (i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\') {
			put(l, "\\", 1);
			put(l, (const char *)p + i, 1);
		} else if (p[i] == '\n') {
			puts_(l, "\\n");
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			putf(l, "\\u%04x", p[i]);
		} else if (p[i] < 0x80) {
			put(l, (const char *)p + i, 1);
		} else if ((k = utf8_len(p + i, n - i)) > 0) {
			put(l, (const char *)p + i, k);
			i += k - 1;
		} else {
			puts_(l, "\\ufffd");
		}
	}
	puts_(l, "\"");
}

/* s as a logfmt value: bare when it can be, else quoted with \" \\ and \xNN escapes. */
static void
put_logfmt_val(struct line *l, const char *s)
{
	const unsigned char	*p = (const unsigned char *)(s != NULL ? s : "-");
	int			 bare = *p != '\0';
	size_t			 i;

	for (i = 0; p[i] != '\0' && bare; i++) {
		if (p[i] <= ' ' || p[i] == '=' || p[i] == '"' || p[i] == '\\' || p[i] >= 0x7f)
			bare = 0;
	}
	if (bare) {
		puts_(l, (const char *)p);
		return;
	}
	puts_(l, "\"");
	for (i = 0; p[i] != '\0'; i++) {
		if (p[i] == '"' || p[i] == '\\') {
			put(l, "\\", 1);
			put(l, (const char *)p + i, 1);
		} else if (p[i] < 0x20 || p[i] >= 0x7f) {
			putf(l, "\\x%02x", p[i]);
		} else {
			put(l, (const char *)p + i, 1);
		}
	}
	puts_(l, "\"");
}

static void
put_value(struct line *l, const struct log_field *f)
{
	if (f->type == LOG_T_INT) {
		putf(l, "%lld", f->i);
	} else if (f->type == LOG_T_REAL) {
		putf(l, "%.2f", f->d);
	} else if (log_fmt == LOG_FORMAT_JSON) {
		put_json_str(l, f->s);
	} else if (log_fmt == LOG_FORMAT_LOGFMT) {
		put_logfmt_val(l, f->s);
	} else {
		puts_(l, f->s != NULL ? f->s : "-");
	}
}

static int
syslog_priority(const char *tag)
{
	switch (tag[0]) {
	case 'w': return LOG_WARNING;
	case 'd': return LOG_DEBUG;
	case 'f': return LOG_CRIT;
	default: return LOG_INFO;
	}
}

/* The line's head: time, level and message, in the chosen format. */
static void
put_head(struct line *l, const char *tag, const char *msg)
{
	struct timespec	now;
	struct tm	tm;
	char		ts[40];

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	if (log_fmt == LOG_FORMAT_TEXT) {
		/* syslog stamps and ranks its lines itself */
		if (log_tgt != LOG_TARGET_SYSLOG) {
			strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
			putf(l, "%s %s ", ts, tag);
		}
		puts_(l, msg);
		return;
	}
	/* milliseconds: requests are that close together */
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	if (log_fmt == LOG_FORMAT_JSON) {
		putf(l, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":", ts,
		    now.tv_nsec / 1000000L, tag);
		put_json_str(l, msg);
	} else {
		putf(l, "ts=%s.%03ldZ level=%s msg=", ts, now.tv_nsec / 1000000L, tag);
		put_logfmt_val(l, msg);
	}
}

static void
emit(const char *tag, const char *msg, const struct log_field *f, size_t n)
{
	struct line	l;
	size_t		i;

	l.len = 0;
	l.cut = 0;
	put_head(&l, tag, msg);
	l.whole = l.len;
	for (i = 0; i < n && !l.cut; i++) {
		if (log_fmt == LOG_FORMAT_JSON)
			putf(&l, ",\"%s\":", f[i].key);
		else
			putf(&l, " %s=", f[i].key);
		put_value(&l, &f[i]);
		if (!l.cut)
			l.whole = l.len;
	}
	/* put() kept room for these: the line stays whole (and valid JSON) when it is cut. */
	if (l.cut) {
		l.len = l.whole;
		const char	*mark = log_fmt == LOG_FORMAT_JSON ? ",\"cut\":1" : " cut=1";

		memcpy(l.buf + l.len, mark, strlen(mark));
		l.len += strlen(mark);
	}
	if (log_fmt == LOG_FORMAT_JSON)
		l.buf[l.len++] = '}';
	l.buf[l.len] = '\0';
	if (log_tgt == LOG_TARGET_SYSLOG) {
		syslog(syslog_priority(tag), "%s", l.buf);
		return;
	}
	l.buf[l.len++] = '\n';
	/* One write under the stdio lock: lines from workers do not interleave. */
	flockfile(stderr);
	fwrite(l.buf, 1, l.len, stderr);
	fflush(stderr);
	funlockfile(stderr);
}

static void __attribute__((format(printf, 2, 0)))
vlog(const char *tag, const char *fmt, va_list ap, const char *suffix)
{
	char	msg[MSG_MAX];
	int	n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n >= 0 && suffix != NULL && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", suffix);
	emit(tag, msg, NULL, 0);
}

void
log_fields(const char *msg, const struct log_field *f, size_t n)
{
	if (log_verbosity < LOG_LEVEL_INFO)
		return;
	emit("info", msg, f, n);
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
