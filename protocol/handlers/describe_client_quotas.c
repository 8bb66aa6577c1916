/* SPDX-License-Identifier: Apache-2.0 */
/* DescribeClientQuotas (key 48), versions 0-1, on the control thread.
 * Control filters its quota store (control/quota.c); this file decodes the
 * filter and encodes the matching entities as Kafka 3.9 does: an entity's
 * parts in client-id, user, ip order, its values in Kafka's key order. A
 * failed filter answers error_code and message with null entries. */
#include <stdio.h>

#include "protocol/gen/kp_msg_describe_client_quotas.h"
#include "protocol/kp_int.h"

/* Filter components read (three entity types exist: more always repeat
 * one or name an unknown type, which Kafka refuses too). */
#define DESCRIBE_CLIENT_QUOTAS_FILTERS_MAX 16

struct describe_client_quotas_ctx {
	struct kp_writer *w;
	int16_t version;
	int32_t count;
};

static void
describe_client_quotas_entry(void *arg, const struct kp_quota_entity *entity,
			     const struct kp_quota_values *values)
{
	struct describe_client_quotas_ctx *ctx = arg;
	struct kp_describe_client_quotas_response_entity_data parts[KP_QUOTA_TYPES];
	struct kp_describe_client_quotas_response_value_data vals[KP_QUOTA_KEYS];
	struct kp_describe_client_quotas_response_entry_data e;
	int32_t np = 0, nv = 0;

	for (int t = 0; t < KP_QUOTA_TYPES; t++) {
		if (!(entity->present & (1u << t)))
			continue;
		kp_describe_client_quotas_response_entity_data_init(&parts[np]);
		parts[np].entity_type = kp_str_c(kp_quota_type_name((enum kp_quota_type)t));
		parts[np].entity_name = entity->name[t];
		np++;
	}
	for (int k = 0; k < KP_QUOTA_KEYS; k++) {
		if (!(values->set & (1u << k)))
			continue;
		kp_describe_client_quotas_response_value_data_init(&vals[nv]);
		vals[nv].key = kp_str_c(kp_quota_key_name((enum kp_quota_key)k));
		vals[nv].value = values->value[k];
		nv++;
	}
	kp_describe_client_quotas_response_entry_data_init(&e);
	e.entity = (struct kp_array){ np, NULL, NULL, parts };
	e.values = (struct kp_array){ nv, NULL, NULL, vals };
	kp_describe_client_quotas_response_entry_data_encode(ctx->w, ctx->version, &e);
	ctx->count++;
}

enum kp_verdict
kp_handle_describe_client_quotas(struct kp_call *call)
{
	int16_t version = call->hdr.request_api_version;
	struct kp_quota_filter filters[DESCRIBE_CLIENT_QUOTAS_FILTERS_MAX];
	struct kp_describe_client_quotas_response resp;
	struct kp_describe_client_quotas_request req;
	struct describe_client_quotas_ctx ctx = { NULL, version, 0 };
	struct kp_writer scratch;
	struct kp_cursor it;
	char msg[512] = "";

	if (kp_describe_client_quotas_request_decode(&call->body, version, &req) != 0)
		return KP_VERDICT_CLOSE;
	kp_describe_client_quotas_response_init(&resp);
	kp_writer_init(&scratch, 1024);
	ctx.w = &scratch;
	if (!kp_authorize(call->env, KP_ACL_DESCRIBE_CONFIGS, KP_RES_CLUSTER,
			  kp_str_c(KP_ACL_CLUSTER_NAME))) {
		resp.error_code = KP_ERR_CLUSTER_AUTHORIZATION_FAILED;
		snprintf(msg, sizeof(msg), "Cluster authorization failed.");
	} else if (req.components.count > DESCRIBE_CLIENT_QUOTAS_FILTERS_MAX) {
		resp.error_code = KP_ERR_INVALID_REQUEST;
		snprintf(msg, sizeof(msg), "At most %d filter components",
			 DESCRIBE_CLIENT_QUOTAS_FILTERS_MAX);
	} else {
		it = kp_array_cursor(&req.components);
		for (int32_t i = 0; i < req.components.count; i++) {
			struct kp_describe_client_quotas_request_component_data c;

			kp_describe_client_quotas_request_component_data_decode(&it, version, &c);
			filters[i] = (struct kp_quota_filter){ c.entity_type, c.match_type,
							       c.match };
		}
		resp.error_code = call->env->admin->quotas_describe(
			call->env->admin_ctx, filters, kp_count0(req.components.count), req.strict,
			describe_client_quotas_entry, &ctx, msg, sizeof(msg));
	}
	if (resp.error_code != KP_ERR_NONE) {
		resp.error_message = kp_str_c(msg);
		resp.entries = (struct kp_array){ -1, NULL, NULL, NULL };
	} else {
		resp.error_message = kp_str_c("");      /* Kafka's default: not null */
		resp.entries = kp_array_wire(ctx.count, &scratch);
	}
	kp_describe_client_quotas_response_encode(call->w, version, &resp);
	kp_writer_free(&scratch);
	return KP_VERDICT_REPLY;
}
