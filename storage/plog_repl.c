/* SPDX-License-Identifier: Apache-2.0 */
/* Cluster mode on a partition log: its replication role, the followers'
 * fetch state on a leader (Kafka's Replica.updateFetchState), the high
 * watermark (min log end over the ISR, never backwards; a follower's from
 * the leader's answers), and acks=all appends that wait for it. A plog
 * never given a role (plog->repl NULL) runs none of this. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/clock.h"
#include "common/compiler.h"
#include "storage/plog_int.h"

static bool
plog_repl_in_isr(const struct st_role *role, int32_t id)
{
	for (int32_t i = 0; i < role->isr_count; i++)
		if (role->isr[i] == id)
			return true;
	return false;
}

static struct plog_follower *
plog_repl_follower(struct plog_repl *repl, int32_t id)
{
	for (int32_t i = 0; i < repl->follower_count; i++)
		if (repl->followers[i].id == id)
			return &repl->followers[i];
	return NULL;
}

/* Complete the acks=all appends the high watermark passed (all of them
 * with error when error != 0), as Kafka's checkEnoughReplicasReachOffset:
 * NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR is below min ISR then. */
static void
plog_repl_acks_complete(struct plog *plog, int16_t error)
{
	struct plog_repl *repl = plog->repl;
	struct plog_append *app, **pa = &repl->ack_head;
	int16_t e;

	repl->ack_tail = NULL;
	while ((app = *pa) != NULL) {
		if (error == 0 && app->end_offset > repl->hw) {
			repl->ack_tail = app;
			pa = &app->next;
			continue;
		}
		*pa = app->next;
		e = error;
		if (e == 0 && repl->role.isr_count < repl->role.min_insync_replicas)
			e = KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND;
		plog_append_complete(plog, app, e);
	}
}

/* Leader: HW = min log end over the ISR (the leader's own: landed
 * writes); a member whose log end is unknown holds it; never backwards. */
static void
plog_repl_hw_update(struct plog *plog)
{
	struct plog_repl *repl = plog->repl;
	const struct plog_follower *f;
	int64_t hw = plog->hw;

	if (!repl->role.leader)
		return;
	for (int32_t i = 0; i < repl->role.isr_count; i++) {
		if (repl->role.isr[i] == repl->role.self_id)
			continue;
		f = plog_repl_follower(repl, repl->role.isr[i]);
		if (f == NULL || f->leo < 0)
			return;
		hw = MIN(hw, f->leo);
	}
	if (hw <= repl->hw)
		return;
	repl->hw = hw;
	plog_repl_acks_complete(plog, 0);
	plog_watch_check(plog);
}

/* The followers of a new role: their state kept while the leader epoch
 * stays, else unknown; ISR members count as caught up now (Kafka's
 * resetReplicaState). */
static void
plog_repl_followers_reset(struct plog_repl *repl, const struct st_role *role, bool keep,
			  int64_t now_ms)
{
	struct plog_follower old[ST_REPLICAS_MAX], *f;
	int32_t old_count = repl->follower_count, n = 0;

	memcpy(old, repl->followers, sizeof(old));
	for (int32_t i = 0; i < role->replica_count; i++) {
		int32_t id = role->replicas[i];

		if (id == role->self_id)
			continue;
		f = &repl->followers[n++];
		memset(f, 0, sizeof(*f));
		f->id = id;
		f->leo = -1;
		f->last_fetch_leader_leo = -1;
		f->last_caught_up_ms = plog_repl_in_isr(role, id) ? now_ms : 0;
		for (int32_t k = 0; keep && k < old_count; k++)
			if (old[k].id == id)
				*f = old[k];
	}
	repl->follower_count = n;
}

int
plog_repl_set_role(struct plog *plog, const struct st_role *role, int64_t now_ms)
{
	struct plog_repl *repl = plog->repl;
	bool keep;
	int rc = 0;

	if (role->replica_count < 0 || role->replica_count > ST_REPLICAS_MAX ||
	    role->isr_count < 0 || role->isr_count > ST_REPLICAS_MAX || role->leader_epoch < 0)
		return -EINVAL;
	if (repl == NULL) {
		repl = calloc(1, sizeof(*repl));
		if (repl == NULL)
			return -ENOMEM;
		/* The checkpointed high watermark, within the log (none:
		 * the log as recovered). */
		repl->hw = plog->hw;
		repl->ack_deadline_ns = UINT64_MAX;
		if (plog->ck_hw >= 0)
			repl->hw = MAX(MIN(plog->ck_hw, plog->hw), plog->log_start_offset);
		plog->repl = repl;
		keep = false;
	} else {
		keep = repl->role.leader && role->leader &&
		       repl->role.leader_epoch == role->leader_epoch;
	}
	repl->role = *role;
	plog_repl_followers_reset(repl, role, keep, now_ms);
	if (role->leader) {
		if (role->leader_epoch > plog_epochs_latest(plog))
			rc = plog_epochs_assign(plog, role->leader_epoch, plog->next_offset);
		repl->epoch_start_offset = plog->next_offset;
		if (plog->epochs.count > 0 && plog_epochs_latest(plog) == role->leader_epoch)
			repl->epoch_start_offset =
				plog->epochs.e[plog->epochs.count - 1].start_offset;
		if (role->isr_count < role->min_insync_replicas)
			plog_repl_acks_complete(plog, KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND);
		plog_repl_hw_update(plog);
	} else {
		plog_repl_acks_complete(plog, KP_ERR_NOT_LEADER_OR_FOLLOWER);
		repl->hw = MIN(repl->hw, plog->hw);
	}
	plog_watch_check(plog);
	return rc;
}

int16_t
plog_repl_append_check(const struct plog *plog, const struct plog_append *app)
{
	const struct plog_repl *repl = plog->repl;
	bool replica = (app->flags & ST_APPEND_REPLICA) != 0;

	if (repl == NULL)
		return replica ? KP_ERR_NOT_LEADER_OR_FOLLOWER : 0;
	if (replica != !repl->role.leader)
		return KP_ERR_NOT_LEADER_OR_FOLLOWER;
	if (!replica && app->acks == -1 &&
	    repl->role.isr_count < repl->role.min_insync_replicas)
		return KP_ERR_NOT_ENOUGH_REPLICAS;
	return 0;
}

void
plog_repl_synced(struct plog *plog, struct plog_append *app)
{
	struct plog_repl *repl = plog->repl;
	bool timed;

	if (!repl->role.leader) {
		plog_append_complete(plog, app, KP_ERR_NOT_LEADER_OR_FOLLOWER);
		return;
	}
	/* Passed already (or the ISR is the leader alone): completes now,
	 * as does one that may not wait (timeout_ms <= 0: Kafka's
	 * DelayedProduce expires at once). */
	timed = (app->flags & ST_APPEND_TIMEOUT) != 0;
	if (app->end_offset > repl->hw && timed && app->timeout_ms <= 0) {
		plog_append_complete(plog, app, KP_ERR_REQUEST_TIMED_OUT);
		return;
	}
	app->deadline_ns = UINT64_MAX;
	if (timed && app->timeout_ms > 0) {
		app->deadline_ns = clock_mono_ns() + (uint64_t)app->timeout_ms * 1000000u;
		repl->ack_deadline_ns = MIN(repl->ack_deadline_ns, app->deadline_ns);
	}
	app->next = NULL;
	if (repl->ack_tail != NULL)
		repl->ack_tail->next = app;
	else
		repl->ack_head = app;
	repl->ack_tail = app;
	if (app->end_offset <= repl->hw)
		plog_repl_acks_complete(plog, 0);
}

void
plog_repl_expire(struct plog *plog, uint64_t now_ns)
{
	struct plog_repl *repl = plog->repl;
	struct plog_append *app, **pa;
	uint64_t next = UINT64_MAX;

	if (repl == NULL || now_ns < repl->ack_deadline_ns)
		return;
	repl->ack_tail = NULL;
	pa = &repl->ack_head;
	while ((app = *pa) != NULL) {
		if (app->deadline_ns > now_ns) {
			next = MIN(next, app->deadline_ns);
			repl->ack_tail = app;
			pa = &app->next;
			continue;
		}
		*pa = app->next;
		plog_append_complete(plog, app, KP_ERR_REQUEST_TIMED_OUT);
	}
	repl->ack_deadline_ns = next;
}

bool
plog_repl_timed(const struct plog *plog)
{
	const struct plog_repl *repl = plog->repl;

	/* An append issued (write in flight, then its fsync) reaches the
	 * waiters without the worker's knowing: ticked from its issue on. */
	return repl != NULL && repl->role.leader &&
	       (repl->ack_head != NULL || plog->sync_head != NULL || plog->write_inflight);
}

void
plog_repl_fetch(struct plog *plog, int32_t replica_id, int64_t offset, int64_t now_ms)
{
	struct plog_repl *repl = plog->repl;
	struct plog_follower *f;
	int64_t leo = plog->hw;

	if (repl == NULL || !repl->role.leader ||
	    (f = plog_repl_follower(repl, replica_id)) == NULL)
		return;
	if (offset >= leo)
		f->last_caught_up_ms = MAX(f->last_caught_up_ms, now_ms);
	else if (f->last_fetch_leader_leo >= 0 && offset >= f->last_fetch_leader_leo)
		f->last_caught_up_ms = MAX(f->last_caught_up_ms, f->last_fetch_ms);
	f->last_fetch_leader_leo = leo;
	f->last_fetch_ms = now_ms;
	f->leo = MIN(offset, leo);
	plog_repl_hw_update(plog);
}

void
plog_repl_leo_moved(struct plog *plog)
{
	if (plog->repl != NULL)
		plog_repl_hw_update(plog);
}

void
plog_repl_follower_hw(struct plog *plog, int64_t offset)
{
	struct plog_repl *repl = plog->repl;

	if (repl == NULL || repl->role.leader)
		return;
	repl->hw = MAX(MIN(offset, plog->hw), 0);
	plog_watch_check(plog);
}

void
plog_repl_stats(const struct plog *plog, struct st_leader_stats *ls)
{
	const struct plog_repl *repl = plog->repl;

	memset(ls, 0, sizeof(*ls));
	memcpy(ls->topic_id, plog->topic_id, 16);
	ls->partition = plog->partition;
	ls->leader_epoch = repl->role.leader_epoch;
	ls->log_end_offset = plog->hw;
	ls->high_watermark = repl->hw;
	ls->epoch_start_offset = repl->epoch_start_offset;
	ls->isr_count = repl->role.isr_count;
	memcpy(ls->isr, repl->role.isr, sizeof(ls->isr));
	ls->follower_count = repl->follower_count;
	for (int32_t i = 0; i < repl->follower_count; i++) {
		ls->followers[i].id = repl->followers[i].id;
		ls->followers[i].log_end_offset = repl->followers[i].leo;
		ls->followers[i].last_caught_up_ms = repl->followers[i].last_caught_up_ms;
		ls->followers[i].last_fetch_ms = repl->followers[i].last_fetch_ms;
	}
}

void
plog_repl_free(struct plog *plog, int16_t error)
{
	if (plog->repl == NULL)
		return;
	plog_repl_acks_complete(plog, error != 0 ? error : KP_ERR_NOT_LEADER_OR_FOLLOWER);
	free(plog->repl);
	plog->repl = NULL;
}
