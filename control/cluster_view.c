/* SPDX-License-Identifier: Apache-2.0 */
/* The view (struct md_cluster) read from ZooKeeper: the controller, the
 * live brokers, every topic's assignment, partition states and config
 * overrides. Each read re-arms its watch: children of /brokers/ids,
 * /brokers/topics, /admin/delete_topics and /config/changes, data of
 * /controller, each topic znode and each partition state znode (or its
 * existence while it has none). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "control/cluster_int.h"

static void
broker_free(struct md_cluster_broker *b)
{
	free(b->rack);
	for (int32_t i = 0; i < b->endpoint_count; i++) {
		free(b->endpoints[i].listener);
		free(b->endpoints[i].host);
	}
}

static void
configs_free(struct cl_topic_configs *c)
{
	for (int32_t i = 0; i < c->count; i++) {
		free(c->configs[i].name);
		free(c->configs[i].value);
	}
	free(c->configs);
	free(c->name);
}

void
cluster_view_free(struct md_cluster *v, struct cl_topic_configs *configs, int32_t count)
{
	for (int32_t i = 0; i < v->broker_count; i++)
		broker_free(&v->brokers[i]);
	free(v->brokers);
	for (int32_t i = 0; i < v->topic_count; i++) {
		free(v->topics[i].name);
		free(v->topics[i].partitions);
	}
	free(v->topics);
	for (int32_t i = 0; i < count; i++)
		configs_free(&configs[i]);
	free(configs);
	memset(v, 0, sizeof(*v));
	v->controller_id = -1;
}

bool
cluster_view_alive(const struct md_cluster *v, int32_t broker_id)
{
	for (int32_t i = 0; i < v->broker_count; i++)
		if (v->brokers[i].id == broker_id)
			return true;
	return false;
}

static int
topic_cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct md_cluster_topic *)a)->name,
		      ((const struct md_cluster_topic *)b)->name);
}

/* The index of the topic named name in the sorted topics, or -1. */
static int32_t
topic_index(const struct md_cluster *v, const char *name)
{
	int32_t lo = 0, hi = v->topic_count - 1;

	while (lo <= hi) {
		int32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(v->topics[mid].name, name);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

struct md_cluster_topic *
cluster_view_topic(struct md_cluster *v, const char *name)
{
	int32_t i = topic_index(v, name);

	return i >= 0 ? &v->topics[i] : NULL;
}

static int
read_controller(struct cluster *cl, struct md_cluster *v)
{
	struct Stat st;
	char *data = NULL;
	int rc;

	v->controller_id = -1;
	/* A node created between the failed get and the exists call gets a
	 * watch for its change, not for the creation already past: read it. */
	for (;;) {
		rc = cluster_zk_get(cl, "/controller", true, &data, &st);
		if (rc != ZNONODE)
			break;
		rc = zoo_wexists(cl->zh, "/controller", cluster_zk_watcher, cl, &st);
		if (rc != ZOK)
			break;
	}
	if (rc == ZNONODE) {
		cluster_flag(cl, CL_EV_CONTROLLER);     /* nobody: stand next poll */
		rc = ZOK;
	}
	if (data != NULL) {
		v->controller_id = cj_controller_decode(data);
		free(data);
	}
	if (rc == ZOK && v->controller_id != cl->broker_id)
		cl->controller = false;   /* deposed, or never was */
	else if (rc == ZOK && !cl->controller &&
		 st.ephemeralOwner == zoo_client_id(cl->zh)->client_id)
		cluster_ctl_adopt(cl);
	return rc;
}

static int
broker_cmp(const void *a, const void *b)
{
	int32_t x = ((const struct md_cluster_broker *)a)->id;
	int32_t y = ((const struct md_cluster_broker *)b)->id;

	return (x > y) - (x < y);
}

static int
epoch_cmp(const void *a, const void *b)
{
	int32_t x = ((const struct cl_broker_epoch *)a)->id;
	int32_t y = ((const struct cl_broker_epoch *)b)->id;

	return (x > y) - (x < y);
}

static int
read_brokers(struct cluster *cl, struct md_cluster *v, struct cl_broker_epoch **epochs_out)
{
	struct String_vector kids = { 0 };
	struct cl_broker_epoch *epochs;
	int rc = zoo_wget_children(cl->zh, "/brokers/ids", cluster_zk_watcher, cl, &kids);

	if (rc != ZOK)
		return rc;
	v->brokers = calloc((size_t)kids.count + 1, sizeof(*v->brokers));
	epochs = calloc((size_t)kids.count + 1, sizeof(*epochs));
	ASSERT(v->brokers != NULL && epochs != NULL);
	*epochs_out = epochs;
	for (int32_t i = 0; i < kids.count && rc == ZOK; i++) {
		struct md_cluster_broker *b = &v->brokers[v->broker_count];
		char path[CL_PATH_MAX], *data = NULL, *end;
		struct Stat st;
		long id = strtol(kids.data[i], &end, 10);

		if (*end != '\0')
			continue;
		snprintf(path, sizeof(path), "/brokers/ids/%s", kids.data[i]);
		rc = cluster_zk_get(cl, path, false, &data, &st);
		if (rc == ZNONODE) {
			rc = ZOK;       /* gone meanwhile: the watch fired */
			continue;
		}
		if (rc == ZOK && cj_broker_decode(data, b) == 0) {
			b->id = (int32_t)id;
			epochs[v->broker_count] = (struct cl_broker_epoch){ b->id, st.czxid };
			v->broker_count++;
		} else if (rc == ZOK) {
			broker_free(b);
			memset(b, 0, sizeof(*b));
		}
		free(data);
	}
	deallocate_String_vector(&kids);
	qsort(v->brokers, (size_t)v->broker_count, sizeof(*v->brokers), broker_cmp);
	qsort(epochs, (size_t)v->broker_count, sizeof(*epochs), epoch_cmp);
	return rc;
}

static int
read_state(struct cluster *cl, const char *topic, int32_t p, struct md_cluster_partition *mp)
{
	char path[CL_PATH_MAX], *data = NULL;
	struct Stat st;
	int rc;

	/* Topic names are at most 249 characters: a longer path is not ours. */
	if (snprintf(path, sizeof(path), "/brokers/topics/%s/partitions/%d/state", topic, p) >=
	    (int)sizeof(path))
		return ZBADARGUMENTS;
	/* Not there yet: an exists watch tells of its creation. Created
	 * between the two calls: that watch is for its next change, so read
	 * it now (Kafka's controller writes the state just after the topic). */
	for (;;) {
		rc = cluster_zk_get(cl, path, true, &data, &st);
		if (rc != ZNONODE)
			break;
		rc = zoo_wexists(cl->zh, path, cluster_zk_watcher, cl, &st);
		if (rc != ZOK)
			return rc == ZNONODE ? ZOK : rc;
	}
	if (rc != ZOK)
		return rc;
	if (cj_state_decode(data, mp) == 0) {
		mp->has_state = true;
		mp->partition_epoch = st.version;
	}
	free(data);
	return ZOK;
}

int
cluster_view_read_state(struct cluster *cl, const char *path)
{
	const char *name = path + strlen("/brokers/topics/"), *sep = strstr(name, "/partitions/");
	struct md_cluster_partition fresh = { 0 }, *mp;
	struct md_cluster_topic *t;
	char topic[CL_PATH_MAX];
	long p;
	int rc;

	if (sep == NULL || (size_t)(sep - name) >= sizeof(topic))
		return ZBADARGUMENTS;
	memcpy(topic, name, (size_t)(sep - name));
	topic[sep - name] = '\0';
	p = strtol(sep + strlen("/partitions/"), NULL, 10);
	t = cluster_view_topic(&cl->view, topic);
	if (t == NULL || p < 0 || p >= t->partition_count) {
		cluster_flag(cl, CL_EV_TOPICS);     /* a topic we have not read */
		return ZNONODE;
	}
	rc = read_state(cl, topic, (int32_t)p, &fresh);
	if (rc != ZOK)
		return rc;
	mp = &t->partitions[p];
	mp->has_state = fresh.has_state;
	if (fresh.has_state) {
		mp->leader = fresh.leader;
		mp->leader_epoch = fresh.leader_epoch;
		mp->partition_epoch = fresh.partition_epoch;
		mp->controller_epoch = fresh.controller_epoch;
		mp->isr_count = fresh.isr_count;
		memcpy(mp->isr, fresh.isr, sizeof(mp->isr));
	}
	return ZOK;
}

static int
read_configs(struct cluster *cl, const char *topic, struct cl_topic_configs *c)
{
	char path[CL_PATH_MAX], *data = NULL;
	struct Stat st;
	int rc;

	snprintf(path, sizeof(path), "/config/topics/%s", topic);
	c->name = strdup(topic);
	rc = cluster_zk_get(cl, path, false, &data, &st);
	if (rc == ZNONODE)
		return ZOK;
	if (rc == ZOK) {
		(void)cj_config_decode(data, c);
		free(data);
	}
	return rc;
}

/* One topic: assignment (watched), states, configs. ZNONODE: deleted. */
static int
read_topic(struct cluster *cl, const char *name, struct md_cluster_topic *t,
	   struct cl_topic_configs *c)
{
	char path[CL_PATH_MAX], *data = NULL;
	struct Stat st;
	int rc;

	snprintf(path, sizeof(path), "/brokers/topics/%s", name);
	rc = cluster_zk_get(cl, path, true, &data, &st);
	if (rc != ZOK)
		return rc;
	t->name = strdup(name);
	if (cj_topic_decode(data, t) != 0) {
		free(data);
		return ZNONODE;         /* unreadable: not a topic we can serve */
	}
	free(data);
	for (int32_t p = 0; p < t->partition_count && rc == ZOK; p++)
		rc = read_state(cl, name, p, &t->partitions[p]);
	if (rc == ZOK)
		rc = read_configs(cl, name, c);
	return rc;
}

static int
read_topics(struct cluster *cl, struct md_cluster *v, struct cl_topic_configs **configs,
	    int32_t *config_count)
{
	struct String_vector kids = { 0 }, changes = { 0 }, deletes = { 0 };
	struct cl_topic_configs *c;
	int rc = zoo_wget_children(cl->zh, "/brokers/topics", cluster_zk_watcher, cl, &kids);

	if (rc == ZOK)
		rc = zoo_wget_children(cl->zh, "/config/changes", cluster_zk_watcher, cl,
				       &changes);
	if (rc == ZOK)
		rc = zoo_wget_children(cl->zh, "/admin/delete_topics", cluster_zk_watcher, cl,
				       &deletes);
	deallocate_String_vector(&changes);
	deallocate_String_vector(&deletes);
	if (rc != ZOK) {
		deallocate_String_vector(&kids);
		return rc;
	}
	v->topics = calloc((size_t)kids.count + 1, sizeof(*v->topics));
	c = calloc((size_t)kids.count + 1, sizeof(*c));
	ASSERT(v->topics != NULL && c != NULL);
	for (int32_t i = 0; i < kids.count && rc == ZOK; i++) {
		struct md_cluster_topic *t = &v->topics[v->topic_count];

		rc = read_topic(cl, kids.data[i], t, &c[v->topic_count]);
		if (rc == ZOK) {
			v->topic_count++;
			continue;
		}
		free(t->name);
		free(t->partitions);
		memset(t, 0, sizeof(*t));
		configs_free(&c[v->topic_count]);
		memset(&c[v->topic_count], 0, sizeof(*c));
		if (rc == ZNONODE)
			rc = ZOK;       /* deleted meanwhile */
	}
	deallocate_String_vector(&kids);
	*configs = c;
	*config_count = v->topic_count;
	return rc;
}

static int
configs_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cl_topic_configs *)a)->name,
		      ((const struct cl_topic_configs *)b)->name);
}

int
cluster_view_read(struct cluster *cl)
{
	struct md_cluster v = { .controller_id = -1 };
	struct cl_topic_configs *configs = NULL;
	struct cl_broker_epoch *epochs = NULL;
	int32_t config_count = 0;
	int rc = read_controller(cl, &v);

	if (rc == ZOK)
		rc = read_brokers(cl, &v, &epochs);
	if (rc == ZOK)
		rc = read_topics(cl, &v, &configs, &config_count);
	if (rc != ZOK) {
		cluster_view_free(&v, configs, config_count);
		free(epochs);
		return rc;
	}
	qsort(v.topics, (size_t)v.topic_count, sizeof(*v.topics), topic_cmp_name);
	qsort(configs, (size_t)config_count, sizeof(*configs), configs_cmp);
	cluster_view_free(&cl->view, cl->config_topics, cl->config_topic_count);
	cl->view = v;
	free(cl->epochs);
	cl->epochs = epochs;
	cl->config_topics = configs;
	cl->config_topic_count = config_count;
	return ZOK;
}

static const struct cl_topic_configs *
configs_find(const struct cluster *cl, const char *name)
{
	int32_t lo = 0, hi = cl->config_topic_count - 1;

	while (lo <= hi) {
		int32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(cl->config_topics[mid].name, name);

		if (c == 0)
			return &cl->config_topics[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

int32_t
cluster_topic_config_count(const struct cluster *cl, const char *name)
{
	const struct cl_topic_configs *c = configs_find(cl, name);

	return c != NULL ? c->count : 0;
}

const struct md_config *
cluster_topic_configs(const struct cluster *cl, const char *name)
{
	const struct cl_topic_configs *c = configs_find(cl, name);

	return c != NULL ? c->configs : NULL;
}
