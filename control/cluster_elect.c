/* SPDX-License-Identifier: Apache-2.0 */
/* ElectLeaders from any broker (Kafka's PREFERRED and UNCLEAN election
 * types). The broker writes the new state itself, as controlled shutdown
 * does, fenced like the controller's writes: one multi that checks
 * /controller_epoch at the version read just before (a controller change
 * meanwhile fails it) and sets the state znode at the version the
 * decision was made from (any other change meanwhile fails it; then the
 * state is read again and the decision made again). The new state keeps
 * the controller epoch it was decided under and bumps the leader epoch,
 * so every broker applies it as a controller's election. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/cluster_int.h"

#define CL_ELECT_ATTEMPTS 8

static bool
elect_has(const int32_t *ids, int32_t n, int32_t id)
{
	for (int32_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* The state znode now (partition_epoch its version) and the
 * /controller_epoch value and version it is fenced by. */
static int
elect_read(struct cluster *cl, const char *path, struct md_cluster_partition *mp,
	   int32_t *ctl_epoch, int32_t *ctl_version)
{
	struct Stat st;
	char *data = NULL;
	int rc = cluster_zk_get(cl, "/controller_epoch", false, &data, &st);

	if (rc != ZOK)
		return rc;
	*ctl_epoch = (int32_t)strtol(data, NULL, 10);
	*ctl_version = st.version;
	free(data);
	data = NULL;
	rc = cluster_zk_get(cl, path, false, &data, &st);
	if (rc != ZOK)
		return rc;
	rc = cj_state_decode(data, mp) == 0 ? ZOK : ZMARSHALLINGERROR;
	mp->partition_epoch = st.version;
	mp->has_state = true;
	free(data);
	return rc;
}

/* PREFERRED: the first replica of the assignment, when alive and in the
 * ISR. Returns an error code; KP_ERR_NONE with next filled. */
static int16_t
elect_preferred(const struct cluster *cl, const struct md_cluster_partition *cur,
		struct md_cluster_partition *next)
{
	int32_t pref = cur->replicas[0];

	if (cur->leader == pref)
		return KP_ERR_ELECTION_NOT_NEEDED;
	if (!cluster_view_alive(&cl->view, pref) || !elect_has(cur->isr, cur->isr_count, pref))
		return KP_ERR_PREFERRED_LEADER_NOT_AVAILABLE;
	next->leader = pref;
	return KP_ERR_NONE;
}

/* UNCLEAN: only without a live leader: the first live ISR member in
 * assignment order, else (no ISR member alive) the first live replica,
 * which becomes the whole ISR. */
static int16_t
elect_unclean(const struct cluster *cl, const struct md_cluster_partition *cur,
	      struct md_cluster_partition *next)
{
	int32_t live[KP_REPLICAS_MAX], n = 0;

	if (cur->leader >= 0 && cluster_view_alive(&cl->view, cur->leader))
		return KP_ERR_ELECTION_NOT_NEEDED;
	for (int32_t i = 0; i < cur->isr_count; i++)
		if (cluster_view_alive(&cl->view, cur->isr[i]))
			live[n++] = cur->isr[i];
	next->leader = -1;
	for (int32_t i = 0; i < cur->replica_count && next->leader < 0; i++)
		if (elect_has(live, n, cur->replicas[i]))
			next->leader = cur->replicas[i];
	for (int32_t i = 0; i < cur->replica_count && next->leader < 0; i++)
		if (cluster_view_alive(&cl->view, cur->replicas[i])) {
			next->leader = cur->replicas[i];
			live[0] = next->leader;
			n = 1;
		}
	if (next->leader < 0)
		return KP_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE;
	next->isr_count = n;
	memcpy(next->isr, live, sizeof(int32_t) * (size_t)n);
	return KP_ERR_NONE;
}

/* One decision (its answer in *err) and, when there is one to make, its
 * fenced write: ZOK, ZBADVERSION (something moved: decide again) or
 * another ZooKeeper error. */
static int
elect_try(struct cluster *cl, const char *path, const struct md_cluster_partition *assigned,
	  bool unclean, int16_t *err, int32_t *leader_out, int32_t *epoch_out)
{
	struct md_cluster_partition cur = { 0 }, next;
	int32_t ctl_epoch, ctl_version;
	zoo_op_t ops[2];
	zoo_op_result_t res[2];
	struct Stat st;
	char *json;
	int rc = elect_read(cl, path, &cur, &ctl_epoch, &ctl_version);

	if (rc != ZOK)
		return rc;
	cur.replica_count = assigned->replica_count;
	memcpy(cur.replicas, assigned->replicas, sizeof(cur.replicas));
	next = cur;
	*err = unclean ? elect_unclean(cl, &cur, &next) : elect_preferred(cl, &cur, &next);
	if (*err != KP_ERR_NONE)
		return ZOK;
	next.leader_epoch = cur.leader_epoch + 1;
	next.controller_epoch = ctl_epoch;
	json = cj_state_encode(&next);
	zoo_check_op_init(&ops[0], "/controller_epoch", ctl_version);
	zoo_set_op_init(&ops[1], path, json, (int)strlen(json), cur.partition_epoch, &st);
	rc = zoo_multi(cl->zh, 2, ops, res);
	free(json);
	if (rc == ZOK) {
		*leader_out = next.leader;
		*epoch_out = next.leader_epoch;
	}
	return rc;
}

int16_t
cluster_leader_elect(struct cluster *cl, const char *topic, int32_t partition, bool unclean,
		     int32_t *leader_out, int32_t *epoch_out)
{
	const struct md_cluster_topic *t = cluster_view_topic(&cl->view, topic);
	char path[CL_PATH_MAX];

	if (t == NULL || partition < 0 || partition >= t->partition_count)
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	if (!t->partitions[partition].has_state || t->partitions[partition].replica_count < 1)
		return unclean ? KP_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE
			       : KP_ERR_PREFERRED_LEADER_NOT_AVAILABLE;
	snprintf(path, sizeof(path), "/brokers/topics/%s/partitions/%d/state", topic, partition);
	for (int attempt = 0; attempt < CL_ELECT_ATTEMPTS; attempt++) {
		struct md_cluster_partition assigned = t->partitions[partition];
		int16_t err = KP_ERR_NONE;
		int rc = elect_try(cl, path, &assigned, unclean, &err, leader_out, epoch_out);

		if (rc == ZNONODE)
			return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		if (rc == ZOK)
			return err;
		if (rc != ZBADVERSION)
			return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	return KP_ERR_REQUEST_TIMED_OUT;        /* kept moving under us */
}
