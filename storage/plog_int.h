/* SPDX-License-Identifier: Apache-2.0 */
/* Partition log: offset assignment, the active segment and roll, group
 * writes and group commit, high watermark, retention, read/offset lookups,
 * and (recovery.c) reopening after a crash; plog*.c, one file per concern.
 * A plog is driven by its owning worker (or a test) with plog_* calls plus
 * sio reaping; results come back through struct plog_ops. Internal to
 * storage/. @thread storage (owner) */
#ifndef STORAGE_PLOG_INT_H
#define STORAGE_PLOG_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/hist.h"
#include "common/kafka_errors.h"
#include "storage/segment_int.h"
#include "storage/sio.h"
#include "storage/st.h"

/* Batches in one writev (below IOV_MAX). */
#define PLOG_IOV_MAX 256

struct plog;
struct logdir_reaper;
struct gsync;

/* One append, owned by the caller until append_done runs for it. */
struct plog_append {
	struct plog_append *next;
	uint8_t *batch;         /* rewritten in place, written from here */
	uint32_t len;
	int8_t acks;
	int16_t error;          /* set before append_done */
	int64_t base_offset;    /* set before append_done; -1 on error */
	int64_t end_offset;     /* last offset + 1 */
	int64_t log_append_time;
	uint64_t token;         /* for the caller */
	int core;               /* for the caller */
	uint8_t flags;          /* ST_APPEND_*: ST_APPEND_REPLICA keeps offsets, epoch */
	/* An ABORT marker that ended a transaction: its .txnindex entry's
	 * first offset and LSO, appended once the marker lands; -1: none. */
	int64_t txn_abort_first;
	int64_t txn_abort_lso;
	/* acks=all in cluster mode with ST_APPEND_TIMEOUT: how long (>= 0)
	 * it waits for the ISR once durable, and the CLOCK_MONOTONIC ns that
	 * makes when it starts waiting (plog_repl.c; UINT64_MAX: none) */
	int32_t timeout_ms;
	uint64_t deadline_ns;
	/* Stage timestamps, CLOCK_MONOTONIC ns, 0: not reached (common/stage.h;
	 * plog_stage.h stamps the sync pair). */
	uint64_t t_valid_ns;            /* validated on the core (the request) */
	uint64_t t_pick_ns;             /* taken from the core's ring */
	uint64_t t_write_ns;            /* its writev submitted */
	uint64_t t_landed_ns;           /* the writev's completion reaped */
	uint64_t t_sync_submit_ns;      /* acks=all: the fsync covering it submitted */
	uint64_t t_sync_done_ns;        /* acks=all: that fsync's completion reaped */
};

/* watch_done's w->offset when the partition went away under the watch
 * (expired watches have -1). */
#define PLOG_WATCH_GONE (-2)

/* A long-poll waiter: done when the high watermark passes offset. */
struct plog_watch {
	struct plog_watch *next;
	int64_t offset;
	bool replica;           /* a follower's fetch: the log end, not the HW */
	uint64_t deadline_ns;
	uint64_t token;
	int core;
};

typedef void plog_append_done_fn(void *ctx, struct plog *plog, struct plog_append *app);
typedef void plog_watch_done_fn(void *ctx, struct plog *plog, struct plog_watch *w);

typedef void plog_blocked_fn(void *ctx, struct plog *plog);

struct plog_ops {
	plog_append_done_fn *append_done;
	plog_watch_done_fn *watch_done;         /* also for expired watches: error -1 */
	/* plog_append_issue() from a write completion returned true: issue again
	 * after more completions. NULL: the caller polls
	 * plog_append_issue(). */
	plog_blocked_fn *blocked;
};

/* One entry of the leader-epoch cache (Kafka's leader-epoch-checkpoint):
 * epoch's records start at start_offset. */
struct plog_epoch_entry {
	int32_t epoch;
	int64_t start_offset;
};

struct plog_epochs {
	struct plog_epoch_entry *e;     /* by epoch and start offset, ascending */
	uint32_t count;
	uint32_t cap;
};

/* A follower of a partition this broker leads (plog_repl.c). */
struct plog_follower {
	int32_t id;
	int64_t leo;                    /* its last fetch offset; -1: unknown */
	int64_t last_caught_up_ms;
	int64_t last_fetch_ms;
	int64_t last_fetch_leader_leo;  /* the leader's log end at that fetch */
};

/* Cluster mode: the partition's replication role and what it implies
 * (plog_repl.c); a plog without one (plog->repl NULL) is a single
 * broker's, its high watermark the landed log end. */
struct plog_repl {
	struct st_role role;
	int64_t hw;                     /* high watermark: what consumers see */
	int64_t epoch_start_offset;     /* where the leader's epoch began */
	struct plog_follower followers[ST_REPLICAS_MAX];
	int32_t follower_count;
	struct plog_append *ack_head;   /* acks=all, durable, waiting for the HW */
	struct plog_append *ack_tail;
	/* No waiter's deadline is before it (UINT64_MAX: none has one); the
	 * tick walks the waiters only from then. */
	uint64_t ack_deadline_ns;
};

/* A file region for a READ. */
struct plog_region {
	struct segment *seg;    /* NULL when len == 0 */
	int64_t pos;
	int32_t len;
};

struct plog {
	struct plog *hash_next;         /* the worker's table */
	struct plog *dirty_next;        /* the worker's list of plogs with appends */
	struct plog *timed_next;        /* the worker's list of plogs its tick visits */
	struct plog *timed_prev;
	bool dirty;
	bool timed;
	uint8_t topic_id[16];
	int32_t partition;
	int dir_index;                  /* its log dir (st_dirs), set by the worker */
	char *dir;
	struct st_log_config cfg;
	struct sio *sio;
	struct fcache *fc;              /* the worker's open-file cache */
	struct logdir_reaper *reaper;   /* removes deleted directories; NULL: inline */
	const struct plog_ops *ops;
	void *ops_ctx;
	struct pstate *ps;
	struct segment **segs;          /* by base offset; the last is active */
	uint32_t seg_count;
	uint32_t seg_cap;
	int64_t log_start_offset;
	int64_t next_offset;            /* next offset to assign */
	int64_t hw;                     /* end offset of completed writes (the log end) */
	int64_t synced_offset;          /* end offset known durable */
	int64_t write_pos;              /* active segment size incl. the write in flight */
	int64_t now_ms;                 /* wall clock of the last issue or tick */
	struct plog_append *pend_head;  /* queued, no offsets yet */
	struct plog_append *pend_tail;
	struct plog_append *wr_head;    /* in the write in flight */
	struct plog_append *wr_tail;
	struct plog_append *sync_head;  /* acks=all, written, waiting for fdatasync */
	struct plog_append *sync_tail;
	struct plog_watch *watches;
	struct sio_op write_op;
	struct iovec iov[PLOG_IOV_MAX];
	int iov_count;
	struct segment *wr_seg;
	int64_t wr_pos;
	int64_t wr_bytes;
	int64_t wr_first_offset;
	bool write_inflight;
	uint32_t sync_ops;              /* fdatasyncs in flight */
	int sync_err;
	bool sync_again;
	int64_t sync_target;
	int64_t unflushed_messages;
	int64_t last_flush_ms;
	uint64_t fdatasync_count;       /* statistics, for tests */
	uint64_t write_count;
	/* Statistics for the metrics endpoint, written and read on the worker. */
	uint64_t bytes_in;              /* batch bytes landed */
	uint64_t records_in;
	uint64_t bytes_out;             /* bytes handed to fetches (st_worker.c) */
	uint64_t sync_t0_ns;            /* when the fdatasyncs in flight were issued */
	bool cleaner_files;             /* the last plog_dir_scan() saw .cleaned/.swap files */
	struct hist *sync_hist;         /* NULL: not recorded */
	/* Worker-wide group commit (gsync.c); NULL: this plog's own
	 * fdatasyncs. While the plog is in a gsync round, sync_ops is 1. */
	struct gsync *gs;
	struct plog *gs_next;           /* on the gsync's wait list or in its round */
	bool gs_waiting;                /* on the wait list */
	struct plog_epochs epochs;      /* the leader-epoch cache (plog_epochs.c) */
	struct plog_repl *repl;         /* cluster mode: its role; NULL: none ever */
	/* The high watermark a first role starts from (the checkpoint's,
	 * set by the worker at open); -1: the log end. */
	int64_t ck_hw;
};

struct plog_open_args {
	struct sio *sio;
	struct fcache *fc;
	struct logdir_reaper *reaper;   /* NULL: deleted directories removed inline */
	const char *log_dir;
	const char *topic_name;
	const uint8_t *topic_id;        /* 16 bytes */
	int32_t partition;
	const struct st_log_config *cfg;
	const struct plog_ops *ops;
	void *ops_ctx;
	int64_t now_ms;
	/* The partition is new (CreateTopics, CreatePartitions): a directory
	 * already there is stale (an earlier incarnation's leftovers) and is
	 * moved aside and deleted, and a failed open removes the directory. */
	bool create;
};

/* ---- plog.c: lifecycle, segments, periodic work ---- */

/* Open (recovering) or create the partition's directory and log. Segment
 * files are left to the open-file cache. NULL with -errno in *err. */
struct plog *plog_open(const struct plog_open_args *args, int *err);
/* Close files; no IO may be in flight (plog_idle()). Pending appends get
 * error `error`. */
void plog_close(struct plog *plog, int16_t error);
/* Close and delete every file and the directory (moved aside under a
 * "-delete" name first, so a crash midway leaves a name that start-up
 * finishes). Same preconditions. */
void plog_delete(struct plog *plog, int16_t error);
bool plog_idle(const struct plog *plog);
/* Open a file of the partition for a moment (small files, snapshots),
 * making room in the open-file cache once if the process is out of
 * descriptors. fd or -errno. */
int plog_open_file(struct plog *plog, const char *path, int flags, int mode);
void plog_configure(struct plog *plog, const struct st_log_config *cfg);
/* What must run every tick: expired watches, flush.ms. */
void plog_tick(struct plog *plog, int64_t now_ms, uint64_t now_ns);
/* Whether plog_tick() has work on this plog now or later (watches, data
 * that flush.ms will have to sync): the worker ticks only these, so a tick
 * costs what is waiting, not the partition count. */
bool plog_timed(const struct plog *plog);
/* What may wait for the sweep (every 10 s; Kafka checks every 5 min):
 * retention, producer expiry. */
void plog_sweep(struct plog *plog, int64_t now_ms);
/* Delete old segments by retention.ms / retention.bytes; returns how many. */
int plog_retention(struct plog *plog, int64_t now_ms);
/* Roll now (tests; plog_append_issue rolls by itself). 0 or -errno. */
int plog_roll(struct plog *plog);
struct segment *plog_active(const struct plog *plog);

/* ---- plog_append.c: the append path ---- */

/* Queue an append. Returns true when the plog had nothing queued (the
 * caller then puts it on its list for plog_append_issue()). */
bool plog_append(struct plog *plog, struct plog_append *app);
/* Issue the one writev for everything queued (if no write is in flight).
 * Returns true when it could not for want of a descriptor that files
 * pinned by other IO will give back: the appends stay queued; call again
 * after completions. */
bool plog_append_issue(struct plog *plog, int64_t now_ms);
/* Hand app back through ops->append_done with error (0: done). */
void plog_append_complete(struct plog *plog, struct plog_append *app, int16_t error);
/* Complete every queued append (none in flight) with error. */
void plog_append_drain(struct plog *plog, int16_t error);

/* ---- plog_sync.c: group commit ---- */

/* Make every write landed so far durable: through plog->gs when set (one
 * flush for all of the worker's partitions waiting, gsync.c), else one
 * fdatasync per segment with unsynced bytes; a sync asked for while one
 * runs is issued after it. */
void plog_sync(struct plog *plog);
/* The sync covering plog->sync_target finished with plog->sync_err:
 * complete what it covered, and sync again if more is waiting. */
void plog_sync_finish(struct plog *plog);

/* ---- gsync.c: group commit across a worker's partitions ---- */

enum gsync_mode {
	GSYNC_AUTO = 0,         /* fdatasync when one file waits, else syncfs */
	GSYNC_SYNCFS = 1,       /* always syncfs */
};

struct gsync {
	struct sio *sio;
	enum gsync_mode mode;
	struct plog *wait_head;         /* asked for a sync, not in the round */
	struct plog *wait_tail;
	struct plog *round;             /* covered by the flush in flight */
	struct segment *seg;            /* held: the flush's descriptor */
	struct sio_op op;
	bool inflight;
	uint64_t t0_ns;
	struct hist *hist;              /* flush latency; NULL: not recorded */
	uint64_t rounds;                /* statistics */
	uint64_t syncfs_count;
	uint64_t plogs_synced;          /* plog syncs the rounds covered */
};

void gsync_init(struct gsync *gs, struct sio *sio, enum gsync_mode mode, struct hist *hist);
/* plog_sync() of a plog with gs: queue it for the next round. */
void gsync_request(struct gsync *gs, struct plog *plog);
/* Start a round for every plog queued, unless one is in flight (then the
 * queued ones go when it finishes). The owner calls it once per loop turn,
 * after the completions, so that every partition whose write landed in the
 * turn shares the flush. */
void gsync_kick(struct gsync *gs);
/* A plog going away (close, delete) leaves the wait list; it must not be
 * in a round (plog_idle()). */
void gsync_forget(struct gsync *gs, struct plog *plog);

/* ---- plog_watch.c: long-poll watches ---- */

/* Register a watch; done (maybe at once) when hw > w->offset. */
void plog_watch(struct plog *plog, struct plog_watch *w);
/* The high watermark moved: complete the watches it passed. */
void plog_watch_check(struct plog *plog);
/* Complete the watches whose deadline is at or before now_ns, as expired
 * (w->offset -1). */
void plog_watch_expire(struct plog *plog, uint64_t now_ns);
/* The partition goes away: complete every watch with PLOG_WATCH_GONE. */
void plog_watch_drop_all(struct plog *plog);

/* ---- plog_read.c: lookups ---- */

/* A fetch region from offset: error code (0, OFFSET_OUT_OF_RANGE,
 * KAFKA_STORAGE_ERROR when the files cannot be opened). r->seg is not held:
 * segment_hold() it before anything else opens files. */
int16_t plog_read(struct plog *plog, int64_t offset, int32_t max_bytes, struct plog_region *r);
/* ListOffsets: the offset (and its timestamp) for a timestamp or one of
 * ST_OFFSET_EARLIEST / LATEST / MAX_TIMESTAMP. */
int16_t plog_read_offset(struct plog *plog, int64_t timestamp, int64_t *offset, int64_t *ts);
/* plog_read() bounded by limit (the high watermark for a consumer, the
 * log end for a follower): no batch at or past it is in the region. */
int16_t plog_read_to(struct plog *plog, int64_t offset, int32_t max_bytes, int64_t limit,
		     struct plog_region *r);
/* OffsetForLeaderEpoch from the epoch cache, as Kafka's
 * LeaderEpochFileCache.endOffsetFor; epoch -1 (Kafka's UNDEFINED, which
 * the protocol handler answers itself): the latest and the log end. */
void plog_read_epoch_end(const struct plog *plog, int32_t epoch, int32_t *epoch_out,
			 int64_t *end_offset);

/* ---- plog_epochs.c: the leader-epoch cache ---- */

#define PLOG_EPOCH_FILE "leader-epoch-checkpoint"

/* Load the checkpoint (fresh or unreadable: the single entry (0, 0), as a
 * single broker has always written), then drop entries past the log end
 * (plog_epochs_fix, after recovery). 0 or -errno. */
int plog_epochs_load(struct plog *plog, bool fresh);
void plog_epochs_fix(struct plog *plog);
int32_t plog_epochs_latest(const struct plog *plog);
/* The epoch of the record at offset (the last entry starting at or
 * below it); -1 for offset < 0 or none. */
int32_t plog_epochs_for_offset(const struct plog *plog, int64_t offset);
/* Record that epoch starts at start_offset (dropping entries with a
 * larger or equal epoch or start offset, as Kafka's assign) and persist
 * it atomically when it changed. 0 or -errno. */
int plog_epochs_assign(struct plog *plog, int32_t epoch, int64_t start_offset);
/* Truncation: drop the entries starting at or past end, persisted. */
int plog_epochs_truncate(struct plog *plog, int64_t end);
/* Write the cache to the checkpoint file (synced, renamed over it). */
int plog_epochs_persist(struct plog *plog);

/* ---- plog_repl.c: cluster mode roles, high watermark, followers ---- */

/* The high watermark consumers see: the landed log end without a role. */
static inline int64_t
plog_hw_visible(const struct plog *plog)
{
	return plog->repl != NULL ? plog->repl->hw : plog->hw;
}

/* The last stable offset: the first offset of a transaction not yet
 * decided below the high watermark, capped by it (Kafka's
 * UnifiedLog.lastStableOffset). plog_txn.c */
int64_t plog_lso(struct plog *plog);
/* The aborted transactions a read_committed fetch of [offset, upper)
 * needs (Kafka's collectAbortedTransactions), from the .txnindex of the
 * segments from offset's on, into out (bounded by out->max). 0, -ENOBUFS
 * when out filled up, or -errno. */
int plog_txn_collect(struct plog *plog, int64_t offset, int64_t upper,
		     struct txn_aborted_list *out);
/* Before a marker or a transactional batch is assigned: its checks
 * (INVALID_RECORD, INVALID_TXN_STATE, the epochs of a marker) and room
 * for it. 0 or a Kafka error. */
int16_t plog_txn_check(struct plog *plog, const struct plog_append *app,
		       const struct rbatch_header *h);
/* A batch got its offsets (leader or replica): producer state of its
 * transaction (a data batch opens one, a marker ends it). */
void plog_txn_assign(struct plog *plog, struct plog_append *app, const struct rbatch_header *h);
/* The segments the cleaner may clean: the sealed ones wholly below the
 * last stable offset (Kafka's cleaner stops at the first unstable offset,
 * firstUncleanableDirtyOffset). */
uint32_t plog_txn_cleanable(struct plog *plog);
/* The marker of an aborted transaction landed in seg: its .txnindex entry. */
void plog_txn_landed(struct plog *plog, struct segment *seg, const struct plog_append *app,
		     const struct rbatch_header *h);

/* Set the role (st_partition_role). 0 or -errno. */
int plog_repl_set_role(struct plog *plog, const struct st_role *role, int64_t now_ms);
/* Why an append may not be written here now (role, min ISR): 0 or a
 * Kafka error. */
int16_t plog_repl_append_check(const struct plog *plog, const struct plog_append *app);
/* An acks=all append became durable: complete it now or when the high
 * watermark passes it, or REQUEST_TIMED_OUT when its timeout_ms (from
 * now) runs out first. */
void plog_repl_synced(struct plog *plog, struct plog_append *app);
/* Complete the waiting acks=all appends whose deadline is at or before
 * now_ns with REQUEST_TIMED_OUT (their records stay). No allocation; walks
 * the waiters only once the earliest deadline passed. */
void plog_repl_expire(struct plog *plog, uint64_t now_ns);
/* Whether acks=all appends wait (or are on their way to wait) for the ISR
 * with a deadline the tick must check. */
bool plog_repl_timed(const struct plog *plog);
/* A follower fetched from offset (leader): its state, the high watermark. */
void plog_repl_fetch(struct plog *plog, int32_t replica_id, int64_t offset, int64_t now_ms);
/* The leader's log end moved (writes landed): the high watermark may. */
void plog_repl_leo_moved(struct plog *plog);
/* A follower: the leader's high watermark, bounded by the log end. */
void plog_repl_follower_hw(struct plog *plog, int64_t offset);
/* Fill stats for control's ISR decisions. */
void plog_repl_stats(const struct plog *plog, struct st_leader_stats *ls);
/* Close: the acks=all appends still waiting complete with error. */
void plog_repl_free(struct plog *plog, int16_t error);

/* ---- plog_truncate.c: follower truncation ---- */

/* Remove every record at and past offset (the whole batch holding it),
 * durably; nothing may be in flight. The new log end or -errno. */
int64_t plog_truncate(struct plog *plog, int64_t offset);
/* Remove every record and start the log empty at offset (Kafka's
 * truncateFullyAndStartAt); nothing may be in flight. offset or -errno. */
int64_t plog_truncate_full(struct plog *plog, int64_t offset);

/* ---- plog_dir.c: the directory's files other than segments ---- */

/* The partition's directory. A new partition (create) must not inherit
 * files: a directory already there is an earlier incarnation's and goes
 * aside. *fresh: the directory was just made. 0 or -errno. */
int plog_dir_make(struct plog *plog, bool create, bool *fresh);
/* partition.metadata and leader-epoch-checkpoint, as Kafka writes them,
 * checked (and repaired) at every open. 0 or -errno. */
int plog_dir_meta_files(struct plog *plog, bool fresh);
/* The base offsets of the files ending in ext, sorted, in a malloc'd
 * *offsets the caller frees (also on error); plog->cleaner_files says
 * whether an interrupted clean left files. 0 or -errno. */
int plog_dir_scan(struct plog *plog, const char *ext, int64_t **offsets, uint32_t *count);
/* Producer-state snapshot as of offset, written atomically. 0 or -errno. */
int plog_dir_snapshot_write(struct plog *plog, int64_t offset);
/* Delete the snapshots of offsets below offset (retention dropped them). */
void plog_dir_snapshots_delete_below(struct plog *plog, int64_t offset);
/* Replace path with the len bytes at buf: written to path.tmp, synced when
 * sync is set, then renamed over path (through sio, so the crash simulator
 * sees every step). The temporary file is removed on failure. 0 or -errno. */
int plog_dir_replace(struct plog *plog, const char *path, const void *buf, size_t len,
		     bool sync);

/* ---- plog_start.c: the log start offset (DeleteRecords) ---- */

/* The file in the partition's directory that keeps a log start offset
 * above the first segment's base across restarts. */
#define PLOG_START_FILE "log-start-offset"

/* DeleteRecords: move the log start offset up to offset (-1: the high
 * watermark), as Kafka's Partition.deleteRecordsOnLeader and
 * UnifiedLog.maybeIncrementLogStartOffset do: POLICY_VIOLATION unless
 * cleanup.policy has delete, OFFSET_OUT_OF_RANGE below 0 or above the high
 * watermark, a no-op at or below the current start. The new start is made
 * durable before the answer, then the segments wholly below it are
 * deleted. *low_watermark: the start offset after (-1 on error). */
int16_t plog_delete_records(struct plog *plog, int64_t offset, int64_t *low_watermark);
/* Keep offset as the log start across restarts (the file, synced, and
 * its directory). 0 or -errno. */
int plog_start_write(struct plog *plog, int64_t offset);
/* Open: raise the start offset to the one the file kept (never past the
 * log end) and delete the segments a crash left below it. 0 or -errno. */
int plog_start_load(struct plog *plog);
/* Delete the segments (never the active one) whose records all lie below
 * the log start offset; returns how many. */
int plog_start_trim(struct plog *plog);

/* recovery.c: after the segments are opened, validate the active tail,
 * repair indexes and rebuild producer state. 0 or -errno. */
int recovery_run(struct plog *plog);
/* Rebuild seg's indexes from the log, from scratch; seg must not be
 * pinned. 0 or -errno. */
int recovery_reindex(struct plog *plog, struct segment *seg);
/* Rebuild producer state from the newest snapshot at or below the log end
 * (or from scratch) and the batches after it. */
void recovery_pstate_rebuild(struct plog *plog);

#endif
