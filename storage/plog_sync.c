/* SPDX-License-Identifier: Apache-2.0 */
/* Group commit of a partition log: one fdatasync per segment with unsynced
 * bytes covers every write landed so far; acks=all appends complete when
 * the sync covering them does, and a sync asked for meanwhile follows it.
 * A plog with a gsync (its worker's) leaves the flush to it instead. */
#include "common/assert.h"
#include "common/clock.h"
#include "storage/plog_int.h"

void
plog_sync_finish(struct plog *plog)
{
	struct plog_append *app;
	int16_t error = plog->sync_err < 0 ? KP_ERR_KAFKA_STORAGE_ERROR : 0;

	if (error == 0) {
		plog->synced_offset = plog->sync_target;
		plog->unflushed_messages = 0;
		plog->last_flush_ms = plog->now_ms;
	}
	while ((app = plog->sync_head) != NULL && app->end_offset <= plog->sync_target) {
		plog->sync_head = app->next;
		if (plog->sync_head == NULL)
			plog->sync_tail = NULL;
		if (plog->repl != NULL && error == 0)
			plog_repl_synced(plog, app);    /* and the high watermark */
		else
			plog_append_complete(plog, app, error);
	}
	if (plog->sync_head != NULL || plog->sync_again) {
		plog->sync_again = false;
		plog_sync(plog);
	}
}

static void
plog_sync_done(struct sio_op *op, int res)
{
	struct segment *seg = op->ctx;
	struct plog *plog = seg->owner;

	if (res < 0)
		plog->sync_err = res;
	else if (seg->sync_size > seg->synced_size)
		seg->synced_size = seg->sync_size;
	segment_release(seg);
	if (plog->sync_hist != NULL)
		hist_add(plog->sync_hist, clock_mono_ns() - plog->sync_t0_ns);
	ASSERT(plog->sync_ops > 0);
	if (--plog->sync_ops == 0)
		plog_sync_finish(plog);
}

/* One fdatasync per segment with unsynced bytes, covering every write that
 * completed so far; a sync asked for while one runs is issued after it. */
void
plog_sync(struct plog *plog)
{
	struct segment *seg;
	uint32_t i;
	int rc;

	if (plog->sync_ops > 0) {
		plog->sync_again = true;
		return;
	}
	if (plog->gs != NULL) {
		gsync_request(plog->gs, plog);
		return;
	}
	plog->sync_target = plog->hw;
	plog->sync_err = 0;
	plog->sync_t0_ns = clock_mono_ns();
	for (i = 0; i < plog->seg_count; i++) {
		seg = plog->segs[i];
		if (seg->synced_size >= seg->size)
			continue;
		rc = segment_hold(seg);
		if (rc < 0) {
			plog->sync_err = rc;    /* its appends fail; a later sync retries */
			continue;
		}
		seg->sync_size = seg->size;
		seg->sync_op.done = plog_sync_done;
		seg->sync_op.ctx = seg;
		plog->sync_ops++;
		plog->fdatasync_count++;
		sio_fdatasync(plog->sio, &seg->sync_op, seg->fd);
	}
	if (plog->sync_ops == 0)
		plog_sync_finish(plog);
}
