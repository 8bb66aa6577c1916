/* SPDX-License-Identifier: Apache-2.0 */
/* Offsets tests: real membership and offsets over a fake
 * __consumer_offsets log (fake_log.c) that records every record and holds
 * each batch until th_log_complete(); helpers that send OffsetCommit,
 * OffsetFetch and OffsetDelete and read their answers. */
#ifndef TESTS_UNIT_CONTROL_GROUP_FAKE_LOG_H
#define TESTS_UNIT_CONTROL_GROUP_FAKE_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "tests/unit/control/group/grp_harness.h"

#define OT_RECS_MAX 256
#define OT_ERR_NONE_YET (-100)  /* not answered yet */

struct ot_rec {
	char topic[32];
	int32_t partition;
	bool tombstone;
	int64_t offset;
};

struct ot_state {
	int64_t wall_ms;
	int64_t offset_recs;            /* offset records written, tombstones too */
	int64_t tombstones;
	int64_t group_tombstones;
	int rec_count;
	struct ot_rec recs[OT_RECS_MAX];   /* the first OT_RECS_MAX */
};

extern struct ot_state ot;

/* Topics the fake metadata knows: "t0" and "t1" (4 partitions each), "big"
 * (200000 partitions). */
void ot_setup(const char *const *overrides);
void ot_advance_ms(uint64_t ms);

struct ot_part {
	const char *topic;
	int32_t partition;
	int64_t offset;
	const char *meta;
};
int32_t ot_commit(int16_t v, const char *group, int32_t gen, const char *member, int n,
		  const struct ot_part *parts);
/* The error of one partition in the reply to corr (OT_ERR_NONE_YET when not
 * answered); *count gets the number of partitions answered. */
int16_t ot_commit_err(int32_t corr, const char *topic, int32_t partition, int32_t *count);
/* OffsetFetch v (1-9) of one partition: its offset (-1: none), error in *err. */
int64_t ot_fetch(int16_t v, const char *group, const char *topic, int32_t partition,
		 bool require_stable, int16_t *err);
/* OffsetFetch v (2-9) of all partitions: how many came back (group error in
 * *err), the sum of their offsets in *sum. */
int32_t ot_fetch_all(int16_t v, const char *group, int16_t *err, int64_t *sum);
/* OffsetDelete of one partition: the group error, the partition's in *perr. */
int16_t ot_delete(const char *group, const char *topic, int32_t partition, int16_t *perr);
/* A consumer group of one member subscribed to topic (a valid
 * ConsumerProtocolSubscription), Stable; returns the generation, member id
 * in id (owned by the reply). */
int32_t ot_consumer_group(const char *group, const char *topic, struct kp_str *id);

#endif
