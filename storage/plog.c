/* SPDX-License-Identifier: Apache-2.0 */
/* Partition log: assigns offsets, writes each turn's batches with one writev
 * from the request memory, advances the high watermark when writes land,
 * group-commits acks=all appends with one fdatasync, rolls and retains
 * segments, and answers READ / OFFSET / EPOCH lookups. It never touches rings
 * or threads (st_worker.c does) and never blocks on data IO. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/clock.h"
#include "common/compiler.h"
#include "common/uuid.h"
#include "storage/logdir_int.h"
#include "storage/plog_int.h"
#include "storage/pstate.h"

static void plog_sync(struct plog *plog);

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
	return !plog->write_inflight && plog->sync_ops == 0;
}

void
plog_configure(struct plog *plog, const struct st_log_config *cfg)
{
	plog->cfg = *cfg;
}

/* ---- appends ---- */

static void
plog_complete(struct plog *plog, struct plog_append *app, int16_t error)
{
	app->error = error;
	if (error != 0)
		app->base_offset = -1;
	app->next = NULL;
	plog->ops->append_done(plog->ops_ctx, plog, app);
}

static void
list_push(struct plog_append **head, struct plog_append **tail, struct plog_append *app)
{
	app->next = NULL;
	if (*tail != NULL)
		(*tail)->next = app;
	else
		*head = app;
	*tail = app;
}

bool
plog_append(struct plog *plog, struct plog_append *app)
{
	bool was_empty = plog->pend_head == NULL;

	ASSERT_HOT(app->batch != NULL);
	list_push(&plog->pend_head, &plog->pend_tail, app);
	return was_empty;
}

static struct plog_append *
pend_pop(struct plog *plog)
{
	struct plog_append *app = plog->pend_head;

	plog->pend_head = app->next;
	if (plog->pend_head == NULL)
		plog->pend_tail = NULL;
	app->next = NULL;
	return app;
}

static int
plog_snapshot_write(struct plog *plog, int64_t offset)
{
	char path[SEGMENT_PATH_MAX], tmp[SEGMENT_PATH_MAX + 8];
	size_t size = pstate_snapshot_size(plog->ps);
	uint8_t *buf = malloc(size > 0 ? size : 1);
	ssize_t n;
	int fd, rc;

	if (buf == NULL)
		return -ENOMEM;
	pstate_snapshot_write(plog->ps, buf);
	segment_path(plog->dir, offset, ".snapshot", path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = plog_open_file(plog, tmp, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		free(buf);
		return fd;
	}
	n = sio_pwrite(plog->sio, fd, buf, size, 0);
	rc = n < 0 ? (int)n : sio_fsync(plog->sio, fd);
	sio_close(plog->sio, fd);
	free(buf);
	if (rc == 0)
		rc = sio_rename(plog->sio, tmp, path);
	if (rc < 0)
		(void)sio_unlink(plog->sio, tmp);
	return rc;
}

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
	if (rc == 0)
		rc = plog_snapshot_write(plog, seg->base_offset);
	/* A failed seal or snapshot costs only recovery time, not data. */
	plog->segs[plog->seg_count++] = seg;
	plog->write_pos = 0;
	return 0;
}

static bool
plog_need_roll(const struct plog *plog, const struct rbatch_header *h, uint32_t len)
{
	const struct segment *seg = plog_active(plog);
	int64_t last = plog->next_offset + h->last_offset_delta;

	if (plog->write_pos == 0)
		return false;
	return plog->write_pos + len > plog->cfg.segment_bytes ||
	       plog->now_ms - seg->created_ms > plog->cfg.segment_ms ||
	       segment_index_full(&seg->oidx) || segment_index_full(&seg->tidx) ||
	       last - seg->base_offset > INT32_MAX;
}

/* Idempotence: true when the batch was completed here (duplicate/reject). */
static bool
plog_check_producer(struct plog *plog, struct plog_append *app, const struct rbatch_header *h)
{
	struct pstate_dup dup;
	enum pstate_verdict v;
	int32_t last_seq;
	int16_t error = 0;

	if (h->producer_id < 0)
		return false;
	last_seq = (int32_t)(((int64_t)h->base_sequence + h->last_offset_delta) % 2147483648LL);
	v = pstate_check(plog->ps, h->producer_id, h->producer_epoch, h->base_sequence, last_seq,
			 &dup, &error);
	if (v == PSTATE_APPEND)
		return false;
	pend_pop(plog);
	if (v == PSTATE_DUPLICATE) {
		app->base_offset = dup.base_offset;
		app->end_offset = dup.base_offset + h->last_offset_delta + 1;
		app->log_append_time = dup.timestamp;
		plog_complete(plog, app, 0);
	} else {
		plog_complete(plog, app, error);
	}
	return true;
}

static void
plog_assign(struct plog *plog, struct plog_append *app, const struct rbatch_header *h)
{
	int32_t last_seq;
	int64_t ts = h->max_timestamp;

	app->base_offset = plog->next_offset;
	app->end_offset = plog->next_offset + h->last_offset_delta + 1;
	app->log_append_time = -1;
	rbatch_set_base_offset(app->batch, app->base_offset);
	rbatch_set_leader_epoch(app->batch, 0);
	if (plog->cfg.log_append_time) {
		rbatch_set_log_append_time(app->batch, app->len, plog->now_ms);
		app->log_append_time = plog->now_ms;
		ts = plog->now_ms;
	}
	if (h->producer_id >= 0) {
		last_seq = (int32_t)(((int64_t)h->base_sequence + h->last_offset_delta) %
				     2147483648LL);
		/* -ENOMEM only forgets dedup state for this batch. */
		(void)pstate_record(plog->ps, h->producer_id, h->producer_epoch, h->base_sequence,
				    last_seq, app->base_offset, app->end_offset - 1, ts);
	}
	plog->next_offset = app->end_offset;
}

static void plog_write_done(struct sio_op *op, int res);

/* Nothing of the gathered write happened: give back the offsets and the
 * producer state it took and fail its appends. */
static void
plog_write_undo(struct plog *plog)
{
	struct plog_append *app, *next;

	pstate_truncate(plog->ps, plog->wr_first_offset);
	plog->next_offset = plog->wr_first_offset;
	for (app = plog->wr_head; app != NULL; app = next) {
		next = app->next;
		plog_complete(plog, app, KP_ERR_KAFKA_STORAGE_ERROR);
	}
	plog->wr_head = NULL;
	plog->wr_tail = NULL;
	plog->iov_count = 0;
}

/* Take queued appends into one writev; false when nothing was taken. */
static bool
plog_gather(struct plog *plog)
{
	struct rbatch_header h;
	struct plog_append *app;
	int rc;

	while (plog->pend_head != NULL && plog->iov_count < PLOG_IOV_MAX) {
		app = plog->pend_head;
		if (rbatch_header_parse(app->batch, app->len, &h) != 0 ||
		    rbatch_total_bytes(&h) != app->len) {
			plog_complete(plog, pend_pop(plog), KP_ERR_CORRUPT_MESSAGE);
			continue;
		}
		if (plog_check_producer(plog, app, &h))
			continue;
		if (plog_need_roll(plog, &h, app->len)) {
			if (plog->iov_count > 0)
				break;          /* roll before the next write */
			rc = plog_roll(plog);
			if (rc < 0) {
				plog_complete(plog, pend_pop(plog), KP_ERR_KAFKA_STORAGE_ERROR);
				continue;
			}
		}
		plog_assign(plog, app, &h);
		pend_pop(plog);
		list_push(&plog->wr_head, &plog->wr_tail, app);
		plog->iov[plog->iov_count].iov_base = app->batch;
		plog->iov[plog->iov_count].iov_len = app->len;
		plog->iov_count++;
		plog->wr_bytes += app->len;
	}
	return plog->iov_count > 0;
}

/* Put the gathered appends back at the head of the queue, as if never
 * gathered (their offsets and producer state given back). */
static void
plog_write_requeue(struct plog *plog)
{
	pstate_truncate(plog->ps, plog->wr_first_offset);
	plog->next_offset = plog->wr_first_offset;
	if (plog->wr_tail != NULL) {
		plog->wr_tail->next = plog->pend_head;
		if (plog->pend_head == NULL)
			plog->pend_tail = plog->wr_tail;
		plog->pend_head = plog->wr_head;
	}
	plog->wr_head = NULL;
	plog->wr_tail = NULL;
	plog->iov_count = 0;
}

bool
plog_issue(struct plog *plog, int64_t now_ms)
{
	int rc;

	plog->now_ms = now_ms;
	while (!plog->write_inflight && plog->pend_head != NULL) {
		plog->iov_count = 0;
		plog->wr_bytes = 0;
		plog->wr_first_offset = plog->next_offset;
		if (!plog_gather(plog))
			return false;
		plog->wr_seg = plog_active(plog);
		/* The files stay open while the write is in flight and until
		 * its bookkeeping (indexes) is done. Out of descriptors while
		 * other writes, syncs or sends hold some: wait for them. */
		rc = segment_pin(plog->wr_seg);
		if ((rc == -EMFILE || rc == -ENFILE || rc == -ENOMEM) && plog->fc->fds_open > 0) {
			plog_write_requeue(plog);
			return true;
		}
		if (rc < 0) {
			plog_write_undo(plog);
			continue;
		}
		plog->wr_pos = plog->write_pos;
		plog->write_pos += plog->wr_bytes;
		plog->write_inflight = true;
		plog->write_op.done = plog_write_done;
		plog->write_op.ctx = plog;
		plog->write_count++;
		sio_writev(plog->sio, &plog->write_op, plog->wr_seg->fd, plog->iov,
			   plog->iov_count, plog->wr_pos);
	}
	return false;
}

/* The write failed or was short: nothing of it counts. Cut the file back
 * to where it started, forget the producer state and offsets it took. */
static void
plog_write_failed(struct plog *plog)
{
	(void)sio_ftruncate(plog->sio, plog->wr_seg->fd, plog->wr_pos);
	plog->write_pos = plog->wr_pos;
	plog_write_undo(plog);
}

static void
plog_watches_check(struct plog *plog)
{
	struct plog_watch **pw = &plog->watches, *w;

	while ((w = *pw) != NULL) {
		if (plog->hw > w->offset) {
			*pw = w->next;
			w->next = NULL;
			plog->ops->watch_done(plog->ops_ctx, plog, w);
		} else {
			pw = &w->next;
		}
	}
}

static void
plog_write_landed(struct plog *plog)
{
	struct plog_append *app, *next;
	struct rbatch_header h;
	int64_t pos = plog->wr_pos;
	bool need_sync = false;
	int rc;

	for (app = plog->wr_head; app != NULL; app = next) {
		next = app->next;
		/* Parsed outside the assert: h is used below at every assert level. */
		rc = rbatch_header_parse(app->batch, app->len, &h);
		ASSERT(rc == 0);        /* the batch was validated before it was queued */
		ASSERT(h.base_offset == app->base_offset);
		segment_batch_landed(plog->wr_seg, &h, pos, plog->cfg.index_interval_bytes);
		pos += app->len;
		plog->hw = app->end_offset;
		plog->unflushed_messages += h.records_count;
		plog->bytes_in += app->len;
		plog->records_in += (uint64_t)h.records_count;
		if (app->acks == -1) {
			list_push(&plog->sync_head, &plog->sync_tail, app);
			need_sync = true;
		} else {
			plog_complete(plog, app, 0);
		}
	}
	ASSERT(pos == plog->write_pos);
	if (plog->unflushed_messages >= plog->cfg.flush_messages)
		need_sync = true;
	if (need_sync)
		plog_sync(plog);
	plog_watches_check(plog);
}

static void
plog_write_done(struct sio_op *op, int res)
{
	struct plog *plog = op->ctx;

	ASSERT(plog->write_inflight);
	plog->write_inflight = false;
	if (res == plog->wr_bytes)
		plog_write_landed(plog);
	else
		plog_write_failed(plog);
	segment_unpin(plog->wr_seg);
	plog->wr_head = NULL;
	plog->wr_tail = NULL;
	plog->iov_count = 0;
	/* Its own descriptor was just unpinned: blocking here is unlikely,
	 * and the owner's next loop turn issues what stays queued. */
	if (plog_issue(plog, plog->now_ms) && plog->ops->blocked != NULL)
		plog->ops->blocked(plog->ops_ctx, plog);
}

/* ---- group commit ---- */

static void
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
		plog_complete(plog, app, error);
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
static void
plog_sync(struct plog *plog)
{
	struct segment *seg;
	uint32_t i;
	int rc;

	if (plog->sync_ops > 0) {
		plog->sync_again = true;
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

/* ---- watches, tick, retention ---- */

void
plog_watch(struct plog *plog, struct plog_watch *w)
{
	if (plog->hw > w->offset) {
		w->next = NULL;
		plog->ops->watch_done(plog->ops_ctx, plog, w);
		return;
	}
	w->next = plog->watches;
	plog->watches = w;
}

static void
plog_watches_expire(struct plog *plog, uint64_t now_ns)
{
	struct plog_watch **pw = &plog->watches, *w;

	while ((w = *pw) != NULL) {
		if (w->deadline_ns <= now_ns) {
			*pw = w->next;
			w->next = NULL;
			w->offset = -1;         /* tells the worker: expired, no reply */
			plog->ops->watch_done(plog->ops_ctx, plog, w);
		} else {
			pw = &w->next;
		}
	}
}

static void
plog_snapshots_delete_below(struct plog *plog, int64_t offset);

int
plog_retention(struct plog *plog, int64_t now_ms)
{
	int64_t total = 0, ts;
	struct segment *seg;
	uint32_t i, drop = 0;

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
	plog->log_start_offset = plog->segs[0]->base_offset;
	plog_snapshots_delete_below(plog, plog->log_start_offset);
	return (int)drop;
}

void
plog_tick(struct plog *plog, int64_t now_ms, uint64_t now_ns)
{
	plog->now_ms = now_ms;
	plog_watches_expire(plog, now_ns);
	if (plog->hw > plog->synced_offset && now_ms - plog->last_flush_ms >= plog->cfg.flush_ms)
		plog_sync(plog);
}

bool
plog_timed(const struct plog *plog)
{
	if (plog->watches != NULL)
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
	if (plog->cfg.producer_id_expiration_ms > 0)
		pstate_expire(plog->ps, now_ms, plog->cfg.producer_id_expiration_ms);
}

/* ---- lookups ---- */

/* The segment holding offset: the last one with base_offset <= offset. */
static uint32_t
plog_segment_floor(const struct plog *plog, int64_t offset)
{
	uint32_t lo = 0, hi = plog->seg_count, mid, found = 0;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (plog->segs[mid]->base_offset <= offset) {
			found = mid;
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return found;
}

/* Position of the batch holding offset in seg, or -1 if seg has none. */
static int64_t
plog_batch_position(struct plog *plog, struct segment *seg, int64_t offset,
		    struct rbatch_header *h)
{
	int64_t pos = segment_index_offset_lookup(&seg->oidx,
						  (uint32_t)(offset - seg->base_offset));

	while (segment_batch_at(plog->sio, seg, pos, seg->size, h) == 0) {
		if (h->base_offset + h->last_offset_delta >= offset)
			return pos;
		pos += rbatch_total_bytes(h);
	}
	return -1;
}

/* End of the region that starts with a batch [start, first_end): whole
 * batches up to max_bytes, jumping over the bulk with the offset index. */
static int64_t
plog_region_end(struct plog *plog, struct segment *seg, int64_t start, int64_t first_end,
		int32_t max_bytes)
{
	struct rbatch_header h;
	int64_t budget_end = start + max_bytes, end = first_end, jump;

	if (seg->size <= budget_end)
		return seg->size;
	if (end >= budget_end)
		return end;
	jump = segment_index_position_floor(&seg->oidx, (uint32_t)budget_end);
	if (jump > end)
		end = jump;
	while (segment_batch_at(plog->sio, seg, end, seg->size, &h) == 0 &&
	       end + rbatch_total_bytes(&h) <= budget_end)
		end += rbatch_total_bytes(&h);
	return end;
}

int16_t
plog_read(struct plog *plog, int64_t offset, int32_t max_bytes, struct plog_region *r)
{
	struct rbatch_header h;
	struct segment *seg;
	uint32_t i;
	int64_t pos;

	memset(r, 0, sizeof(*r));
	if (offset < plog->log_start_offset || offset > plog->next_offset)
		return KP_ERR_OFFSET_OUT_OF_RANGE;
	if (offset >= plog->hw)
		return 0;
	for (i = plog_segment_floor(plog, offset); i < plog->seg_count; i++) {
		seg = plog->segs[i];
		if (segment_pin(seg) < 0)
			return KP_ERR_KAFKA_STORAGE_ERROR;
		pos = plog_batch_position(plog, seg, offset, &h);
		if (pos >= 0) {
			r->seg = seg;
			r->pos = pos;
			r->len = (int32_t)(plog_region_end(plog, seg, pos,
							   pos + rbatch_total_bytes(&h),
							   max_bytes) - pos);
			ASSERT(r->len > 0);
		}
		segment_unpin(seg);
		if (pos >= 0)
			return 0;
	}
	return 0;
}

static int64_t
varint_read(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;
	unsigned shift = 0;

	while (*p < end && shift < 64) {
		v |= (uint64_t)(**p & 0x7f) << shift;
		if ((*(*p)++ & 0x80) == 0)
			return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
		shift += 7;
	}
	*p = end + 1;           /* malformed: the caller sees p > end */
	return 0;
}

/* Offset of the first record with timestamp >= target in an uncompressed
 * batch, or the batch's base offset when records cannot be read. */
static int64_t
plog_record_at_time(struct plog *plog, struct segment *seg, int64_t pos,
		    const struct rbatch_header *h, int64_t target, int64_t *ts)
{
	int64_t total = rbatch_total_bytes(h), len, rec_ts, delta;
	const uint8_t *p, *end, *rec;
	uint8_t *buf;
	int32_t i;

	*ts = h->max_timestamp;
	if ((h->attributes & (RBATCH_ATTR_CODEC_MASK | RBATCH_ATTR_LOG_APPEND_TIME)) != 0 ||
	    total > (64 << 20) || (buf = malloc((size_t)total)) == NULL)
		return h->base_offset;
	if (sio_pread(plog->sio, seg->fd, buf, (size_t)total, pos) == (ssize_t)total) {
		p = buf + RBATCH_HEADER_BYTES;
		end = buf + total;
		for (i = 0; i < h->records_count && p < end; i++) {
			len = varint_read(&p, end);
			rec = p;
			if (p > end || len <= 0 || len > end - p)
				break;
			p++;            /* attributes */
			rec_ts = h->base_timestamp + varint_read(&p, end);
			delta = varint_read(&p, end);
			if (p > end)
				break;
			if (rec_ts >= target) {
				*ts = rec_ts;
				free(buf);
				return h->base_offset + delta;
			}
			p = rec + len;
		}
	}
	free(buf);
	return h->base_offset;
}

static int64_t
plog_offset_for_time(struct plog *plog, int64_t target, int64_t *ts)
{
	struct rbatch_header h;
	struct segment *seg;
	uint32_t i, rel;
	int64_t pos, found;

	for (i = 0; i < plog->seg_count; i++) {
		seg = plog->segs[i];
		if (seg->max_timestamp < target)
			continue;
		if (segment_pin(seg) < 0)
			break;          /* answered as "none", like a lookup past the end */
		rel = segment_index_time_lookup(&seg->tidx, target);
		pos = segment_index_offset_lookup(&seg->oidx, rel);
		found = -1;
		while (segment_batch_at(plog->sio, seg, pos, seg->size, &h) == 0) {
			if (h.max_timestamp >= target) {
				found = plog_record_at_time(plog, seg, pos, &h, target, ts);
				break;
			}
			pos += rbatch_total_bytes(&h);
		}
		segment_unpin(seg);
		if (found >= 0)
			return found;
	}
	*ts = -1;
	return -1;
}

int16_t
plog_list_offset(struct plog *plog, int64_t timestamp, int64_t *offset, int64_t *ts)
{
	uint32_t i;

	*ts = -1;
	*offset = -1;
	if (timestamp == ST_OFFSET_EARLIEST) {
		*offset = plog->log_start_offset;
	} else if (timestamp == ST_OFFSET_LATEST) {
		*offset = plog->hw;
	} else if (timestamp == ST_OFFSET_MAX_TIMESTAMP) {
		for (i = 0; i < plog->seg_count; i++) {
			if (plog->segs[i]->max_timestamp > *ts) {
				*ts = plog->segs[i]->max_timestamp;
				*offset = plog->segs[i]->max_timestamp_offset;
			}
		}
	} else if (timestamp >= 0) {
		*offset = plog_offset_for_time(plog, timestamp, ts);
	}
	return 0;
}

void
plog_epoch_end(const struct plog *plog, int32_t epoch, int32_t *epoch_out, int64_t *end_offset)
{
	if (epoch == 0) {
		*epoch_out = 0;
		*end_offset = plog->next_offset;
	} else {
		*epoch_out = -1;
		*end_offset = -1;
	}
}

/* ---- open, close, delete ---- */

struct plog_scan {
	int64_t *offsets;
	uint32_t count;
	uint32_t cap;
	const char *ext;
};

static int
plog_scan_name(void *arg, const char *name)
{
	struct plog_scan *sc = arg;
	size_t ext_len = strlen(sc->ext);
	int64_t *grown;
	char *end;
	long long v;

	if (strlen(name) != SEGMENT_NAME_DIGITS + ext_len ||
	    strcmp(name + SEGMENT_NAME_DIGITS, sc->ext) != 0)
		return 0;
	v = strtoll(name, &end, 10);
	if (end != name + SEGMENT_NAME_DIGITS || v < 0)
		return 0;
	if (sc->count == sc->cap) {
		sc->cap = sc->cap ? sc->cap * 2 : 16;
		grown = realloc(sc->offsets, sizeof(*grown) * sc->cap);
		if (grown == NULL)
			return -ENOMEM;
		sc->offsets = grown;
	}
	sc->offsets[sc->count++] = v;
	return 0;
}

static int
offset_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Base offsets of the files in plog->dir ending in ext, sorted. */
static int
plog_scan_dir(struct plog *plog, const char *ext, struct plog_scan *sc)
{
	int rc;

	memset(sc, 0, sizeof(*sc));
	sc->ext = ext;
	rc = sio_list(plog->sio, plog->dir, plog_scan_name, sc);
	if ((rc == -EMFILE || rc == -ENFILE) && sc->count == 0 && fcache_shrink(plog->fc) > 0)
		rc = sio_list(plog->sio, plog->dir, plog_scan_name, sc);
	if (rc == 0 && sc->count > 1)
		qsort(sc->offsets, sc->count, sizeof(int64_t), offset_cmp);
	return rc;
}

static void
plog_snapshots_delete_below(struct plog *plog, int64_t offset)
{
	char path[SEGMENT_PATH_MAX];
	struct plog_scan sc;
	uint32_t i;

	if (plog_scan_dir(plog, ".snapshot", &sc) == 0)
		for (i = 0; i < sc.count; i++)
			if (sc.offsets[i] < offset) {
				segment_path(plog->dir, sc.offsets[i], ".snapshot", path,
					     sizeof(path));
				(void)sio_unlink(plog->sio, path);
			}
	free(sc.offsets);
}

/* Make a small text file hold exactly text, replacing it atomically when
 * it does not. Not synced: it is checked at every open, so a power loss
 * that leaves it empty or torn is repaired then, and creating a partition
 * costs no fsync (two per partition made a 10,000-partition CreateTopics
 * take minutes). */
static int
plog_write_text(struct plog *plog, const char *name, const char *text, bool fresh)
{
	char path[SEGMENT_PATH_MAX], tmp[SEGMENT_PATH_MAX + 8], buf[128];
	size_t len = strlen(text);
	ssize_t n;
	int fd, rc;

	ASSERT(len < sizeof(buf));
	snprintf(path, sizeof(path), "%s/%s", plog->dir, name);
	if (fresh) {
		/* A directory just made: no file to check or replace. */
		fd = plog_open_file(plog, path, O_RDWR | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			return fd;
		n = sio_pwrite(plog->sio, fd, text, len, 0);
		sio_close(plog->sio, fd);
		return n == (ssize_t)len ? 0 : n < 0 ? (int)n : -EIO;
	}
	fd = plog_open_file(plog, path, O_RDONLY, 0);
	if (fd >= 0) {
		n = sio_pread(plog->sio, fd, buf, sizeof(buf), 0);
		sio_close(plog->sio, fd);
		if (n == (ssize_t)len && memcmp(buf, text, len) == 0)
			return 0;
	} else if (fd != -ENOENT) {
		return fd;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = plog_open_file(plog, tmp, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fd;
	n = sio_pwrite(plog->sio, fd, text, len, 0);
	sio_close(plog->sio, fd);
	rc = n == (ssize_t)len ? sio_rename(plog->sio, tmp, path) : n < 0 ? (int)n : -EIO;
	if (rc < 0)
		(void)sio_unlink(plog->sio, tmp);
	return rc;
}

static int
plog_meta_files(struct plog *plog, bool fresh)
{
	char text[64], id[UUID_TEXT_BYTES];
	int rc;

	uuid_to_text(plog->topic_id, id);
	snprintf(text, sizeof(text), "version: 0\ntopic_id: %s\n", id);
	rc = plog_write_text(plog, "partition.metadata", text, fresh);
	if (rc == 0)
		rc = plog_write_text(plog, "leader-epoch-checkpoint", "0\n1\n0 0\n", fresh);
	return rc;
}

static int
plog_open_segments(struct plog *plog, bool fresh)
{
	struct plog_scan sc = { .ext = ".log" };
	struct segment *seg;
	bool active, index_created;
	uint32_t i;
	int rc = 0;

	if (!fresh)
		rc = plog_scan_dir(plog, ".log", &sc);
	if (rc == 0 && sc.count == 0)
		rc = plog_scan_name(&sc, "00000000000000000000.log");
	plog->seg_cap = sc.count < 4 ? 8 : sc.count * 2;
	plog->segs = rc == 0 ? calloc(plog->seg_cap, sizeof(*plog->segs)) : NULL;
	if (rc == 0 && plog->segs == NULL)
		rc = -ENOMEM;
	for (i = 0; rc == 0 && i < sc.count; i++) {
		active = i + 1 == sc.count;
		seg = segment_open(plog->sio, plog->fc, plog->dir, sc.offsets[i],
				   plog->cfg.segment_index_bytes, active, plog->now_ms, &rc,
				   &index_created);
		if (seg == NULL)
			break;
		seg->owner = plog;
		segment_unpin(seg);
		plog->segs[plog->seg_count++] = seg;
		if (!active)
			seg->next_offset = sc.offsets[i + 1];
		if (index_created && !active)
			rc = recovery_reindex(plog, seg);
	}
	free(sc.offsets);
	return rc;
}

/* The partition's directory. A new partition must not inherit files: a
 * directory already there is an earlier incarnation's (a delete that did
 * not finish, a create that failed before this fix) and goes aside. */
static int
plog_mkdir(struct plog *plog, bool create, bool *fresh)
{
	int rc = sio_mkdir(plog->sio, plog->dir, 0755);

	if (rc == -EEXIST && create) {
		rc = logdir_trash(plog->sio, plog->reaper, plog->dir);
		if (rc == 0)
			rc = sio_mkdir(plog->sio, plog->dir, 0755);
	}
	*fresh = rc == 0;
	return rc == -EEXIST ? 0 : rc;
}

static void
plog_free(struct plog *plog, int16_t error)
{
	uint32_t i;

	ASSERT(plog_idle(plog));
	while (plog->pend_head != NULL)
		plog_complete(plog, pend_pop(plog), error);
	while (plog->watches != NULL) {
		struct plog_watch *w = plog->watches;

		plog->watches = w->next;
		w->offset = PLOG_WATCH_GONE;    /* the waiter must hear of it */
		plog->ops->watch_done(plog->ops_ctx, plog, w);
	}
	for (i = 0; i < plog->seg_count; i++)
		if (plog->segs[i] != NULL)
			segment_unref(plog->sio, plog->segs[i]);
	if (plog->ps != NULL)
		pstate_destroy(plog->ps);
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
	snprintf(path, sizeof(path), "%s/%s-%d", args->log_dir, args->topic_name,
		 (int)args->partition);
	plog->dir = strdup(path);
	plog->ps = pstate_create();
	if (plog->dir == NULL || plog->ps == NULL)
		rc = -ENOMEM;
	if (rc == 0)
		rc = plog_mkdir(plog, args->create, &fresh);
	if (rc == 0)
		rc = plog_meta_files(plog, fresh);
	if (rc == 0)
		rc = plog_open_segments(plog, fresh);
	/* A fresh directory has one empty segment: every offset is 0 as
	 * calloc left it, nothing to recover. */
	if (rc == 0 && !fresh)
		rc = recovery_run(plog);
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
