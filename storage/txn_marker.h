/* SPDX-License-Identifier: Apache-2.0 */
/* End-transaction markers, as Kafka writes them: a control batch
 * (attributes transactional | control) of the producer's id and epoch
 * holding one record, key = int16 version 0 + int16 type (0 ABORT,
 * 1 COMMIT), value = int16 version 0 + int32 coordinator epoch. The
 * coordinator builds one with txn_marker_build() and appends it as
 * ST_REQ_APPEND with ST_APPEND_MARKER; storage ends the producer's
 * transaction with it (and indexes an ABORT in the segment's .txnindex).
 * @thread any (pure functions) */
#ifndef STORAGE_TXN_MARKER_H
#define STORAGE_TXN_MARKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of a marker batch: the 61-byte header and its 17-byte record. */
#define TXN_MARKER_BYTES 78

#define TXN_MARKER_ABORT 0
#define TXN_MARKER_COMMIT 1

struct txn_marker {
	int64_t producer_id;
	int16_t producer_epoch;
	int32_t coordinator_epoch;
	int16_t type;                   /* TXN_MARKER_ABORT or TXN_MARKER_COMMIT */
	int64_t timestamp_ms;
};

/* Write the marker batch (base offset 0, CRC set) into buf[TXN_MARKER_BYTES]. */
void txn_marker_build(const struct txn_marker *m, uint8_t buf[TXN_MARKER_BYTES]);
/* Read a whole control batch of len bytes: false when it is not a marker
 * Kafka would read (not one record, a key that is not version >= 0 + ABORT
 * or COMMIT, a value shorter than version + coordinator epoch). */
bool txn_marker_parse(const uint8_t *batch, size_t len, struct txn_marker *m);

#endif
