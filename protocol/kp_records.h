/* SPDX-License-Identifier: Apache-2.0 */
/* Produce-side record batch validation with the Kafka error codes the Java
 * broker returns (LogValidator / ProduceRequest.validateRecords). Internal to
 * protocol/: the Produce handler calls it before handing a batch to storage.
 * Validation is resumable, so a core can spread a large compressed batch over
 * several loop turns; its work is bounded, so a compression bomb is cheap. */
#ifndef PROTOCOL_KP_RECORDS_H
#define PROTOCOL_KP_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "common/rbatch.h"

/* kp_records_job_step(): work is left, call it again. Not a Kafka code. */
#define KP_RECORDS_MORE 16001
/* kp_records_validate_begin(): the batch needs a job and this thread has
 * handed out KP_RECORDS_JOBS_MAX of them; call begin again (same arguments)
 * after a kp_records_job_free(). Not a Kafka code. */
#define KP_RECORDS_BUSY 16002

/* Jobs one thread may hand out at once. Each holds its own decompressor
 * state; one more is kept back so begin can always try a batch inline.
 * Memory per job: see "Memory" in kp_records_inflate.c. */
#define KP_RECORDS_JOBS_MAX 4

/* Default work per step, in bytes of decompressed output plus record bytes
 * parsed: 0.1 to 1 ms on the reference machine, by codec and record size
 * (see "Slice budget" in kp_records.c for the measurement). */
#define KP_RECORDS_STEP_BYTES (256u << 10)

struct kp_records_job;

/* Validate the records of one partition of a Produce request (v3+): exactly
 * one batch, magic 2, consistent lengths, CRC-32C, records_count ==
 * last_offset_delta + 1 > 0, base_offset 0, no control batch, producer
 * fields consistent, codec allowed at this version (zstd needs v7+), size <=
 * max_message_bytes; each record walked (bounded varints, offset deltas
 * 0..n-1), inside the decompressed stream for compressed batches, which may
 * decompress to no more than the bound in kp_records_inflate.c.
 *
 * Begin makes the cheap checks (lengths, CRC, header fields) and then up to
 * KP_RECORDS_STEP_BYTES of the walk, which covers uncompressed and small
 * compressed batches whole. Returns the Kafka error code, with *job NULL;
 * KP_ERR_NONE with *job NULL: valid; KP_ERR_NONE with *job != NULL: call
 * kp_records_job_step() until it is no longer KP_RECORDS_MORE, then
 * kp_records_job_free(); KP_RECORDS_BUSY (*job NULL): see above. *h is
 * filled whenever the header checks passed. data[0..len) must stay valid and
 * unchanged until the job is freed. @thread dataplane (any one thread; a job
 * belongs to the thread that began it) */
int16_t kp_records_validate_begin(const uint8_t *data, int32_t len, int16_t produce_version,
				  int32_t max_message_bytes, struct rbatch_header *h,
				  struct kp_records_job **job);

/* Begin with a first step of about first_budget_bytes instead of
 * KP_RECORDS_STEP_BYTES: for a caller whose turn is already busy, and for
 * tests that slice a walk from its first byte. */
int16_t kp_records_validate_begin_budget(const uint8_t *data, int32_t len,
					 int16_t produce_version, int32_t max_message_bytes,
					 struct rbatch_header *h, size_t first_budget_bytes,
					 struct kp_records_job **job);

/* Continue a job with about budget_bytes of work (decompressed bytes plus
 * record bytes parsed; 0 counts as 1). Returns KP_RECORDS_MORE, or the
 * verdict: KP_ERR_NONE or a Kafka error code, returned again by any later
 * call. @thread the job's */
int kp_records_job_step(struct kp_records_job *job, size_t budget_bytes);

/* Give the job back, finished or not. NULL is a no-op. @thread the job's */
void kp_records_job_free(struct kp_records_job *job);

/* The whole validation in one call (begin and steps without a budget, on
 * a job never handed out, so never KP_RECORDS_BUSY). For tests, fuzzing
 * and callers that may block. @thread any */
int16_t kp_records_validate(const uint8_t *data, int32_t len, int16_t produce_version,
			    int32_t max_message_bytes, struct rbatch_header *h);

/* The calling thread's counters (zero before its first batch). */
struct kp_records_stats {
	uint64_t inflated_bytes;        /* bytes decompressed, all batches */
	uint64_t limit_rejects;         /* batches refused by the decompression bound */
	uint64_t busy;                  /* begins answered KP_RECORDS_BUSY */
	uint32_t jobs_out;              /* jobs handed out now */
};
void kp_records_thread_stats(struct kp_records_stats *out);

/* Free the calling thread's jobs and decompressors now (created on first
 * use and reused). A thread's state is also freed when it exits; this is
 * for threads that live on. No job may be handed out. @thread any */
void kp_records_thread_release(void);

#endif
