/* SPDX-License-Identifier: Apache-2.0 */
/* One storage worker: a pinned thread with its own io_uring (sio_uring) and
 * a hash table of the partition logs it owns. Each loop turn drains the
 * admin ring and every core's request ring, issues one writev per partition
 * with appends, submits once, reaps completions into the cores' rings and
 * wakes those cores; it sleeps on an eventfd read armed in its ring. */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/assert.h"
#include "common/clock.h"
#include "common/efd.h"
#include "storage/logdir_int.h"
#include "storage/plog_stage.h"
#include "storage/pstate.h"
#include "storage/st_int.h"

/* The table's bucket bits. FNV-1a's last multiply leaves bits 32-39
 * nearly blind to the last byte (the partition's low byte), so consecutive
 * partitions piled into a few chains: mix first (murmur3's finaliser). The
 * worker choice keeps st_hash() as is, stable across restarts. */
st_sio_create_fn *st_sio_create = sio_uring_create;

static uint32_t
st_bucket_of(uint64_t h, uint32_t slots)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (uint32_t)h & (slots - 1);
}

static uint32_t
st_bucket(const struct st_worker *w, const uint8_t topic_id[16], int32_t partition)
{
	return st_bucket_of(st_hash(topic_id, partition), w->table_slots);
}

struct plog *
st_worker_find(struct st_worker *w, const uint8_t topic_id[16], int32_t partition)
{
	struct plog *plog = w->table[st_bucket(w, topic_id, partition)];

	while (plog != NULL && (plog->partition != partition ||
				memcmp(plog->topic_id, topic_id, 16) != 0))
		plog = plog->hash_next;
	return plog;
}

/* Double the table once it holds more plogs than buckets, so a lookup
 * stays one or two compares at any partition count. On failure the chains
 * only get longer. */
static void
st_table_grow(struct st_worker *w)
{
	uint32_t slots = w->table_slots * 2, b;
	struct plog **table, *plog;

	if (slots == 0 || (table = calloc(slots, sizeof(*table))) == NULL)
		return;
	for (b = 0; b < w->table_slots; b++) {
		while ((plog = w->table[b]) != NULL) {
			uint32_t nb = st_bucket_of(st_hash(plog->topic_id, plog->partition), slots);

			w->table[b] = plog->hash_next;
			plog->hash_next = table[nb];
			table[nb] = plog;
		}
	}
	free(w->table);
	w->table = table;
	w->table_slots = slots;
	w->sweep_bucket = 0;
}

static void
st_table_insert(struct st_worker *w, struct plog *plog)
{
	uint32_t b;

	if (w->plog_count >= w->table_slots)
		st_table_grow(w);
	b = st_bucket(w, plog->topic_id, plog->partition);
	plog->hash_next = w->table[b];
	w->table[b] = plog;
	w->plog_count++;
}

/* Put plog on the tick's list if plog_timed() says it has timed work. */
static void
st_timed_update(struct st_worker *w, struct plog *plog)
{
	if (plog->timed || !plog_timed(plog))
		return;
	plog->timed = true;
	plog->timed_prev = NULL;
	plog->timed_next = w->timed;
	if (w->timed != NULL)
		w->timed->timed_prev = plog;
	w->timed = plog;
}

static void
st_timed_remove(struct st_worker *w, struct plog *plog)
{
	if (!plog->timed)
		return;
	if (plog->timed_prev != NULL)
		plog->timed_prev->timed_next = plog->timed_next;
	else
		w->timed = plog->timed_next;
	if (plog->timed_next != NULL)
		plog->timed_next->timed_prev = plog->timed_prev;
	plog->timed = false;
	plog->timed_next = NULL;
	plog->timed_prev = NULL;
}

/* ---- completions ---- */

void
st_cpl_fill(struct st_cpl *cpl, struct plog *plog, uint8_t type, int32_t partition,
	    uint64_t token)
{
	memset(cpl, 0, sizeof(*cpl));
	cpl->type = type;
	cpl->partition = partition;
	cpl->token = token;
	cpl->log_start_offset = plog != NULL ? plog->log_start_offset : -1;
	cpl->high_watermark = plog != NULL ? plog_hw_visible(plog) : -1;
	cpl->last_stable_offset = plog != NULL ? plog_lso(plog) : -1;
}

/* Full policy of the completion ring (worker -> core): wait for room. A
 * completion can be neither dropped (a request would never end) nor kept
 * here unbounded; the core reaps every loop turn and never waits on us, so
 * a full ring drains soon: wake it and retry. The ring holds twice the
 * request ring, so this is rare. */
static void
st_post(struct st_worker *w, int core, const struct st_cpl *cpl)
{
	int fd = w->st->core_wake_fds[core];

	while (!spsc_push_st_cpl(&w->cpl[core], cpl)) {
		if (atomic_load(&w->stop))
			return;         /* shutting down: no core will reap it */
		if (fd >= 0)
			efd_kick(fd);
		sched_yield();
	}
	w->core_wake[core] = true;
}

/* Record the worker's stages of an append that was written (not a
 * duplicate, not failed) and return when it was done (durable for acks=all,
 * landed for acks=1), 0 when nothing was recorded. An acks=all append the
 * sync path did not stamp (plog_append_sync_stamp()) takes the plog's sync
 * start and this turn's reap: the sync that just completed covered it. */
static uint64_t
st_append_stages(struct st_worker *w, const struct plog *plog, struct plog_append *app)
{
	int acks = app->acks;

	if (app->error != 0 || app->t_valid_ns == 0 || app->t_landed_ns == 0 ||
	    stage_acks_of(acks) == STAGE_ACKS_NONE)
		return 0;
	stage_add(&w->stages, acks, STAGE_QUEUE, app->t_valid_ns, app->t_pick_ns);
	stage_add(&w->stages, acks, STAGE_ISSUE, app->t_pick_ns, app->t_write_ns);
	stage_add(&w->stages, acks, STAGE_WRITE, app->t_write_ns, app->t_landed_ns);
	if (acks != -1)
		return app->t_landed_ns;
	if (app->t_sync_done_ns == 0)
		plog_append_sync_stamp(app, plog->sync_t0_ns, MAX(w->reap_ns, plog->sync_t0_ns));
	stage_add(&w->stages, acks, STAGE_SYNC_WAIT, app->t_landed_ns, app->t_sync_submit_ns);
	stage_add(&w->stages, acks, STAGE_FSYNC, app->t_sync_submit_ns, app->t_sync_done_ns);
	return app->t_sync_done_ns;
}

static void
st_append_done(void *ctx, struct plog *plog, struct plog_append *app)
{
	struct st_worker *w = ctx;
	struct st_cpl cpl;
	bool ok;

	st_cpl_fill(&cpl, plog, ST_REQ_APPEND, plog->partition, app->token);
	cpl.error = app->error;
	/* REQUEST_TIMED_OUT keeps its offsets (plog_append_complete()). */
	ok = app->error == 0 || app->error == KP_ERR_REQUEST_TIMED_OUT;
	cpl.append.base_offset = ok ? app->base_offset : -1;
	cpl.append.log_append_time = ok ? app->log_append_time : -1;
	cpl.append.t_done_ns = st_append_stages(w, plog, app);
	if (app->error == KP_ERR_KAFKA_STORAGE_ERROR)
		st_worker_io_failed(w, plog);
	st_post(w, app->core, &cpl);
	w->apps_used--;
	app->next = w->app_free;
	w->app_free = app;
}

static void
st_watch_done(void *ctx, struct plog *plog, struct plog_watch *w_)
{
	struct st_worker *w = ctx;
	struct st_cpl cpl;

	if (w_->offset >= 0 || w_->offset == PLOG_WATCH_GONE) {
		st_cpl_fill(&cpl, plog, ST_REQ_WATCH, plog->partition, w_->token);
		if (w_->offset == PLOG_WATCH_GONE)
			cpl.error = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		st_post(w, w_->core, &cpl);
	}
	w_->next = w->watch_free;
	w->watch_free = w_;
}

/* A plog that could not issue for want of descriptors: retried after the
 * next completions (st_worker_main). */
static void
st_blocked(void *ctx, struct plog *plog)
{
	struct st_worker *w = ctx;

	if (plog->dirty)
		return;
	plog->dirty = true;
	plog->dirty_next = w->blocked;
	w->blocked = plog;
}

static const struct plog_ops st_plog_ops = { st_append_done, st_watch_done, st_blocked };

/* ---- requests ---- */

/* Where the data of region r ends (the offset after its last batch),
 * capped by limit. */
static int64_t
st_read_upper(struct plog *plog, const struct plog_region *r, int64_t limit)
{
	struct rbatch_header h;
	int64_t end = r->seg->next_offset;

	if (r->pos + r->len < r->seg->size && segment_log_pin(r->seg) == 0) {
		if (segment_batch_at(plog->sio, r->seg, r->pos + r->len, r->seg->size, &h) == 0)
			end = h.base_offset;
		segment_log_unpin(r->seg);
	}
	return MIN(end, limit);
}

/* A read_committed read: the aborted transactions overlapping the data
 * of r into a list for the core. Too many: r shrinks to its first batch
 * and they are collected again. 0 or a Kafka error. */
static int16_t
st_read_aborted(struct st_worker *w, struct plog *plog, int64_t offset, struct plog_region *r,
		int64_t limit, struct st_cpl *cpl)
{
	struct txn_aborted_list out = { .max = ST_ABORTED_MAX };
	struct rbatch_header h;
	int rc;

	if (w->aborted_buf == NULL &&
	    (w->aborted_buf = malloc(ST_ABORTED_MAX * sizeof(*w->aborted_buf))) == NULL)
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	out.e = w->aborted_buf;
	rc = plog_txn_collect(plog, offset, st_read_upper(plog, r, limit), &out);
	if (rc == -ENOBUFS && segment_log_pin(r->seg) == 0) {
		if (segment_batch_at(plog->sio, r->seg, r->pos, r->seg->size, &h) == 0 &&
		    rbatch_total_bytes(&h) < r->len)
			r->len = (int32_t)rbatch_total_bytes(&h);
		segment_log_unpin(r->seg);
		out.count = 0;
		rc = plog_txn_collect(plog, offset, st_read_upper(plog, r, limit), &out);
	}
	if (rc < 0)
		return rc == -ENOBUFS ? KP_ERR_UNKNOWN_SERVER_ERROR : KP_ERR_KAFKA_STORAGE_ERROR;
	if (out.count == 0)
		return 0;
	cpl->read.aborted = malloc(out.count * sizeof(*cpl->read.aborted));
	if (cpl->read.aborted == NULL)
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	for (uint32_t i = 0; i < out.count; i++)
		cpl->read.aborted[i] = (struct st_aborted_txn){
			.producer_id = out.e[i].producer_id, .first_offset = out.e[i].first_offset,
		};
	cpl->read.aborted_count = out.count;
	return 0;
}

static void
st_req_read(struct st_worker *w, struct plog *plog, int core, const struct st_req *req,
	    struct st_cpl *cpl)
{
	struct plog_region r;
	int64_t limit = plog_hw_visible(plog);
	bool committed = req->read.isolation == 1;
	uint32_t ref;

	cpl->read.fd = -1;
	cpl->read.ref = ST_REF_NONE;
	/* A follower's fetch (cluster mode): its log end, read to ours. */
	if (plog->repl != NULL && req->read.replica_id >= 0) {
		if (!plog->repl->role.leader) {
			cpl->error = KP_ERR_NOT_LEADER_OR_FOLLOWER;
			return;
		}
		/* Out of range: no position to record (Kafka's leader answers
		 * OFFSET_OUT_OF_RANGE without updating the follower). */
		if (req->read.offset >= plog->log_start_offset &&
		    req->read.offset <= plog->next_offset)
			plog_repl_fetch(plog, req->read.replica_id, req->read.offset,
					clock_wall_ms());
		limit = plog->hw;
		committed = false;
		cpl->high_watermark = plog_hw_visible(plog);
		cpl->last_stable_offset = plog_lso(plog);
	} else if (req->read.replica_id == ST_READ_LOG_END) {
		limit = plog->hw;               /* the landed log end */
		committed = false;
		cpl->high_watermark = limit;
	} else if (committed) {
		limit = cpl->last_stable_offset;        /* Kafka's FetchTxnCommitted */
	}
	cpl->error = plog_read_to(plog, req->read.offset, req->read.max_bytes, limit, &r);
	if (cpl->error == KP_ERR_KAFKA_STORAGE_ERROR)
		st_worker_io_failed(w, plog);
	if (cpl->error == 0 && r.len > 0 && committed)
		cpl->error = st_read_aborted(w, plog, req->read.offset, &r, limit, cpl);
	if (cpl->error != 0 || r.len == 0)
		return;
	ref = w->ref_free;
	if (ref == ST_REF_NONE || segment_hold(r.seg) < 0) {
		cpl->error = KP_ERR_KAFKA_STORAGE_ERROR;
		free(cpl->read.aborted);
		cpl->read.aborted = NULL;
		cpl->read.aborted_count = 0;
		return;
	}
	w->ref_free = w->refs[ref].next_free;
	w->refs[ref].seg = r.seg;
	cpl->read.fd = r.seg->fd;
	cpl->read.pos = r.pos;
	cpl->read.len = r.len;
	cpl->read.ref = ref;
	plog->bytes_out += (uint64_t)r.len;
	(void)core;
}

static void
st_req_release(struct st_worker *w, uint32_t ref)
{
	ASSERT(ref < ST_REFS_MAX);
	ASSERT(w->refs[ref].seg != NULL);
	segment_release(w->refs[ref].seg);
	w->refs[ref].seg = NULL;
	w->refs[ref].next_free = w->ref_free;
	w->ref_free = ref;
}

static void
st_req_append(struct st_worker *w, struct plog *plog, int core, const struct st_req *req)
{
	struct plog_append *app = w->app_free;

	ASSERT(app != NULL);            /* st_drain_core checks before popping */
	w->app_free = app->next;
	w->apps_used++;
	memset(app, 0, sizeof(*app));
	app->batch = req->append.batch;
	app->len = req->append.len;
	app->acks = req->acks;
	app->flags = req->flags;
	app->timeout_ms = MAX(req->append.timeout_ms, 0);
	if (app->flags & ST_APPEND_REPLICA)
		app->acks = 1;          /* a follower's: done once landed */
	app->token = req->token;
	app->core = core;
	app->t_valid_ns = req->append.t_valid_ns;
	/* The turn may have begun before the core pushed it: the queue stage
	 * ends no earlier than it started. */
	app->t_pick_ns = MAX(w->turn_ns, app->t_valid_ns);
	if (plog_append(plog, app) && !plog->dirty) {
		plog->dirty = true;
		plog->dirty_next = w->dirty;
		w->dirty = plog;
	}
}

static void
st_req_watch(struct st_worker *w, struct plog *plog, int core, const struct st_req *req)
{
	struct plog_watch *wt = w->watch_free;
	struct st_cpl cpl;

	if (wt == NULL) {               /* pool exhausted: wake now, the core re-checks */
		st_cpl_fill(&cpl, plog, ST_REQ_WATCH, req->partition, req->token);
		st_post(w, core, &cpl);
		return;
	}
	w->watch_free = wt->next;
	memset(wt, 0, sizeof(*wt));
	wt->offset = req->watch.offset;
	wt->replica = plog->repl != NULL && req->watch.replica_id >= 0;
	wt->deadline_ns = req->watch.deadline_ns;
	wt->token = req->token;
	wt->core = core;
	plog_watch(plog, wt);
}

static void
st_req_lookup(struct plog *plog, const struct st_req *req, struct st_cpl *cpl)
{
	if (req->type == ST_REQ_OFFSET) {
		cpl->error = plog_read_offset(plog, req->offset.timestamp, &cpl->offset.offset,
					      &cpl->offset.timestamp);
		/* READ_COMMITTED (Partition.fetchOffsetForTimestamp): LATEST is
		 * the LSO, and a lookup finds nothing at or past it. */
		if (req->offset.isolation == 1 && req->offset.timestamp == ST_OFFSET_LATEST) {
			cpl->offset.offset = cpl->last_stable_offset;
		} else if (req->offset.isolation == 1 &&
			   req->offset.timestamp != ST_OFFSET_EARLIEST &&
			   cpl->offset.offset >= cpl->last_stable_offset) {
			cpl->offset.offset = -1;
			cpl->offset.timestamp = -1;
		}
		cpl->offset.leader_epoch = plog_epochs_for_offset(plog, cpl->offset.offset);
	} else {
		plog_read_epoch_end(plog, req->epoch.leader_epoch, &cpl->epoch.leader_epoch,
				    &cpl->epoch.end_offset);
	}
}

/* The list goes to the core, which frees it: DescribeProducers is an admin
 * request, so one allocation per partition asked is fine here. */
static void
st_req_producers(struct plog *plog, struct st_cpl *cpl)
{
	size_t n = pstate_producer_count(plog->ps);

	cpl->producers.list = NULL;
	cpl->producers.count = 0;
	if (n == 0)
		return;
	cpl->producers.list = malloc(n * sizeof(*cpl->producers.list));
	if (cpl->producers.list == NULL) {
		cpl->error = KP_ERR_UNKNOWN_SERVER_ERROR;
		return;
	}
	cpl->producers.count = (uint32_t)pstate_list(plog->ps, cpl->producers.list, n);
}

/* No plog answers, or its dir is offline. As Kafka 3.9's
 * ReplicaManager.getPartitionOrError: a log whose dir failed while open is
 * KAFKA_STORAGE_ERROR (HostedPartition.Offline); one never opened because
 * its dir was unusable at start is NOT_LEADER_OR_FOLLOWER (metadata knows
 * it, the broker hosts no log for it); else unknown. */
static int16_t
st_missing_error(struct st_worker *w, const struct plog *plog, const struct st_req *req)
{
	if (plog != NULL)
		return KP_ERR_KAFKA_STORAGE_ERROR;
	if (w->offline_count > 0 && st_worker_offline_has(w, req->topic_id, req->partition))
		return KP_ERR_NOT_LEADER_OR_FOLLOWER;
	return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
}

static void
st_request(struct st_worker *w, int core, const struct st_req *req)
{
	struct plog *plog = st_worker_find(w, req->topic_id, req->partition);
	struct st_cpl cpl;

	if (req->type == ST_REQ_RELEASE) {
		st_req_release(w, req->release.ref);
		return;
	}
	if (plog == NULL || st_dirs_is_offline(&w->st->dirs, plog->dir_index)) {
		st_cpl_fill(&cpl, NULL, req->type, req->partition, req->token);
		cpl.error = st_missing_error(w, plog, req);
		if (req->type == ST_REQ_APPEND)
			cpl.append.base_offset = -1;
		st_post(w, core, &cpl);        /* a WATCH too: its waiter moves on */
		return;
	}
	if (req->type == ST_REQ_APPEND) {
		st_req_append(w, plog, core, req);
		return;
	}
	if (req->type == ST_REQ_WATCH) {
		st_req_watch(w, plog, core, req);
		st_timed_update(w, plog);       /* its deadline needs the tick */
		return;
	}
	if (req->type == ST_REQ_REPLICA_HW || req->type == ST_REQ_TRUNCATE ||
	    req->type == ST_REQ_TRUNCATE_FULL) {
		st_worker_repl_request(w, plog, req, &cpl);
		st_post(w, core, &cpl);
		return;
	}
	if (req->type == ST_REQ_DELETE_RECORDS) {
		int64_t low;
		int16_t err = plog_delete_records(plog, req->delete_records.offset, &low);

		/* Filled after: the completion carries the new start. */
		st_cpl_fill(&cpl, plog, req->type, req->partition, req->token);
		cpl.error = err;
		if (err != KP_ERR_NONE)
			cpl.log_start_offset = -1;
		st_post(w, core, &cpl);
		return;
	}
	st_cpl_fill(&cpl, plog, req->type, req->partition, req->token);
	if (req->type == ST_REQ_READ)
		st_req_read(w, plog, core, req, &cpl);
	else if (req->type == ST_REQ_PRODUCERS)
		st_req_producers(plog, &cpl);
	else
		st_req_lookup(plog, req, &cpl);
	st_post(w, core, &cpl);
}

static unsigned
st_drain_cores(struct st_worker *w)
{
	struct st_req req;
	unsigned n = 0;
	int core;

	for (core = 0; core < st_ring_count(w->st); core++) {
		while (w->app_free != NULL && spsc_pop_st_req(&w->req[core], &req)) {
			st_request(w, core, &req);
			n++;
		}
	}
	return n;
}

/* ---- admin (control's blocking calls) ---- */

static void
st_table_remove(struct st_worker *w, struct plog *plog)
{
	struct plog **pp = &w->table[st_bucket(w, plog->topic_id, plog->partition)];
	struct plog **dp = &w->dirty;

	while (*pp != plog)
		pp = &(*pp)->hash_next;
	*pp = plog->hash_next;
	ASSERT(w->plog_count > 0);
	w->plog_count--;
	st_timed_remove(w, plog);
	while (*dp != NULL && *dp != plog)
		dp = &(*dp)->dirty_next;
	if (*dp == plog)
		*dp = plog->dirty_next;
	for (dp = &w->blocked; *dp != NULL && *dp != plog;)
		dp = &(*dp)->dirty_next;
	if (*dp == plog)
		*dp = plog->dirty_next;
	plog->dirty = false;
}

/* Let a plog's writes and syncs finish (their completions go out). */
void
st_plog_quiesce(struct st_worker *w, struct plog *plog)
{
	while (!plog_idle(plog)) {
		gsync_kick(&w->gsync);
		sio_wait(w->sio, 1000000);
		sio_reap(w->sio, 256);
	}
}

static int
st_admin_open(struct st_worker *w, const struct st_admin *call, int32_t p)
{
	struct plog_open_args a = {
		.sio = w->sio, .topic_name = call->name,
		.topic_id = call->topic_id, .partition = p, .cfg = call->cfg,
		.ops = &st_plog_ops, .ops_ctx = w, .now_ms = clock_wall_ms(),
		.fc = &w->fcache, .reaper = &w->st->reaper, .create = call->create,
	};
	struct plog *plog = st_worker_find(w, call->topic_id, p);
	int rc;

	int dir;

	if (plog != NULL) {
		plog_configure(plog, call->cfg);
		return 0;
	}
	if (st_worker_offline_has(w, call->topic_id, p))
		return 0;
	dir = st_worker_dir_of(w, call, p);
	if (dir < 0)
		return dir == -1 ? 0 : dir;     /* -1: recorded as offline */
	a.log_dir = w->st->dirs.paths[dir];
	plog = plog_open(&a, &rc);
	if (plog == NULL)
		return st_worker_dir_open_failed(w, call, p, dir, rc) ? 0 : rc;
	plog->dir_index = dir;
	/* Cluster mode's first role starts its high watermark here: a new
	 * partition's, or one the checkpoint lacks, at 0 (Kafka's). */
	plog->ck_hw = call->create ? 0 : st_hwck_find(w->st, dir, call->name, p);
	if (plog->ck_hw < 0)
		plog->ck_hw = 0;
	plog->sync_hist = &w->fsync_hist;
	if (w->st->cfg.flush_mode != ST_FLUSH_FDATASYNC)
		plog->gs = &w->gsync;
	st_table_insert(w, plog);
	return 0;
}

static void
st_admin_delete(struct st_worker *w, const struct st_admin *call, int32_t p)
{
	struct plog *plog = st_worker_find(w, call->topic_id, p);
	char dir[SEGMENT_PATH_MAX];

	if (plog != NULL) {
		st_table_remove(w, plog);
		st_plog_quiesce(w, plog);
		st_dirs_unplace(&w->st->dirs, plog->dir_index);
		plog_delete(plog, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
		return;
	}
	/* Not open here (a create that failed before opening it, or a
	 * directory never opened since start): remove whatever is there, in
	 * any live dir. */
	st_worker_offline_drop(w, call->topic_id, p);
	for (int i = 0; i < w->st->dirs.count; i++) {
		if (st_dirs_is_offline(&w->st->dirs, i))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s-%d", w->st->dirs.paths[i], call->name, (int)p);
		(void)logdir_trash(w->sio, &w->st->reaper, dir);
	}
}

static void
st_stats_partition(struct st_worker *w, const struct plog *plog, struct st_partition_stats *ps)
{
	memset(ps, 0, sizeof(*ps));
	memcpy(ps->topic_id, plog->topic_id, sizeof(ps->topic_id));
	ps->partition = plog->partition;
	ps->worker = w->index;
	ps->dir = plog->dir_index;
	ps->log_start_offset = plog->log_start_offset;
	ps->log_end_offset = plog->hw;
	for (uint32_t i = 0; i < plog->seg_count; i++)
		ps->size_bytes += plog->segs[i]->size;
	ps->segment_count = plog->seg_count;
	ps->bytes_in = plog->bytes_in;
	ps->records_in = plog->records_in;
	ps->bytes_out = plog->bytes_out;
}

/* ST_ADMIN_STATS: the worker's own statistics, and up to ST_STATS_BATCH
 * partitions from the cursor (bucket, plogs of it already taken) on. The
 * table order is stable while control, the only one opening and deleting,
 * collects; the cursor makes a whole collection linear in the partitions. */
static void
st_admin_stats(struct st_worker *w, struct st_admin *call)
{
	struct st_worker_stats *ws = call->wstats;
	struct plog *plog;
	uint32_t b, k;

	memset(ws, 0, sizeof(*ws));
	ws->worker = w->index;
	ws->partitions = w->plog_count;
	ws->appends_inflight = w->apps_used;
	for (int core = 0; core < st_ring_count(w->st); core++)
		ws->queued += spsc_count(&w->req[core]);
	ws->files_open = w->fcache.fds_open;
	ws->files_max = w->fcache.fds_max;
	ws->maps_open = w->fcache.maps_open;
	ws->file_opens = w->fcache.misses;
	ws->file_evictions = w->fcache.evictions;
	ws->fsync = w->fsync_hist;
	ws->flush_rounds = w->gsync.rounds;
	ws->flush_syncfs = w->gsync.syncfs_count;
	ws->flush_partitions = w->gsync.plogs_synced;
	ws->stages = w->stages;
	call->stats_count = 0;
	call->stats_done = false;
	for (b = call->stats_bucket; b < w->table_slots; b++) {
		k = 0;
		for (plog = w->table[b]; plog != NULL; plog = plog->hash_next, k++) {
			if (b == call->stats_bucket && k < call->stats_skip)
				continue;
			if (call->stats_count == ST_STATS_BATCH) {
				call->stats_bucket = b;
				call->stats_skip = k;
				return;
			}
			st_stats_partition(w, plog, &call->stats[call->stats_count++]);
		}
	}
	call->stats_done = true;
}

/* ST_ADMIN_CLEANER_LIST: every compacted plog with closed segments, as
 * the cleaner must see them (a copy: the cleaner thread reads it). */
static int
st_admin_cleaner_target(struct plog *plog, struct cleaner_target *t)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->topic_id, plog->topic_id, 16);
	t->partition = plog->partition;
	t->cfg = plog->cfg;
	t->dir = strdup(plog->dir);
	t->seg_count = plog_txn_cleanable(plog);
	t->segs = calloc(t->seg_count > 0 ? t->seg_count : 1, sizeof(*t->segs));
	if (t->dir == NULL || t->segs == NULL) {
		free(t->dir);
		free(t->segs);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < t->seg_count; i++) {
		const struct segment *seg = plog->segs[i];

		t->segs[i].base_offset = seg->base_offset;
		t->segs[i].next_offset = seg->next_offset;
		t->segs[i].size = seg->size;
		t->segs[i].max_timestamp = seg->max_timestamp;
	}
	t->active_base = plog_active(plog)->base_offset;
	return 0;
}

/* Its dir is offline: no background work (retention, cleaning) on it. */
static bool
st_plog_offline(struct st_worker *w, const struct plog *plog)
{
	return st_dirs_is_offline(&w->st->dirs, plog->dir_index);
}

static void
st_admin_cleaner_list(struct st_worker *w, struct st_admin *call)
{
	struct plog *plog;
	uint32_t b, n = 0;

	call->targets = NULL;
	call->target_count = 0;
	for (b = 0; b < w->table_slots; b++)
		for (plog = w->table[b]; plog != NULL; plog = plog->hash_next)
			n += plog->cfg.compact && plog->seg_count > 1;
	if (n == 0 || (call->targets = calloc(n, sizeof(*call->targets))) == NULL) {
		call->result = n == 0 ? 0 : -ENOMEM;
		return;
	}
	for (b = 0; b < w->table_slots; b++)
		for (plog = w->table[b]; plog != NULL; plog = plog->hash_next)
			if (plog->cfg.compact && plog->seg_count > 1 &&
			    call->target_count < n && !st_plog_offline(w, plog) &&
			    st_admin_cleaner_target(plog, &call->targets[call->target_count]) == 0)
				call->target_count++;
	call->result = 0;
}

static bool
st_clean_known(void *arg, const char *topic, int32_t partition)
{
	const struct st_admin *call = arg;

	return call->known(call->known_arg, topic, partition);
}

void
st_worker_admin(struct st_worker *w, struct st_admin *call)
{
	struct plog *plog;
	int32_t p;
	int rc = 0;

	if (call->type == ST_ADMIN_STATS) {
		call->from = call->to = 0;
		st_admin_stats(w, call);
	}
	if (call->type == ST_ADMIN_CLEANER_LIST) {
		st_admin_cleaner_list(w, call);
		rc = call->result;
		call->from = call->to = 0;
	}
	if (call->type == ST_ADMIN_CLEANER_SWAP) {
		plog = st_worker_find(w, call->topic_id, call->from);
		rc = plog == NULL ? -ENOENT
				  : cleaner_swap_plog(plog, call->swap_base,
						      call->swap_max_timestamp, clock_wall_ms());
		call->from = call->to = 0;
	}
	if (call->type == ST_ADMIN_LEADERS) {
		rc = st_worker_leaders(w, call);
		call->from = call->to = 0;
	}
	if (call->type == ST_ADMIN_HWS) {
		rc = st_worker_hws(w, call);
		call->from = call->to = 0;
	}
	if (call->type == ST_ADMIN_CLEAN) {
		struct logdir_clean_stats cs;

		call->from = call->to = 0;
		for (int i = 0; i < w->st->dirs.count && rc == 0; i++)
			if (!st_dirs_is_offline(&w->st->dirs, i))
				rc = logdir_clean(w->sio, &w->st->reaper, w->st->dirs.paths[i],
						  st_clean_known, call, &cs);
	}
	for (p = call->from; p < call->to; p++) {
		if (st_worker_of(w->st, call->topic_id, p) != w->index)
			continue;
		if (call->type == ST_ADMIN_OPEN) {
			int r = st_admin_open(w, call, p);

			rc = rc == 0 ? r : rc;
			if (rc != 0 && call->create)
				break;          /* st_partitions_create undoes the range */
		} else if (call->type == ST_ADMIN_ROLE) {
			rc = st_worker_role(w, call, p);
		} else if (call->type == ST_ADMIN_DELETE) {
			st_admin_delete(w, call, p);
		} else if ((plog = st_worker_find(w, call->topic_id, p)) != NULL) {
			plog_configure(plog, call->cfg);
		}
	}
	call->result = rc;
	/* Release pairs with st_admin_wait()'s acquire load. */
	atomic_store_explicit(&call->done, 1, memory_order_release);
	syscall(SYS_futex, &call->done, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static unsigned
st_drain_admin(struct st_worker *w)
{
	struct st_admin_msg msg;
	unsigned n = 0;

	while (spsc_pop_st_admin_msg(&w->admin, &msg)) {
		st_worker_admin(w, msg.call);
		n++;
	}
	/* The cleaner's calls: a list or one swap at a time (it waits). */
	while (spsc_pop_st_admin_msg(&w->cleaner_ring, &msg)) {
		st_worker_admin(w, msg.call);
		n++;
	}
	return n;
}

/* ---- the loop ---- */

/* Every tick: the plogs with timed work (watch deadlines, flush.ms), and a
 * slice of the table for the sweep (retention, producer expiry), so the
 * cost of a tick follows what is waiting, not how many partitions exist. */
static void
st_tick(struct st_worker *w, uint64_t now_ns)
{
	int64_t now_ms = clock_wall_ms();
	uint32_t b, slice = MAX(w->table_slots / ST_SWEEP_TICKS, 1u);
	struct plog *plog, *next;

	w->next_tick_ns = now_ns + ST_TICK_NS;
	for (plog = w->timed; plog != NULL; plog = next) {
		next = plog->timed_next;
		plog_tick(plog, now_ms, now_ns);
		if (!plog_timed(plog))
			st_timed_remove(w, plog);
	}
	for (b = 0; b < slice; b++) {
		for (plog = w->table[w->sweep_bucket]; plog != NULL; plog = plog->hash_next)
			if (!st_plog_offline(w, plog))
				plog_sweep(plog, now_ms);
		w->sweep_bucket = (w->sweep_bucket + 1) & (w->table_slots - 1);
	}
}

static void
st_issue_dirty(struct st_worker *w)
{
	int64_t now_ms = clock_wall_ms();
	struct plog *plog;

	while ((plog = w->dirty) != NULL) {
		w->dirty = plog->dirty_next;
		plog->dirty = false;
		if (plog_append_issue(plog, now_ms))
			st_blocked(w, plog);
		st_timed_update(w, plog);
	}
}

/* Completions gave descriptors back: blocked plogs try again next turn. */
static void
st_unblock(struct st_worker *w)
{
	struct plog *plog;

	while ((plog = w->blocked) != NULL) {
		w->blocked = plog->dirty_next;
		plog->dirty_next = w->dirty;
		w->dirty = plog;
	}
}

static void
st_wake_cores(struct st_worker *w)
{
	int core, fd;

	for (core = 0; core < st_ring_count(w->st); core++) {
		if (!w->core_wake[core])
			continue;
		w->core_wake[core] = false;
		fd = w->st->core_wake_fds[core];
		if (fd >= 0)
			efd_kick(fd);
	}
}

void
st_worker_wake(struct st_worker *w)
{
	atomic_store(&w->sleeping, 0);
	efd_kick(w->event_fd);
}

static void
st_event_done(struct sio_op *op, int res)
{
	struct st_worker *w = op->ctx;

	(void)res;
	w->event_armed = false;
}

static bool
st_rings_empty(struct st_worker *w)
{
	int core;

	if (spsc_count(&w->admin) > 0 || spsc_count(&w->cleaner_ring) > 0)
		return false;
	for (core = 0; core < st_ring_count(w->st); core++)
		if (spsc_count(&w->req[core]) > 0 && w->app_free != NULL)
			return false;
	return true;
}

static void
st_sleep(struct st_worker *w, uint64_t now_ns)
{
	if (!w->event_armed) {
		w->event_op.done = st_event_done;
		w->event_op.ctx = w;
		w->event_armed = true;
		sio_read(w->sio, &w->event_op, w->event_fd, &w->event_buf, 8, 0);
	}
	atomic_store(&w->sleeping, 1);
	/* Pairs with the fence in st_flush(): see the rings after announcing
	 * sleep, or the core sees us asleep and writes the eventfd. */
	atomic_thread_fence(memory_order_seq_cst);
	if (st_rings_empty(w) && !atomic_load(&w->stop))
		sio_wait(w->sio, w->next_tick_ns > now_ns ? w->next_tick_ns - now_ns : 1);
	atomic_store(&w->sleeping, 0);
}

void *
st_worker_main(void *arg)
{
	struct st_worker *w = arg;
	unsigned work, reaped;
	uint64_t now_ns;
	cpu_set_t set;
	char name[16];

	snprintf(name, sizeof(name), "st-worker-%d", w->index);
	pthread_setname_np(pthread_self(), name);
	if (w->cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	while (!atomic_load(&w->stop)) {
		now_ns = clock_mono_ns();
		w->turn_ns = now_ns;
		work = st_drain_admin(w) + st_drain_cores(w);
		st_issue_dirty(w);
		if (now_ns >= w->next_tick_ns)
			st_tick(w, now_ns);
		sio_submit(w->sio);
		w->reap_ns = clock_mono_ns();
		reaped = sio_reap(w->sio, 256);
		if (reaped > 0)
			st_unblock(w);
		work += reaped;
		/* Every partition whose acks=all write landed this turn (or
		 * whose flush policy asks) shares one flush. */
		gsync_kick(&w->gsync);
		st_wake_cores(w);
		if (work == 0)
			st_sleep(w, now_ns);
	}
	return NULL;
}

int
st_worker_init(struct st_worker *w, struct st *st, int index)
{
	size_t rings = (size_t)st_ring_count(st);
	size_t pool = rings * st->cfg.ring_slots * 2;
	int i, rc = 0;
	size_t k;

	/* A blocking eventfd: io_uring returns -EAGAIN for O_NONBLOCK files
	 * instead of waiting. */
	memset(w, 0, sizeof(*w));
	w->st = st;
	w->index = index;
	w->event_fd = eventfd(0, EFD_CLOEXEC);
	w->sio = st_sio_create(ST_URING_ENTRIES, &rc);
	w->req = calloc(rings, sizeof(*w->req));
	w->cpl = calloc(rings, sizeof(*w->cpl));
	w->core_wake = calloc(rings, sizeof(bool));
	w->apps = calloc(pool, sizeof(*w->apps));
	w->watches = calloc(pool, sizeof(*w->watches));
	w->refs = calloc(ST_REFS_MAX, sizeof(*w->refs));
	w->table_slots = ST_TABLE_SLOTS;
	w->table = calloc(w->table_slots, sizeof(*w->table));
	fcache_init(&w->fcache, st->fds_per_worker, st->maps_per_worker);
	gsync_init(&w->gsync, w->sio,
		   st->cfg.flush_mode == ST_FLUSH_SYNCFS ? GSYNC_SYNCFS : GSYNC_AUTO,
		   &w->fsync_hist);
	if (w->event_fd < 0 || w->sio == NULL || w->req == NULL || w->cpl == NULL ||
	    w->core_wake == NULL || w->apps == NULL || w->watches == NULL || w->refs == NULL ||
	    w->table == NULL)
		return rc < 0 ? rc : -ENOMEM;
	rc = spsc_init(&w->admin, 64, sizeof(struct st_admin_msg));
	if (rc == 0)
		rc = spsc_init(&w->cleaner_ring, 4, sizeof(struct st_admin_msg));
	for (i = 0; rc == 0 && i < (int)rings; i++) {
		rc = spsc_init(&w->req[i], st->cfg.ring_slots, sizeof(struct st_req));
		if (rc == 0)
			rc = spsc_init(&w->cpl[i], st->cfg.ring_slots * 2, sizeof(struct st_cpl));
	}
	for (k = 0; k < pool; k++) {
		w->apps[k].next = w->app_free;
		w->app_free = &w->apps[k];
		w->watches[k].next = w->watch_free;
		w->watch_free = &w->watches[k];
	}
	for (k = 0; k < ST_REFS_MAX; k++)
		w->refs[k].next_free = k + 1 < ST_REFS_MAX ? (uint32_t)k + 1 : ST_REF_NONE;
	w->ref_free = 0;
	return rc;
}

void
st_worker_fini(struct st_worker *w)
{
	struct plog *plog;
	unsigned b;
	int i;

	for (b = 0; w->table != NULL && b < w->table_slots; b++) {
		while ((plog = w->table[b]) != NULL) {
			w->table[b] = plog->hash_next;
			st_plog_quiesce(w, plog);
			plog_close(plog, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
		}
	}
	for (i = 0; w->refs != NULL && i < ST_REFS_MAX; i++)
		if (w->refs[i].seg != NULL)
			segment_release(w->refs[i].seg);
	if (w->table != NULL)
		fcache_fini(&w->fcache);
	if (w->sio != NULL)
		sio_destroy(w->sio);
	if (w->event_fd >= 0)
		close(w->event_fd);
	for (i = 0; i < st_ring_count(w->st); i++) {
		if (w->req != NULL)
			spsc_fini(&w->req[i]);
		if (w->cpl != NULL)
			spsc_fini(&w->cpl[i]);
	}
	if (w->admin.slots != NULL)
		spsc_fini(&w->admin);
	if (w->cleaner_ring.slots != NULL)
		spsc_fini(&w->cleaner_ring);
	free(w->req);
	free(w->cpl);
	free(w->core_wake);
	free(w->apps);
	free(w->watches);
	free(w->refs);
	free(w->aborted_buf);
	free(w->table);
	free(w->offline);
}
