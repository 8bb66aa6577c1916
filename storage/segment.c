/* SPDX-License-Identifier: Apache-2.0 */
/* One segment of a partition log: files, per-write bookkeeping, batch
 * header reads and lifetime (refs). It never decides when to roll, delete or
 * sync; plog.c does. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
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

struct segment *
segment_open(struct sio *sio, const char *dir, int64_t base_offset, int32_t index_bytes,
	     bool active, int64_t now_ms, int *err, bool *index_created)
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
	seg->oidx.fd = -1;
	seg->tidx.fd = -1;
	segment_path(dir, base_offset, "", path, sizeof(path));
	seg->stem = strdup(path);
	segment_path(dir, base_offset, ".log", path, sizeof(path));
	seg->fd = sio_open(sio, path, O_RDWR | O_CREAT, 0644);
	rc = seg->fd < 0 ? seg->fd : 0;
	if (rc == 0 && seg->stem == NULL)
		rc = -ENOMEM;
	if (rc == 0) {
		seg->size = sio_size(sio, seg->fd);
		rc = seg->size < 0 ? (int)seg->size : 0;
	}
	seg->synced_size = seg->size;
	segment_path(dir, base_offset, ".index", path, sizeof(path));
	if (rc == 0)
		rc = segment_index_open(sio, &seg->oidx, path, SEGMENT_INDEX_OFFSET_BYTES,
					index_bytes, active, &created_o);
	segment_path(dir, base_offset, ".timeindex", path, sizeof(path));
	if (rc == 0)
		rc = segment_index_open(sio, &seg->tidx, path, SEGMENT_INDEX_TIME_BYTES,
					index_bytes, active, &created_t);
	if (rc < 0) {
		segment_unref(sio, seg);
		*err = rc;
		return NULL;
	}
	*index_created = (created_o || created_t) && seg->size > 0;
	segment_load_tails(seg);
	*err = 0;
	return seg;
}

int
segment_batch_at(struct sio *sio, const struct segment *seg, int64_t pos, int64_t limit,
		 struct rbatch_header *h)
{
	uint8_t buf[RBATCH_HEADER_BYTES];
	ssize_t n;

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
	int rc;

	if (seg->sealed)
		return 0;
	/* Kafka appends the segment's max timestamp at seal so a time lookup
	 * past the last sparse entry lands in this segment's tail. */
	if (seg->max_timestamp >= 0 && seg->tidx.writable)
		segment_index_time_append(&seg->tidx, seg->max_timestamp,
					  (uint32_t)(seg->max_timestamp_offset - seg->base_offset));
	seg->sealed = true;
	rc = segment_index_seal(sio, &seg->oidx);
	if (rc == 0)
		rc = segment_index_seal(sio, &seg->tidx);
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
	ASSERT(seg->refs > 0);
	if (--seg->refs > 0)
		return;
	segment_index_close(sio, &seg->oidx);
	segment_index_close(sio, &seg->tidx);
	if (seg->fd >= 0)
		sio_close(sio, seg->fd);
	free(seg->stem);
	free(seg);
}

void
segment_delete(struct sio *sio, struct segment *seg)
{
	static const char *const exts[] = { ".log", ".index", ".timeindex" };
	char path[SEGMENT_PATH_MAX];
	unsigned i;

	ASSERT(!seg->deleted);
	seg->deleted = true;
	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", seg->stem, exts[i]);
		(void)sio_unlink(sio, path);
	}
	segment_unref(sio, seg);
}
