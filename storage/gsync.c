/* SPDX-License-Identifier: Apache-2.0 */
/* Group commit across a worker's partitions. Every plog that asks for a
 * sync during a loop turn joins the next round; a round is one flush on the
 * sio's flush thread: fdatasync when one file has unsynced bytes, else one
 * syncfs for the file system, so N partitions with acks=all data cost one
 * device flush instead of N concurrent ones. A round covers, per plog, the
 * writes that landed before it started (sync_target = hw); what lands
 * meanwhile waits for the next round, which starts when this one ends.
 * Rounds never overlap, so the flush thread has at most one request. */
#include "common/assert.h"
#include "common/clock.h"
#include "storage/plog_int.h"

void
gsync_init(struct gsync *gs, struct sio *sio, enum gsync_mode mode, struct hist *hist)
{
	*gs = (struct gsync){ .sio = sio, .mode = mode, .hist = hist };
}

void
gsync_request(struct gsync *gs, struct plog *plog)
{
	ASSERT(plog->sync_ops == 0);    /* in a round: plog_sync() sets sync_again */
	if (plog->gs_waiting)
		return;
	plog->gs_waiting = true;
	plog->gs_next = NULL;
	if (gs->wait_tail != NULL)
		gs->wait_tail->gs_next = plog;
	else
		gs->wait_head = plog;
	gs->wait_tail = plog;
}

void
gsync_forget(struct gsync *gs, struct plog *plog)
{
	struct plog **pp, *prev = NULL;

	ASSERT(plog->sync_ops == 0);
	if (!plog->gs_waiting)
		return;
	for (pp = &gs->wait_head; *pp != NULL; prev = *pp, pp = &(*pp)->gs_next) {
		if (*pp != plog)
			continue;
		*pp = plog->gs_next;
		if (gs->wait_tail == plog)
			gs->wait_tail = prev;
		break;
	}
	plog->gs_waiting = false;
	plog->gs_next = NULL;
}

/* The round is over with res: settle each plog's segments and appends. A
 * plog that asks again while being finished queues for the next round. */
static void
gsync_finish(struct gsync *gs, int res)
{
	struct plog *plog, *next;
	uint32_t i;

	for (plog = gs->round, gs->round = NULL; plog != NULL; plog = next) {
		next = plog->gs_next;
		plog->gs_next = NULL;
		if (res < 0) {
			plog->sync_err = res;
		} else {
			for (i = 0; i < plog->seg_count; i++) {
				struct segment *seg = plog->segs[i];

				if (seg->sync_size > seg->synced_size)
					seg->synced_size = seg->sync_size;
			}
		}
		ASSERT(plog->sync_ops == 1);
		plog->sync_ops = 0;
		plog_sync_finish(plog);
	}
}

static void
gsync_done(struct sio_op *op, int res)
{
	struct gsync *gs = op->ctx;

	ASSERT(gs->inflight);
	if (gs->hist != NULL)
		hist_add(gs->hist, clock_mono_ns() - gs->t0_ns);
	segment_release(gs->seg);
	gs->seg = NULL;
	gsync_finish(gs, res);
	gs->inflight = false;
	/* What asked meanwhile goes at the owner's next gsync_kick(). */
}

/* Take the wait list as the round; the number of files with unsynced bytes,
 * and the first of them in *first. */
static uint32_t
gsync_collect(struct gsync *gs, uint64_t now_ns, struct segment **first)
{
	struct plog *plog;
	uint32_t i, files = 0;

	gs->round = gs->wait_head;
	gs->wait_head = NULL;
	gs->wait_tail = NULL;
	*first = NULL;
	for (plog = gs->round; plog != NULL; plog = plog->gs_next) {
		plog->gs_waiting = false;
		plog->sync_ops = 1;
		plog->sync_target = plog->hw;
		plog->sync_err = 0;
		plog->sync_t0_ns = now_ns;
		plog->fdatasync_count++;
		gs->plogs_synced++;
		for (i = 0; i < plog->seg_count; i++) {
			struct segment *seg = plog->segs[i];

			if (seg->synced_size >= seg->size)
				continue;
			seg->sync_size = seg->size;
			if (*first == NULL)
				*first = seg;
			files++;
		}
	}
	return files;
}

void
gsync_kick(struct gsync *gs)
{
	struct segment *seg;
	uint32_t files;
	int rc;

	/* A round with nothing to flush finishes at once; what its plogs ask
	 * for while finishing makes another round, so loop. */
	while (!gs->inflight && gs->wait_head != NULL) {
		gs->t0_ns = clock_mono_ns();
		files = gsync_collect(gs, gs->t0_ns, &seg);
		if (files == 0) {
			gsync_finish(gs, 0);
			continue;
		}
		rc = segment_hold(seg);
		if (rc < 0) {
			gsync_finish(gs, rc);   /* its appends fail; a later sync retries */
			continue;
		}
		gs->seg = seg;
		gs->inflight = true;
		gs->rounds++;
		gs->op.done = gsync_done;
		gs->op.ctx = gs;
		if (gs->mode == GSYNC_SYNCFS || files > 1)
			gs->syncfs_count++;
		sio_flush(gs->sio, &gs->op, seg->fd, gs->mode == GSYNC_SYNCFS || files > 1);
	}
}
