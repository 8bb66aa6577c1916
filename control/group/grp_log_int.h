/* SPDX-License-Identifier: Apache-2.0 */
/* The log part's own state, shared by grp_log.c (the topic, loading at
 * start), grp_log_cluster.c (cluster mode: partitions loaded and unloaded
 * with leadership), grp_log_load.c (decoding a stored batch into
 * grp_load_group / off_load_offset calls) and grp_log_batch.c (building
 * and appending batches). Nothing outside grp_log*.c includes it (but the
 * log's unit test). @thread control */
#ifndef CONTROL_GROUP_GRP_LOG_INT_H
#define CONTROL_GROUP_GRP_LOG_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "control/group/grp_int.h"

struct md_topic;

#define GRP_LOG_TOPIC "__consumer_offsets"
/* Partition scans in flight at start-up (each reads 1 MiB at a time). */
#define GRP_LOG_SCANS_MAX 4
/* A partition whose scan failed is scanned again this many times in all. */
#define GRP_LOG_SCAN_TRIES_MAX 3
/* Completions of batches begun without memory for the batch itself. */
#define GRP_LOG_OOM_MAX 1024

enum grp_log_part {
	GRP_LOG_PART_WAITING = 0,       /* to be scanned */
	GRP_LOG_PART_LOADING,
	GRP_LOG_PART_LOADED,
	GRP_LOG_PART_FAILED,            /* scans failed: COORDINATOR_NOT_AVAILABLE */
	GRP_LOG_PART_UNOWNED,           /* cluster mode: not led here: NOT_COORDINATOR */
};

/* Cluster mode: one partition of __consumer_offsets as this broker sees it. */
struct grp_log_cpart {
	uint8_t state;                  /* enum grp_log_part (UNOWNED when never led) */
	bool has_epoch;                 /* a role with a leader epoch was seen */
	int32_t epoch;                  /* the latest leader epoch seen (stale roles
					 * are ignored, as Kafka's coordinator epoch) */
	uint32_t gen;                   /* bumped by every load and unload */
	int32_t appends;                /* batches committed, done not yet run: a
					 * reload waits for them (their callbacks
					 * must find the old groups gone, not new) */
};

struct grp_log;

struct grp_log_scan {
	struct grp_log *l;
	int32_t partition;
	uint32_t epoch;                 /* l->epoch (cluster: the cpart's gen) when
					 * the scan began */
	uint8_t topic_id[16];           /* cluster mode: the topic scanned */
	uint8_t tries;
	bool busy;
};

struct grp_log_oom {
	void (*done)(void *arg, int16_t error);
	void *arg;
};

struct grp_log_batch {
	struct grp_log *l;
	struct grp_log_batch *next;     /* on l's failed list */
	char *group;
	int32_t group_len;
	uint8_t *recs;                  /* the records, each length-prefixed */
	size_t recs_len;
	size_t recs_cap;
	int64_t bytes_max;              /* the whole batch, as max.message.bytes */
	int32_t count;
	int32_t partition;              /* cluster mode: counted in its cpart's
					 * appends; -1: not counted */
	int16_t error;                  /* KP_ERR_NONE, or why it fails */
	bool has_offsets;               /* Kafka maps errors as for offset commits */
	bool oom;                       /* l->oom_batch: not allocated */
	void (*done)(void *arg, int16_t error);
	void *arg;
};

struct grp_log {
	struct grp_coord *c;
	struct ctl *ctl;
	bool started;                   /* grp_log_start() ran */
	int32_t store_index;            /* where the topic was in the store, or -1 */
	bool destroyed;                 /* freed once nothing is in flight */
	/* The topic whose partitions part_state describes (known: it did). A
	 * topic found under another id was created after start: empty. */
	bool known;
	struct kp_uuid id;
	uint32_t epoch;                 /* bumped when the topic changes */
	int32_t part_count;
	uint8_t *part_state;            /* enum grp_log_part per partition */
	int32_t scan_next;
	int32_t scans_inflight;
	int32_t loaded_count;
	struct grp_log_scan scans[GRP_LOG_SCANS_MAX];
	/* Storage operations started whose callback has not run. */
	int32_t appends_inflight;
	/* Failed batches, completed from the next kick (a storage round trip,
	 * so that done always runs later). */
	struct grp_log_batch *failed_head;
	struct grp_log_batch *failed_tail;
	struct grp_log_oom oom[GRP_LOG_OOM_MAX];
	int32_t oom_count;
	bool kick_inflight;
	struct grp_log_batch oom_batch; /* handed out when a batch cannot be allocated */
	/* Cluster mode (grp_log_cluster.c): partitions come and go with
	 * leadership; part_state and the scans above are single-broker's. */
	bool cluster;
	struct grp_log_cpart *cparts;   /* indexed by partition; past cpart_cap: UNOWNED */
	int32_t cpart_cap;
	int32_t cpart_topic_count;      /* the topic's partitions when last led */
	int32_t cscan_next;             /* where the next look for a partition to load starts */
};

/* The __consumer_offsets topic in the store, NULL when missing. */
const struct md_topic *grp_log_topic(struct grp_log *l);
/* Free l once destroyed and nothing is in flight any more. */
void grp_log_maybe_free(struct grp_log *l);

/* grp_log_load.c: feed one stored batch of a partition to the loaders.
 * Returns the records loaded. */
int32_t grp_log_load_batch(struct grp_coord *c, int32_t partition, const uint8_t *batch,
			   uint32_t len);

/* grp_log_batch.c: the failed-batch kick, for destroy. */
void grp_log_batch_free(struct grp_log_batch *b);
/* Kafka's GroupMetadataManager: the log's append error as the coordinator
 * answers it, for offset commits (storeOffsets) or group metadata
 * (storeGroup). */
int16_t grp_log_append_error(bool offsets, int16_t error);

/* grp_log_cluster.c. Start: load the partitions led before start. */
void grp_log_cluster_start(struct grp_log *l);
int16_t grp_log_cluster_ready(struct grp_log *l, struct kp_str group_id);
/* Count a batch of partition p in (+1) or out (-1); the last one out lets
 * a waiting load of p start. */
void grp_log_cluster_appends(struct grp_log *l, int32_t partition, int32_t delta);

#endif
