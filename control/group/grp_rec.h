/* SPDX-License-Identifier: Apache-2.0 */
/* The records of __consumer_offsets as Kafka lays them out
 * (shared/kafka-protocol/internal-records/): OffsetCommitKey v0-1,
 * OffsetCommitValue v0-4, GroupMetadataKey v2, GroupMetadataValue v0-4.
 * Hand-written over kp_read_* / kp_write_* (the generator does not read
 * the internal-records schemas yet). Decoding is bounded and zero-copy
 * except for the member array. Internal to control/group/. @thread control */
#ifndef CONTROL_GROUP_GRP_REC_H
#define CONTROL_GROUP_GRP_REC_H

#include <stddef.h>
#include <stdint.h>

#include "control/group/grp_int.h"
#include "protocol/kp_wire.h"

/* Key versions, which double as the record type. */
#define GRP_REC_KEY_OFFSET_V0 0
#define GRP_REC_KEY_OFFSET_V1 1
#define GRP_REC_KEY_GROUP 2
/* Highest value version we decode (Kafka 4.0 knows 0-4 of both). */
#define GRP_REC_VALUE_VERSION_MAX 4
/* Members one GroupMetadataValue may carry when decoded (group.max.size is
 * far below: Kafka's default is Integer.MAX_VALUE, real groups stay small). */
#define GRP_REC_MEMBERS_MAX 100000

struct grp_rec_key {
	int16_t version;        /* 0/1: offset commit, 2: group metadata */
	struct kp_str group;
	struct kp_str topic;    /* offset keys only */
	int32_t partition;      /* offset keys only */
};

/* Keys: OffsetCommitKey version 1, GroupMetadataKey version 2 (what Kafka
 * 3.x writes). */
void grp_rec_offset_key_encode(struct kp_writer *w, struct kp_str group, struct kp_str topic,
			       int32_t partition);
void grp_rec_group_key_encode(struct kp_writer *w, struct kp_str group);
/* 0, or -1 when not a key we know (unknown version: a newer record type
 * such as KIP-848's, which the caller skips) or malformed (-2). */
int grp_rec_key_decode(const uint8_t *p, size_t len, struct grp_rec_key *k);

/* OffsetCommitValue: version 1 when expire_timestamp_ms != -1, else 3
 * (GroupMetadataManager.offsetCommitValue in Kafka 3.x). */
void grp_rec_offset_value_encode(struct kp_writer *w, const struct grp_rec_offset *v);
/* Any version 0-4; absent fields get their defaults (leader epoch -1,
 * expire -1). 0 or -1 (malformed or unknown version). */
int grp_rec_offset_value_decode(const uint8_t *p, size_t len, struct grp_rec_offset *v);

/* GroupMetadataValue version 3 (Kafka 3.x). */
void grp_rec_group_value_encode(struct kp_writer *w, const struct grp_rec_group *v);
/* Any version 0-4. On success (0) v->members points to *members, an array
 * calloc()ed here (NULL when there are none) that the caller frees; the
 * strings point into p. -1 when malformed. */
int grp_rec_group_value_decode(const uint8_t *p, size_t len, struct grp_rec_group *v,
			       struct grp_rec_member **members);

#endif
