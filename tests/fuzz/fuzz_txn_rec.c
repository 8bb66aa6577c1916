/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the __transaction_state record decoders
 * (control/txn/txn_rec.c). The input is decoded both as a key and as a
 * value. Oracles: no crash or sanitizer report (leaks included); a failed
 * decode allocates nothing; decoded strings and ids lie inside the input
 * and within their bounds; a decoded key re-encodes to the input's own
 * bytes; a decoded value in a state Kafka writes re-encodes at its version
 * to a value that decodes to the same fields, and at version 0 (a layout
 * with one encoding) to the input's own bytes unless Kafka's reader drops
 * something (an Empty value's partitions). Seeds (corpus/txn_rec): the
 * golden records of tests/unit/control/txn/test_txn_rec.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "control/txn/txn_rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_in_input(const void *p, int64_t len, const uint8_t *data, size_t size)
{
	const uint8_t *b = p;

	ASSERT(len >= 0);
	ASSERT(len == 0 || (b >= data && b + len <= data + size));
}

static void
fuzz_key(const uint8_t *data, size_t size)
{
	struct kp_str id;
	struct kp_writer w;

	if (txn_rec_key_decode(data, size, &id) != TXN_REC_OK) {
		ASSERT(id.len == -1);
		return;
	}
	fuzz_in_input(id.ptr, id.len, data, size);
	kp_writer_init(&w, 64);
	txn_rec_key_encode(&w, id);
	ASSERT(w.err == 0);
	if (!(w.len <= size && memcmp(w.buf, data, w.len) == 0))
		abort();
	kp_writer_free(&w);
}

static void
fuzz_same_value(const struct txn_rec_value *a, const struct txn_rec_value *b)
{
	ASSERT(a->version == b->version && a->producer_id == b->producer_id);
	ASSERT(a->producer_epoch == b->producer_epoch && a->timeout_ms == b->timeout_ms);
	ASSERT(a->state == b->state && a->topic_count == b->topic_count);
	ASSERT(a->last_update_timestamp_ms == b->last_update_timestamp_ms);
	ASSERT(a->start_timestamp_ms == b->start_timestamp_ms);
	ASSERT(a->previous_producer_id == b->previous_producer_id);
	ASSERT(a->next_producer_id == b->next_producer_id);
	ASSERT(a->client_transaction_version == b->client_transaction_version);
	for (int32_t i = 0; i < a->topic_count; i++) {
		const struct txn_rec_topic *x = &a->topics[i], *y = &b->topics[i];

		if (!kp_str_eq(x->topic, y->topic))
			abort();
		ASSERT(x->partition_count == y->partition_count);
		if (x->partition_count > 0 &&
		    memcmp(x->partitions, y->partitions,
			   (size_t)x->partition_count * sizeof(int32_t)) != 0)
			abort();
	}
}

/* The decoded value's topics: inside the input, within the bound. */
static void
fuzz_check_topics(const struct txn_rec_value *v, const uint8_t *data, size_t size)
{
	int64_t total = 0;

	ASSERT(v->topic_count >= 0 && v->topic_count <= TXN_REC_PARTITIONS_MAX);
	for (int32_t i = 0; i < v->topic_count; i++) {
		fuzz_in_input(v->topics[i].topic.ptr, v->topics[i].topic.len, data, size);
		ASSERT(v->topics[i].partition_count >= 0);
		total += v->topics[i].partition_count;
	}
	ASSERT(total <= TXN_REC_PARTITIONS_MAX);
	ASSERT(total * 4 <= (int64_t)size);
}

static void
fuzz_value(const uint8_t *data, size_t size)
{
	struct txn_rec_value v, d;
	struct txn_rec_topic *block, *block2;
	struct kp_writer w;

	if (txn_rec_value_decode(data, size, &v, &block) != TXN_REC_OK) {
		ASSERT(block == NULL);
		return;
	}
	ASSERT(v.version >= 0 && v.version <= TXN_REC_VALUE_VERSION_MAX);
	ASSERT(v.state >= 0 && v.state <= TXN_REC_STATE_MAX);
	ASSERT(v.state != TXN_REC_STATE_EMPTY || v.topic_count == 0);
	fuzz_check_topics(&v, data, size);
	if (v.state <= TXN_REC_STATE_COMPLETE_ABORT) {
		kp_writer_init(&w, 256);
		txn_rec_value_encode(&w, v.version, &v);
		ASSERT(w.err == 0);
		/* Not inside ASSERT: the decode must run with asserts off too. */
		if (txn_rec_value_decode(w.buf, w.len, &d, &block2) != TXN_REC_OK)
			abort();
		fuzz_same_value(&v, &d);
		/* Version 0 has one encoding: the input's own bytes, but for an
		 * Empty value's partitions, which the decoder drops. */
		if (v.version == 0 && (v.state != TXN_REC_STATE_EMPTY || data[17] == 0xff))
			if (!(w.len <= size && memcmp(w.buf, data, w.len) == 0))
				abort();
		free(block2);
		kp_writer_free(&w);
	}
	free(block);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_key(data, size);
	fuzz_value(data, size);
	return 0;
}
