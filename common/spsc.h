/* SPDX-License-Identifier: Apache-2.0 */
/* Bounded single-producer/single-consumer ring of fixed-size values, stored
 * by value: a thin wrapper over Concurrency Kit's ck_ring (CK_RING_PROTOTYPE)
 * that owns the slot memory and the ThreadSanitizer annotations. It must not
 * be used by more than one producer thread or more than one consumer thread,
 * and it never blocks or allocates after spsc_init(). */
#ifndef COMMON_SPSC_H
#define COMMON_SPSC_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <ck_ring.h>

#include "common/assert.h"

/* ck_ring's SPSC operations use inline-asm loads and stores that
 * ThreadSanitizer cannot see, so in -fsanitize=thread builds the wrapper
 * tells it about the two happens-before edges the ring really provides:
 * producer's slot write -> consumer's slot read (through p_tail), and
 * consumer's slot read -> producer's reuse of that slot (through c_head). */
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define SPSC_TSAN_ACQUIRE(addr) __tsan_acquire((void *)(addr))
#define SPSC_TSAN_RELEASE(addr) __tsan_release((void *)(addr))
#else
#define SPSC_TSAN_ACQUIRE(addr) ((void)(addr))
#define SPSC_TSAN_RELEASE(addr) ((void)(addr))
#endif

struct spsc {
	struct ck_ring ring;    /* ck pads the producer and consumer indexes apart */
	void *slots;            /* slot_count values of the ring's type */
	uint32_t slot_count;    /* a power of two; one slot always stays empty */
};

/* Allocate a ring that holds at least capacity values of slot_bytes each.
 * Returns 0 or -ENOMEM / -EINVAL. Not thread-safe: call before sharing.
 * @thread any (before the ring is shared) */
static inline int
spsc_init(struct spsc *q, uint32_t capacity, size_t slot_bytes)
{
	uint32_t slot_count = 2;

	ASSERT(q != NULL);
	ASSERT(slot_bytes > 0);
	if (capacity == 0 || capacity > (1u << 30))
		return -EINVAL;
	while (slot_count < capacity + 1)       /* ck keeps one slot empty */
		slot_count <<= 1;
	q->slots = calloc(slot_count, slot_bytes);
	if (q->slots == NULL)
		return -ENOMEM;
	q->slot_count = slot_count;
	ck_ring_init(&q->ring, slot_count);
	return 0;
}

/* Free the slot memory; values still queued are dropped (the caller drains
 * first when they own memory). @thread any (after both sides stopped) */
static inline void
spsc_fini(struct spsc *q)
{
	free(q->slots);
	q->slots = NULL;
	q->slot_count = 0;
}

/* How many values the ring holds right now; exact only from the consumer or
 * producer thread, a hint from anywhere else. */
static inline uint32_t
spsc_count(struct spsc *q)
{
	return ck_ring_size(&q->ring);
}

/* SPSC_PROTOTYPE(name, type) defines, for values of struct type:
 *   bool spsc_push_<name>(struct spsc *q, const struct type *v)
 *       false when full; @thread the one producer
 *   bool spsc_pop_<name>(struct spsc *q, struct type *v)
 *       false when empty; @thread the one consumer
 * push: reserve (ck loads c_head: pairs with the consumer's c_head store in
 * its dequeue) -> copy -> commit (ck's store fence + p_tail store: pairs with
 * the consumer's p_tail load). pop: ck_ring_size() loads p_tail (pairs with
 * the producer's commit) -> dequeue copies out, fences, stores c_head (pairs
 * with the producer's reserve). The TSan release on p_tail precedes the
 * commit, and the TSan acquire follows the p_tail load, so TSan sees exactly
 * the edge the hardware ordering provides. For slot reuse, ck keeps one slot
 * empty, so the slot a producer overwrites was read by the dequeue before the
 * one whose c_head store it observed, and that earlier dequeue's release on
 * c_head is already done. */
#define SPSC_PROTOTYPE(name, type)                                           \
	CK_RING_PROTOTYPE(name, type)                                        \
                                                                             \
	static inline bool                                                   \
	spsc_push_##name(struct spsc *q, const struct type *v)               \
	{                                                                    \
		struct type *slot;                                           \
                                                                             \
		slot = ck_ring_enqueue_reserve_spsc_##name(&q->ring,         \
			(struct type *)q->slots);                            \
		if (slot == NULL)                                            \
			return false;                                        \
		SPSC_TSAN_ACQUIRE(&q->ring.c_head);                          \
		*slot = *v;                                                  \
		SPSC_TSAN_RELEASE(&q->ring.p_tail);                          \
		ck_ring_enqueue_commit_spsc(&q->ring);                       \
		return true;                                                 \
	}                                                                    \
                                                                             \
	static inline bool                                                   \
	spsc_pop_##name(struct spsc *q, struct type *v)                      \
	{                                                                    \
		bool ok;                                                     \
                                                                             \
		if (ck_ring_size(&q->ring) == 0)                             \
			return false;                                        \
		SPSC_TSAN_ACQUIRE(&q->ring.p_tail);                          \
		ok = ck_ring_dequeue_spsc_##name(&q->ring,                   \
			(struct type *)q->slots, v);                         \
		ASSERT_HOT(ok);                                              \
		SPSC_TSAN_RELEASE(&q->ring.c_head);                          \
		return ok;                                                   \
	}

#endif
