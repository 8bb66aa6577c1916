/* SPDX-License-Identifier: Apache-2.0 */
/* DeleteTopics (key 20), versions 1-6, on the control thread: by name
 * (v1-5 TopicNames, v6 Topics[].Name) or by id (v6 Topics[].TopicId). */
#include <stdio.h>

#include "protocol/gen/kp_msg_delete_topics.h"
#include "protocol/kp_int.h"

static void
delete_topics_one(struct kp_call *call, struct kp_writer *scratch, struct kp_str name,
		  const struct kp_uuid *id)
{
	int16_t version = call->hdr.api_version;
	const struct kp_admin_ops *admin = call->env->admin;
	const struct kp_md *md = admin->md(call->env->admin_ctx);
	struct kp_delete_topics_response_deletable_topic_result r;
	const struct kp_md_topic *topic = NULL;
	char msg[320] = "";
	int16_t err = KP_ERR_NONE;

	kp_delete_topics_response_deletable_topic_result_init(&r);
	r.name = name;
	if (id != NULL)
		r.topic_id = *id;
	if (name.len >= 0 && id != NULL && !kp_uuid_is_zero(id)) {
		err = KP_ERR_INVALID_REQUEST;
		snprintf(msg, sizeof(msg), "You may not specify both topic name and topic id.");
	} else if (name.len >= 0) {
		topic = kp_md_topic_by_name(md, name);
		if (topic == NULL) {
			err = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
			snprintf(msg, sizeof(msg),
				 "This server does not host this topic-partition.");
		}
	} else {
		topic = kp_md_topic_by_id(md, id);
		if (topic == NULL) {
			err = KP_ERR_UNKNOWN_TOPIC_ID;
			snprintf(msg, sizeof(msg), "This server does not host this topic ID.");
		}
	}
	if (topic != NULL) {
		r.name = topic->name;
		r.topic_id = topic->id;
		/* topic stays valid after the delete: control retires a snapshot
		 * only between requests. */
		err = admin->topic_delete(call->env->admin_ctx, topic, msg, sizeof(msg));
	}
	r.error_code = err;
	r.error_message = err == KP_ERR_NONE ? kp_str_c(NULL) : kp_str_c(msg);
	kp_delete_topics_response_deletable_topic_result_encode(scratch, version, &r);
}

enum kp_verdict
kp_handle_delete_topics(struct kp_call *call)
{
	int16_t version = call->hdr.api_version;
	struct kp_delete_topics_response resp;
	struct kp_delete_topics_request req;
	struct kp_writer scratch;
	struct kp_cursor it;
	int32_t count;

	if (kp_delete_topics_request_decode(&call->body, version, &req) != 0)
		return KP_VERDICT_CLOSE;
	kp_delete_topics_response_init(&resp);
	kp_writer_init(&scratch, 256);
	if (version >= 6) {
		count = kp_count0(req.topics.count);
		it = kp_array_cursor(&req.topics);
		for (int32_t i = 0; i < count; i++) {
			struct kp_delete_topics_request_delete_topic_state t;

			kp_delete_topics_request_delete_topic_state_decode(&it, version, &t);
			delete_topics_one(call, &scratch, t.name, &t.topic_id);
		}
	} else {
		count = kp_count0(req.topic_names.count);
		it = kp_array_cursor(&req.topic_names);
		for (int32_t i = 0; i < count; i++)
			delete_topics_one(call, &scratch, kp_read_string(&it, version >= 4), NULL);
	}
	resp.responses.count = count;
	resp.responses.wire = scratch.buf;
	resp.responses.wire_end = scratch.buf + scratch.len;
	kp_delete_topics_response_encode(call->w, version, &resp);
	kp_writer_free(&scratch);
	return KP_VERDICT_REPLY;
}
