/* SPDX-License-Identifier: Apache-2.0 */
/* Stand-in for common/rbatch.c, linked into storage tests only while that
 * file has not landed (tests/unit/storage/meson.build decides). Minimal and
 * test-only: the real one lives in common/. */
#include <endian.h>
#include <isa-l/crc.h>
#include <string.h>

#include "common/rbatch.h"

static uint32_t
g32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return be32toh(v);
}

static uint64_t
g64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

int
rbatch_header_parse(const uint8_t *p, size_t len, struct rbatch_header *h)
{
	if (len < RBATCH_HEADER_BYTES)
		return -1;
	h->base_offset = (int64_t)g64(p);
	h->batch_length = (int32_t)g32(p + 8);
	h->partition_leader_epoch = (int32_t)g32(p + 12);
	h->magic = (int8_t)p[16];
	h->crc = g32(p + 17);
	h->attributes = (int16_t)(p[21] << 8 | p[22]);
	h->last_offset_delta = (int32_t)g32(p + 23);
	h->base_timestamp = (int64_t)g64(p + 27);
	h->max_timestamp = (int64_t)g64(p + 35);
	h->producer_id = (int64_t)g64(p + 43);
	h->producer_epoch = (int16_t)(p[51] << 8 | p[52]);
	h->base_sequence = (int32_t)g32(p + 53);
	h->records_count = (int32_t)g32(p + 57);
	return 0;
}

uint32_t
rbatch_crc_compute(const uint8_t *batch, size_t len)
{
	return ~crc32_iscsi((unsigned char *)(uintptr_t)(batch + 21), (int)(len - 21),
			    0xffffffffu);
}

int
rbatch_crc_ok(const uint8_t *batch, size_t len)
{
	return len >= RBATCH_HEADER_BYTES && rbatch_crc_compute(batch, len) == g32(batch + 17);
}

void
rbatch_set_base_offset(uint8_t *batch, int64_t base_offset)
{
	uint64_t v = htobe64((uint64_t)base_offset);

	memcpy(batch, &v, 8);
}

void
rbatch_set_leader_epoch(uint8_t *batch, int32_t epoch)
{
	uint32_t v = htobe32((uint32_t)epoch);

	memcpy(batch + 12, &v, 4);
}

void
rbatch_set_log_append_time(uint8_t *batch, size_t len, int64_t ts)
{
	uint64_t v = htobe64((uint64_t)ts);
	uint32_t c;

	batch[22] |= RBATCH_ATTR_LOG_APPEND_TIME;
	memcpy(batch + 35, &v, 8);
	c = htobe32(rbatch_crc_compute(batch, len));
	memcpy(batch + 17, &c, 4);
}
