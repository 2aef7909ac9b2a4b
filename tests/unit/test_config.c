/* SPDX-License-Identifier: MIT */
/* Unit tests for src/config.c: the defaults (and TSKEY_DB) and the --listen syntax. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

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
test_defaults_env_db(void **state)
{
	struct config	cfg;

	(void)state;
	assert_int_equal(setenv("TSKEY_DB", "/var/lib/tskey/keys.db", 1), 0);
	config_defaults(&cfg);
	assert_string_equal(cfg.db_path, "/var/lib/tskey/keys.db");
	assert_int_equal(cfg.listen_port, 8080);

	/* Set but empty counts as unset. */
	assert_int_equal(setenv("TSKEY_DB", "", 1), 0);
	config_defaults(&cfg);
	assert_string_equal(cfg.db_path, "./tskey.db");
	assert_int_equal(unsetenv("TSKEY_DB"), 0);
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

static void
test_operating_settings(void **state)
{
	struct config	cfg;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(cfg.log_format, LOG_FORMAT_TEXT);
	assert_int_equal(cfg.log_target, LOG_TARGET_STDERR);
	assert_string_equal(cfg.metrics_allow, "127.0.0.0/8,::1");
	assert_int_equal(config_log_format_parse(&cfg, "json"), 0);
	assert_int_equal(cfg.log_format, LOG_FORMAT_JSON);
	assert_int_equal(config_log_target_parse(&cfg, "syslog"), 0);
	assert_int_equal(cfg.log_target, LOG_TARGET_SYSLOG);
	assert_int_equal(config_log_format_parse(&cfg, "yaml"), -1);
	assert_int_equal(cfg.log_format, LOG_FORMAT_JSON);
	assert_int_equal(config_metrics_allow_parse(&cfg, "10.0.0.0/8, 2001:db8::/32"), 0);
	assert_string_equal(cfg.metrics_allow, "10.0.0.0/8, 2001:db8::/32");
	/* "" would let everyone in (ipallow's empty list): refused, as are malformed lists. */
	assert_int_equal(config_metrics_allow_parse(&cfg, ""), -1);
	assert_int_equal(config_metrics_allow_parse(&cfg, "10.0.0.1/33"), -1);
	assert_int_equal(config_metrics_allow_parse(&cfg, "example.com"), -1);
	assert_string_equal(cfg.metrics_allow, "10.0.0.0/8, 2001:db8::/32");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_defaults_env_db),
		cmocka_unit_test(test_listen_parse),
		cmocka_unit_test(test_listen_rejects),
		cmocka_unit_test(test_listen_host_too_long),
		cmocka_unit_test(test_operating_settings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
