/* SPDX-License-Identifier: Apache-2.0 */
/* DescribeConfigs (key 32), versions 1-4, on the control thread. Control
 * enumerates the entries (values, sources, synonyms); this file maps them
 * onto each version's fields, answers as Kafka 3.9 does for resource types
 * it does not describe, and bounds the response: resources are answered in
 * full (duplicates too, as Kafka) until the results reach
 * KP_ADMIN_RESPONSE_BYTES_MAX, the rest with INVALID_REQUEST. */
#include <stdio.h>

#include "protocol/gen/kp_msg_describe_configs.h"
#include "protocol/kp_int.h"

/* ConfigResource types Kafka 3.9 describes; any other fails the request. */
#define DESCRIBE_CONFIGS_TOPIC 2
#define DESCRIBE_CONFIGS_BROKER 4
#define DESCRIBE_CONFIGS_BROKER_LOGGER 8
#define DESCRIBE_CONFIGS_CLIENT_METRICS 16
/* Kafka's text for INVALID_REQUEST (Errors.java), in its error responses. */
#define DESCRIBE_CONFIGS_INVALID_REQUEST_TEXT                                         \
	"This most likely occurs because of a request being malformed by the client "  \
	"library or the message was sent to an incompatible broker. See the broker "   \
	"logs for more details."
/* Names a client may list per resource; Kafka has a few hundred configs. */
#define DESCRIBE_CONFIGS_NAMES_MAX 512

struct describe_configs_ctx {
	struct kp_writer *w;
	int16_t version;
	bool synonyms;
	bool docs;
	int32_t count;
};

static void
describe_configs_add(void *arg, const struct kp_config_entry *e)
{
	struct describe_configs_ctx *ctx = arg;
	struct kp_describe_configs_response_describe_configs_synonym syn[KP_CONFIG_SYNONYMS_MAX];
	struct kp_describe_configs_response_describe_configs_resource_result out;

	kp_describe_configs_response_describe_configs_resource_result_init(&out);
	out.name = kp_str_c(e->name);
	out.value = kp_str_c(e->sensitive ? NULL : e->value);
	out.read_only = e->read_only;
	if (ctx->version == 0)
		out.is_default = e->is_default;    /* a v0-only field */
	out.config_source = e->source;
	out.is_sensitive = e->sensitive;
	if (ctx->version >= 3)
		out.config_type = e->type;
	out.documentation = kp_str_c(ctx->docs ? e->documentation : NULL);
	out.synonyms.count = 0;
	if (ctx->synonyms) {
		for (int32_t i = 0; i < e->synonym_count && i < KP_CONFIG_SYNONYMS_MAX; i++) {
			kp_describe_configs_response_describe_configs_synonym_init(&syn[i]);
			syn[i].name = kp_str_c(e->synonyms[i].name);
			syn[i].value = kp_str_c(e->sensitive ? NULL : e->synonyms[i].value);
			syn[i].source = e->synonyms[i].source;
			out.synonyms.count = i + 1;
		}
		out.synonyms.items = syn;
	}
	kp_describe_configs_response_describe_configs_resource_result_encode(ctx->w, ctx->version,
									     &out);
	ctx->count++;
}

/* How a resource is answered. */
enum describe_configs_mode {
	DESCRIBE_CONFIGS_FULL = 0,      /* its configs */
	DESCRIBE_CONFIGS_OVER_BUDGET,   /* INVALID_REQUEST: the response is big enough */
	DESCRIBE_CONFIGS_FAILED,        /* INVALID_REQUEST: the whole request failed */
};

static void
describe_configs_resource(struct kp_call *call, struct kp_writer *scratch,
			  const struct kp_describe_configs_request *req,
			  const struct kp_describe_configs_request_describe_configs_resource *res,
			  enum describe_configs_mode mode, bool first_over)
{
	int16_t version = call->hdr.request_api_version;
	struct kp_describe_configs_response_describe_configs_result r;
	struct kp_str names[DESCRIBE_CONFIGS_NAMES_MAX];
	struct kp_writer configs;
	struct describe_configs_ctx ctx = { &configs, version, req->include_synonyms,
					    req->include_documentation, 0 };
	struct kp_cursor it = kp_array_cursor(&res->configuration_keys);
	char msg[320] = "";
	const char *text = msg;     /* Kafka sends "" when there is nothing to say */

	kp_describe_configs_response_describe_configs_result_init(&r);
	kp_writer_init(&configs, 1024);
	r.resource_type = res->resource_type;
	r.resource_name = res->resource_name;
	if (mode == DESCRIBE_CONFIGS_FAILED) {
		/* Errors.INVALID_REQUEST's own text, as Kafka's error response. */
		r.error_code = KP_ERR_INVALID_REQUEST;
		text = DESCRIBE_CONFIGS_INVALID_REQUEST_TEXT;
	} else if (mode == DESCRIBE_CONFIGS_OVER_BUDGET) {
		/* Only the first says why: the rest stay as small as their
		 * request entries (null message). */
		r.error_code = KP_ERR_INVALID_REQUEST;
		snprintf(msg, sizeof(msg), "The response reached this broker's limit of %u bytes; "
			 "describe fewer resources per request", KP_ADMIN_RESPONSE_BYTES_MAX);
		text = first_over ? msg : NULL;
	} else if ((r.error_code = kp_acl_config_check(call->env, KP_ACL_DESCRIBE_CONFIGS,
						       res->resource_type, res->resource_name,
						       &text)) != KP_ERR_NONE) {
		/* Authorization first, as KafkaApis. */
	} else if (res->resource_type == DESCRIBE_CONFIGS_TOPIC &&
		   kp_topic_name_check(res->resource_name, msg, sizeof(msg)) != KP_ERR_NONE) {
		/* Kafka validates the name before looking the topic up. */
		r.error_code = KP_ERR_INVALID_TOPIC_EXCEPTION;
	} else if (res->configuration_keys.count > DESCRIBE_CONFIGS_NAMES_MAX) {
		r.error_code = KP_ERR_INVALID_REQUEST;
		snprintf(msg, sizeof(msg), "At most %d configuration keys per resource",
			 DESCRIBE_CONFIGS_NAMES_MAX);
	} else {
		for (int32_t i = 0; i < res->configuration_keys.count; i++)
			names[i] = kp_read_string(&it, version >= 4);
		r.error_code = call->env->admin->configs_describe(
			call->env->admin_ctx, res->resource_type, res->resource_name,
			res->configuration_keys.count < 0 ? NULL : names,
			kp_count0(res->configuration_keys.count), req->include_synonyms,
			req->include_documentation, describe_configs_add, &ctx, msg, sizeof(msg));
	}
	r.error_message = kp_str_c(text);
	r.configs.count = r.error_code == KP_ERR_NONE ? ctx.count : 0;
	r.configs.wire = configs.buf;
	r.configs.wire_end = configs.buf + (r.error_code == KP_ERR_NONE ? configs.len : 0);
	kp_describe_configs_response_describe_configs_result_encode(scratch, version, &r);
	kp_writer_free(&configs);
}

/* Kafka 3.9 fails the whole request when any resource has a type it does not
 * describe (ConfigHelper throws while authorizing): every resource then
 * gets INVALID_REQUEST. */
static bool
describe_configs_types_ok(const struct kp_describe_configs_request *req, int16_t version)
{
	struct kp_cursor it = kp_array_cursor(&req->resources);

	for (int32_t i = 0; i < req->resources.count; i++) {
		struct kp_describe_configs_request_describe_configs_resource res;

		kp_describe_configs_request_describe_configs_resource_decode(&it, version, &res);
		if (res.resource_type != DESCRIBE_CONFIGS_TOPIC &&
		    res.resource_type != DESCRIBE_CONFIGS_BROKER &&
		    res.resource_type != DESCRIBE_CONFIGS_BROKER_LOGGER &&
		    res.resource_type != DESCRIBE_CONFIGS_CLIENT_METRICS)
			return false;
	}
	return true;
}

enum kp_verdict
kp_handle_describe_configs(struct kp_call *call)
{
	int16_t version = call->hdr.request_api_version;
	struct kp_describe_configs_response resp;
	struct kp_describe_configs_request req;
	enum describe_configs_mode mode;
	struct kp_writer scratch;
	bool first_over = true;
	struct kp_cursor it;

	if (kp_describe_configs_request_decode(&call->body, version, &req) != 0)
		return KP_VERDICT_CLOSE;
	mode = describe_configs_types_ok(&req, version) ? DESCRIBE_CONFIGS_FULL
							: DESCRIBE_CONFIGS_FAILED;
	kp_describe_configs_response_init(&resp);
	kp_writer_init(&scratch, 1024);
	it = kp_array_cursor(&req.resources);
	for (int32_t i = 0; i < req.resources.count; i++) {
		struct kp_describe_configs_request_describe_configs_resource res;
		bool over = mode == DESCRIBE_CONFIGS_FULL &&
			    scratch.len >= KP_ADMIN_RESPONSE_BYTES_MAX;

		kp_describe_configs_request_describe_configs_resource_decode(&it, version, &res);
		describe_configs_resource(call, &scratch, &req, &res,
					  over ? DESCRIBE_CONFIGS_OVER_BUDGET : mode, first_over);
		first_over = first_over && !over;
	}
	resp.results = kp_array_wire(kp_count0(req.resources.count), &scratch);
	kp_describe_configs_response_encode(call->w, version, &resp);
	kp_writer_free(&scratch);
	return KP_VERDICT_REPLY;
}
