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
#include "storage/plog_int.h"
#include "storage/sio.h"
#include "storage/st.h"

#define ST_TABLE_SLOTS 4096             /* plog hash buckets per worker */
#define ST_REFS_MAX 65536               /* READ regions still being sent, per worker */
#define ST_TICK_NS 10000000ull          /* retention, flush.ms, watch deadlines */
#define ST_URING_ENTRIES 512
#define ST_REF_NONE UINT32_MAX

STATIC_ASSERT((ST_TABLE_SLOTS & (ST_TABLE_SLOTS - 1)) == 0, "power of two");

enum st_admin_type {
	ST_ADMIN_OPEN = 1,
	ST_ADMIN_DELETE = 2,
	ST_ADMIN_CONFIGURE = 3,
	ST_ADMIN_STATS = 4,     /* fill stats[] (after skipping stats_skip) and wstats */
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
	struct st_partition_stats *stats;       /* ST_ADMIN_STATS: [ST_STATS_BATCH] */
	uint32_t stats_skip;
	uint32_t stats_count;
	struct st_worker_stats *wstats;
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

struct st_worker {
	struct st *st;
	int index;
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
	bool *core_wake;                /* [core_count]: completions posted this turn */
	struct plog *table[ST_TABLE_SLOTS];
	struct plog *dirty;
	struct plog_append *apps;       /* pool */
	struct plog_append *app_free;
	struct plog_watch *watches;     /* pool */
	struct plog_watch *watch_free;
	struct st_ref *refs;            /* [ST_REFS_MAX] */
	uint32_t ref_free;
	uint64_t next_tick_ns;
	uint32_t apps_used;             /* appends taken from the pool */
	struct hist fsync_hist;         /* every plog's fdatasyncs (plog->sync_hist) */
} CACHE_ALIGNED;

struct st {
	struct st_config cfg;
	char *log_dir;
	struct st_worker *workers;
	int *core_wake_fds;             /* [core_count], -1 when none */
	bool *submitted;                /* [core_count * worker_count], core-owned */
	bool started;
};

uint64_t st_hash(const uint8_t topic_id[16], int32_t partition);
struct plog *st_worker_find(struct st_worker *w, const uint8_t topic_id[16], int32_t partition);
/* Run one admin call on the worker's thread (or inline before start). */
void st_worker_admin(struct st_worker *w, struct st_admin *call);
void *st_worker_main(void *arg);
int st_worker_init(struct st_worker *w, struct st *st, int index);
void st_worker_fini(struct st_worker *w);

#endif
