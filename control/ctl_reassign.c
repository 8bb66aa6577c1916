/* SPDX-License-Identifier: Apache-2.0 */
/* AlterPartitionReassignments and ListPartitionReassignments for the
 * handlers (kp_admin_ops.reassign, .reassign_list). Cluster mode: only the
 * controller answers (NOT_CONTROLLER elsewhere, as Kafka's ZooKeeper-mode
 * brokers; the admin client retries on the controller); each partition's
 * first step is written to ZooKeeper (control/cluster_reassign.c), then the
 * answer waits, bounded, until this broker's view shows it, so a List
 * right after sees it. A single broker is its own controller with one live
 * broker: the same checks, and its partitions can only stay where they
 * are (a same-set reassignment, nothing to move), so nothing is ever in
 * progress. @thread control */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/compiler.h"
#include "common/log.h"
#include "control/cluster.h"
#include "control/config.h"
#include "control/ctl_cluster.h"
#include "control/ctl_cluster_int.h"
#include "control/ctl_int.h"

#define CTL_REASSIGN_WAIT_MAX_MS 10000
#define CTL_REASSIGN_POLL_MS 20

static void
ctl_reassign_single(struct ctl *ctl, struct kp_reassign *r)
{
	const struct kp_md *md = ctl_md(ctl);
	const struct kp_md_topic *t = kp_md_topic_by_name(md, r->topic);
	int32_t self = ctl->cfg->node_id;
	bool exists = t != NULL && r->partition >= 0 && r->partition < t->partition_count;

	if (r->replica_count < 0) {
		r->error = KP_ERR_NO_REASSIGNMENT_IN_PROGRESS;
		return;
	}
	r->error = cluster_reassign_validate(r->replicas, r->replica_count, &self, exists ? 1 : 0,
					     &self, 1, r->message, sizeof(r->message));
	if (r->error == KP_ERR_NONE && !exists) {
		r->error = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		snprintf(r->message, sizeof(r->message), "The partition does not exist.");
	}
}

/* The target (replicas without the removing ones) of a partition. */
static int32_t
ctl_reassign_target(const struct md_cluster_partition *p, int32_t *out)
{
	int32_t n = 0;

	for (int32_t i = 0; i < p->replica_count; i++) {
		bool removing = false;

		for (int32_t k = 0; k < p->removing_count; k++)
			removing |= p->removing[k] == p->replicas[i];
		if (!removing)
			out[n++] = p->replicas[i];
	}
	return n;
}

/* Does the view show every written first step (by its target)? */
static bool
ctl_reassign_shown(struct ctl *ctl, const struct kp_reassign *parts,
		   const struct md_cluster_partition *w, int32_t count)
{
	const struct md_cluster *v = cluster_view(ctl->cluster->cl);

	for (int32_t i = 0; i < count; i++) {
		const struct md_cluster_topic *t;
		int32_t a[KP_REPLICAS_MAX], b[KP_REPLICAS_MAX], an, bn;

		if (parts[i].error != KP_ERR_NONE)
			continue;
		t = md_cluster_topic(v, parts[i].topic);
		if (t == NULL || parts[i].partition >= t->partition_count)
			continue;       /* deleted meanwhile */
		an = ctl_reassign_target(&t->partitions[parts[i].partition], a);
		bn = ctl_reassign_target(&w[i], b);
		if (an != bn || memcmp(a, b, sizeof(int32_t) * (size_t)an) != 0)
			return false;
	}
	return true;
}

static void
ctl_reassign_cluster(struct ctl *ctl, struct kp_reassign *parts, int32_t count,
		     int32_t timeout_ms)
{
	struct md_cluster_partition *w = calloc((size_t)count + 1, sizeof(*w));
	int64_t deadline = clock_wall_ms() + MIN(MAX(timeout_ms, 0), CTL_REASSIGN_WAIT_MAX_MS);
	int32_t written = 0;

	for (int32_t i = 0; i < count; i++) {
		char name[256];

		if (w == NULL) {
			parts[i].error = KP_ERR_UNKNOWN_SERVER_ERROR;
			continue;
		}
		snprintf(name, sizeof(name), "%.*s", (int)parts[i].topic.len, parts[i].topic.ptr);
		parts[i].error = cluster_reassign(ctl->cluster->cl, name, parts[i].partition,
						  parts[i].replica_count < 0 ? NULL
						  : parts[i].replicas, parts[i].replica_count,
						  &w[i], parts[i].message,
						  sizeof(parts[i].message));
		written += parts[i].error == KP_ERR_NONE;
	}
	while (written > 0) {
		ctl_cluster_poll_apply(ctl);
		if (ctl_reassign_shown(ctl, parts, w, count) || clock_wall_ms() >= deadline)
			break;  /* written either way: the view follows */
		ctl_cluster_wait_event(ctl, CTL_REASSIGN_POLL_MS);
	}
	free(w);
}

int16_t
ctl_reassign(void *ctx, struct kp_reassign *parts, int32_t count, int32_t timeout_ms)
{
	struct ctl *ctl = ctx;

	for (int32_t i = 0; i < count; i++)
		parts[i].message[0] = '\0';
	if (ctl->cluster == NULL) {
		for (int32_t i = 0; i < count; i++)
			ctl_reassign_single(ctl, &parts[i]);
		return KP_ERR_NONE;
	}
	if (!cluster_is_controller(ctl->cluster->cl))
		return KP_ERR_NOT_CONTROLLER;
	ctl_reassign_cluster(ctl, parts, count, timeout_ms);
	return KP_ERR_NONE;
}

int16_t
ctl_reassign_list(void *ctx, struct kp_reassign_state **out, int32_t *count)
{
	struct ctl *ctl = ctx;
	const struct md_cluster *v;
	int32_t n = 0;

	*out = NULL;
	*count = 0;
	if (ctl->cluster == NULL)
		return KP_ERR_NONE;     /* nothing ever moves */
	if (!cluster_is_controller(ctl->cluster->cl))
		return KP_ERR_NOT_CONTROLLER;
	v = cluster_view(ctl->cluster->cl);
	for (int32_t i = 0; i < v->topic_count; i++)
		for (int32_t p = 0; p < v->topics[i].partition_count; p++)
			n += v->topics[i].partitions[p].adding_count > 0 ||
			     v->topics[i].partitions[p].removing_count > 0;
	*out = calloc((size_t)n + 1, sizeof(**out));
	if (*out == NULL)
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	for (int32_t i = 0; i < v->topic_count; i++)
		for (int32_t p = 0; p < v->topics[i].partition_count; p++) {
			const struct md_cluster_partition *mp = &v->topics[i].partitions[p];
			struct kp_reassign_state *s = &(*out)[*count];

			if (mp->adding_count == 0 && mp->removing_count == 0)
				continue;
			snprintf(s->topic, sizeof(s->topic), "%s", v->topics[i].name);
			s->partition = p;
			s->replica_count = mp->replica_count;
			s->adding_count = mp->adding_count;
			s->removing_count = mp->removing_count;
			memcpy(s->replicas, mp->replicas, sizeof(s->replicas));
			memcpy(s->adding, mp->adding, sizeof(s->adding));
			memcpy(s->removing, mp->removing, sizeof(s->removing));
			(*count)++;
		}
	return KP_ERR_NONE;
}
