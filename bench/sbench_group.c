/* SPDX-License-Identifier: Apache-2.0 */
/* spillway-bench --group: the consumers share one consumer group instead of
 * each reading every partition. They subscribe; the rebalance callback
 * assigns each partition at the run's start offset (so nothing produced
 * during the join is skipped) and counts what this consumer owns; the main
 * thread starts producing only once every partition has an owner, and the
 * time from subscribing to that moment is the group's join (rebalance)
 * time. */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "bench_client.h"
#include "sbench.h"

extern int64_t *g_start_offsets;

static void
sbench_group_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
		       rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct consumer *cons = opaque;
	int i;

	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		for (i = 0; i < parts->cnt; i++)
			if (parts->elems[i].partition < g_partition_count)
				parts->elems[i].offset =
					g_start_offsets[parts->elems[i].partition];
		if (rd_kafka_assign(rk, parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
			note_error(cons->error, "assign failed");
		__atomic_store_n(&cons->owned, parts->cnt, __ATOMIC_RELAXED);
	} else {
		rd_kafka_assign(rk, NULL);
		__atomic_store_n(&cons->owned, 0, __ATOMIC_RELAXED);
	}
}

void
sbench_group_conf(rd_kafka_conf_t *conf, struct consumer *cons)
{
	rd_kafka_conf_set_rebalance_cb(conf, sbench_group_rebalance);
	rd_kafka_conf_set_opaque(conf, cons);
}

int
sbench_group_subscribe(struct consumer *cons)
{
	rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
	rd_kafka_resp_err_t err;

	rd_kafka_topic_partition_list_add(topics, g_opts.topic, RD_KAFKA_PARTITION_UA);
	err = rd_kafka_subscribe(cons->rk, topics);
	rd_kafka_topic_partition_list_destroy(topics);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		note_error(cons->error, rd_kafka_err2str(err));
		return -1;
	}
	return 0;
}

/* Whether every partition has exactly one owner and, with no more
 * consumers than partitions, every consumer owns one (the group is stable). */
static int
sbench_group_stable(void)
{
	int owned = 0, idle = 0, i;

	for (i = 0; i < g_opts.consumers; i++) {
		int n = __atomic_load_n(&g_consumers[i].owned, __ATOMIC_RELAXED);

		owned += n;
		idle += n == 0;
	}
	return owned == g_partition_count && (g_opts.consumers > g_partition_count || idle == 0);
}

double
sbench_group_wait(double timeout_s)
{
	uint64_t t0 = bench_client_mono_us();
	uint64_t end = t0 + (uint64_t)(timeout_s * 1e6);

	while (!sbench_group_stable()) {
		if (bench_client_mono_us() >= end || flag_get(&g_data_path_failed)) {
			note_error(g_consumers[0].error, "group not assigned in time");
			flag_set(&g_data_path_failed);
			return -1;
		}
		usleep(1000);
	}
	return (double)(bench_client_mono_us() - t0) / 1e6;
}
