/* SPDX-License-Identifier: Apache-2.0 */
/* Keyed batches for the cleaner tests (see tkeyed.h). */
#include "tests/unit/storage/tkeyed.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/be.h"
#include "storage/cleaner_int.h"

static size_t
tk_varint(uint8_t *p, int64_t v)
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

uint8_t *
tk_build(const struct tk_batch *b, uint32_t *len)
{
	uint8_t *body = malloc((size_t)b->count * 64 + 16), *out, *packed = NULL, rec[64];
	size_t blen = 0, plen;
	char key[16], val[24];

	cr_assert_not_null(body);
	for (int i = 0; i < b->count; i++) {
		size_t r = 0;
		int kl = -1, vl = -1;

		if (b->recs[i].key >= 0)
			kl = snprintf(key, sizeof(key), "k%d", b->recs[i].key);
		if (b->recs[i].value >= 0)
			vl = snprintf(val, sizeof(val), "v%d-%d", b->recs[i].key, b->recs[i].value);

		rec[r++] = 0;                           /* attributes */
		r += tk_varint(rec + r, i);             /* timestampDelta */
		r += tk_varint(rec + r, i);             /* offsetDelta */
		r += tk_varint(rec + r, kl);
		if (kl > 0) {
			memcpy(rec + r, key, (size_t)kl);
			r += (size_t)kl;
		}
		r += tk_varint(rec + r, vl);
		if (vl > 0) {
			memcpy(rec + r, val, (size_t)vl);
			r += (size_t)vl;
		}
		r += tk_varint(rec + r, 0);             /* headers */
		blen += tk_varint(body + blen, (int64_t)r);
		memcpy(body + blen, rec, r);
		blen += r;
	}
	plen = blen;
	if (b->codec != 0) {
		cr_assert_eq(cleaner_codec_compress(b->codec, body, blen, &packed, &plen), 0);
	}
	out = calloc(1, RBATCH_HEADER_BYTES + plen);
	cr_assert_not_null(out);
	memcpy(out + RBATCH_HEADER_BYTES, packed != NULL ? packed : body, plen);
	be_write64(out, (uint64_t)b->base_offset);
	be_write32(out + 8, (uint32_t)(RBATCH_HEADER_BYTES + plen - 12));
	out[16] = 2;
	be_write16(out + 21, (uint16_t)b->codec);
	be_write32(out + 23, (uint32_t)(b->count - 1));
	be_write64(out + 27, (uint64_t)b->ts);
	be_write64(out + 35, (uint64_t)(b->ts + b->count - 1));
	be_write64(out + 43, (uint64_t)b->producer_id);
	be_write16(out + 51, (uint16_t)b->producer_epoch);
	be_write32(out + 53, (uint32_t)b->base_sequence);
	be_write32(out + 57, (uint32_t)b->count);
	be_write32(out + 17, rbatch_crc_compute(out, RBATCH_HEADER_BYTES + plen));
	*len = (uint32_t)(RBATCH_HEADER_BYTES + plen);
	free(body);
	free(packed);
	return out;
}

static int
tk_parse_record(void *arg, const struct rbatch_header *h, const struct cleaner_record *rec)
{
	struct tk_log *out = arg;
	struct tk_read *r;
	char buf[32];

	cr_assert_lt(out->count, TK_RECORDS_MAX);
	r = &out->recs[out->count++];
	r->offset = h->base_offset + rec->offset_delta;
	r->ts = h->base_timestamp + rec->ts_delta;
	r->key = -1;
	if (rec->key != NULL) {
		cr_assert_lt(rec->key_len, (int)sizeof(buf));
		memcpy(buf, rec->key, (size_t)rec->key_len);
		buf[rec->key_len] = '\0';
		r->key = atoi(buf + 1);
	}
	r->value = -1;
	if (rec->value_len >= 0) {
		const char *v = (const char *)rec->after_ts;

		/* value "v<key>-<n>": find it after the key in the record. */
		v = memchr(rec->key != NULL ? (const char *)rec->key + rec->key_len : v, 'v',
			   (size_t)(rec->end - (const uint8_t *)v));
		cr_assert_not_null(v);
		r->value = atoi(strchr(v, '-') + 1);
	}
	return 0;
}

void
tk_parse(const uint8_t *buf, size_t len, struct tk_log *out)
{
	struct rbatch_header h;
	size_t pos = 0;

	while (pos + RBATCH_HEADER_BYTES <= len) {
		cr_assert_eq(rbatch_header_parse(buf + pos, len - pos, &h), 0);
		cr_assert_leq(pos + (size_t)rbatch_total_bytes(&h), len);
		cr_assert(rbatch_crc_ok(buf + pos, (size_t)rbatch_total_bytes(&h)), "crc");
		cr_assert_lt(out->batches, TK_RECORDS_MAX);
		out->last_offsets[out->batches] = h.base_offset + h.last_offset_delta;
		out->producer_ids[out->batches] = h.producer_id;
		out->codecs[out->batches++] = h.attributes & RBATCH_ATTR_CODEC_MASK;
		cr_assert_eq(cleaner_batch_records(buf + pos, (size_t)rbatch_total_bytes(&h),
						   tk_parse_record, out), 0);
		pos += (size_t)rbatch_total_bytes(&h);
	}
	cr_assert_eq(pos, len);
}

void
tk_read_plog(struct plog *plog, struct tk_log *out)
{
	char path[SEGMENT_PATH_MAX];

	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < plog->seg_count; i++) {
		struct segment *seg = plog->segs[i];
		int64_t size;
		uint8_t *buf;
		int fd;

		segment_path(plog->dir, seg->base_offset, ".log", path, sizeof(path));
		fd = sio_open(plog->sio, path, O_RDONLY, 0);
		cr_assert_geq(fd, 0, "%s", path);
		size = sio_size(plog->sio, fd);
		cr_assert_eq(size, seg->size, "%s: file %lld, segment %lld", path,
			     (long long)size, (long long)seg->size);
		buf = malloc((size_t)size + 1);
		if (size > 0)
			cr_assert_eq(sio_pread(plog->sio, fd, buf, (size_t)size, 0), size);
		sio_close(plog->sio, fd);
		tk_parse(buf, (size_t)size, out);
		free(buf);
	}
}
