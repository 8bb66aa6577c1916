/* SPDX-License-Identifier: Apache-2.0 */
/* spillway-bench's shared state: options, the producer and consumer slots
 * the load threads fill (relaxed atomics, read by the reporter while they
 * run), the totals and result the report is made of, and the report's entry
 * points (sbench_report.c). Only spillway-bench.c and sbench_report.c
 * include it. */
#ifndef BENCH_SBENCH_H
#define BENCH_SBENCH_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include <librdkafka/rdkafka.h>

#include "hist.h"

#define STAMP_BYTES 16
#define DRAIN_US (20 * 1000000ull)
#define FLUSH_MS 30000
#define ERRSTR_BYTES 512

enum bench_mode { MODE_PRODUCE, MODE_CONSUME, MODE_E2E };

struct bench_opts {
	enum bench_mode mode;
	const char *bootstrap;
	const char *topic;
	const char *acks;
	const char *compression;
	const char *json_path;
	int partitions;
	size_t record_bytes;
	int linger_ms;
	int batch_bytes;
	double rate;
	double duration_s;
	uint64_t count;
	int producers;
	int consumers;
	long broker_pid;
	double warmup_s;
	double timeout_s;
	double stall_s;
	const char *group;      /* --group: consumers share this group */
	char **client_kv;       /* -X key=value: set on every librdkafka client */
	int client_kv_count;
};

struct producer {
	pthread_t thread;
	pthread_t poller;
	int id;
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	struct hist ack_hist;
	uint64_t sent;
	uint64_t acked;
	uint64_t failed;
	uint64_t acked_window;
	uint64_t bytes_window;
	uint64_t last_ack_us;
	int done;
	char error[ERRSTR_BYTES];
};

struct consumer {
	pthread_t thread;
	int id;
	rd_kafka_t *rk;
	struct hist e2e_hist;
	uint64_t received;
	uint64_t received_window;
	uint64_t bytes_window;
	uint64_t last_recv_us;
	uint64_t errors;
	int owned;              /* --group: partitions assigned now */
	int done;
	char error[ERRSTR_BYTES];
};

struct cpu_sample {
	double broker_s;
	double client_s;
};

struct totals {
	uint64_t sent, acked, failed, acked_window, prod_bytes, last_ack_us;
	uint64_t received, recv_window, cons_bytes, last_recv_us, recv_min, cons_errors;
};

struct result {
	struct totals t;
	struct hist ack;
	struct hist e2e;
	double prod_elapsed_s, cons_elapsed_s;
	double prod_msgs_s, prod_mb_s, cons_msgs_s, cons_mb_s;
	double broker_cpu_s, client_cpu_s, gb_moved, cpu_s_per_gb;
	const char *error;
	int ok;
};

extern struct bench_opts g_opts;
extern struct producer *g_producers;
extern struct consumer *g_consumers;
extern int g_partition_count;
extern uint64_t g_t0_us;		/* CLOCK_MONOTONIC at start */
extern uint64_t g_measure_us;		/* g_t0_us + warmup */
extern int g_data_path_failed;
extern double g_group_join_s;           /* --group: subscribe to all assigned; -1 */

/* Keep the first error of a slot. */
void note_error(char *dst, const char *what);

/* sbench_group.c (--group): the consumer's rebalance callback, its
 * subscription, and the wait until every partition has an owner (returns
 * the seconds it took, -1 after timeout_s). */
void sbench_group_conf(rd_kafka_conf_t *conf, struct consumer *cons);
int sbench_group_subscribe(struct consumer *cons);
double sbench_group_wait(double timeout_s);

static inline int
flag_get(const int *flag)
{
	return __atomic_load_n(flag, __ATOMIC_RELAXED);
}

static inline void
flag_set(int *flag)
{
	__atomic_store_n(flag, 1, __ATOMIC_RELAXED);
}

static inline uint64_t
load_u64(const uint64_t *where)
{
	return __atomic_load_n(where, __ATOMIC_RELAXED);
}

static inline void
add_u64(uint64_t *where, uint64_t n)
{
	__atomic_fetch_add(where, n, __ATOMIC_RELAXED);
}

/* Broker (g_opts.broker_pid, -1 without one) and own CPU seconds so far.
 * @thread main */
void sbench_report_cpu(struct cpu_sample *cpu);

/* Sums every producer's and consumer's counters into t, merging their
 * histograms into ack / e2e when not NULL. @thread main (the slots' threads
 * may be running) */
void sbench_report_totals(struct totals *t, struct hist *ack, struct hist *e2e);

/* One progress line on stderr: rates since prev (updated). @thread main */
void sbench_report_progress(uint64_t now, struct totals *prev);

/* The run's result from the slots and the CPU samples before and after the
 * measured window. @thread main, after the load threads ended */
void sbench_report_result(struct result *r, const struct cpu_sample *c0,
			  const struct cpu_sample *c1);

/* Writes r as JSON to path (the format bench/compare reads); -1 (reported)
 * on a write error. @thread main */
int sbench_report_json(const char *path, const struct result *r);

/* The human summary of r on stdout. @thread main */
void sbench_report_summary(const struct result *r);

#endif
