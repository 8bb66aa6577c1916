/* SPDX-License-Identifier: Apache-2.0 */
/* idle-fetchers: N idle consumers on one broker, as raw Kafka Fetch frames
 * on an epoll loop (no client library per connection), each long-polling an
 * empty partition the way librdkafka does (Fetch v11, min_bytes 1, next
 * Fetch as soon as one returns), plus one producer thread sending single-
 * record Produce requests at a fixed rate and timing produce->ack in
 * microseconds. Prints one JSON object; owns no pass/fail judgement. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_client.h"
#include "common/rbatch.h"
#include "hist.h"

#define CLIENT_ID "idle-fetchers"
#define REQ_BYTES_MAX 512
#define RX_BYTES 512
#define EVENTS_MAX 1024
#define PRODUCE_INFLIGHT_MAX 1024
#define RECORD_BYTES_MAX (1 << 20)
#define API_PRODUCE 0
#define API_FETCH 1

struct opts {
	struct sockaddr_in broker;
	struct sockaddr_in source;
	int has_source;
	const char *fetch_topic;
	const char *produce_topic;
	int fetch_partition;
	int produce_partition;
	int connections;
	int max_wait_ms;
	double connect_rate;
	double connect_timeout_s;
	double warmup_s;
	double duration_s;
	double produce_rate;
	int acks;
	int record_bytes;
};

/* One idle consumer: the Fetch it repeats and where its response stands. */
struct fetcher {
	int fd;
	uint8_t connected;
	int32_t correlation;
	uint64_t sent_us;
	uint32_t frame_bytes;	/* size of the response being read, 0 = none */
	uint32_t got_bytes;	/* of frame_bytes + 4 */
	uint8_t head[RX_BYTES];	/* the response's first bytes, for its errors */
};

struct fetch_stats {
	uint64_t connected;
	uint64_t connect_errors;
	uint64_t closed_by_broker;
	uint64_t responses;
	uint64_t errors;
	struct hist rtt;
};

struct produce_stats {
	uint64_t sent;
	uint64_t acked;
	uint64_t errors;
	uint64_t late;		/* sends more than 1 ms behind schedule */
	int closed;
	struct hist ack;
};

static struct opts o;
static _Atomic int stop_flag;
static _Atomic int measuring;

static void
on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop_flag, 1);
}

/* -- encoding ----------------------------------------------------------------- */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
};

static void
put(struct wbuf *w, const void *src, size_t n)
{
	if (w->len + n > w->cap)
		bench_client_die("encode", "buffer too small");
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void
put16(struct wbuf *w, int16_t v)
{
	uint16_t be = htons((uint16_t)v);

	put(w, &be, 2);
}

static void
put32(struct wbuf *w, int32_t v)
{
	uint32_t be = htonl((uint32_t)v);

	put(w, &be, 4);
}

static void
put64(struct wbuf *w, int64_t v)
{
	put32(w, (int32_t)((uint64_t)v >> 32));
	put32(w, (int32_t)(uint32_t)v);
}

static void
put_string(struct wbuf *w, const char *s)
{
	put16(w, (int16_t)strlen(s));
	put(w, s, strlen(s));
}

static void
put_varint(struct wbuf *w, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
	uint8_t b;

	while (z >= 0x80) {
		b = (uint8_t)(z | 0x80);
		put(w, &b, 1);
		z >>= 7;
	}
	b = (uint8_t)z;
	put(w, &b, 1);
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

static uint16_t
get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return ntohs(v);
}

/* Request header v1 after the size, which the caller patches in at 0. */
static void
put_header(struct wbuf *w, int16_t api, int16_t version, int32_t correlation)
{
	put32(w, 0);
	put16(w, api);
	put16(w, version);
	put32(w, correlation);
	put_string(w, CLIENT_ID);
}

static void
patch_size(struct wbuf *w)
{
	uint32_t be = htonl((uint32_t)(w->len - 4));

	memcpy(w->p, &be, 4);
}

/* Fetch v11 for offset 0 of the fetch partition: the request a librdkafka
 * 2.0 consumer sends, without a fetch session. */
static size_t
fetch_encode(uint8_t *buf, size_t cap, int32_t correlation)
{
	struct wbuf w = { buf, 0, cap };

	put_header(&w, API_FETCH, 11, correlation);
	put32(&w, -1);			/* replica id */
	put32(&w, o.max_wait_ms);
	put32(&w, 1);			/* min bytes */
	put32(&w, 52428800);		/* max bytes */
	put(&w, "\0", 1);		/* isolation: read uncommitted */
	put32(&w, 0);			/* session id */
	put32(&w, -1);			/* session epoch: no session */
	put32(&w, 1);
	put_string(&w, o.fetch_topic);
	put32(&w, 1);
	put32(&w, o.fetch_partition);
	put32(&w, -1);			/* current leader epoch */
	put64(&w, 0);			/* fetch offset */
	put64(&w, -1);			/* log start offset */
	put32(&w, 1048576);		/* partition max bytes */
	put32(&w, 0);			/* forgotten topics */
	put_string(&w, "");		/* rack id */
	patch_size(&w);
	return w.len;
}

/* Produce v7 of one record of o.record_bytes, acks o.acks. */
static size_t
produce_encode(uint8_t *buf, size_t cap, int32_t correlation, const uint8_t *value)
{
	static uint8_t rec[RECORD_BYTES_MAX + 64];
	struct wbuf w = { buf, 0, cap };
	struct wbuf rec_body;
	uint8_t lenbuf[16];
	struct wbuf reclen = { lenbuf, 0, sizeof(lenbuf) };
	size_t batch_at, crc_at;
	int64_t now_ms = (int64_t)time(NULL) * 1000;

	rec_body = (struct wbuf){ rec, 0, sizeof(rec) };
	put(&rec_body, "\0", 1);		/* attributes */
	put_varint(&rec_body, 0);		/* timestamp delta */
	put_varint(&rec_body, 0);		/* offset delta */
	put_varint(&rec_body, -1);		/* key: null */
	put_varint(&rec_body, o.record_bytes);
	put(&rec_body, value, (size_t)o.record_bytes);
	put_varint(&rec_body, 0);		/* headers */

	put_header(&w, API_PRODUCE, 7, correlation);
	put16(&w, -1);				/* transactional id: null */
	put16(&w, (int16_t)o.acks);
	put32(&w, 30000);
	put32(&w, 1);
	put_string(&w, o.produce_topic);
	put32(&w, 1);
	put32(&w, o.produce_partition);
	put32(&w, 0);				/* records size, patched below */
	batch_at = w.len;
	put64(&w, 0);				/* base offset */
	put32(&w, 0);				/* batch length, patched below */
	put32(&w, -1);				/* partition leader epoch */
	put(&w, "\2", 1);			/* magic */
	crc_at = w.len;
	put32(&w, 0);
	put16(&w, 0);				/* attributes */
	put32(&w, 0);				/* last offset delta */
	put64(&w, now_ms);
	put64(&w, now_ms);
	put64(&w, -1);				/* producer id */
	put16(&w, -1);
	put32(&w, -1);				/* base sequence */
	put32(&w, 1);				/* records */
	put_varint(&reclen, (int64_t)rec_body.len);
	put(&w, lenbuf, reclen.len);
	put(&w, rec, rec_body.len);
	{
		uint32_t records = htonl((uint32_t)(w.len - batch_at));
		uint32_t blen = htonl((uint32_t)(w.len - batch_at - 12));
		uint32_t crc;

		memcpy(w.p + batch_at - 4, &records, 4);
		memcpy(w.p + batch_at + 8, &blen, 4);
		crc = htonl(rbatch_crc_compute(w.p + batch_at, w.len - batch_at));
		memcpy(w.p + crc_at, &crc, 4);
	}
	patch_size(&w);
	return w.len;
}

/* -- the producer ---------------------------------------------------------------- */

static int
connect_to_broker(int nonblock, const struct sockaddr_in *source)
{
	int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
	int one = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (source != NULL && bind(fd, (const struct sockaddr *)source, sizeof(*source)) != 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (connect(fd, (const struct sockaddr *)&o.broker, sizeof(o.broker)) != 0 &&
	    errno != EINPROGRESS) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Reads one whole response on the blocking producer socket; 0 or -1. */
static int
read_response(int fd, uint8_t *buf, size_t cap, size_t *len)
{
	uint32_t size;
	size_t got = 0;

	while (got < 4) {
		ssize_t n = read(fd, buf + got, 4 - got);

		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	size = get32(buf);
	if (size < 4 || size > cap)
		return -1;
	got = 0;
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	*len = size;
	return 0;
}

/* The partition error of a Produce v7 response body (after the
 * correlation id): topics count, name, partitions count, index, error. */
static int
produce_error(const uint8_t *p, size_t len)
{
	size_t at;

	if (len < 6)
		return -1;
	at = 4 + 2 + get16(p + 4) + 4 + 4;
	if (len < at + 2)
		return -1;
	return (int16_t)get16(p + at);
}

/* Read one Produce answer, in order: its ack latency, acked or an error.
 * -1 (closed set) when the connection failed. */
static int
producer_answer(struct produce_stats *ps, int fd, uint8_t *resp, size_t cap,
		const uint64_t *sent_at, uint64_t head, uint64_t *tail)
{
	size_t len;

	if (read_response(fd, resp, cap, &len) != 0) {
		ps->closed = 1;
		return -1;
	}
	if (*tail < head)
		hist_record(&ps->ack, bench_client_mono_us() - sent_at[(*tail)++ %
								      PRODUCE_INFLIGHT_MAX]);
	if (produce_error(resp + 4, len - 4) != 0)
		ps->errors++;
	else
		ps->acked++;
	return 0;
}

/* Sends on schedule (open loop, several in flight), reads the acks in order. */
static void *
producer_run(void *arg)
{
	struct produce_stats *ps = arg;
	static uint8_t req[RECORD_BYTES_MAX + 1024], resp[65536], value[RECORD_BYTES_MAX];
	uint64_t sent_at[PRODUCE_INFLIGHT_MAX];
	uint64_t head = 0, tail = 0, start = 0, i = 0;
	int fd = connect_to_broker(0, NULL);

	memset(value, 'p', sizeof(value));
	if (fd < 0) {
		ps->closed = 1;
		return NULL;
	}
	while (!atomic_load(&stop_flag)) {
		uint64_t now = bench_client_mono_us(), due;
		struct pollfd pfd = { fd, POLLIN, 0 };
		int timeout_ms;

		if (!atomic_load(&measuring)) {
			usleep(1000);
			continue;
		}
		if (start == 0)
			start = now;
		due = start + (uint64_t)((double)i * 1e6 / o.produce_rate);
		if (now >= due && head - tail < PRODUCE_INFLIGHT_MAX) {
			size_t len = produce_encode(req, sizeof(req), (int32_t)i, value);

			if (now > due + 1000)
				ps->late++;
			sent_at[head++ % PRODUCE_INFLIGHT_MAX] = bench_client_mono_us();
			if (write(fd, req, len) != (ssize_t)len) {
				ps->closed = 1;
				break;
			}
			ps->sent++;
			i++;
			if (o.acks == 0)
				tail = head;
			continue;
		}
		timeout_ms = now >= due ? 1 : (int)((due - now) / 1000);
		if (poll(&pfd, 1, timeout_ms) > 0 &&
		    producer_answer(ps, fd, resp, sizeof(resp), sent_at, head, &tail) != 0)
			break;
	}
	/* Stopped: the requests still in flight get their answers (bounded),
	 * or one sent just before the stop would count as never acked. */
	for (uint64_t end = bench_client_mono_us() + 5000000;
	     !ps->closed && tail < head && bench_client_mono_us() < end;) {
		struct pollfd pfd = { fd, POLLIN, 0 };

		if (poll(&pfd, 1, 100) > 0 &&
		    producer_answer(ps, fd, resp, sizeof(resp), sent_at, head, &tail) != 0)
			break;
	}
	close(fd);
	return NULL;
}

/* -- the fetchers ------------------------------------------------------------------ */

static int
fetcher_send(struct fetcher *f)
{
	uint8_t req[REQ_BYTES_MAX];
	size_t len = fetch_encode(req, sizeof(req), ++f->correlation);

	f->sent_us = bench_client_mono_us();
	/* ~100 bytes into an empty socket buffer: one write is whole. */
	return write(f->fd, req, len) == (ssize_t)len ? 0 : -1;
}

/* A whole response is in: count it, check its errors, send the next Fetch. */
static int
fetcher_response(struct fetcher *f, struct fetch_stats *fs)
{
	const uint8_t *p = f->head + 4;
	size_t len = f->got_bytes - 4 < RX_BYTES - 4 ? f->got_bytes - 4 : RX_BYTES - 4;
	int err = 0;

	/* corr, throttle, error, session, topics, name, partitions, index, error */
	if (len >= 4 + 4 + 2 + 4 + 4 + 2) {
		uint16_t name_len = get16(p + 18);
		size_t at = 20 + name_len + 4 + 4;

		err = (int16_t)get16(p + 8);
		if (err == 0 && len >= at + 2)
			err = (int16_t)get16(p + at);
	}
	if ((int32_t)get32(p) != f->correlation || err != 0)
		fs->errors++;
	fs->responses++;
	if (atomic_load(&measuring))
		hist_record(&fs->rtt, bench_client_mono_us() - f->sent_us);
	f->frame_bytes = f->got_bytes = 0;
	return fetcher_send(f);
}

/* Reads what is there; a response's first RX_BYTES are kept, the rest
 * (records, if the partition is not empty) discarded. -1: closed. */
static int
fetcher_read(struct fetcher *f, struct fetch_stats *fs)
{
	static uint8_t sink[65536];

	for (;;) {
		size_t want, at = f->got_bytes;
		uint8_t *dst;
		ssize_t n;

		if (at < 4)
			want = 4 - at;
		else
			want = f->frame_bytes + 4 - at;
		if (at < RX_BYTES) {
			dst = f->head + at;
			if (want > RX_BYTES - at)
				want = RX_BYTES - at;
		} else {
			dst = sink;
			if (want > sizeof(sink))
				want = sizeof(sink);
		}
		n = read(f->fd, dst, want);
		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		f->got_bytes += (uint32_t)n;
		if (f->got_bytes == 4) {
			f->frame_bytes = get32(f->head);
			if (f->frame_bytes < 8 || f->frame_bytes > (1u << 30))
				return -1;
		}
		if (f->got_bytes >= 4 && f->got_bytes == f->frame_bytes + 4 &&
		    fetcher_response(f, fs) != 0)
			return -1;
	}
}

static void
fetcher_close(int ep, struct fetcher *f)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, f->fd, NULL);
	close(f->fd);
	f->fd = -1;
}

static void
fetchers_event(int ep, struct fetcher *f, uint32_t events, struct fetch_stats *fs)
{
	if (f->fd < 0)
		return;
	if (!f->connected) {
		int err = 0;
		socklen_t len = sizeof(err);
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = f };

		getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
			fs->connect_errors++;
			fetcher_close(ep, f);
			return;
		}
		f->connected = 1;
		fs->connected++;
		epoll_ctl(ep, EPOLL_CTL_MOD, f->fd, &ev);
		if (fetcher_send(f) != 0) {
			fs->closed_by_broker++;
			fetcher_close(ep, f);
		}
		return;
	}
	if (fetcher_read(f, fs) != 0) {
		fs->closed_by_broker++;
		fetcher_close(ep, f);
	}
}

/* Connects the fetchers at o.connect_rate, then serves them until the
 * warm-up and measurement are over. */
static void
fetchers_run(struct fetcher *fetchers, struct fetch_stats *fs, double *connect_s,
	     double *measured_s)
{
	struct epoll_event events[EVENTS_MAX];
	int ep = epoll_create1(0);
	int opened = 0;
	uint64_t start = bench_client_mono_us();
	uint64_t all_connected = 0, measure_from = 0, measure_to = 0;

	if (ep < 0)
		bench_client_die("epoll_create1", strerror(errno));
	while (!atomic_load(&stop_flag)) {
		uint64_t now = bench_client_mono_us();
		int n;

		while (opened < o.connections &&
		       (double)opened < (double)(now - start) / 1e6 * o.connect_rate + 1) {
			struct fetcher *f = &fetchers[opened++];
			struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = f };

			f->fd = connect_to_broker(1, o.has_source ? &o.source : NULL);
			if (f->fd < 0) {
				fs->connect_errors++;
				continue;
			}
			epoll_ctl(ep, EPOLL_CTL_ADD, f->fd, &ev);
		}
		if (all_connected == 0 && opened == o.connections &&
		    (fs->connected + fs->connect_errors >= (uint64_t)o.connections ||
		     now - start > (uint64_t)(o.connect_timeout_s * 1e6))) {
			all_connected = now;
			*connect_s = (double)(now - start) / 1e6;
			measure_from = now + (uint64_t)(o.warmup_s * 1e6);
			measure_to = measure_from + (uint64_t)(o.duration_s * 1e6);
			fprintf(stderr, "idle-fetchers: %" PRIu64 " connected in %.1f s\n",
				fs->connected, *connect_s);
		}
		if (measure_from != 0 && now >= measure_from && !atomic_load(&measuring))
			atomic_store(&measuring, 1);
		if (measure_to != 0 && now >= measure_to)
			break;
		n = epoll_wait(ep, events, EVENTS_MAX, 2);
		for (int i = 0; i < n; i++)
			fetchers_event(ep, events[i].data.ptr, events[i].events, fs);
	}
	*measured_s = measure_from ? (double)(bench_client_mono_us() - measure_from) / 1e6 : 0;
	atomic_store(&stop_flag, 1);
	for (int i = 0; i < opened; i++)
		if (fetchers[i].fd >= 0)
			fetcher_close(ep, &fetchers[i]);
	close(ep);
}

/* -- main ------------------------------------------------------------------------ */

static void
usage(void)
{
	fprintf(stderr,
		"usage: idle-fetchers --bootstrap HOST:PORT --topic T [options]\n"
		"  --connections N        idle consumers (10000)\n"
		"  --partition P          partition they long-poll, empty (0)\n"
		"  --max-wait-ms MS       Fetch max_wait_ms (500)\n"
		"  --connect-rate N       new connections per second (4000)\n"
		"  --connect-timeout S    bound on connecting them all (60)\n"
		"  --source ADDR          local address the fetchers bind\n"
		"  --produce-topic T      topic the producer writes (none: no producer)\n"
		"  --produce-partition P  (0)\n"
		"  --produce-rate R       Produce requests per second (200)\n"
		"  --acks A               0, 1 or -1 (1)\n"
		"  --record-bytes B       record value size (1024)\n"
		"  --warmup S             after connecting, before measuring (2)\n"
		"  --duration S           measuring (10)\n");
	exit(2);
}

static void
parse_addr(struct sockaddr_in *sa, const char *host, int port)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		bench_client_die("address", host);
}

/* The options that only store their value: the name and where the value
 * goes in o (an int, a double or a string). */
static const struct opt_field {
	const char *name;
	int *i;
	double *d;
	const char **s;
} opt_fields[] = {
	{ "topic", .s = &o.fetch_topic },
	{ "connections", .i = &o.connections },
	{ "partition", .i = &o.fetch_partition },
	{ "max-wait-ms", .i = &o.max_wait_ms },
	{ "connect-rate", .d = &o.connect_rate },
	{ "connect-timeout", .d = &o.connect_timeout_s },
	{ "produce-topic", .s = &o.produce_topic },
	{ "produce-partition", .i = &o.produce_partition },
	{ "produce-rate", .d = &o.produce_rate },
	{ "acks", .i = &o.acks },
	{ "record-bytes", .i = &o.record_bytes },
	{ "warmup", .d = &o.warmup_s },
	{ "duration", .d = &o.duration_s },
};
#define OPT_FIELDS (sizeof(opt_fields) / sizeof(opt_fields[0]))

enum { OPT_BOOTSTRAP = 1000, OPT_SOURCE };	/* getopt values past the fields' indexes */

static void
opt_store(const struct opt_field *f, const char *value)
{
	if (f->i)
		*f->i = atoi(value);
	else if (f->d)
		*f->d = atof(value);
	else
		*f->s = value;
}

static void
parse_opts(int argc, char **argv)
{
	struct option longs[OPT_FIELDS + 3] = {
		[OPT_FIELDS] = { "bootstrap", required_argument, NULL, OPT_BOOTSTRAP },
		[OPT_FIELDS + 1] = { "source", required_argument, NULL, OPT_SOURCE },
	};
	char host[256] = "";
	int port = 0, c;

	for (size_t i = 0; i < OPT_FIELDS; i++)
		longs[i] = (struct option){ opt_fields[i].name, required_argument, NULL, (int)i };
	o = (struct opts){ .connections = 10000, .max_wait_ms = 500, .connect_rate = 4000,
			   .connect_timeout_s = 60, .produce_rate = 200, .acks = 1,
			   .record_bytes = 1024, .warmup_s = 2, .duration_s = 10 };
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (c >= 0 && (size_t)c < OPT_FIELDS) {
			opt_store(&opt_fields[c], optarg);
		} else if (c == OPT_BOOTSTRAP) {
			const char *colon = strrchr(optarg, ':');

			if (colon == NULL || (size_t)(colon - optarg) >= sizeof(host))
				usage();
			memcpy(host, optarg, (size_t)(colon - optarg));
			host[colon - optarg] = '\0';
			port = atoi(colon + 1);
		} else if (c == OPT_SOURCE) {
			parse_addr(&o.source, optarg, 0);
			o.has_source = 1;
		} else {
			usage();
		}
	}
	if (host[0] == '\0' || o.fetch_topic == NULL || o.connections < 0 ||
	    o.record_bytes < 0 || o.record_bytes > RECORD_BYTES_MAX || o.produce_rate <= 0 ||
	    o.connect_rate <= 0 || strlen(o.fetch_topic) > 249)
		usage();
	parse_addr(&o.broker, host, port);
}

static void
print_hist(const char *name, const struct hist *h, const char *sep)
{
	printf("\"%s\": {\"count\": %" PRIu64 ", \"p50_us\": %" PRIu64 ", \"p99_us\": %" PRIu64
	       ", \"p999_us\": %" PRIu64 ", \"max_us\": %" PRIu64 "}%s",
	       name, hist_count(h), hist_percentile(h, 50), hist_percentile(h, 99),
	       hist_percentile(h, 99.9), h->max, sep);
}

int
main(int argc, char **argv)
{
	static struct fetch_stats fs;
	static struct produce_stats ps;
	struct fetcher *fetchers;
	struct sigaction sa = { .sa_handler = on_signal };
	struct rlimit rl;
	pthread_t producer;
	double connect_s = 0, measured_s = 0;

	parse_opts(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < (rlim_t)o.connections + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	fetchers = calloc((size_t)o.connections + 1, sizeof(*fetchers));
	if (fetchers == NULL)
		bench_client_die("calloc", "fetchers");
	for (int i = 0; i < o.connections; i++)
		fetchers[i].fd = -1;
	hist_init(&fs.rtt);
	hist_init(&ps.ack);
	if (o.produce_topic != NULL)
		pthread_create(&producer, NULL, producer_run, &ps);
	fetchers_run(fetchers, &fs, &connect_s, &measured_s);
	if (o.produce_topic != NULL)
		pthread_join(producer, NULL);

	printf("{\"connections\": %d, \"connected\": %" PRIu64 ", \"connect_errors\": %" PRIu64
	       ", \"closed_by_broker\": %" PRIu64 ", \"connect_s\": %.2f, \"measured_s\": %.2f"
	       ", \"fetch_responses\": %" PRIu64 ", \"fetch_errors\": %" PRIu64 ", ",
	       o.connections, fs.connected, fs.connect_errors, fs.closed_by_broker, connect_s,
	       measured_s, fs.responses, fs.errors);
	print_hist("fetch_rtt", &fs.rtt, ", ");
	printf("\"produce\": {\"rate\": %.0f, \"acks\": %d, \"sent\": %" PRIu64
	       ", \"acked\": %" PRIu64 ", \"errors\": %" PRIu64 ", \"late_sends\": %" PRIu64
	       ", \"closed\": %d, ",
	       o.produce_topic ? o.produce_rate : 0, o.acks, ps.sent, ps.acked, ps.errors,
	       ps.late, ps.closed);
	print_hist("ack", &ps.ack, "}}\n");
	free(fetchers);
	return 0;
}
