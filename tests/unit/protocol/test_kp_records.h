/* SPDX-License-Identifier: Apache-2.0 */
/* What the kp_records tests share (test_kp_records*.c): the limits they
 * validate at and the two ways to run a validation, one-shot and sliced. */
#ifndef TESTS_UNIT_PROTOCOL_TEST_KP_RECORDS_H
#define TESTS_UNIT_PROTOCOL_TEST_KP_RECORDS_H

#include <criterion/criterion.h>

#include "protocol/kp_records.h"
#include "tests/unit/protocol/trecords.h"

#define MAX_BYTES (1 << 20)
#define V_LATEST 9
/* Kafka's default max.message.bytes (1 MiB + the 12-byte log overhead). */
#define MMB_DEFAULT 1048588

static inline int16_t
check(const struct trecords_buf *b, int16_t version)
{
	struct rbatch_header h;

	return kp_records_validate(b->p, (int32_t)b->len, version, MAX_BYTES, &h);
}

/* Run a batch through begin + steps of budget bytes (the first step too). */
static inline int16_t
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

#endif
