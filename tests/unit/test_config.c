/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/config.c and config_load.c: the defaults, the --listen syntax, the file,
 * the environment, the flags and their order, and what a reload keeps.
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

#include "config.h"
#include "config_int.h"

static void
test_defaults(void **state)
{
	struct config	cfg;

	(void)state;
	assert_int_equal(unsetenv("TSKEY_DB"), 0);
	memset(&cfg, 0xa5, sizeof(cfg));
	config_defaults(&cfg);
	assert_string_equal(cfg.listen_host, "127.0.0.1");
	assert_int_equal(cfg.listen_port, 8080);
	assert_int_equal(cfg.session_idle, 14400);
	assert_string_equal(cfg.db_path, "./tskey.db");
	assert_true(cfg.touch_slack > 0);
	assert_true(cfg.touch_slack < cfg.session_idle);
	assert_true(cfg.store_pool >= 1);
	assert_true(cfg.max_conns >= 1);
	assert_true(cfg.max_body > 0);
	assert_true(cfg.max_string > 0);
}

static void
test_env_db(void **state)
{
	struct config	cfg;

	(void)state;
	/* The defaults alone never read the environment; config_env does. */
	assert_int_equal(setenv("TSKEY_DB", "/var/lib/tskey/keys.db", 1), 0);
	config_defaults(&cfg);
	assert_string_equal(cfg.db_path, "./tskey.db");
	assert_int_equal(config_env(&cfg, stderr), 0);
	assert_string_equal(cfg.db_path, "/var/lib/tskey/keys.db");
	assert_int_equal(cfg.source[0], CONFIG_SRC_ENV);
	assert_int_equal(cfg.listen_port, 8080);

	/* Set but empty counts as unset. */
	assert_int_equal(setenv("TSKEY_DB", "", 1), 0);
	config_defaults(&cfg);
	assert_int_equal(config_env(&cfg, stderr), 0);
	assert_string_equal(cfg.db_path, "./tskey.db");
	assert_int_equal(unsetenv("TSKEY_DB"), 0);
}

/* Write text to a temp file; its path in path (size >= 64). */
static void
write_file(char *path, const char *text)
{
	FILE	*f;
	int	 fd;

	snprintf(path, 64, "/tmp/tskey-test-config-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* Load a file; the error lines in errs (size 4096). */
static int
load_file(struct config *cfg, const char *text, char *errs)
{
	char	 path[64];
	FILE	*e = fmemopen(errs, 4096, "w");
	int	 n;

	assert_non_null(e);
	memset(errs, 0, 4096);
	write_file(path, text);
	config_defaults(cfg);
	n = config_file(cfg, path, e);
	fclose(e);
	unlink(path);
	return n;
}

static void
test_file_values(void **state)
{
	struct config	cfg;
	char		errs[4096];

	(void)state;
	assert_int_equal(load_file(&cfg, "# a comment\n\n  max_conns = 64  # busy\n"
	    "listen = [::1]:9000\ncost = verify=2, credit=1\npassword_max_age = 90\n"
	    "uniform_errors = yes\napi_user_login = off\ntimeout = 30\nlog_level = debug\n"
	    "login_sunset = 2027-01-31\ntrusted_proxy = 127.0.0.1,10.0.0.0/8\n", errs), 0);
	assert_string_equal(errs, "");
	assert_int_equal(cfg.max_conns, 64);
	assert_string_equal(cfg.listen_host, "::1");
	assert_int_equal(cfg.listen_port, 9000);
	assert_int_equal(cfg.op_cost[TSK_OP_VERIFY], 2);
	assert_int_equal(cfg.op_cost[TSK_OP_CREDIT], 1);
	assert_int_equal(cfg.op_cost[TSK_OP_ME], 0);
	assert_int_equal(cfg.password_max_age, 90 * 86400);
	assert_int_equal(cfg.uniform_errors, 1);
	assert_int_equal(cfg.api_user_login, 0);
	assert_int_equal(cfg.recv_timeout, 30);
	assert_int_equal(cfg.send_timeout, 30);
	assert_int_equal(cfg.log_level, 2);
	assert_int_equal(cfg.login_sunset, 1801353600);
	assert_string_equal(cfg.trusted_proxies, "127.0.0.1,10.0.0.0/8");
}

static void
test_file_errors(void **state)
{
	struct config	cfg, def;
	char		errs[4096];

	(void)state;
	config_defaults(&def);
	assert_int_equal(load_file(&cfg, "max_conns = 0\nfoo = 1\nmax_conns 5\n"
	    "cost = verify=2,bogus=1\nsession_idle = 10\nsession_idle = 20\n"
	    "demo = maybe\nmax_body = 99999999999\nlogin_sunset = tomorrow\n", errs), 8);
	assert_non_null(strstr(errs, ":1: max_conns: bad value '0': want a whole number from 1 "
	    "to 100000"));
	assert_non_null(strstr(errs, ":2: unknown setting 'foo'"));
	assert_non_null(strstr(errs, ":3: want 'name = value'"));
	assert_non_null(strstr(errs, ":4: cost: bad value"));
	assert_non_null(strstr(errs, ":6: session_idle: set again (first on line 5)"));
	assert_non_null(strstr(errs, ":7: demo: bad value 'maybe': want yes or no"));
	assert_non_null(strstr(errs, ":8: max_body: bad value"));
	assert_non_null(strstr(errs, ":9: login_sunset: bad value"));
	/* Bad values change nothing; cost is all or nothing. */
	assert_int_equal(cfg.max_conns, def.max_conns);
	assert_int_equal(cfg.op_cost[TSK_OP_VERIFY], def.op_cost[TSK_OP_VERIFY]);
	assert_int_equal(cfg.session_idle, 10);
	assert_int_equal(cfg.demo, 1);
}

static void
test_file_missing(void **state)
{
	struct config	cfg;
	char		errs[4096] = { 0 };
	FILE		*e = fmemopen(errs, sizeof(errs), "w");

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_file(&cfg, "/nonexistent/tskey.conf", e), 1);
	fclose(e);
	assert_non_null(strstr(errs, "/nonexistent/tskey.conf: cannot read"));
}

/* defaults < file < environment < flags, setting by setting. */
static void
test_precedence(void **state)
{
	struct config	 cfg;
	char		 path[64];
	char		*gargv[] = { "--config", path, "--max-keys", "7", "-q" };
	char		*sargv[] = { "--max-conns", "30", "--no-demo" };
	FILE		*e = fopen("/dev/null", "w");

	(void)state;
	write_file(path, "max_conns = 10\nmax_conns_per_client = 11\nsession_idle = 12\n"
	    "max_keys = 13\nlog_level = debug\n");
	assert_int_equal(setenv("TSKEY_MAX_CONNS", "20", 1), 0);
	assert_int_equal(setenv("TSKEY_MAX_CONNS_PER_CLIENT", "21", 1), 0);
	assert_int_equal(config_load(&cfg, path, 5, gargv, 3, sargv, e), 0);
	assert_int_equal(cfg.max_conns, 30);		/* flag */
	assert_int_equal(cfg.max_conns_per_client, 21);	/* environment */
	assert_int_equal(cfg.session_idle, 12);		/* file */
	assert_int_equal(cfg.max_active_keys, 7);	/* global flag over file */
	assert_int_equal(cfg.log_level, 0);		/* -q over the file's debug */
	assert_int_equal(cfg.demo, 0);
	assert_int_equal(cfg.touch_slack, 60);		/* default */
	assert_string_equal(cfg.config_path, path);
	/* An unknown flag and a bad environment value are errors. */
	assert_int_equal(setenv("TSKEY_MAX_CONNS", "lots", 1), 0);
	sargv[0] = "--max-connz";
	assert_int_equal(config_load(&cfg, path, 5, gargv, 3, sargv, e), 3);
	unsetenv("TSKEY_MAX_CONNS");
	unsetenv("TSKEY_MAX_CONNS_PER_CLIENT");
	unlink(path);
	fclose(e);
}

static void
test_validate_tls_pair(void **state)
{
	struct config	 cfg;
	FILE		*e = fopen("/dev/null", "w");

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_validate(&cfg, e), 0);
	snprintf(cfg.tls_cert, sizeof(cfg.tls_cert), "c.pem");
	assert_int_equal(config_validate(&cfg, e), 1);
	snprintf(cfg.tls_key, sizeof(cfg.tls_key), "k.pem");
	assert_int_equal(config_validate(&cfg, e), 0);
	fclose(e);
}

/* A reload applies what it can and puts back what needs a restart. */
static void
test_reload_merge(void **state)
{
	struct config	running, next;

	(void)state;
	config_defaults(&running);
	next = running;
	next.op_cost[TSK_OP_CREDIT] = 5;
	next.max_conns = 3;
	next.listen_port = 9999;
	snprintf(next.db_path, sizeof(next.db_path), "/elsewhere.db");
	next.recv_timeout = next.send_timeout = 99;
	assert_int_equal(config_reload_merge(&next, &running), 2);
	assert_int_equal(next.op_cost[TSK_OP_CREDIT], 5);
	assert_int_equal(next.max_conns, 3);
	assert_int_equal(next.listen_port, running.listen_port);
	assert_string_equal(next.db_path, running.db_path);
	assert_int_equal(next.recv_timeout, running.recv_timeout);
	assert_int_equal(next.send_timeout, running.send_timeout);

	/* TLS: new files while it is on, yes; switching it on, no */
	next = running;
	snprintf(next.tls_cert, sizeof(next.tls_cert), "c.pem");
	snprintf(next.tls_key, sizeof(next.tls_key), "k.pem");
	assert_int_equal(config_reload_merge(&next, &running), 0);
	assert_string_equal(next.tls_cert, "");
	assert_string_equal(next.tls_key, "");
	running = next;
	snprintf(running.tls_cert, sizeof(running.tls_cert), "c.pem");
	snprintf(running.tls_key, sizeof(running.tls_key), "k.pem");
	next = running;
	snprintf(next.tls_cert, sizeof(next.tls_cert), "c2.pem");
	snprintf(next.tls_key, sizeof(next.tls_key), "k2.pem");
	assert_int_equal(config_reload_merge(&next, &running), 2);
	assert_string_equal(next.tls_cert, "c2.pem");
	next.tls_cert[0] = next.tls_key[0] = '\0';
	assert_int_equal(config_reload_merge(&next, &running), 0);
	assert_string_equal(next.tls_cert, "c.pem");
	assert_string_equal(next.tls_key, "k.pem");
}

static void
listen_ok(const char *spec, const char *host, int port)
{
	struct config	cfg;

	config_defaults(&cfg);
	snprintf(cfg.listen_host, sizeof(cfg.listen_host), "%s", "unchanged");
	cfg.listen_port = 1;
	if (config_listen_parse(&cfg, spec) != 0)
		fail_msg("refused \"%s\"", spec);
	assert_string_equal(cfg.listen_host, host);
	assert_int_equal(cfg.listen_port, port);
}

static void
test_listen_parse(void **state)
{
	(void)state;
	listen_ok("127.0.0.1:9000", "127.0.0.1", 9000);
	listen_ok("[::1]:8081", "::1", 8081);
	listen_ok(":7000", "127.0.0.1", 7000);
	listen_ok("0.0.0.0:65535", "0.0.0.0", 65535);
	listen_ok("localhost:80", "localhost", 80);
	listen_ok("[fe80::1%eth0]:443", "fe80::1%eth0", 443);
}

static void
test_listen_rejects(void **state)
{
	static const char *const bad[] = {
		"nocolon", "host:", "host:70000", "host:65536", "host:abc", "host:80x",
		"host:-1", "", ":", "host: 80", "host:+80", "[]:80",
	};
	struct config	cfg, before;
	size_t		i;

	(void)state;
	config_defaults(&cfg);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		before = cfg;
		if (config_listen_parse(&cfg, bad[i]) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		/* A refused spec leaves the settings as they were. */
		assert_memory_equal(&cfg, &before, sizeof(cfg));
	}
}

static void
test_listen_host_too_long(void **state)
{
	struct config	cfg;
	char		spec[512];

	(void)state;
	config_defaults(&cfg);
	memset(spec, 'h', sizeof(spec));
	/* A host of exactly sizeof(listen_host) bytes leaves no room for the NUL. */
	snprintf(spec + sizeof(cfg.listen_host), sizeof(spec) - sizeof(cfg.listen_host), ":80");
	assert_int_equal(config_listen_parse(&cfg, spec), -1);
	assert_string_equal(cfg.listen_host, "127.0.0.1");

	/* One byte shorter fits. */
	memset(spec, 'h', sizeof(spec));
	snprintf(spec + sizeof(cfg.listen_host) - 1, sizeof(spec) - sizeof(cfg.listen_host) + 1,
	    ":80");
	assert_int_equal(config_listen_parse(&cfg, spec), 0);
	assert_int_equal(strlen(cfg.listen_host), sizeof(cfg.listen_host) - 1);
	assert_int_equal(cfg.listen_port, 80);
}

/* Set setting name to v through the settings table, as a file, TSKEY_ or flag would. */
static int
set(struct config *cfg, const char *name, const char *v)
{
	const struct config_setting	*s = config_setting_find(name, strlen(name));
	char				 why[256];

	assert_non_null(s);
	return config_value_set(cfg, s, v, why, sizeof(why));
}

static void
test_operating_settings(void **state)
{
	struct config	cfg;
	char		out[256];

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(cfg.log_format, LOG_FORMAT_TEXT);
	assert_int_equal(cfg.log_target, LOG_TARGET_STDERR);
	assert_string_equal(cfg.metrics_allow, "127.0.0.0/8,::1");
	assert_int_equal(set(&cfg, "log_format", "json"), 0);
	assert_int_equal(cfg.log_format, LOG_FORMAT_JSON);
	assert_int_equal(set(&cfg, "log_format", "logfmt"), 0);
	assert_int_equal(cfg.log_format, LOG_FORMAT_LOGFMT);
	config_value_format(&cfg, config_setting_find("log_format", 10), out, sizeof(out));
	assert_string_equal(out, "logfmt");
	assert_int_equal(set(&cfg, "log_target", "syslog"), 0);
	assert_int_equal(cfg.log_target, LOG_TARGET_SYSLOG);
	config_value_format(&cfg, config_setting_find("log_target", 10), out, sizeof(out));
	assert_string_equal(out, "syslog");
	/* not a word of the list, nor a part or an empty one of it */
	assert_int_equal(set(&cfg, "log_format", "yaml"), -1);
	assert_int_equal(set(&cfg, "log_format", "json|"), -1);
	assert_int_equal(set(&cfg, "log_format", "jso"), -1);
	assert_int_equal(set(&cfg, "log_target", ""), -1);
	assert_int_equal(cfg.log_format, LOG_FORMAT_LOGFMT);
	assert_int_equal(set(&cfg, "metrics_allow", "10.0.0.0/8, 2001:db8::/32"), 0);
	assert_string_equal(cfg.metrics_allow, "10.0.0.0/8, 2001:db8::/32");
	assert_int_equal(set(&cfg, "metrics_allow", "10.0.0.1/33"), -1);
	assert_int_equal(set(&cfg, "metrics_allow", "example.com"), -1);
	assert_string_equal(cfg.metrics_allow, "10.0.0.0/8, 2001:db8::/32");
	/* "" is no one (rest_ops.c), not ipallow's everyone */
	assert_int_equal(set(&cfg, "metrics_allow", ""), 0);
	assert_string_equal(cfg.metrics_allow, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_env_db),
		cmocka_unit_test(test_file_values),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_file_missing),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_validate_tls_pair),
		cmocka_unit_test(test_reload_merge),
		cmocka_unit_test(test_listen_parse),
		cmocka_unit_test(test_listen_rejects),
		cmocka_unit_test(test_listen_host_too_long),
		cmocka_unit_test(test_operating_settings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
