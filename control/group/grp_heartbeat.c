/* SPDX-License-Identifier: Apache-2.0 */
/* Heartbeat v0-4 (Kafka's GroupCoordinator.handleHeartbeat): keeps a
 * member's session alive and tells it, with REBALANCE_IN_PROGRESS, to
 * rejoin while the group rebalances. Never parks. @thread control */
#include "control/group/grp_coord.h"

#include "protocol/gen/kp_msg_heartbeat.h"

enum kp_verdict grp_heartbeat_handle(struct grp_coord *c, struct kp_group_call *call);

static int16_t
grp_heartbeat_check(struct grp_coord *c, const struct kp_heartbeat_request *r)
{
	int16_t err = grp_check_id(c, r->group_id, false);

	if (err != KP_ERR_NONE)
		return err;
	struct grp *g = grp_find(c, r->group_id);

	if (g == NULL)
		return KP_ERR_UNKNOWN_MEMBER_ID;
	if (g->state == GRP_DEAD)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	if (grp_member_fenced(g, r->member_id, r->group_instance_id))
		return KP_ERR_FENCED_INSTANCE_ID;
	struct grp_member *m = grp_member_find(g, r->member_id);

	if (m == NULL)
		return KP_ERR_UNKNOWN_MEMBER_ID;
	if (r->generation_id != g->generation)
		return KP_ERR_ILLEGAL_GENERATION;
	switch (g->state) {
	case GRP_EMPTY:
		return KP_ERR_UNKNOWN_MEMBER_ID;
	case GRP_PREPARING_REBALANCE:
		grp_heartbeat_member(c, g, m);
		return KP_ERR_REBALANCE_IN_PROGRESS;
	case GRP_COMPLETING_REBALANCE:
	case GRP_STABLE:
		grp_heartbeat_member(c, g, m);
		return KP_ERR_NONE;
	default:
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	}
}

enum kp_verdict
grp_heartbeat_handle(struct grp_coord *c, struct kp_group_call *call)
{
	struct kp_heartbeat_request r;
	struct kp_heartbeat_response resp;

	if (kp_heartbeat_request_decode(&call->body, call->api_version, &r) != 0)
		return KP_VERDICT_CLOSE;
	kp_heartbeat_response_init(&resp);
	resp.error_code = grp_heartbeat_check(c, &r);
	kp_heartbeat_response_encode(call->w, call->api_version, &resp);
	return KP_VERDICT_REPLY;
}
