/* SPDX-License-Identifier: Apache-2.0 */
/* The log cleaner thread: every log.cleaner.backoff.ms it asks each worker
 * for its compacted partitions (a copy of their closed segments), cleans
 * those that are due (cleaner_log.c) through its own sio within an io budget
 * of log.cleaner.io.max.bytes.per.second, and has the owning worker swap
 * each cleaned segment in. It never runs on a dataplane core, and the
 * workers only spend a list or a few renames per call on it. @thread cleaner */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/assert.h"
#include "common/clock.h"
#include "common/log.h"
#include "storage/cleaner_int.h"
#include "storage/st_int.h"

/* The offset map's smallest and largest slot counts (24 bytes a slot). */
#define CLEANER_MAP_SLOTS_MIN (1u << 10)
#define CLEANER_MAP_SLOTS_MAX (1u << 26)
/* The longest sleep of the throttle before it looks at the stop flag. */
#define CLEANER_SLEEP_SLICE_NS 50000000ull

struct cleaner {
	struct st *st;
	struct st_cleaner_config cfg;
	struct sio *sio;
	struct cleaner_map map;
	pthread_t thread;
	bool running;
	atomic_bool stop;
	pthread_mutex_t lock;           /* with wake: the backoff sleep */
	pthread_cond_t wake;
	uint64_t budget_t0_ns;          /* the io budget's window */
	uint64_t budget_bytes;
	struct cleaner_stats stats;
};

const struct cleaner_stats *
cleaner_stats_get(const struct cleaner *c)
{
	return &c->stats;
}

/* Run call on worker w and wait, as control's admin calls do, through the
 * cleaner's own ring (the cleaner is its one producer). */
static void
cleaner_call(struct cleaner *c, int worker, struct st_admin *call)
{
	struct st_worker *w = &c->st->workers[worker];
	struct st_admin_msg msg = { .call = call };

	atomic_init(&call->done, 0);
	while (!spsc_push_st_admin_msg(&w->cleaner_ring, &msg))
		usleep(1000);
	st_worker_wake(w);
	/* Acquire pairs with the release store in st_worker_admin(). */
	while (atomic_load_explicit(&call->done, memory_order_acquire) == 0)
		syscall(SYS_futex, &call->done, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
}

static int
cleaner_swap(void *arg, const struct cleaner_target *t, int64_t base, int64_t max_timestamp)
{
	struct cleaner *c = arg;
	struct st_admin call = { .type = ST_ADMIN_CLEANER_SWAP, .topic_id = t->topic_id,
				 .from = t->partition, .swap_base = base,
				 .swap_max_timestamp = max_timestamp };

	cleaner_call(c, st_worker_of(c->st, t->topic_id, t->partition), &call);
	return call.result;
}

/* Sleep until ns from now, or until stop; false when stopping. */
static bool
cleaner_sleep_ns(struct cleaner *c, uint64_t ns)
{
	struct timespec ts;

	while (ns > 0 && !atomic_load(&c->stop)) {
		uint64_t slice = ns < CLEANER_SLEEP_SLICE_NS ? ns : CLEANER_SLEEP_SLICE_NS;

		ts.tv_sec = (time_t)(slice / 1000000000ull);
		ts.tv_nsec = (long)(slice % 1000000000ull);
		nanosleep(&ts, NULL);
		ns -= slice;
	}
	return !atomic_load(&c->stop);
}

/* The io budget: bytes read or written may not run ahead of the rate
 * since the window began (a window restarts each second of idleness). */
static bool
cleaner_throttle(void *arg, uint64_t bytes)
{
	struct cleaner *c = arg;
	uint64_t now = clock_mono_ns(), due_ns;

	if (atomic_load(&c->stop))
		return false;
	if (c->cfg.io_bytes_per_sec == 0)
		return true;
	if (now - c->budget_t0_ns > 1000000000ull + c->budget_bytes * 1000000000ull /
					c->cfg.io_bytes_per_sec) {
		c->budget_t0_ns = now;
		c->budget_bytes = 0;
	}
	c->budget_bytes += bytes;
	due_ns = c->budget_bytes * 1000000000ull / c->cfg.io_bytes_per_sec;
	if (c->budget_t0_ns + due_ns > now)
		return cleaner_sleep_ns(c, c->budget_t0_ns + due_ns - now);
	return true;
}

static void
cleaner_target_free(struct cleaner_target *t)
{
	free(t->dir);
	free(t->segs);
}

static void
cleaner_clean_one(struct cleaner *c, const struct cleaner_target *t, double *max_ratio)
{
	struct cleaner_ctx ctx = {
		.sio = c->sio, .map = &c->map, .swap = cleaner_swap, .swap_arg = c,
		.throttle = cleaner_throttle, .throttle_arg = c,
	};
	struct cleaner_log_stats ls;
	int rc = cleaner_log_clean(&ctx, t, clock_wall_ms(), &ls);

	if (ls.dirty_ratio > *max_ratio)
		*max_ratio = ls.dirty_ratio;
	atomic_fetch_add(&c->stats.bytes_read, ls.bytes_read);
	atomic_fetch_add(&c->stats.bytes_written, ls.bytes_written);
	atomic_fetch_add(&c->stats.bytes_reclaimed, ls.bytes_reclaimed);
	atomic_fetch_add(&c->stats.segments_cleaned, ls.segments_cleaned);
	atomic_fetch_add(&c->stats.records_removed, ls.records_removed);
	if (ls.cleaned && rc == 0)
		atomic_fetch_add(&c->stats.runs, 1);
	if (rc < 0 && rc != -EINTR) {
		atomic_fetch_add(&c->stats.errors, 1);
		log_warn("storage", "log cleaner: %s: %s", t->dir, strerror(-rc));
	} else if (ls.segments_cleaned > 0) {
		log_info("storage", "log cleaner: %s: %llu segments cleaned, %llu bytes reclaimed",
			 t->dir, (unsigned long long)ls.segments_cleaned,
			 (unsigned long long)ls.bytes_reclaimed);
	}
}

/* One pass over every worker's compacted partitions. */
static void
cleaner_pass(struct cleaner *c)
{
	double max_ratio = 0;

	for (int i = 0; i < c->st->cfg.worker_count && !atomic_load(&c->stop); i++) {
		struct st_admin call = { .type = ST_ADMIN_CLEANER_LIST };
		uint32_t k;

		cleaner_call(c, i, &call);
		for (k = 0; k < call.target_count; k++) {
			if (!atomic_load(&c->stop))
				cleaner_clean_one(c, &call.targets[k], &max_ratio);
			cleaner_target_free(&call.targets[k]);
		}
		free(call.targets);
	}
	atomic_store(&c->stats.max_dirty_ratio_ppm, (int64_t)(max_ratio * 1e6));
	atomic_fetch_add(&c->stats.passes, 1);
}

static void *
cleaner_main(void *arg)
{
	struct cleaner *c = arg;
	struct timespec ts;

	pthread_setname_np(pthread_self(), "log-cleaner");
	while (!atomic_load(&c->stop)) {
		cleaner_pass(c);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += c->cfg.backoff_ms / 1000;
		ts.tv_nsec += (c->cfg.backoff_ms % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&c->lock);
		if (!atomic_load(&c->stop))
			pthread_cond_timedwait(&c->wake, &c->lock, &ts);
		pthread_mutex_unlock(&c->lock);
	}
	return NULL;
}

struct cleaner *
cleaner_create(struct st *st, const struct st_cleaner_config *cfg)
{
	struct cleaner *c = calloc(1, sizeof(*c));
	uint64_t slots = CLEANER_MAP_SLOTS_MIN;
	int rc;

	if (c == NULL)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	c->st = st;
	c->cfg = *cfg;
	if (c->cfg.backoff_ms <= 0)
		c->cfg.backoff_ms = 15000;
	while (slots < CLEANER_MAP_SLOTS_MAX &&
	       slots * 2 * sizeof(struct cleaner_map_slot) <= cfg->dedupe_buffer_bytes)
		slots *= 2;
	c->sio = st_sio_create(8, &rc);
	if (c->sio == NULL || cleaner_map_init(&c->map, (uint32_t)slots) < 0) {
		cleaner_destroy(c);
		return NULL;
	}
	return c;
}

int
cleaner_start(struct cleaner *c)
{
	int rc = pthread_create(&c->thread, NULL, cleaner_main, c);

	if (rc != 0)
		return -rc;
	c->running = true;
	return 0;
}

void
cleaner_stop(struct cleaner *c)
{
	if (!c->running)
		return;
	atomic_store(&c->stop, true);
	pthread_mutex_lock(&c->lock);
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	c->running = false;
}

void
cleaner_destroy(struct cleaner *c)
{
	if (c == NULL)
		return;
	ASSERT(!c->running);
	if (c->sio != NULL)
		sio_destroy(c->sio);
	cleaner_map_fini(&c->map);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->wake);
	free(c);
}
