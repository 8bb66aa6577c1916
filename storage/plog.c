/* SPDX-License-Identifier: Apache-2.0 */
/* Partition log: opening (and recovering) or creating a partition, its
 * list of segments (roll, retention), the periodic work the owner drives
 * (tick, sweep), close and delete. The append path is plog_append.c, group
 * commit plog_sync.c, watches plog_watch.c, lookups plog_read.c and the
 * directory's other files plog_dir.c. It never touches rings or threads
 * (st_worker.c does) and never blocks on data IO. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/compiler.h"
#include "storage/cleaner_int.h"
#include "storage/logdir_int.h"
#include "storage/plog_int.h"
#include "storage/pstate.h"

int
plog_open_file(struct plog *plog, const char *path, int flags, int mode)
{
	int fd = sio_open(plog->sio, path, flags, mode);

	if ((fd == -EMFILE || fd == -ENFILE) && fcache_shrink(plog->fc) > 0)
		fd = sio_open(plog->sio, path, flags, mode);
	return fd;
}

struct segment *
plog_active(const struct plog *plog)
{
	ASSERT_HOT(plog->seg_count > 0);
	return plog->segs[plog->seg_count - 1];
}

bool
plog_idle(const struct plog *plog)
{
	/* Landed acks=all appends waiting for their gsync round are not
	 * done either: closing now would drop them unanswered. */
	return !plog->write_inflight && plog->sync_ops == 0 && !plog->gs_waiting;
}

void
plog_configure(struct plog *plog, const struct st_log_config *cfg)
{
	plog->cfg = *cfg;
}

/* ---- segments: roll, retention, periodic work ---- */

int
plog_roll(struct plog *plog)
{
	struct segment *old = plog_active(plog), *seg, **segs;
	bool index_created;
	int rc;

	ASSERT(!plog->write_inflight);
	ASSERT(old->next_offset == plog->next_offset);
	if (plog->seg_count == plog->seg_cap) {
		segs = realloc(plog->segs, sizeof(*segs) * plog->seg_cap * 2);
		if (segs == NULL)
			return -ENOMEM;
		plog->segs = segs;
		plog->seg_cap *= 2;
	}
	seg = segment_open(plog->sio, plog->fc, plog->dir, plog->next_offset,
			   plog->cfg.segment_index_bytes, true, plog->now_ms, &rc, &index_created);
	if (seg == NULL)
		return rc;
	seg->owner = plog;
	segment_unpin(seg);
	rc = segment_seal(plog->sio, old);
	/* Recovery rebuilds the .txnindex entries of the segments it replays
	 * (from the snapshot on): the sealed one's must be durable first. */
	if (rc == 0)
		rc = segment_txn_sync(old);
	if (rc == 0)
		rc = plog_dir_snapshot_write(plog, seg->base_offset);
	/* A failed seal or snapshot costs only recovery time, not data. */
	plog->segs[plog->seg_count++] = seg;
	plog->write_pos = 0;
	/* As Kafka flushes a segment when it rolls: the sealed one becomes
	 * durable with the next sync (asynchronously), so after a power loss
	 * only the newest segments can end torn (recovery checks their tails). */
	if (old->synced_size < old->size)
		plog_sync(plog);
	return 0;
}

int
plog_retention(struct plog *plog, int64_t now_ms)
{
	int64_t total = 0, ts;
	struct segment *seg;
	uint32_t i, drop = 0;

	/* cleanup.policy=compact alone keeps every segment: only the cleaner
	 * shrinks such a log; "compact,delete" does both. */
	if (plog->cfg.compact && !plog->cfg.delete_policy)
		return 0;
	for (i = 0; i < plog->seg_count; i++)
		total += plog->segs[i]->size;
	for (i = 0; i + 1 < plog->seg_count; i++) {
		seg = plog->segs[i];
		ts = seg->max_timestamp >= 0 ? seg->max_timestamp : seg->created_ms;
		if (plog->cfg.retention_ms >= 0 && now_ms - ts > plog->cfg.retention_ms) {
			total -= seg->size;
		} else if (plog->cfg.retention_bytes >= 0 &&
			   total - seg->size >= plog->cfg.retention_bytes) {
			total -= seg->size;
		} else {
			break;
		}
		drop++;
	}
	if (drop == 0)
		return 0;
	for (i = 0; i < drop; i++)
		segment_delete(plog->sio, plog->segs[i]);
	memmove(plog->segs, plog->segs + drop, sizeof(*plog->segs) * (plog->seg_count - drop));
	plog->seg_count -= drop;
	/* A start DeleteRecords moved inside the new first segment stays. */
	plog->log_start_offset = MAX(plog->log_start_offset, plog->segs[0]->base_offset);
	plog_dir_snapshots_delete_below(plog, plog->segs[0]->base_offset);
	return (int)drop;
}

void
plog_tick(struct plog *plog, int64_t now_ms, uint64_t now_ns)
{
	plog->now_ms = now_ms;
	plog_watch_expire(plog, now_ns);
	plog_repl_expire(plog, now_ns);
	if (plog->hw > plog->synced_offset && now_ms - plog->last_flush_ms >= plog->cfg.flush_ms)
		plog_sync(plog);
}

bool
plog_timed(const struct plog *plog)
{
	if (plog->watches != NULL || plog_repl_timed(plog))
		return true;
	return plog->cfg.flush_ms != INT64_MAX && (plog->write_inflight ||
						    plog->pend_head != NULL ||
						    plog->hw > plog->synced_offset);
}

void
plog_sweep(struct plog *plog, int64_t now_ms)
{
	plog->now_ms = now_ms;
	(void)plog_retention(plog, now_ms);
	(void)plog_start_trim(plog);
	if (plog->cfg.producer_id_expiration_ms > 0)
		pstate_expire(plog->ps, now_ms, plog->cfg.producer_id_expiration_ms);
}

/* ---- open, close, delete ---- */

static int
plog_open_segments(struct plog *plog, bool fresh)
{
	static const int64_t first_base = 0;    /* an empty directory's one segment */
	const int64_t *bases = &first_base;
	int64_t *found = NULL;
	struct segment *seg;
	bool active, index_created;
	uint32_t i, count = 0;
	int rc = 0;

	if (!fresh)
		rc = plog_dir_scan(plog, ".log", &found, &count);
	/* An interrupted clean: finish a committed swap or drop the copy,
	 * then list the segments again (one listing when nothing was left). */
	if (!fresh && rc == 0 && plog->cleaner_files) {
		free(found);
		found = NULL;
		count = 0;
		rc = cleaner_recover(plog->sio, plog->dir);
		if (rc == 0)
			rc = plog_dir_scan(plog, ".log", &found, &count);
	}
	if (count > 0)
		bases = found;
	else
		count = 1;
	plog->seg_cap = count < 4 ? 8 : count * 2;
	plog->segs = rc == 0 ? calloc(plog->seg_cap, sizeof(*plog->segs)) : NULL;
	if (rc == 0 && plog->segs == NULL)
		rc = -ENOMEM;
	for (i = 0; rc == 0 && i < count; i++) {
		active = i + 1 == count;
		seg = segment_open(plog->sio, plog->fc, plog->dir, bases[i],
				   plog->cfg.segment_index_bytes, active, plog->now_ms, &rc,
				   &index_created);
		if (seg == NULL)
			break;
		seg->owner = plog;
		segment_unpin(seg);
		plog->segs[plog->seg_count++] = seg;
		if (!active)
			seg->next_offset = bases[i + 1];
		if (index_created && !active)
			rc = recovery_reindex(plog, seg);
	}
	free(found);
	return rc;
}

static void
plog_free(struct plog *plog, int16_t error)
{
	uint32_t i;

	ASSERT(plog_idle(plog));
	if (plog->gs != NULL)
		gsync_forget(plog->gs, plog);
	plog_append_drain(plog, error);
	plog_watch_drop_all(plog);
	for (i = 0; i < plog->seg_count; i++)
		if (plog->segs[i] != NULL)
			segment_unref(plog->sio, plog->segs[i]);
	/* Appends waiting for the ISR complete here, and a completion reads
	 * the last stable offset from the producer state: it goes after. */
	plog_repl_free(plog, error);
	if (plog->ps != NULL)
		pstate_destroy(plog->ps);
	plog->ps = NULL;
	free(plog->epochs.e);
	free(plog->segs);
	free(plog->dir);
	free(plog);
}

struct plog *
plog_open(const struct plog_open_args *args, int *err)
{
	struct plog *plog = calloc(1, sizeof(*plog));
	char path[SEGMENT_PATH_MAX];
	bool fresh = false;
	int rc = 0;

	ASSERT(args->fc != NULL);
	if (plog == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	memcpy(plog->topic_id, args->topic_id, 16);
	plog->partition = args->partition;
	plog->cfg = *args->cfg;
	plog->sio = args->sio;
	plog->fc = args->fc;
	plog->reaper = args->reaper;
	plog->ops = args->ops;
	plog->ops_ctx = args->ops_ctx;
	plog->now_ms = args->now_ms;
	plog->last_flush_ms = args->now_ms;
	plog->ck_hw = -1;
	snprintf(path, sizeof(path), "%s/%s-%d", args->log_dir, args->topic_name,
		 (int)args->partition);
	plog->dir = strdup(path);
	plog->ps = pstate_create();
	if (plog->dir == NULL || plog->ps == NULL)
		rc = -ENOMEM;
	if (rc == 0)
		rc = plog_dir_make(plog, args->create, &fresh);
	if (rc == 0)
		rc = plog_dir_meta_files(plog, fresh);
	if (rc == 0)
		rc = plog_open_segments(plog, fresh);
	/* A fresh directory has one empty segment: every offset is 0 as
	 * calloc left it, nothing to recover. */
	if (rc == 0 && !fresh)
		rc = recovery_run(plog);
	if (rc == 0 && !fresh)
		rc = plog_start_load(plog);
	if (rc == 0 && !fresh)
		plog_epochs_fix(plog);
	if (rc < 0 && args->create && plog->dir != NULL) {
		plog_delete(plog, KP_ERR_KAFKA_STORAGE_ERROR);
		*err = rc;
		return NULL;
	}
	if (rc < 0) {
		plog_free(plog, KP_ERR_KAFKA_STORAGE_ERROR);
		*err = rc;
		return NULL;
	}
	*err = 0;
	return plog;
}

void
plog_close(struct plog *plog, int16_t error)
{
	plog_free(plog, error);
}

void
plog_delete(struct plog *plog, int16_t error)
{
	uint32_t i;

	ASSERT(plog_idle(plog));
	/* Files still being sent by a READ stay open (and readable) after
	 * their names are gone. */
	for (i = 0; i < plog->seg_count; i++) {
		segment_drop(plog->segs[i]);
		plog->segs[i] = NULL;
	}
	(void)logdir_trash(plog->sio, plog->reaper, plog->dir);
	plog_free(plog, error);
}
