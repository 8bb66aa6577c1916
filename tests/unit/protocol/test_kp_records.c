/* SPDX-License-Identifier: Apache-2.0 */
/* Tests protocol/kp_records.c: batches from real clients (kcat, the Java
 * client; every codec, raw and xerial snappy) validate; batches built here
 * byte by byte, and compressed here with zlib, snappy, lz4 and zstd, hit
 * every error path with Kafka's code; truncation at every length and
 * truncated compressed streams never crash. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "protocol/kp_error.h"
#include "protocol/kp_records.h"

/* Criterion ignores the exit status LeakSanitizer sets, so the leak tests
 * ask it directly (ASan builds; elsewhere the check is skipped). */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define ASSERT_NO_LEAKS() \
	cr_assert_eq(__lsan_do_recoverable_leak_check(), 0, "LeakSanitizer found leaks")
#else
#define ASSERT_NO_LEAKS() ((void)0)
#endif

#define MAX_BYTES (1 << 20)
#define V_LATEST 9
#define XERIAL_BLOCK_BYTES (32u << 10)

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
	size_t cap = n * 2 + 1024 + (n / XERIAL_BLOCK_BYTES + 1) * 8;

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
	} else if (!xerial) {
		size_t clen = cap;

		cr_assert_eq(snappy_compress((const char *)src, n, (char *)out.p, &clen),
			     SNAPPY_OK);
		out.len = clen;
	} else {
		/* snappy-java: the stream header, then [u32 length][raw unit] per
		 * 32 KiB of input. */
		memcpy(out.p, "\x82SNAPPY\0\0\0\0\1\0\0\0\1", 16);
		out.len = 16;
		for (size_t at = 0; at < n || at == 0; at += XERIAL_BLOCK_BYTES) {
			size_t k = n - at < XERIAL_BLOCK_BYTES ? n - at : XERIAL_BLOCK_BYTES;
			size_t clen = cap - out.len - 4;

			char *dst = (char *)out.p + out.len + 4;

			cr_assert_eq(snappy_compress((const char *)src + at, k, dst, &clen),
				     SNAPPY_OK);
			for (int i = 0; i < 4; i++)
				out.p[out.len + (size_t)i] = (uint8_t)(clen >> (24 - 8 * i));
			out.len += 4 + clen;
			if (n == 0)
				break;
		}
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


/* ---- The decompression bound, slicing and the job pool ---- */

/* Kafka's default max.message.bytes (1 MiB + the 12-byte log overhead). */
#define MMB_DEFAULT 1048588

/* count records, key "k<i>", each value vlen bytes of fill. Built with
 * memset: the batches below reach tens of MiB. */
static struct buf
records_fill(int32_t count, size_t vlen, int fill)
{
	struct buf r = { 0 };

	for (int32_t i = 0; i < count; i++) {
		struct buf f = { 0 };
		char key[16];
		int klen = snprintf(key, sizeof(key), "k%d", i);
		uint8_t zero = 0;

		put(&f, &zero, 1);
		put_varint(&f, i * 3);
		put_varint(&f, i);
		put_varint(&f, klen);
		put(&f, key, (size_t)klen);
		put_varint(&f, (int64_t)vlen);
		put_varint(&r, (int64_t)(f.len + vlen + 1));
		put(&r, f.p, f.len);
		if (r.len + vlen + 1 > r.cap) {
			r.cap = (r.len + vlen + 1) * 2;
			r.p = realloc(r.p, r.cap);
		}
		memset(r.p + r.len, fill, vlen);
		r.len += vlen;
		put(&r, &zero, 1);              /* no headers */
		free(f.p);
	}
	return r;
}

/* zstd without the frame content size, as a streaming compressor (Java's
 * ZstdOutputStream, librdkafka) writes it. */
static struct buf
compress_zstd_stream(const uint8_t *src, size_t n)
{
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	struct buf out = { 0 };

	out.cap = ZSTD_compressBound(n);
	out.p = malloc(out.cap);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 3);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 0);
	out.len = ZSTD_compress2(cc, out.p, out.cap, src, n);
	cr_assert_not(ZSTD_isError(out.len));
	ZSTD_freeCCtx(cc);
	return out;
}

/* A batch around records compressed by codecs[ci] (ci == -1: streaming
 * zstd, no content size). */
static struct buf
batch_codec(int ci, const struct buf *r, int32_t count)
{
	struct hdr h = hdr_default(count);
	struct buf c = ci < 0 ? compress_zstd_stream(r->p, r->len)
			      : compress_with(codecs[ci].codec, r->p, r->len, codecs[ci].xerial);
	struct buf b;

	h.attributes = (int16_t)(ci < 0 ? RBATCH_CODEC_ZSTD : codecs[ci].codec);
	b = batch(&h, c.p, c.len);
	free(c.p);
	return b;
}

#define CODEC_COUNT ((int)(sizeof(codecs) / sizeof(codecs[0])))
#define CODEC_NAME(ci) ((ci) < 0 ? "zstd-stream" : codecs[ci].name)

static uint64_t
inflated_now(void)
{
	struct kp_records_stats st;

	kp_records_thread_stats(&st);
	return st.inflated_bytes;
}

/* The bound as kp_records.c documents it. */
static uint64_t
bound_of(const struct buf *b, int32_t mmb)
{
	uint64_t body = b->len - 61, by_ratio = body * 4096, cap = (uint64_t)mmb * 64;
	uint64_t bound = by_ratio < cap ? by_ratio : cap;

	return bound > (uint64_t)mmb ? bound : (uint64_t)mmb;
}

/* Bombs of every codec whose records would decompress past the bound are
 * refused with INVALID_RECORD after at most the bound plus one 64 KiB
 * window of decompression, by the work counter. Two shapes: one record
 * too large for the bound (refused at its length), and many small records
 * (refused where they cross it). max.message.bytes is the batch's own
 * size, so the bound is as tight as it gets. */
Test(kp_records, bombs_cut_after_bounded_work)
{
	struct { int32_t count; size_t vlen; } shapes[] = { { 1, 24u << 20 }, { 384, 64u << 10 } };

	for (size_t si = 0; si < sizeof(shapes) / sizeof(shapes[0]); si++) {
		struct buf r = records_fill(shapes[si].count, shapes[si].vlen, 0);

		for (int ci = -1; ci < CODEC_COUNT; ci++) {
			struct buf b = batch_codec(ci, &r, shapes[si].count);
			struct kp_records_stats st0, st1;
			struct rbatch_header h;
			uint64_t before = inflated_now(), work;
			uint64_t bound = bound_of(&b, (int32_t)b.len);
			int16_t err;

			kp_records_thread_stats(&st0);
			err = kp_records_validate(b.p, (int32_t)b.len, V_LATEST, (int32_t)b.len,
						  &h);
			kp_records_thread_stats(&st1);
			work = inflated_now() - before;
			if (codecs[ci < 0 ? 0 : ci].codec == RBATCH_CODEC_SNAPPY) {
				/* At most ~21:1, snappy cannot reach 64 x its own size. */
				cr_assert_eq(err, KP_ERR_NONE, "%s", CODEC_NAME(ci));
			} else {
				cr_assert_eq(err, KP_ERR_INVALID_RECORD, "%s shape %zu",
					     CODEC_NAME(ci), si);
				cr_assert_eq(st1.limit_rejects, st0.limit_rejects + 1, "%s",
					     CODEC_NAME(ci));
				cr_assert_leq(work, bound + (64u << 10), "%s shape %zu: %lu > %lu",
					      CODEC_NAME(ci), si, (unsigned long)work,
					      (unsigned long)bound);
			}
			free(b.p);
		}
		free(r.p);
	}
	kp_records_thread_release();
}

/* The bombs of issue 11 under the default max.message.bytes: 100 MiB of
 * zeros in one record (gzip ~100 KiB, zstd a few KiB) stop at the 64 MiB
 * cap or earlier, never decompressing the rest. */
Test(kp_records, default_limit_bombs)
{
	struct buf r = records_fill(1, 100u << 20, 0);
	int cis[] = { 0, -1, 4 };               /* gzip, zstd stream, zstd */

	for (size_t i = 0; i < sizeof(cis) / sizeof(cis[0]); i++) {
		struct buf b = batch_codec(cis[i], &r, 1);
		uint64_t before = inflated_now();
		struct rbatch_header h;

		cr_assert_lt(b.len, MMB_DEFAULT, "%s", CODEC_NAME(cis[i]));
		cr_assert_eq(kp_records_validate(b.p, (int32_t)b.len, V_LATEST, MMB_DEFAULT, &h),
			     KP_ERR_INVALID_RECORD, "%s", CODEC_NAME(cis[i]));
		cr_assert_leq(inflated_now() - before, (64u << 20) + (64u << 10), "%s",
			      CODEC_NAME(cis[i]));
		free(b.p);
	}
	free(r.p);
	kp_records_thread_release();
}

/* Lying sizes are refused before any decompression: a records_count no
 * stream within the bound can hold, a snappy unit claiming 2 GiB, a zstd
 * frame declaring 1 GiB of content. */
Test(kp_records, declared_sizes_refused_without_work)
{
	struct buf r = records(3, 10);
	uint64_t before = inflated_now();
	struct rbatch_header h0;
	struct buf b, c;
	struct hdr h;

	for (int ci = 0; ci < CODEC_COUNT; ci++) {
		h = hdr_default(3);
		c = compress_with(codecs[ci].codec, r.p, r.len, codecs[ci].xerial);
		h.attributes = (int16_t)codecs[ci].codec;
		h.records_count = 1 << 30;     /* 7 GiB of records at least */
		h.last_offset_delta = h.records_count - 1;
		b = batch(&h, c.p, c.len);
		cr_assert_eq(check(&b, V_LATEST), KP_ERR_INVALID_RECORD, "%s", codecs[ci].name);
		free(b.p);
		free(c.p);
	}
	/* Raw snappy: preamble 2^31 - 1, then a literal. */
	{
		uint8_t unit[] = { 0xff, 0xff, 0xff, 0xff, 0x07, 0x00, 'x' };

		h = hdr_default(1);
		h.attributes = RBATCH_CODEC_SNAPPY;
		b = batch(&h, unit, sizeof(unit));
		cr_assert_eq(check(&b, V_LATEST), KP_ERR_INVALID_RECORD);
		free(b.p);
	}
	/* zstd with a content size of 1 GiB: only the frame header is real. */
	{
		uint8_t *zeros = calloc(1, 1u << 20);
		size_t cap = ZSTD_compressBound(1u << 20), n;
		uint8_t *z = malloc(cap);

		n = ZSTD_compress(z, cap, zeros, 1u << 20, 1);
		cr_assert_not(ZSTD_isError(n));
		cr_assert_eq(ZSTD_getFrameContentSize(z, n), 1u << 20);
		h = hdr_default(1);
		h.attributes = RBATCH_CODEC_ZSTD;
		b = batch(&h, z, n);
		cr_assert_eq(kp_records_validate(b.p, (int32_t)b.len, V_LATEST, 4096, &h0),
			     KP_ERR_INVALID_RECORD);
		free(b.p);
		free(z);
		free(zeros);
	}
	cr_assert_eq(inflated_now(), before, "nothing was decompressed");
	free(r.p);
	kp_records_thread_release();
}

/* Batches real clients send with highly compressible data pass with every
 * codec at the default max.message.bytes: librdkafka-sized (1 MB
 * uncompressed) batches of one repeated byte (rdkafka_performance) and of
 * a repeated JSON document, one 1 MB record of 'x' (a client's "large
 * message" test), and the Java producer's batches, which its ratio
 * estimate lets grow to 16 KiB *compressed*: 33 MB of 10 KiB repeated
 * values in zstd (1,300:1), 16 MB of 100 KiB ones in gzip. */
Test(kp_records, compressible_client_batches_pass)
{
	static const char json[] = "{\"user\":\"alice\",\"event\":\"page_view\",\"page\":"
				   "\"/products/42\",\"ua\":\"Mozilla/5.0 (X11; Linux)\"}";
	struct { int32_t count; size_t vlen; int fill; int only_ci; const char *what; } cases[] = {
		{ 8558, 100, 'R', -2, "1 MB of 100 B values" },
		{ 962, 1024, 'R', -2, "1 MB of 1 KiB values" },
		{ 98, 10240, 'R', -2, "1 MB of 10 KiB values" },
		{ 10, 102400, 0, -2, "1 MB of 100 KiB zeros" },
		{ 1, 1000000, 'x', -2, "one 1 MB record" },
		{ 3200, 10240, 'R', -1, "Java zstd, 10 KiB values" },
		{ 160, 102400, 'R', 0, "Java gzip, 100 KiB values" },
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct buf r = records_fill(cases[k].count, cases[k].vlen, cases[k].fill);

		for (int ci = -1; ci < CODEC_COUNT; ci++) {
			struct rbatch_header h;
			struct buf b;

			if (cases[k].only_ci != -2 && ci != cases[k].only_ci)
				continue;
			b = batch_codec(ci, &r, cases[k].count);
			cr_assert_lt(b.len, MMB_DEFAULT);
			cr_assert_eq(kp_records_validate(b.p, (int32_t)b.len, V_LATEST, MMB_DEFAULT,
							 &h), KP_ERR_NONE, "%s, %s (%zu -> %zu)",
				     cases[k].what, CODEC_NAME(ci), r.len, b.len);
			free(b.p);
		}
		free(r.p);
	}
	/* The same with a repeated JSON document as every value. */
	{
		struct buf r = { 0 };
		char v[1024];

		for (size_t i = 0; i < sizeof(v); i++)
			v[i] = json[i % (sizeof(json) - 1)];
		for (int32_t i = 0; i < 900; i++) {
			struct buf f = { 0 };
			uint8_t zero = 0;

			put(&f, &zero, 1);
			put_varint(&f, i);
			put_varint(&f, i);
			put_varint(&f, -1);
			put_varint(&f, sizeof(v));
			put(&f, v, sizeof(v));
			put_varint(&f, 0);
			put_varint(&r, (int64_t)f.len);
			put(&r, f.p, f.len);
			free(f.p);
		}
		for (int ci = -1; ci < CODEC_COUNT; ci++) {
			struct buf b = batch_codec(ci, &r, 900);

			cr_assert_eq(kp_records_validate(b.p, (int32_t)b.len, V_LATEST, MMB_DEFAULT,
							 &(struct rbatch_header){ 0 }), KP_ERR_NONE,
				     "json %s", CODEC_NAME(ci));
			free(b.p);
		}
		free(r.p);
	}
	kp_records_thread_release();
}

/* Run a batch through begin + steps of budget bytes (the first step too). */
static int16_t
stepped(const uint8_t *p, size_t len, int32_t mmb, size_t budget, long *steps)
{
	struct kp_records_job *job;
	struct rbatch_header h;
	int rc = kp_records_validate_begin_budget(p, (int32_t)len, V_LATEST, mmb, &h, budget,
						  &job);

	*steps = 1;
	if (rc != KP_ERR_NONE || job == NULL)
		return (int16_t)rc;
	while ((rc = kp_records_job_step(job, budget)) == KP_RECORDS_MORE)
		(*steps)++;
	cr_assert_eq(kp_records_job_step(job, budget), rc, "a verdict is sticky");
	kp_records_job_free(job);
	return (int16_t)rc;
}

/* A corpus of batches: the client batches, batches built here with every
 * codec (valid, one record too many, cut short, a flipped byte), and
 * small bombs. */
struct corpus {
	struct buf b[160];
	int32_t mmb[160];
	size_t n;
};

static void
corpus_add(struct corpus *c, struct buf b, int32_t mmb)
{
	cr_assert_lt(c->n, sizeof(c->b) / sizeof(c->b[0]));
	c->b[c->n] = b;
	c->mmb[c->n++] = mmb;
}

static void
corpus_build(struct corpus *c)
{
	struct buf r = records(300, 700), small = records(7, 3);
	struct buf bomb = records_fill(40, 64u << 10, 0);

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < sizeof(golden) / sizeof(golden[0]); i++) {
		struct buf b = { 0 };

		b.p = load(golden[i], &b.len);
		corpus_add(c, b, MAX_BYTES);
	}
	for (int ci = -1; ci < CODEC_COUNT; ci++) {
		struct buf b = batch_codec(ci, &r, 300), x;

		corpus_add(c, batch_codec(ci, &r, 301), MAX_BYTES);
		corpus_add(c, batch_codec(ci, &small, 7), MAX_BYTES);
		corpus_add(c, batch_codec(ci, &bomb, 40), 1 << 16);
		for (int k = 1; k <= 3; k++) {
			/* A byte flipped a quarter, half, three quarters in. */
			x.len = x.cap = b.len;
			x.p = malloc(b.len);
			memcpy(x.p, b.p, b.len);
			x.p[61 + (b.len - 61) * (size_t)k / 4] ^= 0x21;
			refresh_crc(x.p, x.len);
			corpus_add(c, x, MAX_BYTES);
		}
		x.len = x.cap = b.len - 7;      /* cut short, lengths made to agree */
		x.p = malloc(x.len);
		memcpy(x.p, b.p, x.len);
		x.p[8] = (uint8_t)((x.len - 12) >> 24);
		x.p[9] = (uint8_t)((x.len - 12) >> 16);
		x.p[10] = (uint8_t)((x.len - 12) >> 8);
		x.p[11] = (uint8_t)(x.len - 12);
		refresh_crc(x.p, x.len);
		corpus_add(c, x, MAX_BYTES);
		corpus_add(c, b, MAX_BYTES);
	}
	corpus_add(c, batch(&(struct hdr){ .last_offset_delta = 299, .records_count = 300,
					   .producer_id = -1, .base_sequence = -1, .magic = 2 },
			    r.p, r.len), MAX_BYTES);
	free(r.p);
	free(small.p);
	free(bomb.p);
}

static void
corpus_free(struct corpus *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->b[i].p);
}

/* Sliced from the first byte with budgets from 1 up, every batch of the
 * corpus gets the verdict the one-shot validation gives; small budgets
 * take many steps, so records really span the steps. */
Test(kp_records, stepped_verdicts_equal_one_shot, .timeout = 300)
{
	static const size_t budgets[] = { 1, 2, 3, 7, 61, 1000, 4097, 65536, 65537,
					  KP_RECORDS_STEP_BYTES, SIZE_MAX };
	struct corpus c;
	int verdicts_seen[2] = { 0, 0 };

	corpus_build(&c);
	for (size_t i = 0; i < c.n; i++) {
		struct rbatch_header h;
		int16_t want = kp_records_validate(c.b[i].p, (int32_t)c.b[i].len, V_LATEST,
						   c.mmb[i], &h);

		verdicts_seen[want == KP_ERR_NONE]++;
		for (size_t k = 0; k < sizeof(budgets) / sizeof(budgets[0]); k++) {
			long steps;
			int16_t got = stepped(c.b[i].p, c.b[i].len, c.mmb[i], budgets[k], &steps);

			cr_assert_eq(got, want, "batch %zu budget %zu: %d != %d", i, budgets[k],
				     got, want);
			/* Budget 1: a step per record at least, a step per byte
			 * where the codec hands them out one at a time. */
			if (budgets[k] == 1 && want == KP_ERR_NONE)
				cr_assert_geq(steps, h.records_count, "batch %zu: %ld steps", i,
					      steps);
			if (budgets[k] == 1 && want == KP_ERR_NONE && (h.attributes & 7) != 0)
				cr_assert_gt(steps, 10 * h.records_count, "batch %zu: %ld steps", i,
					     steps);
		}
	}
	cr_assert_gt(verdicts_seen[0], 10);
	cr_assert_gt(verdicts_seen[1], 10);
	corpus_free(&c);
	{
		struct kp_records_stats st;

		kp_records_thread_stats(&st);
		cr_assert_eq(st.jobs_out, 0);
	}
	kp_records_thread_release();
}

/* Records whose length varints straddle the 64 KiB windows and the steps:
 * values sized so record boundaries fall 1..6 bytes before each window
 * end, walked with budgets that do not divide anything. */
Test(kp_records, records_span_windows_and_steps)
{
	struct buf r = { 0 };
	int32_t n = 0;

	while (r.len < (600u << 10)) {
		size_t to_edge = (64u << 10) - r.len % (64u << 10);
		size_t vlen = to_edge > 40 ? to_edge - 20 - (size_t)(n % 6) : 70000;
		struct buf one = records_fill(1, vlen, 'a' + n % 26);

		/* Renumber: records_fill wrote offset delta 0. */
		struct buf f = { 0 };
		uint8_t zero = 0;

		put(&f, &zero, 1);
		put_varint(&f, n);
		put_varint(&f, n);
		put_varint(&f, -1);
		put_varint(&f, (int64_t)vlen);
		put_varint(&r, (int64_t)(f.len + vlen + 1));
		put(&r, f.p, f.len);
		put(&r, one.p + one.len - vlen - 1, vlen + 1);
		free(f.p);
		free(one.p);
		n++;
	}
	for (int ci = -1; ci < CODEC_COUNT; ci++) {
		struct buf b = batch_codec(ci, &r, n);
		struct rbatch_header h;
		static const size_t budgets[] = { 1, 5, 13, 4093, 65521 };

		cr_assert_eq(kp_records_validate(b.p, (int32_t)b.len, V_LATEST, MAX_BYTES, &h),
			     KP_ERR_NONE, "%s", CODEC_NAME(ci));
		for (size_t k = 0; k < sizeof(budgets) / sizeof(budgets[0]); k++) {
			long steps;

			cr_assert_eq(stepped(b.p, b.len, MAX_BYTES, budgets[k], &steps),
				     KP_ERR_NONE, "%s budget %zu", CODEC_NAME(ci), budgets[k]);
		}
		free(b.p);
	}
	free(r.p);
	kp_records_thread_release();
}

/* A big batch becomes a job; jobs freed before they finish give back all
 * they hold (LeakSanitizer checks at exit), and the count of jobs out
 * returns to zero. */
Test(kp_records, jobs_freed_midway_leak_nothing)
{
	struct buf r = records_fill(200, 8000, 'q');
	struct kp_records_job *jobs[CODEC_COUNT + 1];
	struct buf bs[CODEC_COUNT + 1];
	struct kp_records_stats st;
	int out = 0;

	for (int ci = -1; ci < CODEC_COUNT && out < KP_RECORDS_JOBS_MAX; ci++) {
		struct rbatch_header h;

		bs[out] = batch_codec(ci, &r, 200);
		cr_assert_eq(kp_records_validate_begin(bs[out].p, (int32_t)bs[out].len, V_LATEST,
						       MAX_BYTES, &h, &jobs[out]), KP_ERR_NONE);
		cr_assert_not_null(jobs[out], "%s: 1.6 MB is more than a step", CODEC_NAME(ci));
		cr_assert_eq(kp_records_job_step(jobs[out], 1000), KP_RECORDS_MORE);
		out++;
	}
	kp_records_thread_stats(&st);
	cr_assert_eq(st.jobs_out, (uint32_t)out);
	for (int i = 0; i < out; i++) {
		kp_records_job_free(jobs[i]);
		free(bs[i].p);
	}
	kp_records_job_free(NULL);
	kp_records_thread_stats(&st);
	cr_assert_eq(st.jobs_out, 0);
	free(r.p);
	kp_records_thread_release();
	ASSERT_NO_LEAKS();
}

/* With every job out, a batch that needs one is answered BUSY, while a
 * small one is still validated inline; a freed job makes room. */
Test(kp_records, busy_when_every_job_is_out)
{
	struct buf r = records_fill(200, 8000, 'q'), small = records(5, 10);
	struct buf big = batch_codec(0, &r, 200), little = batch_codec(0, &small, 5);
	struct kp_records_job *jobs[KP_RECORDS_JOBS_MAX], *job;
	struct kp_records_stats st;
	struct rbatch_header h;
	int rc;

	for (int i = 0; i < KP_RECORDS_JOBS_MAX; i++) {
		cr_assert_eq(kp_records_validate_begin(big.p, (int32_t)big.len, V_LATEST, MAX_BYTES,
						       &h, &jobs[i]), KP_ERR_NONE);
		cr_assert_not_null(jobs[i]);
	}
	cr_assert_eq(kp_records_validate_begin(big.p, (int32_t)big.len, V_LATEST, MAX_BYTES, &h,
					       &job), KP_RECORDS_BUSY);
	cr_assert_null(job);
	cr_assert_eq(kp_records_validate_begin(little.p, (int32_t)little.len, V_LATEST,
					       MAX_BYTES, &h, &job), KP_ERR_NONE);
	cr_assert_null(job);
	cr_assert_eq(kp_records_validate(big.p, (int32_t)big.len, V_LATEST, MAX_BYTES, &h),
		     KP_ERR_NONE, "one-shot needs no job handed out");
	kp_records_thread_stats(&st);
	cr_assert_eq(st.busy, 1);
	kp_records_job_free(jobs[0]);
	cr_assert_eq(kp_records_validate_begin(big.p, (int32_t)big.len, V_LATEST, MAX_BYTES, &h,
					       &jobs[0]), KP_ERR_NONE);
	for (int i = 0; i < KP_RECORDS_JOBS_MAX; i++) {
		do
			rc = kp_records_job_step(jobs[i], KP_RECORDS_STEP_BYTES);
		while (rc == KP_RECORDS_MORE);
		cr_assert_eq(rc, KP_ERR_NONE);
		kp_records_job_free(jobs[i]);
	}
	free(big.p);
	free(little.p);
	free(r.p);
	free(small.p);
	kp_records_thread_release();
}

static void *
validate_on_thread(void *arg)
{
	const struct buf *bs = arg;

	for (int i = 0; i < CODEC_COUNT + 1; i++)
		cr_assert_eq(kp_records_validate(bs[i].p, (int32_t)bs[i].len, V_LATEST, MAX_BYTES,
						 &(struct rbatch_header){ 0 }), KP_ERR_NONE);
	return NULL;                    /* no kp_records_thread_release() */
}

/* A thread that validated compressed batches and exits without releasing
 * leaks nothing: its state goes with it (LeakSanitizer checks at exit). */
Test(kp_records, thread_exit_frees_its_state)
{
	struct buf r = records(300, 700), bs[CODEC_COUNT + 1];
	pthread_t t;

	for (int ci = -1; ci < CODEC_COUNT; ci++)
		bs[ci + 1] = batch_codec(ci, &r, 300);
	for (int round = 0; round < 3; round++) {
		cr_assert_eq(pthread_create(&t, NULL, validate_on_thread, bs), 0);
		cr_assert_eq(pthread_join(t, NULL), 0);
	}
	for (int i = 0; i < CODEC_COUNT + 1; i++)
		free(bs[i].p);
	free(r.p);
	ASSERT_NO_LEAKS();
}

/* gzip streams of several members (GZIPInputStream reads them all), and a
 * member followed by garbage. */
Test(kp_records, gzip_members)
{
	struct buf r = records(60, 40);
	size_t half = r.len / 2;
	struct buf a = compress_with(RBATCH_CODEC_GZIP, r.p, half, false);
	struct buf z = compress_with(RBATCH_CODEC_GZIP, r.p + half, r.len - half, false);
	struct hdr h = hdr_default(60);
	struct buf both = { 0 }, b;

	h.attributes = RBATCH_CODEC_GZIP;
	put(&both, a.p, a.len);
	put(&both, z.p, z.len);
	b = batch(&h, both.p, both.len);
	cr_assert_eq(check(&b, V_LATEST), KP_ERR_NONE);
	free(b.p);
	put(&both, "\x1f\x8b\x08\0junk", 8);
	b = batch(&h, both.p, both.len);
	cr_assert_eq(check(&b, V_LATEST), KP_ERR_INVALID_RECORD);
	free(b.p);
	free(both.p);
	free(a.p);
	free(z.p);
	free(r.p);
	kp_records_thread_release();
}
