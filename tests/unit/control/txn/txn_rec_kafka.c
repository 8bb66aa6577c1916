/* SPDX-License-Identifier: Apache-2.0 */
/* Compares control/txn/txn_rec.c with Kafka's own encoder: reads the
 * "name hex" lines KafkaTxnRecords.java prints (Kafka's generated
 * TransactionLogKey / TransactionLogValue classes, versions 0 and 1) and,
 * for each, checks that txn_rec encodes the same record to the same bytes
 * and decodes Kafka's bytes to the same fields. Every record of the table
 * must be seen once. Exit 0 when all match. Driven by
 * kafka_txn_rec_bytes.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/txn/txn_rec.h"

#define KR_TS 1700000000000LL
#define KR_LINE_BYTES_MAX 4096

struct kr_rec {
	const char *name;
	const char *key;                /* a key record, else a value */
	int16_t version;
	struct txn_rec_value value;
	bool seen;
};

static const int32_t kr_orders[] = { 0, 1, 2 };
static const int32_t kr_payments[] = { 5, 7 };
static const int32_t kr_minus_one[] = { -1 };
static const struct txn_rec_topic kr_two[] = {
	{ { "orders", 6 }, 3, kr_orders },
	{ { "payments", 8 }, 2, kr_payments },
};
static const struct txn_rec_topic kr_odd[] = { { { "", 0 }, 1, kr_minus_one } };

#define KR_VALUE(pid, epoch, timeout, st, count, topics_)                                \
	{ .producer_id = (pid), .previous_producer_id = -1, .next_producer_id = -1,      \
	  .producer_epoch = (epoch), .timeout_ms = (timeout), .state = (st),             \
	  .topic_count = (count), .topics = (topics_), .start_timestamp_ms = KR_TS,      \
	  .last_update_timestamp_ms = KR_TS + 1 }
#define KR_VALUES(v)                                                                   \
	{ "v" #v "-ongoing", NULL, v,                                                  \
	  KR_VALUE(4000, 3, 60000, TXN_REC_STATE_ONGOING, 2, kr_two), false },         \
	{ "v" #v "-prepare-commit", NULL, v,                                           \
	  KR_VALUE(4000, 3, 60000, TXN_REC_STATE_PREPARE_COMMIT, 2, kr_two), false },  \
	{ "v" #v "-complete-commit", NULL, v,                                          \
	  KR_VALUE(4000, 3, 60000, TXN_REC_STATE_COMPLETE_COMMIT, 0, NULL), false },   \
	{ "v" #v "-prepare-abort", NULL, v,                                            \
	  KR_VALUE(INT64_MAX, INT16_MAX, INT32_MAX, TXN_REC_STATE_PREPARE_ABORT, 1,    \
		   kr_odd), false },                                                   \
	{ "v" #v "-complete-abort", NULL, v,                                           \
	  KR_VALUE(0, 0, 1, TXN_REC_STATE_COMPLETE_ABORT, 0, NULL), false },           \
	{ "v" #v "-empty", NULL, v,                                                    \
	  KR_VALUE(4002, 9, 900000, TXN_REC_STATE_EMPTY, 0, NULL), false }

static struct kr_rec kr_recs[] = {
	{ "key-app-1", "app-1", 0, { 0 }, false },
	{ "key-utf8", "tx-\xc3\xa9", 0, { 0 }, false },
	KR_VALUES(0),
	KR_VALUES(1),
};
#define KR_RECS_COUNT (sizeof(kr_recs) / sizeof(kr_recs[0]))

/* hex into out (at most cap bytes); its length, or -1. */
static long
kr_unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex);

	if (n % 2 != 0 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned int b;

		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (uint8_t)b;
	}
	return (long)(n / 2);
}

static bool
kr_same_value(const struct txn_rec_value *a, const struct txn_rec_value *b)
{
	if (a->producer_id != b->producer_id || a->producer_epoch != b->producer_epoch ||
	    a->timeout_ms != b->timeout_ms || a->state != b->state ||
	    a->topic_count != b->topic_count ||
	    a->last_update_timestamp_ms != b->last_update_timestamp_ms ||
	    a->start_timestamp_ms != b->start_timestamp_ms ||
	    a->previous_producer_id != b->previous_producer_id ||
	    a->next_producer_id != b->next_producer_id ||
	    a->client_transaction_version != b->client_transaction_version)
		return false;
	for (int32_t i = 0; i < a->topic_count; i++) {
		const struct txn_rec_topic *x = &a->topics[i], *y = &b->topics[i];

		if (!kp_str_eq(x->topic, y->topic) || x->partition_count != y->partition_count)
			return false;
		for (int32_t j = 0; j < x->partition_count; j++)
			if (x->partitions[j] != y->partitions[j])
				return false;
	}
	return true;
}

/* Kafka's bytes decode to r's fields. */
static bool
kr_decodes(const struct kr_rec *r, const uint8_t *p, size_t len)
{
	struct txn_rec_value d;
	struct txn_rec_topic *block;
	struct kp_str id;
	bool same;

	if (r->key != NULL)
		return txn_rec_key_decode(p, len, &id) == TXN_REC_OK &&
		       kp_str_eq(id, kp_str_c(r->key));
	if (txn_rec_value_decode(p, len, &d, &block) != TXN_REC_OK)
		return false;
	same = d.version == r->version && kr_same_value(&r->value, &d);
	free(block);
	return same;
}

/* One line of Kafka's: 0 when txn_rec agrees both ways. */
static int
kr_check(const char *name, const uint8_t *kafka, size_t len)
{
	struct kr_rec *r = NULL;
	struct kp_writer w;
	bool same;

	for (size_t i = 0; i < KR_RECS_COUNT; i++)
		if (strcmp(kr_recs[i].name, name) == 0)
			r = &kr_recs[i];
	if (r == NULL || r->seen) {
		printf("FAIL %s: not in the table, or twice\n", name);
		return -1;
	}
	r->seen = true;
	kp_writer_init(&w, 128);
	if (r->key != NULL)
		txn_rec_key_encode(&w, kp_str_c(r->key));
	else
		txn_rec_value_encode(&w, r->version, &r->value);
	same = w.err == 0 && w.len == len && memcmp(w.buf, kafka, len) == 0;
	kp_writer_free(&w);
	if (!same) {
		printf("FAIL %s: txn_rec encodes other bytes than Kafka\n", name);
		return -1;
	}
	if (!kr_decodes(r, kafka, len)) {
		printf("FAIL %s: txn_rec decodes Kafka's bytes to other fields\n", name);
		return -1;
	}
	printf("ok %s (%zu bytes)\n", name, len);
	return 0;
}

int
main(void)
{
	static char line[KR_LINE_BYTES_MAX];
	static uint8_t bytes[KR_LINE_BYTES_MAX / 2];
	char name[64], hex[KR_LINE_BYTES_MAX];
	int fail = 0;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		long len;

		if (sscanf(line, "%63s %4095s", name, hex) != 2 ||
		    (len = kr_unhex(hex, bytes, sizeof(bytes))) < 0) {
			printf("FAIL: cannot read line: %s", line);
			fail = 1;
			continue;
		}
		if (kr_check(name, bytes, (size_t)len) != 0)
			fail = 1;
	}
	for (size_t i = 0; i < KR_RECS_COUNT; i++)
		if (!kr_recs[i].seen) {
			printf("FAIL %s: Kafka printed no such record\n", kr_recs[i].name);
			fail = 1;
		}
	return fail;
}
