/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/metrics.c without a broker: request routing of the HTTP
 * server, and one real scrape over loopback through
 * metrics_create()/metrics_serve() with a stub renderer. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control/metrics.h"

Test(http, routes)
{
#define R(s) metrics_route(s, strlen(s))
	cr_assert_eq(R("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), METRICS_ROUTE_METRICS);
	cr_assert_eq(R("GET /metrics HTTP/1.0\r\n\r\n"), METRICS_ROUTE_METRICS);
	cr_assert_eq(R("GET / HTTP/1.1\r\n\r\n"), METRICS_ROUTE_NOT_FOUND);
	cr_assert_eq(R("GET /metricsx HTTP/1.1\r\n\r\n"), METRICS_ROUTE_NOT_FOUND);
	cr_assert_eq(R("POST /metrics HTTP/1.1\r\n\r\n"), METRICS_ROUTE_METHOD);
	cr_assert_eq(R("HEAD /metrics HTTP/1.1\r\n\r\n"), METRICS_ROUTE_METHOD);
	cr_assert_eq(R("GET /metrics HTTP/2.0\r\n\r\n"), METRICS_ROUTE_BAD);
	cr_assert_eq(R("GET /metrics\r\n\r\n"), METRICS_ROUTE_BAD);
	cr_assert_eq(R("GET  HTTP/1.1\r\n\r\n"), METRICS_ROUTE_BAD);
	cr_assert_eq(R("garbage"), METRICS_ROUTE_BAD);
#undef R
}

static void
stub_render(void *arg, struct mx_buf *b)
{
	(*(int *)arg)++;
	mx_family(b, "spillway_up", "gauge", "Up.");
	mx_sample(b, "spillway_up", NULL, 1);
}

/* Send req to the server, pump metrics_serve() until the server closes,
 * return what came back in out. */
static void
exchange(struct metrics *m, const char *req, char *out, size_t size)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(metrics_port(m)) };
	size_t got = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	for (int turn = 0; turn < 1000; turn++) {
		struct pollfd pfd[METRICS_POLLFDS];
		int n = metrics_pollfds(m, pfd);
		ssize_t r;

		poll(pfd, (nfds_t)n, 10);
		metrics_serve(m, pfd, n);
		r = recv(fd, out + got, size - 1 - got, MSG_DONTWAIT);
		if (r == 0)
			break;
		if (r > 0)
			got += (size_t)r;
	}
	out[got] = '\0';
	close(fd);
}

Test(http, serves_over_loopback)
{
	char err[256], out[4096], big[METRICS_REQUEST_MAX + 64];
	int renders = 0;
	struct metrics *m = metrics_create("127.0.0.1", 0, stub_render, &renders, err,
					   sizeof(err));

	cr_assert_not_null(m, "%s", err);
	cr_assert_gt(metrics_port(m), 0);
	exchange(m, "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n", out, sizeof(out));
	cr_assert_eq(strncmp(out, "HTTP/1.1 200 OK\r\n", 17), 0, "%s", out);
	cr_assert_not_null(strstr(out, "version=0.0.4"));
	cr_assert_not_null(strstr(out, "\r\n\r\n# HELP spillway_up Up.\n"));
	cr_assert_eq(renders, 1);
	exchange(m, "GET /nope HTTP/1.1\r\n\r\n", out, sizeof(out));
	cr_assert_eq(strncmp(out, "HTTP/1.1 404 ", 13), 0, "%s", out);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	exchange(m, big, out, sizeof(out));
	cr_assert_eq(strncmp(out, "HTTP/1.1 431 ", 13), 0, "%s", out);
	cr_assert_eq(renders, 1);
	metrics_destroy(m);
}

Test(http, bind_failure_is_reported)
{
	char err[256] = "";
	int renders = 0;
	struct metrics *a = metrics_create("127.0.0.1", 0, stub_render, &renders, err,
					   sizeof(err));
	struct metrics *b;

	cr_assert_not_null(a);
	b = metrics_create("127.0.0.1", metrics_port(a), stub_render, &renders, err,
			   sizeof(err));
	cr_assert_null(b);
	cr_assert_not_null(strstr(err, "in use"), "%s", err);
	metrics_destroy(a);
}
