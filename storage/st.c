/* SPDX-License-Identifier: Apache-2.0 */
/* Storage workers, the outside view (st.h): creation, start/stop, the
 * stable partition -> worker hash, control's blocking admin calls, and the
 * cores' submit/flush/reap on their SPSC ring pairs. The worker loop itself
 * is st_worker.c. */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/assert.h"
#include "common/efd.h"
#include "common/log.h"
#include "storage/st_int.h"

/* FNV-1a 64 over the topic id and the partition (big-endian): stable
 * across restarts and builds. */
uint64_t
st_hash(const uint8_t topic_id[16], int32_t partition)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint32_t p = (uint32_t)partition;
	int i;

	for (i = 0; i < 16; i++)
		h = (h ^ topic_id[i]) * 0x100000001b3ull;
	for (i = 3; i >= 0; i--)
		h = (h ^ ((p >> (8 * i)) & 0xff)) * 0x100000001b3ull;
	return h;
}

int
st_worker_of(const struct st *st, const uint8_t topic_id[16], int32_t partition)
{
	return (int)(st_hash(topic_id, partition) % (uint64_t)st->cfg.worker_count);
}

uint32_t
st_refs_max(void)
{
	return ST_REFS_MAX;
}

int
st_worker_count(const struct st *st)
{
	return st->cfg.worker_count;
}

/* vm.max_map_count, or Linux's default when it cannot be read. */
static uint64_t
st_map_count_max(void)
{
	unsigned long long v = 65530;
	FILE *f = fopen("/proc/sys/vm/max_map_count", "re");

	if (f != NULL) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 65530;
		fclose(f);
	}
	return v;
}

/* Each worker's share of the descriptors and maps its open-file cache may
 * hold (st_int.h explains the split). */
static void
st_budget(struct st *st)
{
	uint64_t nofile = 1024, fds, maps, workers = (uint64_t)st->cfg.worker_count;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		nofile = rl.rlim_cur == RLIM_INFINITY ? (1u << 20) : (uint64_t)rl.rlim_cur;
	fds = st->cfg.open_files_max;
	if (fds == 0)
		fds = nofile > ST_FDS_RESERVE ? (nofile - ST_FDS_RESERVE) / 2 : 0;
	fds /= workers;
	maps = st_map_count_max() / ST_MAPS_SHARE_DIVISOR / workers;
	st->fds_per_worker = (uint32_t)MIN(MAX(fds, ST_FDS_PER_WORKER_MIN), UINT32_MAX / 2);
	st->maps_per_worker = (uint32_t)MIN(MAX(maps, ST_MAPS_PER_WORKER_MIN), UINT32_MAX / 2);
	log_info("storage", "open files: up to %u descriptors and %u index maps per worker "
		 "(RLIMIT_NOFILE %llu)", st->fds_per_worker, st->maps_per_worker,
		 (unsigned long long)nofile);
}

struct st *
st_create(const struct st_config *cfg, char *err, size_t err_size)
{
	struct st *st;
	int i, rc;

	if (cfg->worker_count <= 0 || cfg->core_count <= 0 || cfg->log_dir == NULL ||
	    cfg->ring_slots == 0 || (cfg->ring_slots & (cfg->ring_slots - 1)) != 0) {
		snprintf(err, err_size, "storage: bad worker/core count, log dir or ring size");
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		goto nomem_early;
	st->cfg = *cfg;
	if (logdir_reaper_init(&st->reaper) != 0) {
		free(st);
		goto nomem_early;
	}
	st->log_dir = strdup(cfg->log_dir);
	st->cfg.log_dir = st->log_dir;
	st->cfg.log_dirs = NULL;
	rc = st_dirs_init(&st->dirs, cfg->log_dirs != NULL ? cfg->log_dirs : &cfg->log_dir,
			  cfg->log_dirs != NULL ? cfg->log_dir_count : 1);
	if (rc != 0)
		snprintf(err, err_size, "storage: log dirs: %s", strerror(-rc));
	else
		rc = st_dirs_validate(&st->dirs, err, err_size);
	if (rc != 0) {
		st_dirs_fini(&st->dirs);
		logdir_reaper_fini(&st->reaper);
		free(st->log_dir);
		free(st);
		return NULL;
	}
	st->cfg.worker_cpus = NULL;
	st->workers = aligned_alloc(CACHE_LINE, sizeof(*st->workers) * (size_t)cfg->worker_count);
	st->core_wake_fds = malloc(sizeof(int) * (size_t)st_ring_count(st));
	st->submitted = calloc((size_t)st_ring_count(st) * (size_t)cfg->worker_count, 1);
	if (st->log_dir == NULL || st->workers == NULL || st->core_wake_fds == NULL ||
	    st->submitted == NULL)
		goto nomem;
	for (i = 0; i < st_ring_count(st); i++)
		st->core_wake_fds[i] = -1;
	st_budget(st);
	if (st_hwck_load(st) < 0)
		goto nomem;
	for (i = 0; i < cfg->worker_count; i++) {
		rc = st_worker_init(&st->workers[i], st, i);
		st->workers[i].cpu = cfg->worker_cpus != NULL ? cfg->worker_cpus[i] : -1;
		if (rc < 0) {
			snprintf(err, err_size, "storage: worker %d: %s", i, strerror(-rc));
			st->cfg.worker_count = i;
			st_destroy(st);
			return NULL;
		}
	}
	return st;
nomem:
	st->cfg.worker_count = 0;
	st_destroy(st);
nomem_early:
	snprintf(err, err_size, "storage: out of memory");
	return NULL;
}

int
st_start(struct st *st)
{
	int i, rc;

	ASSERT(!st->started);
	/* Each reaper thread has a ring of its own: a sio is one thread's.
	 * Without them, deleted directories are removed inline. */
	for (i = 0; i < LOGDIR_REAPER_THREADS; i++)
		if ((st->reaper_sios[i] = st_sio_create(8, &rc)) == NULL)
			break;
	(void)logdir_reaper_start(&st->reaper, st->reaper_sios, i);
	for (i = 0; i < st->cfg.worker_count; i++) {
		rc = pthread_create(&st->workers[i].thread, NULL, st_worker_main, &st->workers[i]);
		if (rc != 0) {
			st_stop(st);
			return -rc;
		}
		st->workers[i].running = true;
	}
	st->started = true;
	/* The cleaner calls the workers: it starts after them and stops
	 * before them. Without it, compacted logs only grow. */
	if (st->cfg.cleaner.enable) {
		st->cleaner = cleaner_create(st, &st->cfg.cleaner);
		if (st->cleaner == NULL || cleaner_start(st->cleaner) < 0) {
			log_error("storage", "log cleaner: cannot start; compaction is off");
			cleaner_destroy(st->cleaner);
			st->cleaner = NULL;
		}
	}
	return 0;
}

void
st_cleaner_stats_get(const struct st *st, struct st_cleaner_stats *out)
{
	const struct cleaner_stats *cs;

	memset(out, 0, sizeof(*out));
	if (st->cleaner == NULL)
		return;
	cs = cleaner_stats_get(st->cleaner);
	out->runs = atomic_load(&cs->runs);
	out->passes = atomic_load(&cs->passes);
	out->bytes_read = atomic_load(&cs->bytes_read);
	out->bytes_written = atomic_load(&cs->bytes_written);
	out->bytes_reclaimed = atomic_load(&cs->bytes_reclaimed);
	out->segments_cleaned = atomic_load(&cs->segments_cleaned);
	out->records_removed = atomic_load(&cs->records_removed);
	out->errors = atomic_load(&cs->errors);
	out->max_dirty_ratio = (double)atomic_load(&cs->max_dirty_ratio_ppm) / 1e6;
}

static void
st_wake_worker(struct st_worker *w)
{
	atomic_store(&w->sleeping, 0);
	efd_kick(w->event_fd);
}

void
st_stop(struct st *st)
{
	int i;

	if (st->cleaner != NULL) {
		cleaner_stop(st->cleaner);
		cleaner_destroy(st->cleaner);
		st->cleaner = NULL;
	}
	for (i = 0; i < st->cfg.worker_count; i++) {
		if (!st->workers[i].running)
			continue;
		atomic_store(&st->workers[i].stop, true);
		st_wake_worker(&st->workers[i]);
		pthread_join(st->workers[i].thread, NULL);
		st->workers[i].running = false;
	}
	logdir_reaper_stop(&st->reaper);
	for (i = 0; i < LOGDIR_REAPER_THREADS; i++) {
		if (st->reaper_sios[i] != NULL)
			sio_destroy(st->reaper_sios[i]);
		st->reaper_sios[i] = NULL;
	}
	st->started = false;
}

void
st_destroy(struct st *st)
{
	int i;

	if (st == NULL)
		return;
	ASSERT(!st->started);
	for (i = 0; st->workers != NULL && i < st->cfg.worker_count; i++)
		st_worker_fini(&st->workers[i]);
	logdir_reaper_fini(&st->reaper);
	free(st->workers);
	free(st->core_wake_fds);
	free(st->submitted);
	free(st->log_dir);
	st_hwck_free(&st->hwck);
	st_dirs_fini(&st->dirs);
	free(st);
}

int
st_log_dir_count(const struct st *st)
{
	return st->dirs.count;
}

const char *
st_log_dir_path(const struct st *st, int i)
{
	return st->dirs.paths[i];
}

bool
st_log_dir_offline(struct st *st, int i)
{
	return st_dirs_is_offline(&st->dirs, i);
}

/* ---- control side ---- */

static void
st_admin_wait(struct st_admin *call)
{
	while (atomic_load_explicit(&call->done, memory_order_acquire) == 0)
		syscall(SYS_futex, &call->done, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
}

/* Run call on every worker (each acts on the partitions it owns); the
 * first error wins. */
static int
st_admin_all(struct st *st, struct st_admin *proto)
{
	struct st_admin *calls;
	struct st_admin_msg msg;
	int i, rc = 0;

	calls = calloc((size_t)st->cfg.worker_count, sizeof(*calls));
	if (calls == NULL)
		return -ENOMEM;
	for (i = 0; i < st->cfg.worker_count; i++) {
		calls[i] = *proto;
		atomic_init(&calls[i].done, 0);
		if (!st->started) {
			st_worker_admin(&st->workers[i], &calls[i]);
			continue;
		}
		msg.call = &calls[i];
		while (!spsc_push_st_admin_msg(&st->workers[i].admin, &msg))
			usleep(100);
		st_wake_worker(&st->workers[i]);
	}
	for (i = 0; i < st->cfg.worker_count; i++) {
		st_admin_wait(&calls[i]);
		if (rc == 0)
			rc = calls[i].result;
	}
	free(calls);
	return rc;
}

/* Run call on worker i alone and wait for it. Full policy of the admin
 * ring (control -> worker, 64 slots): control waits for room, as it waits
 * for the call itself; admin calls are control's own, never a client's
 * count, so the wait is bounded by the worker's loop turn. */
void
st_admin_one(struct st *st, int i, struct st_admin *call)
{
	struct st_admin_msg msg = { .call = call };

	atomic_init(&call->done, 0);
	if (!st->started) {
		st_worker_admin(&st->workers[i], call);
		return;
	}
	while (!spsc_push_st_admin_msg(&st->workers[i].admin, &msg))
		usleep(100);
	st_wake_worker(&st->workers[i]);
	st_admin_wait(call);
}

int
st_stats_collect(struct st *st,
		 void (*part_fn)(void *arg, const struct st_partition_stats *ps),
		 void (*worker_fn)(void *arg, const struct st_worker_stats *ws), void *arg)
{
	struct st_partition_stats *batch = calloc(ST_STATS_BATCH, sizeof(*batch));
	struct st_worker_stats ws;

	if (batch == NULL)
		return -ENOMEM;
	for (int i = 0; i < st->cfg.worker_count; i++) {
		struct st_admin call = { .type = ST_ADMIN_STATS, .stats = batch, .wstats = &ws };

		do {
			st_admin_one(st, i, &call);
			for (uint32_t k = 0; k < call.stats_count; k++)
				part_fn(arg, &batch[k]);
		} while (!call.stats_done);
		worker_fn(arg, &ws);
	}
	free(batch);
	return 0;
}

/* Run call over [from, to) in chunks, so that a worker goes back to its
 * requests between chunks instead of stalling them for the whole range;
 * the first error stops it. */
static int
st_admin_chunked(struct st *st, struct st_admin *call, int32_t from, int32_t to)
{
	int32_t p;
	int rc = 0;

	ASSERT(from >= 0 && from <= to);
	for (p = from; p < to && rc == 0; p += MIN(to - p, ST_ADMIN_CHUNK)) {
		call->from = p;
		call->to = p + MIN(to - p, ST_ADMIN_CHUNK);
		rc = st_admin_all(st, call);
	}
	return rc;
}

int
st_partitions_open(struct st *st, const uint8_t topic_id[16], const char *name, int32_t from,
		   int32_t to, const struct st_log_config *cfg)
{
	struct st_admin call = { .type = ST_ADMIN_OPEN, .topic_id = topic_id, .name = name,
				 .cfg = cfg };

	return st_admin_chunked(st, &call, from, to);
}

int
st_partitions_create(struct st *st, const uint8_t topic_id[16], const char *name,
		     int32_t from, int32_t to, const struct st_log_config *cfg)
{
	struct st_admin call = { .type = ST_ADMIN_OPEN, .topic_id = topic_id, .name = name,
				 .cfg = cfg, .create = true };
	int rc = st_admin_chunked(st, &call, from, to);

	/* Some workers may have gone further than the one that failed: undo
	 * the whole range, which is new, so nothing in it predates us. */
	if (rc != 0)
		(void)st_partitions_delete(st, topic_id, name, from, to);
	return rc;
}

int
st_partitions_delete(struct st *st, const uint8_t topic_id[16], const char *name,
		     int32_t from, int32_t to)
{
	struct st_admin call = { .type = ST_ADMIN_DELETE, .topic_id = topic_id, .name = name };

	return st_admin_chunked(st, &call, from, to);
}

int
st_topic_delete(struct st *st, const uint8_t topic_id[16], const char *name,
		int32_t partition_count)
{
	return st_partitions_delete(st, topic_id, name, 0, partition_count);
}

int
st_log_dir_clean(struct st *st, st_known_fn *known, void *arg)
{
	struct st_admin call = { .type = ST_ADMIN_CLEAN, .known = known, .known_arg = arg };

	st_admin_one(st, 0, &call);
	return call.result;
}

int
st_topic_configure(struct st *st, const uint8_t topic_id[16], int32_t partition_count,
		   const struct st_log_config *cfg)
{
	struct st_admin call = { .type = ST_ADMIN_CONFIGURE, .topic_id = topic_id,
				 .from = 0, .to = partition_count, .cfg = cfg };

	return st_admin_all(st, &call);
}

int
st_partition_role(struct st *st, const uint8_t topic_id[16], int32_t partition,
		  const struct st_role *role)
{
	struct st_admin call = { .type = ST_ADMIN_ROLE, .topic_id = topic_id,
				 .from = partition, .to = partition + 1, .role = role };

	st_admin_one(st, st_worker_of(st, topic_id, partition), &call);
	return call.result;
}

int
st_leaders_collect(struct st *st, void (*fn)(void *arg, const struct st_leader_stats *ls),
		   void *arg)
{
	for (int i = 0; i < st->cfg.worker_count; i++) {
		struct st_admin call = { .type = ST_ADMIN_LEADERS };

		st_admin_one(st, i, &call);
		for (uint32_t k = 0; k < call.leader_count; k++)
			fn(arg, &call.leaders[k]);
		free(call.leaders);
		if (call.result != 0)
			return call.result;
	}
	return 0;
}

/* ---- core side ---- */

void
st_attach_core(struct st *st, int core, int wake_fd)
{
	ASSERT(core >= 0 && core < st->cfg.core_count + (int)st->cfg.replica_ring);
	ASSERT(!st->started);
	st->core_wake_fds[core] = wake_fd;
}

bool
st_submit(struct st *st, int core, const struct st_req *req)
{
	int w = st_worker_of(st, req->topic_id, req->partition);

	ASSERT_HOT(core >= 0 && core < st->cfg.core_count + (int)st->cfg.replica_ring);
	if (!spsc_push_st_req(&st->workers[w].req[core], req))
		return false;
	st->submitted[core * st->cfg.worker_count + w] = true;
	return true;
}

void
st_flush(struct st *st, int core)
{
	bool *sub = &st->submitted[core * st->cfg.worker_count];
	struct st_worker *w;
	int i;

	/* Pairs with the worker's fence between setting sleeping and its last
	 * look at the rings: either it sees our requests or we see it asleep. */
	atomic_thread_fence(memory_order_seq_cst);
	for (i = 0; i < st->cfg.worker_count; i++) {
		if (!sub[i])
			continue;
		sub[i] = false;
		w = &st->workers[i];
		if (atomic_load(&w->sleeping) && atomic_exchange(&w->sleeping, 0))
			efd_kick(w->event_fd);
	}
}

unsigned
st_reap(struct st *st, int core, struct st_cpl *out, unsigned max)
{
	unsigned n = 0;
	int i;

	for (i = 0; i < st->cfg.worker_count && n < max; i++)
		while (n < max && spsc_pop_st_cpl(&st->workers[i].cpl[core], &out[n]))
			n++;
	return n;
}
