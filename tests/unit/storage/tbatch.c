/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: hand-built record batches v2 (see tbatch.h). The record
 * encoding follows shared/kafka-protocol/implementation.html. */
#include "tests/unit/storage/tbatch.h"

#include <endian.h>
#include <isa-l/crc.h>
#include <stdlib.h>
#include <string.h>

static size_t
put_varint(uint8_t *p, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
	size_t n = 0;

	while (z >= 0x80) {
		p[n++] = (uint8_t)(z | 0x80);
		z >>= 7;
	}
	p[n++] = (uint8_t)z;
	return n;
}

static void
put32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static void
put64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

struct tbatch_spec
tbatch_spec(int records, int value_bytes, int64_t base_timestamp)
{
	struct tbatch_spec s = {
		.records = records, .value_bytes = value_bytes,
		.base_timestamp = base_timestamp, .ts_step = 1, .producer_id = -1,
		.producer_epoch = -1, .base_sequence = -1, .fill = 'v',
	};

	return s;
}

uint8_t *
tbatch_build(const struct tbatch_spec *s, uint32_t *len)
{
	size_t cap = 61 + (size_t)s->records * ((size_t)s->value_bytes + 32);
	uint8_t *b = calloc(1, cap), rec[64];
	size_t pos = 61, body;
	uint32_t crc;
	int i;

	for (i = 0; i < s->records; i++) {
		body = 0;
		rec[body++] = 0;                                        /* attributes */
		body += put_varint(rec + body, s->ts_step * i);         /* timestampDelta */
		body += put_varint(rec + body, i);                      /* offsetDelta */
		body += put_varint(rec + body, -1);                     /* key: null */
		body += put_varint(rec + body, s->value_bytes);
		pos += put_varint(b + pos, (int64_t)(body + (size_t)s->value_bytes + 1));
		memcpy(b + pos, rec, body);
		pos += body;
		memset(b + pos, s->fill, (size_t)s->value_bytes);
		pos += (size_t)s->value_bytes;
		b[pos++] = 0;                                           /* headers: 0 */
	}
	put64(b, 0);                                    /* baseOffset */
	put32(b + 8, (uint32_t)(pos - 12));             /* batchLength */
	put32(b + 12, (uint32_t)-1);                    /* partitionLeaderEpoch */
	b[16] = 2;                                      /* magic */
	b[21] = 0;                                      /* attributes */
	b[22] = 0;
	put32(b + 23, (uint32_t)(s->records - 1));      /* lastOffsetDelta */
	put64(b + 27, (uint64_t)s->base_timestamp);
	put64(b + 35, (uint64_t)(s->base_timestamp + s->ts_step * (s->records - 1)));
	put64(b + 43, (uint64_t)s->producer_id);
	b[51] = (uint8_t)((uint16_t)s->producer_epoch >> 8);
	b[52] = (uint8_t)s->producer_epoch;
	put32(b + 53, (uint32_t)s->base_sequence);
	put32(b + 57, (uint32_t)s->records);
	crc = ~crc32_iscsi(b + 21, (int)(pos - 21), 0xffffffffu);
	put32(b + 17, crc);
	*len = (uint32_t)pos;
	return b;
}
