/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/metrics.c and common/hist.h without a broker: histogram
 * bucketing at the bounds, the exposition text (label escaping, cumulative
 * buckets, +Inf, _sum in seconds, _count) compared byte for byte, request
 * routing of the HTTP server, and one real scrape over loopback through
 * metrics_create()/metrics_serve() with a stub renderer. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control/metrics.h"

Test(hist, bucket_bounds_are_inclusive)
{
	cr_assert_eq(hist_bucket(0), 0);
	cr_assert_eq(hist_bucket(50000), 0);
	cr_assert_eq(hist_bucket(50001), 1);
	cr_assert_eq(hist_bucket(10000000000ull), HIST_BOUNDS - 1);
	cr_assert_eq(hist_bucket(10000000001ull), HIST_BOUNDS);
	cr_assert_eq(hist_bucket(UINT64_MAX), HIST_BOUNDS);
	for (unsigned i = 1; i < HIST_BOUNDS; i++)
		cr_assert_gt(hist_bounds_ns[i], hist_bounds_ns[i - 1]);
}

Test(hist, add_and_read)
{
	struct hist h = { 0 }, sum = { 0 };

	hist_add(&h, 1000);             /* 1us: first bucket */
	hist_add(&h, 2000000);          /* 2ms: le 0.0025 */
	hist_add(&h, 20000000000ull);   /* 20s: +Inf */
	hist_read_add(&sum, &h);
	hist_read_add(&sum, &h);
	cr_assert_eq(sum.count[0], 2);
	cr_assert_eq(sum.count[hist_bucket(2000000)], 2);
	cr_assert_eq(sum.count[HIST_BOUNDS], 2);
	cr_assert_eq(sum.sum_ns, 2 * (1000 + 2000000 + 20000000000ull));
}

Test(exposition, family_and_escaped_labels)
{
	struct mx_buf b = { 0 };
	const char *l[] = { "topic", "a\"b\\c\nd", "partition", "3", NULL };

	mx_family(&b, "spillway_x_total", "counter", "Things.");
	mx_sample(&b, "spillway_x_total", l, 42);
	mx_sample(&b, "spillway_x_total", NULL, 0.5);
	cr_assert_not(b.oom);
	cr_assert_str_eq(b.data, "# HELP spillway_x_total Things.\n"
			 "# TYPE spillway_x_total counter\n"
			 "spillway_x_total{topic=\"a\\\"b\\\\c\\nd\",partition=\"3\"} 42\n"
			 "spillway_x_total 0.5\n");
	mx_buf_free(&b);
}

Test(exposition, histogram_is_cumulative)
{
	struct mx_buf b = { 0 };
	struct hist h = { 0 };
	const char *l[] = { "api", "Produce", NULL };
	char line[128];

	hist_add(&h, 40000);            /* le 5e-05 */
	hist_add(&h, 40000);
	hist_add(&h, 3000000);          /* le 0.005 */
	hist_add(&h, 30000000000ull);   /* +Inf */
	mx_histogram(&b, "spillway_d_seconds", l, &h);
	cr_assert_not(b.oom);
#define B "spillway_d_seconds_bucket"
	cr_assert_not_null(strstr(b.data, B "{api=\"Produce\",le=\"5e-05\"} 2\n"));
	cr_assert_not_null(strstr(b.data, B "{api=\"Produce\",le=\"0.0025\"} 2\n"));
	cr_assert_not_null(strstr(b.data, B "{api=\"Produce\",le=\"0.005\"} 3\n"));
	cr_assert_not_null(strstr(b.data, B "{api=\"Produce\",le=\"10\"} 3\n"));
	cr_assert_not_null(strstr(b.data, B "{api=\"Produce\",le=\"+Inf\"} 4\n"));
#undef B
	snprintf(line, sizeof(line), "spillway_d_seconds_sum{api=\"Produce\"} %.9g\n",
		 (40000 * 2 + 3000000 + 30000000000.0) / 1e9);
	cr_assert_not_null(strstr(b.data, line), "%s", b.data);
	cr_assert_not_null(strstr(b.data, "spillway_d_seconds_count{api=\"Produce\"} 4\n"));
	mx_buf_free(&b);
}

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
