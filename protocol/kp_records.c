/* SPDX-License-Identifier: Apache-2.0 */
/* Produce-side validation of one partition's records: the batch header
 * checks Kafka makes (ProduceRequest.validateRecords,
 * UnifiedLog.analyzeAndValidateRecords, LogValidator.validateBatch) and a walk
 * of every record, through a streaming decompressor for gzip (ISA-L igzip),
 * snappy (raw and xerial-framed, kp_snappy.c), lz4 (frame format) and zstd.
 * The walk is resumable in slices of bounded work and the decompressed size
 * is bounded; it never rewrites the batch. */
#include "protocol/kp_records.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/be.h"
#include "protocol/kp_records_int.h"

/*
 * Error codes, case by case, and where Kafka (3.9) decides them. The checks
 * run in Kafka's order, so a batch with two faults gets Kafka's answer.
 *
 *   no complete batch (len < 12, or the batch runs past the data)
 *       INVALID_RECORD (87): the batch iterator yields nothing and
 *       ProduceRequest.validateRecords throws InvalidRecordException.
 *   batchLength < 14 (LegacyRecord.RECORD_OVERHEAD_V0)
 *       CORRUPT_MESSAGE (2): ByteBufferLogInputStream.nextBatchSize throws
 *       CorruptRecordException before the magic is even read.
 *   magic < 0 or > 2   CORRUPT_MESSAGE (2), same place ("Invalid magic").
 *   magic 0 or 1       INVALID_RECORD (87), validateRecords (v3+ needs v2).
 *   codec zstd below Produce v7
 *       UNSUPPORTED_COMPRESSION_TYPE (76), validateRecords.
 *   codec 5..7         UNSUPPORTED_COMPRESSION_TYPE (76). Kafka's
 *       CompressionType.forId throws IllegalArgumentException, which is no
 *       ApiException and ends as UNKNOWN_SERVER_ERROR; 76 says what is wrong.
 *   bytes after the batch
 *       INVALID_RECORD (87). Kafka rejects a second complete batch with 87
 *       and silently trims a partial one (UnifiedLog.trimInvalidBytes); we
 *       reject both, since no client sends either.
 *   baseOffset != 0    INVALID_RECORD (87), analyzeAndValidateRecords.
 *   batch bytes > max_message_bytes
 *       MESSAGE_TOO_LARGE (10), analyzeAndValidateRecords
 *       (RecordTooLargeException).
 *   batch shorter than the 61-byte header, or CRC-32C mismatch
 *       CORRUPT_MESSAGE (2): DefaultRecordBatch.isValid() is false.
 *   lastOffsetDelta + 1 <= 0, recordsCount <= 0, or the two disagree
 *       INVALID_RECORD (87), LogValidator.validateBatch.
 *   control batch from a client   INVALID_RECORD (87), validateBatch.
 *   producerId >= 0 with baseSequence < 0   INVALID_RECORD (87), validateBatch.
 *   a record that does not parse (varint over 5/10 bytes, negative length,
 *       key or value length < -1, negative header count or header key
 *       length, a record whose fields do not end exactly at its length,
 *       fewer records than recordsCount, bytes left after the last one)
 *       INVALID_RECORD (87): DefaultRecord.readFrom throws
 *       InvalidRecordException. Kafka reads a key/value length below -1 as
 *       null; we reject it, as no client writes one.
 *   offsetDelta != record index
 *       INVALID_RECORD (87). Kafka does not reject this: it rebuilds the
 *       batch with fresh offsets (LogValidator, inPlaceAssignment = false).
 *       We never rewrite a batch, so we must refuse it.
 *   a compressed stream that does not decode
 *       INVALID_RECORD (87). Kafka wraps the codec's IOException in a
 *       KafkaException, which ends as UNKNOWN_SERVER_ERROR (-1); a premature
 *       end of stream is InvalidRecordException (87) there too.
 *   decompressed records beyond the bound below
 *       INVALID_RECORD (87), as soon as the walk knows the bound will be
 *       crossed. Kafka has no such bound. Not CORRUPT_MESSAGE: that one is
 *       retriable (CorruptRecordException), so every client would resend
 *       the batch until delivery.timeout.ms, and it means bytes damaged in
 *       transit, which the CRC already rules out. INVALID_RECORD is what
 *       Kafka answers for a decompressed stream that does not hold the
 *       records it claims, is not retried, and keeps the verdict of every
 *       walk NONE or 87 whichever check fires first, which lets the bound
 *       reject early on sizes a stream declares. (MESSAGE_TOO_LARGE would
 *       make the Java producer split the batch and resend it in pieces that
 *       pass; KP_RECORDS_LIMIT_ERR switches to it.)
 *   no memory for a decompressor
 *       MESSAGE_TOO_LARGE (10): refused rather than crashing the core.
 *
 * Left to the caller: timestamps against log.message.timestamp.*.max.ms
 * (INVALID_TIMESTAMP), null keys on compacted topics, transactional state
 * and the producer's epoch and sequence (storage/pstate.c).
 */

/*
 * Slice budget (KP_RECORDS_STEP_BYTES in kp_records.h). Work is counted in
 * decompressed bytes plus record bytes parsed (the bytes of a key, value or
 * header are jumped over, not parsed). Measured on the reference machine
 * (AMD EPYC, 2 vCPUs shared, gcc -O2, thread CPU time per step, 3-60 MB
 * batches; bench/bench_kp_records.c): a 256 KiB step takes on average
 * 0.11 ms (lz4 bomb of zeros), 0.15 ms (igzip bomb, ~1.8 GB/s), 0.17 ms
 * (snappy bomb); 0.14 to 0.47 ms for JSON events by codec; 0.49 to 0.62 ms
 * for 7-byte records, the costliest walk (~400 MB/s uncompressed, ~220
 * MB/s through snappy). The longest step seen was 1.15 ms: a step costs
 * about 1 ms at most (a few with ASan), and a 64 MiB bound is 256 steps.
 * begin() also computes the CRC of the whole batch (~6 GB/s: 0.2 ms for a
 * 1 MiB batch; a topic allowing 100 MB batches would need it sliced too).
 * What a job holds in memory: "Memory" in kp_records_inflate.c.
 */

/* Offsets of the few fields read before the header is known complete. */
#define KP_OFF_LENGTH 8
#define KP_OFF_MAGIC 16
#define KP_OFF_ATTRIBUTES 21
#define KP_BATCH_LENGTH_MIN 14          /* LegacyRecord.RECORD_OVERHEAD_V0 */
#define KP_PRODUCE_ZSTD_VERSION_MIN 7

STATIC_ASSERT(KP_RECORDS_MORE > INT16_MAX / 4 && KP_RECORDS_MORE < INT16_MAX,
	      "MORE is no Kafka error code and fits an int16_t");
STATIC_ASSERT(KP_RECORDS_BUSY > INT16_MAX / 4 && KP_RECORDS_BUSY < INT16_MAX,
	      "BUSY is no Kafka error code and fits an int16_t");

__thread struct kp_records_pool *kp_records_tls;
/* Frees a thread's pool when it exits (pthread key destructor), so threads
 * that never call kp_records_thread_release() leak nothing. */
static pthread_key_t kp_records_key;
static pthread_once_t kp_records_key_once = PTHREAD_ONCE_INIT;
static bool kp_records_key_ok;

void
kp_records_job_finish(struct kp_records_job *job, int16_t verdict)
{
	struct kp_records_pool *pool = kp_records_tls;

	job->done = true;
	job->verdict = verdict;
	if (job->walk.limit_hit && pool != NULL)
		pool->stats.limit_rejects++;
}

/* The walk failed: on the bound, or on the bytes. */
static void
kp_records_job_finish_failed(struct kp_records_job *job)
{
	kp_records_job_finish(job, job->walk.limit_hit ? KP_RECORDS_LIMIT_ERR
						       : KP_ERR_INVALID_RECORD);
}

static void
kp_records_pool_free(struct kp_records_pool *pool)
{
	for (int i = 0; i <= KP_RECORDS_JOBS_MAX; i++)
		kp_records_inflate_free(&pool->jobs[i].eng);
	free(pool);
}

/* pthread key destructor: the thread is exiting. */
static void
kp_records_pool_exit(void *arg)
{
	kp_records_pool_free(arg);
	kp_records_tls = NULL;
}

static void
kp_records_key_create(void)
{
	kp_records_key_ok = pthread_key_create(&kp_records_key, kp_records_pool_exit) == 0;
}

static struct kp_records_pool *
kp_records_pool_get(void)
{
	struct kp_records_pool *pool = kp_records_tls;

	if (pool != NULL)
		return pool;
	pthread_once(&kp_records_key_once, kp_records_key_create);
	pool = calloc(1, sizeof(*pool));
	if (pool == NULL)
		return NULL;
	if (kp_records_key_ok && pthread_setspecific(kp_records_key, pool) != 0) {
		free(pool);
		return NULL;
	}
	kp_records_tls = pool;
	return pool;
}

void
kp_records_thread_release(void)
{
	struct kp_records_pool *pool = kp_records_tls;

	if (pool == NULL)
		return;
	ASSERT(pool->stats.jobs_out == 0);
	if (kp_records_key_ok)
		pthread_setspecific(kp_records_key, NULL);
	kp_records_pool_free(pool);
	kp_records_tls = NULL;
}

void
kp_records_thread_stats(struct kp_records_stats *out)
{
	struct kp_records_pool *pool = kp_records_tls;

	if (pool == NULL)
		memset(out, 0, sizeof(*out));
	else
		*out = pool->stats;
}


/* Set a job up for the body of a batch whose header passed. KP_ERR_NONE,
 * or the verdict when the batch is refused before any decompression. */
static int16_t
kp_records_job_init(struct kp_records_job *job, const uint8_t *body, size_t body_bytes,
		    int codec, int32_t records_count, int32_t max_message_bytes)
{
	uint64_t limit = codec == RBATCH_CODEC_NONE
			 ? body_bytes : kp_records_inflate_bound(body_bytes, max_message_bytes);

	job->codec = codec;
	job->done = false;
	job->verdict = KP_ERR_NONE;
	job->produced = 0;
	job->in_unit = false;
	job->xerial = false;
	kp_records_walk_init(&job->walk, records_count, limit);
	if ((uint64_t)records_count * KP_RECORD_BYTES_MIN > limit) {
		kp_records_walk_fail_limit(&job->walk);
		kp_records_job_finish(job, KP_RECORDS_LIMIT_ERR);
		return job->verdict;
	}
	if (codec == RBATCH_CODEC_NONE) {
		job->in = NULL;
		job->in_bytes = 0;
		job->win = body;
		job->win_end = body + body_bytes;
		job->eof = true;
		job->mid_frame = false;
		return KP_ERR_NONE;
	}
	return kp_records_inflate_begin(job, body, body_bytes);
}

int
kp_records_job_step(struct kp_records_job *job, size_t budget_bytes)
{
	size_t work_left = budget_bytes > 0 ? budget_bytes : 1;

	ASSERT(job != NULL);
	while (!job->done && work_left > 0) {
		if (job->walk.state == KP_W_FAILED) {
			kp_records_job_finish_failed(job);
		} else if (job->win < job->win_end) {
			job->win += kp_records_walk_feed(&job->walk, job->win,
							 (size_t)(job->win_end - job->win),
							 &work_left);
		} else if (job->eof) {
			kp_records_job_finish(job, job->walk.state == KP_W_DONE ? KP_ERR_NONE
									 : KP_ERR_INVALID_RECORD);
		} else {
			size_t got = kp_records_inflate_fill(job, work_left);

			work_left -= got < work_left ? got : work_left;
		}
	}
	if (!job->done && job->walk.state == KP_W_FAILED)
		kp_records_job_finish_failed(job);
	return job->done ? job->verdict : KP_RECORDS_MORE;
}

/* The checks before the CRC, in the order Kafka makes them. */
static int16_t
kp_records_check_frame(const uint8_t *data, int32_t len, int16_t produce_version,
		       int32_t max_message_bytes)
{
	int32_t batch_length;
	int64_t total;
	int codec;

	if (data == NULL || len < RBATCH_LOG_OVERHEAD)
		return KP_ERR_INVALID_RECORD;
	batch_length = (int32_t)be_read32(data + KP_OFF_LENGTH);
	if (batch_length < KP_BATCH_LENGTH_MIN)
		return KP_ERR_CORRUPT_MESSAGE;
	if (len <= KP_OFF_MAGIC)
		return KP_ERR_INVALID_RECORD;
	if ((int8_t)data[KP_OFF_MAGIC] < 0 || (int8_t)data[KP_OFF_MAGIC] > RBATCH_MAGIC_V2)
		return KP_ERR_CORRUPT_MESSAGE;
	total = (int64_t)batch_length + RBATCH_LOG_OVERHEAD;
	if (total > len)
		return KP_ERR_INVALID_RECORD;
	if (data[KP_OFF_MAGIC] != RBATCH_MAGIC_V2)
		return KP_ERR_INVALID_RECORD;
	codec = data[KP_OFF_ATTRIBUTES + 1] & RBATCH_ATTR_CODEC_MASK;
	if (codec > RBATCH_CODEC_ZSTD ||
	    (codec == RBATCH_CODEC_ZSTD && produce_version < KP_PRODUCE_ZSTD_VERSION_MIN))
		return KP_ERR_UNSUPPORTED_COMPRESSION_TYPE;
	if (total < len)
		return KP_ERR_INVALID_RECORD;
	if (data[0] | data[1] | data[2] | data[3] | data[4] | data[5] | data[6] | data[7])
		return KP_ERR_INVALID_RECORD;           /* baseOffset != 0 */
	if (total > max_message_bytes)
		return KP_ERR_MESSAGE_TOO_LARGE;
	if (total < RBATCH_HEADER_BYTES || !rbatch_crc_ok(data, (size_t)total))
		return KP_ERR_CORRUPT_MESSAGE;
	return KP_ERR_NONE;
}

/* The header checks after the frame's (LogValidator.validateBatch). */
static int16_t
kp_records_check_header(const uint8_t *data, int32_t len, int16_t produce_version,
			int32_t max_message_bytes, struct rbatch_header *h)
{
	int16_t err = kp_records_check_frame(data, len, produce_version, max_message_bytes);

	if (err != KP_ERR_NONE)
		return err;
	ASSERT(len >= RBATCH_HEADER_BYTES);
	rbatch_header_parse(data, (size_t)len, h);
	if (h->last_offset_delta < 0 || h->last_offset_delta == INT32_MAX ||
	    h->records_count <= 0 || h->records_count != h->last_offset_delta + 1)
		return KP_ERR_INVALID_RECORD;
	if (h->attributes & RBATCH_ATTR_CONTROL)
		return KP_ERR_INVALID_RECORD;
	if (h->producer_id >= 0 && h->base_sequence < 0)
		return KP_ERR_INVALID_RECORD;
	return KP_ERR_NONE;
}

/* Begin with a first step of first_budget on the pool's spare job, which
 * is handed out only if work is left and handing out is allowed. */
static int16_t
kp_records_begin(const uint8_t *data, int32_t len, int16_t produce_version,
		 int32_t max_message_bytes, struct rbatch_header *h, size_t first_budget,
		 struct kp_records_job **jobp)
{
	struct kp_records_pool *pool;
	struct kp_records_job *job = NULL;
	int16_t err;
	int rc;

	*jobp = NULL;
	err = kp_records_check_header(data, len, produce_version, max_message_bytes, h);
	if (err != KP_ERR_NONE)
		return err;
	pool = kp_records_pool_get();
	if (pool == NULL)
		return KP_RECORDS_NOMEM_ERR;
	for (int i = 0; i <= KP_RECORDS_JOBS_MAX && job == NULL; i++)
		if (!pool->jobs[i].handed_out)
			job = &pool->jobs[i];
	ASSERT(job != NULL);            /* at most JOBS_MAX are out */
	err = kp_records_job_init(job, data + RBATCH_HEADER_BYTES,
				  (size_t)len - RBATCH_HEADER_BYTES,
				  h->attributes & RBATCH_ATTR_CODEC_MASK, h->records_count,
				  max_message_bytes);
	rc = err != KP_ERR_NONE ? err : kp_records_job_step(job, first_budget);
	if (rc != KP_RECORDS_MORE) {
		kp_records_inflate_trim(&job->eng);
		return (int16_t)rc;
	}
	if (pool->stats.jobs_out == KP_RECORDS_JOBS_MAX) {
		pool->stats.busy++;
		kp_records_inflate_trim(&job->eng);
		return KP_RECORDS_BUSY;
	}
	job->handed_out = true;
	pool->stats.jobs_out++;
	*jobp = job;
	return KP_ERR_NONE;
}

int16_t
kp_records_validate_begin(const uint8_t *data, int32_t len, int16_t produce_version,
			  int32_t max_message_bytes, struct rbatch_header *h,
			  struct kp_records_job **job)
{
	return kp_records_begin(data, len, produce_version, max_message_bytes, h,
				KP_RECORDS_STEP_BYTES, job);
}

int16_t
kp_records_validate_begin_budget(const uint8_t *data, int32_t len, int16_t produce_version,
				 int32_t max_message_bytes, struct rbatch_header *h,
				 size_t first_budget_bytes, struct kp_records_job **job)
{
	return kp_records_begin(data, len, produce_version, max_message_bytes, h,
				first_budget_bytes, job);
}

void
kp_records_job_free(struct kp_records_job *job)
{
	struct kp_records_pool *pool = kp_records_tls;

	if (job == NULL)
		return;
	ASSERT(pool != NULL);
	ASSERT(job >= pool->jobs && job <= &pool->jobs[KP_RECORDS_JOBS_MAX]);
	ASSERT(job->handed_out);
	job->handed_out = false;
	pool->stats.jobs_out--;
	kp_records_inflate_trim(&job->eng);
}

int16_t
kp_records_validate(const uint8_t *data, int32_t len, int16_t produce_version,
		    int32_t max_message_bytes, struct rbatch_header *h)
{
	struct kp_records_job *job;
	int16_t err = kp_records_begin(data, len, produce_version, max_message_bytes, h,
				       SIZE_MAX, &job);

	ASSERT(job == NULL);            /* an unlimited step always finishes */
	return err;
}
