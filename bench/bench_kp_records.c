/* SPDX-License-Identifier: Apache-2.0 */
/* Cost of record validation per step (protocol/kp_records.c): for batches
 * of one 60 MB record of zeros (a bomb within the bound), JSON events and
 * 7-byte records, each codec, the thread CPU time of begin and of each
 * step of KP_RECORDS_STEP_BYTES (or argv[1]). CPU time, not wall time, so
 * a shared machine does not blur it. Prints a table; asserts nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "protocol/kp_error.h"
#include "protocol/kp_records.h"
#include "tests/unit/protocol/trecords.h"

#define BENCH_VERSION 9

enum bench_kind { BENCH_ZEROS, BENCH_JSON, BENCH_TINY };

/* count records of the kind, null keys: BENCH_ZEROS values are vlen zero
 * bytes, BENCH_JSON values varied events, BENCH_TINY values null. */
static struct trecords_buf
bench_records(enum bench_kind kind, int32_t count, size_t vlen)
{
	static char json[256];
	struct trecords_buf r = { 0 };
	unsigned seed = 1;

	for (int32_t i = 0; i < count; i++) {
		struct trecords_rec rec = { .offset_delta = i, .value_len = -1 };

		if (kind == BENCH_ZEROS) {
			rec.value_len = (int64_t)vlen;
		} else if (kind == BENCH_JSON) {
			seed = seed * 1103515245 + 12345;
			rec.value = json;
			rec.value_len = snprintf(json, sizeof(json),
						 "{\"id\":%d,\"user\":\"user-%u\",\"event\":"
						 "\"page_view\",\"page\":\"/products/%u\","
						 "\"session\":\"%08x\"}", i, (seed >> 8) % 1000,
						 (seed >> 4) % 500, seed);
		}
		trecords_put_record(&r, &rec);
	}
	return r;
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
bench_one(const char *what, int codec, const struct trecords_buf *b, size_t stream_bytes,
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
		struct trecords_buf r = bench_records(cases[i].kind, cases[i].count, cases[i].vlen);

		for (int codec = RBATCH_CODEC_NONE; codec <= RBATCH_CODEC_ZSTD; codec++) {
			/* zstd as a streaming producer writes it: no content size. */
			struct trecords_codec how = { .codec = codec, .zstd_stream = true };
			struct trecords_buf c = trecords_compress(&how, r.p, r.len);
			struct trecords_hdr h = trecords_hdr_default(cases[i].count);
			struct trecords_buf b;

			h.attributes = (int16_t)codec;
			b = trecords_batch(&h, c.p, c.len);

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
