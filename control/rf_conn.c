/* SPDX-License-Identifier: Apache-2.0 */
/* The replica fetcher's connection to one leader broker: a kernel TCP
 * socket (non-blocking; connect and send wait in poll() bounded by
 * replica.socket.timeout.ms), Kafka framing with the generated codec, one
 * request in flight at a time, ApiVersions first to pick the Fetch and
 * OffsetForLeaderEpoch versions, and on any error: close, back off
 * replica.fetch.backoff.ms, reconnect. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/assert.h"
#include "common/clock.h"
#include "common/log.h"
#include "control/rf_int.h"
#include "protocol/gen/kp_api.h"
#include "protocol/gen/kp_msg_api_versions.h"
#include "protocol/gen/kp_msg_header.h"

#define RF_API_VERSIONS_VERSION 3

struct rf_conn *
rf_conn_get(struct rf *rf, int32_t leader_id, const char *host, int32_t port)
{
	struct rf_conn *free_conn = NULL;
	uint32_t i;

	for (i = 0; i < rf->conn_cap; i++) {
		struct rf_conn *c = &rf->conns[i];

		if (!c->used) {
			if (free_conn == NULL)
				free_conn = c;
			continue;
		}
		if (c->leader_id == leader_id && c->port == port && strcmp(c->host, host) == 0) {
			c->users++;
			return c;
		}
	}
	if (free_conn == NULL) {
		/* A fixed table (rf_create): partitions point at their entry. */
		log_error("rf", "more than %u leader connections", rf->conn_cap);
		return NULL;
	}
	memset(free_conn, 0, sizeof(*free_conn));
	free_conn->used = true;
	free_conn->leader_id = leader_id;
	snprintf(free_conn->host, sizeof(free_conn->host), "%s", host);
	free_conn->port = port;
	free_conn->fd = -1;
	free_conn->inflight_api = -1;
	free_conn->users = 1;
	return free_conn;
}

static void
rf_conn_close(struct rf *rf, struct rf_conn *conn)
{
	uint32_t i;

	if (conn->fd >= 0)
		close(conn->fd);
	conn->fd = -1;
	conn->state = RF_C_DOWN;
	conn->inflight_api = -1;
	conn->rx_len = 0;
	for (i = 0; i < conn->ref_count; i++) {
		struct rf_part *p = &rf->parts[conn->refs[i].slot];

		if (p->used && p->gen == conn->refs[i].gen)
			p->in_request = false;
	}
	conn->ref_count = 0;
}

void
rf_conn_put(struct rf *rf, struct rf_conn *conn)
{
	ASSERT(conn->users > 0);
	if (--conn->users > 0)
		return;
	rf_conn_close(rf, conn);
	free(conn->refs);
	free(conn->rx);
	memset(conn, 0, sizeof(*conn));
	conn->fd = -1;
}

void
rf_conn_fail(struct rf *rf, struct rf_conn *conn, const char *why)
{
	log_line(conn->failures++ == 0 ? LOG_WARN : LOG_DEBUG, "rf",
		 "leader %d at %s:%d: %s; reconnecting in %d ms", conn->leader_id, conn->host,
		 conn->port, why, rf->cfg.backoff_ms);
	rf_conn_close(rf, conn);
	conn->retry_ns = clock_mono_ns() + (uint64_t)rf->cfg.backoff_ms * 1000000ull;
}

/* Wait for events on fd until deadline; 1 ready, 0 timed out, -1 error. */
static int
rf_wait(int fd, short events, uint64_t deadline_ns)
{
	for (;;) {
		uint64_t now = clock_mono_ns();
		struct pollfd pfd = { .fd = fd, .events = events };
		int n;

		if (now >= deadline_ns)
			return 0;
		n = poll(&pfd, 1, (int)((deadline_ns - now) / 1000000u) + 1);
		if (n > 0)
			return (pfd.revents & (POLLERR | POLLNVAL)) != 0 &&
			       (pfd.revents & events) == 0 ? -1 : 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* Begin a non-blocking connect to the leader's first address: 0 connected
 * or in progress (state set), -1 failed. */
static int
rf_connect(struct rf *rf, struct rf_conn *conn, uint64_t now_ns)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	char port[16];
	int fd, one = 1, rc;

	snprintf(port, sizeof(port), "%d", conn->port);
	if (getaddrinfo(conn->host, port, &hints, &res) != 0 || res == NULL)
		return -1;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	rc = fd < 0 ? -1 : connect(fd, res->ai_addr, res->ai_addrlen);
	if (fd >= 0 && rc < 0 && errno != EINPROGRESS) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	conn->fd = fd;
	conn->state = RF_C_CONNECTING;
	conn->deadline_ns = now_ns + (uint64_t)rf->cfg.socket_timeout_ms * 1000000ull;
	return 0;
}

void
rf_conn_open(struct rf *rf, struct rf_conn *conn, uint64_t now_ns)
{
	if (conn->state != RF_C_DOWN || now_ns < conn->retry_ns)
		return;
	if (rf_connect(rf, conn, now_ns) < 0)
		rf_conn_fail(rf, conn, "connect failed");
}

void
rf_conn_connected(struct rf *rf, struct rf_conn *conn)
{
	struct kp_api_versions_request req;
	struct kp_writer w;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	ASSERT(conn->state == RF_C_CONNECTING);
	if (getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
		rf_conn_fail(rf, conn, "connect failed");
		return;
	}
	conn->state = RF_C_VERSIONS;
	kp_api_versions_request_init(&req);
	req.client_software_name = kp_str_c("spillway");
	req.client_software_version = kp_str_c("1");
	kp_writer_init(&w, 64);
	kp_api_versions_request_encode(&w, RF_API_VERSIONS_VERSION, &req);
	if (w.err == 0)
		(void)rf_conn_send(rf, conn, KP_API_API_VERSIONS, RF_API_VERSIONS_VERSION, w.buf,
				   w.len);
	else
		rf_conn_fail(rf, conn, "ApiVersions encode failed");
	kp_writer_free(&w);
}

static int
rf_write_all(struct rf *rf, struct rf_conn *conn, const uint8_t *p, size_t n)
{
	uint64_t deadline = clock_mono_ns() + (uint64_t)rf->cfg.socket_timeout_ms * 1000000ull;

	while (n > 0) {
		ssize_t k = send(conn->fd, p, n, MSG_NOSIGNAL);

		if (k > 0) {
			p += k;
			n -= (size_t)k;
		} else if (k < 0 && errno == EINTR) {
			continue;
		} else if (k < 0 && errno == EAGAIN) {
			if (rf_wait(conn->fd, POLLOUT, deadline) != 1)
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

int
rf_conn_send(struct rf *rf, struct rf_conn *conn, int16_t api, int16_t version,
	     const uint8_t *body, size_t body_len)
{
	struct kp_request_header hdr;
	struct kp_writer w;
	int rc;

	ASSERT(conn->fd >= 0);
	ASSERT(conn->inflight_api == -1);
	kp_request_header_init(&hdr);
	hdr.request_api_key = api;
	hdr.request_api_version = version;
	hdr.correlation_id = ++conn->corr;
	hdr.client_id = kp_str_c(rf->client_id);
	kp_writer_init(&w, 64 + body_len);
	kp_write_i32(&w, 0);
	kp_request_header_encode(&w, kp_request_header_version(api, version), &hdr);
	kp_write_raw(&w, body, body_len);
	if (w.err != 0 || w.len - 4 > INT32_MAX) {
		kp_writer_free(&w);
		rf_conn_fail(rf, conn, "request encode failed");
		return -1;
	}
	kp_write_put_i32(&w, 0, (int32_t)(w.len - 4));
	rc = rf_write_all(rf, conn, w.buf, w.len);
	kp_writer_free(&w);
	if (rc < 0) {
		rf_conn_fail(rf, conn, "send failed");
		return -1;
	}
	conn->inflight_api = api;
	conn->inflight_version = version;
	conn->deadline_ns = clock_mono_ns() + ((uint64_t)rf->cfg.socket_timeout_ms +
					       (uint64_t)rf->cfg.fetch_wait_max_ms) * 1000000ull;
	return 0;
}

static int
rf_rx_reserve(struct rf_conn *conn, uint32_t need)
{
	uint8_t *nb;
	uint32_t cap = conn->rx_cap == 0 ? 4096 : conn->rx_cap;

	if (need <= conn->rx_cap)
		return 0;
	while (cap < need)
		cap = cap > UINT32_MAX / 2 ? need : cap * 2;
	nb = realloc(conn->rx, cap);
	if (nb == NULL)
		return -1;
	conn->rx = nb;
	conn->rx_cap = cap;
	return 0;
}

/* The frame size bound: the fetch response limit plus slack. */
static uint32_t
rf_frame_max(const struct rf *rf)
{
	return (uint32_t)rf->cfg.fetch_max_bytes + RF_FRAME_SLACK_BYTES;
}

static int
rf_frame_parse(struct rf *rf, struct rf_conn *conn, const uint8_t **body, size_t *body_len)
{
	struct kp_cursor c = kp_cursor_make(conn->rx + 4, conn->rx_len - 4);
	struct kp_response_header hdr;
	int16_t hv = kp_response_header_version(conn->inflight_api, conn->inflight_version);

	if (kp_response_header_decode(&c, hv, &hdr) < 0 || hdr.correlation_id != conn->corr) {
		rf_conn_fail(rf, conn, "bad response header");
		return -1;
	}
	*body = c.pos;
	*body_len = kp_cursor_left(&c);
	return 1;
}

int
rf_conn_read(struct rf *rf, struct rf_conn *conn, const uint8_t **body, size_t *body_len)
{
	for (;;) {
		uint32_t need = 4;
		ssize_t k;

		if (conn->rx_len >= 4) {
			const uint8_t *b = conn->rx;
			uint32_t size = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
					((uint32_t)b[2] << 8) | b[3];

			if (size < 4 || size > rf_frame_max(rf)) {
				rf_conn_fail(rf, conn, "response frame size out of bounds");
				return -1;
			}
			need = size + 4;
			if (conn->rx_len == need)
				return rf_frame_parse(rf, conn, body, body_len);
		}
		if (rf_rx_reserve(conn, need) < 0) {
			rf_conn_fail(rf, conn, "out of memory");
			return -1;
		}
		k = recv(conn->fd, conn->rx + conn->rx_len, need - conn->rx_len, 0);
		if (k > 0) {
			conn->rx_len += (uint32_t)k;
			continue;
		}
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		rf_conn_fail(rf, conn, k == 0 ? "closed by the leader" : "receive failed");
		return -1;
	}
}

void
rf_conn_done(struct rf_conn *conn)
{
	conn->inflight_api = -1;
	conn->rx_len = 0;
	conn->ref_count = 0;
}

/* The highest version in [lo, hi] the leader's range [min, max] allows;
 * -1 when none. */
static int16_t
rf_pick(const struct kp_api_versions_response *resp, int16_t api, int16_t lo, int16_t hi)
{
	struct kp_cursor it = kp_array_cursor(&resp->api_keys);
	struct kp_api_versions_response_api_version av;
	int32_t i;

	for (i = 0; i < resp->api_keys.count; i++) {
		if (kp_api_versions_response_api_version_decode(&it, RF_API_VERSIONS_VERSION,
								&av) < 0)
			return -1;
		if (av.api_key != api)
			continue;
		if (av.max_version < lo || av.min_version > hi)
			return -1;
		return av.max_version < hi ? av.max_version : hi;
	}
	return -1;
}

int
rf_conn_versions(struct rf *rf, struct rf_conn *conn, const uint8_t *body, size_t len)
{
	struct kp_cursor c = kp_cursor_make(body, len);
	struct kp_api_versions_response resp;

	if (kp_api_versions_response_decode(&c, RF_API_VERSIONS_VERSION, &resp) < 0 ||
	    resp.error_code != 0) {
		rf_conn_fail(rf, conn, "ApiVersions failed");
		return -1;
	}
	conn->fetch_version = rf_pick(&resp, KP_API_FETCH, RF_FETCH_VERSION_MIN,
				      RF_FETCH_VERSION_MAX);
	conn->ofle_version = rf_pick(&resp, KP_API_OFFSET_FOR_LEADER_EPOCH, RF_OFLE_VERSION_MIN,
				     RF_OFLE_VERSION_MAX);
	conn->list_version = rf_pick(&resp, KP_API_LIST_OFFSETS, RF_LIST_VERSION_MIN,
				     RF_LIST_VERSION_MAX);
	if (conn->fetch_version < 0 || conn->ofle_version < 0) {
		rf_conn_fail(rf, conn, "the leader lacks Fetch v12+ or OffsetForLeaderEpoch v3+");
		return -1;
	}
	rf_conn_done(conn);
	conn->state = RF_C_READY;
	conn->failures = 0;
	log_info("rf", "leader %d at %s:%d: Fetch v%d, OffsetForLeaderEpoch v%d",
		 conn->leader_id, conn->host, conn->port, conn->fetch_version, conn->ofle_version);
	return 0;
}
