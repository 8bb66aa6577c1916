/* SPDX-License-Identifier: Apache-2.0 */
/* One segment of a partition log: files, per-write bookkeeping, batch
 * header reads and lifetime (refs). It never decides when to roll, delete or
 * sync; plog.c and plog_sync.c do. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/compiler.h"
#include "common/log.h"
#include "storage/segment_int.h"

void
segment_path(const char *dir, int64_t base_offset, const char *ext, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%020" PRId64 "%s", dir, base_offset, ext);

	ASSERT(n > 0 && (size_t)n < size);
}

static void
segment_load_tails(struct segment *seg)
{
	uint32_t rel, pos;
	int64_t ts;

	seg->next_offset = seg->base_offset;
	if (seg->oidx.entry_count > 0) {
		segment_index_offset_at(&seg->oidx, seg->oidx.entry_count - 1, &rel, &pos);
		seg->next_offset = seg->base_offset + rel + 1;
	}
	if (seg->tidx.entry_count > 0) {
		segment_index_time_at(&seg->tidx, seg->tidx.entry_count - 1, &ts, &rel);
		seg->max_timestamp = ts;
		seg->max_timestamp_offset = seg->base_offset + rel;
	}
}

/* An open or a map failed for want of descriptors or address space: close
 * what the cache holds unpinned and say whether a retry may succeed. */
static bool
segment_retry(struct segment *seg, int rc)
{
	if (rc != -EMFILE && rc != -ENFILE && rc != -ENOMEM)
		return false;
	return fcache_shrink(seg->fc) > 0;
}

static void
segment_log_evict(struct fcache_entry *e)
{
	struct segment *seg = container_of(e, struct segment, log_fc);

	ASSERT(seg->fd >= 0);
	sio_close(seg->sio, seg->fd);
	seg->fd = -1;
}

static void
segment_idx_evict(struct fcache_entry *e)
{
	struct segment *seg = container_of(e, struct segment, idx_fc);

	segment_index_unmap(seg->sio, &seg->oidx);
	segment_index_unmap(seg->sio, &seg->tidx);
}

static int
segment_log_reopen(struct segment *seg)
{
	char path[SEGMENT_PATH_MAX];
	int fd;

	ASSERT(!seg->deleted);
	snprintf(path, sizeof(path), "%s.log", seg->stem);
	fcache_reserve(seg->fc, 1, 0);
	fd = sio_open(seg->sio, path, O_RDWR, 0);
	if (fd < 0 && segment_retry(seg, fd))
		fd = sio_open(seg->sio, path, O_RDWR, 0);
	if (fd < 0)
		return fd;
	seg->fd = fd;
	fcache_opened(seg->fc, &seg->log_fc, 1, 0);
	return 0;
}

int
segment_log_pin(struct segment *seg)
{
	if (seg->log_fc.open) {
		fcache_pin(seg->fc, &seg->log_fc);
		return 0;
	}
	return segment_log_reopen(seg);
}

void
segment_log_unpin(struct segment *seg)
{
	fcache_unpin(seg->fc, &seg->log_fc);
}

static int
segment_idx_map(struct segment *seg)
{
	char path[SEGMENT_PATH_MAX];
	int rc;

	snprintf(path, sizeof(path), "%s.index", seg->stem);
	rc = segment_index_map(seg->sio, &seg->oidx, path);
	snprintf(path, sizeof(path), "%s.timeindex", seg->stem);
	if (rc == 0)
		rc = segment_index_map(seg->sio, &seg->tidx, path);
	if (rc < 0) {
		segment_index_unmap(seg->sio, &seg->oidx);
		segment_index_unmap(seg->sio, &seg->tidx);
	}
	return rc;
}

int
segment_idx_pin(struct segment *seg)
{
	uint32_t maps = (seg->oidx.entry_max > 0) + (seg->tidx.entry_max > 0);
	int rc;

	if (seg->idx_fc.open) {
		fcache_pin(seg->fc, &seg->idx_fc);
		return 0;
	}
	ASSERT(!seg->deleted);
	fcache_reserve(seg->fc, 0, maps);
	rc = segment_idx_map(seg);
	if (rc < 0 && segment_retry(seg, rc))
		rc = segment_idx_map(seg);
	if (rc < 0)
		return rc;
	fcache_opened(seg->fc, &seg->idx_fc, 0, maps);
	return 0;
}

void
segment_idx_unpin(struct segment *seg)
{
	fcache_unpin(seg->fc, &seg->idx_fc);
}

int
segment_pin(struct segment *seg)
{
	int rc = segment_log_pin(seg);

	if (rc < 0)
		return rc;
	rc = segment_idx_pin(seg);
	if (rc < 0)
		segment_log_unpin(seg);
	return rc;
}

void
segment_unpin(struct segment *seg)
{
	segment_idx_unpin(seg);
	segment_log_unpin(seg);
}

static void
segment_txn_evict(struct fcache_entry *e)
{
	struct segment *seg = container_of(e, struct segment, txn_fc);

	txn_index_fd_close(seg->sio, &seg->txn);
}

/* Pin the .txnindex descriptor, opening (create: creating) the file. */
static int
segment_txn_pin(struct segment *seg, bool create)
{
	char path[SEGMENT_PATH_MAX];
	int rc;

	if (seg->txn_fc.open) {
		fcache_pin(seg->fc, &seg->txn_fc);
		return 0;
	}
	if (seg->deleted)
		return -ENOENT;
	snprintf(path, sizeof(path), "%s.txnindex", seg->stem);
	fcache_reserve(seg->fc, 1, 0);
	rc = txn_index_fd_open(seg->sio, &seg->txn, path, create);
	if (rc < 0 && segment_retry(seg, rc))
		rc = txn_index_fd_open(seg->sio, &seg->txn, path, create);
	if (rc < 0)
		return rc;
	fcache_opened(seg->fc, &seg->txn_fc, 1, 0);
	return 0;
}

static void
segment_txn_unpin(struct segment *seg)
{
	fcache_unpin(seg->fc, &seg->txn_fc);
}

int
segment_txn_append(struct segment *seg, const struct txn_aborted *txn)
{
	int rc = segment_txn_pin(seg, true);

	if (rc < 0)
		return rc;
	rc = txn_index_append(seg->sio, &seg->txn, txn);
	segment_txn_unpin(seg);
	return rc;
}

int
segment_txn_collect(struct segment *seg, int64_t fetch_offset, int64_t upper_bound,
		    struct txn_aborted_list *out)
{
	int rc;

	if (seg->txn.entry_count == 0)
		return 0;
	rc = segment_txn_pin(seg, false);
	if (rc < 0)
		return rc;
	rc = txn_index_collect(seg->sio, &seg->txn, fetch_offset, upper_bound, out);
	segment_txn_unpin(seg);
	return rc;
}

int
segment_txn_truncate(struct segment *seg, int64_t offset)
{
	int rc;

	if (seg->txn.entry_count == 0 || seg->txn.last_offset < offset)
		return 0;
	rc = segment_txn_pin(seg, false);
	if (rc < 0)
		return rc;
	rc = txn_index_truncate(seg->sio, &seg->txn, offset);
	segment_txn_unpin(seg);
	return rc;
}

int
segment_txn_sync(struct segment *seg)
{
	int rc;

	if (seg->txn.entry_count == 0)
		return 0;
	rc = segment_txn_pin(seg, false);
	if (rc < 0)
		return rc;
	rc = txn_index_sync(seg->sio, &seg->txn);
	segment_txn_unpin(seg);
	return rc;
}

/* Sanity-check and repair an existing .txnindex (its descriptor is closed
 * again: most segments never look at it). */
static int
segment_txn_load(struct segment *seg)
{
	char path[SEGMENT_PATH_MAX];
	bool cut = false;
	int rc;

	snprintf(path, sizeof(path), "%s.txnindex", seg->stem);
	fcache_reserve(seg->fc, 1, 0);
	rc = txn_index_load(seg->sio, &seg->txn, path, &cut);
	if (rc < 0 && segment_retry(seg, rc))
		rc = txn_index_load(seg->sio, &seg->txn, path, &cut);
	if (rc == 0 && cut)
		log_warn("storage", "%s: cut a torn or corrupt tail, %u entries kept", path,
			 seg->txn.entry_count);
	return rc;
}

/* Unmap the indexes now (they are about to change shape on disk). */
static void
segment_idx_drop(struct segment *seg)
{
	if (!seg->idx_fc.open)
		return;
	fcache_closed(seg->fc, &seg->idx_fc);
	segment_index_unmap(seg->sio, &seg->oidx);
	segment_index_unmap(seg->sio, &seg->tidx);
}

/* The files, first opened (created if missing). */
static int
segment_files_open(struct segment *seg, int32_t index_bytes, bool active, bool *created_o,
		   bool *created_t)
{
	char path[SEGMENT_PATH_MAX];
	int rc;

	snprintf(path, sizeof(path), "%s.log", seg->stem);
	seg->fd = sio_open(seg->sio, path, O_RDWR | O_CREAT, 0644);
	if (seg->fd < 0)
		return seg->fd;
	seg->size = sio_size(seg->sio, seg->fd);
	rc = seg->size < 0 ? (int)seg->size : 0;
	snprintf(path, sizeof(path), "%s.index", seg->stem);
	if (rc == 0)
		rc = segment_index_open(seg->sio, &seg->oidx, path, SEGMENT_INDEX_OFFSET_BYTES,
					index_bytes, active, created_o);
	snprintf(path, sizeof(path), "%s.timeindex", seg->stem);
	if (rc == 0)
		rc = segment_index_open(seg->sio, &seg->tidx, path, SEGMENT_INDEX_TIME_BYTES,
					index_bytes, active, created_t);
	if (rc < 0) {
		segment_index_unmap(seg->sio, &seg->oidx);
		sio_close(seg->sio, seg->fd);
		seg->fd = -1;
	}
	return rc;
}

struct segment *
segment_open(struct sio *sio, struct fcache *fc, const char *dir, int64_t base_offset,
	     int32_t index_bytes, bool active, int64_t now_ms, int *err, bool *index_created)
{
	char path[SEGMENT_PATH_MAX];
	struct segment *seg = calloc(1, sizeof(*seg));
	bool created_o = false, created_t = false;
	int rc;

	if (seg == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	seg->base_offset = base_offset;
	seg->max_timestamp = -1;
	seg->max_timestamp_offset = -1;
	seg->created_ms = now_ms;
	seg->refs = 1;
	seg->sealed = !active;
	seg->fd = -1;
	seg->sio = sio;
	seg->fc = fc;
	fcache_entry_init(&seg->log_fc, segment_log_evict);
	fcache_entry_init(&seg->idx_fc, segment_idx_evict);
	fcache_entry_init(&seg->txn_fc, segment_txn_evict);
	txn_index_init(&seg->txn, base_offset);
	segment_path(dir, base_offset, "", path, sizeof(path));
	seg->stem = strdup(path);
	if (seg->stem == NULL) {
		free(seg);
		*err = -ENOMEM;
		return NULL;
	}
	rc = segment_txn_load(seg);
	if (rc == 0) {
		fcache_reserve(fc, 1, 2);
		rc = segment_files_open(seg, index_bytes, active, &created_o, &created_t);
		if (rc < 0 && segment_retry(seg, rc))
			rc = segment_files_open(seg, index_bytes, active, &created_o,
						&created_t);
	}
	if (rc < 0) {
		free(seg->stem);
		free(seg);
		*err = rc;
		return NULL;
	}
	seg->synced_size = seg->size;
	fcache_opened(fc, &seg->log_fc, 1, 0);
	fcache_opened(fc, &seg->idx_fc, 0, segment_index_map_count(&seg->oidx) +
		      segment_index_map_count(&seg->tidx));
	*index_created = (created_o || created_t) && seg->size > 0;
	segment_load_tails(seg);
	/* Next to an empty log, entries are an orphan of a segment deleted
	 * at this base before (a crash between its unlinks): no marker of
	 * theirs is in this log. */
	if (seg->size == 0 && seg->txn.entry_count > 0)
		(void)segment_txn_truncate(seg, base_offset);
	*err = 0;
	return seg;
}

int
segment_batch_at(struct sio *sio, const struct segment *seg, int64_t pos, int64_t limit,
		 struct rbatch_header *h)
{
	uint8_t buf[RBATCH_HEADER_BYTES];
	ssize_t n;

	ASSERT_HOT(seg->fd >= 0);
	if (pos + RBATCH_HEADER_BYTES > limit)
		return -1;
	n = sio_pread(sio, seg->fd, buf, sizeof(buf), pos);
	if (n != (ssize_t)sizeof(buf) || rbatch_header_parse(buf, sizeof(buf), h) != 0)
		return -1;
	if (h->magic != RBATCH_MAGIC_V2 || h->batch_length < RBATCH_HEADER_BYTES -
	    RBATCH_LOG_OVERHEAD || h->last_offset_delta < 0)
		return -1;
	if (pos + rbatch_total_bytes(h) > limit)
		return -1;
	return 0;
}

void
segment_batch_landed(struct segment *seg, const struct rbatch_header *h, int64_t pos,
		     int32_t index_interval_bytes)
{
	int64_t last = h->base_offset + h->last_offset_delta;
	int64_t total = rbatch_total_bytes(h);

	ASSERT_HOT(h->base_offset >= seg->base_offset);
	ASSERT_HOT(last - seg->base_offset <= INT32_MAX);
	ASSERT_HOT(pos + total <= UINT32_MAX);
	if (h->max_timestamp > seg->max_timestamp) {
		seg->max_timestamp = h->max_timestamp;
		seg->max_timestamp_offset = last;
	}
	if (seg->bytes_since_index > index_interval_bytes && seg->oidx.writable &&
	    !segment_index_full(&seg->oidx)) {
		segment_index_offset_append(&seg->oidx, (uint32_t)(last - seg->base_offset),
					    (uint32_t)pos);
		segment_index_time_append(&seg->tidx, seg->max_timestamp,
					  (uint32_t)(seg->max_timestamp_offset - seg->base_offset));
		seg->bytes_since_index = 0;
	}
	seg->bytes_since_index += total;
	if (pos + total > seg->size)
		seg->size = pos + total;
	seg->next_offset = last + 1;
}

int
segment_seal(struct sio *sio, struct segment *seg)
{
	char path[SEGMENT_PATH_MAX];
	int rc, rc_t;

	if (seg->sealed)
		return 0;
	/* Kafka appends the segment's max timestamp at seal so a time lookup
	 * past the last sparse entry lands in this segment's tail. Without
	 * the map (no room) the lookup only lands a little earlier. */
	if (seg->max_timestamp >= 0 && seg->tidx.writable && segment_idx_pin(seg) == 0) {
		segment_index_time_append(&seg->tidx, seg->max_timestamp,
					  (uint32_t)(seg->max_timestamp_offset - seg->base_offset));
		segment_idx_unpin(seg);
	}
	seg->sealed = true;
	segment_idx_drop(seg);
	snprintf(path, sizeof(path), "%s.index", seg->stem);
	rc = segment_index_seal(sio, &seg->oidx, path);
	snprintf(path, sizeof(path), "%s.timeindex", seg->stem);
	rc_t = segment_index_seal(sio, &seg->tidx, path);
	return rc < 0 ? rc : rc_t;
}

int
segment_unseal(struct segment *seg, int32_t index_bytes)
{
	char path[SEGMENT_PATH_MAX];
	int rc;

	ASSERT(seg->sealed && !seg->deleted);
	segment_idx_drop(seg);
	snprintf(path, sizeof(path), "%s.index", seg->stem);
	rc = segment_index_unseal(seg->sio, &seg->oidx, path, index_bytes);
	snprintf(path, sizeof(path), "%s.timeindex", seg->stem);
	if (rc == 0)
		rc = segment_index_unseal(seg->sio, &seg->tidx, path, index_bytes);
	if (rc == 0)
		seg->sealed = false;
	return rc;
}

void
segment_ref(struct segment *seg)
{
	ASSERT_HOT(seg->refs > 0);
	seg->refs++;
}

void
segment_unref(struct sio *sio, struct segment *seg)
{
	char path[SEGMENT_PATH_MAX];
	bool trim = !seg->deleted;

	ASSERT(seg->refs > 0);
	ASSERT(sio == seg->sio);
	if (--seg->refs > 0)
		return;
	ASSERT(seg->log_fc.pins == 0 && seg->idx_fc.pins == 0 && seg->txn_fc.pins == 0);
	segment_idx_drop(seg);
	if (seg->txn_fc.open) {
		fcache_closed(seg->fc, &seg->txn_fc);
		txn_index_fd_close(sio, &seg->txn);
	}
	snprintf(path, sizeof(path), "%s.index", seg->stem);
	segment_index_close(sio, &seg->oidx, path, trim);
	snprintf(path, sizeof(path), "%s.timeindex", seg->stem);
	segment_index_close(sio, &seg->tidx, path, trim);
	if (seg->log_fc.open) {
		fcache_closed(seg->fc, &seg->log_fc);
		sio_close(sio, seg->fd);
	}
	free(seg->stem);
	free(seg);
}

int
segment_hold(struct segment *seg)
{
	int rc = segment_log_pin(seg);

	if (rc == 0)
		segment_ref(seg);
	return rc;
}

void
segment_release(struct segment *seg)
{
	segment_log_unpin(seg);
	segment_unref(seg->sio, seg);
}

void
segment_drop(struct segment *seg)
{
	seg->deleted = true;
	segment_unref(seg->sio, seg);
}

void
segment_delete(struct sio *sio, struct segment *seg)
{
	static const char *const exts[] = { ".log", ".index", ".timeindex", ".txnindex" };
	char path[SEGMENT_PATH_MAX];
	unsigned i;

	ASSERT(!seg->deleted);
	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", seg->stem, exts[i]);
		(void)sio_unlink(sio, path);
	}
	segment_drop(seg);
}
