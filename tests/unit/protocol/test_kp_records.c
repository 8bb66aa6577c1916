/* SPDX-License-Identifier: Apache-2.0 */
/* Tests protocol/kp_records.c: batches from real clients (kcat, the Java
 * client; every codec, raw and xerial snappy) validate; batches built here
 * byte by byte, and compressed here with zlib, snappy, lz4 and zstd, hit
 * every error path with Kafka's code; truncation at every length and
 * truncated compressed streams never crash. */
#include <criterion/criterion.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "protocol/kp_error.h"
#include "protocol/kp_records.h"

#define MAX_BYTES (1 << 20)
#define V_LATEST 9

/* Criterion runs each test in its own process; the bomb test raises it. */
static int32_t max_bytes = MAX_BYTES;

static const char *golden[] = { "kcat-none.bin", "kcat-gzip.bin", "kcat-snappy.bin",
				"kcat-lz4.bin", "kcat-zstd.bin", "java-gzip.bin",
				"java-snappy.bin", "java-lz4.bin", "java-zstd.bin" };

static uint8_t *
load(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	uint8_t *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", REC_GOLDEN_DIR, name);
	f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* A growable byte buffer for building batches. */
struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void
put(struct buf *b, const void *src, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void
put_be(struct buf *b, uint64_t v, int bytes)
{
	uint8_t t[8];

	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		t[i] = (uint8_t)v;
	put(b, t, (size_t)bytes);
}

static void
put_varint(struct buf *b, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);

	while (z >= 0x80) {
		uint8_t c = (uint8_t)(z | 0x80);

		put(b, &c, 1);
		z >>= 7;
	}
	uint8_t c = (uint8_t)z;
	put(b, &c, 1);
}

/* One record: key "k<i>", value of vlen 'v' bytes, one header. */
static void
put_record(struct buf *b, int32_t offset_delta, size_t vlen)
{
	struct buf r = { 0 };
	char key[16];
	int klen = snprintf(key, sizeof(key), "k%d", offset_delta);
	uint8_t zero = 0;

	put(&r, &zero, 1);
	put_varint(&r, offset_delta * 3);               /* timestampDelta */
	put_varint(&r, offset_delta);
	put_varint(&r, klen);
	put(&r, key, (size_t)klen);
	put_varint(&r, (int64_t)vlen);
	for (size_t i = 0; i < vlen; i++)
		put(&r, "v", 1);
	put_varint(&r, 1);
	put_varint(&r, 2);
	put(&r, "hk", 2);
	put_varint(&r, -1);
	put_varint(b, (int64_t)r.len);
	put(b, r.p, r.len);
	free(r.p);
}

struct hdr {
	int64_t base_offset;
	int16_t attributes;
	int32_t last_offset_delta, records_count;
	int64_t producer_id;
	int32_t base_sequence;
	int8_t magic;
};

static struct hdr
hdr_default(int32_t n)
{
	return (struct hdr){ .attributes = 0, .last_offset_delta = n - 1, .records_count = n,
			     .producer_id = -1, .base_sequence = -1, .magic = 2 };
}

/* A whole batch around an already encoded (maybe compressed) body. */
static struct buf
batch(const struct hdr *h, const uint8_t *body, size_t body_len)
{
	struct buf b = { 0 };

	put_be(&b, (uint64_t)h->base_offset, 8);
	put_be(&b, 49 + body_len, 4);
	put_be(&b, (uint32_t)-1, 4);
	put_be(&b, (uint8_t)h->magic, 1);
	put_be(&b, 0, 4);                               /* crc, below */
	put_be(&b, (uint16_t)h->attributes, 2);
	put_be(&b, (uint32_t)h->last_offset_delta, 4);
	put_be(&b, 1700000000000ull, 8);
	put_be(&b, 1700000000009ull, 8);
	put_be(&b, (uint64_t)h->producer_id, 8);
	put_be(&b, 0, 2);
	put_be(&b, (uint32_t)h->base_sequence, 4);
	put_be(&b, (uint32_t)h->records_count, 4);
	put(&b, body, body_len);
	{
		uint32_t crc = rbatch_crc_compute(b.p, b.len);

		for (int i = 0; i < 4; i++)
			b.p[17 + i] = (uint8_t)(crc >> (24 - 8 * i));
	}
	return b;
}

static void
refresh_crc(uint8_t *p, size_t len)
{
	uint32_t crc = rbatch_crc_compute(p, len);

	for (int i = 0; i < 4; i++)
		p[17 + i] = (uint8_t)(crc >> (24 - 8 * i));
}

static struct buf
records(int32_t n, size_t vlen)
{
	struct buf r = { 0 };

	for (int32_t i = 0; i < n; i++)
		put_record(&r, i, vlen);
	return r;
}

static int16_t
check(const struct buf *b, int16_t version)
{
	struct rbatch_header h;

	return kp_records_validate(b->p, (int32_t)b->len, version, max_bytes, &h);
}

Test(kp_records, golden_batches_validate)
{
	for (size_t i = 0; i < sizeof(golden) / sizeof(golden[0]); i++) {
		size_t len;
		uint8_t *b = load(golden[i], &len);
		struct rbatch_header h;

		cr_assert_eq(kp_records_validate(b, (int32_t)len, V_LATEST, MAX_BYTES, &h),
			     KP_ERR_NONE, "%s", golden[i]);
		cr_assert_eq(h.records_count, strncmp(golden[i], "kcat", 4) == 0 ? 21 : 20);
		free(b);
	}
	kp_records_thread_release();
}

Test(kp_records, zstd_needs_produce_v7)
{
	size_t len;
	uint8_t *b = load("kcat-zstd.bin", &len);
	struct rbatch_header h;

	cr_assert_eq(kp_records_validate(b, (int32_t)len, 6, MAX_BYTES, &h),
		     KP_ERR_UNSUPPORTED_COMPRESSION_TYPE);
	cr_assert_eq(kp_records_validate(b, (int32_t)len, 7, MAX_BYTES, &h), KP_ERR_NONE);
	free(b);
	b = load("kcat-gzip.bin", &len);
	cr_assert_eq(kp_records_validate(b, (int32_t)len, 3, MAX_BYTES, &h), KP_ERR_NONE);
	free(b);
}

Test(kp_records, built_batch_validates)
{
	struct buf r = records(5, 10);
	struct hdr h = hdr_default(5);
	struct buf b = batch(&h, r.p, r.len);

	cr_assert_eq(check(&b, V_LATEST), KP_ERR_NONE);
	h.producer_id = 12;
	h.base_sequence = 0;
	free(b.p);
	b = batch(&h, r.p, r.len);
	cr_assert_eq(check(&b, V_LATEST), KP_ERR_NONE);
	free(b.p);
	free(r.p);
}

/* The frame-level paths, in Kafka's order. */
Test(kp_records, frame_errors)
{
	struct buf r = records(2, 3);
	struct hdr h = hdr_default(2);
	struct buf b = batch(&h, r.p, r.len);
	struct rbatch_header out;
	uint8_t *big;

	cr_assert_eq(kp_records_validate(NULL, 0, V_LATEST, MAX_BYTES, &out),
		     KP_ERR_INVALID_RECORD);
	cr_assert_eq(kp_records_validate(b.p, 11, V_LATEST, MAX_BYTES, &out),
		     KP_ERR_INVALID_RECORD);
	cr_assert_eq(kp_records_validate(b.p, 16, V_LATEST, MAX_BYTES, &out),
		     KP_ERR_INVALID_RECORD);
	cr_assert_eq(kp_records_validate(b.p, (int32_t)b.len - 1, V_LATEST, MAX_BYTES, &out),
		     KP_ERR_INVALID_RECORD);     /* the batch runs past the data */
	/* Bytes after the batch (a second batch, or garbage). */
	big = malloc(b.len * 2);
	memcpy(big, b.p, b.len);
	memcpy(big + b.len, b.p, b.len);
	cr_assert_eq(kp_records_validate(big, (int32_t)b.len * 2, V_LATEST, MAX_BYTES, &out),
		     KP_ERR_INVALID_RECORD);
	cr_assert_eq(kp_records_validate(big, (int32_t)b.len + 3, V_LATEST, MAX_BYTES, &out),
		     KP_ERR_INVALID_RECORD);
	free(big);
	/* Too large for max.message.bytes. */
	cr_assert_eq(kp_records_validate(b.p, (int32_t)b.len, V_LATEST, (int32_t)b.len - 1, &out),
		     KP_ERR_MESSAGE_TOO_LARGE);
	cr_assert_eq(kp_records_validate(b.p, (int32_t)b.len, V_LATEST, (int32_t)b.len, &out),
		     KP_ERR_NONE);
	/* CRC. */
	b.p[b.len - 1] ^= 0x40;
	cr_assert_eq(check(&b, V_LATEST), KP_ERR_CORRUPT_MESSAGE);
	free(b.p);
	free(r.p);
}

Test(kp_records, length_and_magic)
{
	struct buf r = records(1, 1);
	struct hdr h = hdr_default(1);
	struct buf b = batch(&h, r.p, r.len);

	/* batchLength < 14: corrupt before anything else. */
	b.p[8] = b.p[9] = b.p[10] = 0;
	b.p[11] = 13;
	cr_assert_eq(check(&b, V_LATEST), KP_ERR_CORRUPT_MESSAGE);
	/* batchLength 20: a complete "batch" shorter than the header. */
	b.p[11] = 20;
	cr_assert_eq(kp_records_validate(b.p, 32, V_LATEST, MAX_BYTES, &(struct rbatch_header){0}),
		     KP_ERR_CORRUPT_MESSAGE);
	free(b.p);
	for (int magic = -1; magic <= 3; magic++) {
		h.magic = (int8_t)magic;
		b = batch(&h, r.p, r.len);
		cr_assert_eq(check(&b, V_LATEST),
			     magic == 2 ? KP_ERR_NONE
			     : (magic < 0 || magic > 2) ? KP_ERR_CORRUPT_MESSAGE
							: KP_ERR_INVALID_RECORD, "magic %d", magic);
		free(b.p);
	}
	free(r.p);
}

Test(kp_records, header_rules)
{
	struct buf r = records(3, 2);
	struct { struct hdr h; int16_t want; const char *what; } cases[] = {
		{ { .base_offset = 5, .last_offset_delta = 2, .records_count = 3,
		    .producer_id = -1, .base_sequence = -1, .magic = 2 },
		  KP_ERR_INVALID_RECORD, "base offset" },
		{ { .last_offset_delta = 1, .records_count = 3, .producer_id = -1,
		    .base_sequence = -1, .magic = 2 }, KP_ERR_INVALID_RECORD, "count mismatch" },
		{ { .last_offset_delta = -1, .records_count = 0, .producer_id = -1,
		    .base_sequence = -1, .magic = 2 }, KP_ERR_INVALID_RECORD, "count 0" },
		{ { .last_offset_delta = 2147483647, .records_count = -2147483647 - 1,
		    .producer_id = -1, .base_sequence = -1, .magic = 2 },
		  KP_ERR_INVALID_RECORD, "delta overflow" },
		{ { .attributes = RBATCH_ATTR_CONTROL | RBATCH_ATTR_TRANSACTIONAL,
		    .last_offset_delta = 2, .records_count = 3, .producer_id = 4,
		    .base_sequence = 0, .magic = 2 }, KP_ERR_INVALID_RECORD, "control" },
		{ { .last_offset_delta = 2, .records_count = 3, .producer_id = 4,
		    .base_sequence = -1, .magic = 2 }, KP_ERR_INVALID_RECORD, "sequence" },
		{ { .attributes = 5, .last_offset_delta = 2, .records_count = 3,
		    .producer_id = -1, .base_sequence = -1, .magic = 2 },
		  KP_ERR_UNSUPPORTED_COMPRESSION_TYPE, "codec 5" },
		{ { .attributes = 7, .last_offset_delta = 2, .records_count = 3,
		    .producer_id = -1, .base_sequence = -1, .magic = 2 },
		  KP_ERR_UNSUPPORTED_COMPRESSION_TYPE, "codec 7" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = batch(&cases[i].h, r.p, r.len);

		cr_assert_eq(check(&b, V_LATEST), cases[i].want, "%s", cases[i].what);
		free(b.p);
	}
	free(r.p);
}

/* Records whose bytes are wrong, each built from a valid one. */
static int16_t
check_body(const uint8_t *body, size_t len, int32_t n)
{
	struct hdr h = hdr_default(n);
	struct buf b = batch(&h, body, len);
	int16_t err = check(&b, V_LATEST);

	free(b.p);
	return err;
}

Test(kp_records, record_walk_errors)
{
	struct buf r = records(2, 4);
	struct buf x = { 0 };
	uint8_t junk[12];

	cr_assert_eq(check_body(r.p, r.len, 2), KP_ERR_NONE);
	cr_assert_eq(check_body(r.p, r.len, 3), KP_ERR_INVALID_RECORD);   /* fewer records */
	cr_assert_eq(check_body(r.p, r.len, 1), KP_ERR_INVALID_RECORD);   /* bytes left */
	cr_assert_eq(check_body(r.p, r.len - 1, 2), KP_ERR_INVALID_RECORD);
	/* offsetDelta 1 for the first record. */
	put_record(&x, 1, 4);
	cr_assert_eq(check_body(x.p, x.len, 1), KP_ERR_INVALID_RECORD);
	free(x.p);
	/* A record length that disagrees with its fields, both ways. */
	x = (struct buf){ 0 };
	put_record(&x, 0, 4);
	x.p[0] += 2;
	cr_assert_eq(check_body(x.p, x.len, 1), KP_ERR_INVALID_RECORD);
	x.p[0] -= 4;
	cr_assert_eq(check_body(x.p, x.len, 1), KP_ERR_INVALID_RECORD);
	free(x.p);
	/* A varint over 5 bytes, a negative length, a key length of -2, a
	 * negative header count, a negative header key length. */
	memset(junk, 0xff, sizeof(junk));
	cr_assert_eq(check_body(junk, sizeof(junk), 1), KP_ERR_INVALID_RECORD);
	const int64_t bad[][7] = {
		/* len, attr, ts, off, key, value, headers */
		{ -3, 0, 0, 0, -1, -1, 0 },
		{ 6, 0, 0, 0, -2, -1, 0 },
		{ 6, 0, 0, 0, -1, -2, 0 },
		{ 6, 0, 0, 0, -1, -1, -1 },
		{ 8, 0, 0, 0, -1, -1, 1 },      /* header key length -1 follows */
		{ 7, 0, 0, 0, -1, -1, 100 },    /* header count past the record */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		x = (struct buf){ 0 };
		for (int k = 0; k < 7; k++) {
			if (k == 1) {
				uint8_t a = 0;

				put(&x, &a, 1);
			} else {
				put_varint(&x, bad[i][k]);
			}
		}
		put_varint(&x, -1);
		put_varint(&x, -1);
		cr_assert_eq(check_body(x.p, x.len, 1), KP_ERR_INVALID_RECORD, "case %zu", i);
		free(x.p);
	}
	free(r.p);
}

/* Compress with the codec's own library (independent of kp_records.c). */
static struct buf
compress_with(int codec, const uint8_t *src, size_t n, bool xerial)
{
	struct buf out = { 0 };
	size_t cap = n * 2 + 1024;

	out.p = malloc(cap);
	out.cap = cap;
	if (codec == RBATCH_CODEC_GZIP) {
		z_stream zs = { 0 };

		cr_assert_eq(deflateInit2(&zs, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY),
			     Z_OK);
		zs.next_in = (Bytef *)(uintptr_t)src;
		zs.avail_in = (uInt)n;
		zs.next_out = out.p;
		zs.avail_out = (uInt)cap;
		cr_assert_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
		out.len = cap - zs.avail_out;
		deflateEnd(&zs);
	} else if (codec == RBATCH_CODEC_LZ4) {
		out.len = LZ4F_compressFrame(out.p, cap, src, n, NULL);
		cr_assert_not(LZ4F_isError(out.len));
	} else if (codec == RBATCH_CODEC_ZSTD) {
		out.len = ZSTD_compress(out.p, cap, src, n, 3);
		cr_assert_not(ZSTD_isError(out.len));
	} else {
		size_t at = xerial ? 20 : 0, clen = cap - at;

		if (xerial)
			memcpy(out.p, "\x82SNAPPY\0\0\0\0\1\0\0\0\1", 16);
		cr_assert_eq(snappy_compress((const char *)src, n, (char *)out.p + at, &clen),
			     SNAPPY_OK);
		if (xerial)
			for (int i = 0; i < 4; i++)
				out.p[16 + i] = (uint8_t)(clen >> (24 - 8 * i));
		out.len = at + clen;
	}
	return out;
}

static const struct { int codec; bool xerial; const char *name; } codecs[] = {
	{ RBATCH_CODEC_GZIP, false, "gzip" }, { RBATCH_CODEC_SNAPPY, false, "snappy" },
	{ RBATCH_CODEC_SNAPPY, true, "xerial" }, { RBATCH_CODEC_LZ4, false, "lz4" },
	{ RBATCH_CODEC_ZSTD, false, "zstd" },
};

static int16_t
check_codec(int i, const uint8_t *raw, size_t n, int32_t count)
{
	struct buf c = compress_with(codecs[i].codec, raw, n, codecs[i].xerial);
	struct hdr h = hdr_default(count);
	struct buf b;
	int16_t err;

	h.attributes = (int16_t)codecs[i].codec;
	b = batch(&h, c.p, c.len);
	err = check(&b, V_LATEST);
	free(b.p);
	free(c.p);
	return err;
}

Test(kp_records, every_codec_built_here)
{
	/* 300 records of 1 KiB: the stream crosses the 64 KiB window. */
	struct buf r = records(300, 1024);

	for (int i = 0; i < (int)(sizeof(codecs) / sizeof(codecs[0])); i++) {
		cr_assert_eq(check_codec(i, r.p, r.len, 300), KP_ERR_NONE, "%s", codecs[i].name);
		cr_assert_eq(check_codec(i, r.p, r.len, 301), KP_ERR_INVALID_RECORD, "%s",
			     codecs[i].name);
		cr_assert_eq(check_codec(i, r.p, r.len - 1, 300), KP_ERR_INVALID_RECORD, "%s",
			     codecs[i].name);
	}
	free(r.p);
	kp_records_thread_release();
}

/* A compressed stream cut anywhere, with the batch length and CRC made to
 * agree, is refused and never read past. */
Test(kp_records, truncated_compressed_streams)
{
	struct buf r = records(40, 50);

	for (int i = 0; i < (int)(sizeof(codecs) / sizeof(codecs[0])); i++) {
		struct buf c = compress_with(codecs[i].codec, r.p, r.len, codecs[i].xerial);
		struct hdr h = hdr_default(40);

		h.attributes = (int16_t)codecs[i].codec;
		for (size_t cut = 0; cut < c.len; cut++) {
			uint8_t *body = malloc(cut + 1);
			struct buf b;

			memcpy(body, c.p, cut);
			b = batch(&h, body, cut);
			cr_assert_neq(check(&b, V_LATEST), KP_ERR_NONE, "%s cut %zu",
				      codecs[i].name, cut);
			/* Garbage in the stream, with a valid CRC. */
			if (cut > 0 && cut + 61 < b.len) {
				b.p[61 + cut / 2] ^= 0x5a;
				refresh_crc(b.p, b.len);
				(void)check(&b, V_LATEST);
			}
			free(b.p);
			free(body);
		}
		free(c.p);
	}
	free(r.p);
}

/* Every prefix of every client batch: no crash, and never NONE. */
Test(kp_records, truncation_at_every_length)
{
	for (size_t i = 0; i < sizeof(golden) / sizeof(golden[0]); i++) {
		size_t len;
		uint8_t *b = load(golden[i], &len);

		for (size_t cut = 0; cut < len; cut++) {
			uint8_t *p = malloc(cut + 1);
			struct rbatch_header h;

			memcpy(p, b, cut);
			cr_assert_neq(kp_records_validate(cut ? p : NULL, (int32_t)cut, V_LATEST,
							  MAX_BYTES, &h), KP_ERR_NONE);
			free(p);
		}
		free(b);
	}
}

/* More than the 64 MiB cap after decompression: MESSAGE_TOO_LARGE, not an
 * allocation of what the client claims. */
Test(kp_records, decompression_bomb_is_capped)
{
	size_t vlen = (size_t)65 << 20;
	struct buf r = { 0 };
	struct buf body = { 0 };

	max_bytes = INT32_MAX;  /* raw snappy of 65 MiB is ~3 MiB */
	r.p = calloc(1, vlen + 64);
	r.cap = vlen + 64;
	/* One record whose value is 65 MiB of zeros. */
	put_varint(&body, 0);                   /* placeholder, rebuilt below */
	body.len = 0;
	{
		struct buf fields = { 0 };
		uint8_t a = 0;

		put(&fields, &a, 1);
		put_varint(&fields, 0);
		put_varint(&fields, 0);
		put_varint(&fields, -1);
		put_varint(&fields, (int64_t)vlen);
		put_varint(&body, (int64_t)(fields.len + vlen + 1));
		put(&body, fields.p, fields.len);
		free(fields.p);
	}
	memcpy(r.p, body.p, body.len);
	r.len = body.len + vlen;
	r.p[r.len++] = 0;                       /* header count 0 */
	for (int i = 0; i < (int)(sizeof(codecs) / sizeof(codecs[0])); i++) {
		cr_assert_eq(check_codec(i, r.p, r.len, 1), KP_ERR_MESSAGE_TOO_LARGE, "%s",
			     codecs[i].name);
	}
	free(body.p);
	free(r.p);
	kp_records_thread_release();
}
