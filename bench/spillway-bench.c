/* SPDX-License-Identifier: Apache-2.0 */
/* spillway-bench: a Kafka load generator on librdkafka for bench/. Modes
 * produce, consume and e2e (produce+consume); open-loop fixed rate or max rate.
 * Each payload starts with 16 bytes: intended send time (CLOCK_REALTIME, us)
 * and a sequence number. Reports produce-to-ack and end-to-end latency
 * percentiles (bench/hist.c), throughput and broker CPU seconds per GB; the
 * report (totals, JSON, summary) is sbench_report.c, shared state sbench.h. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "bench_client.h"
#include "bench_rdk.h"
#include "sbench.h"

struct bench_opts g_opts = {
	.mode = MODE_PRODUCE, .bootstrap = "127.0.0.1:9092", .topic = "spillway-bench",
	.acks = "1", .compression = "none", .record_bytes = 1024, .linger_ms = 5,
	.batch_bytes = -1, .producers = 1, .consumers = 1, .broker_pid = -1,
	.timeout_s = 900, .stall_s = 20,
};
struct producer *g_producers;
struct consumer *g_consumers;
int g_partition_count;
int64_t *g_start_offsets;
uint64_t g_t0_us;		/* CLOCK_MONOTONIC at start */
uint64_t g_measure_us;		/* g_t0_us + warmup */
static int64_t g_rt_offset_us;		/* CLOCK_REALTIME - CLOCK_MONOTONIC */
static int g_stop_produce;
static int g_stop_consume;
int g_data_path_failed;
double g_group_join_s = -1;

static void
put_le64(unsigned char *out, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		out[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t
get_le64(const unsigned char *in)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | in[i];
	return v;
}

void
note_error(char *dst, const char *what)
{
	if (dst[0] == '\0')
		snprintf(dst, ERRSTR_BYTES, "%s", what);
}

/* Delivery report: runs in the producer's own thread, inside rd_kafka_poll(). */
static void
producer_dr(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
	struct producer *prod = opaque;
	uint64_t send_us = (uint64_t)(uintptr_t)msg->_private;
	uint64_t now;

	(void)rk;
	if (msg->err) {
		add_u64(&prod->failed, 1);
		note_error(prod->error, rd_kafka_err2str(msg->err));
		return;
	}
	add_u64(&prod->acked, 1);
	if (send_us < g_measure_us)
		return;
	now = bench_client_mono_us();
	hist_record(&prod->ack_hist, now > send_us ? now - send_us : 0);
	add_u64(&prod->acked_window, 1);
	add_u64(&prod->bytes_window, msg->len);
	__atomic_store_n(&prod->last_ack_us, now, __ATOMIC_RELAXED);
}

static rd_kafka_conf_t *
producer_conf(void)
{
	char linger[32], batch[32];

	snprintf(linger, sizeof(linger), "%d", g_opts.linger_ms);
	snprintf(batch, sizeof(batch), "%d", g_opts.batch_bytes);
	const char *const kv[][2] = {
		{ "bootstrap.servers", g_opts.bootstrap },
		{ "acks", g_opts.acks },
		{ "compression.codec", g_opts.compression },
		{ "linger.ms", linger },
		{ "message.timeout.ms", "30000" },
		{ "enable.idempotence", "false" },
		{ "client.id", "spillway-bench" },
		{ "batch.size", batch },	/* last: set only with --batch-bytes */
	};
	size_t n = sizeof(kv) / sizeof(kv[0]);

	return bench_rdk_conf_new(kv, g_opts.batch_bytes > 0 ? n : n - 1);
}

static rd_kafka_t *
client_new(rd_kafka_type_t type, rd_kafka_conf_t *conf)
{
	char errstr[ERRSTR_BYTES];

	for (int i = 0; i < g_opts.client_kv_count; i++) {
		char *kv = g_opts.client_kv[i], *eq = strchr(kv, '=');

		*eq = '\0';
		int rc = bench_rdk_set(conf, kv, eq + 1);

		*eq = '=';
		if (rc != 0) {
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	}
	rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));

	if (!rk) {
		fprintf(stderr, "spillway-bench: rd_kafka_new: %s\n", errstr);
		rd_kafka_conf_destroy(conf);
	}
	return rk;
}

/* CreateTopics with --partitions; an existing topic is fine. */
static void
topic_create(rd_kafka_t *rk)
{
	char errstr[ERRSTR_BYTES];
	rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(g_opts.topic, g_opts.partitions, 1,
							errstr, sizeof(errstr));
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	const rd_kafka_CreateTopics_result_t *res;
	const rd_kafka_topic_result_t **tr = NULL;
	rd_kafka_resp_err_t err;
	rd_kafka_event_t *ev;
	size_t n = 0;

	rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
	ev = rd_kafka_queue_poll(q, 30000);
	res = ev ? rd_kafka_event_CreateTopics_result(ev) : NULL;
	if (res)
		tr = rd_kafka_CreateTopics_result_topics(res, &n);
	if (!ev) {
		fprintf(stderr, "spillway-bench: CreateTopics timed out\n");
	} else if (rd_kafka_event_error(ev)) {
		fprintf(stderr, "spillway-bench: CreateTopics: %s\n",
			rd_kafka_event_error_string(ev));
	} else if (n == 1) {
		err = rd_kafka_topic_result_error(tr[0]);
		if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
			fprintf(stderr, "spillway-bench: CreateTopics %s: %s\n", g_opts.topic,
				rd_kafka_topic_result_error_string(tr[0]));
	}
	if (ev)
		rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	rd_kafka_NewTopic_destroy(nt);
}

/* Creates the topic when --partitions is given, then waits until metadata
 * lists it with a leader for every partition; sets g_partition_count. */
static int
topic_prepare(rd_kafka_t *rk)
{
	uint64_t deadline = bench_client_mono_us() + 60 * 1000000ull;
	rd_kafka_topic_t *rkt;
	int rc = -1;

	if (g_opts.partitions > 0)
		topic_create(rk);
	rkt = rd_kafka_topic_new(rk, g_opts.topic, NULL);
	while (bench_client_mono_us() < deadline) {
		const struct rd_kafka_metadata *md = NULL;
		int i, ok = 0;

		if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
			const struct rd_kafka_metadata_topic *t =
				md->topic_cnt ? &md->topics[0] : NULL;

			if (t && !t->err && t->partition_cnt > 0) {
				ok = 1;
				for (i = 0; i < t->partition_cnt; i++)
					ok &= t->partitions[i].leader >= 0;
				g_partition_count = t->partition_cnt;
			}
			rd_kafka_metadata_destroy(md);
		}
		if (ok && (g_opts.partitions <= 0 || g_partition_count >= g_opts.partitions)) {
			rc = 0;
			break;
		}
		usleep(200000);
	}
	rd_kafka_topic_destroy(rkt);
	if (rc)
		fprintf(stderr, "spillway-bench: topic %s not ready (metadata)\n", g_opts.topic);
	else if (g_opts.partitions > 0 && g_partition_count != g_opts.partitions)
		fprintf(stderr, "spillway-bench: topic %s has %d partitions, not %d\n",
			g_opts.topic, g_partition_count, g_opts.partitions);
	return rc;
}

/* e2e: start consumers at each partition's current end (ListOffsets LATEST)
 * so they see exactly the messages produced by this run. */
static void
start_offsets_init(rd_kafka_t *rk)
{
	rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(
		g_partition_count);
	rd_kafka_resp_err_t err;
	int i;

	g_start_offsets = calloc((size_t)g_partition_count, sizeof(*g_start_offsets));
	for (i = 0; i < g_partition_count; i++) {
		g_start_offsets[i] = g_opts.mode == MODE_E2E ? RD_KAFKA_OFFSET_END :
			RD_KAFKA_OFFSET_BEGINNING;
		rd_kafka_topic_partition_list_add(parts, g_opts.topic, i)->offset =
			RD_KAFKA_OFFSET_END;
	}
	if (g_opts.mode == MODE_E2E) {
		err = rd_kafka_offsets_for_times(rk, parts, 30000);
		if (err) {
			fprintf(stderr, "spillway-bench: ListOffsets: %s (starting at END)\n",
				rd_kafka_err2str(err));
		} else {
			for (i = 0; i < parts->cnt; i++)
				if (!parts->elems[i].err && parts->elems[i].offset >= 0)
					g_start_offsets[parts->elems[i].partition] =
						parts->elems[i].offset;
		}
	}
	rd_kafka_topic_partition_list_destroy(parts);
}

static int
producer_done(uint64_t now, uint64_t measured, uint64_t quota)
{
	if (flag_get(&g_stop_produce))
		return 1;
	if (g_opts.count)
		return measured >= quota;
	return now >= g_measure_us + (uint64_t)(g_opts.duration_s * 1e6);
}

/* Queues one message stamped with its intended send time; waits on a full queue. */
static int
producer_send(struct producer *prod, unsigned char *buf, uint64_t send_us, uint64_t seq)
{
	int32_t part = (int32_t)(seq % (uint64_t)g_partition_count);

	put_le64(buf, send_us + (uint64_t)g_rt_offset_us);
	put_le64(buf + 8, ((uint64_t)prod->id << 48) | seq);
	while (rd_kafka_produce(prod->rkt, part, RD_KAFKA_MSG_F_COPY, buf, g_opts.record_bytes,
				NULL, 0, (void *)(uintptr_t)send_us) == -1) {
		rd_kafka_resp_err_t err = rd_kafka_last_error();

		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
			add_u64(&prod->failed, 1);
			note_error(prod->error, rd_kafka_err2str(err));
			return -1;
		}
		rd_kafka_poll(prod->rk, 1);
		if (flag_get(&g_stop_produce))
			return -1;
	}
	add_u64(&prod->sent, 1);
	return 0;
}

static void *
producer_main(void *arg)
{
	struct producer *prod = arg;
	unsigned char *buf = malloc(g_opts.record_bytes);
	double rate = g_opts.rate / g_opts.producers;
	uint64_t quota = g_opts.count / (uint64_t)g_opts.producers +
		((uint64_t)prod->id < g_opts.count % (uint64_t)g_opts.producers);
	double interval_us = rate > 0 ? 1e6 / rate : 0;
	uint64_t seq = 0, measured = 0, sent_paced = 0;
	unsigned seed = 0x5eed + (unsigned)prod->id;
	size_t i;

	for (i = 0; i < g_opts.record_bytes; i++)	/* like kafka-producer-perf-test */
		buf[i] = (unsigned char)('A' + rand_r(&seed) % 26);
	for (;;) {
		uint64_t now = bench_client_mono_us();
		uint64_t send_us = now;

		if (producer_done(now, measured, quota))
			break;
		if (rate > 0) {
			/* Open loop: message k is due at t0 + k/rate whatever the broker does. */
			send_us = g_t0_us + (uint64_t)((double)sent_paced * interval_us);
			if (send_us > now) {
				uint64_t wake_us = send_us < now + 1000 ? send_us : now + 1000;

				bench_client_sleep_until_us(wake_us);
				continue;
			}
			sent_paced++;
		}
		if (producer_send(prod, buf, send_us, seq) != 0)
			break;
		seq++;
		measured += send_us >= g_measure_us;
	}
	rd_kafka_flush(prod->rk, flag_get(&g_data_path_failed) ? 1000 : FLUSH_MS);
	free(buf);
	flag_set(&prod->done);
	return NULL;
}

/* Serves delivery reports as they arrive, so ack latency does not include
 * the pacing sleeps of the producing thread. */
static void *
poller_main(void *arg)
{
	struct producer *prod = arg;

	while (!flag_get(&prod->done))
		rd_kafka_poll(prod->rk, 10);
	return NULL;
}

static void
consumer_handle(struct consumer *cons, const rd_kafka_message_t *msg)
{
	uint64_t now_mono = bench_client_mono_us();
	uint64_t now_rt;
	uint64_t stamp_rt;
	int in_window;

	add_u64(&cons->received, 1);
	if (msg->len < STAMP_BYTES) {
		in_window = now_mono >= g_measure_us;
	} else {
		stamp_rt = get_le64(msg->payload);
		now_rt = bench_client_real_us();
		/* e2e: by send time, so every consumer counts the same messages. */
		in_window = g_opts.mode == MODE_E2E ?
			stamp_rt >= g_measure_us + (uint64_t)g_rt_offset_us :
			now_mono >= g_measure_us;
		if (in_window)
			hist_record(&cons->e2e_hist, now_rt > stamp_rt ? now_rt - stamp_rt : 0);
	}
	if (!in_window)
		return;
	add_u64(&cons->received_window, 1);
	add_u64(&cons->bytes_window, msg->len);
	__atomic_store_n(&cons->last_recv_us, now_mono, __ATOMIC_RELAXED);
}

static int
consumer_done(const struct consumer *cons)
{
	if (flag_get(&g_stop_consume))
		return 1;
	if (g_opts.mode != MODE_CONSUME)
		return 0;
	if (g_opts.count)
		return load_u64(&cons->received_window) >= g_opts.count;
	return bench_client_mono_us() >= g_measure_us + (uint64_t)(g_opts.duration_s * 1e6);
}

static void *
consumer_main(void *arg)
{
	struct consumer *cons = arg;
	rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(
		g_partition_count);
	int i;

	for (i = 0; i < g_partition_count; i++)
		rd_kafka_topic_partition_list_add(parts, g_opts.topic, i)->offset =
			g_start_offsets[i];
	if (g_opts.group != NULL ? sbench_group_subscribe(cons) != 0 :
	    rd_kafka_assign(cons->rk, parts) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		note_error(cons->error, "assign failed");
		flag_set(&g_data_path_failed);
	}
	rd_kafka_topic_partition_list_destroy(parts);
	while (!consumer_done(cons)) {
		rd_kafka_message_t *msg = rd_kafka_consumer_poll(cons->rk, 100);

		if (!msg)
			continue;
		if (msg->err) {
			if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
				add_u64(&cons->errors, 1);
				note_error(cons->error, rd_kafka_message_errstr(msg));
			}
		} else {
			consumer_handle(cons, msg);
		}
		rd_kafka_message_destroy(msg);
	}
	flag_set(&cons->done);
	return NULL;
}

static int
consumer_create(struct consumer *cons)
{
	char group[96];

	snprintf(group, sizeof(group), "spillway-bench-%ld-%d", (long)getpid(), cons->id);
	if (g_opts.group != NULL)
		snprintf(group, sizeof(group), "%s", g_opts.group);
	const char *const kv[][2] = {
		{ "bootstrap.servers", g_opts.bootstrap },
		{ "group.id", group },
		{ "enable.auto.commit", "false" },
		{ "enable.auto.offset.store", "false" },
		{ "client.id", "spillway-bench-consumer" },
	};
	rd_kafka_conf_t *conf = bench_rdk_conf_new(kv, sizeof(kv) / sizeof(kv[0]));

	if (!conf)
		return -1;
	if (g_opts.group != NULL)
		sbench_group_conf(conf, cons);
	cons->rk = client_new(RD_KAFKA_CONSUMER, conf);
	if (!cons->rk)
		return -1;
	rd_kafka_poll_set_consumer(cons->rk);
	return 0;
}

static int
producer_create(struct producer *prod)
{
	rd_kafka_conf_t *conf = producer_conf();

	if (!conf)
		return -1;
	rd_kafka_conf_set_dr_msg_cb(conf, producer_dr);
	rd_kafka_conf_set_opaque(conf, prod);
	prod->rk = client_new(RD_KAFKA_PRODUCER, conf);
	if (!prod->rk)
		return -1;
	prod->rkt = rd_kafka_topic_new(prod->rk, g_opts.topic, NULL);
	return 0;
}

/* Keeps one -X KEY=VALUE (argv memory, so no copy) for client_new(). */
static int
client_kv_add(char *kv)
{
	char **grown;

	if (!strchr(kv, '=') || kv[0] == '=') {
		fprintf(stderr, "spillway-bench: -X %s: expected KEY=VALUE\n", kv);
		return -1;
	}
	grown = realloc(g_opts.client_kv, (g_opts.client_kv_count + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	g_opts.client_kv = grown;
	g_opts.client_kv[g_opts.client_kv_count++] = kv;
	return 0;
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: spillway-bench [MODE] [options]   MODE: produce | consume | e2e\n"
		"  --bootstrap HOST:PORT   (127.0.0.1:9092)   --topic NAME (spillway-bench)\n"
		"  --partitions N          create the topic with N partitions if missing\n"
		"  --record-size BYTES     (1024, at least 16)\n"
		"  --acks 0|1|all (1)      --compression none|gzip|snappy|lz4|zstd (none)\n"
		"  --linger-ms MS (5)      --batch-size BYTES (librdkafka default)\n"
		"  --rate MSGS_PER_S       open-loop fixed rate over all producers (default max)\n"
		"  --duration S (10)       --count N (measured messages; instead of duration)\n"
		"  --warmup S (0)          excluded from every number\n"
		"  --producers N (1)       --consumers N (1; each reads every partition)\n"
		"  --group NAME            the consumers share one consumer group (subscribe);\n"
		"                          producing starts once every partition has an owner\n"
		"  --broker-pid PID        report broker CPU seconds per GB moved\n"
		"  --json FILE             write results as JSON\n"
		"  --timeout S (900)       hard stop\n"
		"  --stall-timeout S (20)  fail when nothing is acked/received by then\n"
		"  -X KEY=VALUE            librdkafka setting for every client (repeatable),\n"
		"                          e.g. -X security.protocol=ssl -X ssl.ca.location=F\n");
}

static int
opts_parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bootstrap", 1, NULL, 'b' }, { "topic", 1, NULL, 't' },
		{ "partitions", 1, NULL, 'p' }, { "record-size", 1, NULL, 's' },
		{ "acks", 1, NULL, 'a' }, { "compression", 1, NULL, 'z' },
		{ "linger-ms", 1, NULL, 'l' }, { "batch-size", 1, NULL, 'B' },
		{ "rate", 1, NULL, 'r' }, { "duration", 1, NULL, 'd' },
		{ "count", 1, NULL, 'c' }, { "producers", 1, NULL, 'P' },
		{ "consumers", 1, NULL, 'C' }, { "broker-pid", 1, NULL, 'k' },
		{ "json", 1, NULL, 'j' }, { "warmup", 1, NULL, 'w' },
		{ "timeout", 1, NULL, 'T' }, { "mode", 1, NULL, 'm' },
		{ "stall-timeout", 1, NULL, 'S' }, { "group", 1, NULL, 'g' },
		{ "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *mode = "produce";
	int c;

	while ((c = getopt_long(argc, argv, "hX:", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': g_opts.bootstrap = optarg; break;
		case 't': g_opts.topic = optarg; break;
		case 'p': g_opts.partitions = atoi(optarg); break;
		case 's': g_opts.record_bytes = strtoull(optarg, NULL, 10); break;
		case 'a': g_opts.acks = optarg; break;
		case 'z': g_opts.compression = optarg; break;
		case 'l': g_opts.linger_ms = atoi(optarg); break;
		case 'B': g_opts.batch_bytes = atoi(optarg); break;
		case 'r': g_opts.rate = atof(optarg); break;
		case 'd': g_opts.duration_s = atof(optarg); break;
		case 'c': g_opts.count = strtoull(optarg, NULL, 10); break;
		case 'P': g_opts.producers = atoi(optarg); break;
		case 'C': g_opts.consumers = atoi(optarg); break;
		case 'k': g_opts.broker_pid = atol(optarg); break;
		case 'j': g_opts.json_path = optarg; break;
		case 'w': g_opts.warmup_s = atof(optarg); break;
		case 'T': g_opts.timeout_s = atof(optarg); break;
		case 'S': g_opts.stall_s = atof(optarg); break;
		case 'm': mode = optarg; break;
		case 'g': g_opts.group = optarg; break;
		case 'X':
			if (client_kv_add(optarg) != 0)
				return -1;
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc)
		mode = argv[optind++];
	if (!strcmp(mode, "produce"))
		g_opts.mode = MODE_PRODUCE;
	else if (!strcmp(mode, "consume"))
		g_opts.mode = MODE_CONSUME;
	else if (!strcmp(mode, "e2e") || !strcmp(mode, "produce+consume"))
		g_opts.mode = MODE_E2E;
	else {
		fprintf(stderr, "spillway-bench: unknown mode %s\n", mode);
		return -1;
	}
	if (optind != argc || g_opts.record_bytes < STAMP_BYTES || g_opts.producers < 1 ||
	    g_opts.consumers < 1 || g_opts.rate < 0 || g_opts.warmup_s < 0 ||
	    g_opts.duration_s < 0 || g_opts.timeout_s <= 0) {
		usage(stderr);
		return -1;
	}
	if (g_opts.duration_s == 0 && g_opts.count == 0)
		g_opts.duration_s = 10;
	return 0;
}

static void
on_signal(int sig)
{
	(void)sig;
	flag_set(&g_stop_produce);
	flag_set(&g_stop_consume);
}

static int
threads_start(void)
{
	int i;

	if (g_opts.mode != MODE_PRODUCE) {
		g_consumers = calloc((size_t)g_opts.consumers, sizeof(*g_consumers));
		for (i = 0; i < g_opts.consumers; i++) {
			g_consumers[i].id = i;
			hist_init(&g_consumers[i].e2e_hist);
			if (consumer_create(&g_consumers[i]))
				return -1;
		}
	}
	if (g_opts.mode != MODE_CONSUME) {
		g_producers = calloc((size_t)g_opts.producers, sizeof(*g_producers));
		for (i = 0; i < g_opts.producers; i++) {
			g_producers[i].id = i;
			hist_init(&g_producers[i].ack_hist);
			if (producer_create(&g_producers[i]))
				return -1;
		}
	}
	for (i = 0; g_consumers && i < g_opts.consumers; i++)
		pthread_create(&g_consumers[i].thread, NULL, consumer_main, &g_consumers[i]);
	if (g_consumers && g_opts.group != NULL)
		g_group_join_s = sbench_group_wait(g_opts.stall_s);
	g_t0_us = bench_client_mono_us();
	g_measure_us = g_t0_us + (uint64_t)(g_opts.warmup_s * 1e6);
	for (i = 0; g_producers && i < g_opts.producers; i++) {
		pthread_create(&g_producers[i].thread, NULL, producer_main, &g_producers[i]);
		pthread_create(&g_producers[i].poller, NULL, poller_main, &g_producers[i]);
	}
	return 0;
}

/* Nothing acknowledged or received after --stall-timeout: the broker does
 * not move data (e.g. no Produce/Fetch yet); give up instead of waiting. */
static void
stall_check(void)
{
	struct totals t;

	if (flag_get(&g_data_path_failed))
		return;
	sbench_report_totals(&t, NULL, NULL);
	if (g_producers && t.acked == 0) {
		note_error(g_producers[0].error, "no delivery acknowledged");
		flag_set(&g_data_path_failed);
	} else if (g_consumers && t.received == 0) {
		note_error(g_consumers[0].error, "no message received");
		flag_set(&g_data_path_failed);
	}
}

/* Runs until producers finish (then lets e2e consumers drain) or consumers
 * finish; prints progress once a second; samples CPU at the window's edges. */
static void
threads_wait(struct cpu_sample *c0, struct cpu_sample *c1)
{
	struct totals prev;
	uint64_t hard_stop = g_t0_us + (uint64_t)(g_opts.timeout_s * 1e6);
	uint64_t next_line = g_t0_us + 1000000, drain_end = 0;
	int sampled = 0, i;

	memset(&prev, 0, sizeof(prev));
	for (;;) {
		uint64_t now = bench_client_mono_us();
		struct totals t;
		int producing = 0, consuming = 0;

		if (!sampled && now >= g_measure_us) {
			sbench_report_cpu(c0);
			sampled = 1;
		}
		for (i = 0; g_producers && i < g_opts.producers; i++)
			producing |= !flag_get(&g_producers[i].done);
		for (i = 0; g_consumers && i < g_opts.consumers; i++)
			consuming |= !flag_get(&g_consumers[i].done);
		if (!producing && !consuming)
			break;
		if (now >= g_t0_us + (uint64_t)(g_opts.stall_s * 1e6))
			stall_check();
		if (now >= hard_stop || flag_get(&g_data_path_failed)) {
			flag_set(&g_stop_produce);
			flag_set(&g_stop_consume);
		}
		if (g_producers && !producing && consuming) {
			/* e2e: every consumer should see every acknowledged message. */
			sbench_report_totals(&t, NULL, NULL);
			if (!drain_end)
				drain_end = now + DRAIN_US;
			if ((g_opts.group != NULL ? t.received : t.recv_min) >= t.acked ||
			    now >= drain_end)
				flag_set(&g_stop_consume);
		}
		if (now >= next_line) {
			sbench_report_progress(now, &prev);
			next_line += 1000000;
		}
		usleep(20000);
	}
	if (!sampled)
		sbench_report_cpu(c0);
	sbench_report_cpu(c1);
	for (i = 0; g_producers && i < g_opts.producers; i++) {
		pthread_join(g_producers[i].thread, NULL);
		pthread_join(g_producers[i].poller, NULL);
	}
	for (i = 0; g_consumers && i < g_opts.consumers; i++)
		pthread_join(g_consumers[i].thread, NULL);
}

int
main(int argc, char **argv)
{
	static struct result res;
	struct cpu_sample c0, c1;
	rd_kafka_conf_t *conf;
	rd_kafka_t *admin;
	int i;

	if (opts_parse(argc, argv))
		return 1;
	g_rt_offset_us = (int64_t)(bench_client_real_us() - bench_client_mono_us());
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	conf = producer_conf();
	admin = conf ? client_new(RD_KAFKA_PRODUCER, conf) : NULL;
	if (!admin)
		return 1;
	if (topic_prepare(admin)) {
		rd_kafka_destroy(admin);
		printf("  FAILED: topic %s not available\n", g_opts.topic);
		return 2;
	}
	if (g_opts.mode != MODE_PRODUCE)
		start_offsets_init(admin);
	rd_kafka_destroy(admin);
	if (threads_start())
		return 1;
	threads_wait(&c0, &c1);
	sbench_report_result(&res, &c0, &c1);
	for (i = 0; g_consumers && i < g_opts.consumers; i++) {
		rd_kafka_consumer_close(g_consumers[i].rk);
		rd_kafka_destroy(g_consumers[i].rk);
	}
	for (i = 0; g_producers && i < g_opts.producers; i++) {
		rd_kafka_topic_destroy(g_producers[i].rkt);
		rd_kafka_destroy(g_producers[i].rk);
	}
	sbench_report_summary(&res);
	if (g_opts.json_path && sbench_report_json(g_opts.json_path, &res))
		return 1;
	return res.ok ? 0 : 2;
}
