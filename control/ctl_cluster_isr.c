/* SPDX-License-Identifier: Apache-2.0 */
/* The leader's side of ISR maintenance, as Kafka's Partition.maybeShrinkIsr
 * and maybeExpandIsr: a follower that has not caught up with the leader's
 * log end for replica.lag.time.max.ms leaves the ISR; a replica outside
 * it whose log end reached the high watermark and the start of the
 * leader's epoch joins again. Each change is a conditional write of the
 * partition's state in ZooKeeper (its version, the same leader epoch), then
 * storage gets the new ISR (the high watermark and acks=all waits follow
 * it). The followers' progress comes from storage (st_leaders_collect()).
 * @thread control */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "control/cluster.h"
#include "control/config.h"
#include "control/ctl_cluster_int.h"
#include "control/ctl_int.h"
#include "storage/st.h"

int64_t
ctl_cluster_isr_period_ms(const struct config *cfg)
{
	/* Kafka checks every replica.lag.time.max.ms / 2; expansion, which it
	 * checks on every follower fetch, wants a shorter turn here. */
	int64_t half = cfg->replica_lag_time_max_ms / 2;

	return half < 250 ? (half < 10 ? 10 : half) : 250;
}

struct ctl_cluster_isr_pass {
	struct ctl *ctl;
	const struct md_cluster *v;
	int64_t now_ms;
	/* What storage reported, acted on once the collection is over (no
	 * storage call from inside it). */
	struct st_leader_stats *stats;
	int32_t count;
	int32_t cap;
	bool oom;
};

static bool
ctl_cluster_isr_has(const int32_t *ids, int32_t n, int32_t id)
{
	for (int32_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static bool
ctl_cluster_isr_alive(const struct md_cluster *v, int32_t id)
{
	for (int32_t i = 0; i < v->broker_count; i++)
		if (v->brokers[i].id == id)
			return true;
	return false;
}

static const struct st_follower *
ctl_cluster_isr_follower(const struct st_leader_stats *ls, int32_t id)
{
	for (int32_t i = 0; i < ls->follower_count; i++)
		if (ls->followers[i].id == id)
			return &ls->followers[i];
	return NULL;
}

/* The ISR this leader wants now; returns its size. */
static int32_t
ctl_cluster_isr_want(const struct ctl_cluster_isr_pass *pass, const struct ctl_cluster_part *pt,
		     const struct st_leader_stats *ls, int32_t *isr)
{
	int64_t lag_max = pass->ctl->cfg->replica_lag_time_max_ms;
	int32_t n = 0;

	for (int32_t i = 0; i < pt->role.isr_count; i++) {
		int32_t id = pt->role.isr[i];
		const struct st_follower *f = ctl_cluster_isr_follower(ls, id);
		int64_t caught = pt->leader_since_ms;

		if (id != pt->role.self_id) {
			if (f != NULL && f->last_caught_up_ms > caught)
				caught = f->last_caught_up_ms;
			if (pass->now_ms - caught > lag_max) {
				log_info("cluster", "%s-%d: shrinking the ISR: broker %d has not "
					 "caught up for %lld ms", pt->topic, pt->partition, id,
					 (long long)(pass->now_ms - caught));
				continue;
			}
		}
		isr[n++] = id;
	}
	for (int32_t i = 0; i < pt->role.replica_count; i++) {
		int32_t id = pt->role.replicas[i];
		const struct st_follower *f = ctl_cluster_isr_follower(ls, id);

		if (ctl_cluster_isr_has(isr, n, id) || ctl_cluster_isr_has(pt->role.isr,
									  pt->role.isr_count, id) ||
		    f == NULL || f->log_end_offset < 0 || !ctl_cluster_isr_alive(pass->v, id))
			continue;
		/* Kafka expands at a follower's fetch; this timer asks for a
		 * recent catch-up too, or a follower that stopped fetching an
		 * empty partition (its end 0, the high watermark 0) would come
		 * back every pass and leave again at the next. */
		if (f->log_end_offset >= ls->high_watermark &&
		    f->log_end_offset >= ls->epoch_start_offset &&
		    pass->now_ms - f->last_caught_up_ms <= lag_max) {
			log_info("cluster", "%s-%d: expanding the ISR: broker %d caught up at "
				 "offset %lld", pt->topic, pt->partition, id,
				 (long long)f->log_end_offset);
			isr[n++] = id;
		}
	}
	return n;
}

static void
ctl_cluster_isr_take(void *arg, const struct st_leader_stats *ls)
{
	struct ctl_cluster_isr_pass *pass = arg;

	if (pass->count == pass->cap) {
		int32_t cap = pass->cap == 0 ? 64 : pass->cap * 2;
		struct st_leader_stats *grown = realloc(pass->stats, (size_t)cap * sizeof(*grown));

		if (grown == NULL) {
			pass->oom = true;
			return;
		}
		pass->stats = grown;
		pass->cap = cap;
	}
	pass->stats[pass->count++] = *ls;
}

static void
ctl_cluster_isr_one(struct ctl_cluster_isr_pass *pass, const struct st_leader_stats *ls)
{
	struct ctl *ctl = pass->ctl;
	struct ctl_cluster *cc = ctl->cluster;
	struct ctl_cluster_part *pt = ctl_cluster_part_find(cc, ls->topic_id, ls->partition);
	const struct md_cluster_topic *vt;
	const struct md_cluster_partition *ps;
	int32_t isr[ST_REPLICAS_MAX];
	struct st_role role;
	int32_t n;
	int16_t err;

	if (pt == NULL || !pt->role_set || !pt->role.leader ||
	    pt->role.leader_epoch != ls->leader_epoch)
		return;
	vt = md_cluster_topic(pass->v, kp_str_c(pt->topic));
	if (vt == NULL || pt->partition >= vt->partition_count)
		return;
	ps = &vt->partitions[pt->partition];
	if (!ps->has_state || ps->leader != pt->role.self_id ||
	    ps->leader_epoch != pt->role.leader_epoch)
		return;
	n = ctl_cluster_isr_want(pass, pt, ls, isr);
	if (n == pt->role.isr_count && memcmp(isr, pt->role.isr, (size_t)n * sizeof(*isr)) == 0)
		return;
	err = cluster_isr_change(cc->cl, pt->topic, pt->partition, ps->leader_epoch,
				 ps->partition_epoch, isr, n);
	if (err != KP_ERR_NONE) {
		log_info("cluster", "%s-%d: ISR change not written (error %d): the state moved "
			 "on", pt->topic, pt->partition, err);
		return;
	}
	for (int32_t i = 0; i < pt->role.isr_count; i++)
		if (!ctl_cluster_isr_has(isr, n, pt->role.isr[i])) {
			cc->isr_shrinks++;
			break;
		}
	for (int32_t i = 0; i < n; i++)
		if (!ctl_cluster_isr_has(pt->role.isr, pt->role.isr_count, isr[i])) {
			cc->isr_expands++;
			break;
		}
	role = pt->role;
	role.isr_count = n;
	memcpy(role.isr, isr, (size_t)n * sizeof(*isr));
	if (ctl->st != NULL && st_partition_role(ctl->st, pt->topic_id, pt->partition, &role) != 0)
		return;
	pt->role = role;
}

void
ctl_cluster_isr_check(struct ctl *ctl, int64_t now_ms)
{
	struct ctl_cluster_isr_pass pass = {
		.ctl = ctl, .v = cluster_view(ctl->cluster->cl), .now_ms = now_ms,
	};

	if (ctl->st == NULL)
		return;
	if (st_leaders_collect(ctl->st, ctl_cluster_isr_take, &pass) != 0 || pass.oom)
		log_warn("cluster", "ISR check: storage statistics unavailable");
	else
		for (int32_t i = 0; i < pass.count; i++)
			ctl_cluster_isr_one(&pass, &pass.stats[i]);
	free(pass.stats);
}
