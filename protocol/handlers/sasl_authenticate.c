/* SPDX-License-Identifier: Apache-2.0 */
/* SaslAuthenticate (key 36), versions 0-2, on the control thread: one
 * token of the connection's SASL exchange, run by control
 * (control/ctl_sasl.c), which also tells the core the outcome (principal,
 * session lifetime, close after a failure). After a v0 SaslHandshake the
 * client sends bare size-prefixed tokens: the core wraps each as a v0
 * SaslAuthenticate, and the answer goes back as a bare token too. */
#include "protocol/gen/kp_msg_sasl_authenticate.h"
#include "protocol/kp_int.h"

enum kp_verdict
kp_handle_sasl_authenticate(struct kp_call *call)
{
	int16_t version = call->hdr.request_api_version;
	const struct kp_env *env = call->env;
	struct kp_sasl_authenticate_response resp;
	struct kp_sasl_authenticate_request req;
	struct kp_sasl_reply reply;
	struct kp_session anon;
	char msg[256] = "";

	if (kp_sasl_authenticate_request_decode(&call->body, version, &req) != 0)
		return KP_VERDICT_CLOSE;
	if (env->session == NULL)
		kp_session_init(&anon, 0, KP_SEC_PLAINTEXT);
	reply.token_len = 0;
	reply.session_lifetime_ms = 0;
	reply.raw = false;
	kp_sasl_authenticate_response_init(&resp);
	resp.error_code = env->admin->sasl_authenticate(
		env->admin_ctx, env->session != NULL ? env->session : &anon, version,
		req.auth_bytes, &reply, msg, sizeof(msg));
	if (resp.error_code == KP_ERR_ILLEGAL_SASL_STATE &&
	    (env->session == NULL || !env->session->authenticated))
		return KP_VERDICT_CLOSE;        /* no handshake first: Kafka closes */
	if (reply.raw) {
		/* Legacy framing: the size prefix, then the token alone. */
		if (resp.error_code != KP_ERR_NONE)
			return KP_VERDICT_CLOSE;
		call->w->len = 4;
		kp_write_raw(call->w, reply.token, reply.token_len);
		return KP_VERDICT_REPLY;
	}
	resp.error_message = resp.error_code != KP_ERR_NONE ? kp_str_c(msg)
							    : (struct kp_str){ NULL, -1 };
	resp.auth_bytes = (struct kp_bytes){ reply.token, (int32_t)reply.token_len };
	resp.session_lifetime_ms = reply.session_lifetime_ms;
	kp_sasl_authenticate_response_encode(call->w, version, &resp);
	return KP_VERDICT_REPLY;
}
