/* SPDX-License-Identifier: Apache-2.0 */
/* Cluster mode on the control thread: ZooKeeper's view (control/cluster.h)
 * applied to this broker. The topic store follows ZooKeeper's topics; the
 * partitions this broker is a replica of have open logs with their role in
 * storage (leader: epoch, ISR, min ISR; follower: fed by the replica
 * fetcher); the snapshots carry brokers, leaders and ISRs; the leader's
 * ISR changes go back to ZooKeeper; topic admin goes through ZooKeeper.
 * Internal to control/. @thread control */
#ifndef CONTROL_CTL_CLUSTER_H
#define CONTROL_CTL_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/kp.h"

struct ctl;
struct st;
struct config;
struct md_topic;

/* Is cluster mode configured (zookeeper.connect set)? */
bool ctl_cluster_configured(const struct config *cfg);
/* Check the cluster keys (inter.broker.listener.name names a PLAINTEXT
 * listener) and allocate the state. 0, or -EINVAL with err naming the key. */
int ctl_cluster_create(struct ctl *ctl, char *err, size_t err_size);
/* Before st_start(): the replica fetcher and its storage ring. */
int ctl_cluster_attach_ring(struct ctl *ctl, struct st *st, char *err, size_t err_size);
/* After storage started and the listeners' ports are known: join the
 * cluster (ZooKeeper session, registration), bring the store in step with
 * it, open this broker's replicas with their roles, start the fetcher.
 * 0 or -errno (logged). */
int ctl_cluster_start(struct ctl *ctl);
/* Controlled shutdown (controlled.shutdown.enable): hand leadership over
 * while the cores still serve; bounded. */
void ctl_cluster_shutdown(struct ctl *ctl);
/* Stop the fetcher, leave ZooKeeper, free. */
void ctl_cluster_destroy(struct ctl *ctl);

/* The control loop's turn: ZooKeeper events (apply what changed) and the
 * ISR timer. Returns how long the loop may sleep (ms, at most max_ms). */
int ctl_cluster_step(struct ctl *ctl, int max_ms);
/* The descriptor that wakes the loop for ZooKeeper events; -1: none. */
int ctl_cluster_fd(const struct ctl *ctl);

/* ctl_cluster_admin.c: the admin ops in cluster mode. */
int16_t ctl_cluster_topic_create(struct ctl *ctl, const struct kp_topic_spec *spec,
				 bool validate_only, struct kp_uuid *id_out, char *msg,
				 size_t msg_size);
int16_t ctl_cluster_topic_delete(struct ctl *ctl, const struct kp_md_topic *topic, char *msg,
				 size_t msg_size);
int16_t ctl_cluster_partitions_create(struct ctl *ctl, const struct kp_md_topic *topic,
				      int32_t count, bool validate_only, char *msg,
				      size_t msg_size);
/* A topic's new override set (AlterConfigs): to ZooKeeper, then applied
 * when the change comes back through the view. KP error code. */
int16_t ctl_cluster_topic_configs_set(struct ctl *ctl, const struct md_topic *t,
				      const struct kp_topic_config *configs, int32_t count);
/* A producer id unique across the cluster. KP error code. */
int16_t ctl_cluster_producer_id_next(struct ctl *ctl, int64_t *pid_out);

/* ctl_cluster_elect.c: ElectLeaders (kp_admin_ops.leaders_elect). */
void ctl_cluster_leaders_elect(struct ctl *ctl, int8_t type, struct kp_elect *parts,
			       int32_t count, int32_t timeout_ms);
/* ctl_reassign.c: kp_admin_ops.reassign / .reassign_list (ctx: ctl). */
int16_t ctl_reassign(void *ctx, struct kp_reassign *parts, int32_t count, int32_t timeout_ms);
int16_t ctl_reassign_list(void *ctx, struct kp_reassign_state **out, int32_t *count);
/* ctl_cluster.c, for ctl_cluster_admin.c: apply the view if it changed
 * (returns whether it did); wait up to ms for ZooKeeper events. */
bool ctl_cluster_poll_apply(struct ctl *ctl);
void ctl_cluster_wait_event(struct ctl *ctl, int ms);

#endif
