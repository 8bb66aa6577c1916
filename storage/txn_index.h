/* SPDX-License-Identifier: Apache-2.0 */
/* The aborted-transaction index of one segment, Kafka's <base>.txnindex:
 * 34-byte big-endian entries (int16 version 0, int64 producerId,
 * firstOffset, lastOffset, lastStableOffset), one per transaction whose
 * ABORT marker lies in the segment, in lastOffset order. The file exists
 * only once an entry is appended (as Kafka creates it lazily) and is read
 * with pread: it stays small. It never decides what to append (the marker
 * writer does) nor caches descriptors (segment.c does, through the
 * open-file cache). Internal to storage/. @thread storage (the owning
 * worker) */
#ifndef STORAGE_TXN_INDEX_H
#define STORAGE_TXN_INDEX_H

#include <stdbool.h>
#include <stdint.h>

#include "storage/sio.h"

#define TXN_INDEX_ENTRY_BYTES 34
#define TXN_INDEX_VERSION 0

/* One aborted transaction: its first offset in the partition, its ABORT
 * marker's offset (last_offset), and the partition's LSO when it ended. */
struct txn_aborted {
	int64_t producer_id;
	int64_t first_offset;
	int64_t last_offset;
	int64_t last_stable_offset;
};

/* A caller-owned bounded array that collects fill across segments. */
struct txn_aborted_list {
	struct txn_aborted *e;
	uint32_t count;
	uint32_t max;
};

struct txn_index {
	int64_t base_offset;    /* the segment's; an entry ending below it is corrupt */
	int64_t last_offset;    /* the newest entry's lastOffset; -1 when empty */
	uint32_t entry_count;   /* whole valid entries; the file holds exactly these */
	int fd;                 /* -1 while closed (no file yet, or the cache closed it) */
};

/* An empty, closed index for the segment at base_offset. */
void txn_index_init(struct txn_index *ti, int64_t base_offset);

/* Load an existing file at segment open (no file: empty, 0). Sanity check
 * and repair: a torn trailing partial entry, and every entry from the
 * first one that is not version 0, ends below the base offset, starts
 * after it ends or does not end after the previous one, are cut off (the
 * file is truncated to the valid entries). The descriptor is closed again;
 * *cut says whether bytes were cut. 0 or -errno. */
int txn_index_load(struct sio *sio, struct txn_index *ti, const char *path, bool *cut);

/* Open the descriptor (ti->fd), creating the file when create. -ENOENT
 * when there is no file and !create. 0 or -errno. */
int txn_index_fd_open(struct sio *sio, struct txn_index *ti, const char *path, bool create);
void txn_index_fd_close(struct sio *sio, struct txn_index *ti);

/* Append one entry (descriptor open). Its lastOffset must exceed the
 * previous entry's and the base offset, and firstOffset must not exceed
 * it: -EINVAL otherwise, nothing written. A failed or short write leaves
 * the file as it was (best effort) and the entry unrecorded. 0 or -errno. */
int txn_index_append(struct sio *sio, struct txn_index *ti, const struct txn_aborted *txn);

/* Kafka's collectAbortedTxns over [fetch_offset, upper_bound): append to
 * out every entry with lastOffset >= fetch_offset and firstOffset <
 * upper_bound, in file order. Returns 1 when the search is complete (an
 * entry's lastStableOffset >= upper_bound: later segments cannot hold an
 * overlapping transaction), 0 when it continues into the next segment,
 * -ENOBUFS when out filled up (the entries that fit were added), or
 * -errno on a read error. Needs the descriptor open unless the index is
 * empty. No allocation. */
int txn_index_collect(struct sio *sio, const struct txn_index *ti, int64_t fetch_offset,
		      int64_t upper_bound, struct txn_aborted_list *out);

/* Drop every entry with lastOffset >= offset (log truncation, recovery):
 * the file is truncated after the last kept entry. Needs the descriptor
 * open unless nothing goes. 0 or -errno. */
int txn_index_truncate(struct sio *sio, struct txn_index *ti, int64_t offset);

/* Make the entries durable (fsync), when there is an open file. 0 or -errno. */
int txn_index_sync(struct sio *sio, struct txn_index *ti);

/* Entry i (< entry_count), read from the file (descriptor open). 0 or -errno. */
int txn_index_entry_at(struct sio *sio, const struct txn_index *ti, uint32_t i,
		       struct txn_aborted *txn);

/* Kafka's byte layout of one entry. */
void txn_index_encode(uint8_t buf[TXN_INDEX_ENTRY_BYTES], const struct txn_aborted *txn);
/* Decode one entry; false when its version is not TXN_INDEX_VERSION. */
bool txn_index_decode(const uint8_t buf[TXN_INDEX_ENTRY_BYTES], struct txn_aborted *txn);

#endif
