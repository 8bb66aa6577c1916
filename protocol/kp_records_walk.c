/* SPDX-License-Identifier: Apache-2.0 */
/* The record walk of Produce-side validation: every record of a batch
 * checked as DefaultRecord.readFrom reads it (bounded varints, lengths
 * inside the record, offset deltas 0..n-1), by a byte-driven state machine
 * that resumes across windows and steps, with a plain parser as the fast
 * path for records lying whole in a window. */
#include <string.h>

#include "common/assert.h"
#include "protocol/kp_records_int.h"

/* Varint byte limits (Kafka ByteUtils.readVarint/readVarlong). */
#define KP_VARINT_BYTES_MAX 5
#define KP_VARLONG_BYTES_MAX 10

void
kp_records_walk_init(struct kp_records_walk *w, int32_t count, uint64_t limit)
{
	memset(w, 0, sizeof(*w));
	w->count = count;
	w->limit = limit;
	w->state = KP_W_LEN;
}

void
kp_records_walk_fail(struct kp_records_walk *w)
{
	w->state = KP_W_FAILED;
}

void
kp_records_walk_fail_limit(struct kp_records_walk *w)
{
	w->limit_hit = true;
	w->state = KP_W_FAILED;
}

/* A key, value or header field of n bytes (-1: null) follows, then next. */
static void
kp_records_walk_field_bytes(struct kp_records_walk *w, int64_t n, uint8_t next)
{
	if (n > 0 && (uint64_t)n > w->rec_end - w->at)
		return kp_records_walk_fail(w);         /* runs past its record */
	if (n > 0) {
		w->skip_left = (uint64_t)n;
		w->after_skip = next;
		w->state = KP_W_SKIP;
	} else {
		w->state = next;
	}
}

/* Zero-byte transitions: after a header, another header or the record's
 * end, where the fields must end exactly at the record's length. */
static void
kp_records_walk_settle(struct kp_records_walk *w)
{
	if (w->state != KP_W_HNEXT)
		return;
	if (w->headers_left > 0) {
		w->state = KP_W_HKEY_LEN;
		return;
	}
	if (w->at != w->rec_end)
		return kp_records_walk_fail(w);
	w->index++;
	w->state = w->index == w->count ? KP_W_DONE : KP_W_LEN;
}

/* The record length: its end must leave room for the records after it
 * within the bound. */
static void
kp_records_walk_record_start(struct kp_records_walk *w, int64_t rec_bytes)
{
	uint64_t after = (uint64_t)(w->count - w->index - 1) * KP_RECORD_BYTES_MIN;

	if (rec_bytes <= 0)
		return kp_records_walk_fail(w);
	w->rec_end = w->at + (uint64_t)rec_bytes;
	if (w->rec_end > w->limit || after > w->limit - w->rec_end)
		return kp_records_walk_fail_limit(w);
	w->state = KP_W_ATTR;
}

/* The field of the current state ended with value v (DefaultRecord.readFrom). */
static void
kp_records_walk_field(struct kp_records_walk *w, int64_t v)
{
	switch (w->state) {
	case KP_W_LEN: return kp_records_walk_record_start(w, v);
	case KP_W_ATTR: w->state = KP_W_TS; break;
	case KP_W_TS: w->state = KP_W_OFFSET; break;
	case KP_W_OFFSET:
		if (v != w->index)
			return kp_records_walk_fail(w);
		w->state = KP_W_KEY_LEN;
		break;
	case KP_W_KEY_LEN:
		if (v < -1)
			return kp_records_walk_fail(w);
		kp_records_walk_field_bytes(w, v, KP_W_VALUE_LEN);
		break;
	case KP_W_VALUE_LEN:
		if (v < -1)
			return kp_records_walk_fail(w);
		kp_records_walk_field_bytes(w, v, KP_W_HEADERS);
		break;
	case KP_W_HEADERS:
		if (v < 0)
			return kp_records_walk_fail(w);
		w->headers_left = v;
		w->state = KP_W_HNEXT;
		break;
	case KP_W_HKEY_LEN:
		if (v < 0)
			return kp_records_walk_fail(w);
		kp_records_walk_field_bytes(w, v, KP_W_HVALUE_LEN);
		break;
	default:
		ASSERT_HOT(w->state == KP_W_HVALUE_LEN);
		if (v < -1)
			return kp_records_walk_fail(w);
		w->headers_left--;
		kp_records_walk_field_bytes(w, v, KP_W_HNEXT);
		break;
	}
	/* A field that ends past its record fails now, not at the record's end. */
	if (w->state != KP_W_FAILED && w->at > w->rec_end)
		return kp_records_walk_fail(w);
	kp_records_walk_settle(w);
}

/* One more byte of the varint of this state; at its end, the field. */
static void
kp_records_walk_varint_byte(struct kp_records_walk *w, uint8_t b)
{
	int bytes_max = w->state == KP_W_TS ? KP_VARLONG_BYTES_MAX : KP_VARINT_BYTES_MAX;
	int64_t v;

	w->vraw |= (uint64_t)(b & 0x7f) << (7 * w->vbytes);
	w->vbytes++;
	if (b & 0x80) {
		if (w->vbytes == bytes_max)
			/* too long (ByteUtils "Varint is too long") */
			kp_records_walk_fail(w);
		return;
	}
	v = (int64_t)(w->vraw >> 1) ^ -(int64_t)(w->vraw & 1);
	w->vraw = 0;
	w->vbytes = 0;
	if (bytes_max == KP_VARINT_BYTES_MAX && (v < INT32_MIN || v > INT32_MAX))
		return kp_records_walk_fail(w);
	kp_records_walk_field(w, v);
}

/* A cursor over one record lying whole in the window; bad is sticky. */
struct kp_records_walk_cur {
	const uint8_t *p;
	const uint8_t *end;
	uint64_t skipped;               /* key, value and header bytes jumped over */
	bool bad;
};

static inline int64_t
kp_records_walk_cur_varint(struct kp_records_walk_cur *c, int bytes_max)
{
	uint64_t raw = 0;

	/* Most fields of most records are one byte. */
	if (c->p < c->end && *c->p < 0x80) {
		raw = *c->p++;
		return (int64_t)(raw >> 1) ^ -(int64_t)(raw & 1);
	}

	for (int i = 0; i < bytes_max && c->p < c->end; i++) {
		uint8_t b = *c->p++;

		raw |= (uint64_t)(b & 0x7f) << (7 * i);
		if ((b & 0x80) == 0) {
			int64_t v = (int64_t)(raw >> 1) ^ -(int64_t)(raw & 1);

			if (bytes_max == KP_VARINT_BYTES_MAX && (v < INT32_MIN || v > INT32_MAX))
				break;
			return v;
		}
	}
	c->bad = true;
	return 0;
}

/* Jump over a field of n bytes (n <= 0: none), which must end in the record. */
static void
kp_records_walk_cur_skip(struct kp_records_walk_cur *c, int64_t n)
{
	if (n <= 0)
		return;
	if ((uint64_t)n > (uint64_t)(c->end - c->p)) {
		c->bad = true;
		return;
	}
	c->p += n;
	c->skipped += (uint64_t)n;
}

/* The fast path of the walk, for the usual case: at the start of a record
 * that lies whole in p[0..n), check it with a plain parser, the same checks
 * as the state machine (DefaultRecord.readFrom). Returns the bytes consumed,
 * or 0 to leave the record to the state machine (it does not fit, or its
 * length is one the state machine refuses) unless the walk failed. */
static size_t
kp_records_walk_record_fast(struct kp_records_walk *w, const uint8_t *p, size_t n,
			    size_t *work_left)
{
	struct kp_records_walk_cur c = { p, p + (n < KP_VARINT_BYTES_MAX ? n : KP_VARINT_BYTES_MAX),
					 0, false };
	int64_t rec_bytes = kp_records_walk_cur_varint(&c, KP_VARINT_BYTES_MAX), v, headers;
	uint64_t after = (uint64_t)(w->count - w->index - 1) * KP_RECORD_BYTES_MIN;
	size_t hdr = (size_t)(c.p - p), total, parsed;

	if (c.bad || rec_bytes <= 0 || (uint64_t)rec_bytes > n - hdr)
		return 0;
	if (w->at + hdr + (uint64_t)rec_bytes > w->limit ||
	    after > w->limit - (w->at + hdr + (uint64_t)rec_bytes))
		return 0;
	c.end = c.p + rec_bytes;
	c.p++;                                          /* attributes */
	(void)kp_records_walk_cur_varint(&c, KP_VARLONG_BYTES_MAX); /* timestampDelta */
	if (kp_records_walk_cur_varint(&c, KP_VARINT_BYTES_MAX) != w->index)
		c.bad = true;
	for (int i = 0; i < 2 && !c.bad; i++) {         /* key, value */
		v = kp_records_walk_cur_varint(&c, KP_VARINT_BYTES_MAX);
		c.bad |= v < -1;
		kp_records_walk_cur_skip(&c, v);
	}
	headers = kp_records_walk_cur_varint(&c, KP_VARINT_BYTES_MAX);
	c.bad |= headers < 0;
	/* Each header takes two bytes at least: the record ends the loop. */
	for (int64_t h = 0; h < headers && !c.bad; h++) {
		v = kp_records_walk_cur_varint(&c, KP_VARINT_BYTES_MAX);
		c.bad |= v < 0;
		kp_records_walk_cur_skip(&c, v);
		v = kp_records_walk_cur_varint(&c, KP_VARINT_BYTES_MAX);
		c.bad |= v < -1;
		kp_records_walk_cur_skip(&c, v);
	}
	if (c.bad || c.p != c.end) {
		kp_records_walk_fail(w);
		return 0;
	}
	total = hdr + (size_t)rec_bytes;
	parsed = total - (size_t)c.skipped;
	*work_left -= parsed < *work_left ? parsed : *work_left;
	w->at += total;
	w->index++;
	w->state = w->index == w->count ? KP_W_DONE : KP_W_LEN;
	return total;
}

/* Walk the stream bytes p[0..n). Returns how many were consumed: all, or
 * fewer when the walk failed or *work_left (bytes parsed; skipped field
 * bytes are free) ran out. */
size_t
kp_records_walk_feed(struct kp_records_walk *w, const uint8_t *p, size_t n, size_t *work_left)
{
	size_t i = 0;

	while (i < n) {
		if (w->state == KP_W_SKIP) {
			size_t step = n - i < w->skip_left ? n - i : (size_t)w->skip_left;

			i += step;
			w->at += step;
			w->skip_left -= step;
			if (w->skip_left == 0) {
				w->state = w->after_skip;
				kp_records_walk_settle(w);
			}
			continue;
		}
		if (w->state == KP_W_DONE)
			kp_records_walk_fail(w);        /* bytes after the last record */
		if (w->state == KP_W_FAILED || *work_left == 0)
			break;
		if (w->state == KP_W_LEN && w->vbytes == 0) {
			size_t used = kp_records_walk_record_fast(w, p + i, n - i, work_left);

			i += used;
			if (used > 0 || w->state == KP_W_FAILED)
				continue;
		}
		(*work_left)--;
		w->at++;
		if (w->state == KP_W_ATTR)
			kp_records_walk_field(w, 0);
		else
			kp_records_walk_varint_byte(w, p[i]);
		i++;
	}
	return i;
}
