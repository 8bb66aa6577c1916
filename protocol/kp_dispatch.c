/* SPDX-License-Identifier: Apache-2.0 */
/* Request dispatch: header decode (the generated kp_request_header_decode(),
 * the only request-header decoder), version gate, handler call, response
 * framing. Runs on dataplane cores (kp_dispatch) and on the control thread
 * (kp_dispatch_control); replies leave through struct kp_out, so protocol/
 * never calls into dataplane/ or control/. */
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/compiler.h"
#include "protocol/gen/kp_api.h"
#include "protocol/kp_int.h"
#include "protocol/kp_req_quota.h"

/* Room for a typical response before the writer has to grow. */
#define KP_RESP_BYTES_HINT 512

const struct kp_api_row *
kp_dispatch_row_get(int16_t api_key)
{
	for (int i = 0; i < kp_api_table_len; i++)
		if (kp_api_table[i].api_key == api_key)
			return &kp_api_table[i];
	return NULL;
}

/* Peek api key and version; NULL row when the key is not ours. Kafka closes
 * the connection for an unknown key or a version it does not support, except
 * ApiVersions, which answers any version (handled by its handler). */
static const struct kp_api_row *
kp_route(const uint8_t *frame, uint32_t len, int16_t *api_version)
{
	struct kp_cursor c = kp_cursor_make(frame, len);
	int16_t api_key = kp_read_i16(&c);
	const struct kp_api_row *row;

	*api_version = kp_read_i16(&c);
	if (c.err != 0 || len < KP_FRAME_BYTES_MIN)
		return NULL;
	row = kp_dispatch_row_get(api_key);
	if (row == NULL)
		return NULL;
	if (api_key == KP_API_API_VERSIONS)
		return row;
	if (*api_version < row->accept_min || *api_version > row->version_max)
		return NULL;
	return row;
}

static enum kp_verdict
kp_run(const struct kp_env *env, const struct kp_api_row *row, int16_t version,
       const uint8_t *frame, uint32_t len, struct kp_out *out)
{
	struct kp_writer w;
	struct kp_call call;
	enum kp_verdict verdict;
	/* An ApiVersions request of a version we do not know is read as v0:
	 * only its header matters (KIP-511). Its header version follows the
	 * request version even then, as in Kafka's RequestHeader.parse(). */
	bool known = version >= 0 && version <= row->version_max;
	int16_t header_version = kp_request_header_version(row->api_key, version);

	call.env = env;
	call.frame = frame;
	call.frame_len = len;
	call.out = out;
	call.body = kp_cursor_make(frame, len);
	ASSERT_HOT(header_version == 1 || header_version == 2);
	if (kp_request_header_decode(&call.body, header_version, &call.hdr) != 0)
		return KP_VERDICT_CLOSE;
	call.body_start = call.body;
	kp_writer_init(&w, KP_RESP_BYTES_HINT);
	call.w = &w;
	kp_write_i32(&w, 0);    /* size, patched below */
	kp_write_i32(&w, call.hdr.correlation_id);
	if (known && kp_response_header_flexible(row->api_key, version))
		kp_write_uvarint(&w, 0);        /* no tagged fields */
	verdict = row->handler(&call);
	if (verdict == KP_VERDICT_REPLY && w.err != 0) {
		/* A response the encoder refused (a field set that its version
		 * lacks, a length it cannot carry) is a bug: fail loudly where
		 * asserts are on; else close rather than send a truncated one.
		 * Out of memory is an operating error, not a bug. */
		ASSERT_HOT(w.err == KP_WIRE_NOMEM);
		verdict = KP_VERDICT_CLOSE;
	}
	if (verdict != KP_VERDICT_REPLY) {
		kp_writer_free(&w);
		return verdict;
	}
	/* 4: a legacy bare SASL token answer may be empty (PLAIN's). */
	ASSERT(w.len >= 4 && w.len - 4 <= INT32_MAX);
	kp_write_put_i32(&w, 0, (int32_t)(w.len - 4));
	out->resp.data = w.buf;
	out->resp.len = (uint32_t)w.len;
	return KP_VERDICT_REPLY;
}

static enum kp_verdict
kp_forward(const uint8_t *frame, uint32_t len, struct kp_out *out)
{
	uint8_t *copy = malloc(len);

	if (copy == NULL)
		return KP_VERDICT_CLOSE;
	memcpy(copy, frame, len);
	out->fwd.data = copy;
	out->fwd.len = len;
	return KP_VERDICT_FORWARD;
}

/* Kafka's sasl.server.max.receive.size: the largest frame read from a
 * client that has not authenticated yet. */
#define KP_SASL_PREAUTH_BYTES_MAX 524288u

/* On a SASL listener before authentication only ApiVersions, SaslHandshake
 * and SaslAuthenticate are served (Kafka's SaslServerAuthenticator closes
 * the connection for anything else, and for an oversized frame). */
static bool
kp_preauth_ok(const struct kp_api_row *row, uint32_t len)
{
	return len <= KP_SASL_PREAUTH_BYTES_MAX &&
	       (row->api_key == KP_API_API_VERSIONS || row->api_key == KP_API_SASL_HANDSHAKE ||
		row->api_key == KP_API_SASL_AUTHENTICATE);
}

enum kp_verdict
kp_dispatch(const struct kp_env *env, const uint8_t *frame, uint32_t len, struct kp_out *out)
{
	int16_t version;
	const struct kp_api_row *row = kp_route(frame, len, &version);
	enum kp_verdict verdict;

	ASSERT_HOT(env->md != NULL);
	ASSERT_HOT(env->admin == NULL);
	if (unlikely(row == NULL))
		return KP_VERDICT_CLOSE;
	if (unlikely(env->session != NULL && !env->session->authenticated) &&
	    !kp_preauth_ok(row, len))
		return KP_VERDICT_CLOSE;
	if (row->where == KP_ON_CONTROL)
		verdict = kp_forward(frame, len, out);
	else
		verdict = kp_run(env, row, version, frame, len, out);
	if (verdict == KP_VERDICT_FORWARD && out->fwd.data == NULL)
		verdict = kp_forward(frame, len, out);
	if (unlikely(env->md->quota_count > 0))        /* no quotas: no cost */
		kp_req_quota_apply(env, row, version, frame, len, verdict, out);
	return verdict;
}

enum kp_verdict
kp_dispatch_control(const struct kp_env *env, const uint8_t *frame, uint32_t len,
		    struct kp_out *out)
{
	int16_t version;
	const struct kp_api_row *row = kp_route(frame, len, &version);
	enum kp_verdict verdict;

	ASSERT(env->admin != NULL);
	if (row == NULL)
		return KP_VERDICT_CLOSE;
	verdict = kp_run(env, row, version, frame, len, out);
	ASSERT(verdict != KP_VERDICT_FORWARD);
	return verdict;
}
