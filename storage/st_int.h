/* SPDX-License-Identifier: Apache-2.0 */
/* Storage workers' shared state: struct st, struct st_worker, the ring
 * types and the admin call that control blocks on. Internal to storage/;
 * st.c owns creation and the core/control entry points, st_worker.c the
 * worker loop. */
#ifndef STORAGE_ST_INT_H
#define STORAGE_ST_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/compiler.h"
#include "common/spsc.h"
#include "common/stage.h"
#include "storage/cleaner_int.h"
#include "storage/fcache_int.h"
#include "storage/logdir_int.h"
#include "storage/plog_int.h"
#include "storage/sio.h"
#include "storage/st_dirs_int.h"
#include "storage/st.h"

#define ST_TABLE_SLOTS 4096             /* initial plog hash buckets per worker; doubles */
#define ST_REFS_MAX 65536               /* READ regions still being sent, per worker */
#define ST_TICK_NS 10000000ull          /* flush.ms, watch deadlines (timed plogs) */
#define ST_SWEEP_TICKS 1000             /* ticks per sweep of every plog: retention, every 10 s */
#define ST_ADMIN_CHUNK 256              /* partitions per admin call, between requests */
#define ST_URING_ENTRIES 512
#define ST_REF_NONE UINT32_MAX

/* The open-file budget, when not configured: what the process may open
 * (RLIMIT_NOFILE) less a fixed reserve (rings, eventfds, listeners, log
 * and metadata files), split evenly between storage and the connections
 * (a socket and a splice pipe each); maps: a share of vm.max_map_count,
 * leaving the rest to the allocator, rings and libraries. */
#define ST_FDS_RESERVE 64
#define ST_FDS_PER_WORKER_MIN 16
#define ST_MAPS_SHARE_DIVISOR 4
#define ST_MAPS_PER_WORKER_MIN 16

STATIC_ASSERT((ST_TABLE_SLOTS & (ST_TABLE_SLOTS - 1)) == 0, "power of two");

enum st_admin_type {
	ST_ADMIN_OPEN = 1,
	ST_ADMIN_DELETE = 2,
	ST_ADMIN_CONFIGURE = 3,
	ST_ADMIN_STATS = 4,     /* fill stats[] from the cursor on, and wstats */
	ST_ADMIN_CLEAN = 5,     /* the start-up sweep of the log dir (worker 0) */
	ST_ADMIN_CLEANER_LIST = 6,      /* the cleaner: compacted plogs and their segments */
	ST_ADMIN_CLEANER_SWAP = 7,      /* the cleaner: swap a cleaned segment in */
	ST_ADMIN_ROLE = 8,              /* cluster mode: a partition's role */
	ST_ADMIN_LEADERS = 9,           /* cluster mode: the partitions it leads */
	ST_ADMIN_HWS = 10,              /* cluster mode: high watermarks to checkpoint */
};

/* One line of a log dir's replication-offset-checkpoint (st_hwck.c). */
struct st_hwck_entry {
	int dir;                        /* log dir index */
	char *topic;                    /* malloc'd */
	int32_t partition;
	int64_t offset;
};

struct st_hwck {
	struct st_hwck_entry *e;        /* sorted by dir, topic, partition once loaded */
	uint32_t count;
	uint32_t cap;
};

/* Partition statistics taken per ST_ADMIN_STATS call. */
#define ST_STATS_BATCH 256

/* One blocking control call, on control's stack until done. */
struct st_admin {
	int type;
	const uint8_t *topic_id;
	const char *name;
	int32_t from;
	int32_t to;
	const struct st_log_config *cfg;
	bool create;                            /* OPEN: new partitions (see plog_open_args) */
	struct st_partition_stats *stats;       /* ST_ADMIN_STATS: [ST_STATS_BATCH] */
	uint32_t stats_bucket;                  /* cursor: next bucket, and plogs of it */
	uint32_t stats_skip;                    /* already taken */
	uint32_t stats_count;
	bool stats_done;                        /* every partition taken */
	struct st_worker_stats *wstats;
	st_known_fn *known;                     /* CLEAN */
	void *known_arg;
	struct cleaner_target *targets;         /* CLEANER_LIST: malloc'd, the caller frees */
	uint32_t target_count;
	int64_t swap_base;                      /* CLEANER_SWAP: topic_id, from, and these */
	int64_t swap_max_timestamp;
	const struct st_role *role;             /* ROLE: topic_id, from */
	struct st_leader_stats *leaders;        /* LEADERS: malloc'd, the caller frees */
	uint32_t leader_count;
	struct st_hwck *hws;                    /* HWS: entries appended */
	int result;
	_Atomic uint32_t done;  /* futex word: 1 when result is set */
};

struct st_admin_msg {
	struct st_admin *call;
};

SPSC_PROTOTYPE(st_req, st_req)
SPSC_PROTOTYPE(st_cpl, st_cpl)
SPSC_PROTOTYPE(st_admin_msg, st_admin_msg)

struct st_ref {
	struct segment *seg;
	uint32_t next_free;
};

/* A partition of an offline log dir that was never opened (its dir was
 * unusable at start): known, answered with NOT_LEADER_OR_FOLLOWER, as
 * Kafka answers for a partition it hosts no log of. */
struct st_offline_part {
	uint8_t topic_id[16];
	int32_t partition;
};

struct st_worker {
	struct st *st;
	int index;
	/* Partitions of offline dirs that have no plog (cold: looked at only
	 * for a request no plog answers). */
	struct st_offline_part *offline;
	uint32_t offline_count;
	uint32_t offline_cap;
	int cpu;                        /* -1: not pinned */
	pthread_t thread;
	bool running;
	atomic_bool stop;
	/* Set by the worker before it sleeps, cleared by whoever wakes it:
	 * the seq_cst fences around it pair with the cores' in st_flush(). */
	atomic_int sleeping;
	int event_fd;
	uint64_t event_buf;
	struct sio_op event_op;
	bool event_armed;
	struct sio *sio;
	struct spsc *req;               /* [core_count], core -> worker */
	struct spsc *cpl;               /* [core_count], worker -> core */
	struct spsc admin;              /* control -> worker */
	struct spsc cleaner_ring;       /* cleaner thread -> worker (st_admin_msg) */
	bool *core_wake;                /* [core_count]: completions posted this turn */
	struct plog **table;            /* [table_slots] hash chains */
	uint32_t table_slots;           /* power of two, at least plog_count */
	uint32_t plog_count;
	struct plog *dirty;
	struct plog *blocked;           /* out of descriptors: dirty after completions */
	struct plog *timed;             /* plogs the tick must visit (plog_timed()) */
	uint32_t sweep_bucket;          /* next bucket the slow sweep visits */
	struct fcache fcache;
	struct plog_append *apps;       /* pool */
	struct plog_append *app_free;
	struct plog_watch *watches;     /* pool */
	struct plog_watch *watch_free;
	struct st_ref *refs;            /* [ST_REFS_MAX] */
	uint32_t ref_free;
	/* read_committed reads: ST_ABORTED_MAX entries, made on first use */
	struct txn_aborted *aborted_buf;
	uint64_t next_tick_ns;
	uint32_t apps_used;             /* appends taken from the pool */
	struct hist fsync_hist;         /* flushes: gsync rounds, or each plog's fdatasyncs */
	struct gsync gsync;             /* group commit across the worker's plogs */
	/* Produce stages this worker times (st_append_done), from two clock
	 * reads per loop turn: turn_ns when it starts (requests taken from
	 * the rings) and reap_ns after the submit (completions reaped). */
	struct stage_hists stages;
	uint64_t turn_ns;
	uint64_t reap_ns;
} CACHE_ALIGNED;

struct st {
	struct st_config cfg;
	char *log_dir;
	struct st_dirs dirs;            /* every log dir, log_dir the first */
	struct st_worker *workers;
	int *core_wake_fds;             /* [core_count], -1 when none */
	bool *submitted;                /* [core_count * worker_count], core-owned */
	uint32_t fds_per_worker;        /* open-file cache budgets */
	uint32_t maps_per_worker;
	struct logdir_reaper reaper;    /* removes deleted partition directories */
	struct sio *reaper_sios[LOGDIR_REAPER_THREADS];
	struct cleaner *cleaner;        /* NULL: log.cleaner.enable=false */
	struct st_hwck hwck;            /* the HW checkpoints as read at st_create() */
	bool started;
};

/* How a worker makes its sio: sio_uring_create(), or a unit test's
 * simulator (a test seam; only tests change it, before st_create()). */
typedef struct sio *st_sio_create_fn(unsigned entries, int *err);
extern st_sio_create_fn *st_sio_create;

/* Ring pairs per worker: one per core, and the replica fetcher's. */
static inline int
st_ring_count(const struct st *st)
{
	return st->cfg.core_count + (st->cfg.replica_ring ? 1 : 0);
}

uint64_t st_hash(const uint8_t topic_id[16], int32_t partition);

/* st_hwck.c: the high-watermark checkpoints. Read every online dir's file
 * (a missing or malformed one counts as empty, logged). 0 or -ENOMEM. */
int st_hwck_load(struct st *st);
void st_hwck_free(struct st_hwck *h);
/* The checkpointed high watermark of a partition in dir; -1 when none. */
int64_t st_hwck_find(const struct st *st, int dir, const char *topic, int32_t partition);
/* ST_ADMIN_HWS on the worker: append its partitions' high watermarks. */
int st_worker_hws(struct st_worker *w, struct st_admin *call);
struct plog *st_worker_find(struct st_worker *w, const uint8_t topic_id[16], int32_t partition);
/* Run call on worker i alone and wait for it (control). */
void st_admin_one(struct st *st, int i, struct st_admin *call);
/* Run one admin call on the worker's thread (or inline before start). */
void st_worker_admin(struct st_worker *w, struct st_admin *call);
void *st_worker_main(void *arg);
/* Wake a worker that may sleep (after pushing onto one of its rings). */
void st_worker_wake(struct st_worker *w);
int st_worker_init(struct st_worker *w, struct st *st, int index);
void st_worker_fini(struct st_worker *w);

/* st_worker_dirs.c: which log dir a partition opens in, and the worker's
 * partitions of offline dirs. */
/* The dir for partition p of call (new: placed; at start: scanned); an
 * index, or -1 when the partition belongs to an offline dir (recorded, it
 * answers KAFKA_STORAGE_ERROR), or -errno. */
int st_worker_dir_of(struct st_worker *w, const struct st_admin *call, int32_t p);
/* A partition log failed to open in dir i at start with rc: true when that
 * takes dir i offline (several dirs, an I/O error) and p is now recorded
 * as offline instead of failing the start. */
bool st_worker_dir_open_failed(struct st_worker *w, const struct st_admin *call, int32_t p,
			       int i, int rc);
bool st_worker_offline_has(const struct st_worker *w, const uint8_t topic_id[16],
			   int32_t partition);
void st_worker_offline_drop(struct st_worker *w, const uint8_t topic_id[16], int32_t partition);
/* An I/O error (a KAFKA_STORAGE_ERROR answer) on plog: with several dirs
 * its dir goes offline. */
void st_worker_io_failed(struct st_worker *w, const struct plog *plog);
/* Let a plog's writes and syncs finish (their completions go out). */
void st_plog_quiesce(struct st_worker *w, struct plog *plog);
void st_cpl_fill(struct st_cpl *cpl, struct plog *plog, uint8_t type, int32_t partition,
		 uint64_t token);

/* st_worker_repl.c: cluster mode on the worker. */
/* ST_ADMIN_ROLE for partition p. 0 or -errno. */
int st_worker_role(struct st_worker *w, const struct st_admin *call, int32_t p);
/* ST_ADMIN_LEADERS: call->leaders, every partition it leads. 0 or -errno. */
int st_worker_leaders(struct st_worker *w, struct st_admin *call);
/* REPLICA_HW and TRUNCATE from the replica fetcher: do it and fill cpl. */
void st_worker_repl_request(struct st_worker *w, struct plog *plog, const struct st_req *req,
			    struct st_cpl *cpl);

#endif
