/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka record batch v2 layout (shared/kafka-protocol/implementation.html):
 * the 61-byte header, field access, the CRC-32C (ISA-L crc32_iscsi) over
 * attributes..end, and the in-place rewrites a broker makes on append. Used
 * by protocol/ (validation) and storage/ (offsets, recovery). */
#ifndef COMMON_RBATCH_H
#define COMMON_RBATCH_H

#include <stddef.h>
#include <stdint.h>

#define RBATCH_HEADER_BYTES 61
/* baseOffset (8) + batchLength (4): batchLength counts the bytes after it. */
#define RBATCH_LOG_OVERHEAD 12
#define RBATCH_MAGIC_V2 2

/* Attribute bits. */
#define RBATCH_ATTR_CODEC_MASK 0x07
#define RBATCH_ATTR_LOG_APPEND_TIME 0x08
#define RBATCH_ATTR_TRANSACTIONAL 0x10
#define RBATCH_ATTR_CONTROL 0x20
#define RBATCH_ATTR_DELETE_HORIZON 0x40

enum rbatch_codec {
	RBATCH_CODEC_NONE = 0, RBATCH_CODEC_GZIP = 1, RBATCH_CODEC_SNAPPY = 2,
	RBATCH_CODEC_LZ4 = 3, RBATCH_CODEC_ZSTD = 4,
};

struct rbatch_header {
	int64_t base_offset;
	int32_t batch_length;
	int32_t partition_leader_epoch;
	int8_t magic;
	uint32_t crc;
	int16_t attributes;
	int32_t last_offset_delta;
	int64_t base_timestamp;
	int64_t max_timestamp;
	int64_t producer_id;
	int16_t producer_epoch;
	int32_t base_sequence;
	int32_t records_count;
};

/* Parse the header of the batch at p (len bytes available). 0, or -1 if
 * len < RBATCH_HEADER_BYTES. No validation beyond that. */
int rbatch_header_parse(const uint8_t *p, size_t len, struct rbatch_header *h);
/* Total bytes of the batch: batch_length + RBATCH_LOG_OVERHEAD. */
static inline int64_t
rbatch_total_bytes(const struct rbatch_header *h)
{
	return (int64_t)h->batch_length + RBATCH_LOG_OVERHEAD;
}
/* CRC-32C over attributes..end of a whole batch of len bytes. */
uint32_t rbatch_crc_compute(const uint8_t *batch, size_t len);
int rbatch_crc_ok(const uint8_t *batch, size_t len);

/* In-place rewrites (fields outside the CRC). */
void rbatch_set_base_offset(uint8_t *batch, int64_t base_offset);
void rbatch_set_leader_epoch(uint8_t *batch, int32_t epoch);
/* LogAppendTime: set the timestamp-type bit, maxTimestamp = ts, recompute
 * the CRC. */
void rbatch_set_log_append_time(uint8_t *batch, size_t len, int64_t ts);

#endif
