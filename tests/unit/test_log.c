/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/log.c: the three formats of a line, JSON escaping (quotes, control bytes,
 * invalid UTF-8) and logfmt quoting, long lines cut yet still whole, and the option parsers.
 * stderr is pointed at a temporary file around each line and read back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

static char	captured[65536];

/* Start sending stderr to a temporary file; returns the saved descriptor. */
static int
capture_begin(FILE **tmp)
{
	int	saved;

	fflush(stderr);
	*tmp = tmpfile();
	assert_non_null(*tmp);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(*tmp), STDERR_FILENO) >= 0);
	return saved;
}

/* Restore stderr and return what was written meanwhile. */
static const char *
capture_end(FILE *tmp, int saved)
{
	size_t	n;

	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(tmp);
	n = fread(captured, 1, sizeof(captured) - 1, tmp);
	captured[n] = '\0';
	fclose(tmp);
	return captured;
}

/* The line after the timestamp, for the formats that put one first. */
static const char *
after(const char *line, const char *prefix)
{
	const char	*p = strstr(line, prefix);

	assert_non_null(p);
	return p;
}

static void
request_line(enum log_format fmt, const char **out)
{
	FILE			*tmp;
	int			 saved;
	const struct log_field	 f[] = { log_str("id", "abc123"), log_str("route", "/rest/credit"),
				    log_int("status", 200), log_str("verdict", NULL),
				    log_real("ms", 0.456) };

	log_setup(fmt, LOG_TARGET_STDERR);
	saved = capture_begin(&tmp);
	log_fields("request", f, sizeof(f) / sizeof(f[0]));
	*out = capture_end(tmp, saved);
}

static void
test_formats(void **state)
{
	const char	*line;

	(void)state;
	log_init(LOG_LEVEL_INFO);
	request_line(LOG_FORMAT_TEXT, &line);
	assert_string_equal(after(line, " info "), " info request id=abc123 route=/rest/credit "
	    "status=200 verdict=- ms=0.46\n");
	assert_int_equal(strlen(line) - strlen(after(line, " info ")), 20);	/* the stamp */
	request_line(LOG_FORMAT_JSON, &line);
	assert_true(strncmp(line, "{\"ts\":\"", 7) == 0);
	assert_string_equal(after(line, "Z\","), "Z\",\"level\":\"info\",\"msg\":\"request\","
	    "\"id\":\"abc123\",\"route\":\"/rest/credit\",\"status\":200,\"verdict\":\"-\","
	    "\"ms\":0.46}\n");
	request_line(LOG_FORMAT_LOGFMT, &line);
	assert_true(strncmp(line, "ts=", 3) == 0);
	assert_string_equal(after(line, "Z level"), "Z level=info msg=request id=abc123 "
	    "route=/rest/credit status=200 verdict=- ms=0.46\n");
	log_setup(LOG_FORMAT_TEXT, LOG_TARGET_STDERR);
}

static void
test_escaping(void **state)
{
	FILE		*tmp;
	int		 saved;
	const char	*line;
	/* a quote, a backslash, a newline, a control byte, an invalid byte, a valid "ü" */
	const char	*nasty = "a \"q\" \\ \n\x01 \xff \xc3\xbc =";

	(void)state;
	log_setup(LOG_FORMAT_JSON, LOG_TARGET_STDERR);
	saved = capture_begin(&tmp);
	log_warnx("%s", nasty);
	line = capture_end(tmp, saved);
	assert_string_equal(after(line, "\"level\""), "\"level\":\"warn\",\"msg\":\"a \\\"q\\\" "
	    "\\\\ \\n\\u0001 \\ufffd \xc3\xbc =\"}\n");
	log_setup(LOG_FORMAT_LOGFMT, LOG_TARGET_STDERR);
	saved = capture_begin(&tmp);
	log_warnx("%s", nasty);
	line = capture_end(tmp, saved);
	assert_string_equal(after(line, " level"), " level=warn msg=\"a \\\"q\\\" \\\\ \\x0a\\x01 "
	    "\\xff \\xc3\\xbc =\"\n");
	/* A value with nothing to quote stays bare; an empty one is quoted. */
	saved = capture_begin(&tmp);
	log_warnx("%s", "");
	line = capture_end(tmp, saved);
	assert_string_equal(after(line, " level"), " level=warn msg=\"\"\n");
	log_setup(LOG_FORMAT_TEXT, LOG_TARGET_STDERR);
}

static void
test_long_lines_stay_whole(void **state)
{
	FILE			*tmp;
	int			 saved;
	const char		*line;
	char			*big = malloc(8192);
	struct log_field	 f[8];
	size_t			 i, nl;

	(void)state;
	assert_non_null(big);
	memset(big, '"', 8191);	/* six bytes each once escaped */
	big[8191] = '\0';
	for (i = 0; i < 8; i++)
		f[i] = log_str("field", big);
	log_setup(LOG_FORMAT_JSON, LOG_TARGET_STDERR);
	saved = capture_begin(&tmp);
	log_warnx("%s", big);		/* cut to the message limit, still one object */
	log_fields("request", f, 8);	/* whole fields only, then a cut mark */
	line = capture_end(tmp, saved);
	assert_non_null(strstr(line, "\"}\n{"));
	assert_non_null(strstr(line, "\",\"cut\":1}\n"));
	/* two lines, each ended */
	for (i = 0, nl = 0; line[i] != '\0'; i++)
		nl += line[i] == '\n';
	assert_int_equal(nl, 2);
	assert_int_equal(line[strlen(line) - 1], '\n');
	log_setup(LOG_FORMAT_TEXT, LOG_TARGET_STDERR);
	free(big);
}

static void
test_levels(void **state)
{
	FILE		*tmp;
	int		 saved;
	const char	*line;

	(void)state;
	log_init(LOG_LEVEL_WARN);
	saved = capture_begin(&tmp);
	log_fields("request", NULL, 0);
	log_info("not shown");
	log_warnx("shown");
	line = capture_end(tmp, saved);
	assert_null(strstr(line, "request"));
	assert_null(strstr(line, "not shown"));
	assert_non_null(strstr(line, " warn shown\n"));
	log_init(LOG_LEVEL_INFO);
}

static void
test_parsers(void **state)
{
	enum log_format	f = LOG_FORMAT_TEXT;
	enum log_target	t = LOG_TARGET_STDERR;

	(void)state;
	assert_int_equal(log_format_parse("json", &f), 0);
	assert_int_equal(f, LOG_FORMAT_JSON);
	assert_int_equal(log_format_parse("logfmt", &f), 0);
	assert_int_equal(f, LOG_FORMAT_LOGFMT);
	assert_int_equal(log_format_parse("text", &f), 0);
	assert_int_equal(f, LOG_FORMAT_TEXT);
	assert_int_equal(log_format_parse("JSON", &f), -1);
	assert_int_equal(log_format_parse("", &f), -1);
	assert_int_equal(f, LOG_FORMAT_TEXT);
	assert_int_equal(log_target_parse("syslog", &t), 0);
	assert_int_equal(t, LOG_TARGET_SYSLOG);
	assert_int_equal(log_target_parse("stderr", &t), 0);
	assert_int_equal(t, LOG_TARGET_STDERR);
	assert_int_equal(log_target_parse("file", &t), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_long_lines_stay_whole),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_parsers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
