/* SPDX-License-Identifier: MIT */
/*
 * Logging to stderr or syslog, as text, JSON lines or logfmt, with a level check before any
 * formatting. Each line is built in one buffer and written in one call (or, from a worker of
 * the event loop, with the lines it held back), so lines from workers never interleave.
 * Never sees a secret.
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

/*
 * A worker thread of the event loop holds its request lines back (log_batch_begin) and writes
 * them together: one write(2) a line was a third of a REST request's CPU. Held at most
 * BATCH_AGE_MS or BATCH_MAX bytes, and written whenever the worker is about to wait
 * (log_flush) or logs anything but an info line. Per thread, so no lock: the only state here
 * besides the settings above.
 */
#define BATCH_MAX	(32 * 1024)
#define BATCH_AGE_MS	100

struct batch {
	char		buf[BATCH_MAX];
	size_t		len;
	struct timespec	first;		/* when the oldest line held was stamped */
};
static _Thread_local struct batch	*batch;
/* The text of the last second a line of this thread was stamped in. */
static _Thread_local time_t		 ts_sec;
static _Thread_local char		 ts_text[32];

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

/* v in decimal, without printf (a request line has several). */
static void
put_int(struct line *l, long long v)
{
	char			 tmp[24];
	size_t			 i = sizeof(tmp);
	unsigned long long	 u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do {
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		tmp[--i] = '-';
	put(l, tmp + i, sizeof(tmp) - i);
}

static void
put_value(struct line *l, const struct log_field *f)
{
	if (f->type == LOG_T_INT) {
		put_int(l, f->i);
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
put_head(struct line *l, const char *tag, const char *msg, struct timespec *stamp)
{
	struct timespec	now;
	struct tm	tm;
	char		ts[32];

	clock_gettime(CLOCK_REALTIME, &now);
	*stamp = now;
	/* The second's text is worked out once a second per thread, not once a line. */
	if (now.tv_sec != ts_sec || ts_text[0] == '\0') {
		gmtime_r(&now.tv_sec, &tm);
		strftime(ts_text, sizeof(ts_text), "%Y-%m-%dT%H:%M:%S", &tm);
		ts_sec = now.tv_sec;
	}
	memcpy(ts, ts_text, sizeof(ts));
	if (log_fmt == LOG_FORMAT_TEXT) {
		/* syslog stamps and ranks its lines itself */
		if (log_tgt != LOG_TARGET_SYSLOG) {
			puts_(l, ts);
			put(l, "Z ", 2);
			puts_(l, tag);
			put(l, " ", 1);
		}
		puts_(l, msg);
		return;
	}
	/* milliseconds: requests are that close together */
	if (log_fmt == LOG_FORMAT_JSON) {
		putf(l, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":", ts,
		    now.tv_nsec / 1000000L, tag);
		put_json_str(l, msg);
	} else {
		putf(l, "ts=%s.%03ldZ level=%s msg=", ts, now.tv_nsec / 1000000L, tag);
		put_logfmt_val(l, msg);
	}
}

/* Write buf whole under the stdio lock: lines from different threads do not interleave. */
static void
write_out(const char *buf, size_t len)
{
	flockfile(stderr);
	fwrite(buf, 1, len, stderr);
	fflush(stderr);
	funlockfile(stderr);
}

void
log_flush(void)
{
	if (batch == NULL || batch->len == 0)
		return;
	write_out(batch->buf, batch->len);
	batch->len = 0;
}

void
log_batch_begin(void)
{
	if (batch == NULL)
		batch = calloc(1, sizeof(*batch));	/* none: lines go out one by one */
}

void
log_batch_end(void)
{
	log_flush();
	free(batch);
	batch = NULL;
}

/*
 * A finished line (with its newline) to stderr: held back in this thread's batch when it has
 * one and the line is an info line, else written now, after what the batch held.
 */
static void
line_out(const char *tag, const char *buf, size_t len, const struct timespec *stamp)
{
	long long	age_ms;

	if (batch == NULL || strcmp(tag, "info") != 0 || len > sizeof(batch->buf)) {
		log_flush();
		write_out(buf, len);
		return;
	}
	if (batch->len + len > sizeof(batch->buf))
		log_flush();
	if (batch->len == 0)
		batch->first = *stamp;
	memcpy(batch->buf + batch->len, buf, len);
	batch->len += len;
	age_ms = (long long)(stamp->tv_sec - batch->first.tv_sec) * 1000 +
	    (stamp->tv_nsec - batch->first.tv_nsec) / 1000000;
	if (age_ms >= BATCH_AGE_MS || age_ms < 0)
		log_flush();
}

static void
emit(const char *tag, const char *msg, const struct log_field *f, size_t n)
{
	struct line	l;
	struct timespec	stamp;
	size_t		i;

	l.len = 0;
	l.cut = 0;
	put_head(&l, tag, msg, &stamp);
	l.whole = l.len;
	for (i = 0; i < n && !l.cut; i++) {
		put(&l, log_fmt == LOG_FORMAT_JSON ? ",\"" : " ", log_fmt == LOG_FORMAT_JSON ? 2 : 1);
		puts_(&l, f[i].key);
		put(&l, log_fmt == LOG_FORMAT_JSON ? "\":" : "=", log_fmt == LOG_FORMAT_JSON ? 2 : 1);
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
	line_out(tag, l.buf, l.len, &stamp);
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
