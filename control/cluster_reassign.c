/* SPDX-License-Identifier: Apache-2.0 */
/* Partition reassignment (KIP-455) as Kafka's ZooKeeper-mode controller
 * does it (KafkaController.onPartitionReassignment). With ORS the original
 * replicas and TRS the target: the topic znode gets replicas = TRS then
 * the ORS-only ones, adding_replicas = TRS - ORS, removing_replicas =
 * ORS - TRS, and the partition state a new leader epoch, in one multi
 * fenced by /controller_epoch and both znodes' versions. Every broker
 * named follows the view (new replicas start fetching). Once every TRS
 * member is in the ISR the controller finishes: a leader from TRS when
 * the old one is not in it (or dead), ISR := ISR with TRS only, leader
 * epoch + 1, replicas = TRS and the adding/removing entries gone (the
 * removed replicas see themselves unassigned and delete their logs).
 * Everything lives in ZooKeeper, so a new controller finishes what the
 * old one started. A cancel is a reassignment back to ORS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "control/cluster_int.h"

#define RA_ATTEMPTS 8
#define RA_FULL_MAX (2 * KP_REPLICAS_MAX)

static bool
ra_has(const int32_t *ids, int32_t n, int32_t id)
{
	for (int32_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static bool
ra_subset(const int32_t *a, int32_t an, const int32_t *b, int32_t bn)
{
	for (int32_t i = 0; i < an; i++)
		if (!ra_has(b, bn, a[i]))
			return false;
	return true;
}

/* a minus b, in a's order, duplicates dropped; the count. */
static int32_t
ra_diff(const int32_t *a, int32_t an, const int32_t *b, int32_t bn, int32_t *out)
{
	int32_t n = 0;

	for (int32_t i = 0; i < an; i++)
		if (!ra_has(b, bn, a[i]) && !ra_has(out, n, a[i]))
			out[n++] = a[i];
	return n;
}

/* Scala's rendering of a sequence: "ArrayBuffer(1, 2)". */
static void
ra_ids_text(const char *kind, const int32_t *ids, int32_t n, char *buf, size_t size)
{
	size_t at = (size_t)snprintf(buf, size, "%s(", kind);

	for (int32_t i = 0; i < n && at < size; i++)
		at += (size_t)snprintf(buf + at, size - at, "%s%d", i > 0 ? ", " : "", ids[i]);
	if (at < size)
		snprintf(buf + at, size - at, ")");
}

int16_t
cluster_reassign_validate(const int32_t *target, int32_t count, const int32_t *origin,
			  int32_t origin_count, const int32_t *live, int32_t live_count,
			  char *msg, size_t msg_size)
{
	int32_t adding[KP_REPLICAS_MAX], n;
	char a[256], b[256];

	ra_ids_text("ArrayBuffer", target, count, a, sizeof(a));
	if (count == 0) {
		snprintf(msg, msg_size, "Empty replica list specified in partition reassignment.");
		return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
	}
	for (int32_t i = 0; i < count; i++)
		if (ra_has(target, i, target[i])) {
			snprintf(msg, msg_size, "Duplicate replica ids in partition reassignment "
				 "replica list: %s", a);
			return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
		}
	for (int32_t i = 0; i < count; i++)
		if (target[i] < 0) {
			snprintf(msg, msg_size, "Invalid broker id in replica list: %s", a);
			return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
		}
	if (count > KP_REPLICAS_MAX) {
		snprintf(msg, msg_size, "Replica list has more than %d replicas: %s",
			 KP_REPLICAS_MAX, a);
		return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
	}
	n = ra_diff(target, count, origin, origin_count, adding);
	for (int32_t i = 0; i < n; i++)
		if (!ra_has(live, live_count, adding[i])) {
			ra_ids_text("ArrayBuffer", adding, n, a, sizeof(a));
			/* Scala's immutable sets of more than 4 are HashSets. */
			ra_ids_text(live_count > 4 ? "HashSet" : "Set", live, live_count, b,
				    sizeof(b));
			snprintf(msg, msg_size, "Replica assignment has brokers that are not "
				 "alive. Replica list: %s, live broker list: %s", a, b);
			return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
		}
	return KP_ERR_NONE;
}

/* The topic znode and the partition state as they are now. */
struct ra_read {
	struct md_cluster_topic t;
	int32_t topic_version;
	struct md_cluster_partition state;
	bool has_state;
};

static int
ra_read(struct cluster *cl, const char *topic, int32_t p, struct ra_read *r)
{
	char path[CL_PATH_MAX], *data = NULL;
	struct Stat st;
	int rc;

	memset(r, 0, sizeof(*r));
	snprintf(path, sizeof(path), "/brokers/topics/%s", topic);
	rc = cluster_zk_get(cl, path, false, &data, &st);
	if (rc != ZOK)
		return rc;
	rc = cj_topic_decode(data, &r->t) == 0 ? ZOK : ZMARSHALLINGERROR;
	free(data);
	r->topic_version = st.version;
	if (rc != ZOK || p >= r->t.partition_count)
		return rc != ZOK ? rc : ZNONODE;
	snprintf(path, sizeof(path), "/brokers/topics/%s/partitions/%d/state", topic, p);
	data = NULL;
	rc = cluster_zk_get(cl, path, false, &data, &st);
	if (rc == ZNONODE)
		return ZOK;
	if (rc != ZOK)
		return rc;
	rc = cj_state_decode(data, &r->state) == 0 ? ZOK : ZMARSHALLINGERROR;
	r->state.partition_epoch = st.version;
	r->has_state = true;
	free(data);
	return rc;
}

/* The state once the assignment is members: ISR kept to members (never
 * emptied), a leader from them when the current one is not or is dead,
 * the leader epoch bumped. */
static void
ra_state(const struct cluster *cl, const struct md_cluster_partition *cur,
	 const int32_t *members, int32_t n, struct md_cluster_partition *next)
{
	int32_t isr[KP_REPLICAS_MAX], isr_n = 0;

	*next = *cur;
	for (int32_t i = 0; i < cur->isr_count; i++)
		if (ra_has(members, n, cur->isr[i]))
			isr[isr_n++] = cur->isr[i];
	if (isr_n > 0) {
		memcpy(next->isr, isr, sizeof(int32_t) * (size_t)isr_n);
		next->isr_count = isr_n;
	}
	if (!ra_has(members, n, cur->leader) || !cluster_ctl_alive(cl, cur->leader)) {
		next->leader = -1;
		for (int32_t i = 0; i < n && next->leader < 0; i++)
			if (cluster_ctl_alive(cl, members[i]) &&
			    ra_has(next->isr, next->isr_count, members[i]))
				next->leader = members[i];
		if (next->leader < 0 && ra_has(members, n, cur->leader))
			next->leader = cur->leader;
	}
	next->leader_epoch = cur->leader_epoch + 1;
	next->controller_epoch = cl->controller_epoch;
}

/* What a step is for. */
enum ra_mode {
	RA_TARGET,      /* a new target (trs_in) */
	RA_CANCEL,      /* back to the original replicas */
	RA_PROGRESS,    /* the controller's finish, once the targets are in the ISR */
};

#define RA_NOTHING (-1001)      /* a cancel without a reassignment */

/* One step from what ZooKeeper holds now. ZOK (*wrote tells), ZBADVERSION
 * (moved: again), RA_NOTHING, CL_FENCED or another error. */
static int
ra_step(struct cluster *cl, const char *topic, int32_t p, enum ra_mode mode,
	const int32_t *trs_in, int32_t trs_n, bool *wrote, struct md_cluster_partition *out)
{
	struct ra_read r;
	struct md_cluster_partition *pp, next;
	int32_t origin[KP_REPLICAS_MAX], trs[KP_REPLICAS_MAX], full[RA_FULL_MAX];
	int32_t on, fn, an, rn;
	char path[CL_PATH_MAX], *tjson = NULL, *sjson = NULL;
	zoo_op_t ops[3];
	zoo_op_result_t res[3];
	struct Stat st1, st2;
	bool complete;
	int rc = ra_read(cl, topic, p, &r);

	*wrote = false;
	if (rc != ZOK)
		goto out;
	pp = &r.t.partitions[p];
	on = ra_diff(pp->replicas, pp->replica_count, pp->adding, pp->adding_count, origin);
	if (mode == RA_CANCEL && pp->adding_count == 0 && pp->removing_count == 0) {
		rc = RA_NOTHING;
		goto out;
	}
	if (mode == RA_PROGRESS)
		trs_n = ra_diff(pp->replicas, pp->replica_count, pp->removing, pp->removing_count,
				trs);
	else if (mode == RA_CANCEL)
		trs_n = ra_diff(origin, on, NULL, 0, trs);
	else
		memcpy(trs, trs_in, sizeof(int32_t) * (size_t)trs_n);
	memcpy(full, trs, sizeof(int32_t) * (size_t)trs_n);
	fn = trs_n + ra_diff(origin, on, trs, trs_n, full + trs_n);
	if (fn > KP_REPLICAS_MAX) {
		rc = ZBADARGUMENTS;
		goto out;
	}
	an = ra_diff(full, fn, origin, on, pp->adding);
	rn = ra_diff(full, fn, trs, trs_n, pp->removing);
	complete = (an == 0 && rn == 0) ||
		   (r.has_state && ra_subset(trs, trs_n, r.state.isr, r.state.isr_count));
	if (mode == RA_PROGRESS && !complete)
		goto out;       /* still catching up */
	pp->adding_count = complete ? 0 : an;
	pp->removing_count = complete ? 0 : rn;
	pp->replica_count = complete ? trs_n : fn;
	memcpy(pp->replicas, complete ? trs : full, sizeof(int32_t) * (size_t)pp->replica_count);
	tjson = cj_topic_encode_view(&r.t);
	snprintf(path, sizeof(path), "/brokers/topics/%s", topic);
	zoo_set_op_init(&ops[1], path, tjson, (int)strlen(tjson), r.topic_version, &st1);
	if (r.has_state) {
		char spath[CL_PATH_MAX];

		ra_state(cl, &r.state, pp->replicas, pp->replica_count, &next);
		sjson = cj_state_encode(&next);
		snprintf(spath, sizeof(spath), "/brokers/topics/%s/partitions/%d/state", topic, p);
		zoo_set_op_init(&ops[2], spath, sjson, (int)strlen(sjson),
				r.state.partition_epoch, &st2);
		rc = cluster_ctl_multi(cl, ops, res, 3);
	} else {
		rc = cluster_ctl_multi(cl, ops, res, 2);
	}
	*wrote = rc == ZOK;
	if (rc == ZOK && out != NULL)
		*out = *pp;
	if (rc == ZOK)
		log_info("cluster", "%s-%d: reassignment %s: replicas %d, adding %d, removing %d",
			 topic, p, complete ? "complete" : "step", pp->replica_count,
			 pp->adding_count, pp->removing_count);
out:
	free(tjson);
	free(sjson);
	free(r.t.partitions);
	return rc;
}

bool
cluster_reassign_progress(struct cluster *cl, const char *topic, int32_t p,
			  const struct md_cluster_partition *mp)
{
	int32_t trs[KP_REPLICAS_MAX];
	int32_t n = ra_diff(mp->replicas, mp->replica_count, mp->removing, mp->removing_count,
			    trs);
	bool wrote = false;

	if (!ra_subset(trs, n, mp->isr, mp->isr_count))
		return false;   /* the view says: not yet */
	/* ZBADVERSION: something moved; its watch brings us back. */
	(void)ra_step(cl, topic, p, RA_PROGRESS, NULL, 0, &wrote, NULL);
	return true;
}

static int16_t
ra_error(int rc, char *msg, size_t msg_size)
{
	switch (rc) {
	case ZOK:
		return KP_ERR_NONE;
	case ZNONODE:
		snprintf(msg, msg_size, "The partition does not exist.");
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	case CL_FENCED:
		return KP_ERR_NOT_CONTROLLER;
	case RA_NOTHING:
		return KP_ERR_NO_REASSIGNMENT_IN_PROGRESS;
	case ZBADARGUMENTS:
		snprintf(msg, msg_size, "The reassignment needs more than %d replicas at once.",
			 KP_REPLICAS_MAX);
		return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
	default:
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
}

int16_t
cluster_reassign(struct cluster *cl, const char *topic, int32_t partition,
		 const int32_t *target, int32_t count, struct md_cluster_partition *written,
		 char *msg, size_t msg_size)
{
	const struct md_cluster_topic *t = cluster_view_topic(&cl->view, topic);
	const struct md_cluster_partition *mp = NULL;
	int32_t origin[KP_REPLICAS_MAX], on = 0, live[KP_BROKERS_ASSIGN_MAX], ln = 0;
	int16_t err;
	int rc = ZBADVERSION;

	msg[0] = '\0';
	if (!cl->controller)
		return KP_ERR_NOT_CONTROLLER;
	if (t != NULL && partition >= 0 && partition < t->partition_count)
		mp = &t->partitions[partition];
	if (mp != NULL)
		on = ra_diff(mp->replicas, mp->replica_count, mp->adding, mp->adding_count, origin);
	for (int32_t i = 0; i < cl->view.broker_count && ln < KP_BROKERS_ASSIGN_MAX; i++)
		live[ln++] = cl->view.brokers[i].id;
	if (target != NULL) {
		err = cluster_reassign_validate(target, count, origin, on, live, ln, msg, msg_size);
		if (err != KP_ERR_NONE)
			return err;
	}
	if (mp == NULL)     /* Kafka: a cancel finds nothing to cancel first */
		return ra_error(target == NULL ? RA_NOTHING : ZNONODE, msg, msg_size);
	for (int attempt = 0; attempt < RA_ATTEMPTS && rc == ZBADVERSION; attempt++) {
		bool wrote;

		rc = ra_step(cl, topic, partition, target != NULL ? RA_TARGET : RA_CANCEL, target,
			     count, &wrote, written);
	}
	return rc == ZBADVERSION ? KP_ERR_REQUEST_TIMED_OUT : ra_error(rc, msg, msg_size);
}
