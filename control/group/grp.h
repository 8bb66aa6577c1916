/* SPDX-License-Identifier: Apache-2.0 */
/* The group coordinator (Kafka's classic group protocol) as the control
 * loop sees it: created with control, handed every group API request,
 * ticked for its timers (session and rebalance timeouts, the initial
 * rebalance delay, offset expiry). It runs only on the control thread, so
 * a rebalancing group never stalls a dataplane core. @thread control */
#ifndef CONTROL_GROUP_GRP_H
#define CONTROL_GROUP_GRP_H

#include <stdbool.h>
#include <stdint.h>

#include "protocol/kp.h"

struct config;
struct ctl;
struct grp_coord;

/* NULL when out of memory. */
struct grp_coord *grp_coord_create(struct ctl *ctl, const struct config *cfg);
/* Drop every parked request (ctl_park_drop) and free everything. */
void grp_coord_destroy(struct grp_coord *c);

/* Start loading __consumer_offsets if the topic exists (at start-up, after
 * the storage workers run); until a partition is loaded its groups answer
 * COORDINATOR_LOAD_IN_PROGRESS. */
void grp_coord_start(struct grp_coord *c);

/* Cluster mode (set before grp_coord_start(), which then loads nothing):
 * the __consumer_offsets partitions come and go with this broker's
 * leadership, told by control through grp_coord_partition_role(). */
void grp_coord_set_cluster(struct grp_coord *c, bool cluster);
/* Cluster mode: this broker now leads (leader) partition `partition` of
 * __consumer_offsets at leader_epoch: load its groups and offsets from the
 * (replicated) log, answering COORDINATOR_LOAD_IN_PROGRESS meanwhile, and
 * serve them; or it no longer does: drop them (their parked requests
 * answer NOT_COORDINATOR) and answer NOT_COORDINATOR for their groups from
 * now on, as Kafka's GroupMetadataManager loads and unloads partitions. */
void grp_coord_partition_role(struct grp_coord *c, int32_t partition, bool leader,
			      int32_t leader_epoch);

/* kp_admin_ops.group: one request of a group API (call->api_key). */
enum kp_verdict grp_coord_handle(struct grp_coord *c, struct kp_group_call *call);

/* CLOCK_MONOTONIC ns of the earliest timer, UINT64_MAX when none. */
uint64_t grp_coord_deadline(const struct grp_coord *c);
/* Run the timers due at now_ns. */
void grp_coord_tick(struct grp_coord *c, uint64_t now_ns);

/* Metrics: one call per group, then one per committed offset. */
struct grp_metrics_group {
	const char *group_id;
	const char *state;              /* Kafka's name: "Stable", "Empty", ... */
	int32_t members;
	int32_t generation;
};
struct grp_metrics_offset {
	const char *group_id;
	const char *topic;
	int32_t partition;
	int64_t offset;
};
void grp_coord_metrics(const struct grp_coord *c,
		       void (*group_fn)(void *arg, const struct grp_metrics_group *g),
		       void (*offset_fn)(void *arg, const struct grp_metrics_offset *o),
		       void *arg);

#endif
