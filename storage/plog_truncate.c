/* SPDX-License-Identifier: Apache-2.0 */
/* Follower truncation of a partition log (KIP-101/279, Kafka's
 * UnifiedLog.truncateTo): the segments wholly past the offset go (newest
 * first), the segment holding it is cut before the batch holding it and
 * synced, its indexes rebuilt and its .txnindex cut to match (a crash
 * before that leaves entries past the log end, which recovery drops);
 * producer state is rebuilt from the newest snapshot at or below the new
 * end, the epoch cache trimmed and the high watermark lowered to the
 * end. Every step leaves a whole log behind: a
 * crash midway reopens a log that is only longer (recovery cuts torn
 * tails; the epoch cache is fixed against the log end at open), and the
 * follower truncates again. Full truncation (Kafka's
 * truncateFullyAndStartAt, for a follower below the leader's log start)
 * deletes every segment and starts an empty one at the new offset. */
#include <errno.h>
#include <stdlib.h>

#include "common/assert.h"
#include "common/compiler.h"
#include "storage/plog_int.h"
#include "storage/pstate.h"

/* Position of the first batch of seg ending at or past offset, or
 * seg->size when none does. The log is pinned. */
static int64_t
plog_truncate_position(struct plog *plog, struct segment *seg, int64_t offset)
{
	struct rbatch_header h;
	int64_t pos = 0;

	while (segment_batch_at(plog->sio, seg, pos, seg->size, &h) == 0) {
		if (h.base_offset + h.last_offset_delta >= offset)
			return pos;
		pos += rbatch_total_bytes(&h);
	}
	return seg->size;
}

static void
plog_truncate_snapshots(struct plog *plog, int64_t end)
{
	char path[SEGMENT_PATH_MAX];
	int64_t *offsets;
	uint32_t count, i;

	if (plog_dir_scan(plog, ".snapshot", &offsets, &count) == 0)
		for (i = 0; i < count; i++)
			if (offsets[i] > end) {
				segment_path(plog->dir, offsets[i], ".snapshot", path,
					     sizeof(path));
				(void)sio_unlink(plog->sio, path);
			}
	free(offsets);
}

/* Cut seg (now the active segment) at the batch holding offset, durably,
 * and rebuild its indexes. 0 or -errno. */
static int
plog_truncate_segment(struct plog *plog, struct segment *seg, int64_t offset)
{
	int64_t pos;
	int rc = 0;

	if (seg->sealed)
		rc = segment_unseal(seg, plog->cfg.segment_index_bytes);
	if (rc == 0)
		rc = segment_log_pin(seg);
	if (rc < 0)
		return rc;
	pos = plog_truncate_position(plog, seg, offset);
	if (pos < seg->size) {
		rc = sio_ftruncate(plog->sio, seg->fd, pos);
		if (rc == 0)
			rc = sio_fsync(plog->sio, seg->fd);
		if (rc == 0) {
			seg->size = pos;
			seg->synced_size = MIN(seg->synced_size, pos);
		}
	}
	segment_log_unpin(seg);
	/* Kafka's LogSegment.truncateTo: the aborted transactions whose
	 * marker went with the cut leave the index. */
	if (rc == 0)
		rc = segment_txn_truncate(seg, offset);
	if (rc < 0)
		return rc;
	seg->next_offset = seg->base_offset;
	return recovery_reindex(plog, seg);
}

int64_t
plog_truncate(struct plog *plog, int64_t offset)
{
	struct segment *seg;
	uint32_t i;
	int rc;

	ASSERT(plog_idle(plog) && plog->pend_head == NULL);
	if (offset >= plog->next_offset)
		return plog->next_offset;
	offset = MAX(offset, plog->log_start_offset);
	for (i = plog->seg_count - 1; i > 0 && plog->segs[i]->base_offset > offset; i--)
		;
	/* Newest first: what a crash leaves is a shorter, whole log. */
	while (plog->seg_count > i + 1)
		segment_delete(plog->sio, plog->segs[--plog->seg_count]);
	seg = plog->segs[i];
	rc = plog_truncate_segment(plog, seg, offset);
	plog->next_offset = seg->next_offset;
	plog->hw = plog->next_offset;
	plog->synced_offset = MIN(plog->synced_offset, plog->next_offset);
	plog->write_pos = seg->size;
	if (rc < 0)
		return rc;
	plog_truncate_snapshots(plog, plog->next_offset);
	recovery_pstate_rebuild(plog);
	rc = plog_epochs_truncate(plog, plog->next_offset);
	if (plog->repl != NULL)
		plog->repl->hw = MIN(plog->repl->hw, plog->next_offset);
	return rc < 0 ? rc : plog->next_offset;
}

/* Every segment goes (newest first), then an empty active one at offset:
 * a crash midway leaves a shorter log or an empty one, and the follower,
 * still below the leader's start, truncates fully again. */
static int
plog_truncate_segments_all(struct plog *plog, int64_t offset)
{
	struct segment *seg;
	bool index_created;
	int rc;

	while (plog->seg_count > 0)
		segment_delete(plog->sio, plog->segs[--plog->seg_count]);
	seg = segment_open(plog->sio, plog->fc, plog->dir, offset, plog->cfg.segment_index_bytes,
			   true, plog->now_ms, &rc, &index_created);
	if (seg == NULL)
		return rc;
	seg->owner = plog;
	segment_unpin(seg);
	plog->segs[plog->seg_count++] = seg;
	return 0;
}

int64_t
plog_truncate_full(struct plog *plog, int64_t offset)
{
	int rc;

	ASSERT(plog_idle(plog) && plog->pend_head == NULL);
	if (offset < 0)
		return -EINVAL;
	plog_truncate_snapshots(plog, -1);
	rc = plog_truncate_segments_all(plog, offset);
	plog->log_start_offset = offset;
	plog->next_offset = offset;
	plog->hw = offset;
	plog->synced_offset = offset;
	plog->write_pos = 0;
	plog->unflushed_messages = 0;
	if (plog->repl != NULL)
		plog->repl->hw = offset;
	if (rc < 0)
		return rc;
	rc = plog_start_write(plog, offset);
	recovery_pstate_rebuild(plog);
	/* Kafka's leaderEpochCache.clearAndFlush: the leader's batches bring
	 * their epochs again. */
	plog->epochs.count = 0;
	if (rc == 0)
		rc = plog_epochs_persist(plog);
	return rc < 0 ? rc : offset;
}
