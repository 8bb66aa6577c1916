/* SPDX-License-Identifier: Apache-2.0 */
/* The producer-state table shared by pstate.c (idempotence, snapshots) and
 * pstate_txn.c (transactions). Internal to storage/pstate*.c. @thread
 * storage (owner only) */
#ifndef STORAGE_PSTATE_INT_H
#define STORAGE_PSTATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/pstate.h"

struct pstate_batch {
	int32_t first_seq;
	int32_t last_seq;
	int64_t base_offset;
	int64_t last_offset;
	int64_t timestamp;
};

/* One producer. batches[] is oldest first; a producer known only from a
 * transaction marker has none. */
struct pstate_producer {
	int64_t producer_id;
	int64_t last_timestamp;
	int64_t txn_first_offset;       /* its open transaction's first offset; -1: none */
	int64_t last_offset;            /* its last batch's or marker's last offset */
	int32_t coordinator_epoch;      /* of its last marker; -1: none yet */
	int16_t epoch;
	bool used;                      /* false: a free slot */
	uint8_t batch_count;
	struct pstate_batch batches[PSTATE_BATCHES];
};

/* A transaction of the partition, open (end_offset -1) or ended by a
 * marker the high watermark has not passed yet (Kafka's ongoingTxns and
 * unreplicatedTxns): both keep the partition's records from first_offset
 * on unstable. */
struct pstate_txn {
	int64_t first_offset;
	int64_t end_offset;             /* its marker's offset; -1: open */
	int64_t producer_id;
};

struct pstate {
	struct pstate_producer *slots;
	size_t slot_count;              /* power of two */
	size_t producer_count;
	/* txns[txn_head, txn_count): by first offset, ascending (a transaction
	 * opens at the log end, so it always goes last). */
	struct pstate_txn *txns;
	size_t txn_head;
	size_t txn_count;
	size_t txn_cap;
};

/* The producer's slot, or NULL. */
struct pstate_producer *pstate_find(const struct pstate *ps, int64_t producer_id);
/* Make room for one more producer: 0 or -ENOMEM. */
int pstate_room(struct pstate *ps);
/* A new producer's slot (after pstate_room()). */
struct pstate_producer *pstate_slot_new(struct pstate *ps, int64_t producer_id, int16_t epoch);
/* pstate_txn.c: forget the transactions opened at or past offset, reopen
 * those whose marker lies at or past it. */
void pstate_txn_truncate(struct pstate *ps, int64_t offset);
/* pstate_txn.c: the list of transactions from the producers' open ones
 * (after a snapshot load). 0 or -ENOMEM. */
int pstate_txn_rebuild(struct pstate *ps);

#endif
