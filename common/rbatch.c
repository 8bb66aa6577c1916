/* SPDX-License-Identifier: Apache-2.0 */
/* Record batch v2 header access: big-endian parse, the CRC-32C over
 * attributes..end (ISA-L crc32_iscsi), and the in-place rewrites of fields the
 * broker owns. No validation policy lives here: protocol/kp_records.c decides
 * what a client may send, and this file only reads and writes bytes. */
#include "common/rbatch.h"

#include <isa-l/crc.h>

#include "common/assert.h"
#include "common/be.h"

/* Field offsets inside the 61-byte header (implementation.html). */
#define RBATCH_OFF_BASE_OFFSET 0
#define RBATCH_OFF_LENGTH 8
#define RBATCH_OFF_LEADER_EPOCH 12
#define RBATCH_OFF_MAGIC 16
#define RBATCH_OFF_CRC 17
#define RBATCH_OFF_ATTRIBUTES 21
#define RBATCH_OFF_LAST_OFFSET_DELTA 23
#define RBATCH_OFF_BASE_TIMESTAMP 27
#define RBATCH_OFF_MAX_TIMESTAMP 35
#define RBATCH_OFF_PRODUCER_ID 43
#define RBATCH_OFF_PRODUCER_EPOCH 51
#define RBATCH_OFF_BASE_SEQUENCE 53
#define RBATCH_OFF_RECORDS_COUNT 57

STATIC_ASSERT(RBATCH_OFF_RECORDS_COUNT + 4 == RBATCH_HEADER_BYTES, "header layout");
STATIC_ASSERT(RBATCH_OFF_LENGTH + 4 == RBATCH_LOG_OVERHEAD, "log overhead");

int
rbatch_header_parse(const uint8_t *p, size_t len, struct rbatch_header *h)
{
	if (len < RBATCH_HEADER_BYTES)
		return -1;
	h->base_offset = (int64_t)be_read64(p + RBATCH_OFF_BASE_OFFSET);
	h->batch_length = (int32_t)be_read32(p + RBATCH_OFF_LENGTH);
	h->partition_leader_epoch = (int32_t)be_read32(p + RBATCH_OFF_LEADER_EPOCH);
	h->magic = (int8_t)p[RBATCH_OFF_MAGIC];
	h->crc = be_read32(p + RBATCH_OFF_CRC);
	h->attributes = (int16_t)be_read16(p + RBATCH_OFF_ATTRIBUTES);
	h->last_offset_delta = (int32_t)be_read32(p + RBATCH_OFF_LAST_OFFSET_DELTA);
	h->base_timestamp = (int64_t)be_read64(p + RBATCH_OFF_BASE_TIMESTAMP);
	h->max_timestamp = (int64_t)be_read64(p + RBATCH_OFF_MAX_TIMESTAMP);
	h->producer_id = (int64_t)be_read64(p + RBATCH_OFF_PRODUCER_ID);
	h->producer_epoch = (int16_t)be_read16(p + RBATCH_OFF_PRODUCER_EPOCH);
	h->base_sequence = (int32_t)be_read32(p + RBATCH_OFF_BASE_SEQUENCE);
	h->records_count = (int32_t)be_read32(p + RBATCH_OFF_RECORDS_COUNT);
	return 0;
}

/* ISA-L's crc32_iscsi() applies neither the initial nor the final
 * inversion of the standard CRC-32C: the caller passes ~0 as the seed and
 * inverts the result. Checked against the check value of "123456789"
 * (0xe3069283) and a bitwise reference in tests/unit/common/test_rbatch.c. */
uint32_t
rbatch_crc_compute(const uint8_t *batch, size_t len)
{
	ASSERT(len >= RBATCH_HEADER_BYTES);
	ASSERT(len - RBATCH_OFF_ATTRIBUTES <= UINT32_MAX);
	return ~crc32_iscsi((unsigned char *)(uintptr_t)(batch + RBATCH_OFF_ATTRIBUTES),
			    (int)(len - RBATCH_OFF_ATTRIBUTES), 0xffffffffu);
}

int
rbatch_crc_ok(const uint8_t *batch, size_t len)
{
	if (len < RBATCH_HEADER_BYTES)
		return 0;
	return rbatch_crc_compute(batch, len) == be_read32(batch + RBATCH_OFF_CRC);
}

void
rbatch_set_base_offset(uint8_t *batch, int64_t base_offset)
{
	ASSERT(base_offset >= 0);
	be_write64(batch + RBATCH_OFF_BASE_OFFSET, (uint64_t)base_offset);
}

void
rbatch_set_leader_epoch(uint8_t *batch, int32_t epoch)
{
	be_write32(batch + RBATCH_OFF_LEADER_EPOCH, (uint32_t)epoch);
}

void
rbatch_set_log_append_time(uint8_t *batch, size_t len, int64_t ts)
{
	uint16_t attr;

	ASSERT(len >= RBATCH_HEADER_BYTES);
	attr = be_read16(batch + RBATCH_OFF_ATTRIBUTES);
	attr |= RBATCH_ATTR_LOG_APPEND_TIME;
	be_write16(batch + RBATCH_OFF_ATTRIBUTES, attr);
	be_write64(batch + RBATCH_OFF_MAX_TIMESTAMP, (uint64_t)ts);
	be_write32(batch + RBATCH_OFF_CRC, rbatch_crc_compute(batch, len));
	ASSERT(rbatch_crc_ok(batch, len));
}
