/* SPDX-License-Identifier: Apache-2.0 */
/* Public interface of control/: the slow-path thread that owns topic
 * metadata and configuration, answers forwarded admin requests and publishes
 * metadata snapshots to the dataplane. Nothing else depends on control/. */
#ifndef CONTROL_CTL_H
#define CONTROL_CTL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct dp;
struct st;
struct ctl;

/* Open the metadata store under the config's log dir. NULL with err set.
 * @thread control */
/* cfg stays the caller's; control changes its dynamic layers at runtime
 * (AlterConfigs), so nothing else may read those fields meanwhile. */
struct ctl *ctl_create(struct config *cfg, char *err, size_t err_size);
/* Before st_start(): control's own ring pair to the storage workers
 * (storage index dataplane cores, so st_config.core_count must be the
 * dataplane cores + 1) wakes the control loop; in cluster mode the replica
 * fetcher takes the ring after it (st_config.replica_ring). 0, or -1 with
 * err set. */
int ctl_attach_storage_ring(struct ctl *ctl, struct st *st, char *err, size_t err_size);
/* Is cluster mode configured (zookeeper.connect)? */
bool ctl_cluster_mode(const struct ctl *ctl);
/* Open every topic's partition logs in the (started) storage workers.
 * 0 or -errno. */
int ctl_attach_storage(struct ctl *ctl, struct st *st);
/* Publish the first snapshot to dp (before dp_start()); in cluster mode
 * join the cluster first. 0 or -errno (logged). */
int ctl_attach(struct ctl *ctl, struct dp *dp);
/* Serve Prometheus metrics on host:port from the control loop (after
 * ctl_attach()). 0, or -1 with err set. @thread control */
int ctl_metrics_listen(struct ctl *ctl, const char *host, uint16_t port, char *err,
		       size_t err_size);
/* Serve forwarded requests until *stop becomes nonzero. @thread control */
void ctl_run(struct ctl *ctl, volatile sig_atomic_t *stop);
/* Free everything. Call after dp_stop() and before dp_destroy() and
 * st_stop(): the group coordinator finishes its storage operations and
 * closes its parked requests' connections on the way out. */
void ctl_destroy(struct ctl *ctl);

/* After st_stop(): free what had to outlive the storage workers (the
 * replica fetcher, whose ring they may post to until they stop). */
void ctl_storage_stopped(void);

#endif
