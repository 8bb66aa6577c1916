/* SPDX-License-Identifier: Apache-2.0 */
/* Idempotent-producer state of one partition, as Kafka keeps it: per
 * producer id the epoch and the last 5 appended batches (first and last
 * sequence, offsets, timestamp). Pure logic, no I/O: the storage worker that
 * owns the partition checks each batch before assigning offsets, records it
 * when offsets are assigned, rolls back on a failed write, and rebuilds the
 * state from snapshots + the log on recovery. @thread storage (owner only) */
#ifndef STORAGE_PSTATE_H
#define STORAGE_PSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Batches remembered per producer (Kafka's NUM_BATCHES_TO_RETAIN). */
#define PSTATE_BATCHES 5

struct pstate;

struct pstate *pstate_create(void);
void pstate_destroy(struct pstate *ps);

enum pstate_verdict {
	PSTATE_APPEND = 0,      /* new batch in sequence: append it */
	PSTATE_DUPLICATE = 1,   /* exact retry of a remembered batch: do not append */
	PSTATE_REJECT = 2,      /* *error holds the Kafka error code */
};

struct pstate_dup {
	int64_t base_offset;    /* what the original append got */
	int64_t timestamp;      /* its log-append time (or -1) */
};

/* Check one batch of a producer (producer_id >= 0) against Kafka's rules:
 * duplicate of one of the last 5 batches (same epoch, same first and last
 * sequence) -> DUPLICATE; epoch older than known -> INVALID_PRODUCER_EPOCH;
 * newer epoch needs first_seq 0, same epoch needs last_seq + 1 (wrapping
 * INT32_MAX -> 0), else OUT_OF_ORDER_SEQUENCE_NUMBER; unknown producer ->
 * any sequence appends. */
enum pstate_verdict pstate_check(const struct pstate *ps, int64_t producer_id, int16_t epoch,
				 int32_t first_seq, int32_t last_seq, struct pstate_dup *dup,
				 int16_t *error);

/* Record a batch whose offsets were assigned. 0 or -ENOMEM. */
int pstate_record(struct pstate *ps, int64_t producer_id, int16_t epoch, int32_t first_seq,
		  int32_t last_seq, int64_t base_offset, int64_t last_offset, int64_t timestamp_ms);

/* Forget every batch with last_offset >= offset (a failed write, or a
 * truncated torn tail). */
void pstate_truncate(struct pstate *ps, int64_t offset);

/* Drop producers whose last batch is older than now_ms - expiration_ms
 * (producer.id.expiration.ms). */
void pstate_expire(struct pstate *ps, int64_t now_ms, int64_t expiration_ms);

/* Snapshot: a self-checking (CRC32C) byte image of the whole state, written
 * by storage as <base offset>.snapshot at segment roll so recovery replays
 * only the log after it. pstate_snapshot_size() bytes go into buf. */
size_t pstate_snapshot_size(const struct pstate *ps);
void pstate_snapshot_write(const struct pstate *ps, uint8_t *buf);
/* Load a snapshot into an empty state: 0, or -EINVAL if corrupt (-ENOMEM
 * when out of memory); on failure the state is left empty again. */
int pstate_snapshot_read(struct pstate *ps, const uint8_t *buf, size_t len);

size_t pstate_producer_count(const struct pstate *ps);

struct st_producer;
/* Up to max producers into out, sorted by producer id (DescribeProducers);
 * returns how many were written. */
size_t pstate_list(const struct pstate *ps, struct st_producer *out, size_t max);

/* ---- transactions (pstate_txn.c), Kafka's ProducerAppendInfo and
 * ProducerStateManager: a transactional batch opens its producer's
 * transaction (currentTxnFirstOffset) unless one is open; a COMMIT/ABORT
 * marker ends it. The partition keeps its transactions by first offset
 * until the high watermark passes their marker, so the first unstable
 * offset is the first entry's: O(1). ---- */

/* A data batch of a producer (after pstate_check() said APPEND):
 * INVALID_TXN_STATE when it is not transactional while the producer's
 * transaction is open, else 0. */
int16_t pstate_txn_check(const struct pstate *ps, int64_t producer_id, bool transactional);
/* Room for one more transaction before a transactional batch or a marker
 * is assigned (entries the high watermark hw passed are dropped first).
 * 0 or -ENOMEM. */
int pstate_txn_reserve(struct pstate *ps, int64_t hw);
/* The recorded producer's transactional batch at first_offset: opens its
 * transaction unless one is open. 0, -ENOENT for an unknown producer, or
 * -ENOMEM (only without a pstate_txn_reserve() before: the transaction is
 * then not tracked). */
int pstate_txn_begin(struct pstate *ps, int64_t producer_id, int64_t first_offset);
/* A marker from the coordinator: INVALID_PRODUCER_EPOCH when epoch is older
 * than the producer's, TRANSACTION_COORDINATOR_FENCED when
 * coordinator_epoch is older than its last marker's, else 0. */
int16_t pstate_txn_end_check(const struct pstate *ps, int64_t producer_id, int16_t epoch,
			     int32_t coordinator_epoch);

/* What a marker ended. */
struct pstate_txn_end {
	bool ended;                     /* false: the producer had no open transaction */
	int64_t first_offset;
	/* Kafka's lastStableOffset(completedTxn): the first offset of the
	 * first other open transaction, else the marker's offset + 1 (the
	 * .txnindex entry's LSO). */
	int64_t last_stable_offset;
};

/* Apply a marker at offset (checked, or a replica's/replay's unchecked):
 * the producer (made known if it was not, at the marker's epoch) ends its
 * open transaction. 0 or -ENOMEM (a new producer without room). */
int pstate_txn_end(struct pstate *ps, int64_t producer_id, int16_t epoch,
		   int32_t coordinator_epoch, int64_t offset, int64_t timestamp_ms,
		   struct pstate_txn_end *out);
/* The first offset not yet stable below the high watermark hw (the first
 * open transaction's, or of an ended one whose marker is at or past hw),
 * -1 when none. Drops the entries hw passed at the front. */
int64_t pstate_first_unstable(struct pstate *ps, int64_t hw);
/* The producer's open transaction's first offset; -1: none (or unknown). */
int64_t pstate_txn_first_offset(const struct pstate *ps, int64_t producer_id);
/* Transactions tracked (open or not yet stable). */
size_t pstate_txn_count(const struct pstate *ps);

#endif
