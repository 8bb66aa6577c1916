/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the coordinator's offsets part (off_*.c): one group's committed
 * offsets (off_store.c), shared by the per-API handler files, expiry and
 * loading. Membership and the log never include this: they go through
 * grp_int.h. @thread control */
#ifndef CONTROL_GROUP_OFF_INT_H
#define CONTROL_GROUP_OFF_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "control/group/grp_int.h"

/* Kafka's offsets.metadata.max.bytes default (not configurable here). */
#define OFF_METADATA_BYTES_MAX 4096
/* Bounds on what clients can make us keep (STYLE 15): Kafka has none, a
 * commit past them gets INVALID_COMMIT_OFFSET_SIZE for the new partitions. */
#define OFF_GROUP_OFFSETS_MAX 200000    /* partitions with offsets, one group */
#define OFF_TOTAL_OFFSETS_MAX 1000000   /* partitions with offsets, all groups */

/* A committed value as kept in memory (Kafka's OffsetAndMetadata). */
struct off_value {
	int64_t offset;
	int32_t leader_epoch;           /* -1: none */
	int32_t metadata_len;
	char *metadata;                 /* NULL when metadata_len is 0 */
	int64_t commit_ts_ms;
	int64_t expire_ts_ms;           /* -1: none (only v1-v4 commits set it) */
};

struct off_entry;

/* The partitions of one topic that have an entry, in creation order. */
struct off_topic {
	struct off_topic *hnext;
	struct off_entry *parts;
	int32_t part_count;
	uint32_t hash;
	int32_t name_len;
	char name[];                    /* NUL-terminated */
};

/* One partition: its committed value and the commits still being appended
 * (Kafka's offsets and pendingOffsetCommits). An entry with neither is
 * removed. */
struct off_entry {
	struct off_entry *hnext;        /* entry hash chain */
	struct off_entry *tnext;        /* topic's list */
	struct off_entry **tprev;
	struct off_topic *topic;
	int32_t partition;
	int32_t pending;                /* commits staged, not yet durable */
	bool committed;                 /* v holds a value */
	uint64_t born_seq;              /* off_seq_next() when created */
	struct off_value v;
};

struct off_group {
	struct off_topic **topics;
	uint32_t topic_buckets;         /* a power of two */
	int32_t topic_count;
	struct off_entry **entries;
	uint32_t entry_buckets;         /* a power of two */
	int32_t entry_count;
};

/* ---- off_store.c ---- */

/* Wall-clock ms (commit timestamps, expiry); tests replace the clock. */
int64_t off_now_ms(void);
void off_set_clock_ms(int64_t (*now_fn)(void));
/* The group ACL of the current API first (OffsetCommit READ, OffsetFetch
 * DESCRIBE, OffsetDelete DELETE: GROUP_AUTHORIZATION_FAILED), then Kafka's
 * validateGroupStatus: INVALID_GROUP_ID (null, or empty unless
 * allow_empty), else the log's readiness for the group's partition. */
int16_t off_check_id(struct grp_coord *c, struct kp_str group_id, bool allow_empty);
/* A number larger than every one handed out before (commit staging). */
uint64_t off_seq_next(void);
/* Entries held by every group now. */
int64_t off_total_count(void);

/* g's offsets, created when create (NULL: none, or out of memory). */
struct off_group *off_group_of(struct grp *g, bool create);
struct off_entry *off_entry_find(const struct off_group *o, struct kp_str topic,
				 int32_t partition);
/* The entry, created empty when missing; NULL with *error set
 * (INVALID_COMMIT_OFFSET_SIZE at a bound, COORDINATOR_NOT_AVAILABLE out of
 * memory). */
struct off_entry *off_entry_get(struct off_group *o, struct kp_str topic, int32_t partition,
				int16_t *error);
/* Set the committed value (metadata copied); false when out of memory. */
bool off_entry_set(struct off_entry *e, const struct grp_rec_offset *v);
void off_entry_remove(struct off_group *o, struct off_entry *e);
/* Remove e when it holds neither a value nor a pending commit. */
void off_entry_maybe_remove(struct off_group *o, struct off_entry *e);
/* g has no offsets left: free its table (not the group). */
void off_group_drop_if_unused(struct grp *g);
/* The record value of e's committed value. */
struct grp_rec_offset off_entry_rec(const struct off_entry *e);

/* ---- off_delete.c ---- */

/* Remove and tombstone the committed entries of o that match keep == false
 * of fn (NULL: all), in one batch; then remove g if it is now unused (with
 * its group tombstone). done(arg, error) once durable (at once with NONE
 * when nothing was written). Returns the number of tombstones. */
int32_t off_tombstone(struct grp_coord *c, struct grp *g,
		      bool (*expired)(void *arg, const struct off_entry *e), void *earg,
		      bool remove_group, void (*done)(void *arg, int16_t error), void *arg);

/* ---- off_commit.c ---- */

/* Kafka's GroupMetadataManager.maybeConvertOffsetCommitError. */
int16_t off_commit_error(int16_t append_error);

/* ---- off_dedup.c ---- */

/* One partition listing of a request: its topic, partition and position;
 * as_listed: answered as listed, never merged (OffsetCommit's unknown
 * partitions, which Kafka answers before its coordinator's map). */
struct off_key {
	struct kp_str topic;
	int32_t partition;
	int32_t index;
	bool as_listed;
};
/* The listings to answer (off_dedup.c): the last listing of each distinct
 * (topic, partition) and every as_listed one, grouped by topic (topics in
 * the order of their first listing, partitions in listing order); their
 * indexes go to order (room for n). Returns how many, or -1 when out of
 * memory. */
int32_t off_dedup(const struct off_key *keys, int32_t n, int32_t *order);

/* ---- grp_subscription.c ---- */

enum grp_subscription {
	GRP_SUB_UNKNOWN = -1,           /* not a consumer group, or unparsable */
	GRP_SUB_NO = 0,
	GRP_SUB_YES = 1,
};
/* Kafka's GroupMetadata.subscribedTopics for one topic: UNKNOWN when the
 * group is not a "consumer" group with members and a protocol, or a
 * member's ConsumerProtocolSubscription does not parse. */
enum grp_subscription grp_subscription_of(const struct grp *g, struct kp_str topic);

#endif
