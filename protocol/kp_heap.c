/* SPDX-License-Identifier: Apache-2.0 */
/* The deadline heap of a core's waiting long polls: a binary min-heap of
 * slot indexes by deadline_ns, each record knowing its place (heap_index)
 * so a wake or a cancel removes it in O(log n). Its array has one entry
 * per slot, allocated with the core, so a push never allocates and never
 * finds it full. @thread dataplane */
#include "common/assert.h"
#include "protocol/kp_core_priv.h"

static uint64_t
kp_heap_key(const struct kp_core *kc, uint32_t i)
{
	return kc->pending[kc->heap[i]].deadline_ns;
}

static void
kp_heap_set(struct kp_core *kc, uint32_t i, uint32_t slot)
{
	kc->heap[i] = slot;
	kc->pending[slot].heap_index = i;
}

static void
kp_heap_up(struct kp_core *kc, uint32_t i)
{
	uint32_t slot = kc->heap[i];
	uint64_t key = kc->pending[slot].deadline_ns;

	while (i > 0 && kp_heap_key(kc, (i - 1) / 2) > key) {
		kp_heap_set(kc, i, kc->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	kp_heap_set(kc, i, slot);
}

static void
kp_heap_down(struct kp_core *kc, uint32_t i)
{
	uint32_t slot = kc->heap[i];
	uint64_t key = kc->pending[slot].deadline_ns;

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= kc->heap_count)
			break;
		if (c + 1 < kc->heap_count && kp_heap_key(kc, c + 1) < kp_heap_key(kc, c))
			c++;
		if (kp_heap_key(kc, c) >= key)
			break;
		kp_heap_set(kc, i, kc->heap[c]);
		i = c;
	}
	kp_heap_set(kc, i, slot);
}

void
kp_heap_push(struct kp_core *kc, struct kp_pending *p)
{
	ASSERT(kc->heap_count < kc->slot_count);
	kc->heap[kc->heap_count] = (uint32_t)(p - kc->pending);
	kc->heap_count++;
	kp_heap_up(kc, kc->heap_count - 1);
}

void
kp_heap_remove(struct kp_core *kc, struct kp_pending *p)
{
	uint32_t i = p->heap_index;

	if (i == UINT32_MAX)
		return;
	ASSERT(i < kc->heap_count && kc->heap[i] == (uint32_t)(p - kc->pending));
	p->heap_index = UINT32_MAX;
	kc->heap_count--;
	if (i == kc->heap_count)
		return;
	kp_heap_set(kc, i, kc->heap[kc->heap_count]);
	kp_heap_up(kc, i);
	kp_heap_down(kc, kc->pending[kc->heap[i]].heap_index);
}
