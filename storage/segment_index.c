/* SPDX-License-Identifier: Apache-2.0 */
/* Offset and time indexes of one segment, Kafka's on-disk formats (big-endian
 * entries in a memory-mapped file). Lookups are binary searches over the
 * mapped entries; nothing here reads the .log file (recovery.c validates and
 * rebuilds indexes against the log) or decides when to map (segment.c and
 * the open-file cache do). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "common/assert.h"
#include "common/be.h"
#include "storage/segment_index_int.h"

void
segment_index_offset_at(const struct segment_index *idx, uint32_t i, uint32_t *rel,
			uint32_t *pos)
{
	const uint8_t *e;

	ASSERT_HOT(idx->entry_bytes == SEGMENT_INDEX_OFFSET_BYTES);
	ASSERT_HOT(i < idx->entry_max);
	ASSERT_HOT(idx->map != NULL);
	e = idx->map + (size_t)i * SEGMENT_INDEX_OFFSET_BYTES;
	*rel = be_read32(e);
	*pos = be_read32(e + 4);
}

void
segment_index_time_at(const struct segment_index *idx, uint32_t i, int64_t *ts, uint32_t *rel)
{
	const uint8_t *e;

	ASSERT_HOT(idx->entry_bytes == SEGMENT_INDEX_TIME_BYTES);
	ASSERT_HOT(i < idx->entry_max);
	ASSERT_HOT(idx->map != NULL);
	e = idx->map + (size_t)i * SEGMENT_INDEX_TIME_BYTES;
	*ts = (int64_t)be_read64(e);
	*rel = be_read32(e + 8);
}

/* Entries are valid while they strictly increase; the zero fill of a
 * preallocated file (or garbage after a crash) ends them. */
static uint32_t
index_count_valid(const struct segment_index *idx)
{
	uint32_t i, rel, pos, prev_rel = 0, prev_pos = 0;
	int64_t ts, prev_ts = 0;

	for (i = 0; i < idx->entry_max; i++) {
		if (idx->entry_bytes == SEGMENT_INDEX_OFFSET_BYTES) {
			segment_index_offset_at(idx, i, &rel, &pos);
			if (pos == 0 || pos <= prev_pos || (i > 0 && rel <= prev_rel))
				break;
			prev_pos = pos;
		} else {
			segment_index_time_at(idx, i, &ts, &rel);
			if ((ts == 0 && rel == 0) || (i > 0 && (ts <= prev_ts || rel < prev_rel)))
				break;
			prev_ts = ts;
		}
		prev_rel = rel;
	}
	return i;
}

static int
index_map_fd(struct sio *sio, struct segment_index *idx, int fd)
{
	idx->map = NULL;
	if (idx->entry_max > 0) {
		idx->map = sio_map(sio, fd, (size_t)idx->entry_max * idx->entry_bytes,
				   idx->writable);
		if (idx->map == NULL)
			return -ENOMEM;
	}
	idx->mapped = true;
	return 0;
}

int
segment_index_open(struct sio *sio, struct segment_index *idx, const char *path,
		   uint32_t entry_bytes, int32_t max_bytes, bool writable, bool *created)
{
	int64_t size, want;
	int fd, rc;

	ASSERT(entry_bytes == SEGMENT_INDEX_OFFSET_BYTES ||
	       entry_bytes == SEGMENT_INDEX_TIME_BYTES);
	memset(idx, 0, sizeof(*idx));
	idx->entry_bytes = entry_bytes;
	idx->writable = writable;
	*created = false;
	fd = sio_open(sio, path, O_RDWR, 0644);
	if (fd == -ENOENT) {
		fd = sio_open(sio, path, O_RDWR | O_CREAT, 0644);
		*created = true;
	}
	if (fd < 0)
		return fd;
	size = sio_size(sio, fd);
	rc = size < 0 ? (int)size : 0;
	want = size;
	if (rc == 0 && writable) {
		want = (int64_t)max_bytes - (int64_t)max_bytes % entry_bytes;
		if (want < size)
			want = size - size % entry_bytes;
		rc = sio_ftruncate(sio, fd, want);
	}
	if (rc == 0) {
		idx->entry_max = (uint32_t)(want / entry_bytes);
		rc = index_map_fd(sio, idx, fd);
	}
	sio_close(sio, fd);
	if (rc < 0)
		return rc;
	/* A new file has no entries; reading its map would only fault in
	 * (and zero) pages of a hole. */
	idx->entry_count = size > 0 ? index_count_valid(idx) : 0;
	return 0;
}

int
segment_index_map(struct sio *sio, struct segment_index *idx, const char *path)
{
	int fd, rc;

	ASSERT(!idx->mapped);
	if (idx->entry_max == 0) {
		idx->mapped = true;
		return 0;
	}
	fd = sio_open(sio, path, idx->writable ? O_RDWR : O_RDONLY, 0);
	if (fd < 0)
		return fd;
	rc = index_map_fd(sio, idx, fd);
	sio_close(sio, fd);
	return rc;
}

void
segment_index_unmap(struct sio *sio, struct segment_index *idx)
{
	if (idx->map != NULL)
		sio_unmap(sio, idx->map, (size_t)idx->entry_max * idx->entry_bytes);
	idx->map = NULL;
	idx->mapped = false;
}

uint32_t
segment_index_map_count(const struct segment_index *idx)
{
	return idx->map != NULL ? 1 : 0;
}

/* Cut the file to its entries through a descriptor of its own. */
static int
index_trim(struct sio *sio, struct segment_index *idx, const char *path)
{
	int fd = sio_open(sio, path, O_RDWR, 0), rc;

	if (fd < 0)
		return fd;
	rc = sio_ftruncate(sio, fd, (int64_t)idx->entry_count * idx->entry_bytes);
	sio_close(sio, fd);
	return rc;
}

int
segment_index_seal(struct sio *sio, struct segment_index *idx, const char *path)
{
	int rc;

	if (!idx->writable)
		return 0;
	segment_index_unmap(sio, idx);
	rc = index_trim(sio, idx, path);
	if (rc < 0)
		return rc;
	idx->writable = false;
	idx->entry_max = idx->entry_count;
	return 0;
}

int
segment_index_unseal(struct sio *sio, struct segment_index *idx, const char *path,
		     int32_t max_bytes)
{
	int64_t want = (int64_t)max_bytes - (int64_t)max_bytes % idx->entry_bytes;
	int fd, rc;

	ASSERT(!idx->writable);
	segment_index_unmap(sio, idx);
	fd = sio_open(sio, path, O_RDWR, 0);
	if (fd < 0)
		return fd;
	/* Zero the old entries first: the entries end at the zero fill. */
	rc = sio_ftruncate(sio, fd, 0);
	if (rc == 0)
		rc = sio_ftruncate(sio, fd, want);
	sio_close(sio, fd);
	if (rc < 0)
		return rc;
	idx->writable = true;
	idx->entry_count = 0;
	idx->entry_max = (uint32_t)(want / idx->entry_bytes);
	return 0;
}

void
segment_index_close(struct sio *sio, struct segment_index *idx, const char *path, bool trim)
{
	segment_index_unmap(sio, idx);
	if (idx->writable && trim)
		(void)index_trim(sio, idx, path);
	idx->entry_count = 0;
	idx->entry_max = 0;
	idx->writable = false;
}

void
segment_index_truncate(struct segment_index *idx, uint32_t count)
{
	ASSERT(count <= idx->entry_max);
	ASSERT(idx->mapped);
	if (count >= idx->entry_count)
		return;
	if (idx->writable)
		memset(idx->map + (size_t)count * idx->entry_bytes, 0,
		       (size_t)(idx->entry_count - count) * idx->entry_bytes);
	idx->entry_count = count;
}

bool
segment_index_full(const struct segment_index *idx)
{
	return idx->entry_count >= idx->entry_max;
}

void
segment_index_offset_append(struct segment_index *idx, uint32_t rel, uint32_t pos)
{
	uint32_t last_rel, last_pos;
	uint8_t *e;

	ASSERT(idx->writable && idx->mapped);
	ASSERT(idx->entry_count < idx->entry_max);
	if (idx->entry_count > 0) {
		segment_index_offset_at(idx, idx->entry_count - 1, &last_rel, &last_pos);
		ASSERT(rel > last_rel);
		ASSERT(pos > last_pos);
	}
	e = idx->map + (size_t)idx->entry_count * SEGMENT_INDEX_OFFSET_BYTES;
	be_write32(e, rel);
	be_write32(e + 4, pos);
	idx->entry_count++;
}

void
segment_index_time_append(struct segment_index *idx, int64_t ts, uint32_t rel)
{
	uint32_t last_rel;
	int64_t last_ts;
	uint8_t *e;

	ASSERT(idx->writable && idx->mapped);
	if (idx->entry_count >= idx->entry_max)
		return;
	if (idx->entry_count > 0) {
		segment_index_time_at(idx, idx->entry_count - 1, &last_ts, &last_rel);
		if (ts <= last_ts)
			return;
		ASSERT(rel >= last_rel);
	}
	e = idx->map + (size_t)idx->entry_count * SEGMENT_INDEX_TIME_BYTES;
	be_write64(e, (uint64_t)ts);
	be_write32(e + 8, rel);
	idx->entry_count++;
}

/* The value field of the last entry whose key field is <= target, or 0
 * when none is: a binary search, as entries increase in every field.
 * Fields are big-endian at the given byte offsets of an entry; the key is
 * 8 bytes wide in a time index, 4 in an offset index, values 4. */
static uint32_t
segment_index_floor(const struct segment_index *idx, size_t key_at, int64_t target,
		    size_t value_at)
{
	bool key64 = idx->entry_bytes == SEGMENT_INDEX_TIME_BYTES;
	uint32_t lo = 0, hi = idx->entry_count, mid, found = 0;
	const uint8_t *e;
	int64_t key;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		ASSERT_HOT(idx->map != NULL && mid < idx->entry_max);
		e = idx->map + (size_t)mid * idx->entry_bytes;
		key = key64 ? (int64_t)be_read64(e + key_at) : (int64_t)be_read32(e + key_at);
		if (key <= target) {
			found = be_read32(e + value_at);
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return found;
}

/* Offset index entry: [relative offset][position]; time index entry:
 * [timestamp][relative offset]. */
uint32_t
segment_index_offset_lookup(const struct segment_index *idx, uint32_t target)
{
	ASSERT_HOT(idx->entry_bytes == SEGMENT_INDEX_OFFSET_BYTES);
	return segment_index_floor(idx, 0, target, 4);
}

uint32_t
segment_index_position_floor(const struct segment_index *idx, uint32_t target_pos)
{
	ASSERT_HOT(idx->entry_bytes == SEGMENT_INDEX_OFFSET_BYTES);
	return segment_index_floor(idx, 4, target_pos, 4);
}

uint32_t
segment_index_time_lookup(const struct segment_index *idx, int64_t target)
{
	ASSERT_HOT(idx->entry_bytes == SEGMENT_INDEX_TIME_BYTES);
	return segment_index_floor(idx, 0, target, 8);
}
