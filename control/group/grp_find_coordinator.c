/* SPDX-License-Identifier: Apache-2.0 */
/* FindCoordinator v0-6 for groups: this broker coordinates every group (a
 * single-node cluster), once __consumer_offsets exists (created here on
 * first use, as Kafka does). Transaction coordinators are not offered: a
 * broker without transactions answers COORDINATOR_NOT_AVAILABLE.
 * @thread control */
#include "control/group/grp_coord.h"

#include "control/ctl_int.h"
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

static struct grp_fc_answer
grp_fc_answer(struct grp_coord *c, const struct kp_session *session, struct kp_str key,
	      int8_t key_type)
{
	/* Kafka's success text: "NONE" (Errors.NONE.message) in v1-3, "" in
	 * v4+ (set by the caller). */
	struct grp_fc_answer a = { KP_ERR_NONE, "NONE", -1, kp_str_c(""), -1 };

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
