/* SPDX-License-Identifier: Apache-2.0 */
/* Public interface of storage/: storage workers, each a pinned thread with
 * its own io_uring ring, owning partition logs by a stable hash of (topic
 * id, partition). Dataplane cores talk to workers only through bounded SPSC
 * rings of fixed-size st_req / st_cpl messages (one ring pair per core and
 * worker); control creates and deletes partition logs with blocking calls. */
#ifndef STORAGE_ST_H
#define STORAGE_ST_H

#include <stdbool.h>
#include <stdint.h>

#include <stddef.h>

#include "common/hist.h"
#include "common/stage.h"

/* A topic's log settings, resolved by control from the topic's configs and
 * the broker's defaults (Kafka names in comments). */
struct st_log_config {
	int64_t segment_bytes;          /* segment.bytes */
	int64_t segment_ms;             /* segment.ms */
	int64_t retention_ms;           /* retention.ms, -1: unlimited */
	int64_t retention_bytes;        /* retention.bytes, -1: unlimited */
	int32_t max_message_bytes;      /* max.message.bytes */
	int32_t index_interval_bytes;   /* index.interval.bytes */
	int32_t segment_index_bytes;    /* segment.index.bytes */
	int64_t flush_messages;         /* flush.messages: fsync after this many messages */
	int64_t flush_ms;               /* flush.ms: fsync at least this often */
	bool log_append_time;           /* message.timestamp.type=LogAppendTime */
	bool compact;                   /* cleanup.policy contains compact */
	bool delete_policy;             /* cleanup.policy contains delete: retention runs */
	int64_t delete_retention_ms;    /* delete.retention.ms: tombstone life after cleaning */
	double min_cleanable_dirty_ratio; /* min.cleanable.dirty.ratio */
	int64_t min_compaction_lag_ms;  /* min.compaction.lag.ms */
	int64_t max_compaction_lag_ms;  /* max.compaction.lag.ms */
	int64_t producer_id_expiration_ms; /* producer.id.expiration.ms (broker) */
};

/* The log cleaner (compaction of cleanup.policy=compact topics): one
 * background thread of storage/, started and stopped with the workers. */
struct st_cleaner_config {
	bool enable;                    /* log.cleaner.enable */
	int64_t backoff_ms;             /* log.cleaner.backoff.ms: sleep between passes */
	/* log.cleaner.io.max.bytes.per.second: read + write budget; 0: none. */
	uint64_t io_bytes_per_sec;
	uint64_t dedupe_buffer_bytes;   /* log.cleaner.dedupe.buffer.size: the offset map */
};

/* How acks=all (and flush policy) syncs run: one flush per worker round
 * for all its waiting partitions, fdatasync for one file and syncfs for
 * more (AUTO) or always syncfs; or each partition its own fdatasyncs. */
enum st_flush_mode { ST_FLUSH_AUTO = 0, ST_FLUSH_SYNCFS = 1, ST_FLUSH_FDATASYNC = 2 };

struct st_config {
	const char *log_dir;            /* the first log dir (log_dirs NULL: the only one) */
	/* log.dirs (JBOD): log_dir_count dirs, the first log_dir; NULL: one. */
	const char *const *log_dirs;
	int log_dir_count;
	struct st_cleaner_config cleaner;
	int worker_count;               /* spillway.storage.workers */
	const int *worker_cpus;         /* NULL: not pinned */
	int core_count;                 /* dataplane cores: one ring pair per core */
	uint32_t ring_slots;            /* per ring, power of two */
	/* Descriptors all workers' open-file caches may hold together; 0:
	 * derived from RLIMIT_NOFILE (see st_int.h). Segment files are
	 * opened on demand and closed above it, so partitions hold no
	 * descriptors while idle. */
	uint32_t open_files_max;
	int flush_mode;                 /* spillway.storage.flush.mode: ST_FLUSH_* */
	/* Cluster mode: one more ring pair, at index core_count, for the
	 * replica fetcher thread (control/replica_fetcher.c), which then
	 * uses st_attach_core/st_submit/st_flush/st_reap with that index. */
	bool replica_ring;
};

/* ---- Cluster mode: replication roles (see st_partition_role) ---- */

#define ST_REPLICAS_MAX 16

/* A partition's replication role on this broker. A partition never given
 * one is a single broker's: leader at epoch 0, the ISR itself. */
struct st_role {
	int32_t self_id;                /* this broker's id */
	bool leader;                    /* false: follower, fed by the replica fetcher */
	int32_t leader_epoch;           /* leader: stamped on appended batches */
	int32_t min_insync_replicas;    /* acks=all below it: NOT_ENOUGH_REPLICAS */
	int32_t replica_count;
	int32_t replicas[ST_REPLICAS_MAX];      /* broker ids, self included */
	int32_t isr_count;
	int32_t isr[ST_REPLICAS_MAX];           /* self included when leader */
};

/* One follower of a partition this broker leads, as its fetches told. */
struct st_follower {
	int32_t id;
	int64_t log_end_offset;         /* its last fetch offset; -1: never fetched */
	/* Kafka's lastCaughtUpTimeMs: the last time (CLOCK_REALTIME ms) its
	 * fetch reached the leader's log end as of its previous fetch; 0:
	 * never. The ISR shrinks when now - this > replica.lag.time.max.ms. */
	int64_t last_caught_up_ms;
	int64_t last_fetch_ms;          /* its last fetch, CLOCK_REALTIME ms; 0: never */
};

/* A partition this broker leads, for the ISR decisions control makes. */
struct st_leader_stats {
	uint8_t topic_id[16];
	int32_t partition;
	int32_t leader_epoch;
	int64_t log_end_offset;
	int64_t high_watermark;
	/* The offset the leader's current epoch starts at: a follower joins
	 * the ISR only at or past it (and at or past the high watermark). */
	int64_t epoch_start_offset;
	int32_t isr_count;
	int32_t isr[ST_REPLICAS_MAX];
	int32_t follower_count;         /* every replica but self */
	struct st_follower followers[ST_REPLICAS_MAX];
};

/* ---- messages between cores and workers ---- */

enum st_req_type {
	ST_REQ_APPEND = 1,      /* append one validated record batch */
	ST_REQ_READ = 2,        /* locate data from an offset for Fetch */
	ST_REQ_OFFSET = 3,      /* ListOffsets: by timestamp, earliest, latest, max ts */
	ST_REQ_EPOCH = 4,       /* OffsetForLeaderEpoch: end offset of an epoch */
	ST_REQ_WATCH = 5,       /* wake me when the log end passes offset (long-poll) */
	ST_REQ_RELEASE = 6,     /* a READ's file region has been sent: drop its ref */
	/* DeleteRecords: move the log start offset up (durably), delete the
	 * segments below it; the completion's log_start_offset is the new
	 * low watermark. */
	ST_REQ_DELETE_RECORDS = 7,
	/* DescribeProducers: the partition's idempotent producers (the
	 * completion hands the core a list it then owns). */
	ST_REQ_PRODUCERS = 8,
	/* Cluster mode, from the replica fetcher (ring core_count) on a
	 * follower: */
	/* Set the high watermark to min(hw.offset, log end): the leader's,
	 * from its fetch answer. */
	ST_REQ_REPLICA_HW = 9,
	/* Remove every record at and past truncate.offset (KIP-101/279
	 * truncation to the leader's epoch end); the completion's
	 * high_watermark and truncate.log_end_offset tell what is left. */
	ST_REQ_TRUNCATE = 10,
	/* Remove every record and start the log empty at truncate.offset
	 * (Kafka's truncateFullyAndStartAt: the follower's log end fell
	 * below the leader's log start): log start, log end and high
	 * watermark become the offset, the epoch cache and producer state
	 * are cleared; the completion as for TRUNCATE. */
	ST_REQ_TRUNCATE_FULL = 11,
};

/* st_req.flags of an APPEND */
/* A follower's append of the leader's batch: keep its base offset (which
 * must be the log end: else OFFSET_OUT_OF_RANGE) and partition leader
 * epoch (raising the epoch cache to it), record its producer state without
 * checks, complete once written (acks=1 semantics). */
#define ST_APPEND_REPLICA 0x1
/* An acks=all append whose wait for the ISR (cluster mode, once durable on
 * the leader) is bounded by append.timeout_ms, Produce's timeout_ms: past
 * it the append (written, kept) completes REQUEST_TIMED_OUT with its base
 * offset, as Kafka's DelayedProduce expires. Without the flag it waits
 * until replicated or leadership moves. Single broker: no effect (Kafka's
 * local append does not time out). */
#define ST_APPEND_TIMEOUT 0x2
/* An end-transaction marker from the transaction coordinator (built with
 * storage/txn_marker.h): it ends the producer's open transaction (an ABORT
 * is indexed in the segment's .txnindex). Refused with INVALID_PRODUCER_EPOCH
 * for an older producer epoch, TRANSACTION_COORDINATOR_FENCED for an older
 * coordinator epoch, INVALID_RECORD when it is not a marker. A control
 * batch without this flag (a client's) is refused with INVALID_RECORD. */
#define ST_APPEND_MARKER 0x4

/* One producer of a partition, as DescribeProducers reports it. */
struct st_producer {
	int64_t producer_id;
	int64_t last_timestamp;         /* its last batch's max (or append) timestamp */
	int32_t last_sequence;          /* its last batch's last sequence */
	int16_t epoch;
};

/* An aborted transaction a read_committed Fetch answers (Kafka's
 * FetchResponse AbortedTransaction). */
struct st_aborted_txn {
	int64_t producer_id;
	int64_t first_offset;
};

/* Aborted transactions one READ answers at most: when a read would need
 * more, it returns only its first batch (whose overlapping transactions
 * are bounded by the producers open at it). */
#define ST_ABORTED_MAX 1024

/* st_req.read.replica_id of control's coordinator loads: up to the log
 * end, not the high watermark. A new leader's high watermark lags its log
 * until its followers fetch again, and records below the log end were
 * acknowledged to the ISR it was part of (group offsets, transaction
 * states): Kafka's coordinators load to the log end too. */
#define ST_READ_LOG_END (-2)

/* ListOffsets special timestamps, as Kafka defines them. */
#define ST_OFFSET_LATEST (-1)
#define ST_OFFSET_EARLIEST (-2)
#define ST_OFFSET_MAX_TIMESTAMP (-3)

struct st_req {
	uint8_t type;                   /* enum st_req_type */
	/* APPEND: 0, 1 or -1 (all: after fdatasync and, in cluster mode, once
	 * every ISR member has it: the high watermark passed it; the ISR
	 * below min.insync.replicas: NOT_ENOUGH_REPLICAS before the write,
	 * NOT_ENOUGH_REPLICAS_AFTER_APPEND when it shrank after). A follower
	 * answers NOT_LEADER_OR_FOLLOWER. */
	int8_t acks;
	uint8_t flags;                  /* APPEND: ST_APPEND_* */
	uint8_t reserved;
	int32_t partition;
	uint8_t topic_id[16];           /* Kafka topic UUID */
	uint64_t token;                 /* opaque to storage, echoed in the completion */
	union {
		struct {
			/* The batch as received (kp_records_validate() passed). The
			 * worker rewrites baseOffset and partitionLeaderEpoch (and
			 * timestamps + CRC for LogAppendTime) in place and writes
			 * from this memory: it must stay valid and unmodified until
			 * the completion arrives. */
			uint8_t *batch;
			uint32_t len;
			/* ST_APPEND_TIMEOUT: ms, <= 0 completes at once when
			 * not yet replicated */
			int32_t timeout_ms;
			/* CLOCK_MONOTONIC ns the core validated the request (0:
			 * not timed); the worker's stage samples start here. */
			uint64_t t_valid_ns;
		} append;
		struct {
			int64_t offset;
			int32_t max_bytes;      /* partition max; the first batch is whole anyway */
			/* 0 read_uncommitted; 1 read_committed: a consumer's read
			 * ends at the last stable offset and its completion
			 * lists the aborted transactions in the data */
			int8_t isolation;
			/* -1: a consumer, reads up to the high watermark. A
			 * broker id: that follower's fetch on the leader: offset
			 * is its log end (raising the high watermark, maybe
			 * completing acks=all appends), it reads up to the log
			 * end. ST_READ_LOG_END: control loading a coordinator's
			 * partition, up to the log end (Kafka's
			 * FetchIsolation.LOG_END), the completion's
			 * high_watermark then the log end. */
			int32_t replica_id;
		} read;
		struct {
			int64_t timestamp;      /* >= 0, or ST_OFFSET_* */
			int8_t isolation;       /* 1: LATEST is the last stable offset */
		} offset;
		struct {
			/* OffsetForLeaderEpoch as Kafka's epoch cache answers
			 * (the largest epoch <= it and its end offset); -1: the
			 * latest epoch and the log end offset. */
			int32_t leader_epoch;
		} epoch;
		struct {
			/* wake when the high watermark (replica_id >= 0: the log
			 * end) passes offset */
			int64_t offset;
			uint64_t deadline_ns;   /* CLOCK_MONOTONIC; dropped silently after */
			int32_t replica_id;     /* -1: a consumer */
		} watch;
		struct {
			uint32_t ref;           /* st_cpl.read.ref */
		} release;
		struct {
			int64_t offset;         /* the new start; -1: the high watermark */
		} delete_records;
		struct {
			int64_t offset;
		} hw;                           /* REPLICA_HW */
		struct {
			int64_t offset;
		} truncate;                     /* TRUNCATE */
	};
};

struct st_cpl {
	uint8_t type;                   /* the request's type */
	uint8_t reserved;
	int16_t error;                  /* Kafka error code, KP_ERR_NONE on success */
	int32_t partition;
	uint64_t token;
	int64_t log_start_offset;
	int64_t high_watermark;         /* single broker: the log end offset */
	/* below the high watermark while a transaction is undecided */
	int64_t last_stable_offset;
	union {
		struct {
			int64_t base_offset;    /* -1 on error */
			int64_t log_append_time; /* -1 unless LogAppendTime */
			/* When it became durable (acks=all) or landed (acks=1),
			 * CLOCK_MONOTONIC ns; 0: the worker recorded no stages
			 * for it (error, duplicate, acks=0, not timed). */
			uint64_t t_done_ns;
		} append;
		struct {
			/* A file region to send without copying: fd stays open until
			 * ST_REQ_RELEASE with ref is submitted (always, also when the
			 * send fails). len 0: nothing at this offset (ref unused). */
			int fd;
			int32_t len;
			int64_t pos;
			uint32_t ref;
			/* isolation 1 (read_committed): the aborted transactions
			 * overlapping the data returned, malloc'd by the worker,
			 * in their markers' order; the receiving core frees it.
			 * NULL when count is 0. */
			struct st_aborted_txn *aborted;
			uint32_t aborted_count;
		} read;
		struct {
			int64_t offset;         /* -1 if none */
			int64_t timestamp;
			int32_t leader_epoch;
		} offset;
		struct {
			int32_t leader_epoch;
			int64_t end_offset;
		} epoch;
		struct {
			/* malloc'd by the worker, sorted by producer id; the
			 * receiving core frees it. NULL when count is 0. */
			struct st_producer *list;
			uint32_t count;
		} producers;
		struct {
			int64_t log_end_offset;
		} truncate;
	};
};

struct st;

/* Create workers and rings (not yet running). NULL with err set.
 * @thread control */
struct st *st_create(const struct st_config *cfg, char *err, size_t err_size);
int st_start(struct st *st);
void st_stop(struct st *st);
void st_destroy(struct st *st);
int st_worker_count(const struct st *st);
/* File regions (READ completions) a core may hold per worker before it
 * releases any: a bound for the core's release queue. */
uint32_t st_refs_max(void);

/* The worker owning a partition: a stable hash, the same across restarts
 * for the same worker count. */
int st_worker_of(const struct st *st, const uint8_t topic_id[16], int32_t partition);

/* ---- control side: blocking, @thread control ---- */

/* Open (recovering if present) or create the logs of partitions
 * [from, to) of a topic under <log_dir>/<name>-<p>/ (start-up). 0 or
 * -errno; what opened stays open. */
int st_partitions_open(struct st *st, const uint8_t topic_id[16], const char *name,
		       int32_t from, int32_t to, const struct st_log_config *cfg);
/* Create the logs of new partitions [from, to) (CreateTopics,
 * CreatePartitions): a directory already there is stale and replaced. All
 * or nothing: on -errno every partition of [from, to) is closed again and
 * its directory removed, and no descriptor stays open. */
int st_partitions_create(struct st *st, const uint8_t topic_id[16], const char *name,
			 int32_t from, int32_t to, const struct st_log_config *cfg);
/* Close and delete a topic's logs. 0 or -errno. */
int st_topic_delete(struct st *st, const uint8_t topic_id[16], const char *name,
		    int32_t partition_count);
/* Close and delete the logs of partitions [from, to). 0 or -errno. */
int st_partitions_delete(struct st *st, const uint8_t topic_id[16], const char *name,
			 int32_t from, int32_t to);
/* Cluster mode: set a partition's replication role (becoming leader at a
 * new epoch records (epoch, log end) in the leader-epoch cache, as Kafka's
 * leader-epoch-checkpoint; becoming follower completes waiting acks=all
 * appends with NOT_LEADER_OR_FOLLOWER; a new ISR recomputes the high
 * watermark, which may complete acks=all appends). 0 or -errno. */
int st_partition_role(struct st *st, const uint8_t topic_id[16], int32_t partition,
		      const struct st_role *role);
/* Call fn for every partition this broker leads (cluster mode), taken on
 * each worker in turn. 0 or -errno. */
int st_leaders_collect(struct st *st, void (*fn)(void *arg, const struct st_leader_stats *ls),
		       void *arg);
/* Cluster mode: write every online log dir's replication-offset-checkpoint
 * (Kafka's format: version line 0, entry count, "topic partition offset"
 * lines; synced temporary file renamed over it) with the high watermark
 * of each partition there. A partition's first role starts its high
 * watermark from the checkpoint read at st_create() (capped at the log
 * end; none: 0, as Kafka's). 0 or -errno (the first failure). */
int st_hw_checkpoint(struct st *st);
#define ST_HWCK_FILE "replication-offset-checkpoint"
/* Apply changed settings to an open topic. 0 or -errno. */
int st_topic_configure(struct st *st, const uint8_t topic_id[16], int32_t partition_count,
		       const struct st_log_config *cfg);

/* Does metadata know partition `partition` of topic `topic`? */
typedef bool st_known_fn(void *arg, const char *topic, int32_t partition);

/* Start-up: remove from the log dir the directories of partitions that
 * known() does not claim (moved aside under a "-delete" name first, as
 * Kafka does) and finish the "-delete" directories an interrupted delete
 * left; each removal is logged. Call before opening the partitions. known
 * runs on a worker thread while this thread waits. 0 or -errno. */
int st_log_dir_clean(struct st *st, st_known_fn *known, void *arg);

/* The log dirs, in log.dirs order: how many, the path of dir i, and
 * whether it is offline (unusable at start, or an I/O error since; see
 * storage/st_dirs_int.h). @thread any */
int st_log_dir_count(const struct st *st);
const char *st_log_dir_path(const struct st *st, int i);
bool st_log_dir_offline(struct st *st, int i);

/* Statistics of one open partition, taken on its worker. */
struct st_partition_stats {
	uint8_t topic_id[16];
	int32_t partition;
	int worker;
	int dir;                        /* its log dir's index (st_log_dir_path) */
	int64_t log_start_offset;
	int64_t log_end_offset;         /* single broker: the high watermark */
	int64_t size_bytes;             /* all segments */
	uint32_t segment_count;
	uint64_t bytes_in;              /* record batch bytes appended since open */
	uint64_t records_in;            /* records appended since open */
	uint64_t bytes_out;             /* bytes handed to fetches since open */
};

/* Statistics of one worker. */
struct st_worker_stats {
	int worker;
	uint32_t partitions;            /* open partition logs */
	uint32_t queued;                /* requests waiting in the cores' rings */
	uint32_t appends_inflight;      /* appends taken, not yet completed */
	uint32_t files_open;            /* segment descriptors in its open-file cache */
	uint32_t files_max;             /* its budget */
	uint32_t maps_open;             /* index maps in its cache */
	uint64_t file_opens;            /* cache misses: files (re)opened or mapped */
	uint64_t file_evictions;        /* closed to stay within the budget */
	struct hist fsync;              /* flush latency: gsync rounds or fdatasyncs */
	uint64_t flush_rounds;          /* gsync rounds: one fdatasync or syncfs each */
	uint64_t flush_syncfs;          /* of them syncfs */
	uint64_t flush_partitions;      /* partition syncs the rounds covered */
	struct stage_hists stages;      /* the produce stages it timed (common/stage.h) */
};

/* Take every worker's statistics, one worker at a time (each is asked
 * through its admin ring and answers from its own thread), and call
 * part_fn for each open partition and worker_fn for each worker, on this
 * thread. 0 or -errno. */
int st_stats_collect(struct st *st,
		     void (*part_fn)(void *arg, const struct st_partition_stats *ps),
		     void (*worker_fn)(void *arg, const struct st_worker_stats *ws), void *arg);

/* The cleaner's counters since start (zero when it is not running). */
struct st_cleaner_stats {
	uint64_t runs;                  /* partitions cleaned */
	uint64_t passes;                /* sweeps over every compacted partition */
	uint64_t bytes_read;
	uint64_t bytes_written;
	uint64_t bytes_reclaimed;       /* segment bytes removed by compaction */
	uint64_t segments_cleaned;      /* segments swapped for cleaned copies */
	uint64_t records_removed;
	uint64_t errors;
	double max_dirty_ratio;         /* the dirtiest compacted partition, last pass */
};

/* @thread any */
void st_cleaner_stats_get(const struct st *st, struct st_cleaner_stats *out);

/* ---- core side: @thread dataplane (core index `core`) ---- */

/* Tell workers which eventfd wakes core `core` after they post completions.
 * Call before st_start(). */
void st_attach_core(struct st *st, int core, int wake_fd);
/* Queue a request to the owning worker; false when that ring is full.
 * Full policy: backpressure. The caller keeps the request (kp_core's ready
 * FIFO, bounded by its reply slots) and submits it once the worker drained
 * the ring; nothing is dropped and no connection is closed for it. */
bool st_submit(struct st *st, int core, const struct st_req *req);
/* Make the worker see requests queued since the last flush (one wake-up
 * per worker per loop turn). */
void st_flush(struct st *st, int core);
/* Take up to max completions for this core; returns how many. */
unsigned st_reap(struct st *st, int core, struct st_cpl *out, unsigned max);

#endif
