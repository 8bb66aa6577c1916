/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: builds uncompressed record batches v2 by hand (CRC-32C with
 * ISA-L directly), so storage tests do not depend on protocol/. */
#ifndef TESTS_UNIT_STORAGE_TBATCH_H
#define TESTS_UNIT_STORAGE_TBATCH_H

#include <stddef.h>
#include <stdint.h>

struct tbatch_spec {
	int records;            /* >= 1 */
	int value_bytes;        /* per record */
	int64_t base_timestamp; /* record i has base_timestamp + i * ts_step */
	int64_t ts_step;
	int64_t producer_id;    /* -1: none */
	int16_t producer_epoch;
	int32_t base_sequence;
	uint8_t fill;           /* value byte */
};

/* Build into a new malloc'ed buffer; returns it, its length in *len. */
uint8_t *tbatch_build(const struct tbatch_spec *spec, uint32_t *len);
/* A default spec: n records of value_bytes, no producer. */
struct tbatch_spec tbatch_spec(int records, int value_bytes, int64_t base_timestamp);

#endif
