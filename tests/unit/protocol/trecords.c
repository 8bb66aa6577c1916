/* SPDX-License-Identifier: Apache-2.0 */
/* Test and bench helper: record batches built and compressed by hand (see
 * trecords.h). The encoding follows shared/kafka-protocol. */
#include "tests/unit/protocol/trecords.h"

#include <lz4frame.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define TRECORDS_XERIAL_UNIT_BYTES (32u << 10)
#define TRECORDS_XERIAL_HEADER "\x82SNAPPY\0\0\0\0\1\0\0\0\1"

static void
trecords_fail(const char *what)
{
	fprintf(stderr, "trecords: %s\n", what);
	abort();
}

static void
trecords_reserve(struct trecords_buf *b, size_t n)
{
	if (b->len + n <= b->cap)
		return;
	b->cap = (b->len + n) * 2 + 64;
	b->p = realloc(b->p, b->cap);
	if (b->p == NULL)
		trecords_fail("out of memory");
}

void
trecords_put(struct trecords_buf *b, const void *src, size_t n)
{
	if (n == 0)
		return;
	trecords_reserve(b, n);
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

void
trecords_put_fill(struct trecords_buf *b, int byte, size_t n)
{
	trecords_reserve(b, n);
	memset(b->p + b->len, byte, n);
	b->len += n;
}

void
trecords_put_be(struct trecords_buf *b, uint64_t v, int bytes)
{
	uint8_t t[8];

	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		t[i] = (uint8_t)v;
	trecords_put(b, t, (size_t)bytes);
}

void
trecords_put_varint(struct trecords_buf *b, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
	uint8_t c;

	for (; z >= 0x80; z >>= 7) {
		c = (uint8_t)(z | 0x80);
		trecords_put(b, &c, 1);
	}
	c = (uint8_t)z;
	trecords_put(b, &c, 1);
}

void
trecords_put_record(struct trecords_buf *b, const struct trecords_rec *r)
{
	struct trecords_buf f = { 0 };
	size_t klen = r->key != NULL ? strlen(r->key) : 0;
	size_t vlen = r->value_len > 0 ? (size_t)r->value_len : 0;
	size_t tail = r->header ? 5 : 1;        /* the header fields below */
	uint8_t zero = 0;

	trecords_put(&f, &zero, 1);                     /* attributes */
	trecords_put_varint(&f, r->ts_delta);
	trecords_put_varint(&f, r->offset_delta);
	trecords_put_varint(&f, r->key != NULL ? (int64_t)klen : -1);
	trecords_put(&f, r->key, klen);
	trecords_put_varint(&f, r->value_len);
	trecords_put_varint(b, (int64_t)(f.len + vlen + tail));
	trecords_put(b, f.p, f.len);
	if (r->value != NULL)
		trecords_put(b, r->value, vlen);
	else
		trecords_put_fill(b, r->value_fill, vlen);
	if (r->header) {
		trecords_put_varint(b, 1);
		trecords_put_varint(b, 2);
		trecords_put(b, "hk", 2);
		trecords_put_varint(b, -1);
	} else {
		trecords_put_varint(b, 0);
	}
	free(f.p);
}

struct trecords_buf
trecords_records(int32_t count, size_t vlen, int fill, bool header)
{
	struct trecords_buf r = { 0 };
	char key[16];

	for (int32_t i = 0; i < count; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		trecords_put_record(&r, &(struct trecords_rec){
			.ts_delta = i * 3, .offset_delta = i, .key = key,
			.value_len = (int64_t)vlen, .value_fill = fill, .header = header });
	}
	return r;
}

struct trecords_hdr
trecords_hdr_default(int32_t n)
{
	return (struct trecords_hdr){ .attributes = 0, .last_offset_delta = n - 1,
				      .records_count = n, .producer_id = -1,
				      .base_sequence = -1, .magic = 2 };
}

void
trecords_refresh_crc(uint8_t *p, size_t len)
{
	uint32_t crc = rbatch_crc_compute(p, len);

	for (int i = 0; i < 4; i++)
		p[17 + i] = (uint8_t)(crc >> (24 - 8 * i));
}

struct trecords_buf
trecords_batch(const struct trecords_hdr *h, const uint8_t *body, size_t body_len)
{
	struct trecords_buf b = { 0 };

	trecords_put_be(&b, (uint64_t)h->base_offset, 8);
	trecords_put_be(&b, 49 + body_len, 4);
	trecords_put_be(&b, (uint32_t)-1, 4);
	trecords_put_be(&b, (uint8_t)h->magic, 1);
	trecords_put_be(&b, 0, 4);                      /* crc, below */
	trecords_put_be(&b, (uint16_t)h->attributes, 2);
	trecords_put_be(&b, (uint32_t)h->last_offset_delta, 4);
	trecords_put_be(&b, 1700000000000ull, 8);
	trecords_put_be(&b, 1700000000009ull, 8);
	trecords_put_be(&b, (uint64_t)h->producer_id, 8);
	trecords_put_be(&b, 0, 2);
	trecords_put_be(&b, (uint32_t)h->base_sequence, 4);
	trecords_put_be(&b, (uint32_t)h->records_count, 4);
	trecords_put(&b, body, body_len);
	trecords_refresh_crc(b.p, b.len);
	return b;
}

/* snappy-java: the stream header, then [u32 length][raw unit] per 32 KiB
 * of input (one empty unit for empty input). */
static void
trecords_xerial(struct trecords_buf *out, const uint8_t *src, size_t n)
{
	trecords_put(out, TRECORDS_XERIAL_HEADER, 16);
	for (size_t at = 0; at < n || at == 0; at += TRECORDS_XERIAL_UNIT_BYTES) {
		size_t k = n - at < TRECORDS_XERIAL_UNIT_BYTES ? n - at
							       : TRECORDS_XERIAL_UNIT_BYTES;
		size_t clen = snappy_max_compressed_length(k);

		trecords_reserve(out, 4 + clen);
		if (snappy_compress((const char *)src + at, k, (char *)out->p + out->len + 4,
				    &clen) != SNAPPY_OK)
			trecords_fail("snappy");
		trecords_put_be(out, clen, 4);
		out->len += clen;
		if (n == 0)
			break;
	}
}

struct trecords_buf
trecords_compress(const struct trecords_codec *c, const uint8_t *src, size_t n)
{
	struct trecords_buf out = { 0 };
	size_t cap = n + n / 4 + (64u << 10);

	if (c->codec == RBATCH_CODEC_SNAPPY && c->xerial) {
		trecords_xerial(&out, src, n);
		return out;
	}
	trecords_reserve(&out, cap);
	if (c->codec == RBATCH_CODEC_GZIP) {
		z_stream zs = { 0 };

		if (deflateInit2(&zs, c->best ? 9 : 6, Z_DEFLATED, 16 + 15, c->best ? 9 : 8,
				 Z_DEFAULT_STRATEGY) != Z_OK)
			trecords_fail("zlib");
		zs.next_in = (Bytef *)(uintptr_t)src;
		zs.avail_in = (uInt)n;
		zs.next_out = out.p;
		zs.avail_out = (uInt)cap;
		if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
			trecords_fail("zlib");
		out.len = cap - zs.avail_out;
		deflateEnd(&zs);
	} else if (c->codec == RBATCH_CODEC_SNAPPY) {
		out.len = cap;
		if (snappy_compress((const char *)src, n, (char *)out.p, &out.len) != SNAPPY_OK)
			trecords_fail("snappy");
	} else if (c->codec == RBATCH_CODEC_LZ4) {
		out.len = LZ4F_compressFrame(out.p, cap, src, n, NULL);
		if (LZ4F_isError(out.len))
			trecords_fail("lz4");
	} else if (c->codec == RBATCH_CODEC_ZSTD) {
		ZSTD_CCtx *cc = ZSTD_createCCtx();

		ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 3);
		ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, c->zstd_stream ? 0 : 1);
		out.len = ZSTD_compress2(cc, out.p, cap, src, n);
		ZSTD_freeCCtx(cc);
		if (ZSTD_isError(out.len))
			trecords_fail("zstd");
	} else {
		trecords_put(&out, src, n);
	}
	return out;
}

const struct trecords_codec trecords_codecs[TRECORDS_CODECS] = {
	{ .codec = RBATCH_CODEC_GZIP }, { .codec = RBATCH_CODEC_SNAPPY },
	{ .codec = RBATCH_CODEC_SNAPPY, .xerial = true }, { .codec = RBATCH_CODEC_LZ4 },
	{ .codec = RBATCH_CODEC_ZSTD },
};

const char *
trecords_codec_name(int ci)
{
	static const char *const names[TRECORDS_CODECS] = { "gzip", "snappy", "xerial", "lz4",
							    "zstd" };

	return ci < 0 ? "zstd-stream" : names[ci];
}

struct trecords_buf
trecords_batch_codec(int ci, const struct trecords_buf *r, int32_t count)
{
	static const struct trecords_codec stream = { .codec = RBATCH_CODEC_ZSTD,
						      .zstd_stream = true };
	const struct trecords_codec *how = ci < 0 ? &stream : &trecords_codecs[ci];
	struct trecords_hdr h = trecords_hdr_default(count);
	struct trecords_buf c = trecords_compress(how, r->p, r->len), b;

	h.attributes = (int16_t)how->codec;
	b = trecords_batch(&h, c.p, c.len);
	free(c.p);
	return b;
}
