/* SPDX-License-Identifier: Apache-2.0 */
/* ElectLeaders (key 43), versions 0-2, on the control thread: PREFERRED
 * (v0's only type) or UNCLEAN elections for the listed partitions, or for
 * every partition (null list: then, as Kafka 3.9's controller, the
 * partitions that need no election are left out of the answer but every
 * topic is listed). ALTER on the cluster (security.html). The elections
 * themselves are control's (kp_admin_ops.leaders_elect); a single broker
 * never needs one. Messages are Kafka's. */
#include <stdio.h>
#include <stdlib.h>

#include "protocol/gen/kp_msg_elect_leaders.h"
#include "protocol/kp_int.h"

/* A partition not answered yet. */
#define ELECT_NO_ERR (-32768)

struct elect_req {
	struct kp_elect *parts;         /* every partition, in answer order */
	int32_t count;
	bool all;                       /* null list: every partition */
};

static const char *
elect_message(int16_t error)
{
	switch (error) {
	case KP_ERR_NONE:
		return NULL;
	case KP_ERR_ELECTION_NOT_NEEDED:
		return "Leader election not needed for topic partition.";
	case KP_ERR_PREFERRED_LEADER_NOT_AVAILABLE:
		return "The preferred leader was not available.";
	case KP_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE:
		return "Eligible topic partition leaders are not available.";
	case KP_ERR_REQUEST_TIMED_OUT:
		return "The request timed out.";
	case KP_ERR_CLUSTER_AUTHORIZATION_FAILED:
		return "Cluster authorization failed.";
	case KP_ERR_INVALID_REQUEST:
		return "Unknown election type.";
	default:
		return "The server experienced an unexpected error when processing the request.";
	}
}

/* Every partition the request names (or all of the snapshot's), each
 * resolved against md; -1 on allocation failure. */
static int
elect_collect(const struct kp_md *md, const struct kp_elect_leaders_request *req,
	      int16_t version, struct elect_req *er)
{
	struct kp_cursor it = kp_array_cursor(&req->topic_partitions);
	int64_t n = 0;

	er->all = req->topic_partitions.count < 0;
	for (int32_t i = 0; er->all && i < md->topic_count; i++)
		n += md->topics[i].partition_count;
	for (int32_t i = 0; !er->all && i < req->topic_partitions.count; i++) {
		struct kp_elect_leaders_request_topic_partitions t;

		kp_elect_leaders_request_topic_partitions_decode(&it, version, &t);
		n += kp_count0(t.partitions.count);
	}
	er->parts = calloc((size_t)n + 1, sizeof(*er->parts));
	if (er->parts == NULL)
		return -1;
	er->count = 0;
	for (int32_t i = 0; er->all && i < md->topic_count; i++)
		for (int32_t p = 0; p < md->topics[i].partition_count; p++)
			er->parts[er->count++] = (struct kp_elect){ &md->topics[i], p,
								    ELECT_NO_ERR };
	it = kp_array_cursor(&req->topic_partitions);
	for (int32_t i = 0; !er->all && i < req->topic_partitions.count; i++) {
		struct kp_elect_leaders_request_topic_partitions t;
		struct kp_cursor ps;
		const struct kp_md_topic *topic;

		kp_elect_leaders_request_topic_partitions_decode(&it, version, &t);
		topic = kp_md_topic_by_name(md, t.topic);
		ps = kp_array_cursor(&t.partitions);
		for (int32_t k = 0; k < t.partitions.count; k++) {
			struct kp_elect *e = &er->parts[er->count++];

			e->topic = topic;
			e->partition = kp_read_i32(&ps);
			e->error = ELECT_NO_ERR;
			if (topic == NULL || e->partition < 0 ||
			    e->partition >= topic->partition_count)
				e->error = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		}
	}
	return 0;
}

/* Run the elections of the partitions that exist, in one call, so that
 * control waits once for all of them. */
static void
elect_run(struct kp_call *call, int8_t type, struct elect_req *er, int32_t timeout_ms)
{
	const struct kp_admin_ops *admin = call->env->admin;
	struct kp_elect *run = calloc((size_t)er->count + 1, sizeof(*run));
	int32_t n = 0;

	for (int32_t i = 0; i < er->count; i++) {
		if (er->parts[i].error != ELECT_NO_ERR)
			continue;
		if (run == NULL)
			er->parts[i].error = KP_ERR_UNKNOWN_SERVER_ERROR;
		else
			run[n++] = er->parts[i];
	}
	if (run == NULL)
		return;
	if (n > 0)
		admin->leaders_elect(call->env->admin_ctx, type, run, n, timeout_ms);
	n = 0;
	for (int32_t i = 0; i < er->count; i++)
		if (er->parts[i].error == ELECT_NO_ERR)
			er->parts[i].error = run[n++].error;
	free(run);
}

/* One topic's results: the parts [*at, end) of that topic. */
static void
elect_encode_topic(struct kp_writer *w, int16_t version, struct kp_str name,
		   const struct elect_req *er, int32_t *at, int32_t end)
{
	struct kp_elect_leaders_response_replica_election_result r;
	struct kp_writer sub;
	int32_t n = 0;

	kp_writer_init(&sub, 64);
	for (; *at < end; (*at)++) {
		const struct kp_elect *e = &er->parts[*at];
		struct kp_elect_leaders_response_partition_result pr;
		char msg[400];
		const char *m = elect_message(e->error);

		if (er->all && e->error == KP_ERR_ELECTION_NOT_NEEDED)
			continue;
		if (e->error == KP_ERR_UNKNOWN_TOPIC_OR_PARTITION) {
			if (e->topic == NULL)
				snprintf(msg, sizeof(msg), "No such topic as %.*s", (int)name.len,
					 name.ptr);
			else
				snprintf(msg, sizeof(msg), "No such partition as %.*s-%d",
					 (int)name.len, name.ptr, e->partition);
			m = msg;
		}
		kp_elect_leaders_response_partition_result_init(&pr);
		pr.partition_id = e->partition;
		pr.error_code = e->error;
		pr.error_message = kp_str_c(m);
		kp_elect_leaders_response_partition_result_encode(&sub, version, &pr);
		n++;
	}
	kp_elect_leaders_response_replica_election_result_init(&r);
	r.topic = name;
	r.partition_result = kp_array_wire(n, &sub);
	kp_elect_leaders_response_replica_election_result_encode(w, version, &r);
	kp_writer_free(&sub);
}

/* Every topic's results, in the request's order (all: the snapshot's). */
static int32_t
elect_encode(const struct kp_md *md, const struct kp_elect_leaders_request *req,
	     int16_t version, const struct elect_req *er, struct kp_writer *w)
{
	struct kp_cursor it = kp_array_cursor(&req->topic_partitions);
	int32_t at = 0;

	if (er->all) {
		for (int32_t i = 0; i < md->topic_count; i++)
			elect_encode_topic(w, version, md->topics[i].name, er, &at,
					   at + md->topics[i].partition_count);
		return md->topic_count;
	}
	for (int32_t i = 0; i < req->topic_partitions.count; i++) {
		struct kp_elect_leaders_request_topic_partitions t;

		kp_elect_leaders_request_topic_partitions_decode(&it, version, &t);
		elect_encode_topic(w, version, t.topic, er, &at,
				   at + kp_count0(t.partitions.count));
	}
	return kp_count0(req->topic_partitions.count);
}

enum kp_verdict
kp_handle_elect_leaders(struct kp_call *call)
{
	int16_t version = call->hdr.request_api_version;
	const struct kp_md *md = call->env->admin->md(call->env->admin_ctx);
	struct kp_elect_leaders_response resp;
	struct kp_elect_leaders_request req;
	struct elect_req er = { 0 };
	struct kp_writer scratch;
	int16_t top = KP_ERR_NONE;

	if (kp_elect_leaders_request_decode(&call->body, version, &req) != 0)
		return KP_VERDICT_CLOSE;
	if (elect_collect(md, &req, version, &er) != 0)
		return KP_VERDICT_CLOSE;
	if (!kp_authorize(call->env, KP_ACL_ALTER, KP_RES_CLUSTER, kp_str_c(KP_ACL_CLUSTER_NAME)))
		top = KP_ERR_CLUSTER_AUTHORIZATION_FAILED;
	else if (req.election_type != KP_ELECT_PREFERRED && req.election_type != KP_ELECT_UNCLEAN)
		top = KP_ERR_INVALID_REQUEST;
	if (top != KP_ERR_NONE) {
		/* Kafka: every listed partition fails alike; all: none listed. */
		for (int32_t i = 0; i < er.count; i++)
			er.parts[i].error = top;
		if (er.all)
			er.count = 0;
	} else {
		elect_run(call, req.election_type, &er, req.timeout_ms);
	}
	kp_elect_leaders_response_init(&resp);
	resp.error_code = top;
	kp_writer_init(&scratch, 256);
	if (er.all && top != KP_ERR_NONE)
		resp.replica_election_results = kp_array_wire(0, &scratch);
	else
		resp.replica_election_results = kp_array_wire(elect_encode(md, &req, version, &er,
									   &scratch), &scratch);
	kp_elect_leaders_response_encode(call->w, version, &resp);
	kp_writer_free(&scratch);
	free(er.parts);
	return KP_VERDICT_REPLY;
}
