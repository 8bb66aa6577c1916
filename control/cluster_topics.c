/* SPDX-License-Identifier: Apache-2.0 */
/* Topic admin from any broker, as Kafka's AdminZkClient: create writes
 * /config/topics/<t> and then /brokers/topics/<t> with a rack-aware
 * assignment over the live brokers (the controller creates the states);
 * partitions are added by rewriting the topic znode at its version;
 * deletion is a /admin/delete_topics/<t> marker the controller acts on;
 * config overrides are rewritten and announced by a sequential
 * /config/changes/config_change_ notification. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "control/cluster_int.h"

#define CL_CHANGES_KEPT 100

static int16_t
zk_error(int rc, char *msg, size_t msg_size)
{
	snprintf(msg, msg_size, "ZooKeeper: %s", zerror(rc));
	return KP_ERR_UNKNOWN_SERVER_ERROR;
}

/* Assign count partitions from first over the live brokers. */
static int16_t
assign(const struct cluster *cl, int32_t count, int16_t rf, int32_t start_index,
       int32_t first, int32_t *replicas, char *msg, size_t msg_size)
{
	const struct md_cluster *v = &cl->view;
	int32_t ids[KP_BROKERS_ASSIGN_MAX];
	const char *racks[KP_BROKERS_ASSIGN_MAX];
	int32_t n = v->broker_count < KP_BROKERS_ASSIGN_MAX ? v->broker_count
							    : KP_BROKERS_ASSIGN_MAX;

	if (rf <= 0) {
		snprintf(msg, msg_size, "Replication factor must be larger than 0.");
		return KP_ERR_INVALID_REPLICATION_FACTOR;
	}
	if (rf > KP_REPLICAS_MAX) {
		snprintf(msg, msg_size, "Replication factor: %d larger than %d, the most a "
			 "partition can have here.", rf, KP_REPLICAS_MAX);
		return KP_ERR_INVALID_REPLICATION_FACTOR;
	}
	if (rf > n) {
		snprintf(msg, msg_size, "Replication factor: %d larger than available brokers: %d.",
			 rf, n);
		return KP_ERR_INVALID_REPLICATION_FACTOR;
	}
	for (int32_t i = 0; i < n; i++) {
		ids[i] = v->brokers[i].id;
		racks[i] = v->brokers[i].rack;
	}
	cluster_assign(ids, racks, n, count, rf, start_index, first, replicas);
	return KP_ERR_NONE;
}

static int
topic_path(char *buf, size_t size, const char *prefix, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", prefix, name);

	return n > 0 && (size_t)n < size && strchr(name, '/') == NULL && name[0] != '\0' &&
	       strcmp(name, ".") != 0 && strcmp(name, "..") != 0 ? 0 : -1;
}

/* Set or create a topic's config znode. */
static int
config_write(struct cluster *cl, const char *name, const struct md_config *configs,
	     int32_t count)
{
	char path[CL_PATH_MAX], *json = cj_config_encode(configs, count);
	int rc;

	(void)topic_path(path, sizeof(path), "/config/topics", name);
	rc = zoo_create(cl->zh, path, json, (int)strlen(json), &ZOO_OPEN_ACL_UNSAFE,
			ZOO_PERSISTENT, NULL, 0);
	if (rc == ZNODEEXISTS)
		rc = zoo_set(cl->zh, path, json, (int)strlen(json), -1);
	free(json);
	return rc;
}

static int16_t
create_write(struct cluster *cl, const char *name, const struct kp_uuid *id, int32_t count,
	     const int32_t *replicas, int16_t rf, const struct kp_topic_config *configs,
	     int32_t config_count, char *msg, size_t msg_size)
{
	struct md_config *mc = calloc((size_t)config_count + 1, sizeof(*mc));
	int32_t *counts = calloc((size_t)count, sizeof(*counts));
	char path[CL_PATH_MAX], *json;
	int rc;

	ASSERT(mc != NULL && counts != NULL);
	for (int32_t i = 0; i < config_count; i++) {
		mc[i].name = strndup(configs[i].name.ptr, (size_t)configs[i].name.len);
		mc[i].value = configs[i].value.len < 0 ? NULL :
			      strndup(configs[i].value.ptr, (size_t)configs[i].value.len);
	}
	for (int32_t p = 0; p < count; p++)
		counts[p] = rf;
	rc = config_write(cl, name, mc, config_count);
	for (int32_t i = 0; i < config_count; i++) {
		free(mc[i].name);
		free(mc[i].value);
	}
	free(mc);
	json = cj_topic_encode(id, count, counts, replicas);
	(void)topic_path(path, sizeof(path), "/brokers/topics", name);
	if (rc == ZOK)
		rc = zoo_create(cl->zh, path, json, (int)strlen(json), &ZOO_OPEN_ACL_UNSAFE,
				ZOO_PERSISTENT, NULL, 0);
	free(json);
	free(counts);
	if (rc == ZNODEEXISTS) {
		snprintf(msg, msg_size, "Topic '%s' already exists.", name);
		return KP_ERR_TOPIC_ALREADY_EXISTS;
	}
	return rc == ZOK ? KP_ERR_NONE : zk_error(rc, msg, msg_size);
}

static bool
marked_for_deletion(struct cluster *cl, const char *name)
{
	char path[CL_PATH_MAX];
	struct Stat st;

	return topic_path(path, sizeof(path), "/admin/delete_topics", name) == 0 &&
	       zoo_exists(cl->zh, path, 0, &st) == ZOK;
}

/* Kafka rejects a name equal to another once '.' and '_' are the same. */
static bool
colliding(const struct cluster *cl, const char *name, char *msg, size_t msg_size)
{
	for (int32_t i = 0; i < cl->view.topic_count; i++) {
		const char *other = cl->view.topics[i].name;
		size_t k = 0;

		while (name[k] != '\0' && (name[k] == other[k] ||
					    (strchr("._", name[k]) != NULL &&
					     other[k] != '\0' && strchr("._", other[k]) != NULL)))
			k++;
		if (name[k] == '\0' && other[k] == '\0') {
			snprintf(msg, msg_size, "Topic '%s' collides with existing topic: %s", name,
				 other);
			return true;
		}
	}
	return false;
}

int16_t
cluster_topic_create(struct cluster *cl, const char *name, const struct kp_uuid *id,
		     int32_t partition_count, int16_t replication_factor,
		     const struct kp_topic_config *configs, int32_t config_count,
		     bool validate_only, char *msg, size_t msg_size)
{
	return cluster_topic_create_assigned(cl, name, id, partition_count, replication_factor,
					     NULL, configs, config_count, validate_only, msg,
					     msg_size);
}

int16_t
cluster_topic_create_assigned(struct cluster *cl, const char *name, const struct kp_uuid *id,
			      int32_t partition_count, int16_t replication_factor,
			      const int32_t *assigned, const struct kp_topic_config *configs,
			      int32_t config_count, bool validate_only, char *msg,
			      size_t msg_size)
{
	char path[CL_PATH_MAX];
	struct kp_uuid fresh;
	struct Stat st;
	int32_t *replicas;
	int16_t err;
	int rc;

	msg[0] = '\0';
	if (topic_path(path, sizeof(path), "/brokers/topics", name) != 0) {
		snprintf(msg, msg_size, "Topic name '%s' is illegal.", name);
		return KP_ERR_INVALID_TOPIC_EXCEPTION;
	}
	if (partition_count <= 0 || partition_count > CL_DATA_MAX / 64) {
		if (partition_count <= 0)
			snprintf(msg, msg_size, "Number of partitions must be larger than 0.");
		else    /* the topic znode must fit ZooKeeper's 1 MiB */
			snprintf(msg, msg_size, "Number of partitions %d is above %d.",
				 partition_count, CL_DATA_MAX / 64);
		return KP_ERR_INVALID_PARTITIONS;
	}
	rc = zoo_exists(cl->zh, path, 0, &st);
	if (rc == ZOK) {
		if (marked_for_deletion(cl, name))
			snprintf(msg, msg_size, "Topic '%s' is marked for deletion.", name);
		else
			snprintf(msg, msg_size, "Topic '%s' already exists.", name);
		return KP_ERR_TOPIC_ALREADY_EXISTS;
	}
	if (rc != ZNONODE)
		return zk_error(rc, msg, msg_size);
	if (colliding(cl, name, msg, msg_size))
		return KP_ERR_INVALID_TOPIC_EXCEPTION;
	if (id == NULL) {
		md_uuid_random(&fresh);
		id = &fresh;
	}
	replicas = calloc((size_t)partition_count * KP_REPLICAS_MAX, sizeof(*replicas));
	ASSERT(replicas != NULL);
	if (assigned != NULL) {
		err = KP_ERR_NONE;
		memcpy(replicas, assigned,
		       (size_t)partition_count * KP_REPLICAS_MAX * sizeof(*replicas));
	} else {
		err = assign(cl, partition_count, replication_factor, -1, 0, replicas, msg,
			     msg_size);
	}
	if (err == KP_ERR_NONE && !validate_only)
		err = create_write(cl, name, id, partition_count, replicas, replication_factor,
				   configs, config_count, msg, msg_size);
	free(replicas);
	return err;
}

static int16_t
partitions_check(const struct md_cluster_topic *t, int32_t count, char *msg, size_t msg_size)
{
	if (count == t->partition_count) {
		snprintf(msg, msg_size, "Topic currently has %d partitions, which is equal to the "
			 "requested %d.", t->partition_count, count);
		return KP_ERR_INVALID_PARTITIONS;
	}
	if (count < t->partition_count) {
		snprintf(msg, msg_size, "Topic currently has %d partitions, %d would not be an "
			 "increase.", t->partition_count, count);
		return KP_ERR_INVALID_PARTITIONS;
	}
	if (count > CL_DATA_MAX / 64) {
		snprintf(msg, msg_size, "Number of partitions %d is above %d.", count,
			 CL_DATA_MAX / 64);
		return KP_ERR_INVALID_PARTITIONS;
	}
	return KP_ERR_NONE;
}

static int16_t
partitions_write(struct cluster *cl, const char *path, const struct md_cluster_topic *t,
		 int32_t count, int32_t *replicas, int32_t version, char *msg, size_t msg_size)
{
	int32_t *counts = calloc((size_t)count, sizeof(*counts));
	int16_t rf = (int16_t)t->partitions[0].replica_count;
	char *json;
	int rc;

	ASSERT(counts != NULL);
	for (int32_t p = 0; p < count; p++) {
		counts[p] = rf;
		if (p < t->partition_count) {
			counts[p] = t->partitions[p].replica_count;
			memcpy(replicas + (size_t)p * KP_REPLICAS_MAX, t->partitions[p].replicas,
			       sizeof(int32_t) * KP_REPLICAS_MAX);
		}
	}
	json = cj_topic_encode(&t->id, count, counts, replicas);
	rc = zoo_set(cl->zh, path, json, (int)strlen(json), version);
	free(json);
	free(counts);
	if (rc == ZBADVERSION) {
		snprintf(msg, msg_size, "The topic's assignment changed meanwhile; retry.");
		return KP_ERR_REASSIGNMENT_IN_PROGRESS;
	}
	return rc == ZOK ? KP_ERR_NONE : zk_error(rc, msg, msg_size);
}

/* Kafka refuses new partitions while a reassignment runs (the topic znode
 * written here would race the controller's). */
static int16_t
moving_check(const struct md_cluster_topic *t, const char *name, char *msg, size_t msg_size)
{
	for (int32_t p = 0; p < t->partition_count; p++)
		if (t->partitions[p].adding_count > 0 || t->partitions[p].removing_count > 0) {
			snprintf(msg, msg_size, "A partition reassignment is in progress for the "
				 "topic '%s'.", name);
			return KP_ERR_REASSIGNMENT_IN_PROGRESS;
		}
	return KP_ERR_NONE;
}

int16_t
cluster_partitions_add(struct cluster *cl, const char *name, int32_t count,
		       bool validate_only, char *msg, size_t msg_size)
{
	struct md_cluster_topic t = { 0 };
	char path[CL_PATH_MAX], *data = NULL;
	int32_t *replicas = NULL, start = -1;
	struct Stat st;
	int16_t err;
	int rc;

	msg[0] = '\0';
	if (topic_path(path, sizeof(path), "/brokers/topics", name) != 0)
		rc = ZNONODE;
	else
		rc = cluster_zk_get(cl, path, false, &data, &st);
	if (rc == ZNONODE) {
		snprintf(msg, msg_size, "The topic '%s' does not exist.", name);
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	if (rc != ZOK)
		return zk_error(rc, msg, msg_size);
	if (cj_topic_decode(data, &t) != 0) {
		free(data);
		free(t.partitions);
		snprintf(msg, msg_size, "The topic znode of '%s' is unreadable.", name);
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	free(data);
	err = moving_check(&t, name, msg, msg_size);
	if (err == KP_ERR_NONE)
		err = partitions_check(&t, count, msg, msg_size);
	if (err == KP_ERR_NONE && marked_for_deletion(cl, name)) {
		snprintf(msg, msg_size, "The topic is queued for deletion.");
		err = KP_ERR_INVALID_TOPIC_EXCEPTION;
	}
	for (int32_t i = 0; err == KP_ERR_NONE && i < cl->view.broker_count && start < 0; i++)
		if (cl->view.brokers[i].id >= t.partitions[0].replicas[0])
			start = i;      /* Kafka: the index of partition 0's first replica */
	if (err == KP_ERR_NONE) {
		replicas = calloc((size_t)count * KP_REPLICAS_MAX, sizeof(*replicas));
		ASSERT(replicas != NULL);
		err = assign(cl, count - t.partition_count,
			     (int16_t)t.partitions[0].replica_count, start, t.partition_count,
			     replicas, msg, msg_size);
	}
	if (err == KP_ERR_NONE && !validate_only)
		err = partitions_write(cl, path, &t, count, replicas, st.version, msg, msg_size);
	free(replicas);
	free(t.partitions);
	return err;
}

int16_t
cluster_topic_delete(struct cluster *cl, const char *name, char *msg, size_t msg_size)
{
	char path[CL_PATH_MAX];
	struct Stat st;
	int rc = ZNONODE;

	msg[0] = '\0';
	if (topic_path(path, sizeof(path), "/brokers/topics", name) == 0)
		rc = zoo_exists(cl->zh, path, 0, &st);
	if (rc == ZNONODE) {
		snprintf(msg, msg_size, "This server does not host this topic-partition.");
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	if (rc != ZOK)
		return zk_error(rc, msg, msg_size);
	(void)topic_path(path, sizeof(path), "/admin/delete_topics", name);
	rc = zoo_create(cl->zh, path, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
	if (rc != ZOK && rc != ZNODEEXISTS)
		return zk_error(rc, msg, msg_size);
	return KP_ERR_NONE;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every broker re-reads all configs on any notification, so only the
 * newest CL_CHANGES_KEPT are kept (Kafka purges by age, 15 minutes). */
static void
changes_purge(struct cluster *cl)
{
	struct String_vector kids = { 0 };

	if (zoo_get_children(cl->zh, "/config/changes", 0, &kids) != ZOK)
		return;
	qsort(kids.data, (size_t)kids.count, sizeof(kids.data[0]), name_cmp);
	for (int32_t i = 0; i + CL_CHANGES_KEPT < kids.count; i++) {
		char path[CL_PATH_MAX];

		snprintf(path, sizeof(path), "/config/changes/%s", kids.data[i]);
		(void)zoo_delete(cl->zh, path, -1);
	}
	deallocate_String_vector(&kids);
	cluster_changes_expire(cl, "/config/changes");
}

int16_t
cluster_topic_configs_set(struct cluster *cl, const char *name,
			  const struct md_config *configs, int32_t config_count)
{
	char path[CL_PATH_MAX], json[CL_PATH_MAX + 64];
	struct Stat st;
	int rc = ZNONODE;

	if (topic_path(path, sizeof(path), "/brokers/topics", name) == 0)
		rc = zoo_exists(cl->zh, path, 0, &st);
	if (rc == ZNONODE)
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	if (rc == ZOK)
		rc = config_write(cl, name, configs, config_count);
	/* Kafka's change notification: every broker re-reads topics/<t>. */
	snprintf(json, sizeof(json), "{\"version\":2,\"entity_path\":\"topics/%s\"}", name);
	if (rc == ZOK)
		rc = zoo_create(cl->zh, "/config/changes/config_change_", json, (int)strlen(json),
				&ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_SEQUENTIAL, NULL, 0);
	if (rc == ZOK)
		changes_purge(cl);
	return rc == ZOK ? KP_ERR_NONE : KP_ERR_UNKNOWN_SERVER_ERROR;
}
