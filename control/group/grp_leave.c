/* SPDX-License-Identifier: Apache-2.0 */
/* LeaveGroup v0-5 (Kafka's GroupCoordinator.handleLeaveGroup): one member
 * (v0-2) or a batch of members, by member id or by group.instance.id
 * (v3+), each with its own error. A member that leaves makes the group
 * rebalance. The batch is walked in place, never copied. @thread control */
#include "control/group/grp_coord.h"

#include <stdlib.h>

#include "protocol/gen/kp_msg_leave_group.h"

enum kp_verdict grp_leave_handle(struct grp_coord *c, struct kp_group_call *call);

/* One member leaving (Kafka's removeMemberAndUpdateGroup after its checks). */
static int16_t
grp_leave_one(struct grp_coord *c, struct grp *g, struct kp_str member_id,
	      struct kp_str instance_id)
{
	if (g == NULL)
		return KP_ERR_UNKNOWN_MEMBER_ID;
	if (instance_id.len >= 0) {
		struct grp_member *m = grp_member_by_instance(g, instance_id);

		if (m == NULL)
			return KP_ERR_UNKNOWN_MEMBER_ID;
		if (member_id.len > 0 && !grp_str_is(m->id, member_id))
			return KP_ERR_FENCED_INSTANCE_ID;
		grp_member_remove(c, g, m);
		return KP_ERR_NONE;
	}
	struct grp_pending *pm = grp_pending_find(g, member_id);

	if (pm != NULL) {
		grp_pending_remove(g, pm);
		grp_try_complete_join(c, g);
		return KP_ERR_NONE;
	}
	struct grp_member *m = grp_member_find(g, member_id);

	if (m == NULL)
		return KP_ERR_UNKNOWN_MEMBER_ID;
	grp_member_remove(c, g, m);
	return KP_ERR_NONE;
}

static enum kp_verdict
grp_leave_error(struct kp_group_call *call, int16_t error)
{
	struct kp_leave_group_response resp;

	kp_leave_group_response_init(&resp);
	resp.error_code = error;
	if (call->api_version >= 3)
		resp.members.count = 0;
	kp_leave_group_response_encode(call->w, call->api_version, &resp);
	return KP_VERDICT_REPLY;
}

enum kp_verdict
grp_leave_handle(struct grp_coord *c, struct kp_group_call *call)
{
	struct kp_leave_group_request r;
	struct kp_leave_group_response resp;
	int16_t v = call->api_version;

	if (kp_leave_group_request_decode(&call->body, v, &r) != 0)
		return KP_VERDICT_CLOSE;
	int16_t err = grp_check_id(c, r.group_id, false);

	if (err != KP_ERR_NONE)
		return grp_leave_error(call, err);
	struct grp *g = grp_find(c, r.group_id);

	if (g != NULL && g->state == GRP_DEAD)
		return grp_leave_error(call, KP_ERR_COORDINATOR_NOT_AVAILABLE);
	kp_leave_group_response_init(&resp);
	if (v < 3) {
		resp.error_code = grp_leave_one(c, g, r.member_id, (struct kp_str){ NULL, -1 });
		kp_leave_group_response_encode(call->w, v, &resp);
		return KP_VERDICT_REPLY;
	}
	/* Each member's answer goes into a scratch writer, element by element,
	 * so nothing is sized by the count the client sent. */
	struct kp_writer sub;
	struct kp_cursor it = kp_array_cursor(&r.members);
	int32_t n = 0;

	kp_writer_init(&sub, 64);
	for (int32_t i = 0; i < r.members.count; i++) {
		struct kp_leave_group_request_member_identity mi;
		struct kp_leave_group_response_member_response mr;

		if (kp_leave_group_request_member_identity_decode(&it, v, &mi) != 0) {
			kp_writer_free(&sub);
			return KP_VERDICT_CLOSE;
		}
		kp_leave_group_response_member_response_init(&mr);
		mr.member_id = mi.member_id;
		mr.group_instance_id = mi.group_instance_id;
		mr.error_code = grp_leave_one(c, g, mi.member_id, mi.group_instance_id);
		/* A leave may have freed nothing but members: g stays valid. */
		kp_leave_group_response_member_response_encode(&sub, v, &mr);
		n++;
	}
	resp.members = kp_array_wire(n, &sub);
	kp_leave_group_response_encode(call->w, v, &resp);
	kp_writer_free(&sub);
	return KP_VERDICT_REPLY;
}
