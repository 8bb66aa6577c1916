/* SPDX-License-Identifier: Apache-2.0 */
/* The group coordinator's APIs (FindCoordinator, JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, OffsetDelete,
 * DescribeGroups, ListGroups, DeleteGroups), on the control thread: one
 * handler that hands the request to control's coordinator
 * (kp_admin_ops.group) as a struct kp_group_call. It decodes nothing
 * itself: the coordinator owns the bodies of these APIs. */
#include "common/assert.h"
#include "protocol/kp_int.h"

enum kp_verdict
kp_handle_group(struct kp_call *call)
{
	const struct kp_env *env = call->env;
	struct kp_group_call gc = {
		.api_key = call->hdr.request_api_key,
		.api_version = call->hdr.request_api_version,
		.correlation_id = call->hdr.correlation_id,
		.client_id = call->hdr.client_id,
		.client_host = env->client_host,
		.session = env->session,
		.body = call->body,
		.w = call->w,
	};

	ASSERT(env->admin != NULL);             /* every group row is KP_ON_CONTROL */
	if (env->admin->group == NULL)
		return KP_VERDICT_CLOSE;        /* a control without a coordinator */
	if (gc.client_id.len < 0 || gc.client_id.ptr == NULL)
		gc.client_id = (struct kp_str){ "", 0 };
	if (gc.client_host.ptr == NULL || gc.client_host.len < 0)
		gc.client_host = (struct kp_str){ "", 0 };
	return env->admin->group(env->admin_ctx, &gc);
}
