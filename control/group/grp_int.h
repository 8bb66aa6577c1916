/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the group coordinator: the contract between its three parts.
 *   membership (grp_*.c): groups, members, generations, the JoinGroup /
 *     SyncGroup / Heartbeat / LeaveGroup state machine, static membership,
 *     FindCoordinator, DescribeGroups, ListGroups, DeleteGroups, timers;
 *   offsets (off_*.c): committed offsets per group, OffsetCommit,
 *     OffsetFetch, OffsetDelete, offsets.retention.minutes expiry;
 *   log (grp_log*.c, grp_rec*.c): the __consumer_offsets topic (created
 *     on the first FindCoordinator, as Kafka does), group -> partition by
 *     Kafka's hash, records encoded as Kafka writes them, appended through
 *     ctl_log (acks=all) and loaded back at start-up.
 * Each part touches the others' state only through the functions below.
 * @thread control */
#ifndef CONTROL_GROUP_GRP_INT_H
#define CONTROL_GROUP_GRP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "control/group/grp.h"
#include "protocol/kp.h"

struct grp;             /* one group (membership) */
struct off_group;       /* one group's committed offsets (offsets) */
struct grp_log;         /* __consumer_offsets (log) */

/* ---- membership, for offsets and log ---- */

struct ctl *grp_coord_ctl(const struct grp_coord *c);
const struct config *grp_coord_config(const struct grp_coord *c);
struct grp_log *grp_coord_log(const struct grp_coord *c);
/* ACL checks of the request being handled (grp_coord.c; true outside a
 * request): grp_allowed counts a denial, grp_allowed_quiet does not
 * (listings leave out what may not be seen). grp_check_acl: the group
 * operation the current API needs, GROUP_AUTHORIZATION_FAILED or NONE. */
bool grp_allowed(const struct grp_coord *c, int op, int rtype, struct kp_str name);
bool grp_allowed_quiet(const struct grp_coord *c, int op, int rtype, struct kp_str name);
int16_t grp_check_acl(const struct grp_coord *c, struct kp_str group_id);

struct grp *grp_find(struct grp_coord *c, struct kp_str group_id);
/* The group, created Empty (generation 0, no protocol) when missing; NULL
 * when out of memory or at the group count bound. */
struct grp *grp_find_or_create(struct grp_coord *c, struct kp_str group_id);
const char *grp_id(const struct grp *g);
/* The slot where offsets keeps this group's offsets (NULL: none yet). */
struct off_group **grp_offsets_slot(struct grp *g);
/* Kafka's checks of an OffsetCommit against the group
 * (GroupMetadata.validateOffsetCommit / GroupCoordinator.handleCommitOffsets):
 * generation -1 with an empty member id commits for a group that is not
 * using group management (Empty); otherwise UNKNOWN_MEMBER_ID,
 * FENCED_INSTANCE_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS as Kafka
 * answers them. A valid commit from a member counts as its heartbeat. */
int16_t grp_commit_check(struct grp_coord *c, struct grp *g, int32_t generation,
			 struct kp_str member_id, struct kp_str instance_id);
/* Whether the group has no members (Empty or Dead): its offsets may expire. */
bool grp_is_empty(const struct grp *g);
/* Offsets dropped the group's last offset: remove an Empty group that has
 * no members and no offsets (Kafka: it becomes Dead). */
void grp_maybe_remove(struct grp_coord *c, struct grp *g);

/* Membership's queries for offsets (grp_query.c, grp_subscription.c).
 * Kafka's protocol type ("consumer", ...), len -1 when none. */
struct kp_str grp_protocol_type(const struct grp *g);
/* Whether the group is Stable (expiry of unsubscribed topics' offsets). */
bool grp_is_stable(const struct grp *g);
/* Wall-clock ms when the group entered its current state (Kafka's
 * currentStateTimestamp), -1 when unknown. */
int64_t grp_state_timestamp_ms(const struct grp *g);
/* Call fn with each member's metadata for the group's chosen protocol
 * (a ConsumerProtocolSubscription for consumer groups). */
void grp_members_each(const struct grp *g,
		      void (*fn)(void *arg, struct kp_bytes subscription), void *arg);
/* Call fn for each group (offset expiry; in cluster mode only the groups
 * of loaded partitions); fn must not remove groups. */
void grp_each(struct grp_coord *c, void (*fn)(void *arg, struct grp *g), void *arg);
/* Whether a member of g subscribes to topic (GroupMetadata.isSubscribedToTopic:
 * false when the group is not a consumer group or a subscription does not
 * parse). */
bool grp_subscribes_to(const struct grp *g, struct kp_str topic);

/* ---- offsets, for membership ---- */

enum kp_verdict off_commit_handle(struct grp_coord *c, struct kp_group_call *call);
enum kp_verdict off_fetch_handle(struct grp_coord *c, struct kp_group_call *call);
enum kp_verdict off_delete_handle(struct grp_coord *c, struct kp_group_call *call);
/* DeleteGroups: tombstone every offset of g (the group metadata tombstone is
 * membership's); done(arg, error) once they are durable. */
void off_group_delete_all(struct grp_coord *c, struct grp *g,
			  void (*done)(void *arg, int16_t error), void *arg);
bool off_group_has_offsets(const struct off_group *o);
void off_group_free(struct off_group *o);
/* Expire offsets past offsets.retention.minutes (called from the tick; it
 * limits itself to offsets.retention.check.interval.ms). */
void off_expire(struct grp_coord *c, uint64_t now_ns);
/* Metrics walk over one group's offsets. */
void off_group_metrics(const struct grp *g, const struct off_group *o,
		       void (*offset_fn)(void *arg, const struct grp_metrics_offset *m),
		       void *arg);

/* ---- log, for membership and offsets ---- */

/* A GroupMetadataValue as membership keeps it (Kafka's record, version 3). */
struct grp_rec_member {
	struct kp_str member_id;
	struct kp_str instance_id;      /* len -1: null */
	struct kp_str client_id;
	struct kp_str client_host;
	int32_t rebalance_timeout_ms;
	int32_t session_timeout_ms;
	struct kp_bytes subscription;
	struct kp_bytes assignment;
};
struct grp_rec_group {
	struct kp_str protocol_type;
	int32_t generation;
	struct kp_str protocol;         /* len -1: null */
	struct kp_str leader;           /* len -1: null */
	int64_t current_state_timestamp;
	int32_t member_count;
	const struct grp_rec_member *members;
};
/* An OffsetCommitValue (version 3: with the leader epoch, no expire time). */
struct grp_rec_offset {
	int64_t offset;
	int32_t leader_epoch;           /* -1: none */
	struct kp_str metadata;
	int64_t commit_timestamp_ms;
	int64_t expire_timestamp_ms;    /* -1: none (v1 only) */
};

struct grp_log *grp_log_create(struct grp_coord *c);
void grp_log_destroy(struct grp_log *l);
/* grp_coord_start(): begin loading the __consumer_offsets partitions that
 * exist (grp_load_group / off_load_offset for each record). */
void grp_log_start(struct grp_log *l);
/* FindCoordinator: create __consumer_offsets when missing
 * (offsets.topic.num.partitions, compacted). KP_ERR_NONE or
 * COORDINATOR_NOT_AVAILABLE. */
int16_t grp_log_ensure(struct grp_log *l);
/* KP_ERR_NONE when the group's partition is loaded, else
 * COORDINATOR_LOAD_IN_PROGRESS; NOT_COORDINATOR while __consumer_offsets
 * does not exist (it is not created here: Kafka 3.9 answers group requests
 * so until the first FindCoordinator), COORDINATOR_NOT_AVAILABLE when its
 * partition failed to load. */
int16_t grp_log_ready(struct grp_log *l, struct kp_str group_id);
/* Cluster mode (before grp_log_start(), which then loads nothing): a
 * partition loads when grp_log_partition_lead() says this broker leads it
 * and unloads on grp_log_partition_resign(); groups of partitions not led
 * here answer NOT_COORDINATOR. */
void grp_log_set_cluster(struct grp_log *l);
/* Start loading partition (COORDINATOR_LOAD_IN_PROGRESS until loaded)
 * unless it is loaded or loading already; a leader_epoch older than the
 * last one seen (>= 0 only) is ignored. */
void grp_log_partition_lead(struct grp_log *l, int32_t partition, int32_t leader_epoch);
/* Stop serving partition: returns the topic's partition count (to find
 * the partition's groups, which membership then drops), or -1 when it was
 * not led here or leader_epoch is stale. */
int32_t grp_log_partition_resign(struct grp_log *l, int32_t partition, int32_t leader_epoch);
/* Cluster mode: whether a partition is loading (ListGroups). */
bool grp_log_loading(const struct grp_log *l);

/* Kafka's partitioning: abs(Java String.hashCode(group_id)) % partitions. */
int32_t grp_log_partition_of(struct kp_str group_id, int32_t partitions);

/* Records to append in one batch to the group's partition (durable before
 * done runs): offset commits and tombstones, and the group's metadata. */
struct grp_log_batch;
struct grp_log_batch *grp_log_batch_begin(struct grp_log *l, struct kp_str group_id);
void grp_log_batch_offset(struct grp_log_batch *b, struct kp_str topic, int32_t partition,
			  const struct grp_rec_offset *value /* NULL: tombstone */);
void grp_log_batch_group(struct grp_log_batch *b,
			 const struct grp_rec_group *value /* NULL: tombstone */);
/* Append it; done(arg, error) runs later, on this thread, exactly once
 * (also when building failed: KP_ERR_UNKNOWN_SERVER_ERROR). */
void grp_log_batch_commit(struct grp_log_batch *b, void (*done)(void *arg, int16_t error),
			  void *arg);

/* Loading calls these for every record in offset order (the last one wins;
 * value NULL is a tombstone). */
void grp_load_group(struct grp_coord *c, struct kp_str group_id,
		    const struct grp_rec_group *value);
void off_load_offset(struct grp_coord *c, struct kp_str group_id, struct kp_str topic,
		     int32_t partition, const struct grp_rec_offset *value);

#endif
