/* SPDX-License-Identifier: Apache-2.0 */
/* The /metrics endpoint on the control thread: a small strict HTTP/1.1
 * server (GET only, one request per connection, bounded clients, request
 * size and time), the text exposition helpers, and the scrape itself, which
 * reads the cores' counters with relaxed loads and asks the storage workers
 * for their statistics (blocking). Never called from a core or a worker. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/assert.h"
#include "common/clock.h"
#include "common/compiler.h"
#include "common/log.h"
#include "control/ctl_int.h"
#include "control/ctl_sched.h"
#include "control/metrics.h"
#include "protocol/gen/kp_api.h"
#include "storage/st.h"

/* ---- exposition ---- */

void
mx_buf_free(struct mx_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static bool
mx_reserve(struct mx_buf *b, size_t more)
{
	size_t cap = b->cap == 0 ? 4096 : b->cap;
	char *data;

	if (b->oom)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	while (cap < b->len + more + 1)
		cap *= 2;
	data = realloc(b->data, cap);
	if (data == NULL) {
		b->oom = true;
		return false;
	}
	b->data = data;
	b->cap = cap;
	return true;
}

void
mx_printf(struct mx_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	ASSERT(n >= 0);
	if (!mx_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
mx_escape(struct mx_buf *b, const char *value, size_t len)
{
	if (!mx_reserve(b, len * 2))
		return;
	for (size_t i = 0; i < len; i++) {
		char c = value[i];

		if (c == '\\' || c == '"') {
			b->data[b->len++] = '\\';
			b->data[b->len++] = c;
		} else if (c == '\n') {
			b->data[b->len++] = '\\';
			b->data[b->len++] = 'n';
		} else {
			b->data[b->len++] = c;
		}
	}
	b->data[b->len] = '\0';
}

void
mx_family(struct mx_buf *b, const char *name, const char *type, const char *help)
{
	mx_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* {k="v",...} with an optional extra pair (le) at the end. */
static void
mx_labels(struct mx_buf *b, const char *const *labels, const char *extra_k, const char *extra_v)
{
	bool any = false;

	for (int i = 0; labels != NULL && labels[i] != NULL; i += 2) {
		mx_printf(b, "%s%s=\"", any ? "," : "{", labels[i]);
		mx_escape(b, labels[i + 1], strlen(labels[i + 1]));
		mx_printf(b, "\"");
		any = true;
	}
	if (extra_k != NULL) {
		mx_printf(b, "%s%s=\"%s\"", any ? "," : "{", extra_k, extra_v);
		any = true;
	}
	if (any)
		mx_printf(b, "}");
}

/* Integers print exactly (counters up to 2^53), others with 9 digits. */
static void
mx_value(struct mx_buf *b, double v)
{
	if (v >= -9007199254740992.0 && v <= 9007199254740992.0 && v == (double)(int64_t)v)
		mx_printf(b, " %lld\n", (long long)v);
	else
		mx_printf(b, " %.9g\n", v);
}

void
mx_sample(struct mx_buf *b, const char *name, const char *const *labels, double value)
{
	mx_printf(b, "%s", name);
	mx_labels(b, labels, NULL, NULL);
	mx_value(b, value);
}

void
mx_histogram(struct mx_buf *b, const char *name, const char *const *labels,
	     const struct hist *h)
{
	uint64_t cum = 0;
	char le[32];

	for (unsigned i = 0; i <= HIST_BOUNDS; i++) {
		cum += h->count[i];
		if (i < HIST_BOUNDS)
			snprintf(le, sizeof(le), "%g", (double)hist_bounds_ns[i] / 1e9);
		else
			snprintf(le, sizeof(le), "+Inf");
		mx_printf(b, "%s_bucket", name);
		mx_labels(b, labels, "le", le);
		mx_value(b, (double)cum);
	}
	mx_printf(b, "%s_sum", name);
	mx_labels(b, labels, NULL, NULL);
	mx_value(b, (double)h->sum_ns / 1e9);
	mx_printf(b, "%s_count", name);
	mx_labels(b, labels, NULL, NULL);
	mx_value(b, (double)cum);
}

/* ---- HTTP ---- */

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
	if (body.len > 0 && mx_reserve(&c->out, body.len)) {
		memcpy(c->out.data + c->out.len, body.data, body.len);
		c->out.len += body.len;
	}
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

/* ---- the scrape ---- */

struct ctl_scrape_part {
	const struct kp_md_topic *topic;        /* NULL: not in the snapshot (deleted) */
	struct st_partition_stats ps;
};

struct ctl_scrape {
	const struct kp_md *md;
	struct ctl_scrape_part *parts;
	size_t part_count;
	size_t part_cap;
	struct st_worker_stats *workers;
	int worker_count;
	bool oom;
};

static void
ctl_scrape_part(void *arg, const struct st_partition_stats *ps)
{
	struct ctl_scrape *s = arg;
	struct kp_uuid id;

	if (s->part_count == s->part_cap) {
		size_t cap = s->part_cap == 0 ? 64 : s->part_cap * 2;
		struct ctl_scrape_part *p = realloc(s->parts, cap * sizeof(*p));

		if (p == NULL) {
			s->oom = true;
			return;
		}
		s->parts = p;
		s->part_cap = cap;
	}
	memcpy(id.b, ps->topic_id, sizeof(id.b));
	s->parts[s->part_count].topic = kp_md_topic_by_id(s->md, &id);
	s->parts[s->part_count].ps = *ps;
	s->part_count++;
}

static void
ctl_scrape_worker(void *arg, const struct st_worker_stats *ws)
{
	struct ctl_scrape *s = arg;

	ASSERT(ws->worker >= 0 && ws->worker < s->worker_count);
	s->workers[ws->worker] = *ws;
}

/* By topic name, then partition: families list their samples in order. */
static int
ctl_scrape_cmp(const void *a, const void *b)
{
	const struct ctl_scrape_part *x = a, *y = b;
	int32_t n = x->topic->name.len < y->topic->name.len ? x->topic->name.len
							    : y->topic->name.len;
	int c = memcmp(x->topic->name.ptr, y->topic->name.ptr, (size_t)n);

	if (c != 0)
		return c;
	if (x->topic->name.len != y->topic->name.len)
		return x->topic->name.len < y->topic->name.len ? -1 : 1;
	return x->ps.partition < y->ps.partition ? -1 : x->ps.partition > y->ps.partition;
}

static void
ctl_render_api(struct ctl *ctl, struct mx_buf *b)
{
	static struct dp_api_stats api[DP_API_KEYS];    /* control only: not reentrant */
	char key[8];

	for (int k = 0; k < DP_API_KEYS; k++)
		dp_api_stats_read(ctl->dp, k, &api[k]);
	mx_family(b, "spillway_requests_total", "counter",
		  "Requests answered, by API (api_key for APIs without a name).");
	for (int k = 0; k < DP_API_KEYS; k++) {
		const struct kp_api_info *info = kp_api_info_get((int16_t)k);
		const char *l[] = { "api", key, NULL };

		if (api[k].requests == 0)
			continue;
		snprintf(key, sizeof(key), "%d", k);
		if (info != NULL)
			l[1] = info->name;
		mx_sample(b, "spillway_requests_total", l, (double)api[k].requests);
	}
	mx_family(b, "spillway_request_errors_total", "counter",
		  "Requests answered by closing the connection (malformed, unsupported or "
		  "refused), by API. Kafka error codes inside responses are not counted.");
	for (int k = 0; k < DP_API_KEYS; k++) {
		const struct kp_api_info *info = kp_api_info_get((int16_t)k);
		const char *l[] = { "api", key, NULL };

		if (api[k].requests == 0)
			continue;
		snprintf(key, sizeof(key), "%d", k);
		if (info != NULL)
			l[1] = info->name;
		mx_sample(b, "spillway_request_errors_total", l, (double)api[k].errors);
	}
	mx_family(b, "spillway_request_duration_seconds", "histogram",
		  "Time from dispatch to the response being queued, by API.");
	for (int k = 0; k < DP_API_KEYS; k++) {
		const struct kp_api_info *info = kp_api_info_get((int16_t)k);
		const char *l[] = { "api", key, NULL };

		if (api[k].requests == 0)
			continue;
		snprintf(key, sizeof(key), "%d", k);
		if (info != NULL)
			l[1] = info->name;
		mx_histogram(b, "spillway_request_duration_seconds", l, &api[k].latency);
	}
}

static void
ctl_render_cores(struct ctl *ctl, struct mx_buf *b)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} f[] = {
		{ "spillway_connections_open", "gauge", "Client connections open, by core.",
		  offsetof(struct dp_stats, connections_open) },
		{ "spillway_connections_accepted_total", "counter",
		  "Client connections accepted, by core.",
		  offsetof(struct dp_stats, connections_accepted) },
		{ "spillway_connections_closed_total", "counter",
		  "Client connections closed, by core.",
		  offsetof(struct dp_stats, connections_closed) },
		{ "spillway_connections_rejected_total", "counter",
		  "Connections closed at once by a limit (any reason), by core.",
		  offsetof(struct dp_stats, connections_rejected) },
		{ "spillway_connections_rejected_max_connections_total", "counter",
		  "Connections refused over max.connections, by core.",
		  offsetof(struct dp_stats, rejected_max) },
		{ "spillway_connections_rejected_per_ip_total", "counter",
		  "Connections refused over max.connections.per.ip, by core.",
		  offsetof(struct dp_stats, rejected_per_ip) },
		{ "spillway_connections_rejected_table_full_total", "counter",
		  "Connections refused because the core's table (spillway.connections.max) was "
		  "full, by core.", offsetof(struct dp_stats, rejected_table_full) },
		{ "spillway_connections_idle_closed_total", "counter",
		  "Connections closed after connections.max.idle.ms without traffic, by core.",
		  offsetof(struct dp_stats, connections_idle_closed) },
		{ "spillway_requests_waiting", "gauge",
		  "Requests waiting on storage or a long poll, by core.",
		  offsetof(struct dp_stats, requests_waiting) },
		{ "spillway_network_received_bytes_total", "counter",
		  "Bytes received from clients, by core.", offsetof(struct dp_stats, bytes_in) },
		{ "spillway_network_sent_bytes_total", "counter",
		  "Bytes sent to clients, by core.", offsetof(struct dp_stats, bytes_out) },
		{ "spillway_protocol_errors_total", "counter",
		  "Connections closed for a malformed frame or request, by core.",
		  offsetof(struct dp_stats, protocol_errors) },
	};
	int cores = dp_core_count(ctl->dp);
	char core[12];

	for (size_t i = 0; i < ARRAY_LEN(f); i++) {
		mx_family(b, f[i].name, f[i].type, f[i].help);
		for (int c = 0; c < cores; c++) {
			const char *l[] = { "core", core, NULL };
			struct dp_stats s;
			uint64_t v;

			dp_core_stats_read(ctl->dp, c, &s);
			memcpy(&v, (const char *)&s + f[i].off, sizeof(v));
			snprintf(core, sizeof(core), "%d", c);
			mx_sample(b, f[i].name, l, (double)v);
		}
	}
}

/* A topic name as a NUL-terminated label value (names are <= 249 bytes). */
static const char *
ctl_topic_name(const struct kp_md_topic *t, char *buf, size_t size)
{
	snprintf(buf, size, "%.*s", (int)t->name.len, t->name.ptr);
	return buf;
}

static void
ctl_render_partitions(struct ctl_scrape *s, struct mx_buf *b)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} f[] = {
		{ "spillway_log_start_offset", "gauge", "First offset kept in the partition log.",
		  offsetof(struct st_partition_stats, log_start_offset) },
		{ "spillway_log_end_offset", "gauge",
		  "Offset after the last record written (the high watermark).",
		  offsetof(struct st_partition_stats, log_end_offset) },
		{ "spillway_log_size_bytes", "gauge", "Bytes in the partition's segments.",
		  offsetof(struct st_partition_stats, size_bytes) },
	};
	char name[256], part[12];

	for (size_t i = 0; i < ARRAY_LEN(f); i++) {
		mx_family(b, f[i].name, f[i].type, f[i].help);
		for (size_t k = 0; k < s->part_count; k++) {
			const char *l[] = { "topic", name, "partition", part, NULL };
			int64_t v;

			memcpy(&v, (const char *)&s->parts[k].ps + f[i].off, sizeof(v));
			ctl_topic_name(s->parts[k].topic, name, sizeof(name));
			snprintf(part, sizeof(part), "%d", s->parts[k].ps.partition);
			mx_sample(b, f[i].name, l, (double)v);
		}
	}
}

/* Per-topic sums over the (sorted) partitions. */
static void
ctl_render_topics(struct ctl_scrape *s, struct mx_buf *b)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} f[] = {
		{ "spillway_topic_bytes_in_total", "Record batch bytes appended, by topic.",
		  offsetof(struct st_partition_stats, bytes_in) },
		{ "spillway_topic_records_in_total", "Records appended, by topic.",
		  offsetof(struct st_partition_stats, records_in) },
		{ "spillway_topic_bytes_out_total", "Log bytes handed to fetches, by topic.",
		  offsetof(struct st_partition_stats, bytes_out) },
	};
	char name[256];

	for (size_t i = 0; i < ARRAY_LEN(f); i++) {
		mx_family(b, f[i].name, "counter", f[i].help);
		for (size_t k = 0; k < s->part_count;) {
			const struct kp_md_topic *t = s->parts[k].topic;
			const char *l[] = { "topic", name, NULL };
			uint64_t sum = 0, v;

			ctl_topic_name(t, name, sizeof(name));
			for (; k < s->part_count && s->parts[k].topic == t; k++) {
				memcpy(&v, (const char *)&s->parts[k].ps + f[i].off, sizeof(v));
				sum += v;
			}
			mx_sample(b, f[i].name, l, (double)sum);
		}
	}
}

static void
ctl_render_workers(struct ctl_scrape *s, struct mx_buf *b)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} f[] = {
		{ "spillway_storage_queue_depth",
		  "Requests waiting in the rings from the cores to a storage worker.",
		  offsetof(struct st_worker_stats, queued) },
		{ "spillway_storage_appends_inflight",
		  "Appends a storage worker took and has not completed.",
		  offsetof(struct st_worker_stats, appends_inflight) },
		{ "spillway_storage_partitions", "Partition logs open on a storage worker.",
		  offsetof(struct st_worker_stats, partitions) },
	};
	char w[12];

	for (size_t i = 0; i < ARRAY_LEN(f); i++) {
		mx_family(b, f[i].name, "gauge", f[i].help);
		for (int k = 0; k < s->worker_count; k++) {
			const char *l[] = { "worker", w, NULL };
			uint32_t v;

			memcpy(&v, (const char *)&s->workers[k] + f[i].off, sizeof(v));
			snprintf(w, sizeof(w), "%d", k);
			mx_sample(b, f[i].name, l, (double)v);
		}
	}
	mx_family(b, "spillway_storage_fsync_duration_seconds", "histogram",
		  "fdatasync latency of partition log segments, by storage worker.");
	for (int k = 0; k < s->worker_count; k++) {
		const char *l[] = { "worker", w, NULL };

		snprintf(w, sizeof(w), "%d", k);
		mx_histogram(b, "spillway_storage_fsync_duration_seconds", l,
			     &s->workers[k].fsync);
	}
}

/* dp_net_stat_fn: one sample of the network backend; a family's TYPE and
 * HELP go out before its first sample. */
struct ctl_net_render {
	struct mx_buf *b;
	const char *family;
};

static void
ctl_render_net_one(void *arg, const char *family, const char *type, const char *help,
		   const char *label_key, const char *label_value, uint64_t value)
{
	struct ctl_net_render *r = arg;
	const char *l[] = { label_key, label_value, NULL };

	if (r->family == NULL || strcmp(r->family, family) != 0) {
		mx_family(r->b, family, type, help);
		r->family = family;
	}
	mx_sample(r->b, family, label_key != NULL ? l : NULL, (double)value);
}

/* The control thread's queue (ctl_sched.c): both return to 0 when idle. */
static void
ctl_render_control(struct ctl *ctl, struct mx_buf *b)
{
	mx_family(b, "spillway_control_requests_queued", "gauge",
		  "Forwarded (admin) requests taken from the cores, waiting for the control "
		  "thread.");
	mx_sample(b, "spillway_control_requests_queued", NULL,
		  ctl_sched_request_count(ctl->sched));
	mx_family(b, "spillway_control_replies_backlogged", "gauge",
		  "Control replies waiting for room in a core's ring.");
	mx_sample(b, "spillway_control_replies_backlogged", NULL,
		  ctl_sched_backlog_count(ctl->sched));
}

void
ctl_metrics_render(void *arg, struct mx_buf *b)
{
	struct ctl *ctl = arg;
	struct ctl_scrape s = { .md = ctl_md(ctl) };
	size_t kept = 0;
	int rc = 0;

	struct ctl_net_render net = { .b = b };

	ctl_render_api(ctl, b);
	ctl_render_cores(ctl, b);
	dp_net_stats(ctl->dp, ctl_render_net_one, &net);
	if (ctl->st != NULL) {
		s.worker_count = st_worker_count(ctl->st);
		s.workers = calloc((size_t)s.worker_count, sizeof(*s.workers));
		rc = s.workers == NULL ? -ENOMEM
				       : st_stats_collect(ctl->st, ctl_scrape_part,
							  ctl_scrape_worker, &s);
	}
	if (rc != 0 || s.oom) {
		log_warn("metrics", "storage statistics: %s", strerror(rc != 0 ? -rc : ENOMEM));
		s.part_count = 0;
		s.worker_count = 0;
	}
	for (size_t k = 0; k < s.part_count; k++)       /* drop deleted topics */
		if (s.parts[k].topic != NULL)
			s.parts[kept++] = s.parts[k];
	s.part_count = kept;
	if (s.part_count > 0)
		qsort(s.parts, s.part_count, sizeof(*s.parts), ctl_scrape_cmp);
	ctl_render_partitions(&s, b);
	ctl_render_topics(&s, b);
	ctl_render_workers(&s, b);
	ctl_render_control(ctl, b);
	/* No consumer groups exist yet: the family is declared, with no samples. */
	mx_family(b, "spillway_consumer_group_lag", "gauge",
		  "Log end offset minus the group's committed offset (no groups yet).");
	free(s.parts);
	free(s.workers);
}
