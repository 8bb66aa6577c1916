/* SPDX-License-Identifier: Apache-2.0 */
/* Produce-side record batch validation with the Kafka error codes the Java
 * broker returns (LogValidator / ProduceRequest.validateRecords). Internal to
 * protocol/: the Produce handler calls it before handing a batch to storage. */
#ifndef PROTOCOL_KP_RECORDS_H
#define PROTOCOL_KP_RECORDS_H

#include <stdint.h>

#include "common/rbatch.h"

/* Validate the records of one partition of a Produce request (v3+): exactly
 * one batch, magic 2, consistent lengths, CRC-32C, records_count ==
 * last_offset_delta + 1 > 0, base_offset 0, no control batch, producer
 * fields consistent, codec allowed at this version (zstd needs v7+), size <=
 * max_message_bytes; each record walked (bounded varints, offset deltas
 * 0..n-1), inside the decompressed stream for compressed batches. Returns
 * KP_ERR_NONE and fills *h, or the Kafka error code. */
int16_t kp_records_validate(const uint8_t *data, int32_t len, int16_t produce_version,
			    int32_t max_message_bytes, struct rbatch_header *h);

/* Free the calling thread's decompression state (created on its first
 * compressed batch and reused). Call before a thread that validated records
 * exits; validating again afterwards recreates it. */
void kp_records_thread_release(void);

#endif
