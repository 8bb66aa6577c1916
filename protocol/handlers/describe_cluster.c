/* SPDX-License-Identifier: Apache-2.0 */
/* DescribeCluster (key 60), versions 0-1, answered on the core from its
 * metadata snapshot: every live broker and the controller. This listener
 * serves brokers, so a request for
 * controller endpoints gets MISMATCHED_ENDPOINT_TYPE as from Kafka. */
#include "protocol/gen/kp_msg_describe_cluster.h"
#include "protocol/kp_acl.h"
#include "protocol/kp_int.h"

/* EndpointType values (KIP-919). */
#define DESCRIBE_CLUSTER_ENDPOINT_BROKERS 1

enum kp_verdict
kp_handle_describe_cluster(struct kp_call *call)
{
	int16_t version = call->hdr.request_api_version;
	const struct kp_md *md = call->env->md;
	struct kp_describe_cluster_response_describe_cluster_broker broker;
	struct kp_writer brokers;
	int32_t count = 0;
	struct kp_describe_cluster_response resp;
	struct kp_describe_cluster_request req;

	if (kp_describe_cluster_request_decode(&call->body, version, &req) != 0)
		return KP_VERDICT_CLOSE;
	kp_describe_cluster_response_init(&resp);
	if (req.endpoint_type != DESCRIBE_CLUSTER_ENDPOINT_BROKERS) {
		resp.error_code = KP_ERR_MISMATCHED_ENDPOINT_TYPE;
		resp.error_message = kp_str_c("The request was sent to an endpoint of type BROKER, "
					      "but we wanted an endpoint of type CONTROLLER");
		kp_describe_cluster_response_encode(call->w, version, &resp);
		return KP_VERDICT_REPLY;
	}
	kp_writer_init(&brokers, 64);
	/* Every live broker with an endpoint for this client's listener. */
	for (int32_t i = 0; i < md->broker_count; i++) {
		const struct kp_md_broker *b = &md->brokers[i];
		const struct kp_md_endpoint *ep = kp_md_broker_endpoint(md, b, call->env->session);

		if (ep == NULL)
			continue;
		kp_describe_cluster_response_describe_cluster_broker_init(&broker);
		broker.broker_id = b->id;
		broker.host = kp_str_c(ep->host);
		broker.port = ep->port;
		broker.rack = kp_str_c(b->rack);
		kp_describe_cluster_response_describe_cluster_broker_encode(&brokers, version,
									   &broker);
		count++;
	}
	resp.endpoint_type = req.endpoint_type;
	resp.cluster_id = kp_str_c(md->cluster_id);
	resp.controller_id = md->controller_id;
	resp.brokers = kp_array_wire(count, &brokers);
	/* Kafka: the operations when DESCRIBE is allowed, else 0 (no error). */
	if (req.include_cluster_authorized_operations)
		resp.cluster_authorized_operations =
			kp_authorize(call->env, KP_ACL_DESCRIBE, KP_RES_CLUSTER,
				     kp_str_c(KP_ACL_CLUSTER_NAME))
			? kp_acl_ops(md->acl, call->env->session, KP_RES_CLUSTER,
				     kp_str_c(KP_ACL_CLUSTER_NAME), KP_ACL_CLUSTER_OPS)
			: 0;
	if (brokers.err != 0) {
		kp_writer_free(&brokers);
		return KP_VERDICT_CLOSE;
	}
	kp_describe_cluster_response_encode(call->w, version, &resp);
	kp_writer_free(&brokers);
	return KP_VERDICT_REPLY;
}
