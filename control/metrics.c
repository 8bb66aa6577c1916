/* SPDX-License-Identifier: Apache-2.0 */
/* The /metrics endpoint on the control thread: a small strict HTTP/1.1
 * server (GET only, one request per connection, bounded clients, request
 * size and time). The body of a scrape comes from the render callback
 * (ctl_metrics.c), written with the exposition helpers of mx.c. Never called
 * from a core or a worker. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/assert.h"
#include "common/clock.h"
#include "common/log.h"
#include "control/metrics.h"

enum metrics_route
metrics_route(const char *head, size_t len)
{
	const char *eol = memchr(head, '\r', len);
	const char *sp1, *sp2;
	size_t line;

	if (eol == NULL || eol + 1 >= head + len || eol[1] != '\n')
		return METRICS_ROUTE_BAD;
	line = (size_t)(eol - head);
	sp1 = memchr(head, ' ', line);
	if (sp1 == NULL || sp1 == head)
		return METRICS_ROUTE_BAD;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (sp2 == NULL || sp2 == sp1 + 1 || (size_t)(eol - sp2 - 1) != 8 ||
	    memcmp(sp2 + 1, "HTTP/1.", 7) != 0 || (sp2[8] != '0' && sp2[8] != '1'))
		return METRICS_ROUTE_BAD;
	if (sp1 - head != 3 || memcmp(head, "GET", 3) != 0)
		return METRICS_ROUTE_METHOD;
	if (sp2 - sp1 - 1 != 8 || memcmp(sp1 + 1, "/metrics", 8) != 0)
		return METRICS_ROUTE_NOT_FOUND;
	return METRICS_ROUTE_METRICS;
}

struct metrics_client {
	int fd;                         /* -1: free */
	uint32_t in_len;
	char in[METRICS_REQUEST_MAX];
	struct mx_buf out;              /* the whole response once the head is in */
	size_t out_off;
	uint64_t deadline_ms;
};

struct metrics {
	int listen_fd;
	uint16_t port;
	metrics_render_fn *render;
	void *arg;
	int client_count;
	struct metrics_client clients[METRICS_CLIENTS_MAX];
};

static uint64_t
metrics_now_ms(void)
{
	return clock_mono_ns() / 1000000u;
}

struct metrics *
metrics_create(const char *host, uint16_t port, metrics_render_fn *render, void *arg,
	       char *err, size_t err_size)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct addrinfo *ai = NULL;
	struct metrics *m;
	char svc[8];
	int one = 1, rc;

	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	m->render = render;
	m->arg = arg;
	for (int i = 0; i < METRICS_CLIENTS_MAX; i++)
		m->clients[i].fd = -1;
	snprintf(svc, sizeof(svc), "%u", port);
	rc = getaddrinfo(host[0] != '\0' ? host : NULL, svc, &hints, &ai);
	if (rc != 0) {
		snprintf(err, err_size, "%s:%u: %s", host, port, gai_strerror(rc));
		free(m);
		return NULL;
	}
	m->listen_fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->listen_fd < 0 ||
	    setsockopt(m->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(m->listen_fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(m->listen_fd, 64) != 0 ||
	    getsockname(m->listen_fd, (struct sockaddr *)&ss, &sl) != 0) {
		snprintf(err, err_size, "%s:%u: %s", host, port, strerror(errno));
		if (m->listen_fd >= 0)
			close(m->listen_fd);
		freeaddrinfo(ai);
		free(m);
		return NULL;
	}
	freeaddrinfo(ai);
	m->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						  : ((struct sockaddr_in *)&ss)->sin_port);
	return m;
}

uint16_t
metrics_port(const struct metrics *m)
{
	return m->port;
}

static void
metrics_client_close(struct metrics *m, struct metrics_client *c)
{
	close(c->fd);
	c->fd = -1;
	c->in_len = 0;
	mx_buf_free(&c->out);
	c->out_off = 0;
	m->client_count--;
}

int
metrics_pollfds(const struct metrics *m, struct pollfd *pfd)
{
	int n = 0;

	/* A full table leaves new scrapers in the listen backlog. */
	pfd[n++] = (struct pollfd){ .fd = m->client_count < METRICS_CLIENTS_MAX ? m->listen_fd
									      : -1,
				    .events = POLLIN };
	for (int i = 0; i < METRICS_CLIENTS_MAX; i++) {
		const struct metrics_client *c = &m->clients[i];

		if (c->fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = c->fd,
						    .events = c->out.len > 0 ? POLLOUT : POLLIN };
	}
	return n;
}

static const char *
metrics_status_text(enum metrics_route r)
{
	switch (r) {
	case METRICS_ROUTE_METRICS:
		return "200 OK";
	case METRICS_ROUTE_NOT_FOUND:
		return "404 Not Found";
	case METRICS_ROUTE_METHOD:
		return "405 Method Not Allowed";
	case METRICS_ROUTE_BAD:
	default:
		return "400 Bad Request";
	}
}

/* Build the whole response (head and body) into c->out. status 431 is the
 * only one not from metrics_route(). */
static void
metrics_respond(struct metrics *m, struct metrics_client *c, int status)
{
	struct mx_buf body = { 0 };
	const char *type = "text/plain; charset=utf-8";
	const char *text;

	if (status == METRICS_ROUTE_METRICS) {
		m->render(m->arg, &body);
		type = "text/plain; version=0.0.4; charset=utf-8";
	}
	if (status == 431)
		text = "431 Request Header Fields Too Large";
	else
		text = metrics_status_text((enum metrics_route)status);
	if (status != METRICS_ROUTE_METRICS)
		mx_printf(&body, "%s\n", text);
	if (body.oom) {
		mx_buf_free(&body);
		text = "500 Internal Server Error";
		type = "text/plain; charset=utf-8";
	}
	mx_printf(&c->out, "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
		  "Connection: close\r\n\r\n", text, type, body.len,
		  status == METRICS_ROUTE_METHOD ? "Allow: GET\r\n" : "");
	mx_write(&c->out, body.data, body.len);
	mx_buf_free(&body);
}

static void
metrics_read(struct metrics *m, struct metrics_client *c)
{
	ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len, 0);
	char *end;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		metrics_client_close(m, c);
		return;
	}
	c->in_len += (uint32_t)n;
	c->in[c->in_len] = '\0';
	end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
	if (end != NULL)
		metrics_respond(m, c, metrics_route(c->in, (size_t)(end - c->in) + 4));
	else if (c->in_len == sizeof(c->in) - 1)
		metrics_respond(m, c, 431);
	if (c->out.oom)
		metrics_client_close(m, c);
	else if (c->out.len > 0)
		shutdown(c->fd, SHUT_RD);       /* one request per connection */
}

static void
metrics_write(struct metrics *m, struct metrics_client *c)
{
	ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		metrics_client_close(m, c);
		return;
	}
	c->out_off += (size_t)n;
	if (c->out_off == c->out.len)
		metrics_client_close(m, c);
}

static void
metrics_accept(struct metrics *m)
{
	while (m->client_count < METRICS_CLIENTS_MAX) {
		int fd = accept4(m->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		int i;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("metrics", "accept: %s", strerror(errno));
			return;
		}
		for (i = 0; m->clients[i].fd >= 0; i++)
			ASSERT(i + 1 < METRICS_CLIENTS_MAX);
		m->clients[i].fd = fd;
		m->clients[i].deadline_ms = metrics_now_ms() + METRICS_CLIENT_TIMEOUT_MS;
		m->client_count++;
	}
}

void
metrics_serve(struct metrics *m, const struct pollfd *pfd, int count)
{
	uint64_t now = metrics_now_ms();

	for (int k = 1; k < count; k++) {
		for (int i = 0; i < METRICS_CLIENTS_MAX; i++) {
			struct metrics_client *c = &m->clients[i];

			if (c->fd != pfd[k].fd || pfd[k].revents == 0)
				continue;
			if (c->out.len > 0)
				metrics_write(m, c);
			else
				metrics_read(m, c);
			break;
		}
	}
	for (int i = 0; i < METRICS_CLIENTS_MAX; i++)
		if (m->clients[i].fd >= 0 && now > m->clients[i].deadline_ms)
			metrics_client_close(m, &m->clients[i]);
	if (count > 0 && pfd[0].fd >= 0 && (pfd[0].revents & POLLIN))
		metrics_accept(m);
}

void
metrics_destroy(struct metrics *m)
{
	if (m == NULL)
		return;
	for (int i = 0; i < METRICS_CLIENTS_MAX; i++)
		if (m->clients[i].fd >= 0)
			metrics_client_close(m, &m->clients[i]);
	close(m->listen_fd);
	free(m);
}
