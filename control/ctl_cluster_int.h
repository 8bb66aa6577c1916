/* SPDX-License-Identifier: Apache-2.0 */
/* Cluster mode's state on the control thread, shared by ctl_cluster*.c
 * only. @thread control */
#ifndef CONTROL_CTL_CLUSTER_INT_H
#define CONTROL_CTL_CLUSTER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "storage/st.h"

struct ctl;
struct config;

/* A replica this broker holds: its log is open in storage. */
struct ctl_cluster_part {
	uint8_t topic_id[16];
	int32_t partition;
	char *topic;                    /* heap */
	struct st_role role;            /* the last one given to storage */
	bool role_set;
	int32_t follow_leader;          /* what the fetcher was told; -1: nothing */
	int32_t follow_epoch;
	/* When it became leader at role.leader_epoch (CLOCK_REALTIME ms):
	 * Kafka counts every ISR member caught up at that moment. */
	int64_t leader_since_ms;
	bool seen;                      /* mark of ctl_cluster_apply's sweep */
};

struct ctl_cluster {
	struct cluster *cl;
	struct rf *rf;
	struct ctl_cluster_part *parts;
	int32_t part_count;
	int32_t part_cap;
	int inter_listener;             /* inter.broker.listener.name's index */
	bool started;
	int64_t isr_next_ms;            /* the ISR timer's next run */
	int64_t hwck_next_ms;           /* the high-watermark checkpoint's next write */
	int64_t pid_next;               /* producer id block [pid_next, pid_end) */
	int64_t pid_end;
	char client_id[48];             /* the fetcher's */
	/* Metrics (ctl_metrics_cluster.c). */
	uint64_t isr_shrinks;
	uint64_t isr_expands;
	uint64_t controller_changes;
	int32_t controller_seen;        /* the controller id last applied */
};

/* ctl_cluster_apply.c: bring the store, storage, the fetcher and the
 * snapshot in step with the view; first: the start-up pass, which also
 * sweeps the log dirs of partitions this broker does not hold. 0 or
 * -errno (only the first pass fails). */
int ctl_cluster_apply(struct ctl *ctl, bool first);
void ctl_cluster_parts_free(struct ctl_cluster *cc);
struct ctl_cluster_part *ctl_cluster_part_find(struct ctl_cluster *cc, const uint8_t id[16],
					       int32_t partition);

/* ctl_cluster_isr.c: shrink and expand the ISRs of the partitions this
 * broker leads, as Kafka's leader does every replica.lag.time.max.ms / 2. */
void ctl_cluster_isr_check(struct ctl *ctl, int64_t now_ms);
int64_t ctl_cluster_isr_period_ms(const struct config *cfg);

#endif
