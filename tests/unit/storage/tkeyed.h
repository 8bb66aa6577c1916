/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper for the cleaner: builds keyed record batches v2 (keys
 * "k<id>", values "v<id>-<n>" or null tombstones), optionally compressed
 * through the cleaner's codecs, and reads a log's records back. */
#ifndef TESTS_UNIT_STORAGE_TKEYED_H
#define TESTS_UNIT_STORAGE_TKEYED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/plog_int.h"

#define TK_RECORDS_MAX 4096

struct tk_rec {
	int key;                /* -1: null key */
	int value;              /* -1: tombstone */
};

struct tk_batch {
	const struct tk_rec *recs;
	int count;
	int codec;
	int64_t base_offset;
	int64_t ts;
	int64_t producer_id;    /* -1: none */
	int16_t producer_epoch;
	int32_t base_sequence;
};

/* A malloc'd batch and its length. */
uint8_t *tk_build(const struct tk_batch *b, uint32_t *len);

/* A record read back. */
struct tk_read {
	int64_t offset;
	int key;
	int value;              /* -1: tombstone */
	int64_t ts;
};

struct tk_log {
	struct tk_read recs[TK_RECORDS_MAX];
	int count;
	int batches;
	int64_t last_offsets[TK_RECORDS_MAX];   /* per batch: base + lastOffsetDelta */
	int64_t producer_ids[TK_RECORDS_MAX];
	int codecs[TK_RECORDS_MAX];
};

/* Every record of the batches in buf[0..len). */
void tk_parse(const uint8_t *buf, size_t len, struct tk_log *out);
/* Every record of plog's segment files, in order (CRCs checked). */
void tk_read_plog(struct plog *plog, struct tk_log *out);

#endif
