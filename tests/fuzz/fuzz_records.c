/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: bytes -> record batch validation (protocol/kp_records.c),
 * every codec, one-shot and sliced. The first byte picks the Produce
 * version (low 4 bits), with bit 7 set asks for the CRC to be recomputed
 * over a copy first (so the fuzzer reaches the record walk and the
 * decompressors instead of stopping at the CRC), and bits 4-6 pick a step
 * budget from 1 byte up, or (0) a job freed after its first steps.
 * Oracles: no crash or sanitizer report (leaks included); an accepted batch
 * has a sane header; the sliced walk reaches the one-shot verdict. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/kp_error.h"
#include "protocol/kp_records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_MESSAGE_BYTES (1 << 20)
/* Past this many steps the budget grows, so a bomb stays a fast input. */
#define FUZZ_SMALL_STEPS_MAX 20000

static const size_t fuzz_budgets[8] = { 3, 1, 2, 7, 61, 4097, 65537, KP_RECORDS_STEP_BYTES };

/* The batch through begin and steps of budget; free_early: give the job
 * back after two steps (the verdict is then meaningless). */
static int
fuzz_stepped(const uint8_t *p, int32_t len, int16_t version, size_t budget, bool free_early)
{
	struct kp_records_job *job;
	struct rbatch_header h;
	int rc = kp_records_validate_begin_budget(p, len, version, FUZZ_MAX_MESSAGE_BYTES, &h,
						  budget, &job);
	long steps = 0;

	if (rc != KP_ERR_NONE || job == NULL)
		return rc;
	do {
		if (free_early && steps == 2)
			break;
		rc = kp_records_job_step(job, steps++ < FUZZ_SMALL_STEPS_MAX ? budget
									: KP_RECORDS_STEP_BYTES);
	} while (rc == KP_RECORDS_MORE);
	if (rc != KP_RECORDS_MORE && kp_records_job_step(job, budget) != rc)
		abort();                        /* a verdict is sticky */
	kp_records_job_free(job);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kp_records_stats st;
	struct rbatch_header h;
	size_t pick;
	uint8_t *copy;
	int16_t version, err;
	int rc;

	if (size < 1 || size > FUZZ_MAX_MESSAGE_BYTES)
		return 0;
	version = (int16_t)(data[0] & 0x0f);
	pick = (size_t)(data[0] >> 4) & 7;
	copy = malloc(size);            /* exact size: ASan sees any overread */
	if (copy == NULL)
		return 0;
	memcpy(copy, data + 1, size - 1);
	if ((data[0] & 0x80) && size - 1 >= RBATCH_HEADER_BYTES) {
		uint32_t crc = rbatch_crc_compute(copy, size - 1);

		for (int i = 0; i < 4; i++)
			copy[17 + i] = (uint8_t)(crc >> (24 - 8 * i));
	}
	err = kp_records_validate(size > 1 ? copy : NULL, (int32_t)(size - 1), version,
				  FUZZ_MAX_MESSAGE_BYTES, &h);
	if (err == KP_ERR_NONE &&
	    (h.records_count <= 0 || h.base_offset != 0 || h.magic != RBATCH_MAGIC_V2 ||
	     rbatch_total_bytes(&h) != (int64_t)(size - 1)))
		abort();
	rc = fuzz_stepped(size > 1 ? copy : NULL, (int32_t)(size - 1), version,
			  fuzz_budgets[pick], pick == 0);
	if (pick != 0 && rc != err)
		abort();
	kp_records_thread_stats(&st);
	if (st.jobs_out != 0)
		abort();
	free(copy);
	return 0;
}
