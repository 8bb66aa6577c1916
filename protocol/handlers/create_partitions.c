/* SPDX-License-Identifier: Apache-2.0 */
/* CreatePartitions (key 37), versions 0-3, on the control thread: grows a
 * topic's partition count. Assignments, when given, may only name this
 * broker, one replica each. As in Kafka 3.9 (ControllerApis.
 * createPartitions), a name given more than once is answered once, with
 * INVALID_REQUEST, after the topics named once. */
#include <stdio.h>
#include <stdlib.h>

#include "protocol/gen/kp_msg_create_partitions.h"
#include "protocol/kp_int.h"

static struct kp_str
create_partitions_next_name(struct kp_cursor *it, int16_t version)
{
	struct kp_create_partitions_request_create_partitions_topic t;

	kp_create_partitions_request_create_partitions_topic_decode(it, version, &t);
	return t.name;
}

static int16_t
create_partitions_check_assignments(
	const struct kp_md *md, int16_t version,
	const struct kp_create_partitions_request_create_partitions_topic *t,
	int32_t added, char *msg, size_t msg_size)
{
	struct kp_cursor it = kp_array_cursor(&t->assignments);

	if (t->assignments.count < 0)
		return KP_ERR_NONE;
	if (t->assignments.count != added) {
		snprintf(msg, msg_size, "Attempted to add %d additional partition(s), but only %d "
			 "assignment(s) were specified.", added, t->assignments.count);
		return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
	}
	for (int32_t i = 0; i < t->assignments.count; i++) {
		struct kp_create_partitions_request_create_partitions_assignment a;
		struct kp_cursor ids;

		kp_create_partitions_request_create_partitions_assignment_decode(&it, version, &a);
		if (a.broker_ids.count != 1) {
			snprintf(msg, msg_size, "The manual partition assignment includes a "
				 "partition with %d replica(s), but this is not consistent with "
				 "previous partitions, which have 1 replica(s).",
				 kp_count0(a.broker_ids.count));
			return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
		}
		ids = kp_array_cursor(&a.broker_ids);
		if (kp_read_i32(&ids) != md->broker_id) {
			snprintf(msg, msg_size, "The manual partition assignment includes broker "
				 "ids that are not registered.");
			return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
		}
	}
	return KP_ERR_NONE;
}

static int16_t
create_partitions_one(struct kp_call *call, const struct kp_create_partitions_request *req,
		      uint8_t dup,
		      const struct kp_create_partitions_request_create_partitions_topic *t,
		      char *msg, size_t msg_size)
{
	int16_t version = call->hdr.request_api_version;
	const struct kp_admin_ops *admin = call->env->admin;
	const struct kp_md *md = admin->md(call->env->admin_ctx);
	const struct kp_md_topic *topic;
	int16_t err;

	if (dup != 0) {
		snprintf(msg, msg_size, "Duplicate topic name.");
		return KP_ERR_INVALID_REQUEST;
	}
	if (!kp_authorize(call->env, KP_ACL_ALTER, KP_RES_TOPIC, t->name))
		return KP_ERR_TOPIC_AUTHORIZATION_FAILED;       /* no message, as Kafka */
	topic = kp_md_topic_by_name(md, t->name);
	if (topic == NULL)
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;       /* no message, as Kafka */
	if (t->count < topic->partition_count) {
		snprintf(msg, msg_size, "The topic %.*s currently has %d partition(s); "
			 "%d would not be an increase.", (int)t->name.len, t->name.ptr,
			 topic->partition_count, t->count);
		return KP_ERR_INVALID_PARTITIONS;
	}
	if (t->count > KP_TOPIC_PARTITIONS_MAX) {
		snprintf(msg, msg_size, "Number of partitions %d is above this broker's limit "
			 "of %d.", t->count, KP_TOPIC_PARTITIONS_MAX);
		return KP_ERR_INVALID_PARTITIONS;
	}
	if (t->count == topic->partition_count) {
		snprintf(msg, msg_size, "Topic already has %d partition(s).", t->count);
		return KP_ERR_INVALID_PARTITIONS;
	}
	err = create_partitions_check_assignments(md, version, t, t->count - topic->partition_count,
						  msg, msg_size);
	if (err != KP_ERR_NONE)
		return err;
	/* Cluster mode: new partitions get the first one's replica count, over
	 * the live brokers (Kafka's AdminZkClient.addPartitions). */
	if (md->cluster && t->assignments.count < 0 &&
	    topic->partitions[0].replica_count > md->broker_count) {
		snprintf(msg, msg_size, "Replication factor: %d larger than available brokers: %d.",
			 topic->partitions[0].replica_count, md->broker_count);
		return KP_ERR_INVALID_REPLICATION_FACTOR;
	}
	return admin->partitions_create(call->env->admin_ctx, topic, t->count, req->validate_only,
					msg, msg_size);
}

/* Encode the results of the topics named once (dups false) or of each
 * duplicated name once (dups true); returns how many. */
static int32_t
create_partitions_pass(struct kp_call *call, const struct kp_create_partitions_request *req,
		       const uint8_t *dup, bool dups, struct kp_writer *scratch)
{
	int16_t version = call->hdr.request_api_version;
	struct kp_cursor it = kp_array_cursor(&req->topics);
	int32_t count = 0;

	for (int32_t i = 0; i < req->topics.count; i++) {
		struct kp_create_partitions_request_create_partitions_topic t;
		struct kp_create_partitions_response_create_partitions_topic_result r;
		char msg[320] = "";

		kp_create_partitions_request_create_partitions_topic_decode(&it, version, &t);
		if (dups ? (dup[i] & KP_NAME_DUP_FIRST) == 0 : dup[i] != 0)
			continue;
		kp_create_partitions_response_create_partitions_topic_result_init(&r);
		r.name = t.name;
		r.error_code = create_partitions_one(call, req, dup[i], &t, msg, sizeof(msg));
		r.error_message = r.error_code == KP_ERR_NONE || msg[0] == '\0' ? kp_str_c(NULL)
										  : kp_str_c(msg);
		kp_create_partitions_response_create_partitions_topic_result_encode(scratch,
										     version, &r);
		count++;
	}
	return count;
}

enum kp_verdict
kp_handle_create_partitions(struct kp_call *call)
{
	int16_t version = call->hdr.request_api_version;
	struct kp_create_partitions_response resp;
	struct kp_create_partitions_request req;
	struct kp_writer scratch;
	int32_t count;
	uint8_t *dup;

	if (kp_create_partitions_request_decode(&call->body, version, &req) != 0)
		return KP_VERDICT_CLOSE;
	dup = kp_topic_array_name_dups(&req.topics, version, create_partitions_next_name);
	if (dup == NULL)
		return KP_VERDICT_CLOSE;
	kp_create_partitions_response_init(&resp);
	kp_writer_init(&scratch, 128);
	count = create_partitions_pass(call, &req, dup, false, &scratch);
	count += create_partitions_pass(call, &req, dup, true, &scratch);
	resp.results = kp_array_wire(count, &scratch);
	kp_create_partitions_response_encode(call->w, version, &resp);
	kp_writer_free(&scratch);
	free(dup);
	return KP_VERDICT_REPLY;
}
