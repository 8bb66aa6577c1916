/* SPDX-License-Identifier: Apache-2.0 */
/* End-transaction marker batches (storage/txn_marker.h): Kafka's
 * EndTransactionMarker in a control batch, built and read. */
#include "storage/txn_marker.h"

#include <string.h>

#include "common/assert.h"
#include "common/be.h"
#include "common/rbatch.h"

#define TXN_MARKER_RECORD_BYTES 16      /* the record after its length varint */
#define TXN_MARKER_KEY_BYTES 4
#define TXN_MARKER_VALUE_BYTES 6

STATIC_ASSERT(RBATCH_HEADER_BYTES + 1 + TXN_MARKER_RECORD_BYTES == TXN_MARKER_BYTES,
	      "marker layout");

void
txn_marker_build(const struct txn_marker *m, uint8_t buf[TXN_MARKER_BYTES])
{
	uint8_t *r = buf + RBATCH_HEADER_BYTES;

	memset(buf, 0, TXN_MARKER_BYTES);
	be_write32(buf + 8, TXN_MARKER_BYTES - RBATCH_LOG_OVERHEAD);   /* batchLength */
	be_write32(buf + 12, (uint32_t)-1);     /* partitionLeaderEpoch: set on append */
	buf[16] = 2;                            /* magic */
	be_write16(buf + 21, RBATCH_ATTR_TRANSACTIONAL | RBATCH_ATTR_CONTROL);
	be_write32(buf + 23, 0);                /* lastOffsetDelta */
	be_write64(buf + 27, (uint64_t)m->timestamp_ms);
	be_write64(buf + 35, (uint64_t)m->timestamp_ms);
	be_write64(buf + 43, (uint64_t)m->producer_id);
	be_write16(buf + 51, (uint16_t)m->producer_epoch);
	be_write32(buf + 53, (uint32_t)-1);     /* baseSequence: none */
	be_write32(buf + 57, 1);                /* records */
	r[0] = TXN_MARKER_RECORD_BYTES << 1;    /* zigzag varint length */
	r[1] = 0;                               /* attributes */
	r[2] = 0;                               /* timestampDelta */
	r[3] = 0;                               /* offsetDelta */
	r[4] = TXN_MARKER_KEY_BYTES << 1;
	be_write16(r + 5, 0);                   /* key version */
	be_write16(r + 7, (uint16_t)m->type);
	r[9] = TXN_MARKER_VALUE_BYTES << 1;
	be_write16(r + 10, 0);                  /* value version */
	be_write32(r + 12, (uint32_t)m->coordinator_epoch);
	r[16] = 0;                              /* headers */
	be_write32(buf + 17, rbatch_crc_compute(buf, TXN_MARKER_BYTES));
}

/* A zigzag varint of at most 5 bytes at *p (before end); false if none. */
static bool
txn_marker_varint(const uint8_t **p, const uint8_t *end, int32_t *out)
{
	uint32_t v = 0;

	for (int shift = 0; shift < 35 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;

		v |= (uint32_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			*out = (int32_t)(v >> 1) ^ -(int32_t)(v & 1);
			return true;
		}
	}
	return false;
}

bool
txn_marker_parse(const uint8_t *batch, size_t len, struct txn_marker *m)
{
	const uint8_t *p = batch + RBATCH_HEADER_BYTES, *end = batch + len;
	struct rbatch_header h;
	int32_t rec_len, skip, key_len, val_len;

	if (rbatch_header_parse(batch, len, &h) != 0 || !(h.attributes & RBATCH_ATTR_CONTROL) ||
	    h.records_count != 1 || (h.attributes & RBATCH_ATTR_CODEC_MASK) != 0)
		return false;
	if (!txn_marker_varint(&p, end, &rec_len) || rec_len <= 0 || rec_len > end - p)
		return false;
	end = p + rec_len;
	p++;                                    /* attributes */
	if (!txn_marker_varint(&p, end, &skip) || !txn_marker_varint(&p, end, &skip) ||
	    !txn_marker_varint(&p, end, &key_len) || key_len < TXN_MARKER_KEY_BYTES ||
	    key_len > end - p)
		return false;
	m->type = (int16_t)be_read16(p + 2);
	if ((int16_t)be_read16(p) < 0 || (m->type != TXN_MARKER_ABORT &&
					  m->type != TXN_MARKER_COMMIT))
		return false;
	p += key_len;
	if (!txn_marker_varint(&p, end, &val_len) || val_len < TXN_MARKER_VALUE_BYTES ||
	    val_len > end - p)
		return false;
	m->coordinator_epoch = (int32_t)be_read32(p + 2);
	m->producer_id = h.producer_id;
	m->producer_epoch = h.producer_epoch;
	m->timestamp_ms = h.max_timestamp;
	return true;
}
