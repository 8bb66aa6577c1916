/* SPDX-License-Identifier: Apache-2.0 */
/* Cost of record validation per step (protocol/kp_records.c): for batches
 * of one 60 MB record of zeros (a bomb within the bound), JSON events and
 * 7-byte records, each codec, the thread CPU time of begin and of each
 * step of KP_RECORDS_STEP_BYTES (or argv[1]). CPU time, not wall time, so
 * a shared machine does not blur it. Prints a table; asserts nothing. */
#include <lz4frame.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#include <zstd.h>

#include "protocol/kp_error.h"
#include "protocol/kp_records.h"

#define BENCH_VERSION 9

struct bench_buf {
	uint8_t *p;
	size_t len, cap;
};

static void
bench_put(struct bench_buf *b, const void *src, size_t n)
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
bench_varint(struct bench_buf *b, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
	uint8_t c;

	for (; z >= 0x80; z >>= 7) {
		c = (uint8_t)(z | 0x80);
		bench_put(b, &c, 1);
	}
	c = (uint8_t)z;
	bench_put(b, &c, 1);
}

static void
bench_be(struct bench_buf *b, uint64_t v, int bytes)
{
	uint8_t t[8];

	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		t[i] = (uint8_t)v;
	bench_put(b, t, (size_t)bytes);
}

enum bench_kind { BENCH_ZEROS, BENCH_JSON, BENCH_TINY };

/* count records of the kind; BENCH_ZEROS values are vlen zero bytes. */
static struct bench_buf
bench_records(enum bench_kind kind, int32_t count, size_t vlen)
{
	static char json[256];
	struct bench_buf r = { 0 };
	uint8_t *zeros = kind == BENCH_ZEROS ? calloc(1, vlen) : NULL;
	unsigned seed = 1;

	for (int32_t i = 0; i < count; i++) {
		struct bench_buf f = { 0 };
		uint8_t attr = 0;

		bench_put(&f, &attr, 1);
		bench_varint(&f, 0);
		bench_varint(&f, i);
		bench_varint(&f, -1);                   /* key */
		if (kind == BENCH_TINY) {
			bench_varint(&f, -1);
		} else if (kind == BENCH_ZEROS) {
			bench_varint(&f, (int64_t)vlen);
			bench_put(&f, zeros, vlen);
		} else {
			int n;

			seed = seed * 1103515245 + 12345;
			n = snprintf(json, sizeof(json),
				     "{\"id\":%d,\"user\":\"user-%u\",\"event\":\"page_view\","
				     "\"page\":\"/products/%u\",\"session\":\"%08x\"}", i,
				     (seed >> 8) % 1000, (seed >> 4) % 500, seed);
			bench_varint(&f, n);
			bench_put(&f, json, (size_t)n);
		}
		bench_varint(&f, 0);                    /* headers */
		bench_varint(&r, (int64_t)f.len);
		bench_put(&r, f.p, f.len);
		free(f.p);
	}
	free(zeros);
	return r;
}

static struct bench_buf
bench_compress(int codec, const struct bench_buf *r)
{
	struct bench_buf out = { 0 };

	out.cap = r->len * 2 + (1u << 20);
	out.p = malloc(out.cap);
	if (codec == RBATCH_CODEC_GZIP) {
		z_stream zs = { 0 };

		deflateInit2(&zs, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY);
		zs.next_in = r->p;
		zs.avail_in = (uInt)r->len;
		zs.next_out = out.p;
		zs.avail_out = (uInt)out.cap;
		deflate(&zs, Z_FINISH);
		out.len = out.cap - zs.avail_out;
		deflateEnd(&zs);
	} else if (codec == RBATCH_CODEC_SNAPPY) {
		out.len = out.cap;
		snappy_compress((const char *)r->p, r->len, (char *)out.p, &out.len);
	} else if (codec == RBATCH_CODEC_LZ4) {
		out.len = LZ4F_compressFrame(out.p, out.cap, r->p, r->len, NULL);
	} else if (codec == RBATCH_CODEC_ZSTD) {
		ZSTD_CCtx *cc = ZSTD_createCCtx();

		/* As a streaming producer writes it: no content size. */
		ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 0);
		out.len = ZSTD_compress2(cc, out.p, out.cap, r->p, r->len);
		ZSTD_freeCCtx(cc);
	} else {
		memcpy(out.p, r->p, r->len);
		out.len = r->len;
	}
	return out;
}

static struct bench_buf
bench_batch(int codec, const struct bench_buf *body, int32_t count)
{
	struct bench_buf b = { 0 };
	uint32_t crc;

	bench_be(&b, 0, 8);
	bench_be(&b, 49 + body->len, 4);
	bench_be(&b, (uint32_t)-1, 4);
	bench_be(&b, RBATCH_MAGIC_V2, 1);
	bench_be(&b, 0, 4);
	bench_be(&b, (uint64_t)codec, 2);
	bench_be(&b, (uint64_t)(count - 1), 4);
	bench_be(&b, 1, 8);
	bench_be(&b, 1, 8);
	bench_be(&b, (uint64_t)-1, 8);
	bench_be(&b, 0, 2);
	bench_be(&b, (uint32_t)-1, 4);
	bench_be(&b, (uint64_t)count, 4);
	bench_put(&b, body->p, body->len);
	crc = rbatch_crc_compute(b.p, b.len);
	for (int i = 0; i < 4; i++)
		b.p[17 + i] = (uint8_t)(crc >> (24 - 8 * i));
	return b;
}

static double
bench_cpu_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Validate b in steps of budget; print begin, mean and max step times. */
static void
bench_one(const char *what, int codec, const struct bench_buf *b, size_t stream_bytes,
	  size_t budget)
{
	static const char *names[] = { "none", "gzip", "snappy", "lz4", "zstd" };
	int32_t mmb = b->len > (1u << 20) ? (int32_t)b->len : (1 << 20);
	double t0 = bench_cpu_ms(), t, begin_ms, step_max = 0, step_sum = 0;
	struct kp_records_job *job;
	struct rbatch_header h;
	int rc, steps = 0;

	rc = kp_records_validate_begin(b->p, (int32_t)b->len, BENCH_VERSION, mmb, &h, &job);
	t = bench_cpu_ms();
	begin_ms = t - t0;
	if (rc == KP_ERR_NONE && job != NULL) {
		do {
			double u;

			rc = kp_records_job_step(job, budget);
			u = bench_cpu_ms();
			step_sum += u - t;
			step_max = u - t > step_max ? u - t : step_max;
			t = u;
			steps++;
		} while (rc == KP_RECORDS_MORE);
		kp_records_job_free(job);
	}
	printf("%-16s %-6s %9zu -> %9zu  rc %2d  %5d steps  %8.2f ms %7.0f MB/s  "
	       "begin %.3f  step mean %.3f max %.3f ms\n", what, names[codec], stream_bytes,
	       b->len, rc, steps, t - t0, (double)stream_bytes / (t - t0) / 1e3, begin_ms,
	       steps > 0 ? step_sum / steps : 0.0, step_max);
}

int
main(int argc, char **argv)
{
	size_t budget = argc > 1 ? strtoul(argv[1], NULL, 0) : KP_RECORDS_STEP_BYTES;
	const struct { enum bench_kind kind; int32_t count; size_t vlen; const char *what; }
	cases[] = {
		{ BENCH_ZEROS, 1, 60u << 20, "60 MB of zeros" },
		{ BENCH_JSON, 200000, 0, "JSON events" },
		{ BENCH_TINY, 2000000, 0, "7-byte records" },
	};

	printf("budget %zu bytes per step\n", budget);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bench_buf r = bench_records(cases[i].kind, cases[i].count, cases[i].vlen);

		for (int codec = RBATCH_CODEC_NONE; codec <= RBATCH_CODEC_ZSTD; codec++) {
			struct bench_buf c = bench_compress(codec, &r);
			struct bench_buf b = bench_batch(codec, &c, cases[i].count);

			if (b.len <= INT32_MAX) {
				bench_one(cases[i].what, codec, &b, r.len, budget); /* warm */
				bench_one(cases[i].what, codec, &b, r.len, budget);
			}
			free(b.p);
			free(c.p);
		}
		free(r.p);
	}
	kp_records_thread_release();
	return 0;
}
