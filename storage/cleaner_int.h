/* SPDX-License-Identifier: Apache-2.0 */
/* Log compaction (Kafka's LogCleaner): the offset map, batch filtering,
 * codecs, the rewrite of a partition's closed segments into .cleaned
 * files, the .cleaned/.swap protocol and its recovery, and the cleaner
 * thread. The cleaner reads and writes segment files through its own sio;
 * only the swap into a plog's segment list runs on the owning worker
 * (cleaner_swap_plog, from st_worker.c). Never on a dataplane core and
 * never in the append path. Internal to storage/. */
#ifndef STORAGE_CLEANER_INT_H
#define STORAGE_CLEANER_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/rbatch.h"
#include "storage/sio.h"
#include "storage/st.h"

struct plog;

/* A batch bigger than this is not cleaned (the partition is skipped). */
#define CLEANER_BATCH_BYTES_MAX (64u << 20)
/* Decompressed bytes one batch may produce. */
#define CLEANER_INFLATED_BYTES_MAX (256u << 20)
/* Buffered output before a pwrite of the .cleaned log. */
#define CLEANER_WRITE_CHUNK (1u << 20)
#define CLEANER_CHECKPOINT_NAME "cleaner-offset-checkpoint"

/* ---- cleaner_map.c: key -> latest offset (Kafka's SkimpyOffsetMap) ---- */

struct cleaner_map_slot {
	uint64_t h1;            /* 0 and h2 0: empty */
	uint64_t h2;
	int64_t offset;
};

struct cleaner_map {
	struct cleaner_map_slot *slots;
	uint32_t slot_count;    /* in use this run: a power of two, <= slot_alloc */
	uint32_t slot_alloc;
	uint32_t used;
	uint32_t used_max;      /* the load factor's limit: full above */
	int64_t latest_offset;  /* -1: nothing put */
};

int cleaner_map_init(struct cleaner_map *m, uint32_t slot_count);
void cleaner_map_fini(struct cleaner_map *m);
void cleaner_map_clear(struct cleaner_map *m);
/* Empty the map and use only as many slots as keys_max keys need (so a
 * small log neither clears nor touches the whole allocation). */
void cleaner_map_reset(struct cleaner_map *m, uint64_t keys_max);
bool cleaner_map_full(const struct cleaner_map *m);
/* Record offset as the key's latest (offsets come in increasing order). */
void cleaner_map_put(struct cleaner_map *m, const uint8_t *key, size_t key_len, int64_t offset);
/* The key's latest offset, or -1. */
int64_t cleaner_map_get(const struct cleaner_map *m, const uint8_t *key, size_t key_len);

/* ---- cleaner_codec.c: the packaged codecs (isa-l, snappy, lz4, zstd) ---- */

/* Decompress in[0..n) of codec into a malloc'd *out (at most out_max
 * bytes). 0 or -errno (-EINVAL for a corrupt stream). */
int cleaner_codec_decompress(int codec, const uint8_t *in, size_t n, uint8_t **out,
			     size_t *out_len, size_t out_max);
/* Compress with codec (Kafka's framing: gzip, xerial snappy, lz4 frame,
 * zstd frame) into a malloc'd *out. 0 or -errno. */
int cleaner_codec_compress(int codec, const uint8_t *in, size_t n, uint8_t **out,
			   size_t *out_len);

/* ---- cleaner_batch.c: one batch through the filter ---- */

struct cleaner_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

int cleaner_buf_reserve(struct cleaner_buf *b, size_t more);
void cleaner_buf_free(struct cleaner_buf *b);

/* One record of a batch, as parsed. */
struct cleaner_record {
	const uint8_t *start;   /* the length varint */
	const uint8_t *body;    /* attributes */
	const uint8_t *after_ts; /* offsetDelta: from here on copied verbatim */
	const uint8_t *end;
	int64_t ts_delta;
	int32_t offset_delta;
	const uint8_t *key;     /* NULL: null key */
	int32_t key_len;
	int32_t value_len;      /* -1: tombstone */
};

/* Call fn for each record of the batch (its decompressed body); stops at
 * a non-zero return. 0, the return, or -EINVAL for a malformed batch. */
typedef int cleaner_record_fn(void *arg, const struct rbatch_header *h,
			      const struct cleaner_record *rec);
int cleaner_batch_records(const uint8_t *batch, size_t len, cleaner_record_fn *fn, void *arg);

struct cleaner_filter {
	const struct cleaner_map *map;
	int64_t now_ms;
	int64_t delete_retention_ms;
	/* RETAIN_EMPTY: the batch is its producer's last (idempotence). */
	bool retain_empty;
};

struct cleaner_batch_result {
	bool kept;              /* something was written to out */
	bool original;          /* the batch was written unchanged */
	int64_t max_timestamp;  /* of what was written */
	int64_t delete_horizon_ms; /* -1, or the written batch's delete horizon */
	uint32_t records_kept;
	uint32_t records_read;
};

/* Filter one whole batch into out, as Kafka's MemoryRecords.filterTo:
 * the latest record per key (tombstones until the batch's delete horizon,
 * which the first clean sets to now + delete.retention.ms), keyless records
 * dropped, control batches kept, offsets and producer fields unchanged,
 * lastOffsetDelta kept, the body recompressed with the batch's codec and
 * the CRC recomputed. An emptied batch is dropped unless retain_empty.
 * 0 or -errno. */
int cleaner_batch_filter(const struct cleaner_filter *f, const uint8_t *batch, size_t len,
			 struct cleaner_buf *out, struct cleaner_batch_result *res);

/* ---- cleaner_swap.c: the files of one segment's replacement ---- */

/* The steps the owning worker runs, in order; a crash between any two
 * leaves files that cleaner_recover() completes (after step 1) or rolls
 * back (before it). */
enum cleaner_swap_step {
	CLEANER_SWAP_COMMIT = 1,        /* X.log.cleaned -> X.log.swap: the commit point */
	CLEANER_SWAP_INDEXES = 2,       /* X.{index,timeindex}.cleaned -> X.{index,timeindex} */
	CLEANER_SWAP_LOG = 3,           /* X.log.swap -> X.log */
};

/* Run the swap steps 1..last for segment base of dir. 0 or -errno. */
int cleaner_swap_files(struct sio *sio, const char *dir, int64_t base, int last);
/* Remove base's .cleaned files (an abandoned clean). */
void cleaner_swap_discard(struct sio *sio, const char *dir, int64_t base);
/* Start-up, before the segments are scanned: finish every committed swap
 * (a .log.swap) and delete every other .cleaned file. 0 or -errno. */
int cleaner_recover(struct sio *sio, const char *dir);
/* On the owning worker: swap the cleaned files of base into plog (its
 * segment base must still be closed and present), reopening the segment.
 * 0, -ENOENT (segment gone: the files are discarded) or -errno. */
int cleaner_swap_plog(struct plog *plog, int64_t base, int64_t max_timestamp, int64_t now_ms);

/* ---- cleaner_log.c: cleaning one partition's closed segments ---- */

struct cleaner_seg {
	int64_t base_offset;
	int64_t next_offset;
	int64_t size;
	int64_t max_timestamp;
};

/* A compacted partition as its worker saw it: the closed segments. */
struct cleaner_target {
	uint8_t topic_id[16];
	int32_t partition;
	char *dir;
	struct st_log_config cfg;
	struct cleaner_seg *segs;       /* closed segments, by base offset */
	uint32_t seg_count;
	int64_t active_base;
};

/* Swaps a cleaned segment into the live log (the cleaner thread asks the
 * worker; tests swap the files directly). 0 or -errno. */
typedef int cleaner_swap_fn(void *arg, const struct cleaner_target *t, int64_t base,
			    int64_t max_timestamp);
/* Waits out the io budget for bytes read or written; returns false when
 * the cleaner must stop. */
typedef bool cleaner_throttle_fn(void *arg, uint64_t bytes);

struct cleaner_log_stats {
	uint64_t bytes_read;
	uint64_t bytes_written;
	uint64_t bytes_reclaimed;       /* old sizes - new sizes of swapped segments */
	uint64_t segments_cleaned;
	uint64_t records_removed;
	double dirty_ratio;             /* before this run */
	bool cleaned;                   /* a run happened (the log was due) */
};

struct cleaner_ctx {
	struct sio *sio;
	struct cleaner_map *map;
	cleaner_swap_fn *swap;
	void *swap_arg;
	cleaner_throttle_fn *throttle;  /* NULL: no budget */
	void *throttle_arg;
};

/* Clean t if it is due (dirty ratio, max.compaction.lag.ms, expired
 * tombstone horizons), as Kafka's Cleaner.doClean: map the dirty section,
 * rewrite every segment below the map's end, swap each, then checkpoint the
 * first dirty offset. 0 or -errno. */
int cleaner_log_clean(struct cleaner_ctx *c, const struct cleaner_target *t, int64_t now_ms,
		      struct cleaner_log_stats *stats);
/* The checkpoint of dir: first dirty offset (0 when none) and the earliest
 * delete horizon in the clean section (INT64_MAX when none). */
void cleaner_checkpoint_read(struct sio *sio, const char *dir, int64_t *first_dirty,
			     int64_t *horizon_ms);
int cleaner_checkpoint_write(struct sio *sio, const char *dir, int64_t first_dirty,
			     int64_t horizon_ms);

/* ---- cleaner.c: the thread ---- */

struct st;

struct cleaner_stats {
	_Atomic uint64_t runs;                  /* partitions cleaned */
	_Atomic uint64_t bytes_read;
	_Atomic uint64_t bytes_written;
	_Atomic uint64_t bytes_reclaimed;
	_Atomic uint64_t segments_cleaned;
	_Atomic uint64_t records_removed;
	_Atomic uint64_t errors;
	_Atomic uint64_t passes;                /* sweeps over every compacted log */
	_Atomic int64_t max_dirty_ratio_ppm;    /* of the last pass */
};

struct cleaner;

struct cleaner *cleaner_create(struct st *st, const struct st_cleaner_config *cfg);
int cleaner_start(struct cleaner *c);
void cleaner_stop(struct cleaner *c);
void cleaner_destroy(struct cleaner *c);
const struct cleaner_stats *cleaner_stats_get(const struct cleaner *c);

#endif
