/* SPDX-License-Identifier: Apache-2.0 */
/* End-to-end test of dataplane/ with the io_uring backend: a real dp on
 * 127.0.0.1, port 0, 2 cores, driven through real sockets. kp_dispatch() is
 * a test double defined here (echo the correlation id; api_key 19 is
 * forwarded to control, 98 gets no reply, 99 is a protocol error), and the
 * test plays control: it answers forwarded requests late and in reverse
 * order, so later local replies are ready first and ordering is exercised. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "common/be.h"
#include "dataplane/dp.h"
#include "dataplane/dp_int.h"    /* a backend whose enable fails */

#define API_LOCAL 18
#define API_FORWARD 19
#define API_NO_REPLY 98
#define API_CLOSE 99
#define FWD_NO_REPLY_VERSION 1  /* forwarded, and control answers NO_REPLY */
#define FWD_PARK_VERSION 2      /* forwarded, and control answers once released */
#define BYTES_MAX (1u << 20)

/* Response: size prefix 12 | correlation id | api_key | request length. */
static struct kp_buf
make_reply(const uint8_t *frame, uint32_t len)
{
	struct kp_buf buf = { .data = malloc(16), .len = 16 };

	be_write32(buf.data, 12);
	memcpy(buf.data + 4, frame + 4, 4);
	be_write32(buf.data + 8, (uint32_t)(frame[0] << 8 | frame[1]));
	be_write32(buf.data + 12, len);
	return buf;
}

/* The listener and protocol of the last request dispatched on a core,
 * as listener << 8 | protocol (relaxed atomics). */
static int last_session = -1;

/* The test double for protocol's kp_dispatch(). */
enum kp_verdict
kp_dispatch(const struct kp_env *env, const uint8_t *frame, uint32_t len, struct kp_out *out)
{
	uint16_t api_key = (uint16_t)(frame[0] << 8 | frame[1]);

	cr_assert_not_null(env->md);
	cr_assert_not_null(env->session);
	__atomic_store_n(&last_session, env->session->listener << 8 | env->session->protocol,
			 __ATOMIC_RELAXED);
	cr_assert_geq(len, 8u);
	cr_assert_leq(len, env->request_bytes_max);
	switch (api_key) {
	case API_FORWARD:
		out->fwd.data = malloc(len);
		memcpy(out->fwd.data, frame, len);
		out->fwd.len = len;
		return KP_VERDICT_FORWARD;
	case API_NO_REPLY:
		return KP_VERDICT_NO_REPLY;
	case API_CLOSE:
		return KP_VERDICT_CLOSE;
	default:
		out->resp = make_reply(frame, len);
		return KP_VERDICT_REPLY;
	}
}

/* ---- the test's control thread ---- */

#define HELD_MAX 4096

static struct {
	struct dp *dp;
	pthread_t thread;
	int stop;               /* atomics: set by the test, read by control */
	int gate;               /* 1: hold every forwarded request */
	int forwarded;          /* count of requests seen */
	int peer_bad;           /* requests whose peer was not "/127.0.0.1" */
	int release;            /* 1: answer the parked request */
	bool parked_set;
	int parked_core;
	struct dp_msg parked;   /* a FWD_PARK_VERSION request (one at a time) */
	struct dp_msg held[HELD_MAX];
	int held_core[HELD_MAX];
	int held_count;
	uint64_t first_ns;
} ctl;

static struct kp_md test_md = { .broker_id = 1, .epoch = 1 };

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
ctl_answer(int core, struct dp_msg *req)
{
	struct dp_msg msg = {
		.conn_id = req->conn_id, .conn_gen = req->conn_gen, .seq = req->seq,
	};

	if (req->buf.data[3] == FWD_NO_REPLY_VERSION) {
		msg.type = DP_MSG_NO_REPLY;
	} else {
		msg.type = DP_MSG_REPLY;
		msg.buf = make_reply(req->buf.data, req->buf.len);
	}
	free(req->buf.data);
	while (!dp_ctl_send(ctl.dp, core, &msg))
		usleep(100);
}

/* Collect forwarded requests; 20 ms after the first of a batch (so later
 * local replies are long ready), answer the batch in reverse order. */
static void *
ctl_main(void *arg)
{
	struct pollfd pfd = { .fd = dp_ctl_eventfd(ctl.dp), .events = POLLIN };
	struct dp_msg msg;
	eventfd_t val;
	int core, i;

	(void)arg;
	while (!__atomic_load_n(&ctl.stop, __ATOMIC_ACQUIRE)) {
		poll(&pfd, 1, 5);
		eventfd_read(pfd.fd, &val);
		for (core = 0; core < dp_core_count(ctl.dp); core++) {
			while (ctl.held_count < HELD_MAX && dp_ctl_recv(ctl.dp, core, &msg)) {
				char host[DP_PEER_TEXT_MAX];
				struct kp_session session;

				cr_assert_eq(msg.type, DP_MSG_REQUEST);
				dp_ctl_session(&msg, &session);
				if (dp_ctl_peer_format(&msg, host) != 10 ||
				    strcmp(host, "/127.0.0.1") != 0 ||
				    strcmp(session.host, "127.0.0.1") != 0 ||
				    strcmp(session.principal, KP_PRINCIPAL_ANONYMOUS) != 0 ||
				    !session.authenticated)
					__atomic_fetch_add(&ctl.peer_bad, 1, __ATOMIC_RELAXED);
				if (msg.buf.data[3] == FWD_PARK_VERSION && !ctl.parked_set) {
					ctl.parked_set = true;
					ctl.parked_core = core;
					ctl.parked = msg;
					__atomic_fetch_add(&ctl.forwarded, 1, __ATOMIC_RELAXED);
					continue;
				}
				if (ctl.held_count == 0)
					ctl.first_ns = now_ns();
				ctl.held_core[ctl.held_count] = core;
				ctl.held[ctl.held_count++] = msg;
				__atomic_fetch_add(&ctl.forwarded, 1, __ATOMIC_RELAXED);
			}
		}
		if (ctl.parked_set && __atomic_load_n(&ctl.release, __ATOMIC_ACQUIRE)) {
			ctl_answer(ctl.parked_core, &ctl.parked);
			ctl.parked_set = false;
		}
		if (ctl.held_count == 0 || __atomic_load_n(&ctl.gate, __ATOMIC_ACQUIRE) ||
		    now_ns() - ctl.first_ns < 20000000ull)
			continue;
		for (i = ctl.held_count - 1; i >= 0; i--)
			ctl_answer(ctl.held_core[i], &ctl.held[i]);
		ctl.held_count = 0;
	}
	for (i = 0; i < ctl.held_count; i++)
		free(ctl.held[i].buf.data);
	ctl.held_count = 0;
	if (ctl.parked_set)
		free(ctl.parked.buf.data);
	ctl.parked_set = false;
	return NULL;
}

static struct dp *
start_cfg(const struct dp_config *cfg)
{
	struct dp *dp = dp_create(cfg);

	cr_assert_not_null(dp);
	cr_assert_neq(dp_bound_port(dp), 0);
	dp_ctl_md_publish(dp, &test_md);
	cr_assert_eq(dp_start(dp), 0);
	memset(&ctl, 0, sizeof(ctl));
	ctl.dp = dp;
	cr_assert_eq(pthread_create(&ctl.thread, NULL, ctl_main, NULL), 0);
	return dp;
}

static struct dp *
start(uint32_t inflight_max, uint32_t connections_max)
{
	struct dp_config cfg = {
		.listen_host = "127.0.0.1", .listen_port = 0, .core_count = 2,
		.request_bytes_max = BYTES_MAX, .inflight_max = inflight_max,
		.connections_max = connections_max, .backlog = 128,
	};

	return start_cfg(&cfg);
}

static void
stop(struct dp *dp)
{
	dp_stop(dp);
	__atomic_store_n(&ctl.stop, 1, __ATOMIC_RELEASE);
	pthread_join(ctl.thread, NULL);
	dp_destroy(dp);
}

/* ---- client side ---- */

static int
client_port(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { .tv_sec = 10 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;

	cr_assert_geq(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static int
client(struct dp *dp)
{
	return client_port(dp_bound_port(dp));
}

static void
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		cr_assert_gt(w, 0, "write: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
}

/* Encode one request (body_len >= 8) into buf; returns its size. */
static size_t
put_req(uint8_t *buf, uint16_t api_key, uint16_t version, uint32_t corr, uint32_t body_len)
{
	be_write32(buf, body_len);
	buf[4] = (uint8_t)(api_key >> 8);
	buf[5] = (uint8_t)api_key;
	buf[6] = (uint8_t)(version >> 8);
	buf[7] = (uint8_t)version;
	be_write32(buf + 8, corr);
	memset(buf + 12, 0x5a, body_len - 8);
	return 4 + body_len;
}

/* Read one reply; false on EOF or error. */
static bool
read_reply(int fd, uint32_t *corr, uint32_t *api_key, uint32_t *req_len)
{
	uint8_t buf[16];
	size_t have = 0;

	while (have < sizeof(buf)) {
		ssize_t r = read(fd, buf + have, sizeof(buf) - have);

		if (r <= 0)
			return false;
		have += (size_t)r;
	}
	cr_assert_eq(be_read32(buf), 12u);
	*corr = be_read32(buf + 4);
	*api_key = be_read32(buf + 8);
	*req_len = be_read32(buf + 12);
	return true;
}

static void
expect_reply(int fd, uint32_t corr, uint32_t api_key)
{
	uint32_t c, k, l;

	cr_assert(read_reply(fd, &c, &k, &l), "reply for corr %u missing", corr);
	cr_assert_eq(c, corr);
	cr_assert_eq(k, api_key);
}

static bool
is_closed(int fd)
{
	uint8_t b;
	ssize_t r = read(fd, &b, 1);

	return r == 0 || (r < 0 && errno == ECONNRESET);
}

static void
wait_stat(struct dp *dp, size_t offset, uint64_t want)
{
	struct dp_stats s;
	uint64_t got = 0;
	int i;

	for (i = 0; i < 500; i++) {
		dp_stats_read(dp, &s);
		memcpy(&got, (char *)&s + offset, sizeof(got));
		if (got == want)
			return;
		usleep(10000);
	}
	cr_assert_fail("stat at %zu is %lu, never reached %lu", offset, (unsigned long)got,
		       (unsigned long)want);
}

/* ---- tests ---- */

Test(dp, pipelined_requests_reply_in_order, .timeout = 60)
{
	struct dp *dp = start(64, 16);
	static uint8_t buf[200 * 64];
	size_t n = 0;
	uint32_t i;
	int fd = client(dp);

	/* Every third request goes to control and is answered late and in
	 * reverse; the locals between them are ready first. */
	for (i = 0; i < 200; i++) {
		uint16_t api = i % 3 == 0 ? API_FORWARD : i % 7 == 0 ? API_NO_REPLY : API_LOCAL;

		n += put_req(buf + n, api, 0, i, 8 + i % 40);
	}
	write_all(fd, buf, n);
	for (i = 0; i < 200; i++) {
		if (i % 3 != 0 && i % 7 == 0)
			continue;       /* no reply expected */
		expect_reply(fd, i, i % 3 == 0 ? API_FORWARD : API_LOCAL);
	}
	/* Each forwarded request carried its client's address to control. */
	cr_assert_eq(__atomic_load_n(&ctl.forwarded, __ATOMIC_RELAXED), 67);
	cr_assert_eq(__atomic_load_n(&ctl.peer_bad, __ATOMIC_RELAXED), 0);
	close(fd);
	stop(dp);
}

Test(dp, forwarded_no_reply_and_large_frames, .timeout = 60)
{
	struct dp *dp = start(8, 16);
	size_t big = 100000;    /* spans several 16 KiB provided buffers */
	uint8_t *buf = malloc(big + 64);
	uint32_t c, k, l;
	size_t n = 0, i;
	int fd = client(dp);

	n += put_req(buf + n, API_FORWARD, FWD_NO_REPLY_VERSION, 1, 8);
	n += put_req(buf + n, API_LOCAL, 0, 2, (uint32_t)big);
	write_all(fd, buf, n);
	cr_assert(read_reply(fd, &c, &k, &l));
	cr_assert_eq(c, 2);
	cr_assert_eq(l, big, "the assembled frame has every byte");
	/* One byte at a time: split prefix, split body. */
	n = put_req(buf, API_LOCAL, 0, 3, 30);
	for (i = 0; i < n; i++) {
		write_all(fd, buf + i, 1);
		usleep(1000);
	}
	expect_reply(fd, 3, API_LOCAL);
	free(buf);
	close(fd);
	stop(dp);
}

Test(dp, bad_frames_close_only_their_connection, .timeout = 60)
{
	struct dp *dp = start(16, 16);
	static const int32_t bad[] = { (int32_t)BYTES_MAX + 1, 7, -5 };
	uint8_t buf[64];
	int good = client(dp);
	size_t i;

	write_all(good, buf, put_req(buf, API_LOCAL, 0, 100, 8));
	expect_reply(good, 100, API_LOCAL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = client(dp);

		/* A good request first, then the bad size prefix. (Kafka may
		 * drop replies still queued when it closes, so wait for it.) */
		write_all(fd, buf, put_req(buf, API_LOCAL, 0, 1, 8));
		expect_reply(fd, 1, API_LOCAL);
		be_write32(buf, (uint32_t)bad[i]);
		memset(buf + 4, 0, 8);
		write_all(fd, buf, 12);
		cr_assert(is_closed(fd), "size %d must close the connection", bad[i]);
		close(fd);
		/* The other connection keeps working. */
		write_all(good, buf, put_req(buf, API_LOCAL, 0, 101 + (uint32_t)i, 8));
		expect_reply(good, 101 + (uint32_t)i, API_LOCAL);
	}
	{
		int fd = client(dp);    /* KP_VERDICT_CLOSE from dispatch */

		write_all(fd, buf, put_req(buf, API_CLOSE, 0, 1, 8));
		cr_assert(is_closed(fd));
		close(fd);
	}
	wait_stat(dp, offsetof(struct dp_stats, protocol_errors), 4);
	write_all(good, buf, put_req(buf, API_LOCAL, 0, 200, 8));
	expect_reply(good, 200, API_LOCAL);
	close(good);
	wait_stat(dp, offsetof(struct dp_stats, connections_open), 0);
	stop(dp);
}

Test(dp, inflight_limit_stops_reads_without_losing_requests, .timeout = 60)
{
	struct dp *dp = start(4, 16);
	static uint8_t buf[64 * 40];
	struct dp_stats s;
	size_t n = 0;
	uint32_t i;
	int fd = client(dp);

	__atomic_store_n(&ctl.gate, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 4; i++)
		n += put_req(buf + n, API_FORWARD, 0, i, 8);
	for (i = 4; i < 40; i++)
		n += put_req(buf + n, API_LOCAL, 0, i, 8 + i);
	write_all(fd, buf, n);
	/* Four forwarded requests fill the window; nothing else may be
	 * dispatched while control holds them. */
	while (__atomic_load_n(&ctl.forwarded, __ATOMIC_RELAXED) < 4)
		usleep(1000);
	usleep(100000);
	dp_stats_read(dp, &s);
	cr_assert_eq(s.requests, 4, "dispatched %lu with the window full",
		     (unsigned long)s.requests);
	__atomic_store_n(&ctl.gate, 0, __ATOMIC_RELEASE);
	for (i = 0; i < 40; i++)
		expect_reply(fd, i, i < 4 ? API_FORWARD : API_LOCAL);
	dp_stats_read(dp, &s);
	cr_assert_eq(s.requests, 40);
	close(fd);
	stop(dp);
}

/* Beyond the table, connections wait in the listen backlog unanswered (as
 * Kafka's acceptor leaves them) and are taken in as entries free up. Two
 * cores of two entries; SO_REUSEPORT spreads the clients over the cores'
 * listen sockets by a keyed hash, so the count must leave each core at least
 * two of them all but certainly: with twelve, one core got a single client
 * once in ~160 runs (a CI failure, "stat is 3, never reached 4"); with
 * CLIENTS (32) that is 2 * 33 / 2^32. */
#define CLIENTS 32
Test(dp, connections_beyond_capacity_wait_in_the_backlog, .timeout = 60)
{
	struct dp *dp = start(4, 2);
	struct timeval short_tv = { .tv_usec = 200000 };
	bool answered[CLIENTS] = { false };
	uint8_t buf[64];
	struct dp_stats s;
	int fds[CLIENTS], i, served = 0;
	time_t until;

	for (i = 0; i < CLIENTS; i++)
		fds[i] = client(dp);
	wait_stat(dp, offsetof(struct dp_stats, connections_accepted), 4);
	for (i = 0; i < CLIENTS; i++) {
		uint32_t c, k, l;

		setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &short_tv, sizeof(short_tv));
		send(fds[i], buf, put_req(buf, API_LOCAL, 0, (uint32_t)i, 8), MSG_NOSIGNAL);
		if (read_reply(fds[i], &c, &k, &l)) {
			cr_assert_eq(c, (uint32_t)i);
			answered[i] = true;
			served++;
		}
	}
	cr_assert_eq(served, 4, "%d served with a table of 4", served);
	dp_stats_read(dp, &s);
	cr_assert_eq(s.connections_accepted, 4);
	cr_assert_eq(s.connections_rejected, 0);
	/* The served ones leave: each core takes in up to two of the clients
	 * waiting on its listen socket, and answers their requests. */
	for (i = 0; i < CLIENTS; i++) {
		struct timeval tv = { .tv_usec = 1000 };

		if (answered[i]) {
			close(fds[i]);
			fds[i] = -1;
		} else {
			setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		}
	}
	served = 0;
	until = time(NULL) + 8;
	while (time(NULL) < until && served < 4) {
		for (i = 0; i < CLIENTS; i++) {
			uint32_t c, k, l;

			if (fds[i] >= 0 && !answered[i] && read_reply(fds[i], &c, &k, &l)) {
				cr_assert_eq(c, (uint32_t)i);
				answered[i] = true;
				served++;
			}
		}
		usleep(20000);
	}
	cr_assert(served >= 2 && served <= 4, "%d waiting connections served", served);
	dp_stats_read(dp, &s);
	cr_assert_eq(s.connections_accepted, 4 + (uint64_t)served);
	cr_assert_eq(s.connections_rejected, 0);
	for (i = 0; i < CLIENTS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	stop(dp);
}

Test(dp, stop_with_requests_pending_at_control, .timeout = 60)
{
	struct dp *dp = start(8, 16);
	uint8_t buf[256];
	size_t n = 0;
	uint32_t i;
	int fd[2] = { client(dp), client(dp) };

	__atomic_store_n(&ctl.gate, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 4; i++)
		n += put_req(buf + n, i % 2 ? API_FORWARD : API_LOCAL, 0, i, 8);
	write_all(fd[0], buf, n);
	write_all(fd[1], buf, n);
	while (__atomic_load_n(&ctl.forwarded, __ATOMIC_RELAXED) < 4)
		usleep(1000);
	expect_reply(fd[0], 0, API_LOCAL);
	expect_reply(fd[1], 0, API_LOCAL);
	stop(dp);       /* held requests and queued replies are freed, not leaked */
	cr_assert(is_closed(fd[0]));
	close(fd[0]);
	close(fd[1]);
}

/* A request control parks (the group coordinator's JoinGroup) holds back
 * only its own connection's later replies: another connection is served
 * meanwhile, and the late reply, when it comes long after, goes out first
 * and the held ones follow in request order. */
Test(dp, parked_request_holds_only_its_connection, .timeout = 60)
{
	struct dp *dp = start(8, 16);
	struct pollfd pfd;
	uint8_t buf[256];
	size_t n = 0;
	int a = client(dp), b = client(dp);

	n += put_req(buf + n, API_FORWARD, FWD_PARK_VERSION, 1, 8);
	n += put_req(buf + n, API_LOCAL, 0, 2, 8);
	n += put_req(buf + n, API_FORWARD, 0, 3, 8);
	write_all(a, buf, n);
	while (__atomic_load_n(&ctl.forwarded, __ATOMIC_RELAXED) < 2)
		usleep(1000);
	n = put_req(buf, API_FORWARD, 0, 10, 8);
	n += put_req(buf + n, API_LOCAL, 0, 11, 8);
	write_all(b, buf, n);
	expect_reply(b, 10, API_FORWARD);
	expect_reply(b, 11, API_LOCAL);
	pfd = (struct pollfd){ .fd = a, .events = POLLIN };
	cr_assert_eq(poll(&pfd, 1, 200), 0, "nothing for a while its first is parked");
	__atomic_store_n(&ctl.release, 1, __ATOMIC_RELEASE);
	expect_reply(a, 1, API_FORWARD);
	expect_reply(a, 2, API_LOCAL);
	expect_reply(a, 3, API_FORWARD);
	close(a);
	close(b);
	stop(dp);
}

Test(dp, late_reply_after_close_is_dropped, .timeout = 60)
{
	struct dp *dp = start(8, 16);
	uint8_t buf[64];
	int fd = client(dp), fd2;

	__atomic_store_n(&ctl.gate, 1, __ATOMIC_RELEASE);
	write_all(fd, buf, put_req(buf, API_FORWARD, 0, 7, 8));
	while (__atomic_load_n(&ctl.forwarded, __ATOMIC_RELAXED) < 1)
		usleep(1000);
	close(fd);
	wait_stat(dp, offsetof(struct dp_stats, connections_closed), 1);
	/* A new connection may reuse the table entry; the stale reply must not
	 * reach it (generation check). */
	fd2 = client(dp);
	__atomic_store_n(&ctl.gate, 0, __ATOMIC_RELEASE);
	usleep(100000);
	write_all(fd2, buf, put_req(buf, API_LOCAL, 0, 8, 8));
	expect_reply(fd2, 8, API_LOCAL);
	close(fd2);
	stop(dp);
}

static int
enable_fails(struct dp_core *core)
{
	(void)core;
	return -ENOMEM;
}

/* An operating error on a core thread (its backend cannot be enabled) is
 * reported by dp_start(), which stops the cores it started: no abort. */
Test(dp, core_that_cannot_enable_fails_start, .timeout = 60)
{
	struct dp_config cfg = {
		.listen_host = "127.0.0.1", .listen_port = 0, .core_count = 2,
		.request_bytes_max = BYTES_MAX, .inflight_max = 8,
		.connections_max = 16, .backlog = 128,
	};
	struct dp *dp = dp_create(&cfg);
	struct dp_net failing;

	cr_assert_not_null(dp);
	dp_ctl_md_publish(dp, &test_md);
	failing = *dp->cores[1].net;
	failing.enable = enable_fails;
	dp->cores[1].net = &failing;
	cr_assert_eq(dp_start(dp), -ENOMEM);
	cr_assert(!dp->started);
	dp_stop(dp);    /* nothing left to stop */
	dp_destroy(dp);
}

/* Every core accepts on every listener (each on its own ephemeral port);
 * a connection's session names the listener it came in on and that
 * listener's protocol. */
Test(dp, sessions_name_their_listener, .timeout = 60)
{
	const struct dp_listener listeners[] = {
		{ .name = "INTERNAL", .host = "127.0.0.1", .port = 0,
		  .protocol = KP_SEC_PLAINTEXT },
		{ .name = "EXTERNAL", .host = "127.0.0.1", .port = 0,
		  .protocol = KP_SEC_SASL_PLAINTEXT },
		{ .name = "ANY", .host = "", .port = 0, .protocol = KP_SEC_PLAINTEXT },
	};
	struct dp_config cfg = {
		.listeners = listeners, .listener_count = 3, .core_count = 2,
		.request_bytes_max = BYTES_MAX, .inflight_max = 8, .connections_max = 16,
		.backlog = 128,
	};
	struct dp *dp = start_cfg(&cfg);
	uint8_t buf[64];

	cr_assert_eq(dp_listener_count(dp), 3);
	cr_assert_eq(dp_bound_port(dp), dp_listener_port(dp, 0));
	cr_assert_neq(dp_listener_port(dp, 0), dp_listener_port(dp, 1));
	for (int round = 0; round < 4; round++) {
		for (int l = 0; l < 3; l++) {
			int fd = client_port(dp_listener_port(dp, l));

			write_all(fd, buf, put_req(buf, API_LOCAL, 0, (uint32_t)l, 16));
			expect_reply(fd, (uint32_t)l, API_LOCAL);
			cr_assert_eq(__atomic_load_n(&last_session, __ATOMIC_RELAXED),
				     l << 8 | listeners[l].protocol);
			close(fd);
		}
	}
	stop(dp);
}

/* A full table leaves every listener's new connections in its backlog (the
 * other listeners' armed accepts are cancelled), and a free entry serves
 * whichever listener has one waiting. */
Test(dp, full_table_holds_every_listener, .timeout = 60)
{
	const struct dp_listener listeners[] = {
		{ .name = "A", .host = "127.0.0.1", .port = 0, .protocol = KP_SEC_PLAINTEXT },
		{ .name = "B", .host = "127.0.0.1", .port = 0, .protocol = KP_SEC_PLAINTEXT },
	};
	struct dp_config cfg = {
		.listeners = listeners, .listener_count = 2, .core_count = 1,
		.request_bytes_max = BYTES_MAX, .inflight_max = 8, .connections_max = 1,
		.backlog = 16,
	};
	struct dp *dp = start_cfg(&cfg);
	struct timeval short_tv = { .tv_usec = 300000 };
	uint32_t c, k, l;
	uint8_t buf[64];
	struct dp_stats s;
	int a, b, c2;

	a = client_port(dp_listener_port(dp, 0));
	write_all(a, buf, put_req(buf, API_LOCAL, 0, 1, 8));
	expect_reply(a, 1, API_LOCAL);
	b = client_port(dp_listener_port(dp, 1));
	setsockopt(b, SOL_SOCKET, SO_RCVTIMEO, &short_tv, sizeof(short_tv));
	write_all(b, buf, put_req(buf, API_LOCAL, 0, 2, 8));
	cr_assert_not(read_reply(b, &c, &k, &l), "listener B served beyond a table of 1");
	dp_stats_read(dp, &s);
	cr_assert_eq(s.connections_accepted, 1);
	cr_assert_eq(s.connections_rejected, 0, "B's accept was cancelled, not refused");
	close(a);
	short_tv.tv_sec = 5;
	setsockopt(b, SOL_SOCKET, SO_RCVTIMEO, &short_tv, sizeof(short_tv));
	cr_assert(read_reply(b, &c, &k, &l), "B waits for the free entry");
	cr_assert_eq(c, 2);
	c2 = client_port(dp_listener_port(dp, 0));
	short_tv.tv_sec = 0;
	setsockopt(c2, SOL_SOCKET, SO_RCVTIMEO, &short_tv, sizeof(short_tv));
	write_all(c2, buf, put_req(buf, API_LOCAL, 0, 3, 8));
	cr_assert_not(read_reply(c2, &c, &k, &l), "listener A served beyond a table of 1");
	close(b);
	short_tv.tv_sec = 5;
	setsockopt(c2, SOL_SOCKET, SO_RCVTIMEO, &short_tv, sizeof(short_tv));
	cr_assert(read_reply(c2, &c, &k, &l));
	cr_assert_eq(c, 3);
	dp_stats_read(dp, &s);
	cr_assert_eq(s.connections_accepted, 3);
	cr_assert_eq(s.connections_rejected, 0);
	close(c2);
	stop(dp);
}
