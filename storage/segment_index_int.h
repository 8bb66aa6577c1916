/* SPDX-License-Identifier: Apache-2.0 */
/* Sparse per-segment indexes in Kafka's file formats: the offset index
 * (<base>.index, 8-byte entries: relative offset u32 BE + file position u32 BE)
 * and the time index (<base>.timeindex, 12-byte entries: timestamp i64 BE +
 * relative offset u32 BE). Files are memory-mapped like Kafka's: preallocated
 * to segment.index.bytes while active, trimmed to their entries when sealed.
 * A map may be dropped and made again (the open-file cache) while the counts
 * stay in memory.
 * Internal to storage/. @thread storage (the owning worker) */
#ifndef STORAGE_SEGMENT_INDEX_INT_H
#define STORAGE_SEGMENT_INDEX_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "storage/sio.h"

#define SEGMENT_INDEX_OFFSET_BYTES 8
#define SEGMENT_INDEX_TIME_BYTES 12

struct segment_index {
	uint8_t *map;           /* entry_max entries while mapped, else NULL */
	uint32_t entry_bytes;   /* SEGMENT_INDEX_OFFSET_BYTES or _TIME_BYTES */
	uint32_t entry_count;
	uint32_t entry_max;
	bool writable;
	bool mapped;            /* entries readable (always, when entry_max == 0) */
};

/* Open or create an index file. writable: map max_bytes (rounded down to
 * whole entries), growing the file to that size; else map the file as it
 * is. The valid entry count is found from the entries themselves (strictly
 * increasing, the zero fill ends them); *created says the file was new.
 * The descriptor is closed once mapped, as Kafka does: a mapped index
 * costs a map, not a file descriptor. 0 or -errno (nothing left open). */
int segment_index_open(struct sio *sio, struct segment_index *idx, const char *path,
		       uint32_t entry_bytes, int32_t max_bytes, bool writable, bool *created);
/* Map an unmapped index again (its counts are kept in memory; the file is
 * entry_max entries long). 0 or -errno. */
int segment_index_map(struct sio *sio, struct segment_index *idx, const char *path);
/* Unmap, keeping the counts; entries written through a writable map stay
 * in the file. */
void segment_index_unmap(struct sio *sio, struct segment_index *idx);
/* Unmap, trim the file to its entries, and make the index read-only (map
 * it again to read). 0 or -errno. */
int segment_index_seal(struct sio *sio, struct segment_index *idx, const char *path);
/* Make a read-only index writable again with room for max_bytes: unmapped,
 * emptied (entry_count 0) and the file grown; map it to fill it. 0 or -errno. */
int segment_index_unseal(struct sio *sio, struct segment_index *idx, const char *path,
			 int32_t max_bytes);
/* Unmap for good; trim the file to its entries when writable and trim (a
 * clean close; never for a file that may now belong to someone else). */
void segment_index_close(struct sio *sio, struct segment_index *idx, const char *path,
			 bool trim);
/* Maps the index holds while mapped (0 or 1). */
uint32_t segment_index_map_count(const struct segment_index *idx);
/* Forget all entries from index `count` on (zeroing them); mapped only. */
void segment_index_truncate(struct segment_index *idx, uint32_t count);
bool segment_index_full(const struct segment_index *idx);

/* Offset index entry i. */
void segment_index_offset_at(const struct segment_index *idx, uint32_t i, uint32_t *rel,
			     uint32_t *pos);
/* Append (rel, pos); both must exceed the last entry's. */
void segment_index_offset_append(struct segment_index *idx, uint32_t rel, uint32_t pos);
/* Largest entry with rel <= target: its position, or 0 when none. */
uint32_t segment_index_offset_lookup(const struct segment_index *idx, uint32_t target);
/* Largest entry with pos <= target_pos: its position, or 0 when none. */
uint32_t segment_index_position_floor(const struct segment_index *idx, uint32_t target_pos);

/* Time index entry i. */
void segment_index_time_at(const struct segment_index *idx, uint32_t i, int64_t *ts,
			   uint32_t *rel);
/* Append (ts, rel) if ts is larger than the last entry's timestamp. */
void segment_index_time_append(struct segment_index *idx, int64_t ts, uint32_t rel);
/* Largest entry with ts <= target: its relative offset, or 0 when none. */
uint32_t segment_index_time_lookup(const struct segment_index *idx, int64_t target);

#endif
