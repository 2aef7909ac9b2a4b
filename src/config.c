/* SPDX-License-Identifier: MIT */
/* Defaults for struct config and the parsing of its compound values. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
