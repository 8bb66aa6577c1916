/* SPDX-License-Identifier: Apache-2.0 */
/* Cleaning one compacted partition, as Kafka's Cleaner.doClean: decide
 * whether the log is due (min.cleanable.dirty.ratio, min/max.compaction.
 * lag.ms, expired tombstone horizons), map the dirty section's keys to
 * their latest offsets, rewrite every closed segment below the map's end
 * into .cleaned files with rebuilt indexes, hand each to the swap, and
 * checkpoint the first dirty offset. Reads and writes files through the
 * cleaner's own sio; never touches a plog. @thread cleaner */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/be.h"
#include "common/compiler.h"
#include "common/log.h"
#include "storage/cleaner_int.h"
#include "storage/segment_int.h"

/* ---- the checkpoint: "<first dirty offset> <earliest delete horizon>" ---- */

void
cleaner_checkpoint_read(struct sio *sio, const char *dir, int64_t *first_dirty,
			int64_t *horizon_ms)
{
	char path[SEGMENT_PATH_MAX], buf[64];
	long long a, b;
	ssize_t n;
	int fd;

	*first_dirty = 0;
	*horizon_ms = INT64_MAX;
	snprintf(path, sizeof(path), "%s/%s", dir, CLEANER_CHECKPOINT_NAME);
	fd = sio_open(sio, path, O_RDONLY, 0);
	if (fd < 0)
		return;
	n = sio_pread(sio, fd, buf, sizeof(buf) - 1, 0);
	sio_close(sio, fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (sscanf(buf, "%lld %lld", &a, &b) == 2 && a >= 0) {
		*first_dirty = a;
		*horizon_ms = b;
	}
}

int
cleaner_checkpoint_write(struct sio *sio, const char *dir, int64_t first_dirty,
			 int64_t horizon_ms)
{
	char path[SEGMENT_PATH_MAX], tmp[SEGMENT_PATH_MAX + 8], buf[64];
	int fd, rc, len;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, CLEANER_CHECKPOINT_NAME);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	len = snprintf(buf, sizeof(buf), "%lld %lld\n", (long long)first_dirty,
		       (long long)horizon_ms);
	fd = sio_open(sio, tmp, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fd;
	n = sio_pwrite(sio, fd, buf, (size_t)len, 0);
	rc = n == len ? sio_fsync(sio, fd) : n < 0 ? (int)n : -EIO;
	sio_close(sio, fd);
	if (rc == 0)
		rc = sio_rename(sio, tmp, path);
	if (rc < 0)
		(void)sio_unlink(sio, tmp);
	return rc;
}

/* ---- producers' last batches (RETAIN_EMPTY) ---- */

struct cleaner_pids {
	int64_t *slots;                 /* [cap * 2]: pid + 1 (0 empty), last offset */
	uint32_t cap;
	uint32_t used;
};

static int
cleaner_pids_put(struct cleaner_pids *p, int64_t pid, int64_t last)
{
	uint32_t i;

	if (p->used * 2 >= p->cap) {
		struct cleaner_pids g = { .cap = p->cap ? p->cap * 2 : 64 };

		g.slots = calloc((size_t)g.cap * 2, sizeof(int64_t));
		if (g.slots == NULL)
			return -ENOMEM;
		for (i = 0; i < p->cap; i++)
			if (p->slots[2 * i] != 0)
				(void)cleaner_pids_put(&g, p->slots[2 * i] - 1,
						       p->slots[2 * i + 1]);
		free(p->slots);
		*p = g;
	}
	i = (uint32_t)((uint64_t)pid * 0x9e3779b97f4a7c15ull >> 32) & (p->cap - 1);
	while (p->slots[2 * i] != 0 && p->slots[2 * i] != pid + 1)
		i = (i + 1) & (p->cap - 1);
	if (p->slots[2 * i] == 0)
		p->used++;
	p->slots[2 * i] = pid + 1;
	p->slots[2 * i + 1] = last;
	return 0;
}

static int64_t
cleaner_pids_get(const struct cleaner_pids *p, int64_t pid)
{
	uint32_t i;

	if (p->cap == 0)
		return -1;
	i = (uint32_t)((uint64_t)pid * 0x9e3779b97f4a7c15ull >> 32) & (p->cap - 1);
	while (p->slots[2 * i] != 0) {
		if (p->slots[2 * i] == pid + 1)
			return p->slots[2 * i + 1];
		i = (i + 1) & (p->cap - 1);
	}
	return -1;
}

/* ---- reading a segment batch by batch ---- */

struct cleaner_seg_run;

struct cleaner_run {
	struct cleaner_ctx *c;
	const struct cleaner_target *t;
	int64_t now_ms;
	struct cleaner_log_stats *stats;
	struct cleaner_pids pids;
	uint8_t *batch;
	size_t batch_cap;
	int64_t first_dirty;
	int64_t map_end;                /* offsets below are covered by the map */
	bool stop;                      /* the throttle said stop */
	struct cleaner_seg_run *cur;    /* the segment being rewritten */
	int64_t first_ts;               /* cleaner_first_ts_batch()'s answer */
};

typedef int cleaner_batch_fn(struct cleaner_run *run, const struct rbatch_header *h,
			     const uint8_t *batch, size_t len);

static bool
cleaner_run_throttle(struct cleaner_run *run, uint64_t bytes)
{
	if (run->c->throttle != NULL && !run->c->throttle(run->c->throttle_arg, bytes))
		run->stop = true;
	return !run->stop;
}

/* Call fn for each batch of seg (whole batches when body is set, else
 * headers only). A non-zero fn return stops the walk and is returned. */
static int
cleaner_seg_each(struct cleaner_run *run, const struct cleaner_seg *seg, bool body,
		 cleaner_batch_fn *fn)
{
	struct rbatch_header h;
	char path[SEGMENT_PATH_MAX];
	int64_t pos = 0, size, total;
	uint8_t hdr[RBATCH_HEADER_BYTES];
	int fd, rc = 0;
	ssize_t n;

	segment_path(run->t->dir, seg->base_offset, ".log", path, sizeof(path));
	fd = sio_open(run->c->sio, path, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	size = MIN(sio_size(run->c->sio, fd), seg->size);
	while (rc == 0 && pos + RBATCH_HEADER_BYTES <= size) {
		n = sio_pread(run->c->sio, fd, hdr, sizeof(hdr), pos);
		if (n != (ssize_t)sizeof(hdr) || rbatch_header_parse(hdr, sizeof(hdr), &h) != 0 ||
		    h.magic != RBATCH_MAGIC_V2 || h.batch_length < RBATCH_HEADER_BYTES - 12) {
			rc = -EINVAL;
			break;
		}
		total = rbatch_total_bytes(&h);
		if (pos + total > size || total > CLEANER_BATCH_BYTES_MAX) {
			rc = -EINVAL;
			break;
		}
		if (body) {
			if ((size_t)total > run->batch_cap) {
				uint8_t *b = realloc(run->batch, (size_t)total);

				if (b == NULL) {
					rc = -ENOMEM;
					break;
				}
				run->batch = b;
				run->batch_cap = (size_t)total;
			}
			n = sio_pread(run->c->sio, fd, run->batch, (size_t)total, pos);
			if (n != total) {
				rc = n < 0 ? (int)n : -EIO;
				break;
			}
			run->stats->bytes_read += (uint64_t)total;
			if (!cleaner_run_throttle(run, (uint64_t)total)) {
				rc = -EINTR;
				break;
			}
		}
		rc = fn(run, &h, body ? run->batch : NULL, (size_t)total);
		pos += total;
	}
	sio_close(run->c->sio, fd);
	return rc;
}

/* ---- phase 1: producers and the offset map ---- */

static int
cleaner_note_producer(struct cleaner_run *run, const struct rbatch_header *h,
		      const uint8_t *batch, size_t len)
{
	(void)batch;
	(void)len;
	if (h->producer_id < 0)
		return 0;
	return cleaner_pids_put(&run->pids, h->producer_id, h->base_offset + h->last_offset_delta);
}

static int
cleaner_map_record(void *arg, const struct rbatch_header *h, const struct cleaner_record *rec)
{
	struct cleaner_run *run = arg;
	int64_t offset = h->base_offset + rec->offset_delta;

	if (rec->key != NULL && offset >= run->first_dirty)
		cleaner_map_put(run->c->map, rec->key, (size_t)rec->key_len, offset);
	return 0;
}

/* 1: the map is full; the dirty section ends before this batch. */
static int
cleaner_map_batch(struct cleaner_run *run, const struct rbatch_header *h, const uint8_t *batch,
		  size_t len)
{
	struct cleaner_map *m = run->c->map;
	int64_t last = h->base_offset + h->last_offset_delta;
	int rc;

	if (last < run->first_dirty)
		return cleaner_note_producer(run, h, batch, len);
	if (m->used + (uint32_t)MAX(h->records_count, 0) >= m->used_max)
		return 1;
	rc = cleaner_note_producer(run, h, batch, len);
	if (rc == 0)
		rc = cleaner_batch_records(batch, len, cleaner_map_record, run);
	if (rc == 0)
		run->map_end = last + 1;
	return rc;
}

/* ---- phase 2: rewriting one segment ---- */

struct cleaner_out {
	int fd;
	int64_t file_pos;               /* bytes pwritten */
	struct cleaner_buf buf;         /* batches not yet written */
	struct cleaner_buf oidx;
	struct cleaner_buf tidx;
	int64_t bytes_since_index;
	int64_t max_ts;
	int64_t max_ts_offset;
	int64_t tidx_last_ts;
	int64_t horizon_min;
	bool changed;
	uint64_t records_removed;
};

struct cleaner_seg_run {
	struct cleaner_run *run;
	const struct cleaner_seg *seg;
	struct cleaner_out out;
};

static int
cleaner_out_flush(struct cleaner_run *run, struct cleaner_out *o)
{
	ssize_t n;

	if (o->buf.len == 0)
		return 0;
	n = sio_pwrite(run->c->sio, o->fd, o->buf.data, o->buf.len, o->file_pos);
	if (n != (ssize_t)o->buf.len)
		return n < 0 ? (int)n : -EIO;
	o->file_pos += (int64_t)o->buf.len;
	run->stats->bytes_written += o->buf.len;
	if (!cleaner_run_throttle(run, o->buf.len))
		return -EINTR;
	o->buf.len = 0;
	return 0;
}

static void
cleaner_out_time_entry(struct cleaner_out *o, int64_t base)
{
	uint8_t *p;

	if (o->max_ts <= o->tidx_last_ts || cleaner_buf_reserve(&o->tidx, 12) < 0)
		return;
	p = o->tidx.data + o->tidx.len;
	be_write64(p, (uint64_t)o->max_ts);
	be_write32(p + 8, (uint32_t)(o->max_ts_offset - base));
	o->tidx.len += 12;
	o->tidx_last_ts = o->max_ts;
}

/* Index the batch now at pos, as segment_batch_landed() does. */
static void
cleaner_out_landed(struct cleaner_out *o, const struct cleaner_seg *seg, const uint8_t *b,
		   int64_t pos, int32_t interval)
{
	struct rbatch_header h;
	int64_t last;
	uint8_t *p;

	(void)rbatch_header_parse(b, RBATCH_HEADER_BYTES, &h);
	last = h.base_offset + h.last_offset_delta;
	if (h.max_timestamp > o->max_ts) {
		o->max_ts = h.max_timestamp;
		o->max_ts_offset = last;
	}
	if (o->bytes_since_index > interval && cleaner_buf_reserve(&o->oidx, 8) == 0) {
		p = o->oidx.data + o->oidx.len;
		be_write32(p, (uint32_t)(last - seg->base_offset));
		be_write32(p + 4, (uint32_t)pos);
		o->oidx.len += 8;
		cleaner_out_time_entry(o, seg->base_offset);
		o->bytes_since_index = 0;
	}
	o->bytes_since_index += rbatch_total_bytes(&h);
}

static int
cleaner_rewrite_batch(struct cleaner_run *run, const struct rbatch_header *h,
		      const uint8_t *batch, size_t len)
{
	struct cleaner_seg_run *sr = run->cur;
	struct cleaner_out *o = &sr->out;
	struct cleaner_filter f = {
		.map = run->c->map, .now_ms = run->now_ms,
		.delete_retention_ms = run->t->cfg.delete_retention_ms,
		.retain_empty = h->producer_id >= 0 &&
				cleaner_pids_get(&run->pids, h->producer_id) ==
				h->base_offset + h->last_offset_delta,
	};
	struct cleaner_batch_result res;
	size_t at = o->buf.len;
	int rc;

	rc = cleaner_batch_filter(&f, batch, len, &o->buf, &res);
	if (rc < 0)
		return rc;
	o->records_removed += res.records_read - res.records_kept;
	if (!res.original)
		o->changed = true;
	if (res.kept) {
		cleaner_out_landed(o, sr->seg, o->buf.data + at, o->file_pos + (int64_t)at,
				   run->t->cfg.index_interval_bytes);
		if (res.delete_horizon_ms >= 0 && res.delete_horizon_ms < o->horizon_min)
			o->horizon_min = res.delete_horizon_ms;
	}
	if (o->buf.len >= CLEANER_WRITE_CHUNK)
		return cleaner_out_flush(run, o);
	return 0;
}

static int
cleaner_write_file(struct sio *sio, const char *path, const struct cleaner_buf *b)
{
	ssize_t n = 0;
	int fd, rc;

	fd = sio_open(sio, path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fd;
	if (b->len > 0)
		n = sio_pwrite(sio, fd, b->data, b->len, 0);
	rc = n == (ssize_t)b->len ? sio_fsync(sio, fd) : n < 0 ? (int)n : -EIO;
	sio_close(sio, fd);
	return rc;
}

/* Rewrite seg into its .cleaned files. *changed: anything differs (else
 * the files are removed again). */
static int
cleaner_rewrite_seg(struct cleaner_run *run, const struct cleaner_seg *seg, bool *changed,
		    int64_t *new_size, int64_t *max_ts, int64_t *horizon_min)
{
	struct cleaner_seg_run sr = { .run = run, .seg = seg };
	struct cleaner_out *o = &sr.out;
	char path[SEGMENT_PATH_MAX];
	int rc;

	o->max_ts = -1;
	o->max_ts_offset = -1;
	o->tidx_last_ts = -1;
	o->horizon_min = INT64_MAX;
	segment_path(run->t->dir, seg->base_offset, ".log.cleaned", path, sizeof(path));
	o->fd = sio_open(run->c->sio, path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (o->fd < 0)
		return o->fd;
	run->cur = &sr;
	rc = cleaner_seg_each(run, seg, true, cleaner_rewrite_batch);
	run->cur = NULL;
	if (rc == 0)
		rc = cleaner_out_flush(run, o);
	if (rc == 0 && o->changed)
		rc = sio_fsync(run->c->sio, o->fd);
	sio_close(run->c->sio, o->fd);
	cleaner_out_time_entry(o, seg->base_offset);    /* the max, as segment_seal() */
	if (rc == 0 && o->changed) {
		segment_path(run->t->dir, seg->base_offset, ".index.cleaned", path, sizeof(path));
		rc = cleaner_write_file(run->c->sio, path, &o->oidx);
	}
	if (rc == 0 && o->changed) {
		segment_path(run->t->dir, seg->base_offset, ".timeindex.cleaned", path,
			     sizeof(path));
		rc = cleaner_write_file(run->c->sio, path, &o->tidx);
	}
	*changed = o->changed;
	*new_size = o->file_pos;
	*max_ts = o->max_ts;
	*horizon_min = o->horizon_min;
	run->stats->records_removed += o->records_removed;
	cleaner_buf_free(&o->buf);
	cleaner_buf_free(&o->oidx);
	cleaner_buf_free(&o->tidx);
	if (rc < 0 || !o->changed)
		cleaner_swap_discard(run->c->sio, run->t->dir, seg->base_offset);
	return rc;
}

/* ---- the run ---- */

/* The first batch's max timestamp (Kafka's first-batch timestamp of a
 * segment for max.compaction.lag.ms), or -1. */
static int
cleaner_first_ts_batch(struct cleaner_run *run, const struct rbatch_header *h,
		       const uint8_t *batch, size_t len)
{
	(void)batch;
	(void)len;
	run->first_ts = h->max_timestamp;
	return 1;                       /* the first batch is enough */
}

static bool
cleaner_log_due(struct cleaner_run *run, uint32_t dirty_first, uint32_t uncleanable,
		int64_t horizon_ms, double *ratio)
{
	const struct cleaner_target *t = run->t;
	uint64_t clean = 0, dirty = 0;
	int64_t first_ts = -1;
	uint32_t i;

	for (i = 0; i < uncleanable; i++) {
		if (i < dirty_first)
			clean += (uint64_t)t->segs[i].size;
		else
			dirty += (uint64_t)t->segs[i].size;
	}
	*ratio = clean + dirty > 0 ? (double)dirty / (double)(clean + dirty) : 0.0;
	if (horizon_ms <= run->now_ms && dirty_first > 0)
		return true;
	if (dirty == 0)
		return false;
	if (*ratio >= t->cfg.min_cleanable_dirty_ratio)
		return true;
	if (t->cfg.max_compaction_lag_ms > 0 && t->cfg.max_compaction_lag_ms < INT64_MAX) {
		run->first_ts = -1;
		(void)cleaner_seg_each(run, &t->segs[dirty_first], false, cleaner_first_ts_batch);
		first_ts = run->first_ts;
		if (first_ts >= 0 && run->now_ms - first_ts > t->cfg.max_compaction_lag_ms)
			return true;
	}
	return false;
}

/* Segments [0, *dirty_first) are clean, [*dirty_first, *uncleanable) dirty
 * and cleanable. */
static void
cleaner_log_sections(struct cleaner_run *run, uint32_t *dirty_first, uint32_t *uncleanable)
{
	const struct cleaner_target *t = run->t;
	uint32_t i;

	*uncleanable = t->seg_count;
	for (i = 0; i < t->seg_count; i++) {
		if (t->cfg.min_compaction_lag_ms > 0 && t->segs[i].max_timestamp >= 0 &&
		    run->now_ms - t->segs[i].max_timestamp < t->cfg.min_compaction_lag_ms) {
			*uncleanable = i;
			break;
		}
	}
	for (i = 0; i < *uncleanable && t->segs[i].next_offset <= run->first_dirty; i++)
		;
	*dirty_first = i;
}

static int
cleaner_log_map(struct cleaner_run *run, uint32_t dirty_first, uint32_t uncleanable)
{
	uint64_t dirty_bytes = 0;
	uint32_t i;
	int rc = 0;

	/* A record takes at least 7 bytes of a batch: a bound on the keys. */
	for (i = dirty_first; i < uncleanable; i++)
		dirty_bytes += (uint64_t)run->t->segs[i].size;
	cleaner_map_reset(run->c->map, dirty_bytes / 7 + 1);
	run->map_end = run->first_dirty;
	for (i = 0; i < dirty_first && rc == 0; i++)
		rc = cleaner_seg_each(run, &run->t->segs[i], false, cleaner_note_producer);
	for (i = dirty_first; i < uncleanable && rc == 0; i++)
		rc = cleaner_seg_each(run, &run->t->segs[i], true, cleaner_map_batch);
	/* Every record below map_end was seen: offsets above the map's
	 * latest key but below map_end are not "past the map". */
	if (run->c->map->latest_offset < run->map_end - 1)
		run->c->map->latest_offset = run->map_end - 1;
	return rc == 1 ? 0 : rc;
}

int
cleaner_log_clean(struct cleaner_ctx *c, const struct cleaner_target *t, int64_t now_ms,
		  struct cleaner_log_stats *stats)
{
	struct cleaner_run run = { .c = c, .t = t, .now_ms = now_ms, .stats = stats };
	int64_t horizon_ms, horizon_new = INT64_MAX, new_size, max_ts, seg_horizon;
	uint32_t dirty_first, uncleanable, i;
	bool changed;
	int rc = 0;

	memset(stats, 0, sizeof(*stats));
	if (t->seg_count == 0)
		return 0;
	cleaner_checkpoint_read(c->sio, t->dir, &run.first_dirty, &horizon_ms);
	if (run.first_dirty < t->segs[0].base_offset || run.first_dirty > t->active_base)
		run.first_dirty = t->segs[0].base_offset;
	cleaner_log_sections(&run, &dirty_first, &uncleanable);
	if (!cleaner_log_due(&run, dirty_first, uncleanable, horizon_ms, &stats->dirty_ratio))
		return 0;
	stats->cleaned = true;
	rc = cleaner_log_map(&run, dirty_first, uncleanable);
	if (rc == 0 && run.map_end <= run.first_dirty && horizon_ms > now_ms)
		rc = -ENOBUFS;          /* one batch has more keys than the map holds */
	for (i = 0; rc == 0 && i < t->seg_count && t->segs[i].base_offset < run.map_end; i++) {
		rc = cleaner_rewrite_seg(&run, &t->segs[i], &changed, &new_size, &max_ts,
					 &seg_horizon);
		if (rc == 0 && changed) {
			rc = c->swap(c->swap_arg, t, t->segs[i].base_offset, max_ts);
			if (rc == 0) {
				stats->segments_cleaned++;
				if (t->segs[i].size > new_size)
					stats->bytes_reclaimed +=
						(uint64_t)(t->segs[i].size - new_size);
			} else if (rc == -ENOENT) {
				rc = 0;         /* retention took it meanwhile */
			}
		}
		if (rc == 0 && seg_horizon < horizon_new)
			horizon_new = seg_horizon;
	}
	if (rc == 0 && run.map_end > run.first_dirty)
		rc = cleaner_checkpoint_write(c->sio, t->dir, run.map_end, horizon_new);
	else if (rc == 0 && horizon_new != horizon_ms)
		rc = cleaner_checkpoint_write(c->sio, t->dir, run.first_dirty, horizon_new);
	free(run.batch);
	free(run.pids.slots);
	return rc;
}
