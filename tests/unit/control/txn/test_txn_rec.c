/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/txn/txn_rec.c: golden bytes of the key and of values v0
 * and v1 worked out by hand from TransactionLogKey.json and
 * TransactionLogValue.json (int16 version first; v0 classic: int16 string
 * lengths, int32 array counts, -1 for null; v1 flexible: uvarint length+1,
 * 0 for null, a tagged-field section after each struct), round trips of
 * every state Kafka writes at every version, every truncation of a valid
 * record, oversized counts, bad tags, unknown versions and states, and no
 * memory (calloc wrapped at link time: -Wl,--wrap=calloc). */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "control/txn/txn_rec.h"

void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);

static bool calloc_fails;

/* Every calloc() of the code linked into this test (txn_rec.c's) fails
 * while calloc_fails is set; Criterion's and libc's own are not wrapped. */
void *
__wrap_calloc(size_t n, size_t size)
{
	return calloc_fails ? NULL : __real_calloc(n, size);
}

/* 1700000000000 and 1700000000123 ms, big-endian. */
#define TS_START 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00
#define TS_UPDATE 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b

static const uint8_t key_golden[] = {
	0x00, 0x00,                     /* version 0 */
	0x00, 0x02, 't', 'x',           /* transactional id */
};

static const uint8_t value_v0_golden[] = {
	0x00, 0x00,                                     /* version 0 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8, /* producer id 1000 */
	0x00, 0x05,                                     /* epoch 5 */
	0x00, 0x00, 0xea, 0x60,                         /* timeout 60000 */
	0x01,                                           /* Ongoing */
	0x00, 0x00, 0x00, 0x02,                         /* 2 topics */
	0x00, 0x01, 'a',                                /*   "a" */
	0x00, 0x00, 0x00, 0x02,                         /*   2 partitions */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, /*   0, 2 */
	0x00, 0x02, 'b', 'c',                           /*   "bc" */
	0x00, 0x00, 0x00, 0x01,                         /*   1 partition */
	0x00, 0x00, 0x00, 0x07,                         /*   7 */
	TS_UPDATE,                                      /* last update */
	TS_START,                                       /* start */
};

static const uint8_t value_v1_golden[] = {
	0x00, 0x01,                                     /* version 1 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8, /* producer id 1000 */
	0x00, 0x05,                                     /* epoch 5 */
	0x00, 0x00, 0xea, 0x60,                         /* timeout 60000 */
	0x01,                                           /* Ongoing */
	0x03,                                           /* 2 topics (+1) */
	0x02, 'a',                                      /*   "a" (+1) */
	0x03,                                           /*   2 partitions (+1) */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, /*   0, 2 */
	0x00,                                           /*   no tagged fields */
	0x03, 'b', 'c',                                 /*   "bc" */
	0x02,                                           /*   1 partition */
	0x00, 0x00, 0x00, 0x07,                         /*   7 */
	0x00,                                           /*   no tagged fields */
	TS_UPDATE,                                      /* last update */
	TS_START,                                       /* start */
	0x02,                                           /* 2 tagged fields */
	0x00, 0x08,                                     /* tag 0, 8 bytes: */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe7, /*   previous pid 999 */
	0x02, 0x02, 0x00, 0x02,                         /* tag 2, 2 bytes: ctv 2 */
};

static const int32_t parts_a[] = { 0, 2 };
static const int32_t parts_bc[] = { 7 };
static const struct txn_rec_topic golden_topics[] = {
	{ { "a", 1 }, 2, parts_a },
	{ { "bc", 2 }, 1, parts_bc },
};

static struct txn_rec_value
golden_value(void)
{
	struct txn_rec_value v = {
		.producer_id = 1000, .previous_producer_id = 999, .next_producer_id = -1,
		.last_update_timestamp_ms = 1700000000123LL, .start_timestamp_ms = 1700000000000LL,
		.timeout_ms = 60000, .topic_count = 2, .topics = golden_topics,
		.producer_epoch = 5, .client_transaction_version = 2,
		.state = TXN_REC_STATE_ONGOING,
	};

	return v;
}

static void
assert_encodes(int16_t version, const struct txn_rec_value *v, const uint8_t *golden,
	       size_t golden_len)
{
	struct kp_writer w;

	kp_writer_init(&w, 16);
	txn_rec_value_encode(&w, version, v);
	cr_assert_eq(w.err, 0);
	cr_assert_eq(w.len, golden_len, "v%d: %zu bytes, want %zu", version, w.len, golden_len);
	cr_assert_eq(memcmp(w.buf, golden, golden_len), 0, "v%d bytes differ", version);
	kp_writer_free(&w);
}

/* Decodes p as a value: the result; *d and its topics block (freed by the
 * caller through *block). */
static int
decode(const uint8_t *p, size_t len, struct txn_rec_value *d, struct txn_rec_topic **block)
{
	int rc = txn_rec_value_decode(p, len, d, block);

	if (rc != TXN_REC_OK)
		cr_assert_null(*block);
	return rc;
}

static void
assert_topics_golden(const struct txn_rec_value *d)
{
	cr_assert_eq(d->topic_count, 2);
	cr_assert(kp_str_eq(d->topics[0].topic, kp_str_c("a")));
	cr_assert_eq(d->topics[0].partition_count, 2);
	cr_assert_eq(d->topics[0].partitions[0], 0);
	cr_assert_eq(d->topics[0].partitions[1], 2);
	cr_assert(kp_str_eq(d->topics[1].topic, kp_str_c("bc")));
	cr_assert_eq(d->topics[1].partition_count, 1);
	cr_assert_eq(d->topics[1].partitions[0], 7);
}

static void
assert_head_golden(const struct txn_rec_value *d)
{
	cr_assert_eq(d->producer_id, 1000);
	cr_assert_eq(d->producer_epoch, 5);
	cr_assert_eq(d->timeout_ms, 60000);
	cr_assert_eq(d->state, TXN_REC_STATE_ONGOING);
	cr_assert_eq(d->last_update_timestamp_ms, 1700000000123LL);
	cr_assert_eq(d->start_timestamp_ms, 1700000000000LL);
}

/* Every strict prefix of p is refused and allocates nothing. */
static void
assert_truncations_refused(const uint8_t *p, size_t len)
{
	struct txn_rec_value d;
	struct txn_rec_topic *block;

	for (size_t n = 0; n < len; n++)
		cr_assert_eq(decode(p, n, &d, &block), TXN_REC_MALFORMED, "prefix of %zu", n);
}

Test(txn_rec, key_golden_decode_and_truncations)
{
	struct kp_writer w;
	struct kp_str id;

	kp_writer_init(&w, 8);
	txn_rec_key_encode(&w, kp_str_c("tx"));
	cr_assert_eq(w.err, 0);
	cr_assert_eq(w.len, sizeof(key_golden));
	cr_assert_eq(memcmp(w.buf, key_golden, w.len), 0);
	kp_writer_free(&w);
	cr_assert_eq(txn_rec_key_decode(key_golden, sizeof(key_golden), &id), TXN_REC_OK);
	cr_assert(kp_str_eq(id, kp_str_c("tx")));
	cr_assert_eq((const uint8_t *)id.ptr, key_golden + 4, "zero-copy");
	for (size_t n = 0; n < sizeof(key_golden); n++) {
		cr_assert_eq(txn_rec_key_decode(key_golden, n, &id), TXN_REC_MALFORMED,
			     "len %zu", n);
		cr_assert_eq(id.len, -1);
	}
}

Test(txn_rec, key_unknown_version_and_null_id)
{
	static const uint8_t v1[] = { 0x00, 0x01, 0x00, 0x01, 'x' };
	static const uint8_t neg[] = { 0xff, 0xff, 0x00, 0x01, 'x' };
	static const uint8_t null_id[] = { 0x00, 0x00, 0xff, 0xff };
	static const uint8_t bad_len[] = { 0x00, 0x00, 0xff, 0xfe };
	static const uint8_t empty_id[] = { 0x00, 0x00, 0x00, 0x00 };
	struct kp_str id;

	cr_assert_eq(txn_rec_key_decode(v1, sizeof(v1), &id), TXN_REC_UNKNOWN_VERSION);
	cr_assert_eq(txn_rec_key_decode(neg, sizeof(neg), &id), TXN_REC_UNKNOWN_VERSION);
	cr_assert_eq(txn_rec_key_decode(null_id, sizeof(null_id), &id), TXN_REC_MALFORMED);
	cr_assert_eq(txn_rec_key_decode(bad_len, sizeof(bad_len), &id), TXN_REC_MALFORMED);
	cr_assert_eq(txn_rec_key_decode(empty_id, sizeof(empty_id), &id), TXN_REC_OK);
	cr_assert_eq(id.len, 0);
}

Test(txn_rec, value_v0_golden)
{
	struct txn_rec_value v = golden_value(), d;
	struct txn_rec_topic *block;

	assert_encodes(0, &v, value_v0_golden, sizeof(value_v0_golden));
	cr_assert_eq(decode(value_v0_golden, sizeof(value_v0_golden), &d, &block), TXN_REC_OK);
	cr_assert_eq(d.version, 0);
	assert_head_golden(&d);
	assert_topics_golden(&d);
	/* v0 has no tagged fields: the defaults. */
	cr_assert_eq(d.previous_producer_id, -1);
	cr_assert_eq(d.next_producer_id, -1);
	cr_assert_eq(d.client_transaction_version, 0);
	cr_assert_eq((const uint8_t *)d.topics[1].topic.ptr, value_v0_golden + 38, "zero-copy");
	cr_assert_eq(block, d.topics);
	free(block);
	assert_truncations_refused(value_v0_golden, sizeof(value_v0_golden));
}

Test(txn_rec, value_v1_golden_with_tags)
{
	struct txn_rec_value v = golden_value(), d;
	struct txn_rec_topic *block;

	assert_encodes(1, &v, value_v1_golden, sizeof(value_v1_golden));
	cr_assert_eq(decode(value_v1_golden, sizeof(value_v1_golden), &d, &block), TXN_REC_OK);
	cr_assert_eq(d.version, 1);
	assert_head_golden(&d);
	assert_topics_golden(&d);
	cr_assert_eq(d.previous_producer_id, 999);
	cr_assert_eq(d.next_producer_id, -1);
	cr_assert_eq(d.client_transaction_version, 2);
	free(block);
	assert_truncations_refused(value_v1_golden, sizeof(value_v1_golden));
}

Test(txn_rec, value_empty_writes_a_null_array)
{
	static const uint8_t v0[] = {
		0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0x2a, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8,
		0x00,                           /* Empty */
		0xff, 0xff, 0xff, 0xff,         /* null partitions */
		0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x02,
	};
	static const uint8_t v1[] = {
		0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x2a, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8,
		0x00,                           /* Empty */
		0x00,                           /* null partitions */
		0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x02,
		0x01, 0x01, 0x08, 0, 0, 0, 0, 0, 0, 0, 0x2b,    /* next pid 43 */
	};
	struct txn_rec_value v = {
		.producer_id = 42, .previous_producer_id = -1, .next_producer_id = 43,
		.last_update_timestamp_ms = 1, .start_timestamp_ms = 2, .timeout_ms = 1000,
		.state = TXN_REC_STATE_EMPTY,
	}, d;
	struct txn_rec_topic *block;

	assert_encodes(0, &v, v0, sizeof(v0));
	assert_encodes(1, &v, v1, sizeof(v1));
	cr_assert_eq(decode(v0, sizeof(v0), &d, &block), TXN_REC_OK);
	cr_assert_eq(d.topic_count, 0);
	cr_assert_null(d.topics);
	cr_assert_null(block);
	cr_assert_eq(decode(v1, sizeof(v1), &d, &block), TXN_REC_OK);
	cr_assert_eq(d.next_producer_id, 43);
	cr_assert_eq(d.state, TXN_REC_STATE_EMPTY);
	assert_truncations_refused(v0, sizeof(v0));
	assert_truncations_refused(v1, sizeof(v1));
}

/* An Empty value whose array is not null: Kafka's loader reads the array
 * and ignores it; a null array in any other state is an error there. */
Test(txn_rec, value_empty_ignores_partitions_others_need_them)
{
	uint8_t p[sizeof(value_v0_golden)];
	uint8_t null_parts[] = {
		0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1,
		0x04,                           /* CompleteCommit */
		0xff, 0xff, 0xff, 0xff,
		0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2,
	};
	struct txn_rec_value d;
	struct txn_rec_topic *block;

	memcpy(p, value_v0_golden, sizeof(p));
	p[16] = TXN_REC_STATE_EMPTY;
	cr_assert_eq(decode(p, sizeof(p), &d, &block), TXN_REC_OK);
	cr_assert_eq(d.topic_count, 0);
	cr_assert_null(block);
	p[16] = TXN_REC_STATE_COMPLETE_ABORT;
	cr_assert_eq(decode(p, sizeof(p), &d, &block), TXN_REC_OK);
	cr_assert_eq(d.topic_count, 2);
	free(block);
	cr_assert_eq(decode(null_parts, sizeof(null_parts), &d, &block), TXN_REC_MALFORMED);
}

static void
assert_same_topics(const struct txn_rec_value *v, const struct txn_rec_value *d)
{
	cr_assert_eq(d->topic_count, v->topic_count);
	for (int32_t i = 0; i < d->topic_count; i++) {
		const struct txn_rec_topic *a = &v->topics[i], *b = &d->topics[i];

		cr_assert(kp_str_eq(a->topic, b->topic));
		cr_assert_eq(a->partition_count, b->partition_count);
		for (int32_t j = 0; j < a->partition_count; j++)
			cr_assert_eq(a->partitions[j], b->partitions[j]);
	}
}

/* v encoded at version decodes to the same fields (the tagged ones at
 * their defaults in v0), and every prefix of its bytes is refused. */
static void
assert_round_trip(int16_t version, const struct txn_rec_value *v)
{
	struct txn_rec_value d;
	struct txn_rec_topic *block;
	struct kp_writer w;

	kp_writer_init(&w, 16);
	txn_rec_value_encode(&w, version, v);
	cr_assert_eq(w.err, 0);
	cr_assert_eq(decode(w.buf, w.len, &d, &block), TXN_REC_OK, "v%d state %d topics %d",
		     version, v->state, v->topic_count);
	cr_assert_eq(d.version, version);
	cr_assert_eq(d.producer_id, v->producer_id);
	cr_assert_eq(d.producer_epoch, v->producer_epoch);
	cr_assert_eq(d.timeout_ms, v->timeout_ms);
	cr_assert_eq(d.state, v->state);
	cr_assert_eq(d.last_update_timestamp_ms, v->last_update_timestamp_ms);
	cr_assert_eq(d.start_timestamp_ms, v->start_timestamp_ms);
	cr_assert_eq(d.previous_producer_id, version ? v->previous_producer_id : -1);
	cr_assert_eq(d.next_producer_id, version ? v->next_producer_id : -1);
	cr_assert_eq(d.client_transaction_version, version ? v->client_transaction_version : 0);
	assert_same_topics(v, &d);
	free(block);
	assert_truncations_refused(w.buf, w.len);
	kp_writer_free(&w);
}

/* Every state Kafka writes at every version, with no topics, one topic
 * with no partition, and several topics and partitions. */
Test(txn_rec, value_round_trips)
{
	static const int32_t ids[] = { 5, 0, 3, 2147483647, 9 };
	static const struct txn_rec_topic one[] = { { { "x", 1 }, 0, NULL } };
	static const struct txn_rec_topic three[] = {
		{ { "alpha", 5 }, 3, ids }, { { "__consumer_offsets", 18 }, 1, ids + 3 },
		{ { "", 0 }, 1, ids + 4 },
	};
	static const struct txn_rec_topic *const shapes[] = { NULL, one, three };
	static const int32_t shape_counts[] = { 0, 1, 3 };

	for (int16_t version = 0; version <= TXN_REC_VALUE_VERSION_MAX; version++) {
		for (int8_t st = 0; st <= TXN_REC_STATE_COMPLETE_ABORT; st++) {
			for (int s = 0; s < 3; s++) {
				struct txn_rec_value v = {
					.producer_id = 1LL << 40 | st,
					.previous_producer_id = st - 1, .next_producer_id = 7,
					.last_update_timestamp_ms = -5,
					.start_timestamp_ms = 123456789012LL, .timeout_ms = 900000,
					.producer_epoch = 32766, .client_transaction_version = 1,
					.state = st, .topics = shapes[s],
					.topic_count = st == 0 ? 0 : shape_counts[s],
				};

				assert_round_trip(version, &v);
			}
		}
	}
}

Test(txn_rec, value_unknown_versions)
{
	static const int16_t versions[] = { 2, 3, 0x7fff, -1, -32768 };
	uint8_t p[sizeof(value_v0_golden)];
	struct txn_rec_value d;
	struct txn_rec_topic *block;

	memcpy(p, value_v0_golden, sizeof(p));
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		p[0] = (uint8_t)((uint16_t)versions[i] >> 8);
		p[1] = (uint8_t)versions[i];
		cr_assert_eq(decode(p, sizeof(p), &d, &block), TXN_REC_UNKNOWN_VERSION,
			     "version %d", versions[i]);
	}
}

Test(txn_rec, value_states)
{
	uint8_t p[sizeof(value_v0_golden)];
	struct txn_rec_value d;
	struct txn_rec_topic *block;

	memcpy(p, value_v0_golden, sizeof(p));
	for (int st = 0; st < 256; st++) {
		int8_t s = (int8_t)st;

		p[16] = (uint8_t)st;
		cr_assert_eq(decode(p, sizeof(p), &d, &block),
			     s >= 0 && s <= TXN_REC_STATE_MAX ? TXN_REC_OK : TXN_REC_MALFORMED,
			     "state %d", s);
		free(block);
	}
	cr_assert_str_eq(txn_rec_state_name(TXN_REC_STATE_EMPTY), "Empty");
	cr_assert_str_eq(txn_rec_state_name(TXN_REC_STATE_PREPARE_COMMIT), "PrepareCommit");
	cr_assert_str_eq(txn_rec_state_name(TXN_REC_STATE_COMPLETE_ABORT), "CompleteAbort");
	cr_assert_str_eq(txn_rec_state_name(TXN_REC_STATE_PREPARE_EPOCH_FENCE),
			 "PrepareEpochFence");
	cr_assert_str_eq(txn_rec_state_name(8), "Unknown");
	cr_assert_str_eq(txn_rec_state_name(-1), "Unknown");
}

/* Set the 4 bytes at p[at] to v, big-endian. */
static void
put32(uint8_t *p, size_t at, uint32_t v)
{
	p[at] = (uint8_t)(v >> 24);
	p[at + 1] = (uint8_t)(v >> 16);
	p[at + 2] = (uint8_t)(v >> 8);
	p[at + 3] = (uint8_t)v;
}

Test(txn_rec, value_oversized_counts)
{
	static const uint32_t counts[] = { 3, 100, 0x7fffffff, 0x80000000, 0xfffffffe };
	uint8_t p[sizeof(value_v0_golden)];
	struct txn_rec_value d;
	struct txn_rec_topic *block;

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		/* The topic count (at 17), then the first topic's partitions (at 24). */
		memcpy(p, value_v0_golden, sizeof(p));
		put32(p, 17, counts[i]);
		cr_assert_eq(decode(p, sizeof(p), &d, &block), TXN_REC_MALFORMED, "%u", counts[i]);
		memcpy(p, value_v0_golden, sizeof(p));
		put32(p, 24, counts[i]);
		cr_assert_eq(decode(p, sizeof(p), &d, &block), TXN_REC_MALFORMED, "%u", counts[i]);
	}
	/* Null PartitionIds and a null topic name: not nullable. */
	memcpy(p, value_v0_golden, sizeof(p));
	put32(p, 24, 0xffffffff);
	cr_assert_eq(decode(p, sizeof(p), &d, &block), TXN_REC_MALFORMED);
	memcpy(p, value_v0_golden, sizeof(p));
	p[21] = p[22] = 0xff;
	cr_assert_eq(decode(p, sizeof(p), &d, &block), TXN_REC_MALFORMED);
}

/* One topic holding n partition ids (all present in the bytes): v0. */
static uint8_t *
many_partitions(int32_t n, size_t *len)
{
	size_t cap = 17 + 4 + 3 + 4 + (size_t)n * 4 + 16;
	uint8_t *p = calloc(1, cap);

	cr_assert_not_null(p);
	memcpy(p, value_v0_golden, 17);
	put32(p, 17, 1);
	p[21] = 0x00;
	p[22] = 0x01;
	p[23] = 'a';
	put32(p, 24, (uint32_t)n);
	for (int32_t i = 0; i < n; i++)
		put32(p, 28 + 4 * (size_t)i, (uint32_t)i);
	*len = cap;
	return p;
}

Test(txn_rec, value_partition_bound)
{
	struct txn_rec_value d;
	struct txn_rec_topic *block;
	size_t len;
	uint8_t *p = many_partitions(TXN_REC_PARTITIONS_MAX, &len);

	cr_assert_eq(decode(p, len, &d, &block), TXN_REC_OK);
	cr_assert_eq(d.topics[0].partition_count, TXN_REC_PARTITIONS_MAX);
	cr_assert_eq(d.topics[0].partitions[TXN_REC_PARTITIONS_MAX - 1],
		     TXN_REC_PARTITIONS_MAX - 1);
	free(block);
	free(p);
	p = many_partitions(TXN_REC_PARTITIONS_MAX + 1, &len);
	cr_assert_eq(decode(p, len, &d, &block), TXN_REC_MALFORMED);
	free(p);
}

/* The bound is over all topics: two topics of MAX/2 + 1 ids each. */
Test(txn_rec, value_partition_bound_across_topics)
{
	int32_t half = TXN_REC_PARTITIONS_MAX / 2 + 1;
	int32_t *ids = calloc((size_t)half, sizeof(*ids));
	struct txn_rec_topic t[2] = { { { "a", 1 }, half, ids }, { { "b", 1 }, half - 2, ids } };
	struct txn_rec_value v = golden_value(), d;
	struct txn_rec_topic *block;
	struct kp_writer w;
	size_t at;

	cr_assert_not_null(ids);
	v.topics = t;
	kp_writer_init(&w, 1 << 20);
	txn_rec_value_encode(&w, 0, &v);        /* MAX in all: fine */
	cr_assert_eq(w.err, 0);
	cr_assert_eq(decode(w.buf, w.len, &d, &block), TXN_REC_OK);
	free(block);
	/* The second topic's count one higher: past the bound, bytes present. */
	at = 17 + 4 + 3 + 4 + (size_t)half * 4 + 3;
	cr_assert_eq(w.buf[at - 1], 'b');
	put32(w.buf, at, (uint32_t)(half - 1));
	kp_write_i32(&w, 0);
	cr_assert_eq(decode(w.buf, w.len, &d, &block), TXN_REC_MALFORMED);
	kp_writer_free(&w);
	free(ids);
}

Test(txn_rec, value_v1_counts_and_tags)
{
	uint8_t p[sizeof(value_v1_golden) + 8];
	size_t tags = sizeof(value_v1_golden) - 15;     /* the tag count */
	struct txn_rec_value d;
	struct txn_rec_topic *block;

	cr_assert_eq(value_v1_golden[tags], 0x02);
	/* A compact count past the bytes left: uvarint 0x7f, then 5 bytes. */
	memcpy(p, value_v1_golden, sizeof(value_v1_golden));
	p[17] = 0x7f;
	cr_assert_eq(decode(p, sizeof(value_v1_golden), &d, &block), TXN_REC_MALFORMED);
	memcpy(p, value_v1_golden, sizeof(value_v1_golden));
	p[20] = 0x7f;                           /* "a"'s partitions */
	cr_assert_eq(decode(p, sizeof(value_v1_golden), &d, &block), TXN_REC_MALFORMED);
	/* A tag count above what the bytes can hold. */
	memcpy(p, value_v1_golden, sizeof(value_v1_golden));
	p[tags] = 0x7f;
	cr_assert_eq(decode(p, sizeof(value_v1_golden), &d, &block), TXN_REC_MALFORMED);
	/* Tag 0 with 4 bytes instead of 8. */
	memcpy(p, value_v1_golden, sizeof(value_v1_golden));
	p[tags + 2] = 0x04;
	cr_assert_eq(decode(p, sizeof(value_v1_golden), &d, &block), TXN_REC_MALFORMED);
	/* Tags out of order (2 then 0). */
	memcpy(p, value_v1_golden, sizeof(value_v1_golden));
	memcpy(p + tags + 1, (const uint8_t[]){ 0x02, 0x02, 0x00, 0x02, 0x00, 0x08 }, 6);
	memcpy(p + tags + 7, value_v1_golden + tags + 3, 8);
	cr_assert_eq(decode(p, sizeof(value_v1_golden), &d, &block), TXN_REC_MALFORMED);
	/* An unknown tag (9) after the known ones is skipped. */
	memcpy(p, value_v1_golden, sizeof(value_v1_golden));
	p[tags] = 0x03;
	memcpy(p + sizeof(value_v1_golden), (const uint8_t[]){ 0x09, 0x02, 0xab, 0xcd }, 4);
	cr_assert_eq(decode(p, sizeof(value_v1_golden) + 4, &d, &block), TXN_REC_OK);
	cr_assert_eq(d.previous_producer_id, 999);
	cr_assert_eq(d.client_transaction_version, 2);
	free(block);
	/* An unknown tag in topic "a"'s own section (at 29) is skipped too. */
	cr_assert_eq(value_v1_golden[29], 0x00);
	memcpy(p, value_v1_golden, 29);
	memcpy(p + 29, (const uint8_t[]){ 0x01, 0x05, 0x01, 0xff }, 4);
	memcpy(p + 33, value_v1_golden + 30, sizeof(value_v1_golden) - 30);
	cr_assert_eq(decode(p, sizeof(value_v1_golden) + 3, &d, &block), TXN_REC_OK);
	assert_topics_golden(&d);
	free(block);
}

Test(txn_rec, encode_refuses_strings_kafka_cannot_carry)
{
	static char big[0x8000];
	struct txn_rec_topic t = { { big, (int32_t)sizeof(big) }, 0, NULL };
	struct txn_rec_value v = golden_value();
	struct kp_writer w;

	memset(big, 'x', sizeof(big));
	kp_writer_init(&w, 16);
	txn_rec_key_encode(&w, (struct kp_str){ big, (int32_t)sizeof(big) });
	cr_assert_neq(w.err, 0);
	kp_writer_free(&w);
	v.topic_count = 1;
	v.topics = &t;
	for (int16_t version = 0; version <= 1; version++) {
		kp_writer_init(&w, 16);
		txn_rec_value_encode(&w, version, &v);
		cr_assert_neq(w.err, 0, "v%d", version);
		kp_writer_free(&w);
	}
}

Test(txn_rec, value_no_memory)
{
	static const uint8_t empty[] = {
		0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1,
		0x00, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2,
	};
	struct txn_rec_value d;
	struct txn_rec_topic *block;

	calloc_fails = true;
	cr_assert_eq(decode(value_v0_golden, sizeof(value_v0_golden), &d, &block), TXN_REC_NOMEM);
	cr_assert_eq(decode(value_v1_golden, sizeof(value_v1_golden), &d, &block), TXN_REC_NOMEM);
	/* No topics, nothing to allocate. */
	cr_assert_eq(decode(empty, sizeof(empty), &d, &block), TXN_REC_OK);
	calloc_fails = false;
	cr_assert_eq(decode(value_v0_golden, sizeof(value_v0_golden), &d, &block), TXN_REC_OK);
	free(block);
}
