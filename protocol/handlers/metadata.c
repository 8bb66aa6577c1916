/* SPDX-License-Identifier: Apache-2.0 */
/* Metadata (key 3), versions 0-12. Answered on the core from its snapshot;
 * a request that would auto-create topics is forwarded to control, which
 * creates them and answers from the updated metadata. Topics are encoded one
 * at a time into a scratch writer, so nothing is sized by a client count.
 * With an authorizer, as Kafka: a full listing leaves out topics the
 * principal may not DESCRIBE, a named one is TOPIC_AUTHORIZATION_FAILED,
 * and auto-creation needs CREATE on the cluster or the topic. */
#include <stdio.h>
#include <stdlib.h>

#include "common/compiler.h"
#include "protocol/gen/kp_msg_metadata.h"
#include "protocol/kp_acl.h"
#include "protocol/kp_core_int.h"

/* On control, the snapshot after any auto-creation (md_fresh() ran). */
static const struct kp_md *
metadata_md(const struct kp_call *call)
{
	if (kp_call_on_control(call))
		return call->env->admin->md_fresh(call->env->admin_ctx);
	return call->env->md;
}

/* Whether an entry names its topic by id: as in Kafka, any non-zero id wins
 * over the name (the Java client sends an empty name with the id). */
static bool
metadata_by_id(const struct kp_metadata_request_metadata_request_topic *t)
{
	return !kp_uuid_is_zero(&t->topic_id);
}

static const struct kp_md_topic *
metadata_lookup(const struct kp_md *md, const struct kp_metadata_request_metadata_request_topic *t)
{
	if (metadata_by_id(t))
		return kp_md_topic_by_id(md, &t->topic_id);
	return kp_md_topic_by_name(md, t->name);
}

/* Whether the principal may auto-create the topic: CREATE on the cluster,
 * else on the topic (and DESCRIBE on it, to see it at all). */
static bool
metadata_may_create(const struct kp_call *call, struct kp_str name)
{
	const struct kp_env *env = call->env;

	if (!kp_acl_allowed(env->md->acl, env->session, KP_ACL_DESCRIBE, KP_RES_TOPIC, name))
		return false;
	return kp_acl_allowed(env->md->acl, env->session, KP_ACL_CREATE, KP_RES_CLUSTER,
			      kp_str_c(KP_ACL_CLUSTER_NAME)) ||
	       kp_acl_allowed(env->md->acl, env->session, KP_ACL_CREATE, KP_RES_TOPIC, name);
}

/* Whether any named topic is missing and may be auto-created; on control,
 * create them (then one fresh snapshot serves the answer). Returns false if
 * it had to give up (not on control). */
static bool
metadata_auto_create(struct kp_call *call, const struct kp_metadata_request *req, int16_t version)
{
	struct kp_cursor it = kp_array_cursor(&req->topics);
	const struct kp_md *md = metadata_md(call);

	for (int32_t i = 0; i < req->topics.count; i++) {
		struct kp_metadata_request_metadata_request_topic t;
		char msg[320];

		kp_metadata_request_metadata_request_topic_decode(&it, version, &t);
		if (metadata_by_id(&t) || t.name.len < 0 ||
		    kp_md_topic_by_name(md, t.name) != NULL ||
		    kp_topic_name_check(t.name, msg, sizeof(msg)) != KP_ERR_NONE ||
		    !metadata_may_create(call, t.name))
			continue;
		if (!kp_call_on_control(call))
			return false;
		/* A failure (say, a name colliding by '.' vs '_') just leaves the
		 * topic unknown, as in Kafka's auto-creation. */
		call->env->admin->topic_auto_create(call->env->admin_ctx, t.name, msg,
						    sizeof(msg));
	}
	if (kp_call_on_control(call))
		call->env->admin->md_fresh(call->env->admin_ctx);
	return true;
}

/* Whether broker id is alive with an endpoint for the client's listener. */
static bool
metadata_reachable(const struct kp_call *call, const struct kp_md *md, int32_t id)
{
	const struct kp_md_broker *b = kp_md_broker(md, id);

	return b != NULL && kp_md_broker_endpoint(md, b, call->env->session) != NULL;
}

/* ids without the unreachable ones (v0 lists only those, as Kafka's
 * errorUnavailableEndpoints); returns the count kept. */
static int32_t
metadata_filter(const struct kp_call *call, const struct kp_md *md, const int32_t *ids,
		int32_t count, int32_t *out, bool reachable)
{
	int32_t n = 0;

	for (int32_t i = 0; i < count; i++)
		if (metadata_reachable(call, md, ids[i]) == reachable)
			out[n++] = ids[i];
	return n;
}

/* One partition as Kafka's ZooKeeper-mode metadata cache answers it: no
 * reachable leader is LEADER_NOT_AVAILABLE (LISTENER_NOT_FOUND from v6 when
 * the leader is alive without the client's listener) with leader -1; v0
 * lists reachable replicas only and flags the missing ones with
 * REPLICA_NOT_AVAILABLE. */
static void
metadata_encode_partition(struct kp_writer *w, int16_t version, const struct kp_call *call,
			  const struct kp_md *md, int32_t index, const struct kp_md_partition *mp)
{
	struct kp_metadata_response_metadata_response_partition part;
	int32_t replicas[KP_REPLICAS_MAX], isr[KP_REPLICAS_MAX], offline[KP_REPLICAS_MAX];
	int32_t rc = MIN(mp->replica_count, KP_REPLICAS_MAX);
	int32_t ic = MIN(mp->isr_count, KP_REPLICAS_MAX);
	bool v0 = version == 0;
	int32_t fr = v0 ? metadata_filter(call, md, mp->replicas, rc, replicas, true) : rc;
	int32_t fi = v0 ? metadata_filter(call, md, mp->isr, ic, isr, true) : ic;

	kp_metadata_response_metadata_response_partition_init(&part);
	part.partition_index = index;
	part.leader_id = mp->leader;
	part.leader_epoch = mp->leader_epoch;
	if (mp->leader < 0 || !metadata_reachable(call, md, mp->leader)) {
		part.error_code = mp->leader >= 0 && version >= 6 &&
				  kp_md_broker(md, mp->leader) != NULL
			? KP_ERR_LISTENER_NOT_FOUND : KP_ERR_LEADER_NOT_AVAILABLE;
		part.leader_id = -1;
	} else if (fr < rc || fi < ic) {
		part.error_code = KP_ERR_REPLICA_NOT_AVAILABLE;
	}
	part.replica_nodes.count = fr;
	part.replica_nodes.items = version == 0 ? replicas : mp->replicas;
	part.isr_nodes.count = fi;
	part.isr_nodes.items = version == 0 ? isr : mp->isr;
	part.offline_replicas.count = metadata_filter(call, md, mp->replicas, rc, offline, false);
	part.offline_replicas.items = offline;
	kp_metadata_response_metadata_response_partition_encode(w, version, &part);
}

static void
metadata_encode_topic(struct kp_writer *w, const struct kp_call *call, int16_t version,
		      const struct kp_md *md, const struct kp_md_topic *topic, int16_t error,
		      struct kp_str name, const struct kp_uuid *id, int32_t ops)
{
	struct kp_metadata_response_metadata_response_topic out;
	struct kp_writer parts;

	kp_metadata_response_metadata_response_topic_init(&out);
	out.error_code = error;
	out.name = name;
	if (id != NULL)
		out.topic_id = *id;
	kp_writer_init(&parts, 64);
	if (topic != NULL) {
		out.name = topic->name;
		out.topic_id = topic->id;
		out.is_internal = topic->internal;
		for (int32_t p = 0; p < topic->partition_count; p++)
			metadata_encode_partition(&parts, version, call, md, p,
						  &topic->partitions[p]);
		out.partitions.count = topic->partition_count;
		out.partitions.wire = parts.buf;
		out.partitions.wire_end = parts.buf + parts.len;
	} else {
		out.is_internal = kp_topic_internal(name);     /* as Kafka: by name */
	}
	out.topic_authorized_operations = ops;
	kp_metadata_response_metadata_response_topic_encode(w, version, &out);
	kp_writer_free(&parts);
}

/* topic_authorized_operations of a topic entry (INT32_MIN: not asked). */
static int32_t
metadata_topic_ops(const struct kp_call *call, const struct kp_metadata_request *req,
		   const struct kp_md *md, struct kp_str name)
{
	if (!req->include_topic_authorized_operations)
		return INT32_MIN;
	return kp_acl_ops(md->acl, call->env->session, KP_RES_TOPIC, name, KP_ACL_TOPIC_OPS);
}

/* Every topic the principal may describe (silently, as Kafka lists). */
static int32_t
metadata_encode_all(struct kp_writer *scratch, const struct kp_call *call,
		    const struct kp_metadata_request *req, int16_t version, const struct kp_md *md)
{
	int32_t count = 0;

	for (int32_t i = 0; i < md->topic_count; i++) {
		const struct kp_md_topic *t = &md->topics[i];

		if (!kp_acl_allowed(md->acl, call->env->session, KP_ACL_DESCRIBE, KP_RES_TOPIC,
				    t->name))
			continue;
		metadata_encode_topic(scratch, call, version, md, t, KP_ERR_NONE, t->name, NULL,
				      metadata_topic_ops(call, req, md, t->name));
		count++;
	}
	return count;
}

/* A named topic's error before its existence: DESCRIBE on it, and for a
 * missing one that auto-creation would make, CREATE. */
static int16_t
metadata_denied(const struct kp_call *call, const struct kp_metadata_request *req,
		const struct kp_md *md, const struct kp_md_topic *topic, struct kp_str name)
{
	char msg[320];

	if (topic != NULL)
		name = topic->name;
	else if (name.len < 0)
		return KP_ERR_NONE;             /* an unknown id: UNKNOWN_TOPIC_ID */
	if (!kp_authorize(call->env, KP_ACL_DESCRIBE, KP_RES_TOPIC, name))
		return KP_ERR_TOPIC_AUTHORIZATION_FAILED;
	if (topic == NULL && md->auto_create_topics && req->allow_auto_topic_creation &&
	    kp_topic_name_check(name, msg, sizeof(msg)) == KP_ERR_NONE &&
	    !metadata_may_create(call, name)) {
		kp_acl_denied_count(KP_ACL_CREATE, KP_RES_TOPIC);
		return KP_ERR_TOPIC_AUTHORIZATION_FAILED;
	}
	return KP_ERR_NONE;
}

/* Encode the topics part into scratch; returns the topic count. */
static int32_t
metadata_encode_topics(struct kp_writer *scratch, const struct kp_call *call,
		       const struct kp_metadata_request *req, int16_t version,
		       const struct kp_md *md, bool all)
{
	struct kp_cursor it = kp_array_cursor(&req->topics);

	if (all)
		return metadata_encode_all(scratch, call, req, version, md);
	/* Kafka answers a set: a topic named twice is described once (else a
	 * small request for a many-partition topic amplifies without bound).
	 * One bit per topic of our snapshot, so not sized by the client. */
	uint8_t *seen = calloc((size_t)md->topic_count / 8 + 1, 1);
	int32_t count = 0;

	if (seen == NULL) {
		scratch->err = KP_WIRE_NOMEM;
		return 0;
	}
	for (int32_t i = 0; i < req->topics.count; i++) {
		struct kp_metadata_request_metadata_request_topic t;
		const struct kp_md_topic *topic;
		int16_t error = KP_ERR_NONE;
		char msg[320];

		kp_metadata_request_metadata_request_topic_decode(&it, version, &t);
		topic = metadata_lookup(md, &t);
		if (topic != NULL) {
			size_t bit = (size_t)(topic - md->topics);

			if (seen[bit / 8] & (1u << (bit % 8)))
				continue;
			seen[bit / 8] |= (uint8_t)(1u << (bit % 8));
		}
		error = metadata_denied(call, req, md, topic,
					metadata_by_id(&t) ? kp_str_c(NULL) : t.name);
		if (error != KP_ERR_NONE) {
			/* Unauthorized: no partitions; by id, no name. */
			if (metadata_by_id(&t) && version >= 12)
				t.name = kp_str_c(NULL);
			else if (topic != NULL)
				t.name = topic->name;
			metadata_encode_topic(scratch, call, version, md, NULL, error, t.name,
					      &t.topic_id, INT32_MIN);
			count++;
			continue;
		}
		if (topic == NULL && metadata_by_id(&t))
			error = KP_ERR_UNKNOWN_TOPIC_ID;
		else if (topic == NULL)
			error = kp_topic_name_check(t.name, msg, sizeof(msg));
		/* Auto-creation ran before this (on control), so a valid name
		 * still missing here is unknown. */
		if (topic == NULL && error == KP_ERR_NONE)
			error = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		/* An unknown id has no name: null where v12+ allows it. */
		if (topic == NULL && metadata_by_id(&t) && version >= 12)
			t.name = kp_str_c(NULL);
		metadata_encode_topic(scratch, call, version, md, topic, error, t.name,
				      topic == NULL ? &t.topic_id : NULL,
				      metadata_topic_ops(call, req, md,
							 topic != NULL ? topic->name : t.name));
		count++;
	}
	free(seen);
	return count;
}

/* v10 and v11 carry topic ids and nullable names but Kafka serves neither
 * before v12: a null name or a non-zero id fails the whole request with
 * INVALID_REQUEST, answered as MetadataRequest.getErrorResponse does (no
 * brokers, every topic as sent, a null name as ""). Returns whether it did. */
static bool
metadata_ids_refused(struct kp_call *call, const struct kp_metadata_request *req,
		     int16_t version)
{
	struct kp_metadata_request_metadata_request_topic t;
	struct kp_metadata_response_metadata_response_topic out;
	struct kp_metadata_response resp;
	struct kp_cursor it = kp_array_cursor(&req->topics);
	struct kp_writer scratch;
	bool refuse = false;

	if (version < 10 || version > 11)
		return false;
	for (int32_t i = 0; i < req->topics.count && !refuse; i++) {
		kp_metadata_request_metadata_request_topic_decode(&it, version, &t);
		refuse = t.name.ptr == NULL || !kp_uuid_is_zero(&t.topic_id);
	}
	if (!refuse)
		return false;
	kp_writer_init(&scratch, 64);
	it = kp_array_cursor(&req->topics);
	for (int32_t i = 0; i < req->topics.count; i++) {
		kp_metadata_request_metadata_request_topic_decode(&it, version, &t);
		kp_metadata_response_metadata_response_topic_init(&out);
		out.error_code = KP_ERR_INVALID_REQUEST;
		out.name = t.name.ptr == NULL ? kp_str_c("") : t.name;
		out.topic_id = t.topic_id;
		out.partitions.count = 0;
		kp_metadata_response_metadata_response_topic_encode(&scratch, version, &out);
	}
	kp_metadata_response_init(&resp);
	resp.brokers.count = 0;
	resp.topics = kp_array_wire(req->topics.count, &scratch);
	kp_metadata_response_encode(call->w, version, &resp);
	kp_writer_free(&scratch);
	return true;
}

/* Every live broker with an endpoint for the client's listener (Kafka's
 * getAliveBrokerNodes), by id; returns the count. */
static int32_t
metadata_encode_brokers(struct kp_writer *w, const struct kp_call *call, int16_t version,
			const struct kp_md *md)
{
	struct kp_metadata_response_metadata_response_broker broker;
	int32_t count = 0;

	for (int32_t i = 0; i < md->broker_count; i++) {
		const struct kp_md_broker *b = &md->brokers[i];
		const struct kp_md_endpoint *ep = kp_md_broker_endpoint(md, b, call->env->session);

		if (ep == NULL)
			continue;
		kp_metadata_response_metadata_response_broker_init(&broker);
		broker.node_id = b->id;
		broker.host = kp_str_c(ep->host);
		broker.port = ep->port;
		broker.rack = kp_str_c(b->rack);
		kp_metadata_response_metadata_response_broker_encode(w, version, &broker);
		count++;
	}
	return count;
}

enum kp_verdict
kp_handle_metadata(struct kp_call *call)
{
	int16_t version = call->hdr.request_api_version;
	struct kp_metadata_response resp;
	struct kp_metadata_request req;
	struct kp_writer scratch, topics;
	const struct kp_md_endpoint *ep;
	const struct kp_md *md;
	size_t body_at, body_len;
	int32_t topic_count;
	uint32_t key;
	bool all, cache;

	if (kp_metadata_request_decode(&call->body, version, &req) != 0)
		return KP_VERDICT_CLOSE;
	if (metadata_ids_refused(call, &req, version))
		return call->w->err == 0 ? KP_VERDICT_REPLY : KP_VERDICT_CLOSE;
	/* v0: an empty list means every topic; v1+: null does. */
	all = req.topics.count < 0 || (version == 0 && req.topics.count == 0);
	if (!all && call->env->md->auto_create_topics && req.allow_auto_topic_creation &&
	    !metadata_auto_create(call, &req, version))
		return KP_VERDICT_FORWARD;
	md = metadata_md(call);
	/* All topics, on a core: the same bytes until the snapshot changes
	 * (not with an authorizer: what is listed depends on the principal). */
	cache = all && !kp_call_on_control(call) && call->env->kc != NULL && md->acl == NULL;
	/* Each listener answers with its own endpoint: its own cache entry. */
	ep = kp_md_endpoint(md, call->env->session);
	key = (uint32_t)(ep - md->endpoints) << 8 | (uint32_t)version << 2 |
	      (uint32_t)req.include_cluster_authorized_operations << 1 |
	      (uint32_t)req.include_topic_authorized_operations;
	if (cache) {
		const uint8_t *body = kp_core_md_cached(call->env->kc, md->epoch, key, &body_len);

		if (body != NULL) {
			kp_write_raw(call->w, body, body_len);
			return KP_VERDICT_REPLY;
		}
	}
	body_at = call->w->len;

	kp_metadata_response_init(&resp);
	kp_writer_init(&scratch, 256);
	resp.brokers = kp_array_wire(metadata_encode_brokers(&scratch, call, version, md),
				     &scratch);
	resp.cluster_id = kp_str_c(md->cluster_id);
	resp.controller_id = md->controller_id;
	if (req.include_cluster_authorized_operations)
		resp.cluster_authorized_operations =
			kp_acl_ops(md->acl, call->env->session, KP_RES_CLUSTER,
				   kp_str_c(KP_ACL_CLUSTER_NAME), KP_ACL_CLUSTER_OPS);

	kp_writer_init(&topics, 256);
	topic_count = metadata_encode_topics(&topics, call, &req, version, md, all);
	resp.topics = kp_array_wire(topic_count, &topics);
	if (scratch.err != 0 || topics.err != 0) {
		kp_writer_free(&scratch);
		kp_writer_free(&topics);
		return KP_VERDICT_CLOSE;
	}
	kp_metadata_response_encode(call->w, version, &resp);
	kp_writer_free(&scratch);
	kp_writer_free(&topics);
	if (cache && call->w->err == 0)
		kp_core_md_store(call->env->kc, md->epoch, key, call->w->buf + body_at,
				 call->w->len - body_at);
	return KP_VERDICT_REPLY;
}
