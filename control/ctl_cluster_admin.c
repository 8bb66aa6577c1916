/* SPDX-License-Identifier: Apache-2.0 */
/* Topic admin in cluster mode: CreateTopics, DeleteTopics,
 * CreatePartitions and topic AlterConfigs write ZooKeeper (any broker may,
 * as in Kafka's ZooKeeper mode); the controller then creates or removes
 * the partition states, and the answer waits, bounded, until this broker's
 * view shows the result, so a client that creates a topic can produce to
 * it at once. Producer ids come from cluster-wide blocks. @thread control */
#include <errno.h>
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

/* How long an admin request waits for the controller's work to show. */
#define CTL_CLUSTER_ADMIN_WAIT_MS 15000
#define CTL_CLUSTER_ADMIN_POLL_MS 20

typedef bool ctl_cluster_done_fn(struct ctl *ctl, const void *arg);

/* Apply ZooKeeper's events until done() or the wait ends. */
static bool
ctl_cluster_admin_wait(struct ctl *ctl, ctl_cluster_done_fn *done, const void *arg)
{
	int64_t deadline = clock_wall_ms() + CTL_CLUSTER_ADMIN_WAIT_MS;

	for (;;) {
		ctl_cluster_poll_apply(ctl);
		if (done(ctl, arg))
			return true;
		if (clock_wall_ms() >= deadline)
			return false;
		ctl_cluster_wait_event(ctl, CTL_CLUSTER_ADMIN_POLL_MS);
	}
}

struct ctl_cluster_want {
	const char *name;
	const uint8_t *id;              /* NULL: any */
	int32_t partitions;             /* every one of them with a state */
};

static bool
ctl_cluster_has_states(struct ctl *ctl, const void *arg)
{
	const struct ctl_cluster_want *w = arg;
	const struct md_cluster_topic *vt = md_cluster_topic(cluster_view(ctl->cluster->cl),
							     kp_str_c(w->name));

	if (vt == NULL || vt->partition_count < w->partitions ||
	    (w->id != NULL && memcmp(vt->id.b, w->id, 16) != 0))
		return false;
	for (int32_t p = 0; p < w->partitions; p++)
		if (!vt->partitions[p].has_state)
			return false;
	return true;
}

static bool
ctl_cluster_gone(struct ctl *ctl, const void *arg)
{
	const struct ctl_cluster_want *w = arg;
	const struct md_cluster_topic *vt = md_cluster_topic(cluster_view(ctl->cluster->cl),
							     kp_str_c(w->name));

	return vt == NULL || memcmp(vt->id.b, w->id, 16) != 0;
}

int16_t
ctl_cluster_topic_create(struct ctl *ctl, const struct kp_topic_spec *spec, bool validate_only,
			 struct kp_uuid *id_out, char *msg, size_t msg_size)
{
	char name[256];
	struct ctl_cluster_want w = { .name = name, .partitions = spec->partition_count };
	int16_t err;

	snprintf(name, sizeof(name), "%.*s", (int)spec->name.len, spec->name.ptr);
	md_uuid_random(id_out);
	err = cluster_topic_create_assigned(ctl->cluster->cl, name, id_out,
					    spec->partition_count, spec->replication_factor,
					    spec->replicas, spec->configs, spec->config_count,
					    validate_only, msg, msg_size);
	if (err != KP_ERR_NONE || validate_only)
		return err;
	w.id = id_out->b;
	log_info("cluster", "created topic %s with %d partition(s), replication factor %d",
		 name, spec->partition_count, spec->replication_factor);
	if (!ctl_cluster_admin_wait(ctl, ctl_cluster_has_states, &w)) {
		snprintf(msg, msg_size, "Timed out waiting for the leaders of topic %s.", name);
		return KP_ERR_REQUEST_TIMED_OUT;
	}
	return KP_ERR_NONE;
}

int16_t
ctl_cluster_topic_delete(struct ctl *ctl, const struct kp_md_topic *topic, char *msg,
			 size_t msg_size)
{
	char name[256];
	struct ctl_cluster_want w = { .name = name, .id = topic->id.b };
	int16_t err;

	snprintf(name, sizeof(name), "%.*s", (int)topic->name.len, topic->name.ptr);
	err = cluster_topic_delete(ctl->cluster->cl, name, msg, msg_size);
	if (err != KP_ERR_NONE)
		return err;
	if (!ctl_cluster_admin_wait(ctl, ctl_cluster_gone, &w)) {
		snprintf(msg, msg_size, "Timed out waiting for the deletion of topic %s.", name);
		return KP_ERR_REQUEST_TIMED_OUT;
	}
	return KP_ERR_NONE;
}

int16_t
ctl_cluster_partitions_create(struct ctl *ctl, const struct kp_md_topic *topic, int32_t count,
			      bool validate_only, char *msg, size_t msg_size)
{
	char name[256];
	struct ctl_cluster_want w = { .name = name, .id = topic->id.b, .partitions = count };
	int16_t err;

	snprintf(name, sizeof(name), "%.*s", (int)topic->name.len, topic->name.ptr);
	err = cluster_partitions_add(ctl->cluster->cl, name, count, validate_only, msg, msg_size);
	if (err != KP_ERR_NONE || validate_only)
		return err;
	if (!ctl_cluster_admin_wait(ctl, ctl_cluster_has_states, &w)) {
		snprintf(msg, msg_size, "Timed out waiting for the leaders of topic %s.", name);
		return KP_ERR_REQUEST_TIMED_OUT;
	}
	return KP_ERR_NONE;
}

int16_t
ctl_cluster_topic_configs_set(struct ctl *ctl, const struct md_topic *t,
			      const struct kp_topic_config *configs, int32_t count)
{
	struct md_config *c = calloc((size_t)count + 1, sizeof(*c));
	bool oom = c == NULL;
	int16_t err;

	for (int32_t i = 0; !oom && i < count; i++) {
		c[i].name = strndup(configs[i].name.ptr, (size_t)MAX(configs[i].name.len, 0));
		if (configs[i].value.len >= 0)
			c[i].value = strndup(configs[i].value.ptr, (size_t)configs[i].value.len);
		oom = c[i].name == NULL || (configs[i].value.len >= 0 && c[i].value == NULL);
	}
	err = oom ? KP_ERR_UNKNOWN_SERVER_ERROR
		  : cluster_topic_configs_set(ctl->cluster->cl, t->name, c, count);
	for (int32_t i = 0; c != NULL && i < count; i++) {
		free(c[i].name);
		free(c[i].value);
	}
	free(c);
	return err;
}

int16_t
ctl_cluster_producer_id_next(struct ctl *ctl, int64_t *pid_out)
{
	struct ctl_cluster *cc = ctl->cluster;

	if (cc->pid_next >= cc->pid_end) {
		int64_t first, count;
		int rc = cluster_producer_id_block(cc->cl, &first, &count);

		if (rc != 0) {
			log_warn("cluster", "no producer id block from ZooKeeper: %s",
				 strerror(-rc));
			return KP_ERR_COORDINATOR_NOT_AVAILABLE;
		}
		cc->pid_next = first;
		cc->pid_end = first + count;
	}
	*pid_out = cc->pid_next++;
	return KP_ERR_NONE;
}
