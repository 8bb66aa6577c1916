/* SPDX-License-Identifier: Apache-2.0 */
/* DeleteTopics (key 20), versions 1-6, on the control thread: by name
 * (v1-5 TopicNames, v6 Topics[].Name) or by id (v6 Topics[].TopicId). As in
 * Kafka 3.9 (ControllerApis.deleteTopics), a name or id given more than once
 * is not deleted but answered once with INVALID_REQUEST, after the others. */
#include <stdio.h>
#include <stdlib.h>

#include "protocol/gen/kp_msg_delete_topics.h"
#include "protocol/kp_int.h"

/* One request entry: a name (id zero), an id (name null), both or neither. */
struct delete_topics_entry {
	struct kp_str name;
	struct kp_uuid id;
};

static bool
delete_topics_by_name(const struct delete_topics_entry *e)
{
	return e->name.len >= 0 && kp_uuid_is_zero(&e->id);
}

static bool
delete_topics_by_id(const struct delete_topics_entry *e)
{
	return e->name.len < 0 && !kp_uuid_is_zero(&e->id);
}

static void
delete_topics_encode(struct kp_call *call, struct kp_writer *scratch, struct kp_str name,
		     const struct kp_uuid *id, int16_t err, const char *msg)
{
	struct kp_delete_topics_response_deletable_topic_result r;

	kp_delete_topics_response_deletable_topic_result_init(&r);
	r.name = name;
	r.topic_id = *id;
	r.error_code = err;
	r.error_message = err == KP_ERR_NONE ? kp_str_c(NULL) : kp_str_c(msg);
	kp_delete_topics_response_deletable_topic_result_encode(scratch,
								 call->hdr.request_api_version, &r);
}

/* Kafka's ControllerApis.deleteTopics: DELETE on the cluster, else DELETE
 * on the topic; *describable (optional): DESCRIBE on it. */
static bool
delete_topics_allowed(const struct kp_call *call, struct kp_str name, bool *describable)
{
	const struct kp_env *env = call->env;

	if (describable != NULL)
		*describable = kp_acl_allowed(env->md->acl, env->session, KP_ACL_DESCRIBE,
					      KP_RES_TOPIC, name);
	if (kp_acl_allowed(env->md->acl, env->session, KP_ACL_DELETE, KP_RES_CLUSTER,
			   kp_str_c(KP_ACL_CLUSTER_NAME)))
		return true;
	return kp_authorize(env, KP_ACL_DELETE, KP_RES_TOPIC, name);
}

static void
delete_topics_one(struct kp_call *call, struct kp_writer *scratch,
		  const struct delete_topics_entry *e)
{
	const struct kp_admin_ops *admin = call->env->admin;
	const struct kp_md *md = admin->md(call->env->admin_ctx);
	const struct kp_md_topic *topic = NULL;
	char msg[320] = "";
	int16_t err = KP_ERR_NONE;

	if (e->name.len >= 0 && !kp_uuid_is_zero(&e->id)) {
		err = KP_ERR_INVALID_REQUEST;
		snprintf(msg, sizeof(msg), "You may not specify both topic name and topic id.");
	} else if (e->name.len < 0 && kp_uuid_is_zero(&e->id)) {
		err = KP_ERR_INVALID_REQUEST;
		snprintf(msg, sizeof(msg), "Neither topic name nor id were specified.");
	} else if (e->name.len >= 0 && !delete_topics_allowed(call, e->name, NULL)) {
		/* No DELETE (or no DESCRIBE) on the name: existence is not told. */
		err = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
		snprintf(msg, sizeof(msg), "Topic authorization failed.");
	} else if (e->name.len >= 0) {
		topic = kp_md_topic_by_name(md, e->name);
		if (topic == NULL) {
			err = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
			snprintf(msg, sizeof(msg),
				 "This server does not host this topic-partition.");
		}
	} else {
		topic = kp_md_topic_by_id(md, &e->id);
		if (topic == NULL) {
			err = KP_ERR_UNKNOWN_TOPIC_ID;
			snprintf(msg, sizeof(msg), "This server does not host this topic ID.");
		}
	}
	if (topic != NULL && e->name.len < 0) {
		bool describable;

		if (!delete_topics_allowed(call, topic->name, &describable)) {
			/* By id: the name only to a principal that may describe it. */
			snprintf(msg, sizeof(msg), "Topic authorization failed.");
			delete_topics_encode(call, scratch,
					     describable ? topic->name : kp_str_c(NULL), &e->id,
					     KP_ERR_TOPIC_AUTHORIZATION_FAILED, msg);
			return;
		}
	}
	if (topic != NULL) {
		/* topic stays valid after the delete: control retires a snapshot
		 * only between requests. */
		err = admin->topic_delete(call->env->admin_ctx, topic, msg, sizeof(msg));
		delete_topics_encode(call, scratch, topic->name, &topic->id, err, msg);
		return;
	}
	delete_topics_encode(call, scratch, e->name, &e->id, err, msg);
}

/* Mark the entries whose name (by_id false) or id (true) is given more than
 * once, in flags (KP_NAME_*). 0, or -1 when out of memory. */
static int
delete_topics_mark_dups(const struct delete_topics_entry *entries, int32_t count, bool by_id,
			uint8_t *flags)
{
	struct kp_str *keys = calloc((size_t)count + 1, sizeof(*keys));
	int32_t *at = malloc(sizeof(*at) * (size_t)(count + 1));
	uint8_t *marks = malloc((size_t)count + 1);
	int32_t n = 0;
	int rc = -1;

	if (keys != NULL && at != NULL && marks != NULL) {
		for (int32_t i = 0; i < count; i++) {
			const struct delete_topics_entry *e = &entries[i];

			if (by_id ? !delete_topics_by_id(e) : !delete_topics_by_name(e))
				continue;
			keys[n] = by_id ? (struct kp_str){ (const char *)e->id.b, 16 } : e->name;
			at[n++] = i;
		}
		rc = kp_topic_names_mark_dups(keys, n, marks);
		for (int32_t j = 0; rc == 0 && j < n; j++)
			flags[at[j]] = marks[j];
	}
	free(keys);
	free(at);
	free(marks);
	return rc;
}

/* The request's entries, whichever version; NULL when out of memory. */
static struct delete_topics_entry *
delete_topics_entries(const struct kp_delete_topics_request *req, int16_t version,
		      int32_t *count)
{
	struct delete_topics_entry *entries;
	struct kp_cursor it;

	*count = kp_count0(version >= 6 ? req->topics.count : req->topic_names.count);
	entries = calloc((size_t)*count + 1, sizeof(*entries));
	if (entries == NULL)
		return NULL;
	it = kp_array_cursor(version >= 6 ? &req->topics : &req->topic_names);
	for (int32_t i = 0; i < *count; i++) {
		if (version >= 6) {
			struct kp_delete_topics_request_delete_topic_state t;

			kp_delete_topics_request_delete_topic_state_decode(&it, version, &t);
			entries[i].name = t.name;
			entries[i].id = t.topic_id;
		} else {
			entries[i].name = kp_read_string(&it, version >= 4);
		}
	}
	return entries;
}

enum kp_verdict
kp_handle_delete_topics(struct kp_call *call)
{
	int16_t version = call->hdr.request_api_version;
	static const struct kp_uuid zero;
	struct kp_delete_topics_response resp;
	struct kp_delete_topics_request req;
	struct delete_topics_entry *entries;
	struct kp_writer scratch;
	uint8_t *flags;
	int32_t count;
	int32_t out = 0;

	if (kp_delete_topics_request_decode(&call->body, version, &req) != 0)
		return KP_VERDICT_CLOSE;
	entries = delete_topics_entries(&req, version, &count);
	flags = calloc((size_t)count + 1, 1);
	if (entries == NULL || flags == NULL ||
	    delete_topics_mark_dups(entries, count, false, flags) != 0 ||
	    delete_topics_mark_dups(entries, count, true, flags) != 0) {
		free(entries);
		free(flags);
		return KP_VERDICT_CLOSE;
	}
	kp_delete_topics_response_init(&resp);
	kp_writer_init(&scratch, 256);
	for (int32_t i = 0; i < count; i++) {
		if (flags[i] != 0)
			continue;
		delete_topics_one(call, &scratch, &entries[i]);
		out++;
	}
	for (int32_t i = 0; i < count; i++) {
		bool by_id = delete_topics_by_id(&entries[i]);

		if ((flags[i] & KP_NAME_DUP_FIRST) == 0)
			continue;
		delete_topics_encode(call, &scratch, entries[i].name,
				     by_id ? &entries[i].id : &zero, KP_ERR_INVALID_REQUEST,
				     by_id ? "Duplicate topic id." : "Duplicate topic name.");
		out++;
	}
	resp.responses = kp_array_wire(out, &scratch);
	kp_delete_topics_response_encode(call->w, version, &resp);
	kp_writer_free(&scratch);
	free(entries);
	free(flags);
	return KP_VERDICT_REPLY;
}
