/* SPDX-License-Identifier: Apache-2.0 */
/* Encode and decode the __transaction_state records (txn_rec.h). Encoding
 * writes what Kafka's TransactionLog.valueToBytes writes; decoding reads
 * every version Kafka 4.x knows through the bounded cursor, trusting no
 * length or count, and allocates only after the whole value checked out.
 * It owns no state. @thread control */
#include "control/txn/txn_rec.h"

#include <stdbool.h>
#include <stdlib.h>

#include "common/assert.h"

/* Tags of TransactionLogValue v1+. */
#define TXN_REC_TAG_PREVIOUS_PRODUCER_ID 0
#define TXN_REC_TAG_NEXT_PRODUCER_ID 1
#define TXN_REC_TAG_CLIENT_TRANSACTION_VERSION 2

/* Kafka's strings, compact or not, are at most this long. */
#define TXN_REC_STRING_BYTES_MAX 0x7fff

_Static_assert(TXN_REC_PARTITIONS_MAX <= KP_ARRAY_COUNT_MAX,
	       "the partition bound is within the wire's array bound");
_Static_assert((int64_t)TXN_REC_PARTITIONS_MAX * 4 <= INT32_MAX,
	       "the ids of one value fit an int32 byte count");

static const char *const txn_rec_state_names[TXN_REC_STATE_MAX + 1] = {
	[TXN_REC_STATE_EMPTY] = "Empty",
	[TXN_REC_STATE_ONGOING] = "Ongoing",
	[TXN_REC_STATE_PREPARE_COMMIT] = "PrepareCommit",
	[TXN_REC_STATE_PREPARE_ABORT] = "PrepareAbort",
	[TXN_REC_STATE_COMPLETE_COMMIT] = "CompleteCommit",
	[TXN_REC_STATE_COMPLETE_ABORT] = "CompleteAbort",
	[TXN_REC_STATE_DEAD] = "Dead",
	[TXN_REC_STATE_PREPARE_EPOCH_FENCE] = "PrepareEpochFence",
};

const char *
txn_rec_state_name(int state)
{
	if (state < 0 || state > TXN_REC_STATE_MAX)
		return "Unknown";
	return txn_rec_state_names[state];
}

/* A non-nullable string Kafka can carry (its writers refuse longer ones). */
static void
txn_rec_write_str(struct kp_writer *w, struct kp_str s, bool flexible)
{
	ASSERT(s.len >= 0);
	if (s.len > TXN_REC_STRING_BYTES_MAX) {
		kp_writer_fail(w, KP_WIRE_LIMIT);
		return;
	}
	kp_write_string(w, s, flexible);
}

/* A non-nullable string field: null or longer than Kafka allows is
 * malformed. */
static struct kp_str
txn_rec_read_str(struct kp_cursor *c, bool flexible)
{
	struct kp_str s = kp_read_string(c, flexible);

	if (c->err == KP_WIRE_OK && s.len < 0)
		kp_cursor_fail(c, KP_WIRE_INVALID);
	if (c->err == KP_WIRE_OK && s.len > TXN_REC_STRING_BYTES_MAX)
		kp_cursor_fail(c, KP_WIRE_LIMIT);
	return s;
}

void
txn_rec_key_encode(struct kp_writer *w, struct kp_str transactional_id)
{
	kp_write_i16(w, TXN_REC_KEY_VERSION);
	txn_rec_write_str(w, transactional_id, false);
}

int
txn_rec_key_decode(const uint8_t *p, size_t len, struct kp_str *transactional_id)
{
	struct kp_cursor c = kp_cursor_make(p, len);
	int16_t version = kp_read_i16(&c);
	struct kp_str id;

	*transactional_id = (struct kp_str){ NULL, -1 };
	if (c.err != KP_WIRE_OK)
		return TXN_REC_MALFORMED;
	if (version != TXN_REC_KEY_VERSION)
		return TXN_REC_UNKNOWN_VERSION;
	id = txn_rec_read_str(&c, false);
	if (c.err != KP_WIRE_OK)
		return TXN_REC_MALFORMED;
	*transactional_id = id;
	return TXN_REC_OK;
}

static void
txn_rec_topic_encode(struct kp_writer *w, bool flexible, const struct txn_rec_topic *t)
{
	ASSERT(t->partition_count >= 0);
	ASSERT(t->partition_count == 0 || t->partitions != NULL);
	txn_rec_write_str(w, t->topic, flexible);
	kp_write_array_len(w, t->partition_count, flexible);
	for (int32_t i = 0; i < t->partition_count; i++)
		kp_write_i32(w, t->partitions[i]);
	if (flexible)
		kp_write_uvarint(w, 0);         /* no tagged fields */
}

/* The value's tagged fields: those that differ from their defaults, in tag
 * order, as Kafka's generated writer does. */
static void
txn_rec_tags_encode(struct kp_writer *w, const struct txn_rec_value *v)
{
	bool prev = v->previous_producer_id != -1;
	bool next = v->next_producer_id != -1;
	bool ctv = v->client_transaction_version != 0;
	size_t at;

	kp_write_uvarint(w, (uint32_t)prev + (uint32_t)next + (uint32_t)ctv);
	if (prev) {
		at = kp_write_tagged_begin(w, TXN_REC_TAG_PREVIOUS_PRODUCER_ID);
		kp_write_i64(w, v->previous_producer_id);
		kp_write_tagged_end(w, at);
	}
	if (next) {
		at = kp_write_tagged_begin(w, TXN_REC_TAG_NEXT_PRODUCER_ID);
		kp_write_i64(w, v->next_producer_id);
		kp_write_tagged_end(w, at);
	}
	if (ctv) {
		at = kp_write_tagged_begin(w, TXN_REC_TAG_CLIENT_TRANSACTION_VERSION);
		kp_write_i16(w, v->client_transaction_version);
		kp_write_tagged_end(w, at);
	}
}

void
txn_rec_value_encode(struct kp_writer *w, int16_t version, const struct txn_rec_value *v)
{
	bool flexible = version >= 1;
	int64_t partitions = 0;

	ASSERT(version >= 0 && version <= TXN_REC_VALUE_VERSION_MAX);
	ASSERT(v->state >= TXN_REC_STATE_EMPTY && v->state <= TXN_REC_STATE_COMPLETE_ABORT);
	ASSERT(v->topic_count >= 0 && v->topic_count <= TXN_REC_PARTITIONS_MAX);
	/* Kafka throws IllegalStateException for an Empty one with partitions. */
	ASSERT(v->state != TXN_REC_STATE_EMPTY || v->topic_count == 0);
	kp_write_i16(w, version);
	kp_write_i64(w, v->producer_id);
	kp_write_i16(w, v->producer_epoch);
	kp_write_i32(w, v->timeout_ms);
	kp_write_i8(w, v->state);
	kp_write_array_len(w, v->state == TXN_REC_STATE_EMPTY ? -1 : v->topic_count, flexible);
	for (int32_t i = 0; i < v->topic_count; i++) {
		partitions += v->topics[i].partition_count;
		ASSERT(partitions <= TXN_REC_PARTITIONS_MAX);
		txn_rec_topic_encode(w, flexible, &v->topics[i]);
	}
	kp_write_i64(w, v->last_update_timestamp_ms);
	kp_write_i64(w, v->start_timestamp_ms);
	if (flexible)
		txn_rec_tags_encode(w, v);
}

/* One PartitionsSchema, with at most partitions_left ids: into *t (and the
 * ids into ids, unless NULL: the checking pass). */
static void
txn_rec_topic_decode(struct kp_cursor *c, bool flexible, int32_t partitions_left,
		     struct txn_rec_topic *t, int32_t *ids)
{
	struct kp_str name = txn_rec_read_str(c, flexible);
	int32_t count = kp_read_array_len(c, flexible, partitions_left);

	/* A null PartitionIds is malformed (not nullable); each id takes 4
	 * bytes, a tighter bound than kp_read_array_len's one per element. */
	if (c->err == KP_WIRE_OK && count < 0)
		kp_cursor_fail(c, KP_WIRE_INVALID);
	if (c->err == KP_WIRE_OK && (size_t)count > kp_cursor_left(c) / 4)
		kp_cursor_fail(c, KP_WIRE_TRUNCATED);
	if (c->err != KP_WIRE_OK)
		return;
	t->topic = name;
	t->partition_count = count;
	t->partitions = ids;
	for (int32_t i = 0; i < count; i++) {
		int32_t id = kp_read_i32(c);

		if (ids != NULL)
			ids[i] = id;
	}
	if (flexible)
		kp_skip_tagged_fields(c);
}

/* count topics from c into topics[] and their ids into ids[] (both NULL:
 * only check them). The partition ids they hold, in all. */
static int32_t
txn_rec_topics_decode(struct kp_cursor *c, bool flexible, int32_t count,
		      struct txn_rec_topic *topics, int32_t *ids)
{
	int32_t total = 0;

	for (int32_t i = 0; i < count && c->err == KP_WIRE_OK; i++) {
		struct txn_rec_topic scratch = { { NULL, -1 }, 0, NULL };
		struct txn_rec_topic *t = topics != NULL ? &topics[i] : &scratch;

		txn_rec_topic_decode(c, flexible, TXN_REC_PARTITIONS_MAX - total, t,
				     ids != NULL ? ids + total : NULL);
		total += t->partition_count;
		ASSERT(c->err != KP_WIRE_OK || total <= TXN_REC_PARTITIONS_MAX);
	}
	return total;
}

/* The value's tagged fields: the known ones must have exactly their type's
 * size, unknown ones are skipped (a newer Kafka's). */
static void
txn_rec_tags_decode(struct kp_cursor *c, struct txn_rec_value *v)
{
	uint32_t count = kp_read_tag_count(c);
	int64_t tag_prev = -1;

	for (uint32_t i = 0; i < count && c->err == KP_WIRE_OK; i++) {
		uint32_t tag;
		struct kp_cursor sub = kp_read_tagged_field(c, &tag_prev, &tag);

		switch (tag) {
		case TXN_REC_TAG_PREVIOUS_PRODUCER_ID:
			v->previous_producer_id = kp_read_i64(&sub);
			kp_tagged_field_end(c, &sub);
			break;
		case TXN_REC_TAG_NEXT_PRODUCER_ID:
			v->next_producer_id = kp_read_i64(&sub);
			kp_tagged_field_end(c, &sub);
			break;
		case TXN_REC_TAG_CLIENT_TRANSACTION_VERSION:
			v->client_transaction_version = kp_read_i16(&sub);
			kp_tagged_field_end(c, &sub);
			break;
		default:
			break;
		}
	}
}

/* The topics' block for count topics holding total ids: the topics, then
 * the ids. NULL when out of memory. */
static struct txn_rec_topic *
txn_rec_topics_alloc(int32_t count, int32_t total, int32_t **ids)
{
	size_t head = (size_t)count * sizeof(struct txn_rec_topic);
	uint8_t *block;

	ASSERT(count > 0 && count <= TXN_REC_PARTITIONS_MAX);
	ASSERT(total >= 0 && total <= TXN_REC_PARTITIONS_MAX);
	_Static_assert(sizeof(struct txn_rec_topic) % sizeof(int32_t) == 0,
		       "the ids after the topics are aligned");
	block = calloc(1, head + (size_t)total * sizeof(int32_t));
	if (block == NULL)
		return NULL;
	*ids = (int32_t *)(void *)(block + head);
	return (struct txn_rec_topic *)(void *)block;
}

/* The fields before the partitions, with the tagged ones at their
 * defaults. */
static void
txn_rec_value_head_decode(struct kp_cursor *c, struct txn_rec_value *v)
{
	v->producer_id = kp_read_i64(c);
	v->previous_producer_id = -1;
	v->next_producer_id = -1;
	v->client_transaction_version = 0;
	v->producer_epoch = kp_read_i16(c);
	v->timeout_ms = kp_read_i32(c);
	v->state = kp_read_i8(c);
	v->topic_count = 0;
	v->topics = NULL;
}

int
txn_rec_value_decode(const uint8_t *p, size_t len, struct txn_rec_value *v,
		     struct txn_rec_topic **topics)
{
	struct kp_cursor c = kp_cursor_make(p, len);
	struct kp_cursor at;
	struct txn_rec_topic *block;
	int32_t count, total, *ids;
	bool flexible;

	*topics = NULL;
	v->version = kp_read_i16(&c);
	if (c.err != KP_WIRE_OK)
		return TXN_REC_MALFORMED;
	if (v->version < 0 || v->version > TXN_REC_VALUE_VERSION_MAX)
		return TXN_REC_UNKNOWN_VERSION;
	flexible = v->version >= 1;
	txn_rec_value_head_decode(&c, v);
	count = kp_read_array_len(&c, flexible, TXN_REC_PARTITIONS_MAX);
	at = c;
	total = txn_rec_topics_decode(&c, flexible, count, NULL, NULL);
	v->last_update_timestamp_ms = kp_read_i64(&c);
	v->start_timestamp_ms = kp_read_i64(&c);
	if (flexible)
		txn_rec_tags_decode(&c, v);
	if (c.err != KP_WIRE_OK || v->state < 0 || v->state > TXN_REC_STATE_MAX)
		return TXN_REC_MALFORMED;
	/* Kafka's loader walks the array of any state but Empty: null is an
	 * error there (a NullPointerException in Kafka). */
	if (count < 0 && v->state != TXN_REC_STATE_EMPTY)
		return TXN_REC_MALFORMED;
	if (v->state == TXN_REC_STATE_EMPTY || count <= 0)
		return TXN_REC_OK;
	block = txn_rec_topics_alloc(count, total, &ids);
	if (block == NULL)
		return TXN_REC_NOMEM;
	/* The same bytes again, into the block: they checked out above. */
	(void)txn_rec_topics_decode(&at, flexible, count, block, ids);
	ASSERT(at.err == KP_WIRE_OK);
	v->topic_count = count;
	v->topics = block;
	*topics = block;
	return TXN_REC_OK;
}
