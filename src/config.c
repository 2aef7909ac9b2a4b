/* SPDX-License-Identifier: MIT */
/* Defaults for struct config and the parsing of its compound values. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipallow.h"

void
config_defaults(struct config *cfg)
{
	const char	*db = getenv("TSKEY_DB");

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->db_path, sizeof(cfg->db_path), "%s",
	    db != NULL && *db != '\0' ? db : "./tskey.db");
	snprintf(cfg->listen_host, sizeof(cfg->listen_host), "127.0.0.1");
	cfg->listen_port = 8080;
	cfg->max_conns = 1024;
	cfg->max_conns_per_client = 256;
	cfg->login_max_failures = 5;
	cfg->store_pool = 16;
	cfg->recv_timeout = 15;
	cfg->send_timeout = 15;
	cfg->max_keep_alive = 1000;
	cfg->max_body = 1024 * 1024;
	cfg->max_xml_depth = 32;
	cfg->max_string = 65536;
	cfg->session_idle = 4 * 3600;	/* TrackRoad's legacy docs: 4 hours after the last call */
	cfg->touch_slack = 60;
	cfg->demo = 1;
	cfg->max_active_keys = 100;	/* TrackVia's limit */
	cfg->api_user_login = 1;
	cfg->usage_flush_ms = 1000;
	cfg->rate_max_keys = 100000;
	cfg->log_format = LOG_FORMAT_TEXT;
	cfg->log_target = LOG_TARGET_STDERR;
	/* Metrics show the server's internals: loopback only unless the operator says more. */
	snprintf(cfg->metrics_allow, sizeof(cfg->metrics_allow), "127.0.0.0/8,::1");
	for (int i = 0; i < TSK_OP__COUNT; i++)
		cfg->op_cost[i] = ops_info((enum tsk_op)i)->cost;
}

int
config_cost_parse(struct config *cfg, const char *spec)
{
	char		 name[32], *end;
	const char	*eq = strchr(spec, '=');
	enum tsk_op	 op;
	long long	 v;

	if (eq == NULL || (size_t)(eq - spec) >= sizeof(name) || eq[1] < '0' || eq[1] > '9')
		return -1;
	snprintf(name, sizeof(name), "%.*s", (int)(eq - spec), spec);
	v = strtoll(eq + 1, &end, 10);
	if (*end != '\0' || v < 0 || v > 1000000 || ops_by_name(name, &op) != 0)
		return -1;
	cfg->op_cost[op] = v;
	return 0;
}

int
config_listen_parse(struct config *cfg, const char *spec)
{
	const char	*colon;
	char		*end;
	size_t		 hostlen;
	long		 port;

	colon = strrchr(spec, ':');
	if (colon == NULL)
		return -1;
	hostlen = (size_t)(colon - spec);
	if (hostlen >= 2 && spec[0] == '[' && spec[hostlen - 1] == ']') {
		spec++;		/* [::1]:8080 */
		hostlen -= 2;
		if (hostlen == 0)
			return -1;
	}
	if (hostlen >= sizeof(cfg->listen_host))
		return -1;
	/* Digits only: strtol alone would take " 80" and "+80". */
	if (colon[1] < '0' || colon[1] > '9')
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 0 || port > 65535)
		return -1;
	if (hostlen == 0)
		snprintf(cfg->listen_host, sizeof(cfg->listen_host), "127.0.0.1");
	else
		snprintf(cfg->listen_host, sizeof(cfg->listen_host), "%.*s", (int)hostlen, spec);
	cfg->listen_port = (int)port;
	return 0;
}

int
config_log_format_parse(struct config *cfg, const char *spec)
{
	return log_format_parse(spec, &cfg->log_format);
}

int
config_log_target_parse(struct config *cfg, const char *spec)
{
	return log_target_parse(spec, &cfg->log_target);
}

int
config_metrics_allow_parse(struct config *cfg, const char *spec)
{
	/* Empty would read as "everyone" to ipallow: opening metrics up must name the networks. */
	if (*spec == '\0' || ipallow_valid(spec) != 0 || strlen(spec) >= sizeof(cfg->metrics_allow))
		return -1;
	snprintf(cfg->metrics_allow, sizeof(cfg->metrics_allow), "%s", spec);
	return 0;
}
