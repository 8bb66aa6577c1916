/* SPDX-License-Identifier: Apache-2.0 */
/* Tests protocol/kp_records.c: batches from real clients (kcat, the Java
 * client; every codec, raw and xerial snappy) validate; the frame and
 * header checks give Kafka's code on batches built here byte by byte;
 * truncation at every length never crashes; validation sliced from the
 * first byte gives the one-shot verdict; and the job pool (BUSY, jobs
 * freed midway, a thread exiting) leaks nothing. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/kp_error.h"
#include "protocol/kp_records.h"
#include "tests/unit/common/tfile.h"
#include "tests/unit/protocol/test_kp_records.h"
#include "tests/unit/protocol/trecords.h"

/* Criterion ignores the exit status LeakSanitizer sets, so the leak tests
 * ask it directly (ASan builds; elsewhere the check is skipped). */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define ASSERT_NO_LEAKS() \
	cr_assert_eq(__lsan_do_recoverable_leak_check(), 0, "LeakSanitizer found leaks")
#else
#define ASSERT_NO_LEAKS() ((void)0)
#endif

static const char *golden[] = { "kcat-none.bin", "kcat-gzip.bin", "kcat-snappy.bin",
				"kcat-lz4.bin", "kcat-zstd.bin", "java-gzip.bin",
				"java-snappy.bin", "java-lz4.bin", "java-zstd.bin" };

Test(kp_records, golden_batches_validate)
{
	for (size_t i = 0; i < sizeof(golden) / sizeof(golden[0]); i++) {
		size_t len;
		uint8_t *b = tfile_read(REC_GOLDEN_DIR, golden[i], &len);
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
	uint8_t *b = tfile_read(REC_GOLDEN_DIR, "kcat-zstd.bin", &len);
	struct rbatch_header h;

	cr_assert_eq(kp_records_validate(b, (int32_t)len, 6, MAX_BYTES, &h),
		     KP_ERR_UNSUPPORTED_COMPRESSION_TYPE);
	cr_assert_eq(kp_records_validate(b, (int32_t)len, 7, MAX_BYTES, &h), KP_ERR_NONE);
	free(b);
	b = tfile_read(REC_GOLDEN_DIR, "kcat-gzip.bin", &len);
	cr_assert_eq(kp_records_validate(b, (int32_t)len, 3, MAX_BYTES, &h), KP_ERR_NONE);
	free(b);
}

Test(kp_records, built_batch_validates)
{
	struct trecords_buf r = trecords_records(5, 10, 'v', true);
	struct trecords_hdr h = trecords_hdr_default(5);
	struct trecords_buf b = trecords_batch(&h, r.p, r.len);

	cr_assert_eq(check(&b, V_LATEST), KP_ERR_NONE);
	h.producer_id = 12;
	h.base_sequence = 0;
	free(b.p);
	b = trecords_batch(&h, r.p, r.len);
	cr_assert_eq(check(&b, V_LATEST), KP_ERR_NONE);
	free(b.p);
	free(r.p);
}

/* The frame-level paths, in Kafka's order. */
Test(kp_records, frame_errors)
{
	struct trecords_buf r = trecords_records(2, 3, 'v', true);
	struct trecords_hdr h = trecords_hdr_default(2);
	struct trecords_buf b = trecords_batch(&h, r.p, r.len);
	int32_t len = (int32_t)b.len;
	uint8_t *big = malloc(b.len * 2);       /* the batch twice */
	const struct { const uint8_t *p; int32_t len, mmb; int16_t want; const char *what; }
	cases[] = {
		{ NULL, 0, MAX_BYTES, KP_ERR_INVALID_RECORD, "no data" },
		{ b.p, 11, MAX_BYTES, KP_ERR_INVALID_RECORD, "no batch length" },
		{ b.p, 16, MAX_BYTES, KP_ERR_INVALID_RECORD, "no magic" },
		{ b.p, len - 1, MAX_BYTES, KP_ERR_INVALID_RECORD, "the batch runs past the data" },
		{ big, len * 2, MAX_BYTES, KP_ERR_INVALID_RECORD, "a second batch after it" },
		{ big, len + 3, MAX_BYTES, KP_ERR_INVALID_RECORD, "garbage after it" },
		{ b.p, len, len - 1, KP_ERR_MESSAGE_TOO_LARGE, "over max.message.bytes" },
		{ b.p, len, len, KP_ERR_NONE, "at max.message.bytes" },
	};
	struct rbatch_header out;

	memcpy(big, b.p, b.len);
	memcpy(big + b.len, b.p, b.len);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert_eq(kp_records_validate(cases[i].p, cases[i].len, V_LATEST, cases[i].mmb,
						 &out), cases[i].want, "%s", cases[i].what);
	free(big);
	/* CRC. */
	b.p[b.len - 1] ^= 0x40;
	cr_assert_eq(check(&b, V_LATEST), KP_ERR_CORRUPT_MESSAGE);
	free(b.p);
	free(r.p);
}

Test(kp_records, length_and_magic)
{
	struct trecords_buf r = trecords_records(1, 1, 'v', true);
	struct trecords_hdr h = trecords_hdr_default(1);
	struct trecords_buf b = trecords_batch(&h, r.p, r.len);

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
		b = trecords_batch(&h, r.p, r.len);
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
	struct trecords_buf r = trecords_records(3, 2, 'v', true);
	struct { struct trecords_hdr h; int16_t want; const char *what; } cases[] = {
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
		struct trecords_buf b = trecords_batch(&cases[i].h, r.p, r.len);

		cr_assert_eq(check(&b, V_LATEST), cases[i].want, "%s", cases[i].what);
		free(b.p);
	}
	free(r.p);
}

/* Every prefix of every client batch: no crash, and never NONE. */
Test(kp_records, truncation_at_every_length)
{
	for (size_t i = 0; i < sizeof(golden) / sizeof(golden[0]); i++) {
		size_t len;
		uint8_t *b = tfile_read(REC_GOLDEN_DIR, golden[i], &len);

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


/* ---- Slicing and the job pool ---- */

/* A corpus of batches: the client batches, batches built here with every
 * codec (valid, one record too many, cut short, a flipped byte), and
 * small bombs. */
struct corpus {
	struct trecords_buf b[160];
	int32_t mmb[160];
	size_t n;
};

static void
corpus_add(struct corpus *c, struct trecords_buf b, int32_t mmb)
{
	cr_assert_lt(c->n, sizeof(c->b) / sizeof(c->b[0]));
	c->b[c->n] = b;
	c->mmb[c->n++] = mmb;
}

static void
corpus_build(struct corpus *c)
{
	struct trecords_buf r = trecords_records(300, 700, 'v', true);
	struct trecords_buf small = trecords_records(7, 3, 'v', true);
	struct trecords_buf bomb = trecords_records(40, 64u << 10, 0, false);

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < sizeof(golden) / sizeof(golden[0]); i++) {
		struct trecords_buf b = { 0 };

		b.p = tfile_read(REC_GOLDEN_DIR, golden[i], &b.len);
		corpus_add(c, b, MAX_BYTES);
	}
	for (int ci = -1; ci < TRECORDS_CODECS; ci++) {
		struct trecords_buf b = trecords_batch_codec(ci, &r, 300), x;

		corpus_add(c, trecords_batch_codec(ci, &r, 301), MAX_BYTES);
		corpus_add(c, trecords_batch_codec(ci, &small, 7), MAX_BYTES);
		corpus_add(c, trecords_batch_codec(ci, &bomb, 40), 1 << 16);
		for (int k = 1; k <= 3; k++) {
			/* A byte flipped a quarter, half, three quarters in. */
			x.len = x.cap = b.len;
			x.p = malloc(b.len);
			memcpy(x.p, b.p, b.len);
			x.p[61 + (b.len - 61) * (size_t)k / 4] ^= 0x21;
			trecords_refresh_crc(x.p, x.len);
			corpus_add(c, x, MAX_BYTES);
		}
		x.len = x.cap = b.len - 7;      /* cut short, lengths made to agree */
		x.p = malloc(x.len);
		memcpy(x.p, b.p, x.len);
		x.p[8] = (uint8_t)((x.len - 12) >> 24);
		x.p[9] = (uint8_t)((x.len - 12) >> 16);
		x.p[10] = (uint8_t)((x.len - 12) >> 8);
		x.p[11] = (uint8_t)(x.len - 12);
		trecords_refresh_crc(x.p, x.len);
		corpus_add(c, x, MAX_BYTES);
		corpus_add(c, b, MAX_BYTES);
	}
	/* The uncompressed batch of the same records. */
	{
		struct trecords_hdr h = trecords_hdr_default(300);

		corpus_add(c, trecords_batch(&h, r.p, r.len), MAX_BYTES);
	}
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

/* A big batch becomes a job; jobs freed before they finish give back all
 * they hold (LeakSanitizer checks at exit), and the count of jobs out
 * returns to zero. */
Test(kp_records, jobs_freed_midway_leak_nothing)
{
	struct trecords_buf r = trecords_records(200, 8000, 'q', false);
	struct kp_records_job *jobs[TRECORDS_CODECS + 1];
	struct trecords_buf bs[TRECORDS_CODECS + 1];
	struct kp_records_stats st;
	int out = 0;

	for (int ci = -1; ci < TRECORDS_CODECS && out < KP_RECORDS_JOBS_MAX; ci++) {
		struct rbatch_header h;

		bs[out] = trecords_batch_codec(ci, &r, 200);
		cr_assert_eq(kp_records_validate_begin(bs[out].p, (int32_t)bs[out].len, V_LATEST,
						       MAX_BYTES, &h, &jobs[out]), KP_ERR_NONE);
		cr_assert_not_null(jobs[out], "%s: 1.6 MB is more than a step",
				   trecords_codec_name(ci));
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
	struct trecords_buf r = trecords_records(200, 8000, 'q', false);
	struct trecords_buf small = trecords_records(5, 10, 'v', true);
	struct trecords_buf big = trecords_batch_codec(0, &r, 200);
	struct trecords_buf little = trecords_batch_codec(0, &small, 5);
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
	const struct trecords_buf *bs = arg;

	for (int i = 0; i < TRECORDS_CODECS + 1; i++)
		cr_assert_eq(kp_records_validate(bs[i].p, (int32_t)bs[i].len, V_LATEST, MAX_BYTES,
						 &(struct rbatch_header){ 0 }), KP_ERR_NONE);
	return NULL;                    /* no kp_records_thread_release() */
}

/* A thread that validated compressed batches and exits without releasing
 * leaks nothing: its state goes with it (LeakSanitizer checks at exit). */
Test(kp_records, thread_exit_frees_its_state)
{
	struct trecords_buf r = trecords_records(300, 700, 'v', true), bs[TRECORDS_CODECS + 1];
	pthread_t t;

	for (int ci = -1; ci < TRECORDS_CODECS; ci++)
		bs[ci + 1] = trecords_batch_codec(ci, &r, 300);
	for (int round = 0; round < 3; round++) {
		cr_assert_eq(pthread_create(&t, NULL, validate_on_thread, bs), 0);
		cr_assert_eq(pthread_join(t, NULL), 0);
	}
	for (int i = 0; i < TRECORDS_CODECS + 1; i++)
		free(bs[i].p);
	free(r.p);
	ASSERT_NO_LEAKS();
}
