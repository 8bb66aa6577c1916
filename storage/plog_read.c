/* SPDX-License-Identifier: Apache-2.0 */
/* The read side of a partition log: the file region a Fetch sends
 * (whole batches up to its byte budget, found through the offset index),
 * ListOffsets by time or position, and OffsetForLeaderEpoch. */
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/compiler.h"
#include "storage/plog_int.h"

/* The segment holding offset: the last one with base_offset <= offset. */
static uint32_t
plog_read_segment_floor(const struct plog *plog, int64_t offset)
{
	uint32_t lo = 0, hi = plog->seg_count, mid, found = 0;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (plog->segs[mid]->base_offset <= offset) {
			found = mid;
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return found;
}

/* Position of the first batch of seg ending at or after offset, or -1 if
 * seg has none. offset may lie below seg's base: the next fetch after a
 * cleaned segment whose last batches were removed whole (lastOffset + 1 of
 * its last batch) falls in that gap, and is answered from the next
 * segment's first batch, as Kafka's OffsetIndex.lookup answers a target
 * below the base with position 0. The index is keyed by offset - base, so
 * such an offset must not reach it (wrapped to uint32 it would find the
 * last entry and skip every batch before it). */
static int64_t
plog_read_batch_position(struct plog *plog, struct segment *seg, int64_t offset,
			 struct rbatch_header *h)
{
	int64_t pos = 0;

	ASSERT_HOT(offset - seg->base_offset <= INT32_MAX);
	if (offset > seg->base_offset)
		pos = segment_index_offset_lookup(&seg->oidx,
						  (uint32_t)(offset - seg->base_offset));
	while (segment_batch_at(plog->sio, seg, pos, seg->size, h) == 0) {
		if (h->base_offset + h->last_offset_delta >= offset)
			return pos;
		pos += rbatch_total_bytes(h);
	}
	return -1;
}

/* End of the region that starts with a batch [start, first_end): whole
 * batches up to max_bytes, jumping over the bulk with the offset index. */
static int64_t
plog_read_region_end(struct plog *plog, struct segment *seg, int64_t start,
		     int64_t first_end, int32_t max_bytes)
{
	struct rbatch_header h;
	int64_t budget_end = start + max_bytes, end = first_end, jump;

	if (seg->size <= budget_end)
		return seg->size;
	if (end >= budget_end)
		return end;
	jump = segment_index_position_floor(&seg->oidx, (uint32_t)budget_end);
	if (jump > end)
		end = jump;
	while (segment_batch_at(plog->sio, seg, end, seg->size, &h) == 0 &&
	       end + rbatch_total_bytes(&h) <= budget_end)
		end += rbatch_total_bytes(&h);
	return end;
}

int16_t
plog_read(struct plog *plog, int64_t offset, int32_t max_bytes, struct plog_region *r)
{
	return plog_read_to(plog, offset, max_bytes, plog->hw, r);
}

/* The region [pos, end) of seg must stop before the batch at limit. */
static int64_t
plog_read_cap(struct plog *plog, struct segment *seg, int64_t end, int64_t limit)
{
	struct rbatch_header h;
	int64_t cap;

	if (limit >= seg->next_offset)
		return end;
	cap = plog_read_batch_position(plog, seg, limit, &h);
	return cap >= 0 && cap < end ? cap : end;
}

int16_t
plog_read_to(struct plog *plog, int64_t offset, int32_t max_bytes, int64_t limit,
	     struct plog_region *r)
{
	struct rbatch_header h;
	struct segment *seg;
	uint32_t i;
	int64_t pos, end;

	memset(r, 0, sizeof(*r));
	if (offset < plog->log_start_offset || offset > plog->next_offset)
		return KP_ERR_OFFSET_OUT_OF_RANGE;
	if (offset >= limit || offset >= plog->hw)
		return 0;
	for (i = plog_read_segment_floor(plog, offset); i < plog->seg_count; i++) {
		seg = plog->segs[i];
		if (segment_pin(seg) < 0)
			return KP_ERR_KAFKA_STORAGE_ERROR;
		pos = plog_read_batch_position(plog, seg, offset, &h);
		if (pos >= 0) {
			r->seg = seg;
			r->pos = pos;
			end = plog_read_region_end(plog, seg, pos, pos + rbatch_total_bytes(&h),
						   max_bytes);
			if (limit < plog->hw)
				end = plog_read_cap(plog, seg, end, limit);
			r->len = (int32_t)(end - pos);
			if (r->len <= 0) {
				r->seg = NULL;
				r->len = 0;
			}
		}
		segment_unpin(seg);
		if (pos >= 0)
			return 0;
	}
	return 0;
}

static int64_t
plog_read_varint(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;
	unsigned shift = 0;

	while (*p < end && shift < 64) {
		v |= (uint64_t)(**p & 0x7f) << shift;
		if ((*(*p)++ & 0x80) == 0)
			return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
		shift += 7;
	}
	*p = end + 1;           /* malformed: the caller sees p > end */
	return 0;
}

/* Offset of the first record at or above min (the log start offset) with
 * timestamp >= target in an uncompressed batch, as Kafka's
 * LogSegment.findOffsetByTimestamp(target, logStartOffset); the batch's
 * base offset (at least min) when records cannot be read; -1 when none of
 * its records at or above min qualifies. */
static int64_t
plog_read_record_at_time(struct plog *plog, struct segment *seg, int64_t pos,
			 const struct rbatch_header *h, int64_t target, int64_t min, int64_t *ts)
{
	int64_t total = rbatch_total_bytes(h), len, rec_ts, delta;
	const uint8_t *p, *end, *rec;
	uint8_t *buf;
	int32_t i;

	*ts = h->max_timestamp;
	if ((h->attributes & (RBATCH_ATTR_CODEC_MASK | RBATCH_ATTR_LOG_APPEND_TIME)) != 0 ||
	    total > (64 << 20) || (buf = malloc((size_t)total)) == NULL)
		return MAX(h->base_offset, min);
	if (sio_pread(plog->sio, seg->fd, buf, (size_t)total, pos) == (ssize_t)total) {
		p = buf + RBATCH_HEADER_BYTES;
		end = buf + total;
		for (i = 0; i < h->records_count && p < end; i++) {
			len = plog_read_varint(&p, end);
			rec = p;
			if (p > end || len <= 0 || len > end - p)
				break;
			p++;            /* attributes */
			rec_ts = h->base_timestamp + plog_read_varint(&p, end);
			delta = plog_read_varint(&p, end);
			if (p > end)
				break;
			if (rec_ts >= target && h->base_offset + delta >= min) {
				*ts = rec_ts;
				free(buf);
				return h->base_offset + delta;
			}
			p = rec + len;
		}
	}
	free(buf);
	return h->base_offset >= min ? h->base_offset : -1;
}

static int64_t
plog_read_offset_for_time(struct plog *plog, int64_t target, int64_t *ts)
{
	struct rbatch_header h;
	struct segment *seg;
	uint32_t i, rel;
	int64_t pos, found;

	for (i = 0; i < plog->seg_count; i++) {
		seg = plog->segs[i];
		if (seg->max_timestamp < target)
			continue;
		if (segment_pin(seg) < 0)
			break;          /* answered as "none", like a lookup past the end */
		rel = segment_index_time_lookup(&seg->tidx, target);
		pos = segment_index_offset_lookup(&seg->oidx, rel);
		found = -1;
		while (segment_batch_at(plog->sio, seg, pos, seg->size, &h) == 0) {
			/* Batches wholly below the log start offset are deleted
			 * records (DeleteRecords inside a segment). */
			if (h.max_timestamp >= target &&
			    h.base_offset + h.last_offset_delta >= plog->log_start_offset)
				found = plog_read_record_at_time(plog, seg, pos, &h, target,
								 plog->log_start_offset, ts);
			if (found >= 0)
				break;
			pos += rbatch_total_bytes(&h);
		}
		segment_unpin(seg);
		if (found >= 0)
			return found;
	}
	*ts = -1;
	return -1;
}

int16_t
plog_read_offset(struct plog *plog, int64_t timestamp, int64_t *offset, int64_t *ts)
{
	uint32_t i;

	*ts = -1;
	*offset = -1;
	if (timestamp == ST_OFFSET_EARLIEST) {
		*offset = plog->log_start_offset;
	} else if (timestamp == ST_OFFSET_LATEST) {
		*offset = plog_hw_visible(plog);
	} else if (timestamp == ST_OFFSET_MAX_TIMESTAMP) {
		for (i = 0; i < plog->seg_count; i++) {
			if (plog->segs[i]->max_timestamp > *ts) {
				*ts = plog->segs[i]->max_timestamp;
				*offset = plog->segs[i]->max_timestamp_offset;
			}
		}
	} else if (timestamp >= 0) {
		*offset = plog_read_offset_for_time(plog, timestamp, ts);
	}
	return 0;
}

int
plog_txn_collect(struct plog *plog, int64_t offset, int64_t upper, struct txn_aborted_list *out)
{
	uint32_t i;
	int rc;

	/* An ABORT is indexed in its marker's segment, at or after the one
	 * holding offset, and the marker may lie segments past upper: go on
	 * until an entry's last stable offset reaches upper (Kafka's
	 * collectAbortedTransactions); a segment without aborts costs nothing. */
	for (i = plog_read_segment_floor(plog, offset); i < plog->seg_count; i++) {
		rc = segment_txn_collect(plog->segs[i], offset, upper, out);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
	return 0;
}
