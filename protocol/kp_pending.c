/* SPDX-License-Identifier: Apache-2.0 */
/* The life of one request that waits on storage, the same for every such
 * API (the shape is described in kp_core_int.h): its record is taken and
 * filled (kp_pending_begin, kp_pending_visit), its parts are submitted in
 * request order as ring room allows, it waits, wakes or is validated in
 * slices, and it is answered by kp_pending_reply. Allocates the record's
 * frame copy and part array, both bounded by the frame. @thread dataplane */
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/compiler.h"
#include "common/tag.h"
#include "protocol/kp_core_priv.h"
#include "protocol/kp_records.h"

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

/* The record of this call's reply slot, reset, with the frame kept or
 * copied and the header and body rebased onto that memory; no parts yet.
 * NULL when out of memory. */
static struct kp_pending *
kp_pending_get(struct kp_core *kc, struct kp_call *call, const struct kp_pending_ops *ops)
{
	const struct kp_env *env = call->env;
	struct kp_pending *p;
	uint8_t *copy = NULL;

	ASSERT(env->slot < kc->slot_count);
	p = &kc->pending[env->slot];
	/* The slot is the caller's and it is dispatching into it: a record
	 * still in use would mean two requests in one slot. */
	ASSERT(p->state == KP_PENDING_FREE);
	if (!env->frame_keep) {
		copy = malloc(call->frame_len);
		if (copy == NULL)
			return NULL;
		memcpy(copy, call->frame, call->frame_len);
	}
	/* Everything up to gen; gen itself lives on across uses. */
	memset(p, 0, offsetof(struct kp_pending, gen));
	p->state = KP_PENDING_ACTIVE;
	memset(p->link, 0, sizeof(p->link));
	p->vpart = 0;
	p->job = NULL;
	p->acks = 0;
	p->no_reply = false;
	p->producer_lists = false;
	p->aborted_lists = false;
	p->cancelled = false;
	p->wakes_at_once = 0;
	p->frame_kept = env->frame_keep;
	p->next_submit = 0;
	p->replica = false;             /* a consumer unless Fetch says */
	p->replica_id = -1;
	p->ops = ops;
	p->tag = env->tag;
	p->conn = env->conn;
	p->frame_tag = env->frame_tag;
	p->copy = copy;
	p->hdr = call->hdr;
	p->body = call->body_start;
	p->t_frame_ns = env->t0_ns;
	if (copy != NULL)
		kp_pending_rebase(p, call->frame, copy);
	p->part_count = 0;
	p->part_left = 0;
	p->parts = NULL;
	p->deadline_ns = 0;
	p->heap_index = UINT32_MAX;
	p->api = NULL;
	p->held_bytes = copy != NULL ? call->frame_len : 0;
	kc->used++;
	return p;
}

/* Give p part_count zeroed parts; false when out of memory or too many. */
static bool
kp_pending_parts(struct kp_pending *p, struct kp_call *call, uint32_t part_count)
{
	struct kp_part *parts;

	if (part_count > KP_PARTS_MAX)
		return false;
	parts = calloc(part_count > 0 ? part_count : 1, sizeof(*parts));
	if (parts == NULL)
		return false;
	for (uint32_t i = 0; i < part_count; i++) {
		parts[i].fd = -1;
		parts[i].sub = KP_SUB_NONE;
		parts[i].owner = p;
	}
	p->parts = parts;
	p->part_count = part_count;
	p->held_bytes += kp_pending_parts_bytes(part_count);
	call->out->frame_kept = p->frame_kept;
	call->out->held_bytes = p->held_bytes;
	return true;
}

/* Partitions the request names (a full walk of its topic array, counting
 * each entry's list without decoding it), at most UINT32_MAX. */
static uint32_t
kp_pending_count(const struct kp_pending *p)
{
	const struct kp_shape *shape = p->ops->shape;
	struct kp_cursor it = kp_array_cursor(&p->topics);
	uint64_t count = 0;

	for (int32_t i = 0; i < p->topics.count; i++) {
		struct kp_array parts;

		(void)shape->topic(&it, p->hdr.request_api_version, &parts);
		count += kp_count0(parts.count);
	}
	return count > UINT32_MAX ? UINT32_MAX : (uint32_t)count;
}

struct kp_pending *
kp_pending_begin(struct kp_call *call, const struct kp_pending_ops *ops, void *req)
{
	struct kp_core *kc = call->env->kc;
	struct kp_pending *p;
	struct kp_cursor body;

	if (kc == NULL)
		return NULL;            /* no storage: cannot happen in the broker */
	p = kp_pending_get(kc, call, ops);
	if (p == NULL)
		return NULL;
	body = p->body;
	if (ops->shape->request(&body, p->hdr.request_api_version, req, &p->topics) != 0 ||
	    !kp_pending_parts(p, call, kp_pending_count(p))) {
		kp_pending_put(kc, p);
		return NULL;
	}
	return p;
}

void
kp_pending_visit(const struct kp_pending *p, const struct kp_visit *v)
{
	const struct kp_shape *shape = p->ops->shape;
	int16_t version = p->hdr.request_api_version;
	struct kp_cursor it = kp_array_cursor(&p->topics);
	struct kp_visit_part vp = { .entry = v->entry };

	for (int32_t i = 0; i < p->topics.count; i++) {
		struct kp_array parts;
		struct kp_cursor pit;

		vp.name = shape->topic(&it, version, &parts);
		vp.topic = v->md != NULL ? kp_md_topic_by_name(v->md, vp.name) : NULL;
		vp.denied = v->acl_op != 0 &&
			    !kp_authorize(v->env, v->acl_op, KP_RES_TOPIC, vp.name);
		if (v->topic != NULL)
			v->topic(v->arg, vp.name, vp.index, (uint32_t)kp_count0(parts.count));
		if (v->part == NULL) {
			vp.index += (uint32_t)kp_count0(parts.count);
			continue;
		}
		pit = kp_array_cursor(&parts);
		for (int32_t j = 0; j < parts.count; j++) {
			shape->part(&pit, version, v->entry);
			v->part(v->arg, &vp);
			vp.index++;
		}
	}
}

void
kp_pending_put(struct kp_core *kc, struct kp_pending *p)
{
	ASSERT(p->state != KP_PENDING_FREE);
	ASSERT(p->part_left == 0 && p->heap_index == UINT32_MAX);
	for (int l = 0; l < KP_LISTS; l++)
		ASSERT(!p->link[l].on);
	kp_records_job_free(p->job);
	p->job = NULL;
	kp_pending_release_reads(kc, p);
	/* Only DescribeProducers' parts hold lists: other APIs skip the walk. */
	for (uint32_t i = 0; p->producer_lists && i < p->part_count; i++)
		free(p->parts[i].producers);
	p->producer_lists = false;
	for (uint32_t i = 0; p->aborted_lists && i < p->part_count; i++)
		free(p->parts[i].aborted);
	p->aborted_lists = false;
	free(p->parts);
	p->parts = NULL;
	free(p->copy);
	p->copy = NULL;
	free(p->api);
	p->api = NULL;
	p->state = KP_PENDING_FREE;
	p->gen++;
	kc->used--;
}

/* ---- the core's lists of records ---- */

void
kp_pending_list_push(struct kp_core *kc, enum kp_list l, struct kp_pending *p)
{
	struct kp_link *k = &p->link[l];

	if (k->on)
		return;
	k->on = true;
	k->next = NULL;
	k->prev = kc->tail[l];
	if (kc->tail[l] != NULL)
		kc->tail[l]->link[l].next = p;
	else
		kc->head[l] = p;
	kc->tail[l] = p;
}

void
kp_pending_list_remove(struct kp_core *kc, enum kp_list l, struct kp_pending *p)
{
	struct kp_link *k = &p->link[l];

	if (!k->on)
		return;
	if (k->prev != NULL)
		k->prev->link[l].next = k->next;
	else
		kc->head[l] = k->next;
	if (k->next != NULL)
		k->next->link[l].prev = k->prev;
	else
		kc->tail[l] = k->prev;
	k->on = false;
	k->next = k->prev = NULL;
}

/* ---- submission: KP_LIST_SUBMIT, records with parts not yet submitted ----
 * Full-ring policy: a record whose part did not fit stays at the head, and
 * every record behind it waits (request order), until a later
 * kp_core_flush() finds room: storage's ring pushes back on the core, and
 * the core on its connections through their in-flight slots. */

bool
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
			req.append.t_valid_ns = p->t_valid_ns;
			req.flags = ST_APPEND_TIMEOUT;
			req.append.timeout_ms = p->timeout_ms;
			break;
		case ST_REQ_READ:
			req.read.offset = pt->in_offset;
			req.read.max_bytes = pt->in_limit;
			req.read.isolation = p->isolation;
			req.read.replica_id = p->replica ? p->replica_id : -1;
			break;
		case ST_REQ_OFFSET:
			req.offset.timestamp = pt->in_offset;
			req.offset.isolation = p->isolation;
			break;
		case ST_REQ_EPOCH:
			req.epoch.leader_epoch = pt->in_limit;
			break;
		case ST_REQ_DELETE_RECORDS:
			req.delete_records.offset = pt->in_offset;
			break;
		case ST_REQ_PRODUCERS:
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
	if (kc->head[KP_LIST_SUBMIT] != NULL || !kp_pending_submit_some(kc, p))
		kp_pending_list_push(kc, KP_LIST_SUBMIT, p);
	return true;
}

enum kp_verdict
kp_pending_run(struct kp_core *kc, struct kp_pending *p, struct kp_call *call)
{
	bool no_reply = p->no_reply;

	if (kp_pending_start(kc, p))
		return KP_VERDICT_PENDING;
	/* Every partition was answered before storage: answer now, after the
	 * header dispatch wrote (no file regions without a read). */
	if (!no_reply)
		p->ops->encode(p, call->w);
	call->out->throttle_ms = p->throttle_ms;
	kp_pending_put(kc, p);
	return no_reply ? KP_VERDICT_NO_REPLY : KP_VERDICT_REPLY;
}

/* Parts whose file region goes in the response (see kp_pending_ops). */
static bool
kp_pending_part_sent(const struct kp_part *pt)
{
	return pt->len > 0 && pt->error == KP_ERR_NONE && !pt->cut;
}

/* Move the regions the encoder wrote as holes (in part order) into done's
 * pieces: the reply owns them from now on. */
static void
kp_pending_pieces(struct kp_pending *p, const struct kp_writer *w, struct kp_done *done)
{
	for (uint32_t i = 0, h = 0; i < p->part_count; i++) {
		struct kp_part *pt = &p->parts[i];
		struct kp_piece *piece;

		if (!kp_pending_part_sent(pt))
			continue;
		ASSERT(h < w->hole_count && w->holes[h].len == (uint32_t)pt->len);
		piece = &done->pieces[h];
		piece->at = (uint32_t)w->holes[h].at;
		piece->len = (uint32_t)pt->len;
		piece->fd = pt->fd;
		piece->pos = pt->pos;
		piece->ref = pt->ref;
		piece->partition = pt->partition;
		memcpy(piece->topic_id, pt->topic_id, sizeof(piece->topic_id));
		pt->fd = -1;
		pt->len = 0;
		h++;
	}
	done->piece_count = w->hole_count;
}

void
kp_pending_reply(struct kp_core *kc, struct kp_pending *p, struct kp_done *done)
{
	struct kp_hole *holes = NULL;
	uint32_t regions = 0;
	struct kp_writer w;

	done->verdict = p->no_reply ? KP_VERDICT_NO_REPLY : KP_VERDICT_REPLY;
	/* Both quotas apply; the larger throttle wins (KafkaApis). */
	p->throttle_ms = MAX(p->throttle_ms, p->req_throttle_ms);
	done->throttle_ms = p->throttle_ms;
	if (p->no_reply)
		return;
	for (uint32_t i = 0; i < p->part_count; i++)
		regions += kp_pending_part_sent(&p->parts[i]);
	kp_writer_init(&w, 256 + 64 * (size_t)p->part_count);
	if (regions > 0) {
		holes = calloc(regions, sizeof(*holes));
		done->pieces = calloc(regions, sizeof(*done->pieces));
		w.holes = holes;
		w.hole_cap = holes != NULL ? regions : 0;
	}
	kp_response_begin(&w, &p->hdr);
	p->ops->encode(p, &w);
	if ((regions > 0 && (holes == NULL || done->pieces == NULL)) ||
	    !kp_response_end(&w, &done->resp)) {
		kp_writer_free(&w);
		free(done->pieces);
		done->pieces = NULL;
		done->verdict = KP_VERDICT_CLOSE;
	} else if (regions > 0) {
		kp_pending_pieces(p, &w, done);
	}
	kp_pending_release_reads(kc, p);        /* regions not sent (cut, or on error) */
	free(holes);
}

void
kp_pending_release_reads(struct kp_core *kc, struct kp_pending *p)
{
	for (uint32_t i = 0; i < p->part_count; i++) {
		struct kp_part *pt = &p->parts[i];

		if (pt->fd >= 0 && pt->len > 0)
			kp_core_release_push(kc, pt->topic_id, pt->partition, pt->ref);
		pt->fd = -1;
		pt->len = 0;
	}
}

/* ---- validation: KP_LIST_VALIDATE ----
 * Not a ring: nothing is refused; the work per poll is bounded
 * (KP_VALIDATE_POLL_BUDGET), and a connection's Produces behind its queued
 * one wait in their reply slots. */

bool
kp_pending_validating(const struct kp_core *kc, uint32_t conn)
{
	/* The list holds the few requests that needed slicing. */
	for (const struct kp_pending *p = kc->head[KP_LIST_VALIDATE]; p != NULL;
	     p = p->link[KP_LIST_VALIDATE].next)
		if (p->conn == conn)
			return true;
	return false;
}

void
kp_pending_validate(struct kp_core *kc, struct kp_pending *p)
{
	ASSERT(!p->link[KP_LIST_VALIDATE].on && p->ops->step != NULL);
	kp_pending_list_push(kc, KP_LIST_VALIDATE, p);
}

/* ---- waiting ---- */

/* What a waiting part has seen: the high watermark, or for a follower's
 * fetch its position (it waits for the log end to pass it). */
static int64_t
kp_pending_seen(const struct kp_pending *p, const struct kp_part *pt)
{
	return p->replica ? pt->in_offset : pt->high_watermark;
}

void
kp_pending_wait(struct kp_core *kc, struct kp_pending *p)
{
	bool ready = false;

	ASSERT(p->state == KP_PENDING_ACTIVE && p->part_left == 0 &&
	       !p->link[KP_LIST_SUBMIT].on);
	p->state = KP_PENDING_WAITING;
	for (uint32_t i = 0; i < p->part_count; i++) {
		struct kp_part *pt = &p->parts[i];

		if (pt->error != KP_ERR_NONE)
			continue;
		/* Out of subscriptions (memory): answer at once instead. */
		if (!kp_sub_join(kc, pt, kp_pending_seen(p, pt), &ready))
			ready = true;
		if (ready)
			break;
	}
	kp_heap_push(kc, p);
	p->wakes_at_once = ready ? (uint8_t)MIN(p->wakes_at_once + 1, 255) : 0;
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
				kp_pending_seen(p, pt) >= kc->subs[pt->sub].offset;
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
		kp_pending_list_push(kc, KP_LIST_READY, p);
	}
}

/* ---- encoding a response from the parts ---- */

uint32_t
kp_pending_topic_run(const struct kp_pending *p, uint32_t i)
{
	uint32_t end = i + 1;

	while (end < p->part_count && kp_str_eq(p->parts[end].topic, p->parts[i].topic))
		end++;
	return end;
}

struct kp_pending_enc {
	const struct kp_pending *p;
	const struct kp_encoders *e;
	struct kp_writer topics;
	int32_t topic_count;
};

/* One topic entry of the response: parts [first, first + count). */
static void
kp_pending_encode_topic(void *arg, struct kp_str name, uint32_t first, uint32_t count)
{
	struct kp_pending_enc *enc = arg;
	int16_t version = enc->p->hdr.request_api_version;
	struct kp_writer parts;

	kp_writer_init(&parts, 64);
	for (uint32_t i = first; i < first + count; i++)
		enc->e->part(&parts, version, &enc->p->parts[i]);
	enc->e->topic(&enc->topics, version, name, kp_array_wire((int32_t)count, &parts));
	kp_writer_free(&parts);
	enc->topic_count++;
}

void
kp_pending_encode(const struct kp_pending *p, struct kp_writer *w, const struct kp_encoders *e,
		  enum kp_grouping grouping)
{
	struct kp_pending_enc enc = { .p = p, .e = e };

	kp_writer_init(&enc.topics, 128);
	if (grouping == KP_GROUP_REQUEST) {
		struct kp_visit v = { .topic = kp_pending_encode_topic, .arg = &enc };

		kp_pending_visit(p, &v);
	} else {
		for (uint32_t i = 0, end; i < p->part_count; i = end) {
			end = kp_pending_topic_run(p, i);
			kp_pending_encode_topic(&enc, p->parts[i].topic, i, end - i);
		}
	}
	e->response(w, p->hdr.request_api_version, kp_array_wire(enc.topic_count, &enc.topics),
		    p->throttle_ms);
	kp_writer_free(&enc.topics);
}
