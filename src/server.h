/* SPDX-License-Identifier: MIT */
/* The HTTP/SOAP listener: serves SOAP and REST on one address until SIGTERM or SIGINT. */
#ifndef SERVER_H
#define SERVER_H

#include "config.h"
#include "storepool.h"

/* Called once the socket listens; port is the bound port (useful with port 0). */
typedef void	(*server_ready_fn)(const struct config *cfg, int port, void *arg);

/*
 * Bind cfg's address and serve until SIGTERM / SIGINT, then stop accepting, let open
 * connections finish (a few seconds at most) and return. The caller must block no signals
 * itself; this function blocks SIGTERM and SIGINT in the calling thread. Returns 0 after a
 * clean stop, -1 when the server could not start (logged), 1 when connections outlived the
 * drain (the caller should exit without freeing pool).
 */
int	server_run(const struct config *cfg, struct storepool *pool, server_ready_fn ready,
	    void *arg);

#endif
