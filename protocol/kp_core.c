/* SPDX-License-Identifier: Apache-2.0 */
/* Per-core requests that wait on storage: one record per reply slot (so a
 * connection's in-flight limit bounds what it can hold), a FIFO of records
 * whose parts still go to storage (submitted as ring room allows, so nothing
 * grows when a ring is full), a ring of region releases sized to storage's
 * reference pool, long-poll subscriptions (kp_sub.c) and a deadline heap.
 * Allocates records' frame copies and part arrays, bounded by the frame.
 * @thread dataplane */
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/compiler.h"
#include "common/tag.h"
#include "protocol/kp_core_priv.h"
#include "protocol/kp_records.h"

/* Completions taken from storage per call. */
#define KP_CPL_BURST 64u
/* Long polls whose deadline passed, woken per call. */
#define KP_WAKES_PER_POLL 32u

STATIC_ASSERT(KP_SLOT_BITS == LIMITS_KP_SLOT_BITS && KP_PART_BITS == LIMITS_KP_PART_BITS,
	      "the storage token's budgets are common/limits.h's");

static uint64_t
kp_token(const struct kp_core *kc, const struct kp_pending *p, uint32_t part)
{
	uint64_t slot = (uint64_t)(p - kc->pending);

	ASSERT_HOT(slot < kc->slot_count);
	ASSERT_HOT(part <= KP_PARTS_MAX);
	return tag_kp(p->gen, (uint32_t)slot, part);
}

struct kp_core *
kp_core_create(struct st *st, int core, uint32_t slot_count)
{
	struct kp_core *kc;

	if (slot_count == 0 || slot_count > KP_SLOTS_MAX)
		return NULL;
	kc = calloc(1, sizeof(*kc));
	if (kc == NULL)
		return NULL;
	kc->st = st;
	kc->core = core;
	kc->slot_count = slot_count;
	/* One record and one heap entry per slot: calloc'd pages are touched
	 * only for the slots connections actually use. */
	kc->pending = calloc(slot_count, sizeof(*kc->pending));
	kc->heap = calloc(slot_count, sizeof(*kc->heap));
	/* Every region release frees one of storage's references, of which a
	 * core can hold at most st_refs_max() per worker: a ring of that size
	 * never overflows. */
	kc->rel_cap = st != NULL ? (uint32_t)st_worker_count(st) * st_refs_max() : 64;
	kc->rel = calloc(kc->rel_cap, sizeof(*kc->rel));
	if (kc->pending == NULL || kc->heap == NULL || kc->rel == NULL ||
	    kp_sub_init(kc) != 0) {
		kp_core_destroy(kc);
		return NULL;
	}
	return kc;
}

void
kp_core_destroy(struct kp_core *kc)
{
	if (kc == NULL)
		return;
	for (uint32_t i = 0; kc->pending != NULL && i < kc->slot_count; i++) {
		free(kc->pending[i].parts);
		free(kc->pending[i].copy);
	}
	kp_sub_fini(kc);
	free(kc->md_body);
	free(kc->pending);
	free(kc->heap);
	free(kc->rel);
	free(kc);
}

uint64_t
kp_pending_parts_bytes(uint32_t n)
{
	return (uint64_t)n * sizeof(struct kp_part);
}

/* Point the header and body cursors, which point into the frame at
 * old_base, at the same bytes in new_base. */
static void
kp_pending_rebase(struct kp_pending *p, const uint8_t *old_base, const uint8_t *new_base)
{
	if (p->hdr.client_id.ptr != NULL)
		p->hdr.client_id.ptr = (const char *)new_base +
				       ((const uint8_t *)p->hdr.client_id.ptr - old_base);
	p->body.pos = new_base + (p->body.pos - old_base);
	p->body.end = new_base + (p->body.end - old_base);
}

struct kp_pending *
kp_pending_get(struct kp_core *kc, struct kp_call *call, const struct kp_pending_ops *ops,
	       uint32_t part_count)
{
	const struct kp_env *env = call->env;
	struct kp_pending *p;
	struct kp_part *parts;
	uint8_t *copy = NULL;

	ASSERT(env->slot < kc->slot_count);
	p = &kc->pending[env->slot];
	/* The slot is the caller's and it is dispatching into it: a record
	 * still in use would mean two requests in one slot. */
	ASSERT(p->state == KP_PENDING_FREE);
	if (part_count > KP_PARTS_MAX)
		return NULL;
	parts = calloc(part_count > 0 ? part_count : 1, sizeof(*parts));
	if (parts == NULL)
		return NULL;
	if (!env->frame_keep) {
		copy = malloc(call->frame_len);
		if (copy == NULL) {
			free(parts);
			return NULL;
		}
		memcpy(copy, call->frame, call->frame_len);
	}
	memset(p, 0, offsetof(struct kp_pending, gen));
	p->state = KP_PENDING_ACTIVE;
	p->ready = false;
	p->rnext = p->rprev = NULL;
	p->vqueued = false;
	p->vnext = p->vprev = NULL;
	p->vpart = 0;
	p->job = NULL;
	p->acks = 0;
	p->cancelled = false;
	p->queued = false;
	p->frame_kept = env->frame_keep;
	p->next_submit = 0;
	p->ops = ops;
	p->tag = env->tag;
	p->conn = env->conn;
	p->frame_tag = env->frame_tag;
	p->copy = copy;
	p->hdr = call->hdr;
	p->body = call->body_start;
	if (copy != NULL)
		kp_pending_rebase(p, call->frame, copy);
	p->part_count = part_count;
	p->part_left = 0;
	p->parts = parts;
	p->deadline_ns = 0;
	p->heap_index = UINT32_MAX;
	p->api = NULL;
	p->held_bytes = (copy != NULL ? call->frame_len : 0) + kp_pending_parts_bytes(part_count);
	for (uint32_t i = 0; i < part_count; i++) {
		parts[i].fd = -1;
		parts[i].sub = KP_SUB_NONE;
		parts[i].owner = p;
	}
	call->out->frame_kept = p->frame_kept;
	call->out->held_bytes = p->held_bytes;
	kc->used++;
	return p;
}

void
kp_pending_put(struct kp_core *kc, struct kp_pending *p)
{
	ASSERT(p->state != KP_PENDING_FREE);
	ASSERT(p->part_left == 0 && !p->queued && p->heap_index == UINT32_MAX);
	ASSERT(!p->ready && !p->vqueued);
	kp_records_job_free(p->job);
	p->job = NULL;
	kp_pending_release_reads(kc, p);
	free(p->parts);
	p->parts = NULL;
	free(p->copy);
	p->copy = NULL;
	p->state = KP_PENDING_FREE;
	p->gen++;
	kc->used--;
}

/* ---- submission: a FIFO of records with parts not yet submitted ---- */

static void
kp_queue_push(struct kp_core *kc, struct kp_pending *p)
{
	if (p->queued)
		return;
	p->queued = true;
	p->qnext = NULL;
	p->qprev = kc->q_tail;
	if (kc->q_tail != NULL)
		kc->q_tail->qnext = p;
	else
		kc->q_head = p;
	kc->q_tail = p;
}

static void
kp_queue_remove(struct kp_core *kc, struct kp_pending *p)
{
	if (!p->queued)
		return;
	if (p->qprev != NULL)
		p->qprev->qnext = p->qnext;
	else
		kc->q_head = p->qnext;
	if (p->qnext != NULL)
		p->qnext->qprev = p->qprev;
	else
		kc->q_tail = p->qprev;
	p->queued = false;
	p->qnext = p->qprev = NULL;
}

/* Submit p's parts from next_submit on; false when a ring was full. */
static bool
kp_pending_submit_some(struct kp_core *kc, struct kp_pending *p)
{
	while (p->next_submit < p->part_count) {
		uint32_t i = p->next_submit;
		struct kp_part *pt = &p->parts[i];
		struct st_req req;

		if (pt->op == 0) {
			p->next_submit++;
			continue;
		}
		memset(&req, 0, sizeof(req));
		req.type = pt->op;
		memcpy(req.topic_id, pt->topic_id, sizeof(req.topic_id));
		req.partition = pt->partition;
		req.token = kp_token(kc, p, i);
		switch (pt->op) {
		case ST_REQ_APPEND:
			req.acks = (int8_t)p->acks;
			req.append.batch = pt->batch;
			req.append.len = pt->batch_len;
			break;
		case ST_REQ_READ:
			req.read.offset = pt->in_offset;
			req.read.max_bytes = pt->in_limit;
			req.read.isolation = p->isolation;
			break;
		case ST_REQ_OFFSET:
			req.offset.timestamp = pt->in_offset;
			req.offset.isolation = p->isolation;
			break;
		case ST_REQ_EPOCH:
			req.epoch.leader_epoch = pt->in_limit;
			break;
		default:
			PANIC("bad part op");
		}
		if (!st_submit(kc->st, kc->core, &req))
			return false;
		pt->outstanding = true;
		p->next_submit++;
	}
	return true;
}

bool
kp_pending_start(struct kp_core *kc, struct kp_pending *p)
{
	ASSERT(p->state == KP_PENDING_ACTIVE && p->part_left == 0);
	p->next_submit = 0;
	for (uint32_t i = 0; i < p->part_count; i++)
		if (p->parts[i].op != 0)
			p->part_left++;
	if (p->part_left == 0)
		return false;
	/* Keep the order of requests: submit at once only behind nothing. */
	if (kc->q_head != NULL || !kp_pending_submit_some(kc, p))
		kp_queue_push(kc, p);
	return true;
}

/* Queue a region release; the ring cannot overflow (see kp_core_create). */
static void
kp_release_push(struct kp_core *kc, const uint8_t topic_id[16], int32_t partition,
		uint32_t ref)
{
	struct kp_release *r;

	ASSERT(kc->rel_count < kc->rel_cap);
	r = &kc->rel[(kc->rel_head + kc->rel_count) % kc->rel_cap];
	memcpy(r->topic_id, topic_id, sizeof(r->topic_id));
	r->partition = partition;
	r->ref = ref;
	kc->rel_count++;
}

void
kp_pending_release_reads(struct kp_core *kc, struct kp_pending *p)
{
	for (uint32_t i = 0; i < p->part_count; i++) {
		struct kp_part *pt = &p->parts[i];

		if (pt->fd >= 0 && pt->len > 0)
			kp_release_push(kc, pt->topic_id, pt->partition, pt->ref);
		pt->fd = -1;
		pt->len = 0;
	}
}

void
kp_core_pieces_release(struct kp_core *kc, struct kp_piece *pieces, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++)
		kp_release_push(kc, pieces[i].topic_id, pieces[i].partition, pieces[i].ref);
	free(pieces);
}

static void
kp_release_flush(struct kp_core *kc)
{
	while (kc->rel_count > 0) {
		struct kp_release *r = &kc->rel[kc->rel_head];
		struct st_req req;

		memset(&req, 0, sizeof(req));
		req.type = ST_REQ_RELEASE;
		memcpy(req.topic_id, r->topic_id, sizeof(req.topic_id));
		req.partition = r->partition;
		req.release.ref = r->ref;
		if (!st_submit(kc->st, kc->core, &req))
			return;
		kc->rel_head = (kc->rel_head + 1) % kc->rel_cap;
		kc->rel_count--;
	}
}

void
kp_core_flush(struct kp_core *kc)
{
	kp_release_flush(kc);
	while (kc->q_head != NULL && kp_pending_submit_some(kc, kc->q_head))
		kp_queue_remove(kc, kc->q_head);
	kp_sub_flush(kc);
	st_flush(kc->st, kc->core);
}

/* ---- the deadline heap (min by deadline_ns) of WAITING records ---- */

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

static void
kp_heap_push(struct kp_core *kc, struct kp_pending *p)
{
	ASSERT(kc->heap_count < kc->slot_count);
	kc->heap[kc->heap_count] = (uint32_t)(p - kc->pending);
	kc->heap_count++;
	kp_heap_up(kc, kc->heap_count - 1);
}

static void
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

uint64_t
kp_core_deadline(const struct kp_core *kc)
{
	/* Validation slices and records to settle: the next turn, at once. */
	if (kc->v_head != NULL || kc->ready_head != NULL)
		return 0;
	return kc->heap_count > 0 ? kc->pending[kc->heap[0]].deadline_ns : UINT64_MAX;
}

/* ---- the validation queue ---- */

/* Work per poll on the validation queue: a few slices, so a turn of the
 * core's loop stays within a couple of milliseconds. */
#define KP_VALIDATE_POLL_BUDGET (4 * (size_t)KP_RECORDS_STEP_BYTES)

bool
kp_pending_validating(const struct kp_core *kc, uint32_t conn)
{
	/* The queue holds the few requests that needed slicing. */
	for (const struct kp_pending *p = kc->v_head; p != NULL; p = p->vnext)
		if (p->conn == conn)
			return true;
	return false;
}

void
kp_pending_validate(struct kp_core *kc, struct kp_pending *p)
{
	ASSERT(!p->vqueued && p->ops->step != NULL);
	p->vqueued = true;
	p->vnext = NULL;
	p->vprev = kc->v_tail;
	if (kc->v_tail != NULL)
		kc->v_tail->vnext = p;
	else
		kc->v_head = p;
	kc->v_tail = p;
}

static void
kp_validate_remove(struct kp_core *kc, struct kp_pending *p)
{
	if (!p->vqueued)
		return;
	if (p->vprev != NULL)
		p->vprev->vnext = p->vnext;
	else
		kc->v_head = p->vnext;
	if (p->vnext != NULL)
		p->vnext->vprev = p->vprev;
	else
		kc->v_tail = p->vprev;
	p->vqueued = false;
	p->vnext = p->vprev = NULL;
}

/* Advance the queue's head records; those done are started, or go to the
 * ready list when nothing is left to ask storage. */
static void
kp_validate_poll(struct kp_core *kc)
{
	size_t budget = KP_VALIDATE_POLL_BUDGET;

	while (kc->v_head != NULL && budget > 0) {
		struct kp_pending *p = kc->v_head;

		if (!p->ops->step(kc, p, &budget))
			return;
		kp_validate_remove(kc, p);
		if (!kp_pending_start(kc, p))
			kp_ready_append(kc, p);
	}
}

/* ---- records to settle in the next poll ---- */

void
kp_ready_append(struct kp_core *kc, struct kp_pending *p)
{
	if (p->ready)
		return;
	p->ready = true;
	p->rnext = NULL;
	p->rprev = kc->ready_tail;
	if (kc->ready_tail != NULL)
		kc->ready_tail->rnext = p;
	else
		kc->ready_head = p;
	kc->ready_tail = p;
}

void
kp_ready_remove(struct kp_core *kc, struct kp_pending *p)
{
	if (!p->ready)
		return;
	if (p->rprev != NULL)
		p->rprev->rnext = p->rnext;
	else
		kc->ready_head = p->rnext;
	if (p->rnext != NULL)
		p->rnext->rprev = p->rprev;
	else
		kc->ready_tail = p->rprev;
	p->ready = false;
	p->rnext = p->rprev = NULL;
}

/* ---- waiting ---- */

void
kp_pending_wait(struct kp_core *kc, struct kp_pending *p)
{
	bool ready = false;

	ASSERT(p->state == KP_PENDING_ACTIVE && p->part_left == 0 && !p->queued);
	p->state = KP_PENDING_WAITING;
	for (uint32_t i = 0; i < p->part_count; i++) {
		struct kp_part *pt = &p->parts[i];

		if (pt->error != KP_ERR_NONE)
			continue;
		/* Out of subscriptions (memory): answer at once instead. */
		if (!kp_sub_join(kc, pt, pt->high_watermark, &ready))
			ready = true;
		if (ready)
			break;
	}
	kp_heap_push(kc, p);
	if (ready)
		kp_pending_wake(kc, p, false);
}

void
kp_pending_wake(struct kp_core *kc, struct kp_pending *p, bool final)
{
	ASSERT(p->state == KP_PENDING_WAITING);
	for (uint32_t i = 0; i < p->part_count; i++) {
		struct kp_part *pt = &p->parts[i];

		/* Still armed at what the part saw: nothing new to read there
		 * (an expired long poll then answers without asking storage). */
		pt->unchanged = pt->sub != KP_SUB_NONE && kc->subs[pt->sub].armed &&
				pt->high_watermark >= kc->subs[pt->sub].offset;
		kp_sub_leave(kc, pt);
	}
	kp_heap_remove(kc, p);
	p->state = KP_PENDING_ACTIVE;
	if (final)
		p->deadline_ns = 0;     /* the next answer is the last */
	p->ops->wake(kc, p);
	if (p->part_left == 0) {
		/* Nothing to read after all: finish from what is known, in
		 * the next poll (finish may not run inside a wake). */
		kp_ready_append(kc, p);
	}
}

/* ---- completions ---- */

/* Store one completion into its part; returns the record if it has no
 * part left. */
static struct kp_pending *
kp_core_route(struct kp_core *kc, const struct st_cpl *cpl)
{
	uint32_t slot = tag_kp_slot(cpl->token);
	uint32_t part = tag_kp_part(cpl->token);
	uint16_t gen = tag_kp_gen(cpl->token);
	struct kp_pending *p;
	struct kp_part *pt;

	ASSERT(slot < kc->slot_count);
	p = &kc->pending[slot];
	/* Records are never reused while a part is outstanding. */
	ASSERT(p->state == KP_PENDING_ACTIVE && p->gen == gen);
	ASSERT(part < p->part_count && p->parts[part].outstanding);
	pt = &p->parts[part];
	pt->outstanding = false;
	pt->op = 0;
	p->part_left--;
	pt->error = cpl->error;
	pt->log_start_offset = cpl->log_start_offset;
	pt->high_watermark = cpl->high_watermark;
	pt->last_stable_offset = cpl->last_stable_offset;
	switch (cpl->type) {
	case ST_REQ_APPEND:
		pt->offset = cpl->append.base_offset;
		pt->timestamp = cpl->append.log_append_time;
		break;
	case ST_REQ_READ:
		pt->fd = cpl->error == 0 && cpl->read.len > 0 ? cpl->read.fd : -1;
		pt->len = pt->fd >= 0 ? cpl->read.len : 0;
		pt->pos = cpl->read.pos;
		pt->ref = cpl->read.ref;
		break;
	case ST_REQ_OFFSET:
		pt->offset = cpl->offset.offset;
		pt->timestamp = cpl->offset.timestamp;
		pt->leader_epoch = cpl->offset.leader_epoch;
		break;
	case ST_REQ_EPOCH:
		pt->leader_epoch = cpl->epoch.leader_epoch;
		pt->offset = cpl->epoch.end_offset;
		break;
	default:
		PANIC("bad completion type for a pending record");
	}
	return p->part_left == 0 ? p : NULL;
}

/* Fill done for a record whose connection closed and free it. */
static void
kp_core_drop(struct kp_core *kc, struct kp_pending *p, struct kp_done *done)
{
	memset(done, 0, sizeof(*done));
	done->tag = p->tag;
	done->frame_tag = p->frame_tag;
	done->frame_kept = p->frame_kept;
	done->verdict = KP_VERDICT_CLOSE;
	kp_pending_put(kc, p);
}

/* A record with no part left: finish it, or let it run another round or
 * wait. Returns true and fills done when it finished. */
static bool
kp_core_settle(struct kp_core *kc, struct kp_pending *p, struct kp_done *done)
{
	ASSERT(p->state == KP_PENDING_ACTIVE && p->part_left == 0);
	if (p->cancelled) {
		kp_core_drop(kc, p, done);
		return true;
	}
	memset(done, 0, sizeof(*done));
	done->tag = p->tag;
	done->frame_tag = p->frame_tag;
	done->frame_kept = p->frame_kept;
	if (!p->ops->finish(kc, p, done))
		return false;
	kp_pending_put(kc, p);
	return true;
}

bool
kp_core_cancel(struct kp_core *kc, uint32_t slot, struct kp_done *done)
{
	struct kp_pending *p;

	ASSERT(slot < kc->slot_count);
	p = &kc->pending[slot];
	if (p->state == KP_PENDING_FREE || p->cancelled)
		return false;
	p->cancelled = true;
	kp_ready_remove(kc, p);
	kp_validate_remove(kc, p);
	if (p->state == KP_PENDING_WAITING) {
		for (uint32_t i = 0; i < p->part_count; i++)
			kp_sub_leave(kc, &p->parts[i]);
		kp_heap_remove(kc, p);
		p->state = KP_PENDING_ACTIVE;
	}
	/* Parts not submitted yet need no completion. */
	kp_queue_remove(kc, p);
	for (uint32_t i = p->next_submit; i < p->part_count; i++) {
		if (p->parts[i].op != 0 && !p->parts[i].outstanding) {
			p->parts[i].op = 0;
			p->part_left--;
		}
	}
	if (p->part_left > 0)
		return false;   /* storage still reads from it: kp_core_poll() drops it */
	kp_core_drop(kc, p, done);
	return true;
}

unsigned
kp_core_poll(struct kp_core *kc, const struct kp_env *env, uint64_t now_ns,
	     struct kp_done *done, unsigned max)
{
	struct st_cpl cpls[KP_CPL_BURST];
	unsigned count = 0;
	unsigned n;

	(void)env;
	kp_validate_poll(kc);
	kp_core_flush(kc);
	/* Records a wake left with nothing to ask storage. */
	while (count < max && kc->ready_head != NULL) {
		struct kp_pending *p = kc->ready_head;

		kp_ready_remove(kc, p);
		if (kp_core_settle(kc, p, &done[count]))
			count++;
	}
	while (count < max && (n = st_reap(kc->st, kc->core, cpls, MIN(max - count,
								   KP_CPL_BURST))) > 0) {
		for (unsigned i = 0; i < n; i++) {
			struct kp_pending *p;

			if (cpls[i].type == ST_REQ_WATCH) {
				kp_sub_fired(kc, &cpls[i]);
				continue;
			}
			p = kp_core_route(kc, &cpls[i]);
			if (p != NULL && kp_core_settle(kc, p, &done[count]))
				count++;
		}
	}
	/* Expired long polls, a bounded number per call: 10,000 consumers
	 * whose deadlines bunch up are answered over several turns, between
	 * other clients' requests, not in one long turn. */
	for (unsigned woken = 0; woken < KP_WAKES_PER_POLL && kc->heap_count > 0 &&
				 kc->pending[kc->heap[0]].deadline_ns <= now_ns; woken++)
		kp_pending_wake(kc, &kc->pending[kc->heap[0]], true);
	return count;
}

/* ---- duplicate partitions ---- */

int
kp_part_map_init(struct kp_part_map *m, uint32_t count)
{
	uint32_t size = 16;

	while (size < 2 * (uint64_t)count)
		size *= 2;
	m->slots = malloc(sizeof(*m->slots) * size);
	if (m->slots == NULL)
		return -1;
	memset(m->slots, 0xff, sizeof(*m->slots) * size);
	m->mask = size - 1;
	return 0;
}

void
kp_part_map_free(struct kp_part_map *m)
{
	free(m->slots);
	m->slots = NULL;
}

static uint32_t
kp_part_hash(const struct kp_part *pt)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (int32_t i = 0; i < pt->topic.len; i++)
		h = (h ^ (uint8_t)pt->topic.ptr[i]) * 0x100000001b3ull;
	h = (h ^ (uint32_t)pt->partition) * 0x100000001b3ull;
	return (uint32_t)(h ^ (h >> 31));
}

uint32_t
kp_part_map_put(struct kp_part_map *m, const struct kp_part *parts, uint32_t index)
{
	const struct kp_part *pt = &parts[index];
	uint32_t i = kp_part_hash(pt) & m->mask;

	while (m->slots[i] != UINT32_MAX) {
		const struct kp_part *o = &parts[m->slots[i]];

		if (o->partition == pt->partition && kp_str_eq(o->topic, pt->topic))
			return m->slots[i];
		i = (i + 1) & m->mask;
	}
	m->slots[i] = index;
	return index;
}

/* ---- the all-topics Metadata cache ---- */

const uint8_t *
kp_core_md_cached(const struct kp_core *kc, uint64_t epoch, uint32_t key, size_t *len)
{
	if (kc->md_body == NULL || kc->md_epoch != epoch || kc->md_key != key)
		return NULL;
	*len = kc->md_len;
	return kc->md_body;
}

void
kp_core_md_store(struct kp_core *kc, uint64_t epoch, uint32_t key, const uint8_t *body,
		 size_t len)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);

	if (copy == NULL)
		return;
	memcpy(copy, body, len);
	free(kc->md_body);
	kc->md_body = copy;
	kc->md_len = len;
	kc->md_epoch = epoch;
	kc->md_key = key;
}
