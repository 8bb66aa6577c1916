/* SPDX-License-Identifier: Apache-2.0 */
/* Loading __consumer_offsets: one stored record batch (v2) walked record by
 * record, each key and value decoded (grp_rec.h) and handed to membership
 * (grp_load_group) or offsets (off_load_offset) in offset order; a null
 * value is a tombstone. Control batches and transactional batches (Spillway
 * writes neither; Kafka's transactional offset commits need their markers)
 * are skipped, as are compressed batches, which Spillway never writes
 * (offsets.topic.compression.codec is not supported): they are reported.
 * Everything read is bounded by the batch. @thread control */
#include <stdlib.h>

#include "common/log.h"
#include "common/rbatch.h"
#include "control/group/grp_log_int.h"
#include "control/group/grp_rec.h"
#include "protocol/kp_wire.h"

/* A varint-prefixed byte field of a record: ptr NULL and len -1 when null. */
static struct kp_bytes
grp_log_load_field(struct kp_cursor *cur)
{
	struct kp_bytes b = { NULL, -1 };
	int32_t len = kp_read_varint(cur);

	if (cur->err != 0 || len < 0)
		return b;
	if ((size_t)len > kp_cursor_left(cur)) {
		kp_cursor_fail(cur, KP_WIRE_INVALID);
		return b;
	}
	b.ptr = cur->pos;
	b.len = len;
	kp_skip(cur, (size_t)len);
	return b;
}

/* One record: 1 when loaded, 0 when skipped, -1 when malformed. */
static int
grp_log_load_record(struct grp_coord *c, struct kp_cursor *rec)
{
	struct grp_rec_key k;
	struct kp_bytes key, value;
	int32_t headers;
	int rc;

	(void)kp_read_i8(rec);                  /* attributes */
	(void)kp_read_varlong(rec);             /* timestamp delta */
	(void)kp_read_varint(rec);              /* offset delta */
	key = grp_log_load_field(rec);
	value = grp_log_load_field(rec);
	headers = kp_read_varint(rec);
	for (int32_t i = 0; i < headers && rec->err == 0; i++) {
		int32_t n = kp_read_varint(rec);

		kp_skip(rec, n > 0 ? (size_t)n : 0);
		n = kp_read_varint(rec);
		kp_skip(rec, n > 0 ? (size_t)n : 0);
	}
	if (rec->err != 0 || headers < 0 || kp_cursor_left(rec) != 0)
		return -1;
	if (key.len < 0)
		return 0;                       /* Kafka: a record without key fails
						 * the load; we skip it */
	rc = grp_rec_key_decode(key.ptr, (size_t)key.len, &k);
	if (rc == -1)
		return 0;                       /* a record type we do not know */
	if (rc != 0)
		return -1;
	if (k.version == GRP_REC_KEY_GROUP) {
		struct grp_rec_group g;
		struct grp_rec_member *members = NULL;

		if (value.len < 0) {
			grp_load_group(c, k.group, NULL);
			return 1;
		}
		if (grp_rec_group_value_decode(value.ptr, (size_t)value.len, &g, &members) != 0)
			return -1;
		grp_load_group(c, k.group, &g);
		free(members);
		return 1;
	}
	if (value.len < 0) {
		off_load_offset(c, k.group, k.topic, k.partition, NULL);
		return 1;
	}
	struct grp_rec_offset o;

	if (grp_rec_offset_value_decode(value.ptr, (size_t)value.len, &o) != 0)
		return -1;
	off_load_offset(c, k.group, k.topic, k.partition, &o);
	return 1;
}

int32_t
grp_log_load_batch(struct grp_coord *c, int32_t partition, const uint8_t *batch, uint32_t len)
{
	struct rbatch_header h;
	struct kp_cursor cur;
	int32_t loaded = 0;

	if (rbatch_header_parse(batch, len, &h) != 0 || h.magic != RBATCH_MAGIC_V2 ||
	    rbatch_total_bytes(&h) != (int64_t)len || h.records_count < 0) {
		log_warn("group", "__consumer_offsets-%d: skipping a malformed batch", partition);
		return 0;
	}
	if (h.attributes & (RBATCH_ATTR_CONTROL | RBATCH_ATTR_TRANSACTIONAL))
		return 0;
	if ((h.attributes & RBATCH_ATTR_CODEC_MASK) != RBATCH_CODEC_NONE) {
		log_warn("group", "__consumer_offsets-%d: skipping a compressed batch at offset "
			 "%lld (codec %d)", partition, (long long)h.base_offset,
			 h.attributes & RBATCH_ATTR_CODEC_MASK);
		return 0;
	}
	cur = kp_cursor_make(batch + RBATCH_HEADER_BYTES, len - RBATCH_HEADER_BYTES);
	for (int32_t i = 0; i < h.records_count; i++) {
		int32_t rec_len = kp_read_varint(&cur);
		struct kp_cursor rec;
		int rc;

		if (cur.err != 0 || rec_len < 0 || (size_t)rec_len > kp_cursor_left(&cur)) {
			log_warn("group", "__consumer_offsets-%d: batch at offset %lld is "
				 "truncated", partition, (long long)h.base_offset);
			break;
		}
		rec = kp_cursor_make(cur.pos, (size_t)rec_len);
		kp_skip(&cur, (size_t)rec_len);
		rc = grp_log_load_record(c, &rec);
		if (rc < 0)
			log_warn("group", "__consumer_offsets-%d: skipping a malformed record at "
				 "offset %lld", partition, (long long)h.base_offset + i);
		else
			loaded += rc;
	}
	return loaded;
}
