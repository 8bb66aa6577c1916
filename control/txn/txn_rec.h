/* SPDX-License-Identifier: Apache-2.0 */
/* The records of __transaction_state as Kafka lays them out
 * (shared/kafka-protocol/internal-records/): TransactionLogKey v0 and
 * TransactionLogValue v0-1 (v1 is flexible: compact strings and arrays,
 * tagged fields). Hand-written over kp_read_* / kp_write_*, bounded;
 * decoding leaves strings in the input and puts the topics and partition
 * ids in one allocation sized by a validating first pass. It owns no state
 * and knows nothing of the coordinator or the log. @thread control */
#ifndef CONTROL_TXN_TXN_REC_H
#define CONTROL_TXN_TXN_REC_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/kp_wire.h"

/* The only key version (it doubles as the record type). */
#define TXN_REC_KEY_VERSION 0
/* Highest value version decoded (Kafka 4.x knows 0-1). */
#define TXN_REC_VALUE_VERSION_MAX 1
/* What Kafka 3.9 writes: version 0 until the transaction.version feature is
 * finalized above 0 (TransactionStateManager.usesFlexibleRecords). */
#define TXN_REC_VALUE_VERSION_WRITE 0
/* Partition ids one value may carry, over all its topics (and the bound on
 * its topic count). A transaction adds partitions one request at a time and
 * the coordinator must refuse to grow one past this; 4 bytes per id, so a
 * record of the default max.message.bytes (1 MiB) never holds more. */
#define TXN_REC_PARTITIONS_MAX (1 << 18)

/* Kafka's TransactionState ids (TransactionMetadata.scala). Kafka writes
 * 0-5; Dead becomes a tombstone (null value) and PrepareEpochFence is only
 * ever held in memory, but its loader accepts both ids. */
enum txn_rec_state {
	TXN_REC_STATE_EMPTY = 0,
	TXN_REC_STATE_ONGOING = 1,
	TXN_REC_STATE_PREPARE_COMMIT = 2,
	TXN_REC_STATE_PREPARE_ABORT = 3,
	TXN_REC_STATE_COMPLETE_COMMIT = 4,
	TXN_REC_STATE_COMPLETE_ABORT = 5,
	TXN_REC_STATE_DEAD = 6,
	TXN_REC_STATE_PREPARE_EPOCH_FENCE = 7,
};
#define TXN_REC_STATE_MAX TXN_REC_STATE_PREPARE_EPOCH_FENCE

/* Decoding results. */
enum {
	TXN_REC_OK = 0,
	TXN_REC_UNKNOWN_VERSION = -1,   /* a version we do not know: key skipped,
					 * value refused, as Kafka's loader does */
	TXN_REC_MALFORMED = -2,
	TXN_REC_NOMEM = -3,             /* value: no memory for its topics */
};

/* One topic of a transaction and its partitions. */
struct txn_rec_topic {
	struct kp_str topic;
	int32_t partition_count;
	const int32_t *partitions;
};

struct txn_rec_value {
	int64_t producer_id;
	int64_t previous_producer_id;   /* v1 tag 0; -1 when absent */
	int64_t next_producer_id;       /* v1 tag 1; -1 when absent */
	int64_t last_update_timestamp_ms;
	int64_t start_timestamp_ms;
	int32_t timeout_ms;
	int32_t topic_count;            /* Empty: 0, written as a null array */
	const struct txn_rec_topic *topics;
	int16_t producer_epoch;
	int16_t client_transaction_version;     /* v1 tag 2; 0 when absent */
	int16_t version;                /* decode: the version read */
	int8_t state;                   /* enum txn_rec_state */
};

/* Kafka's name of a state ("Ongoing", ...), as DescribeTransactions and
 * DumpLogSegments print it; "Unknown" outside 0..TXN_REC_STATE_MAX. */
const char *txn_rec_state_name(int state);

/* TransactionLogKey v0: int16 version, string transactional id. */
void txn_rec_key_encode(struct kp_writer *w, struct kp_str transactional_id);
/* TXN_REC_OK with *transactional_id pointing into p; TXN_REC_UNKNOWN_VERSION
 * (a record type from a newer Kafka, to skip) or TXN_REC_MALFORMED. Bytes
 * after the key are ignored, as Kafka's reader ignores them. */
int txn_rec_key_decode(const uint8_t *p, size_t len, struct kp_str *transactional_id);

/* TransactionLogValue at version 0 or 1 (TXN_REC_VALUE_VERSION_WRITE is
 * Kafka 3.9's). The Empty state writes a null partition array and must have
 * no topics; version 0 drops the tagged fields (Kafka keeps them in memory
 * only), version 1 writes those that differ from their defaults. States
 * must be ones Kafka writes (0-5), the topics' partition ids at most
 * TXN_REC_PARTITIONS_MAX. Errors (a string too long) land in w->err. */
void txn_rec_value_encode(struct kp_writer *w, int16_t version, const struct txn_rec_value *v);
/* Version 0 or 1. On TXN_REC_OK, v->topics points to *topics, one block
 * calloc()ed here (NULL when there are none) that the caller frees; topic
 * names point into p. An Empty value has no topics whatever its array
 * holds (Kafka's loader ignores it), any other state needs a non-null
 * array; duplicates are kept as read (Kafka's loader adds them to a set).
 * TXN_REC_UNKNOWN_VERSION, TXN_REC_MALFORMED (including a state id Kafka
 * does not know or too many partitions) and TXN_REC_NOMEM leave *topics
 * NULL.
 * Bytes after the value are ignored, as Kafka's reader ignores them. */
int txn_rec_value_decode(const uint8_t *p, size_t len, struct txn_rec_value *v,
			 struct txn_rec_topic **topics);

#endif
