/* SPDX-License-Identifier: Apache-2.0 */
/* Writes compression-bomb seeds for fuzz_records into the directory given:
 * batches whose records decompress past the bound of kp_records.c (or lie
 * about their sizes), per codec and shape, each under the fuzzer's 1 MiB.
 * First byte as fuzz_records.c reads it. Run by hand:
 * make_bomb_seeds tests/fuzz/corpus/records */
#include <lz4frame.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "common/rbatch.h"

struct seed_buf {
	uint8_t *p;
	size_t len, cap;
};

static void
seed_put(struct seed_buf *b, const void *src, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			abort();
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void
seed_varint(struct seed_buf *b, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
	uint8_t c;

	for (; z >= 0x80; z >>= 7) {
		c = (uint8_t)(z | 0x80);
		seed_put(b, &c, 1);
	}
	c = (uint8_t)z;
	seed_put(b, &c, 1);
}

static void
seed_be(struct seed_buf *b, uint64_t v, int bytes)
{
	uint8_t t[8];

	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		t[i] = (uint8_t)v;
	seed_put(b, t, (size_t)bytes);
}

/* count records of vlen zero bytes each. */
static struct seed_buf
seed_records(int32_t count, size_t vlen)
{
	uint8_t *zeros = calloc(1, vlen);
	struct seed_buf r = { 0 };

	for (int32_t i = 0; i < count; i++) {
		struct seed_buf f = { 0 };
		uint8_t attr = 0;

		seed_put(&f, &attr, 1);
		seed_varint(&f, 0);
		seed_varint(&f, i);
		seed_varint(&f, -1);
		seed_varint(&f, (int64_t)vlen);
		seed_put(&f, zeros, vlen);
		seed_varint(&f, 0);
		seed_varint(&r, (int64_t)f.len);
		seed_put(&r, f.p, f.len);
		free(f.p);
	}
	free(zeros);
	return r;
}

static struct seed_buf
seed_compress(int codec, const struct seed_buf *r, int xerial)
{
	struct seed_buf out = { 0 };

	out.cap = r->len + r->len / 4 + (1u << 16);
	out.p = malloc(out.cap);
	if (codec == RBATCH_CODEC_GZIP) {
		z_stream zs = { 0 };

		deflateInit2(&zs, 9, Z_DEFLATED, 16 + 15, 9, Z_DEFAULT_STRATEGY);
		zs.next_in = r->p;
		zs.avail_in = (uInt)r->len;
		zs.next_out = out.p;
		zs.avail_out = (uInt)out.cap;
		deflate(&zs, Z_FINISH);
		out.len = out.cap - zs.avail_out;
		deflateEnd(&zs);
	} else if (codec == RBATCH_CODEC_LZ4) {
		out.len = LZ4F_compressFrame(out.p, out.cap, r->p, r->len, NULL);
	} else if (codec == RBATCH_CODEC_ZSTD) {
		ZSTD_CCtx *cc = ZSTD_createCCtx();

		ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 0);
		out.len = ZSTD_compress2(cc, out.p, out.cap, r->p, r->len);
		ZSTD_freeCCtx(cc);
	} else if (!xerial) {
		out.len = out.cap;
		snappy_compress((const char *)r->p, r->len, (char *)out.p, &out.len);
	} else {
		memcpy(out.p, "\x82SNAPPY\0\0\0\0\1\0\0\0\1", 16);
		out.len = 16;
		for (size_t at = 0; at < r->len; at += 32768) {
			size_t k = r->len - at < 32768 ? r->len - at : 32768;
			size_t clen = out.cap - out.len - 4;
			char *dst = (char *)out.p + out.len + 4;

			snappy_compress((const char *)r->p + at, k, dst, &clen);
			for (int i = 0; i < 4; i++)
				out.p[out.len + (size_t)i] = (uint8_t)(clen >> (24 - 8 * i));
			out.len += 4 + clen;
		}
	}
	return out;
}

/* Write [first][batch around body] to dir/name. */
static int
seed_write(const char *dir, const char *name, uint8_t first, int codec, int32_t count,
	   const uint8_t *body, size_t body_len)
{
	struct seed_buf b = { 0 };
	char path[512];
	uint32_t crc;
	FILE *f;

	seed_put(&b, &first, 1);
	seed_be(&b, 0, 8);
	seed_be(&b, 49 + body_len, 4);
	seed_be(&b, (uint32_t)-1, 4);
	seed_be(&b, RBATCH_MAGIC_V2, 1);
	seed_be(&b, 0, 4);
	seed_be(&b, (uint64_t)codec, 2);
	seed_be(&b, (uint64_t)(count - 1), 4);
	seed_be(&b, 1700000000000ull, 8);
	seed_be(&b, 1700000000000ull, 8);
	seed_be(&b, (uint64_t)-1, 8);
	seed_be(&b, 0, 2);
	seed_be(&b, (uint32_t)-1, 4);
	seed_be(&b, (uint64_t)count, 4);
	seed_put(&b, body, body_len);
	crc = rbatch_crc_compute(b.p + 1, b.len - 1);
	for (int i = 0; i < 4; i++)
		b.p[1 + 17 + i] = (uint8_t)(crc >> (24 - 8 * i));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(b.p, 1, b.len, f) != b.len || fclose(f) != 0) {
		fprintf(stderr, "make_bomb_seeds: cannot write %s\n", path);
		return -1;
	}
	printf("%s: %zu bytes\n", path, b.len);
	free(b.p);
	return 0;
}

int
main(int argc, char **argv)
{
	/* Produce v9; bits 4-6 pick the fuzzer's step budget, varied here. */
	static const struct { const char *name; int codec; int xerial; int32_t count;
			      size_t vlen; uint8_t first; } seeds[] = {
		{ "bomb-gzip-one", RBATCH_CODEC_GZIP, 0, 1, 70u << 20, 0x79 },
		{ "bomb-gzip-many", RBATCH_CODEC_GZIP, 0, 70, 1u << 20, 0x69 },
		{ "bomb-zstd-one", RBATCH_CODEC_ZSTD, 0, 1, 200u << 20, 0x59 },
		{ "bomb-zstd-many", RBATCH_CODEC_ZSTD, 0, 100, 1u << 20, 0x79 },
		/* lz4 (255:1) and snappy (21:1) cannot pass 64 x 1 MiB in 1 MiB:
		 * large streams, for the fuzzer to mutate. */
		{ "big-lz4", RBATCH_CODEC_LZ4, 0, 8, 1u << 20, 0x69 },
		{ "big-snappy", RBATCH_CODEC_SNAPPY, 0, 4, 256u << 10, 0x79 },
		{ "big-xerial", RBATCH_CODEC_SNAPPY, 1, 4, 256u << 10, 0x69 },
	};

	if (argc != 2) {
		fprintf(stderr, "usage: make_bomb_seeds DIR\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		struct seed_buf r = seed_records(seeds[i].count, seeds[i].vlen);
		struct seed_buf c = seed_compress(seeds[i].codec, &r, seeds[i].xerial);

		if (seed_write(argv[1], seeds[i].name, seeds[i].first, seeds[i].codec,
			       seeds[i].count, c.p, c.len) != 0)
			return 1;
		free(r.p);
		free(c.p);
	}
	/* Raw snappy whose preamble claims 2^32 - 1 bytes, then one literal. */
	{
		static const uint8_t unit[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 'x' };

		if (seed_write(argv[1], "bomb-snappy-lying", 0x19, RBATCH_CODEC_SNAPPY, 1, unit,
			       sizeof(unit)) != 0)
			return 1;
	}
	return 0;
}
