/* SPDX-License-Identifier: Apache-2.0 */
/* InitProducerId (key 22), versions 0-5, on the control thread: a fresh
 * producer id (never handed out before, across restarts) with epoch 0 for an
 * idempotent producer, as Kafka does for a null transactional id even when
 * the client names its current id (v3+). Transactions are not supported
 * yet: a transactional id gets TRANSACTIONAL_ID_AUTHORIZATION_FAILED, a
 * fatal (non-retriable) error the clients report clearly (an empty one
 * INVALID_REQUEST, as Kafka). */
#include "protocol/gen/kp_msg_init_producer_id.h"
#include "protocol/kp_int.h"

/* An idempotent producer: IDEMPOTENT_WRITE on the cluster, or WRITE on
 * some topic (Kafka 3.x, authorizeByResourceType). */
static bool
init_producer_id_idempotent_allowed(const struct kp_call *call)
{
	const struct kp_env *env = call->env;

	if (kp_acl_allowed(env->md->acl, env->session, KP_ACL_IDEMPOTENT_WRITE, KP_RES_CLUSTER,
			   kp_str_c(KP_ACL_CLUSTER_NAME)) ||
	    kp_acl_allowed_any(env->md->acl, env->session, KP_ACL_WRITE, KP_RES_TOPIC))
		return true;
	kp_acl_denied_count(KP_ACL_IDEMPOTENT_WRITE, KP_RES_CLUSTER);
	return false;
}

enum kp_verdict
kp_handle_init_producer_id(struct kp_call *call)
{
	int16_t version = call->hdr.request_api_version;
	struct kp_init_producer_id_response resp;
	struct kp_init_producer_id_request req;
	int64_t pid = -1;

	if (kp_init_producer_id_request_decode(&call->body, version, &req) != 0)
		return KP_VERDICT_CLOSE;
	kp_init_producer_id_response_init(&resp);
	resp.producer_id = -1;
	resp.producer_epoch = -1;
	/* Kafka's order (KafkaApis.handleInitProducerIdRequest, then
	 * TransactionCoordinator.handleInitProducerId): the transactional id's
	 * authorization (an idempotent producer's first; a transactional id is
 * refused here; "" passes it), the current id and epoch
	 * (v3+: both given or neither, else INVALID_REQUEST), then "" is
	 * INVALID_REQUEST. */
	if (req.transactional_id.len < 0 && !init_producer_id_idempotent_allowed(call))
		resp.error_code = KP_ERR_CLUSTER_AUTHORIZATION_FAILED;
	else if (req.transactional_id.len > 0)
		resp.error_code = KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
	else if ((req.producer_id == -1) != (req.producer_epoch == -1) ||
		 req.transactional_id.len == 0)
		resp.error_code = KP_ERR_INVALID_REQUEST;
	if (req.transactional_id.len < 0 && resp.error_code == KP_ERR_NONE) {
		resp.error_code = call->env->admin->producer_id_next(call->env->admin_ctx, &pid);
		if (resp.error_code == KP_ERR_NONE) {
			resp.producer_id = pid;
			resp.producer_epoch = 0;
		}
	}
	kp_init_producer_id_response_encode(call->w, version, &resp);
	return KP_VERDICT_REPLY;
}
