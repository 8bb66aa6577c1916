/* SPDX-License-Identifier: Apache-2.0 */
/* Per-core requests that wait on storage: a fixed pool of pending records,
 * tokens that route each storage completion to its record and partition,
 * a backlog for requests a full ring refused, and long-poll deadlines.
 * Allocates only the per-request partition arrays. @thread dataplane */
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/compiler.h"
#include "protocol/kp_core_int.h"

/* Completions taken from storage per call. */
#define KP_CPL_BURST 64u

struct kp_core {
	struct st *st;
	int core;
	uint32_t free_count;
	uint32_t waiting_count;         /* records with waiting set: the deadline
					 * scans below run only when nonzero */
	uint32_t free_ids[KP_PENDING_MAX];
	struct kp_pending pending[KP_PENDING_MAX];
	/* Requests refused by a full ring, retried in order. */
	uint32_t backlog_count;
	uint32_t backlog_cap;
	struct st_req *backlog;
};

/* token = gen (32) | record index (10, in 16) | round (8) | part (16)...
 * packed as: [63..32] gen, [31..22] index, [21..16] round, [15..0] part. */
static uint64_t
kp_token(const struct kp_core *kc, const struct kp_pending *p, uint32_t part)
{
	uint64_t index = (uint64_t)(p - kc->pending);

	STATIC_ASSERT(KP_PENDING_MAX <= 1024u, "10 bits of token for the record index");
	return ((uint64_t)p->gen << 32) | (index << 22) | ((uint64_t)(p->round & 0x3f) << 16) |
	       part;
}

struct kp_core *
kp_core_create(struct st *st, int core)
{
	struct kp_core *kc = calloc(1, sizeof(*kc));

	if (kc == NULL)
		return NULL;
	kc->st = st;
	kc->core = core;
	for (uint32_t i = 0; i < KP_PENDING_MAX; i++)
		kc->free_ids[i] = KP_PENDING_MAX - 1 - i;
	kc->free_count = KP_PENDING_MAX;
	return kc;
}

void
kp_core_destroy(struct kp_core *kc)
{
	if (kc == NULL)
		return;
	for (uint32_t i = 0; i < KP_PENDING_MAX; i++)
		free(kc->pending[i].parts);
	free(kc->backlog);
	free(kc);
}

struct kp_pending *
kp_pending_get(struct kp_core *kc, const struct kp_call *call,
	       const struct kp_pending_ops *ops, uint32_t part_count)
{
	struct kp_pending *p;
	struct kp_part *parts;

	if (kc->free_count == 0 || part_count > KP_PENDING_PARTS_MAX)
		return NULL;
	/* Sized by the partitions the client listed, which the frame's bytes
	 * (at most socket.request.max.bytes) bound: each takes >= 4 bytes. */
	parts = calloc(part_count > 0 ? part_count : 1, sizeof(*parts));
	if (parts == NULL)
		return NULL;
	p = &kc->pending[kc->free_ids[--kc->free_count]];
	ASSERT(!p->used);
	p->used = true;
	p->gen++;
	p->round = 0;
	p->ops = ops;
	p->tag = call->env->tag;
	p->frame_tag = call->env->frame_tag;
	p->hdr = call->hdr;
	p->body = call->body_start;
	p->part_count = part_count;
	p->part_left = 0;
	p->parts = parts;
	p->waiting = false;
	p->deadline_ns = UINT64_MAX;
	for (uint32_t i = 0; i < part_count; i++)
		parts[i].fd = -1;
	return p;
}

void
kp_pending_put(struct kp_core *kc, struct kp_pending *p)
{
	ASSERT(p->used && p->part_left == 0);
	free(p->parts);
	p->parts = NULL;
	p->used = false;
	p->gen++;
	kc->free_ids[kc->free_count++] = (uint32_t)(p - kc->pending);
}

static void
kp_core_backlog_push(struct kp_core *kc, const struct st_req *req)
{
	if (kc->backlog_count == kc->backlog_cap) {
		uint32_t cap = kc->backlog_cap == 0 ? 64 : kc->backlog_cap * 2;
		struct st_req *b = realloc(kc->backlog, sizeof(*b) * cap);

		ASSERT(b != NULL);
		kc->backlog = b;
		kc->backlog_cap = cap;
	}
	kc->backlog[kc->backlog_count++] = *req;
}

static void
kp_core_submit(struct kp_core *kc, const struct st_req *req)
{
	if (kc->backlog_count > 0 || !st_submit(kc->st, kc->core, req))
		kp_core_backlog_push(kc, req);
}

void
kp_pending_submit(struct kp_core *kc, struct kp_pending *p, uint32_t part, struct st_req *req)
{
	struct kp_part *pt = &p->parts[part];

	ASSERT_HOT(part < p->part_count);
	ASSERT_HOT(!pt->outstanding);
	memcpy(req->topic_id, pt->topic_id, sizeof(req->topic_id));
	req->partition = pt->partition;
	req->token = kp_token(kc, p, part);
	pt->outstanding = true;
	p->part_left++;
	kp_core_submit(kc, req);
}

void
kp_pending_wait(struct kp_core *kc, struct kp_pending *p)
{
	ASSERT(!p->waiting);
	p->waiting = true;
	kc->waiting_count++;
}

void
kp_pending_next_round(struct kp_pending *p)
{
	p->round++;
	p->part_left = 0;
	for (uint32_t i = 0; i < p->part_count; i++)
		p->parts[i].outstanding = false;
}

static void
kp_core_release_one(struct kp_core *kc, const uint8_t topic_id[16], int32_t partition,
		    uint32_t ref)
{
	struct st_req req;

	memset(&req, 0, sizeof(req));
	req.type = ST_REQ_RELEASE;
	memcpy(req.topic_id, topic_id, sizeof(req.topic_id));
	req.partition = partition;
	req.release.ref = ref;
	kp_core_submit(kc, &req);
}

void
kp_pending_release_reads(struct kp_core *kc, struct kp_pending *p)
{
	for (uint32_t i = 0; i < p->part_count; i++) {
		struct kp_part *pt = &p->parts[i];

		if (pt->fd >= 0 && pt->len > 0)
			kp_core_release_one(kc, pt->topic_id, pt->partition, pt->ref);
		pt->fd = -1;
		pt->len = 0;
	}
}

void
kp_core_pieces_release(struct kp_core *kc, struct kp_piece *pieces, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++)
		kp_core_release_one(kc, pieces[i].topic_id, pieces[i].partition, pieces[i].ref);
	free(pieces);
}

void
kp_core_flush(struct kp_core *kc)
{
	uint32_t sent = 0;

	while (sent < kc->backlog_count && st_submit(kc->st, kc->core, &kc->backlog[sent]))
		sent++;
	if (sent > 0) {
		memmove(kc->backlog, kc->backlog + sent,
			sizeof(*kc->backlog) * (kc->backlog_count - sent));
		kc->backlog_count -= sent;
	}
	st_flush(kc->st, kc->core);
}

uint64_t
kp_core_deadline(const struct kp_core *kc)
{
	uint64_t earliest = UINT64_MAX;

	if (kc->waiting_count == 0)
		return earliest;        /* the common case: no long poll waits */
	/* Linear, but only over records in use that wait; the pool is small. */
	for (uint32_t i = 0; i < KP_PENDING_MAX; i++)
		if (kc->pending[i].used && kc->pending[i].waiting)
			earliest = MIN(earliest, kc->pending[i].deadline_ns);
	return earliest;
}

/* Store one completion into its partition. A completion for a record that
 * moved on (a later round, or finished) is a WATCH that fired late: a round
 * changes only once every READ of the round has completed, so no file
 * region can be stranded here. */
static struct kp_pending *
kp_core_route(struct kp_core *kc, const struct st_cpl *cpl)
{
	uint32_t index = (uint32_t)(cpl->token >> 22) & 0x3ff;
	uint32_t round = (uint32_t)(cpl->token >> 16) & 0x3f;
	uint32_t part = (uint32_t)cpl->token & 0xffff;
	struct kp_pending *p = &kc->pending[index];
	struct kp_part *pt;

	if (!p->used || p->gen != (uint32_t)(cpl->token >> 32) ||
	    (p->round & 0x3f) != round || part >= p->part_count ||
	    !p->parts[part].outstanding) {
		ASSERT(cpl->type == ST_REQ_WATCH);
		return NULL;
	}
	pt = &p->parts[part];
	pt->outstanding = false;
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
		break;                  /* WATCH: only the wake-up matters */
	}
	return p;
}

/* A record whose partitions all completed: finish it, or let it run
 * another round. Returns true and fills done when it finished. */
static bool
kp_core_settle(struct kp_core *kc, struct kp_pending *p, struct kp_done *done)
{
	if (p->waiting) {
		/* A watch fired: stop waiting, read again (ops->expire). */
		p->waiting = false;
		kc->waiting_count--;
		kp_pending_next_round(p);
		p->ops->expire(kc, p);
		return false;
	}
	if (p->part_left > 0)
		return false;
	memset(done, 0, sizeof(*done));
	done->tag = p->tag;
	done->frame_tag = p->frame_tag;
	if (!p->ops->finish(kc, p, done))
		return false;
	kp_pending_put(kc, p);
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
	kp_core_flush(kc);
	while (count < max && (n = st_reap(kc->st, kc->core, cpls, MIN(max - count,
								   KP_CPL_BURST))) > 0) {
		for (unsigned i = 0; i < n; i++) {
			struct kp_pending *p = kp_core_route(kc, &cpls[i]);

			if (p != NULL && kp_core_settle(kc, p, &done[count]))
				count++;
		}
	}
	for (uint32_t i = 0; kc->waiting_count > 0 && i < KP_PENDING_MAX && count < max; i++) {
		struct kp_pending *p = &kc->pending[i];

		if (p->used && p->waiting && p->deadline_ns <= now_ns) {
			p->deadline_ns = 0;     /* the next round is the last */
			if (kp_core_settle(kc, p, &done[count]))
				count++;
		}
	}
	return count;
}
