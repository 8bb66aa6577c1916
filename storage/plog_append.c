/* SPDX-License-Identifier: Apache-2.0 */
/* The append path of a partition log: queue appends, check producer
 * idempotence, assign offsets and take each turn's batches into one writev
 * from the request memory; when it lands, index the batches, advance the
 * high watermark and complete the appends (acks=all ones after the group
 * commit, plog_sync.c). Never blocks on data IO. */
#include <errno.h>
#include <stdlib.h>

#include "common/assert.h"
#include "common/clock.h"
#include "storage/plog_int.h"
#include "storage/pstate.h"

void
plog_append_complete(struct plog *plog, struct plog_append *app, int16_t error)
{
	app->error = error;
	/* An expired acks=all wait keeps its offsets: the records stay
	 * (Kafka's DelayedProduce answers them with REQUEST_TIMED_OUT). */
	if (error != 0 && error != KP_ERR_REQUEST_TIMED_OUT)
		app->base_offset = -1;
	app->next = NULL;
	plog->ops->append_done(plog->ops_ctx, plog, app);
}

static void
plog_append_push(struct plog_append **head, struct plog_append **tail, struct plog_append *app)
{
	app->next = NULL;
	if (*tail != NULL)
		(*tail)->next = app;
	else
		*head = app;
	*tail = app;
}

bool
plog_append(struct plog *plog, struct plog_append *app)
{
	bool was_empty = plog->pend_head == NULL;

	ASSERT_HOT(app->batch != NULL);
	plog_append_push(&plog->pend_head, &plog->pend_tail, app);
	return was_empty;
}

static struct plog_append *
plog_append_pop(struct plog *plog)
{
	struct plog_append *app = plog->pend_head;

	plog->pend_head = app->next;
	if (plog->pend_head == NULL)
		plog->pend_tail = NULL;
	app->next = NULL;
	return app;
}

static bool
plog_append_need_roll(const struct plog *plog, const struct rbatch_header *h, uint32_t len)
{
	const struct segment *seg = plog_active(plog);
	int64_t last = plog->next_offset + h->last_offset_delta;

	if (plog->write_pos == 0)
		return false;
	return plog->write_pos + len > plog->cfg.segment_bytes ||
	       plog->now_ms - seg->created_ms > plog->cfg.segment_ms ||
	       segment_index_full(&seg->oidx) || segment_index_full(&seg->tidx) ||
	       last - seg->base_offset > INT32_MAX;
}

/* Idempotence: true when the batch was completed here (duplicate/reject). */
static bool
plog_append_check_producer(struct plog *plog, struct plog_append *app,
			   const struct rbatch_header *h)
{
	struct pstate_dup dup;
	enum pstate_verdict v;
	int32_t last_seq;
	int16_t error = 0;

	if (h->producer_id < 0)
		return false;
	last_seq = (int32_t)(((int64_t)h->base_sequence + h->last_offset_delta) % 2147483648LL);
	v = pstate_check(plog->ps, h->producer_id, h->producer_epoch, h->base_sequence, last_seq,
			 &dup, &error);
	if (v == PSTATE_APPEND)
		return false;
	plog_append_pop(plog);
	if (v == PSTATE_DUPLICATE) {
		app->base_offset = dup.base_offset;
		app->end_offset = dup.base_offset + h->last_offset_delta + 1;
		app->log_append_time = dup.timestamp;
		/* acks=all: the original may still wait for the ISR; so does its
		 * retry, as Kafka's DelayedProduce waits on its offsets. */
		if (plog->repl != NULL && app->acks == -1)
			plog_repl_synced(plog, app);
		else
			plog_append_complete(plog, app, 0);
	} else {
		plog_append_complete(plog, app, error);
	}
	return true;
}

/* A follower's append of the leader's batch: producer state recorded
 * without the sequence checks, a newer partition leader epoch raises the
 * epoch cache (persisted before the batch is written). */
static void
plog_append_assign_replica(struct plog *plog, struct plog_append *app,
			   const struct rbatch_header *h)
{
	int32_t last_seq;

	if (h->partition_leader_epoch > plog_epochs_latest(plog))
		(void)plog_epochs_assign(plog, h->partition_leader_epoch, app->base_offset);
	if (h->producer_id >= 0 && !(h->attributes & RBATCH_ATTR_CONTROL)) {
		last_seq = (int32_t)(((int64_t)h->base_sequence + h->last_offset_delta) %
				     2147483648LL);
		(void)pstate_record(plog->ps, h->producer_id, h->producer_epoch, h->base_sequence,
				    last_seq, app->base_offset, app->end_offset - 1,
				    h->max_timestamp);
	}
	plog_txn_assign(plog, app, h);
	plog->next_offset = app->end_offset;
}

/* Cluster mode: the role refuses it (a follower's client append, min
 * ISR), or a replicated batch is not at the log end. True when completed
 * here. */
static bool
plog_append_check_role(struct plog *plog, struct plog_append *app,
		       const struct rbatch_header *h)
{
	int16_t error;

	if (plog->repl == NULL && app->flags == 0)
		return false;
	error = plog_repl_append_check(plog, app);
	if (error == 0 && (app->flags & ST_APPEND_REPLICA) && h->base_offset != plog->next_offset)
		error = KP_ERR_OFFSET_OUT_OF_RANGE;
	if (error == 0)
		return false;
	plog_append_complete(plog, plog_append_pop(plog), error);
	return true;
}

static void
plog_append_assign(struct plog *plog, struct plog_append *app, const struct rbatch_header *h)
{
	int32_t last_seq;
	int64_t ts = h->max_timestamp;

	app->base_offset = plog->next_offset;
	app->end_offset = plog->next_offset + h->last_offset_delta + 1;
	app->log_append_time = -1;
	if (app->flags & ST_APPEND_REPLICA) {
		/* The leader's batch as it is: offsets, epoch, timestamps. */
		plog_append_assign_replica(plog, app, h);
		return;
	}
	rbatch_set_base_offset(app->batch, app->base_offset);
	rbatch_set_leader_epoch(app->batch,
				plog->repl != NULL ? plog->repl->role.leader_epoch : 0);
	if (plog->cfg.log_append_time) {
		rbatch_set_log_append_time(app->batch, app->len, plog->now_ms);
		app->log_append_time = plog->now_ms;
		ts = plog->now_ms;
	}
	if (h->producer_id >= 0 && !(h->attributes & RBATCH_ATTR_CONTROL)) {
		last_seq = (int32_t)(((int64_t)h->base_sequence + h->last_offset_delta) %
				     2147483648LL);
		/* -ENOMEM only forgets dedup state for this batch. */
		(void)pstate_record(plog->ps, h->producer_id, h->producer_epoch, h->base_sequence,
				    last_seq, app->base_offset, app->end_offset - 1, ts);
	}
	plog_txn_assign(plog, app, h);
	plog->next_offset = app->end_offset;
}


static void plog_append_written(struct sio_op *op, int res);

/* Nothing of the gathered write happened: give back the offsets and the
 * producer state it took and fail its appends. */
static void
plog_append_undo(struct plog *plog)
{
	struct plog_append *app, *next;

	pstate_truncate(plog->ps, plog->wr_first_offset);
	plog->next_offset = plog->wr_first_offset;
	for (app = plog->wr_head; app != NULL; app = next) {
		next = app->next;
		plog_append_complete(plog, app, KP_ERR_KAFKA_STORAGE_ERROR);
	}
	plog->wr_head = NULL;
	plog->wr_tail = NULL;
	plog->iov_count = 0;
}

/* Take queued appends into one writev; false when nothing was taken. */
static bool
plog_append_gather(struct plog *plog)
{
	struct rbatch_header h;
	struct plog_append *app;
	int16_t err;
	int rc;

	while (plog->pend_head != NULL && plog->iov_count < PLOG_IOV_MAX) {
		app = plog->pend_head;
		if (rbatch_header_parse(app->batch, app->len, &h) != 0 ||
		    rbatch_total_bytes(&h) != app->len) {
			plog_append_complete(plog, plog_append_pop(plog), KP_ERR_CORRUPT_MESSAGE);
			continue;
		}
		if (plog_append_check_role(plog, app, &h))
			continue;
		/* A marker has no sequence: only its transaction checks. */
		if (!(app->flags & ST_APPEND_REPLICA) && !(h.attributes & RBATCH_ATTR_CONTROL) &&
		    plog_append_check_producer(plog, app, &h))
			continue;
		err = plog_txn_check(plog, app, &h);
		if (err != 0) {
			plog_append_complete(plog, plog_append_pop(plog), err);
			continue;
		}
		if (plog_append_need_roll(plog, &h, app->len)) {
			if (plog->iov_count > 0)
				break;          /* roll before the next write */
			rc = plog_roll(plog);
			if (rc < 0) {
				plog_append_complete(plog, plog_append_pop(plog),
						     KP_ERR_KAFKA_STORAGE_ERROR);
				continue;
			}
		}
		plog_append_assign(plog, app, &h);
		plog_append_pop(plog);
		plog_append_push(&plog->wr_head, &plog->wr_tail, app);
		plog->iov[plog->iov_count].iov_base = app->batch;
		plog->iov[plog->iov_count].iov_len = app->len;
		plog->iov_count++;
		plog->wr_bytes += app->len;
	}
	return plog->iov_count > 0;
}

/* Put the gathered appends back at the head of the queue, as if never
 * gathered (their offsets and producer state given back). */
static void
plog_append_requeue(struct plog *plog)
{
	pstate_truncate(plog->ps, plog->wr_first_offset);
	plog->next_offset = plog->wr_first_offset;
	if (plog->wr_tail != NULL) {
		plog->wr_tail->next = plog->pend_head;
		if (plog->pend_head == NULL)
			plog->pend_tail = plog->wr_tail;
		plog->pend_head = plog->wr_head;
	}
	plog->wr_head = NULL;
	plog->wr_tail = NULL;
	plog->iov_count = 0;
}

/* The write of wr_head.. goes to the sio now: one clock read for all of
 * them (before the call: a simulated sio may complete it inside). */
static void
plog_append_stamp_write(struct plog *plog)
{
	uint64_t now_ns = clock_mono_ns();

	for (struct plog_append *app = plog->wr_head; app != NULL; app = app->next)
		app->t_write_ns = now_ns;
}

bool
plog_append_issue(struct plog *plog, int64_t now_ms)
{
	int rc;

	plog->now_ms = now_ms;
	while (!plog->write_inflight && plog->pend_head != NULL) {
		plog->iov_count = 0;
		plog->wr_bytes = 0;
		plog->wr_first_offset = plog->next_offset;
		if (!plog_append_gather(plog))
			return false;
		plog->wr_seg = plog_active(plog);
		/* The files stay open while the write is in flight and until
		 * its bookkeeping (indexes) is done. Out of descriptors while
		 * other writes, syncs or sends hold some: wait for them. */
		rc = segment_pin(plog->wr_seg);
		if ((rc == -EMFILE || rc == -ENFILE || rc == -ENOMEM) && plog->fc->fds_open > 0) {
			plog_append_requeue(plog);
			return true;
		}
		if (rc < 0) {
			plog_append_undo(plog);
			continue;
		}
		plog->wr_pos = plog->write_pos;
		plog->write_pos += plog->wr_bytes;
		plog->write_inflight = true;
		plog->write_op.done = plog_append_written;
		plog->write_op.ctx = plog;
		plog->write_count++;
		plog_append_stamp_write(plog);
		sio_writev(plog->sio, &plog->write_op, plog->wr_seg->fd, plog->iov,
			   plog->iov_count, plog->wr_pos);
	}
	return false;
}

/* The write failed or was short: nothing of it counts. Cut the file back
 * to where it started, forget the producer state and offsets it took. */
static void
plog_append_write_failed(struct plog *plog)
{
	(void)sio_ftruncate(plog->sio, plog->wr_seg->fd, plog->wr_pos);
	plog->write_pos = plog->wr_pos;
	plog_append_undo(plog);
}

static void
plog_append_landed(struct plog *plog)
{
	struct plog_append *app, *next;
	struct rbatch_header h;
	int64_t pos = plog->wr_pos;
	uint64_t now_ns = clock_mono_ns();      /* the write's stage end, for all */
	bool need_sync = false;
	int rc;

	for (app = plog->wr_head; app != NULL; app = next) {
		next = app->next;
		app->t_landed_ns = now_ns;
		/* Parsed outside the assert: h is used below at every assert level. */
		rc = rbatch_header_parse(app->batch, app->len, &h);
		ASSERT(rc == 0);        /* the batch was validated before it was queued */
		ASSERT(h.base_offset == app->base_offset);
		segment_batch_landed(plog->wr_seg, &h, pos, plog->cfg.index_interval_bytes);
		plog_txn_landed(plog, plog->wr_seg, app, &h);
		pos += app->len;
		plog->hw = app->end_offset;
		plog->unflushed_messages += h.records_count;
		plog->bytes_in += app->len;
		plog->records_in += (uint64_t)h.records_count;
		if (app->acks == -1) {
			plog_append_push(&plog->sync_head, &plog->sync_tail, app);
			need_sync = true;
		} else {
			plog_append_complete(plog, app, 0);
		}
	}
	ASSERT(pos == plog->write_pos);
	if (plog->repl != NULL)
		plog_repl_leo_moved(plog);
	if (plog->unflushed_messages >= plog->cfg.flush_messages)
		need_sync = true;
	if (need_sync)
		plog_sync(plog);
	plog_watch_check(plog);
}

static void
plog_append_written(struct sio_op *op, int res)
{
	struct plog *plog = op->ctx;

	ASSERT(plog->write_inflight);
	plog->write_inflight = false;
	if (res == plog->wr_bytes)
		plog_append_landed(plog);
	else
		plog_append_write_failed(plog);
	segment_unpin(plog->wr_seg);
	plog->wr_head = NULL;
	plog->wr_tail = NULL;
	plog->iov_count = 0;
	/* Its own descriptor was just unpinned: blocking here is unlikely,
	 * and the owner's next loop turn issues what stays queued. */
	if (plog_append_issue(plog, plog->now_ms) && plog->ops->blocked != NULL)
		plog->ops->blocked(plog->ops_ctx, plog);
}

void
plog_append_drain(struct plog *plog, int16_t error)
{
	while (plog->pend_head != NULL)
		plog_append_complete(plog, plog_append_pop(plog), error);
}
