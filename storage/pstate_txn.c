/* SPDX-License-Identifier: Apache-2.0 */
/* Transactions in a partition's producer state (storage/pstate.h): each
 * producer's open transaction (Kafka's currentTxnFirstOffset) and the
 * partition's transactions by first offset, open or ended by a marker the
 * high watermark has not passed yet (Kafka's ongoingTxns and
 * unreplicatedTxns in one array). A transaction opens at the log end, so
 * appending keeps the order; the stable front is dropped lazily and the
 * middle compacted only when the array is full, which bounds it by the
 * open transactions plus the markers above the high watermark. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/kafka_errors.h"
#include "storage/pstate.h"
#include "storage/pstate_int.h"

#define PSTATE_TXNS_MIN 4

int16_t
pstate_txn_check(const struct pstate *ps, int64_t producer_id, bool transactional)
{
	const struct pstate_producer *p = pstate_find(ps, producer_id);

	if (p != NULL && p->txn_first_offset >= 0 && !transactional)
		return KP_ERR_INVALID_TXN_STATE;
	return KP_ERR_NONE;
}

/* Drop the entries whose marker hw passed, keeping the order. */
static void
pstate_txn_compact(struct pstate *ps, int64_t hw)
{
	size_t n = 0;

	for (size_t i = ps->txn_head; i < ps->txn_count; i++) {
		const struct pstate_txn *t = &ps->txns[i];

		if (t->end_offset < 0 || t->end_offset >= hw)
			ps->txns[n++] = *t;
	}
	ps->txn_head = 0;
	ps->txn_count = n;
}

int
pstate_txn_reserve(struct pstate *ps, int64_t hw)
{
	struct pstate_txn *grown;
	size_t cap;

	if (ps->txn_count < ps->txn_cap)
		return 0;
	pstate_txn_compact(ps, hw);
	if (ps->txn_count < ps->txn_cap)
		return 0;
	cap = ps->txn_cap > 0 ? ps->txn_cap * 2 : PSTATE_TXNS_MIN;
	grown = realloc(ps->txns, cap * sizeof(*ps->txns));
	if (grown == NULL)
		return -ENOMEM;
	ps->txns = grown;
	ps->txn_cap = cap;
	return 0;
}

/* Append an entry (room made). */
static int
pstate_txn_push(struct pstate *ps, int64_t producer_id, int64_t first_offset, int64_t end)
{
	/* Without a high watermark to go by, keep every entry. */
	if (ps->txn_count == ps->txn_cap && pstate_txn_reserve(ps, -1) != 0)
		return -ENOMEM;
	ASSERT(ps->txn_count == ps->txn_head ||
	       ps->txns[ps->txn_count - 1].first_offset < first_offset);
	ps->txns[ps->txn_count++] = (struct pstate_txn){
		.first_offset = first_offset, .end_offset = end, .producer_id = producer_id,
	};
	return 0;
}

int
pstate_txn_begin(struct pstate *ps, int64_t producer_id, int64_t first_offset)
{
	struct pstate_producer *p = pstate_find(ps, producer_id);

	if (p == NULL)
		return -ENOENT;         /* its pstate_record() found no room */
	if (p->txn_first_offset >= 0)
		return 0;
	if (pstate_txn_push(ps, producer_id, first_offset, -1) != 0)
		return -ENOMEM;
	p->txn_first_offset = first_offset;
	return 0;
}

int16_t
pstate_txn_end_check(const struct pstate *ps, int64_t producer_id, int16_t epoch,
		     int32_t coordinator_epoch)
{
	const struct pstate_producer *p = pstate_find(ps, producer_id);

	if (p == NULL)
		return KP_ERR_NONE;
	/* ProducerAppendInfo.checkProducerEpoch, then checkCoordinatorEpoch. */
	if (epoch < p->epoch)
		return KP_ERR_INVALID_PRODUCER_EPOCH;
	if (p->coordinator_epoch > coordinator_epoch)
		return KP_ERR_TRANSACTION_COORDINATOR_FENCED;
	return KP_ERR_NONE;
}

/* The entry of the transaction opened at first_offset (binary search). */
static struct pstate_txn *
pstate_txn_at(struct pstate *ps, int64_t first_offset)
{
	size_t lo = ps->txn_head, hi = ps->txn_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ps->txns[mid].first_offset < first_offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < ps->txn_count && ps->txns[lo].first_offset == first_offset)
		return &ps->txns[lo];
	return NULL;
}

/* Kafka's lastStableOffset(completedTxn): the first open transaction of
 * another producer, else the marker's offset + 1. */
static int64_t
pstate_txn_lso_after(const struct pstate *ps, int64_t producer_id, int64_t offset)
{
	for (size_t i = ps->txn_head; i < ps->txn_count; i++) {
		const struct pstate_txn *t = &ps->txns[i];

		if (t->end_offset < 0 && t->producer_id != producer_id)
			return t->first_offset;
	}
	return offset + 1;
}

int
pstate_txn_end(struct pstate *ps, int64_t producer_id, int16_t epoch, int32_t coordinator_epoch,
	       int64_t offset, int64_t timestamp_ms, struct pstate_txn_end *out)
{
	struct pstate_producer *p = pstate_find(ps, producer_id);
	struct pstate_txn *t;

	memset(out, 0, sizeof(*out));
	out->first_offset = -1;
	out->last_stable_offset = -1;
	if (p == NULL) {
		if (pstate_room(ps) != 0)
			return -ENOMEM;
		p = pstate_slot_new(ps, producer_id, epoch);
	}
	if (p->txn_first_offset >= 0) {
		out->ended = true;
		out->first_offset = p->txn_first_offset;
		out->last_stable_offset = pstate_txn_lso_after(ps, producer_id, offset);
		t = pstate_txn_at(ps, p->txn_first_offset);
		if (t != NULL)
			t->end_offset = offset;
		p->txn_first_offset = -1;
	}
	/* ProducerStateEntry.maybeUpdateProducerEpoch: a new epoch starts a
	 * new sequence. */
	if (epoch != p->epoch) {
		p->epoch = epoch;
		p->batch_count = 0;
	}
	p->coordinator_epoch = coordinator_epoch;
	p->last_timestamp = timestamp_ms;
	p->last_offset = offset;
	return 0;
}

int64_t
pstate_first_unstable(struct pstate *ps, int64_t hw)
{
	while (ps->txn_head < ps->txn_count && ps->txns[ps->txn_head].end_offset >= 0 &&
	       ps->txns[ps->txn_head].end_offset < hw)
		ps->txn_head++;
	if (ps->txn_head == ps->txn_count) {
		ps->txn_head = 0;
		ps->txn_count = 0;
		return -1;
	}
	return ps->txns[ps->txn_head].first_offset;
}

int64_t
pstate_txn_first_offset(const struct pstate *ps, int64_t producer_id)
{
	const struct pstate_producer *p = pstate_find(ps, producer_id);

	return p != NULL ? p->txn_first_offset : -1;
}

size_t
pstate_txn_count(const struct pstate *ps)
{
	return ps->txn_count - ps->txn_head;
}

void
pstate_txn_truncate(struct pstate *ps, int64_t offset)
{
	struct pstate_producer *p;

	/* Opened at or past offset: gone with their first batch. */
	while (ps->txn_count > ps->txn_head && ps->txns[ps->txn_count - 1].first_offset >= offset) {
		p = pstate_find(ps, ps->txns[ps->txn_count - 1].producer_id);
		if (p != NULL && p->txn_first_offset >= offset)
			p->txn_first_offset = -1;
		ps->txn_count--;
	}
	/* Ended at or past offset: open again (any later transaction of the
	 * producer started after the marker, so it went above). */
	for (size_t i = ps->txn_head; i < ps->txn_count; i++) {
		struct pstate_txn *t = &ps->txns[i];

		if (t->end_offset < offset)
			continue;
		t->end_offset = -1;
		p = pstate_find(ps, t->producer_id);
		if (p != NULL)
			p->txn_first_offset = t->first_offset;
	}
}

static int
pstate_txn_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct pstate_txn *)a)->first_offset;
	int64_t y = ((const struct pstate_txn *)b)->first_offset;

	return (x > y) - (x < y);
}

int
pstate_txn_rebuild(struct pstate *ps)
{
	ps->txn_head = 0;
	ps->txn_count = 0;
	for (size_t i = 0; i < ps->slot_count; i++) {
		const struct pstate_producer *p = &ps->slots[i];

		if (!p->used || p->txn_first_offset < 0)
			continue;
		if (ps->txn_count == ps->txn_cap && pstate_txn_reserve(ps, -1) != 0)
			return -ENOMEM;
		ps->txns[ps->txn_count++] = (struct pstate_txn){
			.first_offset = p->txn_first_offset, .end_offset = -1,
			.producer_id = p->producer_id,
		};
	}
	if (ps->txn_count > 1)
		qsort(ps->txns, ps->txn_count, sizeof(*ps->txns), pstate_txn_cmp);
	return 0;
}
