/* SPDX-License-Identifier: Apache-2.0 */
/* The protocol core of a dataplane core: its records (one per reply slot,
 * so a connection's in-flight limit bounds what it can hold), the poll that
 * routes storage completions to them and settles them, cancellation, the
 * ring of region releases sized to storage's reference pool, and the
 * Metadata cache. A record's own life is in kp_pending.c, long polls in
 * kp_sub.c and kp_heap.c. @thread dataplane */
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/clock.h"
#include "common/compiler.h"
#include "common/stage.h"
#include "common/tag.h"
#include "protocol/kp_core_priv.h"
#include "protocol/kp_quota.h"
#include "protocol/kp_records.h"

/* Completions taken from storage per call. */
#define KP_CPL_BURST 64u
/* Long polls whose deadline passed, woken per call. */
#define KP_WAKES_PER_POLL 32u

int32_t
kp_core_quota_record(struct kp_core *kc, const struct kp_md *md, enum kp_quota_key key,
		     struct kp_str client_id, double bytes)
{
	if (md == NULL || md->quota_count == 0)
		return 0;               /* no quotas: nothing counted, as Kafka */
	return kp_quota_record(kc->quota, md, key, client_id, bytes,
			       (int64_t)(clock_mono_ns() / 1000000u));
}

int32_t
kp_core_quota_record_hit(struct kp_core *kc, enum kp_quota_key key,
			 const struct kp_quota_hit *hit, struct kp_str client_id, double v)
{
	return kp_quota_record_hit(kc->quota, key, hit, client_id, v,
				   (int64_t)(clock_mono_ns() / 1000000u));
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
	kc->quota = kp_quota_table_create();
	if (kc->pending == NULL || kc->heap == NULL || kc->rel == NULL || kc->quota == NULL ||
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
	kp_quota_table_destroy(kc->quota);
	free(kc->md_body);
	free(kc->pending);
	free(kc->heap);
	free(kc->rel);
	free(kc);
}

/* The ring cannot overflow (see kp_core_create). */
void
kp_core_release_push(struct kp_core *kc, const uint8_t topic_id[16], int32_t partition,
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
kp_core_pieces_release(struct kp_core *kc, struct kp_piece *pieces, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++)
		kp_core_release_push(kc, pieces[i].topic_id, pieces[i].partition, pieces[i].ref);
	free(pieces);
}

static void
kp_core_release_flush(struct kp_core *kc)
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
	kp_core_release_flush(kc);
	while (kc->head[KP_LIST_SUBMIT] != NULL &&
	       kp_pending_submit_some(kc, kc->head[KP_LIST_SUBMIT]))
		kp_pending_list_remove(kc, KP_LIST_SUBMIT, kc->head[KP_LIST_SUBMIT]);
	kp_sub_flush(kc);
	st_flush(kc->st, kc->core);
}

uint64_t
kp_core_deadline(const struct kp_core *kc)
{
	/* Validation slices and records to settle: the next turn, at once. */
	if (kc->head[KP_LIST_VALIDATE] != NULL || kc->head[KP_LIST_READY] != NULL)
		return 0;
	return kc->heap_count > 0 ? kc->pending[kc->heap[0]].deadline_ns : UINT64_MAX;
}

/* ---- the validation queue (kp_pending.c) ---- */

/* Work per poll on the validation queue: a few slices, so a turn of the
 * core's loop stays within a couple of milliseconds. */
#define KP_VALIDATE_POLL_BUDGET (4 * (size_t)KP_RECORDS_STEP_BYTES)

/* Advance the queue's head records; those done are started, or go to the
 * ready list when nothing is left to ask storage. */
static void
kp_core_validate_poll(struct kp_core *kc)
{
	size_t budget = KP_VALIDATE_POLL_BUDGET;

	while (kc->head[KP_LIST_VALIDATE] != NULL && budget > 0) {
		struct kp_pending *p = kc->head[KP_LIST_VALIDATE];

		if (!p->ops->step(kc, p, &budget))
			return;
		if (p->t_frame_ns != 0)
			p->t_valid_ns = clock_mono_ns();        /* the receive stage ends */
		kp_pending_list_remove(kc, KP_LIST_VALIDATE, p);
		if (!kp_pending_start(kc, p))
			kp_pending_list_push(kc, KP_LIST_READY, p);
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
		pt->t_done_ns = cpl->append.t_done_ns;
		break;
	case ST_REQ_READ:
		pt->fd = cpl->error == 0 && cpl->read.len > 0 ? cpl->read.fd : -1;
		pt->len = pt->fd >= 0 ? cpl->read.len : 0;
		pt->pos = cpl->read.pos;
		pt->ref = cpl->read.ref;
		/* A long poll reads again: the new list replaces the old. */
		free(pt->aborted);
		pt->aborted = cpl->read.aborted;
		pt->aborted_count = cpl->read.aborted_count;
		if (pt->aborted != NULL)
			p->aborted_lists = true;
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
	case ST_REQ_DELETE_RECORDS:
		pt->offset = cpl->log_start_offset;     /* the low watermark */
		break;
	case ST_REQ_PRODUCERS:
		pt->producers = cpl->producers.list;
		pt->producer_count = cpl->producers.count;
		p->producer_lists = true;
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

/* A Produce's parts that storage timed: record their receive and ack
 * stages (the request completes on the core at now_ns) and leave send and
 * total to the dataplane, through done. */
static void
kp_core_stages(const struct kp_pending *p, struct stage_hists *stages, uint64_t now_ns,
	       struct kp_done *done)
{
	uint32_t count = 0;

	if (stages == NULL || p->t_valid_ns == 0 || p->t_frame_ns == 0 || p->no_reply)
		return;
	/* now_ns was read before the reap: a worker may have stamped a part
	 * after it. The request completes when its last part did, so the
	 * stages stay contiguous (ack >= 0, and send starts where ack ends). */
	for (uint32_t i = 0; i < p->part_count; i++)
		now_ns = MAX(now_ns, p->parts[i].t_done_ns);
	for (uint32_t i = 0; i < p->part_count; i++) {
		const struct kp_part *pt = &p->parts[i];

		if (pt->t_done_ns == 0 || pt->error != KP_ERR_NONE)
			continue;
		stage_add(stages, p->acks, STAGE_ACK, pt->t_done_ns, now_ns);
		count++;
	}
	stage_add_n(stages, p->acks, STAGE_RECEIVE, p->t_frame_ns, p->t_valid_ns, count);
	done->stage_count = count;
	done->stage_acks = p->acks;
	done->stage_done_ns = now_ns;
}

/* A record with no part left: finish it, or let it run another round or
 * wait. Returns true and fills done when it finished. */
static bool
kp_core_settle(struct kp_core *kc, struct kp_pending *p, struct kp_done *done,
	       struct stage_hists *stages, uint64_t now_ns)
{
	ASSERT(p->state == KP_PENDING_ACTIVE && p->part_left == 0);
	if (p->cancelled) {
		kp_core_drop(kc, p, done);
		return true;
	}
	if (p->ops->again != NULL && p->ops->again(kc, p))
		return false;
	memset(done, 0, sizeof(*done));
	done->tag = p->tag;
	done->frame_tag = p->frame_tag;
	done->frame_kept = p->frame_kept;
	kp_pending_reply(kc, p, done);
	if (done->verdict == KP_VERDICT_REPLY)
		kp_core_stages(p, stages, now_ns, done);
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
	kp_pending_list_remove(kc, KP_LIST_READY, p);
	kp_pending_list_remove(kc, KP_LIST_VALIDATE, p);
	if (p->state == KP_PENDING_WAITING) {
		for (uint32_t i = 0; i < p->part_count; i++)
			kp_sub_leave(kc, &p->parts[i]);
		kp_heap_remove(kc, p);
		p->state = KP_PENDING_ACTIVE;
	}
	/* Parts not submitted yet need no completion. */
	kp_pending_list_remove(kc, KP_LIST_SUBMIT, p);
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

	kp_core_validate_poll(kc);
	kp_core_flush(kc);
	/* Records a wake left with nothing to ask storage. */
	while (count < max && kc->head[KP_LIST_READY] != NULL) {
		struct kp_pending *p = kc->head[KP_LIST_READY];

		kp_pending_list_remove(kc, KP_LIST_READY, p);
		if (kp_core_settle(kc, p, &done[count], env->stages, now_ns))
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
			if (p != NULL &&
			    kp_core_settle(kc, p, &done[count], env->stages, now_ns))
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
