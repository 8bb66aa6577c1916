/* SPDX-License-Identifier: Apache-2.0 */
/* A connection's SASL state on its core: the session change control sends
 * with a SaslHandshake / SaslAuthenticate reply (DP_MSG_REPLY_AUTH), the
 * legacy v0 framing (bare size-prefixed tokens, wrapped here as v0
 * SaslAuthenticate requests for control), the end of a session after
 * connections.max.reauth.ms, and the close after a failed exchange.
 * @thread dataplane */
#include <stdlib.h>
#include <string.h>

#include "common/be.h"
#include "dataplane/dp_int.h"
#include "protocol/gen/kp_api.h"

void
dp_sasl_apply(struct dp_core *core, struct conn *conn, const void *trailer)
{
	struct dp_auth copy;
	const struct dp_auth *auth = &copy;

	memcpy(&copy, trailer, sizeof(copy));   /* behind the reply: unaligned */
	if (auth->flags & DP_AUTH_SET) {
		if (kp_session_set_principal(&conn->session, auth->principal,
					     auth->principal_len)) {
			conn->session.authenticated = true;
			conn->session.sasl_mech = auth->sasl_mech;
			conn->auth_expire_ns = auth->lifetime_ms > 0
				? core->turn_ns + (uint64_t)auth->lifetime_ms * 1000000ull : 0;
		}
	}
	if (auth->flags & DP_AUTH_RAW_ON)
		conn->sasl_flags |= CONN_SASL_RAW;
	if (auth->flags & DP_AUTH_RAW_OFF)
		conn->sasl_flags &= (uint8_t)~CONN_SASL_RAW;
	if (auth->flags & DP_AUTH_CLOSE)
		conn->sasl_flags |= CONN_SASL_CLOSE;
}

/* A bare token as a SaslAuthenticate v0 request: header v1 (api key 36,
 * version 0, correlation id 0, null client id), then auth_bytes. */
static bool
dp_sasl_wrap(struct frame *frame)
{
	uint32_t len = 10 + 4 + frame->len;
	uint8_t *w = malloc(len);

	if (w == NULL)
		return false;
	be_write16(w, (uint16_t)KP_API_SASL_AUTHENTICATE);
	be_write16(w + 2, 0);
	be_write32(w + 4, 0);
	be_write16(w + 8, 0xffff);
	be_write32(w + 10, frame->len);
	memcpy(w + 14, frame->data, frame->len);
	free(frame->owned);
	frame->owned = w;
	frame->data = w;
	frame->len = len;
	return true;
}

bool
dp_sasl_frame(struct dp_core *core, struct conn *conn, struct frame *frame)
{
	if (conn->sasl_flags & CONN_SASL_CLOSE)
		return false;   /* a failed exchange: nothing more is read */
	if (conn->auth_expire_ns != 0 && core->turn_ns >= conn->auth_expire_ns) {
		/* The session ended: only a re-authentication is served now
		 * (Kafka closes on any other request). */
		conn->session.authenticated = false;
		conn->auth_expire_ns = 0;
	}
	if (conn->sasl_flags & CONN_SASL_RAW)
		return dp_sasl_wrap(frame);
	return true;
}
