/* SPDX-License-Identifier: Apache-2.0 */
/* SaslHandshake (key 17), versions 0-1, on the control thread. Control
 * (control/ctl_sasl.c) checks the mechanism against the listener's
 * sasl.enabled.mechanisms and remembers it for the connection's
 * SaslAuthenticate; v0 means the client sends bare tokens next (the core
 * is told). The answer lists the listener's mechanisms. */
#include "protocol/gen/kp_msg_sasl_handshake.h"
#include "protocol/kp_int.h"

enum kp_verdict
kp_handle_sasl_handshake(struct kp_call *call)
{
	int16_t version = call->hdr.request_api_version;
	const struct kp_env *env = call->env;
	struct kp_sasl_handshake_response resp;
	struct kp_sasl_handshake_request req;
	struct kp_str names[KP_SASL_MECHS_MAX];
	struct kp_sasl_mechs mechs = { 0, { NULL } };
	struct kp_session anon;

	if (kp_sasl_handshake_request_decode(&call->body, version, &req) != 0)
		return KP_VERDICT_CLOSE;
	if (env->session == NULL)
		kp_session_init(&anon, 0, KP_SEC_PLAINTEXT);
	kp_sasl_handshake_response_init(&resp);
	resp.error_code = env->admin->sasl_handshake(env->admin_ctx,
						     env->session != NULL ? env->session : &anon,
						     version, req.mechanism, &mechs);
	for (int32_t i = 0; i < mechs.count && i < KP_SASL_MECHS_MAX; i++)
		names[i] = kp_str_c(mechs.names[i]);
	resp.mechanisms = (struct kp_array){ mechs.count, NULL, NULL, names };
	kp_sasl_handshake_response_encode(call->w, version, &resp);
	return KP_VERDICT_REPLY;
}
