/* SPDX-License-Identifier: Apache-2.0 */
/* The Prometheus endpoint: a strict HTTP/1.1 GET-only server polled from
 * the control loop (non-blocking sockets, bounded clients and request size,
 * close after each response). The text exposition helpers it renders with
 * are mx.h's, included here. Runs on the control thread only; cores never
 * call in here. */
#ifndef CONTROL_METRICS_H
#define CONTROL_METRICS_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/mx.h"

#define METRICS_CLIENTS_MAX 16          /* scrapers served at once; more wait in the backlog */
#define METRICS_REQUEST_MAX 4096        /* request line + headers; longer: 431 */
#define METRICS_CLIENT_TIMEOUT_MS 10000 /* a client slower than this is dropped */
#define METRICS_POLLFDS (1 + METRICS_CLIENTS_MAX)

/* What a complete request head asks for. */
enum metrics_route {
	METRICS_ROUTE_METRICS = 200,    /* GET /metrics */
	METRICS_ROUTE_BAD = 400,        /* not an HTTP/1.x request line */
	METRICS_ROUTE_NOT_FOUND = 404,
	METRICS_ROUTE_METHOD = 405,     /* not GET (HEAD included) */
};

/* Parse a request head (bytes up to and including the blank line). */
enum metrics_route metrics_route(const char *head, size_t len);

struct metrics;
/* Render the body of one scrape into b. @thread control */
typedef void metrics_render_fn(void *arg, struct mx_buf *b);

/* Listen on host:port (port 0: any free one). NULL with err set.
 * @thread control */
struct metrics *metrics_create(const char *host, uint16_t port, metrics_render_fn *render,
			       void *arg, char *err, size_t err_size);
uint16_t metrics_port(const struct metrics *m);
/* Fill up to METRICS_POLLFDS entries to poll; returns how many. */
int metrics_pollfds(const struct metrics *m, struct pollfd *pfd);
/* Act on what poll() reported for the entries metrics_pollfds() filled. */
void metrics_serve(struct metrics *m, const struct pollfd *pfd, int count);
void metrics_destroy(struct metrics *m);

#endif
