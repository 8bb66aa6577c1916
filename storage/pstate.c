/* SPDX-License-Identifier: Apache-2.0 */
/* Idempotent-producer state of one partition (storage/pstate.h): Kafka's
 * sequence and epoch rules (ProducerAppendInfo, ProducerStateEntry), kept in
 * an open-addressing hash table keyed by producer id. It allocates only when
 * a new producer makes the table grow; it does no I/O, and its snapshot is a
 * byte image the caller writes. */
#include "storage/pstate.h"
#include "storage/pstate_int.h"

#include <errno.h>
#include <isa-l/crc.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/kafka_errors.h"
#include "storage/st.h"

/* Slots of a table's first allocation, made when its first producer comes:
 * most partitions have no idempotent producer, or a few (200 bytes each). */
#define PSTATE_SLOTS_MIN 4              /* power of two */
/* Snapshot image, little endian: header, producers, then the CRC-32C of
 * every byte before it. */
#define PSTATE_SNAP_MAGIC 0x53505053u   /* "SPPS" */
#define PSTATE_SNAP_VERSION 2     /* 1: no transaction fields, still read */
#define PSTATE_SNAP_HEADER_BYTES 12     /* magic u32, version u32, count u32 */
#define PSTATE_SNAP_PRODUCER_BYTES 20   /* pid i64, epoch i16, count u16, last_ts i64 */
/* v2 adds txn_first i64, last_offset i64, coordinator_epoch i32 */
#define PSTATE_SNAP_TXN_BYTES 20
#define PSTATE_SNAP_BATCH_BYTES 32      /* first i32, last i32, base i64, last i64, ts i64 */
#define PSTATE_SNAP_CRC_BYTES 4

STATIC_ASSERT((PSTATE_SLOTS_MIN & (PSTATE_SLOTS_MIN - 1)) == 0, "slots are a power of two");
STATIC_ASSERT(PSTATE_BATCHES <= UINT8_MAX, "batch count fits a byte");

static size_t
pstate_home(const struct pstate *ps, int64_t producer_id)
{
	uint64_t h = (uint64_t)producer_id * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 32) & (ps->slot_count - 1);
}

struct pstate_producer *
pstate_find(const struct pstate *ps, int64_t producer_id)
{
	size_t mask = ps->slot_count - 1;

	for (size_t i = pstate_home(ps, producer_id), n = 0; n < ps->slot_count;
	     i = (i + 1) & mask, n++) {
		struct pstate_producer *p = &ps->slots[i];

		if (!p->used)
			return NULL;
		if (p->producer_id == producer_id)
			return p;
	}
	return NULL;
}

/* Slot for a producer known to be absent; the table has a free slot. */
static struct pstate_producer *
pstate_slot_free(struct pstate *ps, int64_t producer_id)
{
	size_t mask = ps->slot_count - 1;
	size_t i = pstate_home(ps, producer_id);

	while (ps->slots[i].used)
		i = (i + 1) & mask;
	return &ps->slots[i];
}

static int
pstate_alloc_slots(struct pstate *ps, size_t slot_count)
{
	struct pstate_producer *old = ps->slots;
	size_t old_count = ps->slot_count;

	ps->slots = calloc(slot_count, sizeof(*ps->slots));
	if (ps->slots == NULL) {
		ps->slots = old;
		return -ENOMEM;
	}
	ps->slot_count = slot_count;
	for (size_t i = 0; i < old_count; i++) {
		if (old[i].used)
			*pstate_slot_free(ps, old[i].producer_id) = old[i];
	}
	free(old);
	return 0;
}

struct pstate *
pstate_create(void)
{
	/* No slots until a producer comes (pstate_record). */
	return calloc(1, sizeof(struct pstate));
}

void
pstate_destroy(struct pstate *ps)
{
	if (ps == NULL)
		return;
	free(ps->slots);
	free(ps->txns);
	free(ps);
}

size_t
pstate_producer_count(const struct pstate *ps)
{
	return ps->producer_count;
}

static int
pstate_producer_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct st_producer *)a)->producer_id;
	int64_t y = ((const struct st_producer *)b)->producer_id;

	return (x > y) - (x < y);
}

size_t
pstate_list(const struct pstate *ps, struct st_producer *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < ps->slot_count && n < max; i++) {
		const struct pstate_producer *p = &ps->slots[i];

		if (!p->used)
			continue;
		out[n++] = (struct st_producer){
			.producer_id = p->producer_id,
			.last_timestamp = p->last_timestamp,
			.last_sequence = p->batch_count > 0
						 ? p->batches[p->batch_count - 1].last_seq : -1,
			.epoch = p->epoch,
		};
	}
	/* The table's order is its hash's: sort for a stable answer. */
	if (n > 1)
		qsort(out, n, sizeof(*out), pstate_producer_cmp);
	return n;
}

/* Backward-shift deletion keeps every probe chain unbroken without
 * tombstones. */
static void
pstate_remove_slot(struct pstate *ps, size_t hole)
{
	size_t mask = ps->slot_count - 1;
	size_t i = hole;

	ASSERT(ps->producer_count > 0);
	for (;;) {
		size_t home;

		i = (i + 1) & mask;
		if (!ps->slots[i].used)
			break;
		home = pstate_home(ps, ps->slots[i].producer_id);
		/* Move i into the hole unless its home lies in (hole, i]. */
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			ps->slots[hole] = ps->slots[i];
			hole = i;
		}
	}
	memset(&ps->slots[hole], 0, sizeof(ps->slots[hole]));
	ps->producer_count--;
}

/* Kafka's inSequence(): next follows last, wrapping INT32_MAX -> 0. */
static bool
pstate_in_sequence(int32_t last_seq, int32_t next_seq)
{
	return (int64_t)next_seq == (int64_t)last_seq + 1 ||
	       (next_seq == 0 && last_seq == INT32_MAX);
}

enum pstate_verdict
pstate_check(const struct pstate *ps, int64_t producer_id, int16_t epoch, int32_t first_seq,
	     int32_t last_seq, struct pstate_dup *dup, int16_t *error)
{
	const struct pstate_producer *p;

	ASSERT(producer_id >= 0);
	*error = KP_ERR_NONE;
	p = pstate_find(ps, producer_id);
	if (p == NULL)
		return PSTATE_APPEND;   /* unknown (or expired) producer: any sequence */
	if (epoch == p->epoch) {
		for (int i = 0; i < p->batch_count; i++) {
			const struct pstate_batch *b = &p->batches[i];

			if (b->first_seq == first_seq && b->last_seq == last_seq) {
				dup->base_offset = b->base_offset;
				dup->timestamp = b->timestamp;
				return PSTATE_DUPLICATE;
			}
		}
	}
	if (epoch < p->epoch) {
		*error = KP_ERR_INVALID_PRODUCER_EPOCH;
		return PSTATE_REJECT;
	}
	/* A producer known only from a marker (no batch): sequence 0. */
	if (epoch > p->epoch || p->batch_count == 0
		    ? first_seq != 0
		    : !pstate_in_sequence(p->batches[p->batch_count - 1].last_seq, first_seq)) {
		*error = KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
		return PSTATE_REJECT;
	}
	return PSTATE_APPEND;
}

/* A new producer's slot (the table has room). */
struct pstate_producer *
pstate_slot_new(struct pstate *ps, int64_t producer_id, int16_t epoch)
{
	struct pstate_producer *p = pstate_slot_free(ps, producer_id);

	memset(p, 0, sizeof(*p));
	p->producer_id = producer_id;
	p->epoch = epoch;
	p->used = true;
	p->txn_first_offset = -1;
	p->last_offset = -1;
	p->coordinator_epoch = -1;
	ps->producer_count++;
	return p;
}

/* Keep the load factor at or below 1/2 for one more producer. */
int
pstate_room(struct pstate *ps)
{
	if ((ps->producer_count + 1) * 2 <= ps->slot_count)
		return 0;
	return pstate_alloc_slots(ps, ps->slot_count > 0 ? ps->slot_count * 2 : PSTATE_SLOTS_MIN);
}

int
pstate_record(struct pstate *ps, int64_t producer_id, int16_t epoch, int32_t first_seq,
	      int32_t last_seq, int64_t base_offset, int64_t last_offset, int64_t timestamp_ms)
{
	struct pstate_producer *p;

	ASSERT(producer_id >= 0);
	ASSERT(last_offset >= base_offset);
	p = pstate_find(ps, producer_id);
	if (p == NULL) {
		if (pstate_room(ps) != 0)
			return -ENOMEM;
		p = pstate_slot_new(ps, producer_id, epoch);
	}
	if (epoch != p->epoch) {
		/* A new epoch starts a new sequence: older batches no longer
		 * identify duplicates (ProducerStateEntry.maybeUpdateProducerEpoch). */
		p->epoch = epoch;
		p->batch_count = 0;
	}
	if (p->batch_count == PSTATE_BATCHES) {
		memmove(&p->batches[0], &p->batches[1],
			(PSTATE_BATCHES - 1) * sizeof(p->batches[0]));
		p->batch_count--;
	}
	p->batches[p->batch_count++] = (struct pstate_batch){
		.first_seq = first_seq, .last_seq = last_seq, .base_offset = base_offset,
		.last_offset = last_offset, .timestamp = timestamp_ms,
	};
	p->last_timestamp = timestamp_ms;
	p->last_offset = last_offset;
	return 0;
}

void
pstate_truncate(struct pstate *ps, int64_t offset)
{
	size_t i = 0;

	pstate_txn_truncate(ps, offset);
	while (i < ps->slot_count) {
		struct pstate_producer *p = &ps->slots[i];

		if (!p->used) {
			i++;
			continue;
		}
		while (p->batch_count > 0 && p->batches[p->batch_count - 1].last_offset >= offset)
			p->batch_count--;
		if (p->batch_count > 0) {
			p->last_timestamp = p->batches[p->batch_count - 1].timestamp;
			p->last_offset = p->batches[p->batch_count - 1].last_offset;
			i++;
			continue;
		}
		if (p->last_offset < offset || p->txn_first_offset >= 0) {
			i++;    /* known from a marker below offset, or in a transaction */
			continue;
		}
		/* Nothing of it is left in the log: it becomes unknown, as after a
		 * reload from an earlier snapshot. Slot i is examined again. */
		pstate_remove_slot(ps, i);
	}
}

void
pstate_expire(struct pstate *ps, int64_t now_ms, int64_t expiration_ms)
{
	size_t i = 0;

	while (i < ps->slot_count) {
		struct pstate_producer *p = &ps->slots[i];

		/* Kafka: currentTimeMs - lastTimestamp >= producerIdExpirationMs. */
		/* Kafka never expires a producer with an open transaction. */
		if (p->used && p->txn_first_offset < 0 &&
		    now_ms - p->last_timestamp >= expiration_ms)
			pstate_remove_slot(ps, i);  /* slot i is examined again */
		else
			i++;
	}
}

static uint8_t *
pstate_put(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		*p++ = (uint8_t)(v >> (8 * i));
	return p;
}

static uint64_t
pstate_get(const uint8_t **p, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)(*p)[i] << (8 * i);
	*p += bytes;
	return v;
}

static uint32_t
pstate_crc(const uint8_t *buf, size_t len)
{
	ASSERT(len <= INT32_MAX);
	return ~crc32_iscsi((unsigned char *)(uintptr_t)buf, (int)len, 0xffffffffu);
}

size_t
pstate_snapshot_size(const struct pstate *ps)
{
	size_t bytes = PSTATE_SNAP_HEADER_BYTES + PSTATE_SNAP_CRC_BYTES;

	for (size_t i = 0; i < ps->slot_count; i++) {
		if (ps->slots[i].used)
			bytes += PSTATE_SNAP_PRODUCER_BYTES + PSTATE_SNAP_TXN_BYTES +
				 ps->slots[i].batch_count * (size_t)PSTATE_SNAP_BATCH_BYTES;
	}
	return bytes;
}

static uint8_t *
pstate_snapshot_write_producer(uint8_t *w, const struct pstate_producer *p)
{
	w = pstate_put(w, (uint64_t)p->producer_id, 8);
	w = pstate_put(w, (uint16_t)p->epoch, 2);
	w = pstate_put(w, p->batch_count, 2);
	w = pstate_put(w, (uint64_t)p->last_timestamp, 8);
	w = pstate_put(w, (uint64_t)p->txn_first_offset, 8);
	w = pstate_put(w, (uint64_t)p->last_offset, 8);
	w = pstate_put(w, (uint32_t)p->coordinator_epoch, 4);
	for (int j = 0; j < p->batch_count; j++) {
		const struct pstate_batch *b = &p->batches[j];

		w = pstate_put(w, (uint32_t)b->first_seq, 4);
		w = pstate_put(w, (uint32_t)b->last_seq, 4);
		w = pstate_put(w, (uint64_t)b->base_offset, 8);
		w = pstate_put(w, (uint64_t)b->last_offset, 8);
		w = pstate_put(w, (uint64_t)b->timestamp, 8);
	}
	return w;
}

void
pstate_snapshot_write(const struct pstate *ps, uint8_t *buf)
{
	uint8_t *w = buf;

	w = pstate_put(w, PSTATE_SNAP_MAGIC, 4);
	w = pstate_put(w, PSTATE_SNAP_VERSION, 4);
	w = pstate_put(w, ps->producer_count, 4);
	for (size_t i = 0; i < ps->slot_count; i++) {
		if (ps->slots[i].used)
			w = pstate_snapshot_write_producer(w, &ps->slots[i]);
	}
	w = pstate_put(w, pstate_crc(buf, (size_t)(w - buf)), 4);
	ASSERT((size_t)(w - buf) == pstate_snapshot_size(ps));
}

/* The v2 transaction fields of a producer (v1: none, no transaction). */
static int
pstate_snapshot_txn(struct pstate_producer *p, const uint8_t **r, const uint8_t *end,
		    uint32_t version)
{
	p->txn_first_offset = -1;
	p->coordinator_epoch = -1;
	p->last_offset = -1;
	if (version < 2)
		return 0;
	if (end - *r < PSTATE_SNAP_TXN_BYTES)
		return -EINVAL;
	p->txn_first_offset = (int64_t)pstate_get(r, 8);
	p->last_offset = (int64_t)pstate_get(r, 8);
	p->coordinator_epoch = (int32_t)pstate_get(r, 4);
	return p->txn_first_offset < -1 || p->last_offset < -1 ? -EINVAL : 0;
}

/* One producer from the image at *r (end: the CRC); -EINVAL if it does not
 * fit or does not make sense. */
static int
pstate_snapshot_producer(struct pstate *ps, const uint8_t **r, const uint8_t *end,
			 uint32_t version)
{
	struct pstate_producer p = { .used = true };
	uint16_t count;

	if (end - *r < PSTATE_SNAP_PRODUCER_BYTES)
		return -EINVAL;
	p.producer_id = (int64_t)pstate_get(r, 8);
	p.epoch = (int16_t)pstate_get(r, 2);
	count = (uint16_t)pstate_get(r, 2);
	p.last_timestamp = (int64_t)pstate_get(r, 8);
	/* v1 knew only producers with batches; v2 also those of a marker. */
	if (p.producer_id < 0 || (count == 0 && version < 2) || count > PSTATE_BATCHES ||
	    pstate_snapshot_txn(&p, r, end, version) != 0 ||
	    end - *r < (ptrdiff_t)count * PSTATE_SNAP_BATCH_BYTES ||
	    pstate_find(ps, p.producer_id) != NULL)
		return -EINVAL;
	for (int j = 0; j < count; j++) {
		struct pstate_batch *b = &p.batches[j];

		b->first_seq = (int32_t)pstate_get(r, 4);
		b->last_seq = (int32_t)pstate_get(r, 4);
		b->base_offset = (int64_t)pstate_get(r, 8);
		b->last_offset = (int64_t)pstate_get(r, 8);
		b->timestamp = (int64_t)pstate_get(r, 8);
		if (b->base_offset < 0 || b->last_offset < b->base_offset)
			return -EINVAL;
	}
	if (count > 0 && version < 2)
		p.last_offset = p.batches[count - 1].last_offset;
	if (pstate_room(ps) != 0)
		return -ENOMEM;
	p.batch_count = (uint8_t)count;
	*pstate_slot_new(ps, p.producer_id, p.epoch) = p;
	return 0;
}

int
pstate_snapshot_read(struct pstate *ps, const uint8_t *buf, size_t len)
{
	const uint8_t *r = buf, *end;
	uint32_t count, version;
	int rc = 0;

	ASSERT(ps->producer_count == 0);
	if (len < PSTATE_SNAP_HEADER_BYTES + PSTATE_SNAP_CRC_BYTES || len > INT32_MAX)
		return -EINVAL;
	end = buf + len - PSTATE_SNAP_CRC_BYTES;
	if (pstate_crc(buf, len - PSTATE_SNAP_CRC_BYTES) != (uint32_t)pstate_get(&end, 4))
		return -EINVAL;
	end -= PSTATE_SNAP_CRC_BYTES;
	if (pstate_get(&r, 4) != PSTATE_SNAP_MAGIC)
		return -EINVAL;
	version = (uint32_t)pstate_get(&r, 4);
	if (version < 1 || version > PSTATE_SNAP_VERSION)
		return -EINVAL;
	count = (uint32_t)pstate_get(&r, 4);
	for (uint32_t i = 0; i < count && rc == 0; i++)
		rc = pstate_snapshot_producer(ps, &r, end, version);
	if (rc == 0 && r != end)
		rc = -EINVAL;
	if (rc == 0)
		rc = pstate_txn_rebuild(ps);
	if (rc != 0) {
		/* Leave the state empty, as it was given. */
		if (ps->slot_count > 0)
			memset(ps->slots, 0, ps->slot_count * sizeof(*ps->slots));
		ps->producer_count = 0;
		ps->txn_head = 0;
		ps->txn_count = 0;
	}
	return rc;
}
