/* SPDX-License-Identifier: Apache-2.0 */
/* ApiVersions (key 18): answered from the dispatch table. Any version is
 * accepted: one we do not know gets a v0 body with UNSUPPORTED_VERSION and
 * our own ApiVersions range so the client can retry (KIP-511). */
#include <stdio.h>

#include "protocol/gen/kp_api.h"
#include "protocol/gen/kp_msg_api_versions.h"
#include "protocol/kp_int.h"

/* Kafka's pattern for client software name and version (KIP-511):
 * [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])? */
static bool
api_versions_software_ok(struct kp_str s)
{
	if (s.len <= 0)
		return false;
	for (int32_t i = 0; i < s.len; i++) {
		char ch = s.ptr[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9');
		bool inner = i > 0 && i < s.len - 1 && (ch == '-' || ch == '.');

		if (!alnum && !inner)
			return false;
	}
	return true;
}

enum kp_verdict
kp_handle_api_versions(struct kp_call *call)
{
	struct kp_api_versions_response_api_version keys[64];
	const struct kp_api_row *self = kp_dispatch_row_get(KP_API_API_VERSIONS);
	int16_t version = call->hdr.request_api_version;
	struct kp_api_versions_response resp;
	struct kp_api_versions_request req;
	int32_t count = 0;

	kp_api_versions_response_init(&resp);
	if (version < 0 || version > self->version_max) {
		resp.error_code = KP_ERR_UNSUPPORTED_VERSION;
		kp_api_versions_response_api_version_init(&keys[0]);
		keys[0].api_key = self->api_key;
		keys[0].min_version = self->version_min;
		keys[0].max_version = self->version_max;
		resp.api_keys.count = 1;
		resp.api_keys.items = keys;
		kp_api_versions_response_encode(call->w, 0, &resp);
		return KP_VERDICT_REPLY;
	}
	if (kp_api_versions_request_decode(&call->body, version, &req) != 0)
		return KP_VERDICT_CLOSE;
	if (version >= 3 && (!api_versions_software_ok(req.client_software_name) ||
			     !api_versions_software_ok(req.client_software_version))) {
		resp.error_code = KP_ERR_INVALID_REQUEST;
		kp_api_versions_response_encode(call->w, version, &resp);
		return KP_VERDICT_REPLY;
	}
	/* Listed in key order, as Kafka does. */
	for (int16_t key = 0; key < 128 && count < (int32_t)(sizeof(keys) / sizeof(keys[0]));
	     key++) {
		const struct kp_api_row *row = kp_dispatch_row_get(key);

		if (row == NULL)
			continue;
		kp_api_versions_response_api_version_init(&keys[count]);
		keys[count].api_key = row->api_key;
		keys[count].min_version = row->version_min;
		keys[count].max_version = row->version_max;
		count++;
	}
	resp.api_keys.count = count;
	resp.api_keys.items = keys;
	kp_api_versions_response_encode(call->w, version, &resp);
	return KP_VERDICT_REPLY;
}
