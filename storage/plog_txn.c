/* SPDX-License-Identifier: Apache-2.0 */
/* Transactions on a partition log's append path: the checks Kafka's
 * LogValidator and ProducerAppendInfo make on transactional and control
 * batches, the producer state a batch or marker changes once it has
 * offsets, the .txnindex entry of an aborted transaction once its marker
 * landed, and the last stable offset. */
#include <errno.h>

#include "common/assert.h"
#include "common/compiler.h"
#include "common/log.h"
#include "storage/plog_int.h"
#include "storage/pstate.h"
#include "storage/txn_marker.h"

int64_t
plog_lso(struct plog *plog)
{
	int64_t hw = plog_hw_visible(plog);
	int64_t first = pstate_first_unstable(plog->ps, hw);

	return first >= 0 ? MIN(first, hw) : hw;
}

uint32_t
plog_txn_cleanable(struct plog *plog)
{
	int64_t lso = plog_lso(plog);
	uint32_t n = 0;

	while (n + 1 < plog->seg_count && plog->segs[n]->next_offset <= lso)
		n++;
	return n;
}

static int16_t
plog_txn_check_marker(struct plog *plog, const struct plog_append *app)
{
	struct txn_marker m;

	/* LogValidator: a client's control batch is INVALID_RECORD. */
	if (!(app->flags & ST_APPEND_MARKER) || !txn_marker_parse(app->batch, app->len, &m) ||
	    m.producer_id < 0)
		return KP_ERR_INVALID_RECORD;
	return pstate_txn_end_check(plog->ps, m.producer_id, m.producer_epoch,
				    m.coordinator_epoch);
}

int16_t
plog_txn_check(struct plog *plog, const struct plog_append *app, const struct rbatch_header *h)
{
	bool txnl = (h->attributes & RBATCH_ATTR_TRANSACTIONAL) != 0;
	int16_t err;

	if (app->flags & ST_APPEND_REPLICA) {
		/* The leader decided: track what it wrote (no room only loses
		 * the tracking, as -ENOMEM loses dedup state). */
		if (txnl)
			(void)pstate_txn_reserve(plog->ps, plog_hw_visible(plog));
		return 0;
	}
	if (h->attributes & RBATCH_ATTR_CONTROL)
		return plog_txn_check_marker(plog, app);
	if (app->flags & ST_APPEND_MARKER)
		return KP_ERR_INVALID_RECORD;
	if (h->producer_id < 0)
		return 0;
	err = pstate_txn_check(plog->ps, h->producer_id, txnl);
	if (err == 0 && txnl && pstate_txn_reserve(plog->ps, plog_hw_visible(plog)) != 0)
		err = KP_ERR_UNKNOWN_SERVER_ERROR;
	return err;
}

void
plog_txn_assign(struct plog *plog, struct plog_append *app, const struct rbatch_header *h)
{
	struct pstate_txn_end end;
	struct txn_marker m;

	app->txn_abort_first = -1;
	app->txn_abort_lso = -1;
	if (h->producer_id < 0 || !(h->attributes & RBATCH_ATTR_TRANSACTIONAL))
		return;
	if (!(h->attributes & RBATCH_ATTR_CONTROL)) {
		(void)pstate_txn_begin(plog->ps, h->producer_id, app->base_offset);
		return;
	}
	/* A replica's control batch that is not a marker Kafka reads is
	 * kept as the leader wrote it, without effect. */
	if (!txn_marker_parse(app->batch, app->len, &m))
		return;
	if (pstate_txn_end(plog->ps, m.producer_id, m.producer_epoch, m.coordinator_epoch,
			   app->base_offset, h->max_timestamp, &end) != 0 ||
	    !end.ended || m.type != TXN_MARKER_ABORT)
		return;
	app->txn_abort_first = end.first_offset;
	app->txn_abort_lso = end.last_stable_offset;
}

void
plog_txn_landed(struct plog *plog, struct segment *seg, const struct plog_append *app,
		const struct rbatch_header *h)
{
	struct txn_aborted txn;
	int rc;

	if (app->txn_abort_first < 0)
		return;
	txn = (struct txn_aborted){
		.producer_id = h->producer_id, .first_offset = app->txn_abort_first,
		.last_offset = app->base_offset, .last_stable_offset = app->txn_abort_lso,
	};
	rc = segment_txn_append(seg, &txn);
	/* Recovery rebuilds the entry from the marker (the active segment's
	 * markers are replayed at every open). */
	if (rc < 0)
		log_warn("storage", "%s: .txnindex entry of the abort at %lld: %d", plog->dir,
			 (long long)app->base_offset, rc);
}
