/* SPDX-License-Identifier: Apache-2.0 */
/* The controller, as Kafka's ZooKeeper-mode KafkaController: won by
 * creating the ephemeral /controller in the same multi that increments
 * /controller_epoch; every later write is a multi that checks
 * /controller_epoch's version, so a deposed controller's writes fail. Its
 * duties here: states for new partitions, leader election from the ISR
 * in assignment order when a leader dies (or comes back for a leaderless
 * partition), dead replicas out of ISRs, and topic deletion. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/assert.h"
#include "control/cluster_int.h"

static int
epoch_read(struct cluster *cl, int32_t *epoch, int32_t *version)
{
	struct Stat st;
	char *data = NULL;
	int rc = cluster_zk_get(cl, "/controller_epoch", false, &data, &st);

	if (rc == ZNONODE) {
		/* Kafka's initial controller epoch is 0. */
		rc = zoo_create(cl->zh, "/controller_epoch", "0", 1, &ZOO_OPEN_ACL_UNSAFE,
				ZOO_PERSISTENT, NULL, 0);
		if (rc == ZOK || rc == ZNODEEXISTS)
			rc = cluster_zk_get(cl, "/controller_epoch", false, &data, &st);
	}
	if (rc != ZOK)
		return rc;
	*epoch = (int32_t)strtol(data, NULL, 10);
	*version = st.version;
	free(data);
	return ZOK;
}

int
cluster_ctl_elect(struct cluster *cl)
{
	if (cl->controller)
		return ZOK;
	for (int attempt = 0; attempt < 8; attempt++) {
		zoo_op_t ops[2];
		zoo_op_result_t res[2];
		struct Stat st;
		char *json, next[16];
		int32_t epoch, version;
		int rc = epoch_read(cl, &epoch, &version);

		if (rc != ZOK)
			return rc;
		json = cj_controller_encode(cl->broker_id);
		snprintf(next, sizeof(next), "%d", epoch + 1);
		zoo_create_op_init(&ops[0], "/controller", json, (int)strlen(json),
				   &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, NULL, 0);
		zoo_set_op_init(&ops[1], "/controller_epoch", next, (int)strlen(next), version,
				&st);
		rc = zoo_multi(cl->zh, 2, ops, res);
		free(json);
		if (rc == ZOK) {
			cl->controller = true;
			cl->seen_count = 0;     /* no history: nobody bounced */
			cl->controller_epoch = epoch + 1;
			cl->controller_epoch_version = st.version;
			return ZOK;
		}
		if (rc == ZNODEEXISTS) {
			/* Someone else is: watch for its end. */
			rc = zoo_wexists(cl->zh, "/controller", cluster_zk_watcher, cl, &st);
			return rc == ZNONODE ? (cluster_flag(cl, CL_EV_CONTROLLER), ZOK) : rc;
		}
		if (rc != ZBADVERSION)
			return rc;
	}
	return ZBADVERSION;
}

void
cluster_ctl_adopt(struct cluster *cl)
{
	int32_t epoch, version;

	if (cl->controller || epoch_read(cl, &epoch, &version) != ZOK)
		return;
	/* Our session holds /controller: nobody else can have moved it. */
	cl->controller = true;
	cl->seen_count = 0;
	cl->controller_epoch = epoch;
	cl->controller_epoch_version = version;
}

/* Fenced multi: check /controller_epoch, then ops. */
static int
ctl_multi(struct cluster *cl, zoo_op_t *ops, zoo_op_result_t *res, int count)
{
	int rc;

	ASSERT(cl->controller);
	zoo_check_op_init(&ops[0], "/controller_epoch", cl->controller_epoch_version);
	rc = zoo_multi(cl->zh, count, ops, res);
	if (rc != ZOK && (res[0].err == ZBADVERSION || res[0].err == ZNONODE)) {
		cl->controller = false;
		cluster_flag(cl, CL_EV_CONTROLLER);
		return CL_FENCED;
	}
	return rc;
}

int
cluster_ctl_multi(struct cluster *cl, zoo_op_t *ops, zoo_op_result_t *res, int count)
{
	return cl->controller ? ctl_multi(cl, ops, res, count) : CL_FENCED;
}

int
cluster_ctl_set(struct cluster *cl, const char *path, const char *data, int32_t version,
		int32_t *new_version)
{
	zoo_op_t ops[2];
	zoo_op_result_t res[2];
	struct Stat st;
	int rc;

	if (!cl->controller)
		return CL_FENCED;
	zoo_set_op_init(&ops[1], path, data, (int)strlen(data), version, &st);
	rc = ctl_multi(cl, ops, res, 2);
	if (rc == ZOK && new_version != NULL)
		*new_version = st.version;
	return rc;
}

static bool
in_list(const int32_t *ids, int32_t n, int32_t id)
{
	for (int32_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* First replica in assignment order that is alive and (unless unclean)
 * in isr; -1 if none. */
static int32_t
pick_leader(const struct cluster *cl, const struct md_cluster_partition *p,
	    const int32_t *isr, int32_t isr_count, bool unclean)
{
	for (int32_t i = 0; i < p->replica_count; i++) {
		int32_t r = p->replicas[i];

		if (cluster_ctl_alive(cl, r) && (unclean || in_list(isr, isr_count, r)))
			return r;
	}
	return -1;
}

bool
cluster_ctl_alive(const struct cluster *cl, int32_t broker_id)
{
	for (int32_t i = 0; i < cl->bounced_count; i++)
		if (cl->bounced[i] == broker_id)
			return false;
	return cluster_view_alive(&cl->view, broker_id);
}

/* Brokers whose registration is newer than at the last look; then
 * remember the current ones. */
static void
ctl_bounced(struct cluster *cl)
{
	int32_t n = cl->view.broker_count;

	cl->bounced_count = 0;
	cl->bounced = realloc(cl->bounced, sizeof(*cl->bounced) * ((size_t)n + 1));
	ASSERT(cl->bounced != NULL);
	for (int32_t i = 0; i < n; i++)
		for (int32_t j = 0; j < cl->seen_count; j++)
			if (cl->seen[j].id == cl->epochs[i].id &&
			    cl->seen[j].czxid != cl->epochs[i].czxid)
				cl->bounced[cl->bounced_count++] = cl->epochs[i].id;
	cl->seen = realloc(cl->seen, sizeof(*cl->seen) * ((size_t)n + 1));
	ASSERT(cl->seen != NULL);
	memcpy(cl->seen, cl->epochs, sizeof(*cl->seen) * (size_t)n);
	cl->seen_count = n;
}

bool
cluster_ctl_elect_state(const struct cluster *cl, const struct md_cluster_partition *cur,
			bool unclean, struct md_cluster_partition *next)
{
	int32_t live[KP_REPLICAS_MAX], n = 0, leader;

	*next = *cur;
	for (int32_t i = 0; i < cur->isr_count; i++)
		if (cluster_ctl_alive(cl, cur->isr[i]))
			live[n++] = cur->isr[i];
	if (cur->leader >= 0 && cluster_ctl_alive(cl, cur->leader)) {
		leader = cur->leader;       /* followers died: shrink only */
	} else {
		leader = pick_leader(cl, cur, live, n, false);
		if (leader < 0 && unclean) {
			leader = pick_leader(cl, cur, live, n, true);
			if (leader >= 0) {
				live[0] = leader;
				n = 1;
			}
		}
	}
	if (n == 0) {
		/* Nobody of the ISR is alive: Kafka keeps the last leader in it. */
		live[0] = cur->leader >= 0 ? cur->leader : cur->isr[0];
		n = cur->isr_count > 0 || cur->leader >= 0 ? 1 : 0;
	}
	if (leader == cur->leader && n == cur->isr_count &&
	    memcmp(live, cur->isr, sizeof(int32_t) * (size_t)n) == 0)
		return false;
	next->leader = leader;
	next->isr_count = n;
	memcpy(next->isr, live, sizeof(int32_t) * (size_t)n);
	next->leader_epoch = cur->leader_epoch + 1;
	next->controller_epoch = cl->controller_epoch;
	return true;
}

/* .../partitions/<p>, and .../partitions when missing (one round trip
 * per partition, not one per path level). */
static int
partition_dir(zhandle_t *zh, const char *dir)
{
	int rc = zoo_create(zh, dir, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);

	if (rc == ZNONODE) {
		/* Never the topic znode itself: a deleted topic stays deleted. */
		char parent[CL_PATH_MAX];
		size_t n = (size_t)(strrchr(dir, '/') - dir);

		memcpy(parent, dir, n);
		parent[n] = '\0';
		rc = zoo_create(zh, parent, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL,
				0);
		if (rc == ZOK || rc == ZNODEEXISTS)
			rc = zoo_create(zh, dir, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT,
					NULL, 0);
	}
	return rc == ZNODEEXISTS ? ZOK : rc;
}

/* A new partition: leader the first live replica, ISR the live ones. */
static void
ctl_new_state(struct cluster *cl, const char *topic, int32_t p,
	      const struct md_cluster_partition *mp)
{
	struct md_cluster_partition st = { .leader = -1, .controller_epoch = cl->controller_epoch };
	char dir[CL_PATH_MAX], path[CL_PATH_MAX + 16], *json;
	zoo_op_t ops[2];
	zoo_op_result_t res[2];

	for (int32_t i = 0; i < mp->replica_count; i++) {
		if (!cluster_ctl_alive(cl, mp->replicas[i]))
			continue;
		if (st.leader < 0)
			st.leader = mp->replicas[i];
		st.isr[st.isr_count++] = mp->replicas[i];
	}
	if (st.leader < 0)
		return;         /* no replica alive yet: when one registers */
	snprintf(dir, sizeof(dir), "/brokers/topics/%s/partitions/%d", topic, p);
	snprintf(path, sizeof(path), "/brokers/topics/%s/partitions/%d/state", topic, p);
	if (partition_dir(cl->zh, dir) != ZOK)
		return;
	json = cj_state_encode(&st);
	zoo_create_op_init(&ops[1], path, json, (int)strlen(json), &ZOO_OPEN_ACL_UNSAFE,
			   ZOO_PERSISTENT, NULL, 0);
	(void)ctl_multi(cl, ops, res, 2);
	free(json);
}

/* unclean.leader.election.enable: the topic's override, else the broker's. */
static bool
unclean_for(const struct cluster *cl, const char *topic)
{
	const struct md_config *c = cluster_topic_configs(cl, topic);
	int32_t n = cluster_topic_config_count(cl, topic);

	for (int32_t i = 0; i < n; i++)
		if (strcmp(c[i].name, "unclean.leader.election.enable") == 0 &&
		    c[i].value != NULL)
			return strcasecmp(c[i].value, "true") == 0;
	return cl->unclean_leader_election;
}

static void
ctl_partition(struct cluster *cl, const char *topic, int32_t p,
	      const struct md_cluster_partition *mp)
{
	struct md_cluster_partition next;
	char path[CL_PATH_MAX], *json;

	if (!mp->has_state) {
		ctl_new_state(cl, topic, p, mp);
		return;
	}
	if ((mp->adding_count > 0 || mp->removing_count > 0) &&
	    cluster_reassign_progress(cl, topic, p, mp))
		return;
	if (!cluster_ctl_elect_state(cl, mp, unclean_for(cl, topic), &next))
		return;
	snprintf(path, sizeof(path), "/brokers/topics/%s/partitions/%d/state", topic, p);
	json = cj_state_encode(&next);
	/* ZBADVERSION: the state moved; its watch brings it back to us. */
	(void)cluster_ctl_set(cl, path, json, mp->partition_epoch, NULL);
	free(json);
}

/* Paths under root (root last), children before parents. */
static int
collect_tree(zhandle_t *zh, const char *root, char ***paths, int32_t *count, int32_t *cap)
{
	struct String_vector kids = { 0 };
	int rc = zoo_get_children(zh, root, 0, &kids);

	if (rc == ZNONODE)
		return ZOK;
	for (int32_t i = 0; rc == ZOK && i < kids.count; i++) {
		char path[CL_PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", root, kids.data[i]);
		rc = collect_tree(zh, path, paths, count, cap);
	}
	deallocate_String_vector(&kids);
	if (rc != ZOK)
		return rc;
	if (*count == *cap) {
		*cap = *cap * 2 + 8;
		*paths = realloc(*paths, sizeof(**paths) * (size_t)*cap);
		ASSERT(*paths != NULL);
	}
	(*paths)[(*count)++] = strdup(root);
	return ZOK;
}

/* Delete a topic's znodes, config and deletion marker in one fenced multi. */
static void
ctl_delete_topic(struct cluster *cl, const char *topic)
{
	char **paths = NULL, path[CL_PATH_MAX];
	int32_t count = 0, cap = 0;
	int rc;

	snprintf(path, sizeof(path), "/brokers/topics/%s", topic);
	rc = collect_tree(cl->zh, path, &paths, &count, &cap);
	snprintf(path, sizeof(path), "/config/topics/%s", topic);
	if (rc == ZOK)
		rc = collect_tree(cl->zh, path, &paths, &count, &cap);
	snprintf(path, sizeof(path), "/admin/delete_topics/%s", topic);
	if (rc == ZOK)
		rc = collect_tree(cl->zh, path, &paths, &count, &cap);
	if (rc == ZOK) {
		zoo_op_t *ops = calloc((size_t)count + 1, sizeof(*ops));
		zoo_op_result_t *res = calloc((size_t)count + 1, sizeof(*res));

		ASSERT(ops != NULL && res != NULL);
		for (int32_t i = 0; i < count; i++)
			zoo_delete_op_init(&ops[i + 1], paths[i], -1);
		(void)ctl_multi(cl, ops, res, count + 1);
		free(ops);
		free(res);
	}
	for (int32_t i = 0; i < count; i++)
		free(paths[i]);
	free(paths);
}

static bool
marked(const struct String_vector *deletes, const char *topic)
{
	for (int32_t i = 0; i < deletes->count; i++)
		if (strcmp(deletes->data[i], topic) == 0)
			return true;
	return false;
}

void
cluster_ctl_act(struct cluster *cl)
{
	const struct md_cluster *v = &cl->view;
	struct String_vector deletes = { 0 };

	if (!cl->controller)
		return;
	if (zoo_wget_children(cl->zh, "/admin/delete_topics", cluster_zk_watcher, cl,
			      &deletes) != ZOK)
		return;
	for (int32_t i = 0; i < deletes.count && cl->controller; i++)
		ctl_delete_topic(cl, deletes.data[i]);
	ctl_bounced(cl);
	if (cl->bounced_count > 0)
		cluster_flag(cl, CL_EV_BROKERS);    /* back once their ISRs are out */
	for (int32_t i = 0; i < v->topic_count && cl->controller; i++) {
		const struct md_cluster_topic *t = &v->topics[i];

		for (int32_t p = 0; p < t->partition_count && cl->controller; p++)
			if (!marked(&deletes, t->name))
				ctl_partition(cl, t->name, p, &t->partitions[p]);
	}
	cl->bounced_count = 0;
	deallocate_String_vector(&deletes);
}
