/* SPDX-License-Identifier: Apache-2.0 */
/* Long-poll subscriptions per partition on a core: however many Fetches
 * wait on a partition, storage holds one WATCH for it, and its firing wakes
 * them all. Waiting parts are linked into their subscription's list, so a
 * wake and a cancel cost the parts they touch, never a scan of all waiters.
 * Allocates only when the pool or the hash grows, up to KP_SUBS_MAX.
 * Full-ring policy: a WATCH that finds storage's ring full waits on the arm
 * list (one entry per subscription, so it is bounded by the pool) and is
 * submitted by the next kp_sub_flush(). @thread dataplane */
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/compiler.h"
#include "common/tag.h"
#include "protocol/kp_core_priv.h"

#define KP_SUB_INITIAL 64u
/* Bound of the pool: distinct partitions with waiters on one core. Past it
 * (or when growing runs out of memory) kp_sub_join() fails and the long
 * poll answers at once with what it has, as if its wait were over: the
 * client polls again, nothing aborts and nothing grows. The pool grows by
 * doubling from KP_SUB_INITIAL, so this is a power of two. */
#define KP_SUBS_MAX (1u << 20)
STATIC_ASSERT((KP_SUBS_MAX & (KP_SUBS_MAX - 1)) == 0 && KP_SUBS_MAX >= KP_SUB_INITIAL,
	      "the pool doubles up to exactly its bound");

static uint32_t
kp_sub_hash(const uint8_t topic_id[16], int32_t partition)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (int i = 0; i < 16; i++)
		h = (h ^ topic_id[i]) * 0x100000001b3ull;
	h = (h ^ (uint32_t)partition) * 0x100000001b3ull;
	return (uint32_t)(h ^ (h >> 29));
}

static void
kp_sub_hash_insert(struct kp_core *kc, uint32_t i)
{
	struct kp_sub *s = &kc->subs[i];
	uint32_t b = kp_sub_hash(s->topic_id, s->partition) & kc->sub_hash_mask;

	s->hnext = kc->sub_hash[b];
	kc->sub_hash[b] = i;
}

static void
kp_sub_hash_remove(struct kp_core *kc, uint32_t i)
{
	struct kp_sub *s = &kc->subs[i];
	uint32_t *link = &kc->sub_hash[kp_sub_hash(s->topic_id, s->partition) &
				       kc->sub_hash_mask];

	while (*link != i) {
		ASSERT(*link != KP_SUB_NONE);
		link = &kc->subs[*link].hnext;
	}
	*link = s->hnext;
}

/* Double the pool (and the hash with it). */
static int
kp_sub_grow(struct kp_core *kc)
{
	uint32_t cap = kc->sub_cap == 0 ? KP_SUB_INITIAL : kc->sub_cap * 2;
	uint32_t hsize = cap * 2;
	struct kp_sub *subs;
	uint32_t *hash;

	if (cap > KP_SUBS_MAX)
		return -1;
	subs = realloc(kc->subs, sizeof(*subs) * cap);
	if (subs == NULL)
		return -1;
	kc->subs = subs;
	hash = malloc(sizeof(*hash) * hsize);
	if (hash == NULL)
		return -1;
	free(kc->sub_hash);
	kc->sub_hash = hash;
	kc->sub_hash_mask = hsize - 1;
	for (uint32_t b = 0; b < hsize; b++)
		hash[b] = KP_SUB_NONE;
	for (uint32_t i = kc->sub_cap; i < cap; i++) {
		memset(&subs[i], 0, sizeof(subs[i]));
		subs[i].hnext = i + 1 < cap ? i + 1 : kc->sub_free;
	}
	kc->sub_free = kc->sub_cap;
	for (uint32_t i = 0; i < kc->sub_cap; i++)
		if (subs[i].used)
			kp_sub_hash_insert(kc, i);
	kc->sub_cap = cap;
	return 0;
}

int
kp_sub_init(struct kp_core *kc)
{
	kc->sub_free = KP_SUB_NONE;
	kc->arm_head = kc->arm_tail = KP_SUB_NONE;
	return kp_sub_grow(kc);
}

void
kp_sub_fini(struct kp_core *kc)
{
	free(kc->subs);
	free(kc->sub_hash);
	kc->subs = NULL;
	kc->sub_hash = NULL;
}

static uint32_t
kp_sub_find(const struct kp_core *kc, const uint8_t topic_id[16], int32_t partition,
	    bool replica)
{
	uint32_t i = kc->sub_hash[kp_sub_hash(topic_id, partition) & kc->sub_hash_mask];

	while (i != KP_SUB_NONE && (kc->subs[i].partition != partition ||
				    kc->subs[i].replica != replica ||
				    memcmp(kc->subs[i].topic_id, topic_id, 16) != 0))
		i = kc->subs[i].hnext;
	return i;
}

static void
kp_sub_free(struct kp_core *kc, uint32_t i)
{
	struct kp_sub *s = &kc->subs[i];

	ASSERT(s->used && s->waiters == NULL && !s->to_arm);
	kp_sub_hash_remove(kc, i);
	s->used = false;
	s->armed = false;
	s->gen++;
	s->hnext = kc->sub_free;
	kc->sub_free = i;
	kc->sub_used--;
}

/* Submit the WATCH; false when the ring is full. */
static bool
kp_sub_arm(struct kp_core *kc, uint32_t i)
{
	struct kp_sub *s = &kc->subs[i];
	struct st_req req;

	memset(&req, 0, sizeof(req));
	req.type = ST_REQ_WATCH;
	memcpy(req.topic_id, s->topic_id, sizeof(req.topic_id));
	req.partition = s->partition;
	req.token = tag_sub(s->gen, i);
	req.watch.offset = s->offset;
	req.watch.deadline_ns = UINT64_MAX;     /* until data or deletion */
	req.watch.replica_id = s->replica ? s->replica_id : -1;
	if (kc->st == NULL || !st_submit(kc->st, kc->core, &req))
		return false;
	s->armed = true;
	return true;
}

void
kp_sub_flush(struct kp_core *kc)
{
	while (kc->arm_head != KP_SUB_NONE) {
		uint32_t i = kc->arm_head;
		struct kp_sub *s = &kc->subs[i];

		if (s->waiters != NULL && !kp_sub_arm(kc, i))
			return;
		kc->arm_head = s->anext;
		if (kc->arm_head == KP_SUB_NONE)
			kc->arm_tail = KP_SUB_NONE;
		s->to_arm = false;
		if (!s->armed)
			kp_sub_free(kc, i);     /* everyone left before it armed */
	}
}

static void
kp_sub_arm_later(struct kp_core *kc, uint32_t i)
{
	struct kp_sub *s = &kc->subs[i];

	s->to_arm = true;
	s->anext = KP_SUB_NONE;
	if (kc->arm_tail != KP_SUB_NONE)
		kc->subs[kc->arm_tail].anext = i;
	else
		kc->arm_head = i;
	kc->arm_tail = i;
}

bool
kp_sub_join(struct kp_core *kc, struct kp_part *pt, int64_t hw, bool *ready)
{
	bool replica = pt->owner->replica;
	uint32_t i = kp_sub_find(kc, pt->topic_id, pt->partition, replica);
	struct kp_sub *s;

	ASSERT(pt->sub == KP_SUB_NONE);
	if (i == KP_SUB_NONE) {
		if (kc->sub_free == KP_SUB_NONE && kp_sub_grow(kc) != 0)
			return false;
		i = kc->sub_free;
		s = &kc->subs[i];
		kc->sub_free = s->hnext;
		s->used = true;
		s->armed = false;
		s->to_arm = false;
		s->waiters = NULL;
		memcpy(s->topic_id, pt->topic_id, sizeof(s->topic_id));
		s->partition = pt->partition;
		s->replica = replica;
		s->replica_id = pt->owner->replica_id;
		s->offset = hw;
		kp_sub_hash_insert(kc, i);
		kc->sub_used++;
		if (kc->arm_head != KP_SUB_NONE)
			kp_sub_arm_later(kc, i);        /* behind the others */
	}
	s = &kc->subs[i];
	if (!s->armed && !s->to_arm && !kp_sub_arm(kc, i))
		kp_sub_arm_later(kc, i);        /* its last watch ran out */
	/* The partition already has data past what this part saw. */
	if (hw < s->offset)
		*ready = true;
	pt->sub = i;
	pt->wprev = NULL;
	pt->wnext = s->waiters;
	if (s->waiters != NULL)
		s->waiters->wprev = pt;
	s->waiters = pt;
	return true;
}

void
kp_sub_leave(struct kp_core *kc, struct kp_part *pt)
{
	struct kp_sub *s;

	if (pt->sub == KP_SUB_NONE)
		return;
	s = &kc->subs[pt->sub];
	if (pt->wprev != NULL)
		pt->wprev->wnext = pt->wnext;
	else
		s->waiters = pt->wnext;
	if (pt->wnext != NULL)
		pt->wnext->wprev = pt->wprev;
	pt->wnext = pt->wprev = NULL;
	/* Kept while armed (the next waiter reuses the watch) or queued to
	 * arm (kp_sub_flush frees it). */
	if (s->waiters == NULL && !s->armed && !s->to_arm)
		kp_sub_free(kc, pt->sub);
	pt->sub = KP_SUB_NONE;
}

void
kp_sub_fired(struct kp_core *kc, const struct st_cpl *cpl)
{
	uint32_t i = tag_sub_index(cpl->token);
	uint16_t gen = (uint16_t)tag_sub_gen(cpl->token);
	struct kp_sub *s;

	ASSERT(i < kc->sub_cap);
	s = &kc->subs[i];
	ASSERT(s->used && s->armed && s->gen == gen);
	s->armed = false;
	/* Storage ran out of watches and answered at once: leave the waiters
	 * to their deadlines rather than spin on re-arming. */
	if (cpl->error == 0 && !s->replica && cpl->high_watermark <= s->offset) {
		if (s->waiters == NULL && !s->to_arm)
			kp_sub_free(kc, i);
		return;
	}
	/* Each wake takes all of its record's parts off their subscriptions,
	 * this one's included. */
	while (s->waiters != NULL)
		kp_pending_wake(kc, s->waiters->owner, false);
	if (s->used && !s->to_arm && s->waiters == NULL)
		kp_sub_free(kc, i);
}
