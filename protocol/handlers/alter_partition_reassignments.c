/* SPDX-License-Identifier: Apache-2.0 */
/* AlterPartitionReassignments (key 45), version 0, on the control thread:
 * move partitions to new replica lists, or cancel (null replicas) an
 * ongoing move (KIP-455). ALTER on the cluster (security.html); without it
 * every partition and the top level answer CLUSTER_AUTHORIZATION_FAILED,
 * as Kafka's error response does. The moves themselves are control's
 * (kp_admin_ops.reassign): only the controller takes them, others answer
 * NOT_CONTROLLER at the top level. Messages are Kafka's. */
#include <stdio.h>
#include <stdlib.h>

#include "protocol/gen/kp_msg_alter_partition_reassignments.h"
#include "protocol/kp_int.h"

/* The generated names are long. */
typedef struct kp_alter_partition_reassignments_request_reassignable_topic apr_topic;
typedef struct kp_alter_partition_reassignments_request_reassignable_partition apr_part;
typedef struct kp_alter_partition_reassignments_response_reassignable_topic_response
	apr_topic_res;
typedef struct kp_alter_partition_reassignments_response_reassignable_partition_response
	apr_part_res;
#define apr_topic_decode kp_alter_partition_reassignments_request_reassignable_topic_decode
#define apr_part_decode kp_alter_partition_reassignments_request_reassignable_partition_decode
#define apr_topic_res_init \
	kp_alter_partition_reassignments_response_reassignable_topic_response_init
#define apr_topic_res_encode \
	kp_alter_partition_reassignments_response_reassignable_topic_response_encode
#define apr_part_res_init \
	kp_alter_partition_reassignments_response_reassignable_partition_response_init
#define apr_part_res_encode \
	kp_alter_partition_reassignments_response_reassignable_partition_response_encode

/* Errors whose answer carries Kafka's default message (new ApiError(e)). */
static const char *
reassign_default_message(int16_t error)
{
	switch (error) {
	case KP_ERR_NONE:
		return NULL;
	case KP_ERR_NO_REASSIGNMENT_IN_PROGRESS:
		return "No partition reassignment is in progress.";
	case KP_ERR_NOT_CONTROLLER:
		return "This is not the correct controller for this cluster.";
	case KP_ERR_CLUSTER_AUTHORIZATION_FAILED:
		return "Cluster authorization failed.";
	case KP_ERR_REQUEST_TIMED_OUT:
		return "The request timed out.";
	default:
		return NULL;
	}
}

/* Every partition of the request, with its replicas copied out of the
 * wire (host order) into one block. -1 on allocation failure. */
static int
reassign_collect(const struct kp_alter_partition_reassignments_request *req, int16_t version,
		 struct kp_reassign **parts_out, int32_t **ids_out, int32_t *count_out)
{
	struct kp_cursor it = kp_array_cursor(&req->topics);
	int64_t n = 0, ids = 0;
	struct kp_reassign *parts;
	int32_t *block, count = 0;

	for (int32_t i = 0; i < req->topics.count; i++) {
		apr_topic t;
		struct kp_cursor ps;

		apr_topic_decode(&it, version, &t);
		ps = kp_array_cursor(&t.partitions);
		for (int32_t k = 0; k < t.partitions.count; k++) {
			apr_part p;

			apr_part_decode(&ps, version, &p);
			ids += kp_count0(p.replicas.count);
			n++;
		}
	}
	parts = calloc((size_t)n + 1, sizeof(*parts));
	block = calloc((size_t)ids + 1, sizeof(*block));
	if (parts == NULL || block == NULL) {
		free(parts);
		free(block);
		return -1;
	}
	ids = 0;
	it = kp_array_cursor(&req->topics);
	for (int32_t i = 0; i < req->topics.count; i++) {
		apr_topic t;
		struct kp_cursor ps;

		apr_topic_decode(&it, version, &t);
		ps = kp_array_cursor(&t.partitions);
		for (int32_t k = 0; k < t.partitions.count; k++) {
			apr_part p;
			struct kp_reassign *r = &parts[count++];
			struct kp_cursor rs;

			apr_part_decode(&ps, version, &p);
			r->topic = t.name;
			r->partition = p.partition_index;
			r->replica_count = p.replicas.count < 0 ? -1 : p.replicas.count;
			r->replicas = block + ids;
			rs = kp_array_cursor(&p.replicas);
			for (int32_t j = 0; j < p.replicas.count; j++)
				block[ids++] = kp_read_i32(&rs);
		}
	}
	*parts_out = parts;
	*ids_out = block;
	*count_out = count;
	return 0;
}

/* The topics' results in the request's order. */
static void
reassign_encode(const struct kp_alter_partition_reassignments_request *req, int16_t version,
		const struct kp_reassign *parts, struct kp_writer *w)
{
	struct kp_cursor it = kp_array_cursor(&req->topics);
	int32_t at = 0;

	for (int32_t i = 0; i < req->topics.count; i++) {
		apr_topic t;
		apr_topic_res tr;
		struct kp_writer sub;

		apr_topic_decode(&it, version, &t);
		kp_writer_init(&sub, 64);
		for (int32_t k = 0; k < t.partitions.count; k++, at++) {
			apr_part_res pr;
			const struct kp_reassign *r = &parts[at];

			apr_part_res_init(&pr);
			pr.partition_index = r->partition;
			pr.error_code = r->error;
			pr.error_message = kp_str_c(r->message[0] != '\0' ? r->message
						    : reassign_default_message(r->error));
			apr_part_res_encode(&sub, version, &pr);
		}
		apr_topic_res_init(&tr);
		tr.name = t.name;
		tr.partitions = kp_array_wire(kp_count0(t.partitions.count), &sub);
		apr_topic_res_encode(w, version, &tr);
		kp_writer_free(&sub);
	}
}

enum kp_verdict
kp_handle_alter_partition_reassignments(struct kp_call *call)
{
	int16_t version = call->hdr.request_api_version;
	struct kp_alter_partition_reassignments_response resp;
	struct kp_alter_partition_reassignments_request req;
	struct kp_reassign *parts = NULL;
	int32_t *ids = NULL, count = 0;
	struct kp_writer scratch;
	int16_t top = KP_ERR_NONE;

	if (kp_alter_partition_reassignments_request_decode(&call->body, version, &req) != 0)
		return KP_VERDICT_CLOSE;
	if (reassign_collect(&req, version, &parts, &ids, &count) != 0)
		return KP_VERDICT_CLOSE;
	if (!kp_authorize(call->env, KP_ACL_ALTER, KP_RES_CLUSTER, kp_str_c(KP_ACL_CLUSTER_NAME))) {
		top = KP_ERR_CLUSTER_AUTHORIZATION_FAILED;
		for (int32_t i = 0; i < count; i++)
			parts[i].error = top;
	} else {
		const struct kp_admin_ops *admin = call->env->admin;

		top = admin->reassign(call->env->admin_ctx, parts, count, req.timeout_ms);
	}
	kp_alter_partition_reassignments_response_init(&resp);
	resp.error_code = top;
	if (top != KP_ERR_NONE)         /* else "", as Kafka's ZooKeeper-mode answer */
		resp.error_message = kp_str_c(reassign_default_message(top));
	kp_writer_init(&scratch, 256);
	if (top == KP_ERR_NONE || top == KP_ERR_CLUSTER_AUTHORIZATION_FAILED) {
		reassign_encode(&req, version, parts, &scratch);
		resp.responses = kp_array_wire(kp_count0(req.topics.count), &scratch);
	} else {
		resp.responses = kp_array_wire(0, &scratch);
	}
	kp_alter_partition_reassignments_response_encode(call->w, version, &resp);
	kp_writer_free(&scratch);
	free(parts);
	free(ids);
	return KP_VERDICT_REPLY;
}
