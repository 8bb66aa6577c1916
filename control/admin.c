/* SPDX-License-Identifier: Apache-2.0 */
/* The admin operations protocol handlers call on the control thread
 * (struct kp_admin_ops): topic create/delete, partition growth and config
 * description, over the persistent topic store. Each change is durable on
 * disk before it is reported as done. @thread control */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/compiler.h"
#include "common/log.h"
#include "control/config.h"
#include "control/ctl_cluster.h"
#include "control/ctl_int.h"
#include "control/ctl_sasl.h"
#include "control/group/grp.h"
#include "control/topic_config.h"
#include "storage/st.h"

/* Bounds on a stored topic config override, raw (before trimming). */
#define ADMIN_CONFIG_NAME_BYTES_MAX 255
#define ADMIN_CONFIG_VALUE_BYTES_MAX 1024

enum {
	ADMIN_RESOURCE_TOPIC = 2,
	ADMIN_RESOURCE_BROKER = 4,
	ADMIN_RESOURCE_BROKER_LOGGER = 8,
	ADMIN_RESOURCE_CLIENT_METRICS = 16,
};

static struct kp_topic_config *admin_overrides(const struct md_topic *t);

static int16_t
admin_check_configs(const struct kp_topic_spec *spec, char *msg, size_t msg_size)
{
	for (int32_t i = 0; i < spec->config_count; i++) {
		const struct kp_topic_config *c = &spec->configs[i];
		int16_t err;

		if (c->name.len > ADMIN_CONFIG_NAME_BYTES_MAX ||
		    c->value.len > ADMIN_CONFIG_VALUE_BYTES_MAX) {
			snprintf(msg, msg_size, "Config %.*s: name or value too long (at most %d "
				 "and %d bytes)", (int)MIN(c->name.len, 64), c->name.ptr,
				 ADMIN_CONFIG_NAME_BYTES_MAX, ADMIN_CONFIG_VALUE_BYTES_MAX);
			return KP_ERR_INVALID_CONFIG;
		}
		if (c->value.len < 0) {
			snprintf(msg, msg_size, "Null value not supported for topic configs: %.*s",
				 (int)c->name.len, c->name.ptr);
			return KP_ERR_INVALID_CONFIG;
		}
		for (int32_t j = 0; j < i; j++) {
			if (kp_str_eq(spec->configs[j].name, c->name)) {
				snprintf(msg, msg_size, "Duplicate config key: %.*s",
					 (int)c->name.len, c->name.ptr);
				return KP_ERR_INVALID_REQUEST;
			}
		}
		err = topic_config_validate(c->name, c->value, msg, msg_size);
		if (err != KP_ERR_NONE)
			return err;
	}
	return KP_ERR_NONE;
}

static int16_t
admin_topic_create(void *ctx, const struct kp_topic_spec *spec, bool validate_only,
		   struct kp_uuid *id_out, char *msg, size_t msg_size)
{
	struct ctl *ctl = ctx;
	const struct md_topic *other;
	int16_t err;
	int rc;

	if (md_store_find(&ctl->store, spec->name) != NULL) {
		snprintf(msg, msg_size, "Topic '%.*s' already exists.", (int)spec->name.len,
			 spec->name.ptr);
		return KP_ERR_TOPIC_ALREADY_EXISTS;
	}
	other = md_store_find_colliding(&ctl->store, spec->name);
	if (other != NULL) {
		snprintf(msg, msg_size, "Topic '%.*s' collides with existing topic: %s",
			 (int)spec->name.len, spec->name.ptr, other->name);
		return KP_ERR_INVALID_TOPIC_EXCEPTION;
	}
	err = admin_check_configs(spec, msg, msg_size);
	if (err != KP_ERR_NONE)
		return err;
	if (ctl->cluster != NULL)
		return ctl_cluster_topic_create(ctl, spec, validate_only, id_out, msg, msg_size);
	if (validate_only)
		return err;
	md_uuid_random(id_out);
	/* Logs first, then the store: a failure leaves the store as it was
	 * (storage undoes its part), and a crash in between leaves only
	 * directories the start-up sweep removes. */
	rc = ctl_storage_create(ctl, spec->name, id_out, 0, spec->partition_count, spec->configs,
				spec->config_count);
	if (rc != 0) {
		snprintf(msg, msg_size, "Could not create the partition logs: %s", strerror(-rc));
		return KP_ERR_KAFKA_STORAGE_ERROR;
	}
	rc = md_store_topic_add(&ctl->store, spec->name, id_out, spec->partition_count,
				spec->configs, spec->config_count);
	if (rc != 0) {
		ctl_storage_remove(ctl, spec->name, id_out, 0, spec->partition_count);
		snprintf(msg, msg_size, "Could not persist topic metadata: %s", strerror(-rc));
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	ctl->md_dirty = true;
	log_info("control", "created topic %.*s with %d partition(s)", (int)spec->name.len,
		 spec->name.ptr, spec->partition_count);
	return KP_ERR_NONE;
}

static int16_t
admin_topic_delete(void *ctx, const struct kp_md_topic *topic, char *msg, size_t msg_size)
{
	struct ctl *ctl = ctx;
	int rc;

	if (!ctl->cfg->delete_topic_enable) {
		snprintf(msg, msg_size, "Topic deletion is disabled.");
		return KP_ERR_TOPIC_DELETION_DISABLED;
	}
	if (ctl->cluster != NULL)
		return ctl_cluster_topic_delete(ctl, topic, msg, msg_size);
	rc = md_store_topic_remove(&ctl->store, &topic->id);
	if (rc == -ENOENT) {
		snprintf(msg, msg_size, "This server does not host this topic-partition.");
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	if (rc != 0) {
		snprintf(msg, msg_size, "Could not persist topic metadata: %s", strerror(-rc));
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	ctl->md_dirty = true;
	if (ctl->st != NULL) {
		/* The topic is gone from the store: a failure here leaves files
		 * behind, not a topic; say so and go on. */
		char name[256];

		snprintf(name, sizeof(name), "%.*s", (int)topic->name.len, topic->name.ptr);
		rc = st_topic_delete(ctl->st, topic->id.b, name, topic->partition_count);
		if (rc != 0)
			log_warn("control", "topic %s: deleting its logs failed: %s", name,
				 strerror(-rc));
	}
	log_info("control", "deleted topic %.*s", (int)topic->name.len, topic->name.ptr);
	return KP_ERR_NONE;
}

static int16_t
admin_partitions_create(void *ctx, const struct kp_md_topic *topic, int32_t count,
			bool validate_only, char *msg, size_t msg_size)
{
	struct ctl *ctl = ctx;
	struct kp_topic_config *o;
	const struct md_topic *t;
	int32_t from;
	int rc;

	if (ctl->cluster != NULL)
		return ctl_cluster_partitions_create(ctl, topic, count, validate_only, msg,
						     msg_size);
	if (validate_only)
		return KP_ERR_NONE;
	t = md_store_find(&ctl->store, topic->name);
	if (t == NULL || memcmp(t->id.b, topic->id.b, sizeof(t->id.b)) != 0) {
		snprintf(msg, msg_size, "This server does not host this topic-partition.");
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	o = admin_overrides(t);
	if (o == NULL) {
		snprintf(msg, msg_size, "Out of memory");
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	/* As for a new topic: the new logs first, then the store. */
	rc = ctl_storage_create(ctl, topic->name, &topic->id, t->partition_count, count, o,
				t->config_count);
	free(o);
	if (rc != 0) {
		snprintf(msg, msg_size, "Could not create the partition logs: %s", strerror(-rc));
		return KP_ERR_KAFKA_STORAGE_ERROR;
	}
	from = t->partition_count;
	rc = md_store_partitions_set(&ctl->store, &topic->id, count);
	if (rc != 0) {
		ctl_storage_remove(ctl, topic->name, &topic->id, from, count);
		snprintf(msg, msg_size, "Could not persist topic metadata: %s", strerror(-rc));
		return rc == -ENOENT ? KP_ERR_UNKNOWN_TOPIC_OR_PARTITION
				     : KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	ctl->md_dirty = true;
	log_info("control", "topic %.*s now has %d partition(s)", (int)topic->name.len,
		 topic->name.ptr, count);
	return KP_ERR_NONE;
}

/* A topic's overrides as kp_topic_config views of the store's strings. */
static struct kp_topic_config *
admin_overrides(const struct md_topic *t)
{
	struct kp_topic_config *out = calloc((size_t)(t->config_count + 1), sizeof(*out));

	for (int32_t i = 0; out != NULL && i < t->config_count; i++) {
		out[i].name = kp_str_c(t->configs[i].name);
		out[i].value = kp_str_c(t->configs[i].value);
	}
	return out;
}

static int16_t
admin_describe_broker(struct ctl *ctl, struct kp_str resource, const struct kp_str *names,
		      int32_t name_count, bool synonyms, bool docs, kp_config_entry_fn *fn,
		      void *arg, char *msg, size_t msg_size)
{
	char text[16];
	char *end;
	long id;

	/* An empty name means the cluster-wide dynamic defaults (Kafka's
	 * DynamicBrokerConfig): only those set. */
	if (resource.len <= 0) {
		config_describe_broker_default(ctl->cfg, names, names == NULL ? -1 : name_count,
					       synonyms, docs, fn, arg);
		admin_configs_describe_unknown(ctl, false, names, name_count, synonyms, fn, arg);
		return KP_ERR_NONE;
	}
	snprintf(text, sizeof(text), "%.*s", (int)(resource.len < 15 ? resource.len : 15),
		 resource.ptr);
	id = strtol(text, &end, 10);
	if (*end != '\0' || resource.len >= 15) {
		snprintf(msg, msg_size, "Broker id must be an integer, but it is: %.*s",
			 (int)resource.len, resource.ptr);
		return KP_ERR_INVALID_REQUEST;
	}
	if (id != ctl->cfg->node_id) {
		snprintf(msg, msg_size, "Unexpected broker id, expected %d or empty "
			 "string, but received %ld", ctl->cfg->node_id, id);
		return KP_ERR_INVALID_REQUEST;
	}
	config_describe_broker(ctl->cfg, names, names == NULL ? -1 : name_count, synonyms, docs,
			       fn, arg);
	admin_configs_describe_unknown(ctl, true, names, name_count, synonyms, fn, arg);
	return KP_ERR_NONE;
}

static int16_t
admin_configs_describe(void *ctx, int8_t resource_type, struct kp_str resource,
		       const struct kp_str *names, int32_t name_count, bool synonyms, bool docs,
		       kp_config_entry_fn *fn, void *arg, char *msg, size_t msg_size)
{
	struct ctl *ctl = ctx;
	const struct md_topic *t;
	struct kp_topic_config *overrides;

	switch (resource_type) {
	case ADMIN_RESOURCE_TOPIC:
		t = md_store_find(&ctl->store, resource);
		if (t == NULL)
			return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;       /* Kafka: message "" */
		overrides = admin_overrides(t);
		if (overrides == NULL) {
			snprintf(msg, msg_size, "Out of memory");
			return KP_ERR_UNKNOWN_SERVER_ERROR;
		}
		topic_config_describe(ctl->cfg, overrides, t->config_count, names,
				      names == NULL ? -1 : name_count, synonyms, docs, fn, arg);
		free(overrides);
		return KP_ERR_NONE;
	case ADMIN_RESOURCE_BROKER:
		return admin_describe_broker(ctl, resource, names, name_count, synonyms, docs,
					     fn, arg, msg, msg_size);
	case ADMIN_RESOURCE_BROKER_LOGGER:
		snprintf(msg, msg_size, "Describing broker loggers is not supported by Spillway.");
		return KP_ERR_INVALID_REQUEST;
	case ADMIN_RESOURCE_CLIENT_METRICS:
		/* No client-metrics subscriptions exist: an empty list, as Kafka
		 * answers for a name it has no configs for. */
		if (resource.len <= 0) {
			snprintf(msg, msg_size,
				 "Client metrics subscription name must not be empty");
			return KP_ERR_INVALID_REQUEST;
		}
		return KP_ERR_NONE;
	default:
		snprintf(msg, msg_size, "Unsupported resource type %d.", resource_type);
		return KP_ERR_INVALID_REQUEST;
	}
}

static void
admin_topic_spec_configs(void *ctx, const struct kp_topic_spec *spec, kp_config_entry_fn *fn,
			 void *arg)
{
	struct ctl *ctl = ctx;

	topic_config_describe(ctl->cfg, spec->configs, spec->config_count, NULL, -1, false, false,
			      fn, arg);
}

/* Kafka's settings for the internal topics it auto-creates
 * (GroupCoordinator.groupMetadataTopicConfigs, TransactionStateManager.
 * transactionTopicConfigs; segment.bytes are the offsets.topic.segment.bytes
 * and transaction.state.log.segment.bytes defaults). */
static const struct kp_topic_config admin_offsets_configs[] = {
	{ { "cleanup.policy", 14 }, { "compact", 7 } },
	{ { "compression.type", 16 }, { "producer", 8 } },
	{ { "segment.bytes", 13 }, { "104857600", 9 } },
};
static const struct kp_topic_config admin_txn_configs[] = {
	{ { "cleanup.policy", 14 }, { "compact", 7 } },
	{ { "compression.type", 16 }, { "uncompressed", 12 } },
	{ { "segment.bytes", 13 }, { "104857600", 9 } },
	{ { "unclean.leader.election.enable", 30 }, { "false", 5 } },
};

static int16_t
admin_topic_auto_create(void *ctx, struct kp_str name, char *msg, size_t msg_size)
{
	struct ctl *ctl = ctx;
	struct kp_topic_spec spec = {
		.name = name,
		.partition_count = ctl->cfg->num_partitions,
		.replication_factor = ctl->cfg->default_replication_factor,
	};
	struct kp_topic_config offsets[ARRAY_LEN(admin_offsets_configs)];
	char segment[16];
	struct kp_uuid id;

	if (kp_str_eq(name, kp_str_c("__cluster_metadata"))) {
		snprintf(msg, msg_size, "Creation of internal topic __cluster_metadata is "
			 "prohibited.");
		return KP_ERR_INVALID_REQUEST;
	}
	if (kp_str_eq(name, kp_str_c("__consumer_offsets"))) {
		spec.partition_count = ctl->cfg->offsets_topic_num_partitions;
		spec.replication_factor = ctl->cfg->offsets_topic_replication_factor;
		/* segment.bytes is offsets.topic.segment.bytes (the last entry). */
		memcpy(offsets, admin_offsets_configs, sizeof(offsets));
		snprintf(segment, sizeof(segment), "%d", ctl->cfg->offsets_topic_segment_bytes);
		offsets[ARRAY_LEN(offsets) - 1].value = kp_str_c(segment);
		spec.configs = offsets;
		spec.config_count = (int32_t)ARRAY_LEN(offsets);
	} else if (kp_str_eq(name, kp_str_c("__transaction_state"))) {
		spec.partition_count = ctl->cfg->transaction_state_log_num_partitions;
		spec.configs = admin_txn_configs;
		spec.config_count = (int32_t)ARRAY_LEN(admin_txn_configs);
	}
	return admin_topic_create(ctx, &spec, false, &id, msg, msg_size);
}

static int16_t
admin_producer_id_next(void *ctx, int64_t *pid_out)
{
	struct ctl *ctl = ctx;

	if (ctl->cluster != NULL)
		return ctl_cluster_producer_id_next(ctl, pid_out);
	return pid_alloc_next(&ctl->pids, pid_out) == 0 ? KP_ERR_NONE
							 : KP_ERR_UNKNOWN_SERVER_ERROR;
}

/* A single broker leads every partition it has, as their only replica:
 * no election is ever needed. */
static void
admin_leaders_elect(void *ctx, int8_t type, struct kp_elect *parts, int32_t count,
		    int32_t timeout_ms)
{
	struct ctl *ctl = ctx;

	if (ctl->cluster != NULL) {
		ctl_cluster_leaders_elect(ctl, type, parts, count, timeout_ms);
		return;
	}
	for (int32_t i = 0; i < count; i++)
		parts[i].error = KP_ERR_ELECTION_NOT_NEEDED;
}

static const struct kp_md *
admin_md(void *ctx)
{
	return ctl_md(ctx);
}

static const struct kp_md *
admin_md_fresh(void *ctx)
{
	return ctl_md_rebuild(ctx);
}

/* The group coordinator's APIs: handed over whole (control/group/). */
static enum kp_verdict
admin_group(void *ctx, struct kp_group_call *call)
{
	struct ctl *ctl = ctx;

	return grp_coord_handle(ctl->groups, call);
}

const struct kp_admin_ops ctl_admin_ops = {
	.topic_create = admin_topic_create,
	.topic_delete = admin_topic_delete,
	.partitions_create = admin_partitions_create,
	.configs_describe = admin_configs_describe,
	.configs_alter = admin_configs_alter,
	.topic_spec_configs = admin_topic_spec_configs,
	.topic_auto_create = admin_topic_auto_create,
	.producer_id_next = admin_producer_id_next,
	.md = admin_md,
	.md_fresh = admin_md_fresh,
	.group = admin_group,
	.log_dir_describe = ctl_log_dir_describe,
	.quotas_describe = ctl_quota_describe,
	.quota_alter = ctl_quota_alter,
	.acls_create = ctl_acl_create,
	.acls_describe = ctl_acl_describe,
	.acls_delete = ctl_acl_delete,
	.sasl_handshake = ctl_sasl_handshake,
	.sasl_authenticate = ctl_sasl_authenticate,
	.scram_user = ctl_scram_user,
	.scram_user_at = ctl_scram_user_at,
	.scram_alter = ctl_scram_alter,
	.leaders_elect = admin_leaders_elect,
	.reassign = ctl_reassign,
	.reassign_list = ctl_reassign_list,
};
