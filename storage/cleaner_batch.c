/* SPDX-License-Identifier: Apache-2.0 */
/* One record batch through the cleaner: the record walk over its
 * (decompressed) body, and the filter that keeps the latest record per key
 * and rebuilds the batch as Kafka's MemoryRecords.filterTo does (same base
 * offset, lastOffsetDelta, producer id/epoch/base sequence, leader epoch
 * and codec; a new CRC). Runs on the cleaner thread; it allocates. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/be.h"
#include "storage/cleaner_int.h"

/* The v2 header's field positions (Kafka's DefaultRecordBatch). */
#define CB_OFF_LENGTH 8
#define CB_OFF_LEADER_EPOCH 12
#define CB_OFF_MAGIC 16
#define CB_OFF_CRC 17
#define CB_OFF_ATTRIBUTES 21
#define CB_OFF_LAST_OFFSET_DELTA 23
#define CB_OFF_BASE_TIMESTAMP 27
#define CB_OFF_MAX_TIMESTAMP 35
#define CB_OFF_PRODUCER_ID 43
#define CB_OFF_PRODUCER_EPOCH 51
#define CB_OFF_BASE_SEQUENCE 53
#define CB_OFF_RECORDS_COUNT 57
#define CB_VARINT_BYTES_MAX 10

int
cleaner_buf_reserve(struct cleaner_buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 4096;
	uint8_t *p;

	if (b->len + more <= b->cap)
		return 0;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

void
cleaner_buf_free(struct cleaner_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* A zigzag varint at *p (before end); sets *ok false when malformed. */
static int64_t
cleaner_varint(const uint8_t **p, const uint8_t *end, bool *ok)
{
	uint64_t v = 0;
	unsigned shift = 0;

	while (*p < end && shift < 64) {
		uint8_t b = *(*p)++;

		v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
		shift += 7;
	}
	*ok = false;
	return 0;
}

static size_t
cleaner_varint_put(uint8_t *p, int64_t v)
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

/* Parse the record at *p; advances *p past it. 0 or -EINVAL. */
static int
cleaner_record_parse(const uint8_t **p, const uint8_t *end, struct cleaner_record *r)
{
	const uint8_t *q = *p, *rec_end;
	bool ok = true;
	int64_t len, n, headers;

	memset(r, 0, sizeof(*r));
	r->start = q;
	len = cleaner_varint(&q, end, &ok);
	if (!ok || len < 1 || len > end - q)
		return -EINVAL;
	rec_end = q + len;
	r->body = q++;                  /* attributes */
	r->ts_delta = cleaner_varint(&q, rec_end, &ok);
	r->after_ts = q;
	r->offset_delta = (int32_t)cleaner_varint(&q, rec_end, &ok);
	n = cleaner_varint(&q, rec_end, &ok);
	if (!ok || n < -1 || n > rec_end - q)
		return -EINVAL;
	r->key = n >= 0 ? q : NULL;
	r->key_len = (int32_t)n;
	q += n > 0 ? n : 0;
	n = cleaner_varint(&q, rec_end, &ok);
	if (!ok || n < -1 || n > rec_end - q)
		return -EINVAL;
	r->value_len = (int32_t)n;
	q += n > 0 ? n : 0;
	headers = cleaner_varint(&q, rec_end, &ok);
	if (!ok || headers < 0 || headers > rec_end - q)
		return -EINVAL;
	for (; headers > 0; headers--) {
		n = cleaner_varint(&q, rec_end, &ok);
		if (!ok || n < 0 || n > rec_end - q)
			return -EINVAL;
		q += n;
		n = cleaner_varint(&q, rec_end, &ok);
		if (!ok || n < -1 || n > rec_end - q)
			return -EINVAL;
		q += n > 0 ? n : 0;
	}
	if (q != rec_end)
		return -EINVAL;
	r->end = rec_end;
	*p = rec_end;
	return 0;
}

/* The batch's records as one buffer: the body itself, or a malloc'd
 * decompressed copy in *owned. */
static int
cleaner_batch_body(const uint8_t *batch, size_t len, const struct rbatch_header *h,
		   const uint8_t **body, size_t *body_len, uint8_t **owned)
{
	int codec = h->attributes & RBATCH_ATTR_CODEC_MASK;

	*owned = NULL;
	*body = batch + RBATCH_HEADER_BYTES;
	*body_len = len - RBATCH_HEADER_BYTES;
	if (codec == RBATCH_CODEC_NONE)
		return 0;
	if (cleaner_codec_decompress(codec, *body, *body_len, owned, body_len,
				     CLEANER_INFLATED_BYTES_MAX) < 0)
		return -EINVAL;
	*body = *owned;
	return 0;
}

static int
cleaner_batch_check(const uint8_t *batch, size_t len, struct rbatch_header *h)
{
	if (rbatch_header_parse(batch, len, h) != 0 || h->magic != RBATCH_MAGIC_V2 ||
	    rbatch_total_bytes(h) != (int64_t)len || h->records_count < 0)
		return -EINVAL;
	return 0;
}

int
cleaner_batch_records(const uint8_t *batch, size_t len, cleaner_record_fn *fn, void *arg)
{
	struct rbatch_header h;
	struct cleaner_record rec;
	const uint8_t *body, *p, *end;
	size_t body_len;
	uint8_t *owned;
	int32_t i;
	int rc;

	if (cleaner_batch_check(batch, len, &h) < 0)
		return -EINVAL;
	if (h.attributes & RBATCH_ATTR_CONTROL)
		return 0;
	if (cleaner_batch_body(batch, len, &h, &body, &body_len, &owned) < 0)
		return -EINVAL;
	p = body;
	end = body + body_len;
	rc = 0;
	for (i = 0; i < h.records_count && rc == 0; i++) {
		rc = cleaner_record_parse(&p, end, &rec);
		if (rc == 0)
			rc = fn(arg, &h, &rec);
	}
	free(owned);
	return rc;
}

/* Kafka's shouldRetainRecord. */
static bool
cleaner_retain(const struct cleaner_filter *f, const struct rbatch_header *h,
	       const struct cleaner_record *r, bool *tombstone)
{
	int64_t offset = h->base_offset + r->offset_delta, latest;
	bool has_horizon = (h->attributes & RBATCH_ATTR_DELETE_HORIZON) != 0;

	*tombstone = r->value_len < 0;
	if (offset > f->map->latest_offset)
		return true;
	if (r->key == NULL)
		return false;           /* keyless records do not belong in a compacted log */
	latest = cleaner_map_get(f->map, r->key, (size_t)r->key_len);
	if (offset < latest)
		return false;
	return r->value_len >= 0 || !has_horizon || f->now_ms < h->base_timestamp;
}

static void
cleaner_header_write(uint8_t *p, const struct rbatch_header *h, int16_t attributes,
		     int64_t base_ts, int64_t max_ts, int32_t count, size_t total)
{
	be_write64(p, (uint64_t)h->base_offset);
	be_write32(p + CB_OFF_LENGTH, (uint32_t)(total - RBATCH_LOG_OVERHEAD));
	be_write32(p + CB_OFF_LEADER_EPOCH, (uint32_t)h->partition_leader_epoch);
	p[CB_OFF_MAGIC] = RBATCH_MAGIC_V2;
	be_write16(p + CB_OFF_ATTRIBUTES, (uint16_t)attributes);
	be_write32(p + CB_OFF_LAST_OFFSET_DELTA, (uint32_t)h->last_offset_delta);
	be_write64(p + CB_OFF_BASE_TIMESTAMP, (uint64_t)base_ts);
	be_write64(p + CB_OFF_MAX_TIMESTAMP, (uint64_t)max_ts);
	be_write64(p + CB_OFF_PRODUCER_ID, (uint64_t)h->producer_id);
	be_write16(p + CB_OFF_PRODUCER_EPOCH, (uint16_t)h->producer_epoch);
	be_write32(p + CB_OFF_BASE_SEQUENCE, (uint32_t)h->base_sequence);
	be_write32(p + CB_OFF_RECORDS_COUNT, (uint32_t)count);
	be_write32(p + CB_OFF_CRC, rbatch_crc_compute(p, total));
}

/* DefaultRecordBatch.writeEmptyHeader: no records, no codec, the original
 * offsets and producer fields, NO_TIMESTAMP first and the max timestamp. */
static int
cleaner_write_empty(const struct rbatch_header *h, struct cleaner_buf *out)
{
	int16_t attr = h->attributes & (RBATCH_ATTR_LOG_APPEND_TIME | RBATCH_ATTR_TRANSACTIONAL |
					RBATCH_ATTR_CONTROL);

	if (cleaner_buf_reserve(out, RBATCH_HEADER_BYTES) < 0)
		return -ENOMEM;
	cleaner_header_write(out->data + out->len, h, attr, -1, h->max_timestamp, 0,
			     RBATCH_HEADER_BYTES);
	out->len += RBATCH_HEADER_BYTES;
	return 0;
}

struct cleaner_rebuild {
	struct cleaner_buf recs;        /* retained records, re-encoded */
	int64_t base_ts;                /* of the new batch */
	int64_t orig_base_ts;
	int64_t max_ts;
};

/* Append r with its timestamp re-based on rb->base_ts. */
static int
cleaner_rebuild_record(struct cleaner_rebuild *rb, const struct cleaner_record *r)
{
	uint8_t tmp[2 * CB_VARINT_BYTES_MAX + 1];
	int64_t ts = rb->orig_base_ts + r->ts_delta;
	size_t head, tail = (size_t)(r->end - r->after_ts), body, n;

	if (ts > rb->max_ts)
		rb->max_ts = ts;
	head = 1 + cleaner_varint_put(tmp + 1, ts - rb->base_ts);
	tmp[0] = *r->body;
	body = head + tail;
	if (cleaner_buf_reserve(&rb->recs, body + CB_VARINT_BYTES_MAX) < 0)
		return -ENOMEM;
	n = cleaner_varint_put(rb->recs.data + rb->recs.len, (int64_t)body);
	memcpy(rb->recs.data + rb->recs.len + n, tmp, head);
	memcpy(rb->recs.data + rb->recs.len + n + head, r->after_ts, tail);
	rb->recs.len += n + body;
	return 0;
}

/* Write the rebuilt batch of count records (compressed like the original). */
static int
cleaner_rebuild_write(const struct rbatch_header *h, struct cleaner_rebuild *rb, int16_t attr,
		      int32_t count, struct cleaner_buf *out)
{
	int codec = h->attributes & RBATCH_ATTR_CODEC_MASK;
	const uint8_t *body = rb->recs.data;
	size_t body_len = rb->recs.len, total;
	uint8_t *packed = NULL;
	int64_t max_ts = rb->max_ts;
	int rc = 0;

	if (codec != RBATCH_CODEC_NONE) {
		rc = cleaner_codec_compress(codec, body, body_len, &packed, &body_len);
		if (rc < 0)
			return rc;
		body = packed;
	}
	if (h->attributes & RBATCH_ATTR_LOG_APPEND_TIME)
		max_ts = h->max_timestamp;
	total = RBATCH_HEADER_BYTES + body_len;
	if (cleaner_buf_reserve(out, total) == 0) {
		memcpy(out->data + out->len + RBATCH_HEADER_BYTES, body, body_len);
		cleaner_header_write(out->data + out->len, h, attr, rb->base_ts, max_ts, count,
				     total);
		out->len += total;
	} else {
		rc = -ENOMEM;
	}
	free(packed);
	rb->max_ts = max_ts;
	return rc;
}

struct cleaner_pass {
	const struct cleaner_filter *f;
	bool *keep;                     /* [records_count] */
	uint32_t kept;
	bool tombstones;
	struct cleaner_rebuild *rb;     /* second pass: re-encode the kept */
	int32_t index;
};

static int
cleaner_pass_record(void *arg, const struct rbatch_header *h, const struct cleaner_record *r)
{
	struct cleaner_pass *ps = arg;
	bool tomb;

	if (ps->rb != NULL)
		return ps->keep[ps->index++] ? cleaner_rebuild_record(ps->rb, r) : 0;
	ps->keep[ps->index] = cleaner_retain(ps->f, h, r, &tomb);
	if (ps->keep[ps->index]) {
		ps->kept++;
		ps->tombstones |= tomb;
	}
	ps->index++;
	return 0;
}

static int
cleaner_filter_rebuild(const struct cleaner_filter *f, const uint8_t *batch, size_t len,
		       const struct rbatch_header *h, struct cleaner_pass *ps,
		       struct cleaner_buf *out, struct cleaner_batch_result *res)
{
	struct cleaner_rebuild rb = { .orig_base_ts = h->base_timestamp, .max_ts = -1 };
	bool has_horizon = (h->attributes & RBATCH_ATTR_DELETE_HORIZON) != 0;
	int16_t attr = h->attributes;
	int rc;

	rb.base_ts = h->base_timestamp;
	if (ps->tombstones && !has_horizon) {
		/* The first clean that keeps a tombstone starts its delete
		 * horizon (KIP-534): base timestamp = the horizon. */
		rb.base_ts = f->now_ms + f->delete_retention_ms;
		attr |= RBATCH_ATTR_DELETE_HORIZON;
		has_horizon = true;
	}
	ps->rb = &rb;
	ps->index = 0;
	rc = cleaner_batch_records(batch, len, cleaner_pass_record, ps);
	if (rc == 0)
		rc = cleaner_rebuild_write(h, &rb, attr, (int32_t)ps->kept, out);
	cleaner_buf_free(&rb.recs);
	res->max_timestamp = rb.max_ts;
	res->delete_horizon_ms = has_horizon ? rb.base_ts : -1;
	return rc;
}

int
cleaner_batch_filter(const struct cleaner_filter *f, const uint8_t *batch, size_t len,
		     struct cleaner_buf *out, struct cleaner_batch_result *res)
{
	struct cleaner_pass ps = { .f = f };
	struct rbatch_header h;
	bool has_horizon;
	int rc;

	memset(res, 0, sizeof(*res));
	res->delete_horizon_ms = -1;
	if (cleaner_batch_check(batch, len, &h) < 0)
		return -EINVAL;
	has_horizon = (h.attributes & RBATCH_ATTR_DELETE_HORIZON) != 0;
	res->records_read = (uint32_t)h.records_count;
	if (h.attributes & RBATCH_ATTR_CONTROL) {
		/* No transactions here: markers stay as they are. */
		res->records_kept = res->records_read;
		goto original;
	}
	if (h.records_count == 0) {
		/* An earlier clean's empty batch: kept while still its
		 * producer's last. */
		if (f->retain_empty && h.producer_id >= 0)
			goto original;
		return 0;
	}
	ps.keep = calloc((size_t)h.records_count, sizeof(bool));
	if (ps.keep == NULL)
		return -ENOMEM;
	rc = cleaner_batch_records(batch, len, cleaner_pass_record, &ps);
	if (rc == 0 && ps.index != h.records_count)
		rc = -EINVAL;
	res->records_kept = ps.kept;
	if (rc == 0 && ps.kept == (uint32_t)h.records_count && !(ps.tombstones && !has_horizon)) {
		free(ps.keep);
		goto original;
	}
	if (rc == 0 && ps.kept > 0) {
		rc = cleaner_filter_rebuild(f, batch, len, &h, &ps, out, res);
		res->kept = rc == 0;
	} else if (rc == 0 && f->retain_empty && h.producer_id >= 0) {
		rc = cleaner_write_empty(&h, out);
		res->kept = rc == 0;
		res->max_timestamp = h.max_timestamp;
	}
	free(ps.keep);
	return rc;
original:
	if (cleaner_buf_reserve(out, len) < 0)
		return -ENOMEM;
	memcpy(out->data + out->len, batch, len);
	out->len += len;
	res->kept = true;
	res->original = true;
	res->max_timestamp = h.max_timestamp;
	res->delete_horizon_ms = has_horizon ? h.base_timestamp : -1;
	return 0;
}
