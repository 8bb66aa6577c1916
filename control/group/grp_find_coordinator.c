/* SPDX-License-Identifier: Apache-2.0 */
/* FindCoordinator v0-6 for groups: this broker coordinates every group (a
 * single-node cluster; in cluster mode the leader of the group's
 * __consumer_offsets partition), once __consumer_offsets exists (created here on
 * first use, as Kafka does). Transaction coordinators are not offered: a
 * broker without transactions answers COORDINATOR_NOT_AVAILABLE.
 * @thread control */
#include "control/group/grp_coord.h"

#include "control/ctl_int.h"
#include "control/group/grp_int.h"
#include "control/group/grp_log_int.h"
#include "protocol/gen/kp_msg_find_coordinator.h"

enum kp_verdict grp_find_coordinator_handle(struct grp_coord *c, struct kp_group_call *call);

/* Kafka's text for INVALID_REQUEST (Errors.java). */
#define GRP_FC_INVALID_REQUEST_TEXT                                                   \
	"This most likely occurs because of a request being malformed by the client "  \
	"library or the message was sent to an incompatible broker. See the broker "   \
	"logs for more details."

struct grp_fc_answer {
	int16_t error;
	const char *message;
	int32_t node_id;
	struct kp_str host;
	int32_t port;
};

/* Cluster mode: the coordinator is the leader of the group's
 * __consumer_offsets partition, as the client's listener reaches it
 * (KafkaApis.getCoordinator); none, COORDINATOR_NOT_AVAILABLE. */
static struct grp_fc_answer
grp_fc_leader(const struct kp_md *md, const struct kp_session *session, struct kp_str group)
{
	struct grp_fc_answer a = { KP_ERR_COORDINATOR_NOT_AVAILABLE,
				   "The coordinator is not available.", -1, kp_str_c(""), -1 };
	const struct kp_md_topic *t = kp_md_topic_by_name(md, kp_str_c(GRP_LOG_TOPIC));
	const struct kp_md_partition *mp;
	const struct kp_md_endpoint *ep;
	const struct kp_md_broker *b;

	if (t == NULL || t->partition_count <= 0)
		return a;
	mp = kp_md_partition(t, grp_log_partition_of(group, t->partition_count));
	b = mp != NULL && mp->leader >= 0 ? kp_md_broker(md, mp->leader) : NULL;
	ep = b != NULL ? kp_md_broker_endpoint(md, b, session) : NULL;
	if (ep == NULL)
		return a;
	a = (struct grp_fc_answer){ KP_ERR_NONE, "NONE", b->id, kp_str_c(ep->host), ep->port };
	return a;
}

static struct grp_fc_answer
grp_fc_answer(struct grp_coord *c, const struct kp_session *session, struct kp_str key,
	      int8_t key_type)
{
	/* Kafka's success text: "NONE" (Errors.NONE.message) in v1-3, "" in
	 * v4+ (set by the caller). */
	struct grp_fc_answer a = { KP_ERR_NONE, "NONE", -1, kp_str_c(""), -1 };
	struct kp_str name = key.len < 0 ? kp_str_c("") : key;

	/* DESCRIBE on the group or transactional id first (KafkaApis). */
	if (key_type == 0 && !grp_allowed(c, KP_ACL_DESCRIBE, KP_RES_GROUP, name)) {
		a.error = KP_ERR_GROUP_AUTHORIZATION_FAILED;
		a.message = "Group authorization failed.";
		return a;
	}
	if (key_type == 1 && !grp_allowed(c, KP_ACL_DESCRIBE, KP_RES_TRANSACTIONAL_ID, name)) {
		a.error = KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
		a.message = "Transactional Id authorization failed.";
		return a;
	}
	if (key_type == 1) {
		a.error = KP_ERR_COORDINATOR_NOT_AVAILABLE;
		a.message = "The coordinator is not available.";
		return a;
	}
	if (key_type != 0 || key.len < 0) {
		a.error = KP_ERR_INVALID_REQUEST;
		a.message = GRP_FC_INVALID_REQUEST_TEXT;
		return a;
	}
	a.error = grp_log_ensure(c->log);
	if (a.error != KP_ERR_NONE) {
		a.message = "The coordinator is not available.";
		return a;
	}
	const struct kp_md *md = ctl_md(grp_coord_ctl(c));
	const struct kp_md_endpoint *ep = kp_md_endpoint(md, session);

	if (md->cluster)
		return grp_fc_leader(md, session, key);
	a.node_id = md->broker_id;
	a.host = kp_str_c(ep->host);
	a.port = ep->port;
	return a;
}

enum kp_verdict
grp_find_coordinator_handle(struct grp_coord *c, struct kp_group_call *call)
{
	struct kp_find_coordinator_request r;
	struct kp_find_coordinator_response resp;
	int16_t v = call->api_version;

	if (kp_find_coordinator_request_decode(&call->body, v, &r) != 0)
		return KP_VERDICT_CLOSE;
	kp_find_coordinator_response_init(&resp);
	if (v < 4) {
		struct grp_fc_answer a = grp_fc_answer(c, call->session, r.key,
						       v >= 1 ? r.key_type : 0);

		resp.error_code = a.error;
		resp.error_message = kp_str_c(a.message);
		resp.node_id = a.node_id;
		resp.host = a.host;
		resp.port = a.port;
		kp_find_coordinator_response_encode(call->w, v, &resp);
		return KP_VERDICT_REPLY;
	}
	struct kp_writer sub;
	struct kp_cursor it = kp_array_cursor(&r.coordinator_keys);
	int32_t n = 0;

	kp_writer_init(&sub, 64);
	for (int32_t i = 0; i < r.coordinator_keys.count; i++, n++) {
		struct kp_find_coordinator_response_coordinator e;
		struct kp_str key = kp_read_string(&it, true);
		struct grp_fc_answer a = grp_fc_answer(c, call->session, key, r.key_type);

		if (it.err != 0) {
			kp_writer_free(&sub);
			return KP_VERDICT_CLOSE;
		}
		kp_find_coordinator_response_coordinator_init(&e);
		e.key = key;
		e.node_id = a.node_id;
		e.host = a.host;
		e.port = a.port;
		e.error_code = a.error;
		e.error_message = kp_str_c(a.error == KP_ERR_NONE ? "" : a.message);
		kp_find_coordinator_response_coordinator_encode(&sub, v, &e);
	}
	resp.coordinators = kp_array_wire(n, &sub);
	kp_find_coordinator_response_encode(call->w, v, &resp);
	kp_writer_free(&sub);
	return KP_VERDICT_REPLY;
}
