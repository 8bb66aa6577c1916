/* SPDX-License-Identifier: Apache-2.0 */
/* One log segment: <base offset>.log with its .index, .timeindex and (once
 * a transaction aborted in it) .txnindex, the
 * bookkeeping after each landed write (sizes, indexes, max timestamp), batch
 * header reads, seal, and reference counting so that a deleted segment's fd
 * stays open while a fetch still sends from it. Its files are open only
 * while pinned or cached: two open-file cache entries, the .log descriptor
 * and the two index maps, each reopened on demand by segment_*_pin().
 * Internal to storage/. @thread storage (the owning worker) */
#ifndef STORAGE_SEGMENT_INT_H
#define STORAGE_SEGMENT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/rbatch.h"
#include "storage/fcache_int.h"
#include "storage/segment_index_int.h"
#include "storage/sio.h"
#include "storage/txn_index.h"

/* "<dir>/<20 digits>.timeindex" fits when dir does. */
#define SEGMENT_PATH_MAX 4096
#define SEGMENT_NAME_DIGITS 20

struct segment {
	int64_t base_offset;
	int fd;                 /* the .log file; -1 while the cache has it closed */
	int64_t size;           /* bytes of whole batches whose writes completed */
	int64_t synced_size;    /* bytes known durable (fdatasync done) */
	int64_t sync_size;      /* size when the fdatasync in flight was issued */
	int64_t next_offset;    /* one past the last offset in the segment */
	int64_t max_timestamp;  /* -1 while empty */
	int64_t max_timestamp_offset;
	int64_t created_ms;     /* wall clock at creation, for segment.ms */
	int64_t bytes_since_index;
	uint32_t refs;          /* 1 for the log + 1 per READ still sending or sync */
	bool sealed;
	bool deleted;           /* files unlinked (or moved away): never reopened */
	struct segment_index oidx;
	struct segment_index tidx;
	struct sio *sio;
	struct fcache *fc;
	struct fcache_entry log_fc;     /* fd */
	struct fcache_entry idx_fc;     /* oidx and tidx maps */
	struct txn_index txn;   /* aborted transactions; counts kept while closed */
	struct fcache_entry txn_fc;     /* txn.fd */
	struct sio_op sync_op;  /* plog's fdatasync of this segment */
	void *owner;            /* the plog, for sync_op's callback */
	char *stem;             /* "<dir>/<20 digits>", extensions appended */
};

/* Path of one of the segment's files, ext like ".log". */
void segment_path(const char *dir, int64_t base_offset, const char *ext, char *buf,
		  size_t size);

/* Open the segment at base_offset in dir, creating its files if missing.
 * active: indexes writable (preallocated to index_bytes). The log's size is
 * the file size; next_offset and max_timestamp come from the indexes and
 * are exact only after recovery. The segment comes back with its files
 * open and pinned (segment_unpin() hands them to the cache). NULL with
 * -errno in *err. */
struct segment *segment_open(struct sio *sio, struct fcache *fc, const char *dir,
			     int64_t base_offset, int32_t index_bytes, bool active, int64_t now_ms,
			     int *err, bool *index_created);

/* Pin the .log descriptor (seg->fd), reopening it if the cache closed it.
 * 0 or -errno (EMFILE even after evicting everything unpinned, ...). */
int segment_log_pin(struct segment *seg);
void segment_log_unpin(struct segment *seg);
/* Pin both index maps, remapping them if the cache dropped them. */
int segment_idx_pin(struct segment *seg);
void segment_idx_unpin(struct segment *seg);
/* Both of the above: what a lookup that reads indexes and the log needs. */
int segment_pin(struct segment *seg);
void segment_unpin(struct segment *seg);

/* The aborted-transaction index (.txnindex). Each call pins its descriptor
 * only while it runs, and an empty index needs no file at all. */
/* Append an entry, creating the file on the first one. 0 or -errno (-EINVAL
 * out of lastOffset order). */
int segment_txn_append(struct segment *seg, const struct txn_aborted *txn);
/* txn_index_collect() over this segment: 1 complete, 0 go on to the next
 * segment, -ENOBUFS out is full, or -errno. */
int segment_txn_collect(struct segment *seg, int64_t fetch_offset, int64_t upper_bound,
			struct txn_aborted_list *out);
/* Drop the entries whose marker is at or past offset (lastOffset >= offset).
 * No IO when none is. 0 or -errno. */
int segment_txn_truncate(struct segment *seg, int64_t offset);
/* fsync the .txnindex when it has entries. 0 or -errno. */
int segment_txn_sync(struct segment *seg);

/* Read and sanity-check the batch header at pos: magic 2, a length that
 * covers the header and ends at or before limit. 0, or -1 if no batch.
 * The log must be pinned. */
int segment_batch_at(struct sio *sio, const struct segment *seg, int64_t pos, int64_t limit,
		     struct rbatch_header *h);

/* Record a batch that now lies at pos (its write completed): sizes, max
 * timestamp, and an index entry every index_interval_bytes. The indexes
 * must be pinned. */
void segment_batch_landed(struct segment *seg, const struct rbatch_header *h, int64_t pos,
			  int32_t index_interval_bytes);

/* Seal: trim the indexes to their entries; they map read-only from now.
 * The indexes must not be pinned. 0 or -errno. */
int segment_seal(struct sio *sio, struct segment *seg);
/* Make a sealed segment's indexes writable and empty again, to rebuild
 * them (recovery). The indexes must not be pinned. 0 or -errno. */
int segment_unseal(struct segment *seg, int32_t index_bytes);

void segment_ref(struct segment *seg);
/* Drop a reference; the last one closes the files and frees seg. */
void segment_unref(struct sio *sio, struct segment *seg);
/* A reference that also keeps the .log open (a READ's region being sent,
 * an fdatasync in flight). 0 or -errno, then nothing is held. */
int segment_hold(struct segment *seg);
void segment_release(struct segment *seg);
/* Unlink the files now (retention) and drop the log's reference; the fd
 * stays open until the last READ releases. */
void segment_delete(struct sio *sio, struct segment *seg);
/* The files are going away with their directory (topic deletion, a failed
 * create): never reopen or trim them, and drop the log's reference. */
void segment_drop(struct segment *seg);

#endif
