/* SPDX-License-Identifier: MIT */
/*
 * The HTTP/SOAP listener: serves SOAP and REST on one address until SIGTERM or SIGINT; SIGHUP
 * reloads the settings that can change while serving.
 */
#ifndef SERVER_H
#define SERVER_H

#include "config.h"
#include "storepool.h"

/* Called once the socket listens; port is the bound port (useful with port 0). */
typedef void	(*server_ready_fn)(const struct config *cfg, int port, void *arg);

/*
 * On SIGHUP: fill *next with the settings as they would be read at start now (file,
 * environment, flags). 0, or -1 when they have errors (reported by the function; the running
 * settings stay). Runs on the server's signal thread.
 */
typedef int	(*server_reload_fn)(struct config *next, void *arg);

/*
 * Bind cfg's address and serve until SIGTERM / SIGINT, then stop accepting, let open
 * connections finish (a few seconds at most) and return. The caller must block no signals
 * itself; this function blocks SIGTERM, SIGINT and SIGHUP in the calling thread. On SIGHUP,
 * reload (NULL: none) makes new settings; those marked reloadable in config.c apply to the
 * next request on every connection, the others are logged as needing a restart. Returns 0 after a
 * clean stop, -1 when the server could not start (logged), 1 when connections outlived the
 * drain (the caller should exit without freeing pool).
 */
int	server_run(const struct config *cfg, struct storepool *pool, server_ready_fn ready,
	    server_reload_fn reload, void *arg);

#endif
