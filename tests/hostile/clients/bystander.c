/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hostile suite's bystander: an ordinary librdkafka producer + consumer
 * keeping a steady load on one broker while an attacker works on it, timing
 * every produce->ack and produce->consume round trip in microseconds and
 * checking that nothing is lost, duplicated or reordered. Owns no assertion:
 * it reports per-second windows and counts; tests/lib/bystander.py judges.
 *
 *   bystander BOOTSTRAP TOPIC [k=v ...]
 *     rate1=200     records/s to partition 0, acks=1, no retries
 *     rate_all=50   records/s to partition 1, acks=all, idempotent
 *     bytes=1024    record value size (>= 16)
 *     seconds=300   hard bound on the load phase (SIGTERM/SIGINT end it earlier)
 *     drain_s=20    bound on flushing and on consuming the tail after the load
 *
 * stdout: {"ready": <realtime s>} once both partitions made a round trip,
 * then one JSON object with the windows and totals after the drain.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "bench_client.h"
#include "bench_rdk.h"

#define PARTS 2
#define STAMP_BYTES 16
#define ERRORS_KEPT 8
#define ERR_BYTES 256

/* One produced record: all times CLOCK_MONOTONIC microseconds, 0 = not yet. */
struct rec {
	uint64_t send_us;
	uint64_t ack_us;
	uint64_t consume_us;
	int16_t ack_err;	/* librdkafka error of the delivery report */
	uint8_t acked;
	uint8_t consumed;	/* times seen by the consumer */
};

struct prod {
	pthread_t thread;
	int part;
	double rate;
	const char *acks;
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	struct rec *recs;
	uint64_t recs_max;
	_Atomic uint64_t sent;
};

static struct {
	const char *bootstrap, *topic;
	size_t bytes;
	double seconds, drain_s;
	uint64_t start_mono_us;
	double start_rt;
	struct prod prod[PARTS];
	/* Consumer state, written by the consumer thread only. */
	int64_t next_seq[PARTS];
	uint64_t dups, reordered, foreign;
	_Atomic int ready;
	_Atomic uint64_t transport_errors;
	pthread_mutex_t err_lock;
	char errors[ERRORS_KEPT][ERR_BYTES];
	int errors_count;
} g;

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Keeps the first few error texts ("what detail: reason") for the report;
 * any thread. */
static void
note_error(const char *what, const char *detail, const char *reason)
{
	pthread_mutex_lock(&g.err_lock);
	if (g.errors_count < ERRORS_KEPT)
		snprintf(g.errors[g.errors_count], ERR_BYTES, "%s %s: %s", what, detail, reason);
	g.errors_count++;
	pthread_mutex_unlock(&g.err_lock);
}

static void
error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)rk;
	(void)opaque;
	atomic_fetch_add(&g.transport_errors, 1);
	fprintf(stderr, "bystander: client error %s: %s\n",
		rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/* Delivery report: the record's index travels as the message opaque. */
static void
dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct prod *p = opaque;
	uint64_t i = (uint64_t)(uintptr_t)m->_private;
	uint64_t now = bench_client_mono_us();

	(void)rk;
	if (i >= p->recs_max)
		return;
	p->recs[i].ack_us = now;
	p->recs[i].acked = 1;
	p->recs[i].ack_err = (int16_t)m->err;
	if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR)
		note_error("delivery acks", p->acks, rd_kafka_err2str(m->err));
}

static rd_kafka_t *
make_client(rd_kafka_type_t type, rd_kafka_conf_t *conf)
{
	char err[512];
	rd_kafka_t *rk;

	bench_rdk_must_set(conf, "bootstrap.servers", g.bootstrap);
	bench_rdk_must_set(conf, "log.connection.close", "false");
	rd_kafka_conf_set_error_cb(conf, error_cb);
	rk = rd_kafka_new(type, conf, err, sizeof(err));
	if (rk == NULL)
		bench_client_die("rd_kafka_new", err);
	return rk;
}

/* Open-loop producer: record i is due at start + i / rate; rd_kafka_poll()
 * waits for the next due time and wakes early for delivery reports. */
static void *
prod_run(void *arg)
{
	struct prod *p = arg;
	char *buf = calloc(1, g.bytes);
	uint64_t start = bench_client_mono_us();

	if (buf == NULL)
		bench_client_die("calloc", "payload");
	memset(buf + STAMP_BYTES, 'b', g.bytes - STAMP_BYTES);
	while (!stop_requested) {
		uint64_t i = atomic_load(&p->sent);
		uint64_t due = start + (uint64_t)((double)i * 1e6 / p->rate);
		uint64_t now = bench_client_mono_us();

		if (now - g.start_mono_us > (uint64_t)(g.seconds * 1e6) || i >= p->recs_max)
			break;
		if (now < due) {
			uint64_t wait_ms = (due - now + 999) / 1000;

			rd_kafka_poll(p->rk, (int)(wait_ms > 100 ? 100 : wait_ms));
			continue;
		}
		memcpy(buf, &i, 8);
		memcpy(buf + 8, &now, 8);
		p->recs[i].send_us = now;
		if (rd_kafka_produce(p->rkt, p->part, RD_KAFKA_MSG_F_COPY, buf, g.bytes,
				     NULL, 0, (void *)(uintptr_t)i) == -1) {
			note_error("produce acks", p->acks,
				   rd_kafka_err2str(rd_kafka_last_error()));
			p->recs[i].send_us = 0;
			rd_kafka_poll(p->rk, 10);
			continue;
		}
		atomic_store(&p->sent, i + 1);
		rd_kafka_poll(p->rk, 0);
	}
	free(buf);
	return NULL;
}

static void
prod_init(struct prod *p, int part, double rate, const char *acks)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	p->part = part;
	p->rate = rate;
	p->acks = acks;
	p->recs_max = (uint64_t)(rate * (g.seconds + 1.0)) + 16;
	p->recs = calloc(p->recs_max, sizeof(*p->recs));
	if (p->recs == NULL)
		bench_client_die("calloc", "records");
	bench_rdk_must_set(conf, "acks", acks);
	bench_rdk_must_set(conf, "linger.ms", "0");
	bench_rdk_must_set(conf, "message.timeout.ms", "20000");
	bench_rdk_must_set(conf, "request.timeout.ms", "15000");
	if (strcmp(acks, "all") == 0) {
		bench_rdk_must_set(conf, "enable.idempotence", "true");
	} else {
		/* A failed request is reported, not retried (which could reorder). */
		bench_rdk_must_set(conf, "enable.idempotence", "false");
		bench_rdk_must_set(conf, "message.send.max.retries", "0");
	}
	rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
	rd_kafka_conf_set_opaque(conf, p);
	p->rk = make_client(RD_KAFKA_PRODUCER, conf);
	p->rkt = rd_kafka_topic_new(p->rk, g.topic, NULL);
}

/* A consumed record of partition part: must carry the next sequence number. */
static void
consumed(int part, const rd_kafka_message_t *m, uint64_t now)
{
	struct prod *p = &g.prod[part];
	uint64_t seq;

	if (m->len < STAMP_BYTES) {
		g.foreign++;
		return;
	}
	memcpy(&seq, m->payload, 8);
	if (seq >= p->recs_max || p->recs[seq].send_us == 0) {
		g.foreign++;
		return;
	}
	/* A gap is a record that failed (acks=1 does not retry); an acknowledged
	 * one missing at the end counts as lost. Going back is a duplicate or a
	 * reordering. */
	if ((int64_t)seq >= g.next_seq[part])
		g.next_seq[part] = (int64_t)seq + 1;
	else if (p->recs[seq].consumed)
		g.dups++;
	else
		g.reordered++;
	if (p->recs[seq].consumed++ == 0)
		p->recs[seq].consume_us = now;
	if (!atomic_load(&g.ready) && g.next_seq[0] > 0 && g.next_seq[1] > 0) {
		atomic_store(&g.ready, 1);
		printf("{\"ready\": %.6f}\n", (double)bench_client_real_us() / 1e6);
		fflush(stdout);
	}
}

/* True once every record acknowledged without error has been consumed. */
static int
caught_up(void)
{
	for (int part = 0; part < PARTS; part++) {
		struct prod *p = &g.prod[part];
		uint64_t sent = atomic_load(&p->sent);

		for (uint64_t i = 0; i < sent; i++)
			if (p->recs[i].acked && p->recs[i].ack_err == 0 && !p->recs[i].consumed)
				return 0;
	}
	return 1;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static uint64_t
pct(const uint64_t *v, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(q * (double)n + 0.999999);
	if (i == 0)
		i = 1;
	return v[(i > n ? n : i) - 1];
}

/* Prints window w (records sent in [w, w + 1) s after start) as JSON;
 * ack and e2e are scratch arrays of at least the records sent. */
static void
report_window(uint64_t w, uint64_t *ack, uint64_t *e2e)
{
	size_t na = 0, ne = 0;
	uint64_t sent = 0, ok = 0, err = 0, unanswered = 0;

	for (int part = 0; part < PARTS; part++) {
		struct prod *p = &g.prod[part];
		uint64_t n = atomic_load(&p->sent);

		for (uint64_t i = 0; i < n; i++) {
			struct rec *r = &p->recs[i];

			if ((r->send_us - g.start_mono_us) / 1000000u != w)
				continue;
			sent++;
			if (!r->acked) {
				unanswered++;
				continue;
			}
			err += r->ack_err != 0;
			ok += r->ack_err == 0;
			ack[na++] = r->ack_us - r->send_us;
			if (r->consumed)
				e2e[ne++] = r->consume_us - r->send_us;
		}
	}
	qsort(ack, na, 8, cmp_u64);
	qsort(e2e, ne, 8, cmp_u64);
	printf("%s{\"t\": %.3f, \"sent\": %" PRIu64 ", \"acked\": %" PRIu64
	       ", \"ack_errors\": %" PRIu64 ", \"unanswered\": %" PRIu64
	       ", \"consumed\": %zu, \"ack_p50_us\": %" PRIu64 ", \"ack_p99_us\": %" PRIu64
	       ", \"ack_max_us\": %" PRIu64 ", \"e2e_p50_us\": %" PRIu64
	       ", \"e2e_p99_us\": %" PRIu64 ", \"e2e_max_us\": %" PRIu64 "}",
	       w ? ", " : "", g.start_rt + (double)w, sent, ok, err, unanswered, ne,
	       pct(ack, na, 0.5), pct(ack, na, 0.99), na ? ack[na - 1] : 0,
	       pct(e2e, ne, 0.5), pct(e2e, ne, 0.99), ne ? e2e[ne - 1] : 0);
}

/* Prints the totals and the kept error texts, closing the report object. */
static void
report_totals(void)
{
	uint64_t sent_all = 0, acked = 0, ack_errors = 0, unacked = 0;
	uint64_t consumed_n = 0, lost = 0;

	for (int part = 0; part < PARTS; part++) {
		struct prod *p = &g.prod[part];
		uint64_t n = atomic_load(&p->sent);

		sent_all += n;
		for (uint64_t i = 0; i < n; i++) {
			struct rec *r = &p->recs[i];

			acked += r->acked && r->ack_err == 0;
			ack_errors += r->acked && r->ack_err != 0;
			unacked += !r->acked;
			consumed_n += r->consumed > 0;
			lost += r->acked && r->ack_err == 0 && !r->consumed;
		}
	}
	printf("], \"sent\": %" PRIu64 ", \"acked\": %" PRIu64 ", \"ack_errors\": %" PRIu64
	       ", \"unacked\": %" PRIu64 ", \"consumed\": %" PRIu64 ", \"lost\": %" PRIu64
	       ", \"dups\": %" PRIu64 ", \"reordered\": %" PRIu64 ", \"foreign\": %" PRIu64
	       ", \"transport_errors\": %" PRIu64 ", \"errors_count\": %d, \"errors\": [",
	       sent_all, acked, ack_errors, unacked, consumed_n, lost, g.dups, g.reordered,
	       g.foreign, atomic_load(&g.transport_errors), g.errors_count);
	for (int i = 0; i < g.errors_count && i < ERRORS_KEPT; i++) {
		printf("%s\"", i ? ", " : "");
		for (const char *c = g.errors[i]; *c; c++)
			if (*c != '"' && *c != '\\' && (unsigned char)*c >= 0x20)
				putchar(*c);
		putchar('"');
	}
	printf("]}\n");
	fflush(stdout);
}

/* Prints the windows (by send time, one second each) and the totals. */
static void
report(void)
{
	uint64_t horizon = 0;
	size_t cap = 0;
	uint64_t *ack, *e2e;

	for (int part = 0; part < PARTS; part++) {
		struct prod *p = &g.prod[part];
		uint64_t sent = atomic_load(&p->sent);

		cap += sent;
		for (uint64_t i = 0; i < sent; i++) {
			uint64_t w = (p->recs[i].send_us - g.start_mono_us) / 1000000u;

			horizon = w + 1 > horizon ? w + 1 : horizon;
		}
	}
	ack = calloc(cap + 1, 8);
	e2e = calloc(cap + 1, 8);
	if (ack == NULL || e2e == NULL)
		bench_client_die("calloc", "report");
	printf("{\"start\": %.6f, \"windows\": [", g.start_rt);
	for (uint64_t w = 0; w < horizon; w++)
		report_window(w, ack, e2e);
	free(ack);
	free(e2e);
	report_totals();
}

/* Consumes during the load, then (producers joined and flushed) until every
 * acknowledged record was seen or the drain bound passed. */
static void
consume_loop(rd_kafka_queue_t *q)
{
	uint64_t drain_end = 0;

	for (;;) {
		rd_kafka_message_t *m = rd_kafka_consume_queue(q, 50);
		uint64_t now = bench_client_mono_us();

		if (m != NULL) {
			if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR &&
			    m->partition >= 0 && m->partition < PARTS)
				consumed(m->partition, m, now);
			else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
				note_error("consume", rd_kafka_err2name(m->err),
					   rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			continue;
		}
		if (drain_end == 0 &&
		    (stop_requested || now - g.start_mono_us > (uint64_t)(g.seconds * 1e6))) {
			for (int part = 0; part < PARTS; part++)
				pthread_join(g.prod[part].thread, NULL);
			for (int part = 0; part < PARTS; part++)
				rd_kafka_flush(g.prod[part].rk, (int)(g.drain_s * 1000));
			drain_end = bench_client_mono_us() + (uint64_t)(g.drain_s * 1e6);
		}
		if (drain_end != 0 && (caught_up() || now > drain_end))
			return;
	}
}

static double
arg_double(int argc, char **argv, const char *key, double dflt)
{
	size_t len = strlen(key);

	for (int i = 0; i < argc; i++)
		if (strncmp(argv[i], key, len) == 0 && argv[i][len] == '=')
			return strtod(argv[i] + len + 1, NULL);
	return dflt;
}

int
main(int argc, char **argv)
{
	rd_kafka_conf_t *conf;
	rd_kafka_t *cons;
	rd_kafka_topic_t *crkt;
	rd_kafka_queue_t *q;
	struct sigaction sa = { .sa_handler = on_signal };

	if (argc < 3)
		bench_client_die("usage", "bystander BOOTSTRAP TOPIC "
				 "[rate1=N rate_all=N bytes=N seconds=S]");
	g.bootstrap = argv[1];
	g.topic = argv[2];
	g.bytes = (size_t)arg_double(argc - 3, argv + 3, "bytes", 1024);
	g.seconds = arg_double(argc - 3, argv + 3, "seconds", 300);
	g.drain_s = arg_double(argc - 3, argv + 3, "drain_s", 20);
	if (g.bytes < STAMP_BYTES)
		bench_client_die("bytes", "must be >= 16");
	pthread_mutex_init(&g.err_lock, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	g.start_mono_us = bench_client_mono_us();
	g.start_rt = (double)bench_client_real_us() / 1e6;

	prod_init(&g.prod[0], 0, arg_double(argc - 3, argv + 3, "rate1", 200), "1");
	prod_init(&g.prod[1], 1, arg_double(argc - 3, argv + 3, "rate_all", 50), "all");

	/* The simple (group-less) consumer from offset 0: rd_kafka_assign()
	 * needs a group.id in librdkafka 2.0.2. */
	conf = rd_kafka_conf_new();
	bench_rdk_must_set(conf, "fetch.wait.max.ms", "500");
	bench_rdk_must_set(conf, "fetch.min.bytes", "1");
	bench_rdk_must_set(conf, "fetch.error.backoff.ms", "10");
	cons = make_client(RD_KAFKA_CONSUMER, conf);
	crkt = rd_kafka_topic_new(cons, g.topic, NULL);
	q = rd_kafka_queue_new(cons);
	for (int part = 0; part < PARTS; part++)
		if (rd_kafka_consume_start_queue(crkt, part, 0, q) == -1)
			bench_client_die("consume_start", rd_kafka_err2str(rd_kafka_last_error()));

	for (int part = 0; part < PARTS; part++)
		pthread_create(&g.prod[part].thread, NULL, prod_run, &g.prod[part]);

	consume_loop(q);
	report();
	for (int part = 0; part < PARTS; part++)
		rd_kafka_consume_stop(crkt, part);
	rd_kafka_queue_destroy(q);
	rd_kafka_topic_destroy(crkt);
	rd_kafka_destroy(cons);
	for (int part = 0; part < PARTS; part++) {
		rd_kafka_topic_destroy(g.prod[part].rkt);
		rd_kafka_destroy(g.prod[part].rk);
		free(g.prod[part].recs);
	}
	return 0;
}
