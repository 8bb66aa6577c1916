/* SPDX-License-Identifier: Apache-2.0 */
/* IncrementalAlterConfigs (key 44), versions 0-1, on the control thread:
 * SET, DELETE, APPEND and SUBTRACT on a resource's configs (topic overrides,
 * or a broker's dynamic settings). Checks and changes are kp_ac_resource()'s;
 * this file decodes and encodes. */
#include <stdlib.h>

#include "protocol/gen/kp_msg_incremental_alter_configs.h"
#include "protocol/kp_int.h"

/* The generated names are long. */
typedef struct kp_incremental_alter_configs_request_alter_configs_resource iac_resource;
typedef struct kp_incremental_alter_configs_response_alter_configs_resource_response
	iac_result;
#define iac_resource_decode kp_incremental_alter_configs_request_alter_configs_resource_decode
#define iac_result_encode \
	kp_incremental_alter_configs_response_alter_configs_resource_response_encode

/* The resource's operations; NULL when there are too many
 * (or no memory: answered the same way). */
static struct kp_config_op *
incremental_alter_configs_ops(const iac_resource *res,
		  int16_t version)
{
	struct kp_cursor it = kp_array_cursor(&res->configs);
	int32_t n = kp_count0(res->configs.count);
	struct kp_config_op *ops;

	if (n > KP_CONFIG_OPS_MAX)
		return NULL;
	ops = calloc((size_t)n + 1, sizeof(*ops));
	for (int32_t i = 0; ops != NULL && i < n; i++) {
		struct kp_incremental_alter_configs_request_alterable_config c;

		kp_incremental_alter_configs_request_alterable_config_decode(&it, version, &c);
		ops[i].name = c.name;
		ops[i].op = c.config_operation;
		ops[i].value = c.value;
	}
	return ops;
}

static bool *
incremental_alter_configs_dups(const struct kp_incremental_alter_configs_request *req,
			       int16_t version)
{
	int32_t n = kp_count0(req->resources.count);
	struct kp_cursor it = kp_array_cursor(&req->resources);
	int8_t *types = malloc((size_t)n + 1);
	struct kp_str *names = malloc(sizeof(*names) * ((size_t)n + 1));
	bool *dup = malloc(sizeof(*dup) * ((size_t)n + 1));

	for (int32_t i = 0; types != NULL && names != NULL && dup != NULL && i < n; i++) {
		iac_resource res;

		iac_resource_decode(&it, version, &res);
		types[i] = res.resource_type;
		names[i] = res.resource_name;
	}
	if (types == NULL || names == NULL || dup == NULL ||
	    kp_ac_mark_dups(types, names, n, dup) != 0) {
		free(dup);
		dup = NULL;
	}
	free(types);
	free(names);
	return dup;
}

enum kp_verdict
kp_handle_incremental_alter_configs(struct kp_call *call)
{
	int16_t version = call->hdr.request_api_version;
	struct kp_incremental_alter_configs_response resp;
	struct kp_incremental_alter_configs_request req;
	struct kp_writer scratch;
	struct kp_cursor it;
	bool *dup;

	if (kp_incremental_alter_configs_request_decode(&call->body, version, &req) != 0)
		return KP_VERDICT_CLOSE;
	dup = incremental_alter_configs_dups(&req, version);
	if (dup == NULL)
		return KP_VERDICT_CLOSE;        /* out of memory */
	kp_incremental_alter_configs_response_init(&resp);
	kp_writer_init(&scratch, 256);
	it = kp_array_cursor(&req.resources);
	for (int32_t i = 0; i < req.resources.count; i++) {
		iac_result r;
		iac_resource res;
		struct kp_config_op *ops;
		char msg[512];

		iac_resource_decode(&it, version, &res);
		ops = incremental_alter_configs_ops(&res, version);
		kp_incremental_alter_configs_response_alter_configs_resource_response_init(&r);
		r.error_code = kp_ac_resource(call, res.resource_type, res.resource_name, ops,
					      kp_count0(res.configs.count), true,
					      req.validate_only, dup[i], msg, sizeof(msg));
		r.error_message = kp_str_c(msg[0] != '\0' ? msg : NULL);
		r.resource_type = res.resource_type;
		r.resource_name = res.resource_name;
		iac_result_encode(&scratch, version, &r);
		free(ops);
	}
	resp.responses = kp_array_wire(kp_count0(req.resources.count), &scratch);
	kp_incremental_alter_configs_response_encode(call->w, version, &resp);
	kp_writer_free(&scratch);
	free(dup);
	return KP_VERDICT_REPLY;
}
