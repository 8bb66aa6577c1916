/* SPDX-License-Identifier: Apache-2.0 */
/* Cluster mode on a storage worker: control's role and leader-statistics
 * calls, and the replica fetcher's high-watermark and truncation requests
 * (its ring is the one at index core_count). The partition logic is in
 * plog_repl.c, plog_truncate.c and plog_epochs.c. @thread storage */
#include <errno.h>
#include <stdlib.h>

#include "common/clock.h"
#include "storage/st_int.h"

int
st_worker_role(struct st_worker *w, const struct st_admin *call, int32_t p)
{
	struct plog *plog = st_worker_find(w, call->topic_id, p);

	if (plog == NULL)
		return -ENOENT;
	return plog_repl_set_role(plog, call->role, clock_wall_ms());
}

int
st_worker_leaders(struct st_worker *w, struct st_admin *call)
{
	struct plog *plog;
	uint32_t b, n = 0;

	call->leaders = NULL;
	call->leader_count = 0;
	for (b = 0; b < w->table_slots; b++)
		for (plog = w->table[b]; plog != NULL; plog = plog->hash_next)
			n += plog->repl != NULL && plog->repl->role.leader;
	if (n == 0)
		return 0;
	call->leaders = malloc(sizeof(*call->leaders) * n);
	if (call->leaders == NULL)
		return -ENOMEM;
	for (b = 0; b < w->table_slots; b++)
		for (plog = w->table[b]; plog != NULL; plog = plog->hash_next)
			if (plog->repl != NULL && plog->repl->role.leader)
				plog_repl_stats(plog, &call->leaders[call->leader_count++]);
	return 0;
}

/* Truncation needs the log still: the appends queued before it (the same
 * ring, earlier) land first, and nothing may be in flight. */
static void
st_worker_settle(struct st_worker *w, struct plog *plog)
{
	while (plog->pend_head != NULL || !plog_idle(plog)) {
		if (!plog->write_inflight && plog->pend_head != NULL)
			(void)plog_append_issue(plog, clock_wall_ms());
		gsync_kick(&w->gsync);
		sio_submit(w->sio);
		sio_wait(w->sio, 1000000);
		sio_reap(w->sio, 256);
	}
}

void
st_worker_repl_request(struct st_worker *w, struct plog *plog, const struct st_req *req,
		       struct st_cpl *cpl)
{
	int16_t error = 0;
	int64_t end = -1;

	if (plog->repl == NULL || plog->repl->role.leader) {
		error = KP_ERR_NOT_LEADER_OR_FOLLOWER;
	} else if (req->type == ST_REQ_REPLICA_HW) {
		plog_repl_follower_hw(plog, req->hw.offset);
	} else {
		st_worker_settle(w, plog);
		end = req->type == ST_REQ_TRUNCATE_FULL
			      ? plog_truncate_full(plog, req->truncate.offset)
			      : plog_truncate(plog, req->truncate.offset);
		if (end < 0) {
			error = KP_ERR_KAFKA_STORAGE_ERROR;
			st_worker_io_failed(w, plog);
		}
	}
	st_cpl_fill(cpl, plog, req->type, req->partition, req->token);
	cpl->error = error;
	if (req->type == ST_REQ_TRUNCATE || req->type == ST_REQ_TRUNCATE_FULL)
		cpl->truncate.log_end_offset = error == 0 ? end : -1;
}
