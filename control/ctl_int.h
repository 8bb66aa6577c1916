/* SPDX-License-Identifier: Apache-2.0 */
/* Control thread state, shared by ctl_loop.c, admin.c, ctl_storage.c and
 * metrics.c only. */
#ifndef CONTROL_CTL_INT_H
#define CONTROL_CTL_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "control/acl.h"
#include "control/config.h"
#include "control/ctl.h"
#include "control/ctl_park.h"
#include "control/ctl_sched.h"
#include "control/metadata.h"
#include "control/pid_alloc.h"
#include "control/quota.h"
#include "control/scram_store.h"
#include "dataplane/dp.h"

/* Snapshots replaced while one request runs (the handler may still point
 * into them, so they are freed only after the request, once published):
 * the request's own, and at most one md_fresh() rebuild. */
#define CTL_RETIRED_MAX 2

struct st;
struct st_log_config;
struct kp_topic_config;
struct metrics;
struct mx_buf;
struct grp_coord;
struct ctl_parks;
struct ctl_log_state;
struct ctl_dyn;
struct ctl_sasl;
struct ctl_cluster;

/* Dynamic broker settings kept per resource (this broker, the default). */
#define CTL_DYN_MAX 256
struct ctl_dyn_set {
	int32_t count;
	struct config_dyn_entry e[CTL_DYN_MAX];     /* heap strings */
};

struct ctl {
	const struct config *cfg;
	struct config *cfg_rw;          /* the same: only ctl_dynamic.c writes it */
	struct md_store store;
	struct st *st;                  /* storage workers; NULL in tests */
	struct pid_alloc pids;
	struct quota_store quotas;      /* client quotas (quota.c) */
	struct acl_store acls;          /* ACLs (acl.c); the index is broker.acl */
	struct scram_store scram;       /* SCRAM credentials (scram_store.c) */
	struct ctl_sasl *sasl;          /* SASL exchanges (ctl_sasl.c) */
	struct md_broker broker;
	struct dp *dp;
	struct kp_md *md;               /* current snapshot */
	bool md_dirty;                  /* store changed since md was built */
	bool in_request;                /* a forwarded request is being handled */
	uint64_t md_epoch;
	int retired_count;
	struct kp_md *retired[CTL_RETIRED_MAX];
	/* Forwarded requests taken from the cores, served round-robin per
	 * connection, and the replies the cores' rings refused (bounded). */
	struct ctl_sched *sched;
	/* How replies reach a core: dp_ctl_send() over ctl->dp (tests put a
	 * double here). */
	ctl_sched_send_fn *send;
	void *send_arg;
	/* The forwarded request being handled (in_request), as ctl_park_take()
	 * captures it, and whether it did. */
	struct ctl_park cur;
	bool cur_parked;
	struct ctl_parks *parks;        /* ctl_park.c */
	struct ctl_log_state *log;      /* ctl_log.c: control's storage ring */
	struct grp_coord *groups;       /* the group coordinator */
	struct metrics *metrics;        /* the /metrics endpoint; NULL: disabled */
	struct ctl_dyn *dyn;            /* ctl_dynamic.c: dynamic broker configs */
	/* Cluster mode (ctl_cluster*.c); NULL: a single broker. */
	struct ctl_cluster *cluster;
	bool meta_fresh;                /* the log dir had no meta.properties */
	/* Refused connections already reported (ctl_loop.c), and when. */
	uint64_t refused_logged[3];
	uint64_t refused_check_ns;
	uint64_t refused_log_ns;
};

extern const struct kp_admin_ops ctl_admin_ops;

/* The current snapshot, rebuilt first if the store changed, except during
 * a request, which keeps the snapshot it started with. */
const struct kp_md *ctl_md(struct ctl *ctl);
/* Rebuild now if the store changed, also during a request. */
const struct kp_md *ctl_md_rebuild(struct ctl *ctl);

/* log_dirs.c: kp_admin_ops.log_dir_describe (DescribeLogDirs). */
int16_t ctl_log_dir_describe(void *ctx, struct kp_log_dir *dir, kp_log_dir_part_fn *fn,
			     void *arg);
/* kp_admin_ops.quotas_describe / quota_alter over ctl->quotas (ctl_quota.c);
 * a change marks the snapshot dirty so the cores enforce it. */
int16_t ctl_quota_describe(void *ctx, const struct kp_quota_filter *filters, int32_t filter_count,
			   bool strict, kp_quota_entry_fn *fn, void *arg, char *msg,
			   size_t msg_size);
int16_t ctl_quota_alter(void *ctx, const struct kp_quota_entity *entity, struct kp_str bad_type,
			const struct kp_quota_op *ops, int32_t op_count, bool validate_only,
			char *msg, size_t msg_size);

/* kp_admin_ops.acls_* over ctl->acls (ctl_acl.c): a change rebuilds the
 * index and marks the snapshot dirty, so the cores check the new ACLs.
 * ctl_acl_open loads the store and builds the first index (authorizer on). */
int ctl_acl_open(struct ctl *ctl, char *err, size_t err_size);
/* Cluster mode: reload the ACLs from ZooKeeper and rebuild the index
 * (a no-op otherwise). 0 or -errno (the old ACLs stay). */
int ctl_acl_sync(struct ctl *ctl);
/* Cluster mode: apply the ACL change notifications (each re-reads the
 * resource it names; a failure reloads everything) and rebuild the index. */
int ctl_acl_changes(struct ctl *ctl);
void ctl_acl_close(struct ctl *ctl);
int16_t ctl_acl_create(void *ctx, const struct kp_acl *acls, int32_t count, char *msg,
		       size_t msg_size);
void ctl_acl_describe(void *ctx, const struct kp_acl_filter *filter, kp_acl_fn *fn, void *arg);
int16_t ctl_acl_delete(void *ctx, const struct kp_acl_filter *filters, const bool *skip,
		       int32_t count, kp_acl_removed_fn *fn, void *arg, char *msg,
		       size_t msg_size);

/* ctl_storage.c: a topic's log settings; open its partitions [from, count)
 * (creating or recovering their logs); open every topic's at startup. */
void ctl_storage_log_config(const struct config *cfg, const struct kp_topic_config *o, int32_t n,
		    struct st_log_config *lc);
int32_t ctl_storage_topic_max_message_bytes(const struct config *cfg, const struct md_topic *t);
int ctl_storage_open(struct ctl *ctl, const struct md_topic *t, int32_t from);
/* Start-up: remove directories of partitions the store does not know, then
 * open every topic's partitions. */
int ctl_storage_open_all(struct ctl *ctl);
/* Create the logs of new partitions [from, to) of a topic not yet (or not
 * yet that large) in the store, all or nothing (st_partitions_create). */
int ctl_storage_create(struct ctl *ctl, struct kp_str name, const struct kp_uuid *id, int32_t from,
		       int32_t to, const struct kp_topic_config *configs, int32_t config_count);
/* Undo ctl_storage_create() (the store refused the change). */
void ctl_storage_remove(struct ctl *ctl, struct kp_str name, const struct kp_uuid *id,
			int32_t from, int32_t to);

/* Re-apply a topic's storage settings (its overrides or the broker's
 * values changed); a failure is logged. */
void ctl_storage_reconfigure(struct ctl *ctl, const struct md_topic *t);

/* ctl_dynamic.c: load the dynamic broker configs from the log dir and lay
 * them over ctl->cfg (at start, before storage opens the topics). 0 or
 * -errno with err set. */
int ctl_dyn_open(struct ctl *ctl, char *err, size_t err_size);
void ctl_dyn_close(struct ctl *ctl);
/* The stored settings of this broker (per_broker) or of the default. */
const struct ctl_dyn_set *ctl_dyn_get(const struct ctl *ctl, bool per_broker);
/* Replace one resource's settings (n <= CTL_DYN_MAX): persisted first,
 * then applied live. 0 or -errno (nothing changed when the write failed). */
int ctl_dyn_replace(struct ctl *ctl, bool per_broker, const struct config_dyn_entry *e,
		    int32_t n);

/* admin_configs.c: the configs_alter admin op; and the stored dynamic
 * keys Spillway does not know, as DescribeConfigs lists them for this
 * broker (per_broker) or the cluster default. */
int16_t admin_configs_alter(void *ctx, int8_t resource_type, struct kp_str resource,
			    const struct kp_config_op *ops, int32_t op_count, bool incremental,
			    bool validate_only, char *msg, size_t msg_size);
void admin_configs_describe_unknown(struct ctl *ctl, bool per_broker, const struct kp_str *names,
				    int32_t name_count, bool synonyms, kp_config_entry_fn *fn,
				    void *arg);

/* ctl_park.c: parked requests and the replies a core's ring refused. NULL
 * when out of memory. */
struct ctl_parks *ctl_parks_create(int core_count);
/* Free the queued replies (after the cores stopped; the handles must all
 * have been sent or dropped). */
void ctl_parks_destroy(struct ctl_parks *pk);
/* Send queued replies, oldest first per core, until a ring refuses.
 * Returns how many are still queued. */
uint32_t ctl_park_flush(struct ctl *ctl);

/* ctl_log.c: control's ring pair to the storage workers (index
 * st_config.core_count - 1 = the dataplane core count). */
struct ctl_log_state *ctl_log_create(int storage_index);
void ctl_log_destroy(struct ctl_log_state *lg);
/* The eventfd the storage workers kick after posting completions for
 * control (st_attach_core()). */
int ctl_log_eventfd(const struct ctl_log_state *lg);
/* Submit what waits, reap completions and run their callbacks. Returns
 * whether it did anything. */
bool ctl_log_poll(struct ctl *ctl);
/* Shutdown: run until the operations in flight finished, at most
 * timeout_ns (the storage workers must still run). */
void ctl_log_quiesce(struct ctl *ctl, uint64_t timeout_ns);

/* One turn of the control loop without sleeping: take requests from the
 * cores (when attached), run one, send replies and parked replies, run
 * storage completions and the coordinator's timers. Returns how long the
 * loop may sleep (ms) before the next turn. @thread control */
int ctl_step(struct ctl *ctl);

/* metrics.c: render one scrape (metrics_render_fn; arg is the ctl). */
void ctl_metrics_render(void *arg, struct mx_buf *b);
/* ctl_metrics_cluster.c: controller, ISR and replication lag families
 * (cluster mode only). */
void ctl_metrics_cluster(struct ctl *ctl, struct mx_buf *b);
/* ctl_metrics_tls.c: TLS handshakes by listener. */
void ctl_metrics_tls(struct ctl *ctl, struct mx_buf *b);

/* ctl_metrics_groups.c: the consumer group families (state, members,
 * generation, committed offset, lag); log_end(arg, topic, partition) gives
 * a partition's log end offset, -1 when unknown. */
typedef int64_t ctl_metrics_log_end_fn(void *arg, const char *topic, int32_t partition);
void ctl_metrics_groups(struct ctl *ctl, struct mx_buf *b, ctl_metrics_log_end_fn *log_end,
			void *log_end_arg);

#endif
