/* SPDX-License-Identifier: Apache-2.0 */
/* ListPartitionReassignments (key 46), version 0, on the control thread:
 * the ongoing reassignments (replicas, adding, removing) of the listed
 * partitions, or all of them (null topics). Partitions that are not
 * moving, or do not exist, are left out, and so are topics left with none,
 * as Kafka's controller answers. DESCRIBE on the cluster; without it the
 * listed partitions come back empty under CLUSTER_AUTHORIZATION_FAILED.
 * Only the controller knows (NOT_CONTROLLER elsewhere). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/gen/kp_msg_list_partition_reassignments.h"
#include "protocol/kp_int.h"

#define LPR_NOT_CONTROLLER "This is not the correct controller for this cluster."

/* The generated names are long. */
typedef struct kp_list_partition_reassignments_request_list_partition_reassignments_topics
	lpr_topic;
typedef struct kp_list_partition_reassignments_response_ongoing_topic_reassignment
	lpr_topic_res;
typedef struct kp_list_partition_reassignments_response_ongoing_partition_reassignment
	lpr_part_res;
#define lpr_topic_decode \
	kp_list_partition_reassignments_request_list_partition_reassignments_topics_decode
#define lpr_topic_res_init kp_list_partition_reassignments_response_ongoing_topic_reassignment_init
#define lpr_topic_res_encode \
	kp_list_partition_reassignments_response_ongoing_topic_reassignment_encode
#define lpr_part_res_init \
	kp_list_partition_reassignments_response_ongoing_partition_reassignment_init
#define lpr_part_res_encode \
	kp_list_partition_reassignments_response_ongoing_partition_reassignment_encode

static struct kp_array
list_ids(struct kp_writer *w, const int32_t *ids, int32_t n)
{
	for (int32_t i = 0; i < n; i++)
		kp_write_i32(w, ids[i]);
	return kp_array_wire(n, w);
}

static void
list_encode_partition(struct kp_writer *w, int16_t version, const struct kp_reassign_state *s)
{
	lpr_part_res pr;
	struct kp_writer a, b, c;

	kp_writer_init(&a, 32);
	kp_writer_init(&b, 32);
	kp_writer_init(&c, 32);
	lpr_part_res_init(&pr);
	pr.partition_index = s->partition;
	pr.replicas = list_ids(&a, s->replicas, s->replica_count);
	pr.adding_replicas = list_ids(&b, s->adding, s->adding_count);
	pr.removing_replicas = list_ids(&c, s->removing, s->removing_count);
	lpr_part_res_encode(w, version, &pr);
	kp_writer_free(&a);
	kp_writer_free(&b);
	kp_writer_free(&c);
}

/* One topic with the partitions of ongoing (want NULL: all of them, else
 * those listed in want); nothing when none. Returns 1 if written. */
static int32_t
list_encode_topic(struct kp_writer *w, int16_t version, struct kp_str name,
		  const struct kp_array *want, const struct kp_reassign_state *ongoing,
		  int32_t count)
{
	lpr_topic_res tr;
	struct kp_writer sub;
	int32_t n = 0;

	kp_writer_init(&sub, 64);
	for (int32_t i = 0; i < count; i++) {
		bool listed = want == NULL;
		struct kp_cursor c;

		if (!kp_str_eq(name, kp_str_c(ongoing[i].topic)))
			continue;
		c = want != NULL ? kp_array_cursor(want) : (struct kp_cursor){ 0 };
		for (int32_t k = 0; want != NULL && k < want->count; k++)
			listed |= kp_read_i32(&c) == ongoing[i].partition;
		if (!listed)
			continue;
		list_encode_partition(&sub, version, &ongoing[i]);
		n++;
	}
	if (n > 0) {
		lpr_topic_res_init(&tr);
		tr.name = name;
		tr.partitions = kp_array_wire(n, &sub);
		lpr_topic_res_encode(w, version, &tr);
	}
	kp_writer_free(&sub);
	return n > 0;
}

/* Kafka's error response: the listed partitions, each empty. */
static int32_t
list_encode_error(struct kp_writer *w, int16_t version,
		  const struct kp_list_partition_reassignments_request *req)
{
	struct kp_cursor it = kp_array_cursor(&req->topics);

	for (int32_t i = 0; i < req->topics.count; i++) {
		lpr_topic t;
		lpr_topic_res tr;
		struct kp_reassign_state s;
		struct kp_writer sub;
		struct kp_cursor c;

		lpr_topic_decode(&it, version, &t);
		kp_writer_init(&sub, 64);
		c = kp_array_cursor(&t.partition_indexes);
		memset(&s, 0, sizeof(s));
		for (int32_t k = 0; k < t.partition_indexes.count; k++) {
			s.partition = kp_read_i32(&c);
			list_encode_partition(&sub, version, &s);
		}
		lpr_topic_res_init(&tr);
		tr.name = t.name;
		tr.partitions = kp_array_wire(kp_count0(t.partition_indexes.count), &sub);
		lpr_topic_res_encode(w, version, &tr);
		kp_writer_free(&sub);
	}
	return kp_count0(req->topics.count);
}

static int32_t
list_encode(struct kp_writer *w, int16_t version,
	    const struct kp_list_partition_reassignments_request *req,
	    const struct kp_reassign_state *ongoing, int32_t count)
{
	struct kp_cursor it = kp_array_cursor(&req->topics);
	int32_t n = 0;

	if (req->topics.count < 0) {
		for (int32_t i = 0; i < count; i++)
			if (i == 0 || strcmp(ongoing[i].topic, ongoing[i - 1].topic) != 0)
				n += list_encode_topic(w, version, kp_str_c(ongoing[i].topic), NULL,
						       ongoing, count);
		return n;
	}
	for (int32_t i = 0; i < req->topics.count; i++) {
		lpr_topic t;

		lpr_topic_decode(&it, version, &t);
		n += list_encode_topic(w, version, t.name, &t.partition_indexes, ongoing, count);
	}
	return n;
}

enum kp_verdict
kp_handle_list_partition_reassignments(struct kp_call *call)
{
	int16_t version = call->hdr.request_api_version;
	struct kp_list_partition_reassignments_response resp;
	struct kp_list_partition_reassignments_request req;
	struct kp_reassign_state *ongoing = NULL;
	struct kp_writer scratch;
	int32_t count = 0, n;
	int16_t top = KP_ERR_CLUSTER_AUTHORIZATION_FAILED;

	if (kp_list_partition_reassignments_request_decode(&call->body, version, &req) != 0)
		return KP_VERDICT_CLOSE;
	if (kp_authorize(call->env, KP_ACL_DESCRIBE, KP_RES_CLUSTER,
			 kp_str_c(KP_ACL_CLUSTER_NAME)))
		top = call->env->admin->reassign_list(call->env->admin_ctx, &ongoing, &count);
	kp_list_partition_reassignments_response_init(&resp);
	resp.error_code = top;
	if (top == KP_ERR_CLUSTER_AUTHORIZATION_FAILED)
		resp.error_message = kp_str_c("Cluster authorization failed.");
	else if (top == KP_ERR_NOT_CONTROLLER)
		resp.error_message = kp_str_c(LPR_NOT_CONTROLLER);
	kp_writer_init(&scratch, 256);
	if (top == KP_ERR_NONE)
		n = list_encode(&scratch, version, &req, ongoing, count);
	else if (top == KP_ERR_CLUSTER_AUTHORIZATION_FAILED)
		n = list_encode_error(&scratch, version, &req);
	else
		n = 0;
	resp.topics = kp_array_wire(n, &scratch);
	kp_list_partition_reassignments_response_encode(call->w, version, &resp);
	kp_writer_free(&scratch);
	free(ongoing);
	return KP_VERDICT_REPLY;
}
