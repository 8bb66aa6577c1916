/* SPDX-License-Identifier: Apache-2.0 */
/* CreateTopics (key 19), versions 2-7, on the control thread. Checks each
 * topic the way Kafka's controller does (names, duplicates, -1 defaults,
 * replica assignments, the single-broker replication limit, configs) and
 * creates it unless validate_only. Errors, messages and the order of results
 * follow Kafka 3.9's ControllerApis.createTopics: the topics named once in
 * request order, then each duplicated name once, then __cluster_metadata. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/compiler.h"
#include "protocol/gen/kp_msg_create_topics.h"
#include "protocol/kp_int.h"

/* Config overrides accepted per topic; Kafka has about 40 topic configs. */
#define CREATE_TOPICS_CONFIGS_MAX 64
/* KRaft's metadata log: Kafka refuses to create it, also validate_only. */
#define CREATE_TOPICS_CLUSTER_METADATA "__cluster_metadata"

static struct kp_str
create_topics_next_name(struct kp_cursor *it, int16_t version)
{
	struct kp_create_topics_request_creatable_topic t;

	kp_create_topics_request_creatable_topic_decode(it, version, &t);
	return t.name;
}

/* validate_only: Kafka's controller draws the topic's id before it checks
 * validateOnly, so the answer carries a fresh random id that names no topic
 * (not the zero id); drawn as Kafka's Uuid.randomUuid (never zero, never
 * Uuid.ONE, never a base64 form starting with '-'). */
static void
create_topics_throwaway_id(struct kp_uuid *id)
{
	for (;;) {
		size_t got = 0;

		while (got < sizeof(id->b)) {
			ssize_t n = getrandom(id->b + got, sizeof(id->b) - got, 0);

			if (n > 0)
				got += (size_t)n;
		}
		bool one = id->b[15] == 1;

		for (int i = 0; i < 15; i++)
			one = one && id->b[i] == 0;
		if ((id->b[0] >> 2) != 62 && !kp_uuid_is_zero(id) && !one)
			return;
	}
}

/* One partition's brokers of an assignment: on a single broker only this
 * broker, once; in cluster mode any ids (Kafka's ZooKeeper mode does not
 * ask whether they are alive), none twice, stored in row. */
static int16_t
create_topics_replicas(const struct kp_md *md, const struct kp_array *broker_ids,
		       int32_t *row, char *msg, size_t msg_size)
{
	struct kp_cursor ids = kp_array_cursor(broker_ids);

	if (md->cluster && broker_ids->count > KP_REPLICAS_MAX) {
		snprintf(msg, msg_size, "Replication factor %d is above this broker's limit of "
			 "%d.", broker_ids->count, KP_REPLICAS_MAX);
		return KP_ERR_INVALID_REPLICATION_FACTOR;
	}
	for (int32_t b = 0; b < broker_ids->count; b++) {
		int32_t broker = kp_read_i32(&ids);

		if (!md->cluster && broker != md->broker_id) {
			snprintf(msg, msg_size, "Unknown broker %d in replica assignment",
				 broker);
			return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
		}
		for (int32_t k = 0; md->cluster && k < b; k++) {
			if (row[k] == broker) {
				snprintf(msg, msg_size, "Duplicate replica assignment found: "
					 "broker %d twice", broker);
				return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
			}
		}
		if (md->cluster)
			row[b] = broker;
	}
	if (!md->cluster && broker_ids->count > 1) {
		snprintf(msg, msg_size, "Duplicate brokers not allowed in replica "
			 "assignment: %d", md->broker_id);
		return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
	}
	return KP_ERR_NONE;
}

/* A replica assignment fixes the partition count and replication factor;
 * in cluster mode replicas (partition count rows of KP_REPLICAS_MAX) gets
 * it. */
static int16_t
create_topics_assignment(const struct kp_md *md, int16_t version,
			 const struct kp_create_topics_request_creatable_topic *t,
			 struct kp_topic_spec *spec, int32_t *replicas, char *msg,
			 size_t msg_size)
{
	struct kp_cursor it = kp_array_cursor(&t->assignments);

	if (t->num_partitions != -1 || t->replication_factor != -1) {
		snprintf(msg, msg_size, "Both numPartitions or replicationFactor and "
			 "replicasAssignments were set. Both cannot be used at the same time.");
		return KP_ERR_INVALID_REQUEST;
	}
	spec->partition_count = t->assignments.count;
	spec->replication_factor = -1;
	for (int32_t i = 0; i < t->assignments.count; i++) {
		struct kp_create_topics_request_creatable_replica_assignment a;
		int32_t *row;
		int16_t err;

		kp_create_topics_request_creatable_replica_assignment_decode(&it, version, &a);
		if (a.partition_index != i) {
			snprintf(msg, msg_size, "Partitions should be a consecutive 0-based "
				 "integer sequence");
			return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
		}
		if (spec->replication_factor == -1)
			spec->replication_factor = (int16_t)MIN(a.broker_ids.count, INT16_MAX);
		if (a.broker_ids.count != spec->replication_factor) {
			snprintf(msg, msg_size, "All partitions should have the same number "
				 "of replicas");
			return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
		}
		row = replicas != NULL ? &replicas[i * KP_REPLICAS_MAX] : NULL;
		err = create_topics_replicas(md, &a.broker_ids, row, msg, msg_size);
		if (err != KP_ERR_NONE)
			return err;
	}
	spec->replicas = replicas;
	return KP_ERR_NONE;
}

/* Cluster mode: the checks of Kafka's ZooKeeper mode
 * (AdminUtils.assignReplicasToBrokers over the live brokers). */
static int16_t
create_topics_zk_layout(const struct kp_md *md, const struct kp_topic_spec *spec, char *msg,
			size_t msg_size)
{
	if (spec->partition_count <= 0) {
		snprintf(msg, msg_size, "Number of partitions must be larger than 0.");
		return KP_ERR_INVALID_PARTITIONS;
	}
	if (spec->partition_count > KP_TOPIC_PARTITIONS_MAX) {
		snprintf(msg, msg_size, "Number of partitions %d is above this broker's limit "
			 "of %d.", spec->partition_count, KP_TOPIC_PARTITIONS_MAX);
		return KP_ERR_INVALID_PARTITIONS;
	}
	if (spec->replication_factor <= 0) {
		snprintf(msg, msg_size, "Replication factor must be larger than 0.");
		return KP_ERR_INVALID_REPLICATION_FACTOR;
	}
	if (spec->replication_factor > md->broker_count) {
		snprintf(msg, msg_size, "Replication factor: %d larger than available brokers: %d.",
			 spec->replication_factor, md->broker_count);
		return KP_ERR_INVALID_REPLICATION_FACTOR;
	}
	if (spec->replication_factor > KP_REPLICAS_MAX) {
		snprintf(msg, msg_size, "Replication factor %d is above this broker's limit of %d.",
			 spec->replication_factor, KP_REPLICAS_MAX);
		return KP_ERR_INVALID_REPLICATION_FACTOR;
	}
	return KP_ERR_NONE;
}

/* Resolve partition count and replication factor from the explicit values
 * (-1: the broker default) or from a replica assignment, then check them. */
static int16_t
create_topics_layout(const struct kp_md *md, int16_t version,
		     const struct kp_create_topics_request_creatable_topic *t,
		     struct kp_topic_spec *spec, int32_t *replicas, char *msg, size_t msg_size)
{
	int16_t err;

	spec->partition_count = t->num_partitions == -1 ? md->num_partitions : t->num_partitions;
	spec->replication_factor = t->replication_factor == -1 ? md->default_replication_factor
							       : t->replication_factor;
	if (t->assignments.count > 0) {
		err = create_topics_assignment(md, version, t, spec, replicas, msg, msg_size);
		if (err != KP_ERR_NONE || md->cluster)
			return err;
	}
	if (md->cluster)
		return create_topics_zk_layout(md, spec, msg, msg_size);
	if (spec->partition_count <= 0) {
		snprintf(msg, msg_size, "Number of partitions was set to an invalid non-positive "
			 "value.");
		return KP_ERR_INVALID_PARTITIONS;
	}
	if (spec->partition_count > KP_TOPIC_PARTITIONS_MAX) {
		snprintf(msg, msg_size, "Number of partitions %d is above this broker's limit "
			 "of %d.", spec->partition_count, KP_TOPIC_PARTITIONS_MAX);
		return KP_ERR_INVALID_PARTITIONS;
	}
	if (spec->replication_factor <= 0) {
		snprintf(msg, msg_size, "Replication factor must be larger than 0, or -1 to use "
			 "the default value.");
		return KP_ERR_INVALID_REPLICATION_FACTOR;
	}
	if (spec->replication_factor > 1) {
		snprintf(msg, msg_size, "Unable to replicate the partition %d time(s): The target "
			 "replication factor of %d cannot be reached because only 1 broker(s) "
			 "are registered.", spec->replication_factor, spec->replication_factor);
		return KP_ERR_INVALID_REPLICATION_FACTOR;
	}
	return KP_ERR_NONE;
}

static int16_t
create_topics_checked(struct kp_call *call, const struct kp_create_topics_request *req,
		      const struct kp_create_topics_request_creatable_topic *t,
		      struct kp_topic_spec *spec, struct kp_topic_config *configs,
		      struct kp_uuid *id, int32_t *replicas, char *msg, size_t msg_size)
{
	int16_t version = call->hdr.request_api_version;
	const struct kp_admin_ops *admin = call->env->admin;
	const struct kp_md *md = admin->md(call->env->admin_ctx);
	struct kp_cursor it;
	int16_t err;

	spec->name = t->name;
	if (kp_str_eq(t->name, kp_str_c(CREATE_TOPICS_CLUSTER_METADATA))) {
		snprintf(msg, msg_size, "Creation of internal topic %s is prohibited.",
			 CREATE_TOPICS_CLUSTER_METADATA);
		return KP_ERR_INVALID_REQUEST;
	}
	/* CREATE on the cluster, else on the topic (ControllerApis). */
	if (!kp_acl_allowed(call->env->md->acl, call->env->session, KP_ACL_CREATE,
			    KP_RES_CLUSTER, kp_str_c(KP_ACL_CLUSTER_NAME)) &&
	    !kp_authorize(call->env, KP_ACL_CREATE, KP_RES_TOPIC, t->name)) {
		snprintf(msg, msg_size, "Authorization failed.");
		return KP_ERR_TOPIC_AUTHORIZATION_FAILED;
	}
	err = kp_topic_name_check(t->name, msg, msg_size);
	if (err != KP_ERR_NONE)
		return err;
	err = create_topics_layout(md, version, t, spec, replicas, msg, msg_size);
	if (err != KP_ERR_NONE)
		return err;
	if (t->configs.count > CREATE_TOPICS_CONFIGS_MAX) {
		snprintf(msg, msg_size, "Too many configs: %d (at most %d)", t->configs.count,
			 CREATE_TOPICS_CONFIGS_MAX);
		return KP_ERR_INVALID_CONFIG;
	}
	it = kp_array_cursor(&t->configs);
	for (int32_t i = 0; i < t->configs.count; i++) {
		struct kp_create_topics_request_creatable_topic_config c;

		kp_create_topics_request_creatable_topic_config_decode(&it, version, &c);
		configs[i].name = c.name;
		configs[i].value = c.value;
	}
	spec->config_count = kp_count0(t->configs.count);
	spec->configs = configs;
	return admin->topic_create(call->env->admin_ctx, spec, req->validate_only, id,
				   msg, msg_size);
}

/* One topic; in cluster mode the rows of its replica assignment (bounded by
 * KP_TOPIC_PARTITIONS_MAX before they are allocated) live for the call. */
static int16_t
create_topics_one(struct kp_call *call, const struct kp_create_topics_request *req,
		  const struct kp_create_topics_request_creatable_topic *t,
		  struct kp_topic_spec *spec, struct kp_topic_config *configs,
		  struct kp_uuid *id, char *msg, size_t msg_size)
{
	const struct kp_md *md = call->env->admin->md(call->env->admin_ctx);
	int32_t *replicas = NULL;
	int16_t err;

	if (md->cluster && t->assignments.count > 0) {
		if (t->assignments.count > KP_TOPIC_PARTITIONS_MAX) {
			spec->name = t->name;
			snprintf(msg, msg_size, "Number of partitions %d is above this broker's "
				 "limit of %d.", t->assignments.count, KP_TOPIC_PARTITIONS_MAX);
			return KP_ERR_INVALID_PARTITIONS;
		}
		replicas = calloc((size_t)t->assignments.count * KP_REPLICAS_MAX,
				  sizeof(*replicas));
		if (replicas == NULL) {
			spec->name = t->name;
			snprintf(msg, msg_size, "Out of memory.");
			return KP_ERR_UNKNOWN_SERVER_ERROR;
		}
	}
	err = create_topics_checked(call, req, t, spec, configs, id, replicas, msg, msg_size);
	spec->replicas = NULL;
	free(replicas);
	return err;
}

struct create_topics_configs {
	struct kp_writer *w;
	int16_t version;
	int32_t count;
};

static void
create_topics_config_add(void *arg, const struct kp_config_entry *e)
{
	struct create_topics_configs *cc = arg;
	struct kp_create_topics_response_creatable_topic_configs out;

	kp_create_topics_response_creatable_topic_configs_init(&out);
	out.name = kp_str_c(e->name);
	out.value = kp_str_c(e->sensitive ? NULL : e->value);
	out.read_only = e->read_only;
	out.config_source = e->source;
	out.is_sensitive = e->sensitive;
	kp_create_topics_response_creatable_topic_configs_encode(cc->w, cc->version, &out);
	cc->count++;
}

/* Encode one result. Its configs (v5+) are left out, with
 * TopicConfigErrorCode INVALID_REQUEST (a tagged field; Kafka sends one when
 * configs may not be described), once the results reach
 * KP_ADMIN_RESPONSE_BYTES_MAX: the topic is still created. */
static void
create_topics_encode_result(struct kp_call *call, struct kp_writer *scratch,
			    const struct kp_topic_spec *spec, int16_t err, const char *msg,
			    const struct kp_uuid *id)
{
	int16_t version = call->hdr.request_api_version;
	struct kp_create_topics_response_creatable_topic_result r;
	struct kp_writer configs;
	struct create_topics_configs cc = { &configs, version, 0 };

	kp_create_topics_response_creatable_topic_result_init(&r);
	kp_writer_init(&configs, 256);
	r.name = spec->name;
	r.error_code = err;
	r.error_message = err == KP_ERR_NONE ? kp_str_c(NULL) : kp_str_c(msg);
	if (err == KP_ERR_NONE) {
		r.topic_id = *id;
		r.num_partitions = spec->partition_count;
		r.replication_factor = spec->replication_factor;
		if (version >= 5 && !kp_acl_allowed(call->env->md->acl, call->env->session,
						     KP_ACL_DESCRIBE_CONFIGS, KP_RES_TOPIC,
						     spec->name))
			r.topic_config_error_code = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
		else if (version >= 5 && scratch->len < KP_ADMIN_RESPONSE_BYTES_MAX)
			call->env->admin->topic_spec_configs(call->env->admin_ctx, spec,
							     create_topics_config_add, &cc);
		else if (version >= 5)
			r.topic_config_error_code = KP_ERR_INVALID_REQUEST;
		r.configs.count = r.topic_config_error_code == KP_ERR_NONE ? cc.count : -1;
		r.configs.wire = configs.buf;
		r.configs.wire_end = configs.buf + configs.len;
	} else {
		/* A refused topic keeps the schema's default, an empty list
		 * (not null), as Kafka's CreatableTopicResult does. */
		r.configs.count = 0;
	}
	kp_create_topics_response_creatable_topic_result_encode(scratch, version, &r);
	kp_writer_free(&configs);
}

/* Which results a pass over the request encodes (see the file comment). */
enum create_topics_pass {
	CREATE_TOPICS_ONCE = 0,         /* named once, not the metadata log */
	CREATE_TOPICS_DUPS = 1,         /* each duplicated name, once */
	CREATE_TOPICS_METADATA_LOG = 2, /* __cluster_metadata, named once */
};

static bool
create_topics_in_pass(enum create_topics_pass pass, uint8_t dup, struct kp_str name)
{
	bool log = kp_str_eq(name, kp_str_c(CREATE_TOPICS_CLUSTER_METADATA));

	switch (pass) {
	case CREATE_TOPICS_ONCE:
		return dup == 0 && !log;
	case CREATE_TOPICS_DUPS:
		return (dup & KP_NAME_DUP_FIRST) != 0;
	default:
		return dup == 0 && log;
	}
}

/* One pass over the topics; returns how many results it encoded. */
static int32_t
create_topics_pass(struct kp_call *call, const struct kp_create_topics_request *req,
		   const uint8_t *dup, enum create_topics_pass pass, struct kp_writer *scratch)
{
	int16_t version = call->hdr.request_api_version;
	struct kp_topic_config configs[CREATE_TOPICS_CONFIGS_MAX];
	struct kp_cursor it = kp_array_cursor(&req->topics);
	int32_t count = 0;

	for (int32_t i = 0; i < req->topics.count; i++) {
		struct kp_create_topics_request_creatable_topic t;
		struct kp_topic_spec spec = { 0 };
		struct kp_uuid id = { { 0 } };
		char msg[384] = "";
		int16_t err;

		kp_create_topics_request_creatable_topic_decode(&it, version, &t);
		if (!create_topics_in_pass(pass, dup[i], t.name))
			continue;
		if (pass == CREATE_TOPICS_DUPS) {
			spec.name = t.name;
			snprintf(msg, sizeof(msg), "Duplicate topic name.");
			err = KP_ERR_INVALID_REQUEST;
		} else {
			err = create_topics_one(call, req, &t, &spec, configs, &id, msg,
						sizeof(msg));
			if (err == KP_ERR_NONE && req->validate_only)
				create_topics_throwaway_id(&id);
		}
		create_topics_encode_result(call, scratch, &spec, err, msg, &id);
		count++;
	}
	return count;
}

enum kp_verdict
kp_handle_create_topics(struct kp_call *call)
{
	int16_t version = call->hdr.request_api_version;
	struct kp_create_topics_response resp;
	struct kp_create_topics_request req;
	struct kp_writer scratch;
	int32_t count = 0;
	uint8_t *dup;

	if (kp_create_topics_request_decode(&call->body, version, &req) != 0)
		return KP_VERDICT_CLOSE;
	dup = kp_topic_array_name_dups(&req.topics, version, create_topics_next_name);
	if (dup == NULL)
		return KP_VERDICT_CLOSE;
	kp_create_topics_response_init(&resp);
	kp_writer_init(&scratch, 256);
	for (int pass = CREATE_TOPICS_ONCE; pass <= CREATE_TOPICS_METADATA_LOG; pass++)
		count += create_topics_pass(call, &req, dup, pass, &scratch);
	resp.topics = kp_array_wire(count, &scratch);
	kp_create_topics_response_encode(call->w, version, &resp);
	kp_writer_free(&scratch);
	free(dup);
	return KP_VERDICT_REPLY;
}
