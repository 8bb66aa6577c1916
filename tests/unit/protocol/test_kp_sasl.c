/* SPDX-License-Identifier: Apache-2.0 */
/* The SASL pre-authentication gate in kp_dispatch() and the SASL handlers
 * on control (sasl_handshake.c, sasl_authenticate.c) with scripted admin
 * ops: before authentication a SASL listener serves only ApiVersions,
 * SaslHandshake and SaslAuthenticate within 512 KiB; the legacy framing
 * answers a bare token; a SaslAuthenticate without an exchange closes an
 * unauthenticated connection. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/gen/kp_api.h"
#include "protocol/kp.h"

static struct kp_md md = { .broker_id = 1, .controller_id = 1, .cluster_id = "c", .epoch = 1 };

static int16_t auth_error;
static bool auth_raw;

static int16_t
t_handshake(void *ctx, const struct kp_session *s, int16_t version, struct kp_str mech,
	    struct kp_sasl_mechs *mechs)
{
	(void)ctx; (void)s; (void)version; (void)mech;
	mechs->count = 2;
	mechs->names[0] = "PLAIN";
	mechs->names[1] = "SCRAM-SHA-256";
	return KP_ERR_NONE;
}

static int16_t
t_authenticate(void *ctx, const struct kp_session *s, int16_t version, struct kp_bytes token,
	       struct kp_sasl_reply *reply, char *msg, size_t msg_size)
{
	(void)ctx; (void)s; (void)version; (void)token; (void)msg_size;
	memcpy(reply->token, "v=ok", 4);
	reply->token_len = 4;
	reply->session_lifetime_ms = 5000;
	reply->raw = auth_raw;
	strcpy(msg, "failed");
	return auth_error;
}

static const struct kp_admin_ops admin = { .sasl_handshake = t_handshake,
					   .sasl_authenticate = t_authenticate };

static struct kp_writer
frame(int16_t key, int16_t version, uint32_t pad)
{
	struct kp_writer w;

	kp_writer_init(&w, 64 + pad);
	kp_write_i16(&w, key);
	kp_write_i16(&w, version);
	kp_write_i32(&w, 5);
	kp_write_string(&w, kp_str_c("t"), false);
	if (key == KP_API_SASL_AUTHENTICATE && version >= 2)
		kp_write_uvarint(&w, 0);
	if (key == KP_API_SASL_HANDSHAKE)
		kp_write_string(&w, kp_str_c("PLAIN"), false);
	if (key == KP_API_SASL_AUTHENTICATE) {
		if (version >= 2)
			kp_write_uvarint(&w, pad + 1);
		else
			kp_write_i32(&w, (int32_t)pad);
		for (uint32_t i = 0; i < pad; i++)
			kp_write_i8(&w, 'x');
		if (version >= 2)
			kp_write_uvarint(&w, 0);
	}
	if (key == KP_API_CREATE_TOPICS)
		kp_write_i32(&w, 0);
	return w;
}

static enum kp_verdict
run(struct kp_writer *w, const struct kp_session *s, bool control, struct kp_out *out)
{
	struct kp_env env = { .md = &md, .request_bytes_max = 1 << 24, .session = s };
	enum kp_verdict v;

	memset(out, 0, sizeof(*out));
	if (control) {
		env.admin = &admin;
		v = kp_dispatch_control(&env, w->buf, (uint32_t)w->len, out);
	} else {
		v = kp_dispatch(&env, w->buf, (uint32_t)w->len, out);
	}
	kp_writer_free(w);
	return v;
}

static void
out_free(struct kp_out *out)
{
	free(out->resp.data);
	free(out->fwd.data);
}

Test(sasl, gate_before_authentication)
{
	struct kp_session s;
	struct kp_writer w;
	struct kp_out out;

	kp_session_init(&s, 1, KP_SEC_SASL_PLAINTEXT);
	cr_assert(!s.authenticated);
	w = frame(KP_API_API_VERSIONS, 0, 0);
	cr_assert_eq(run(&w, &s, false, &out), KP_VERDICT_REPLY);
	out_free(&out);
	w = frame(KP_API_SASL_HANDSHAKE, 1, 0);
	cr_assert_eq(run(&w, &s, false, &out), KP_VERDICT_FORWARD);
	out_free(&out);
	w = frame(KP_API_SASL_AUTHENTICATE, 1, 16);
	cr_assert_eq(run(&w, &s, false, &out), KP_VERDICT_FORWARD);
	out_free(&out);
	w = frame(KP_API_CREATE_TOPICS, 2, 0);
	cr_assert_eq(run(&w, &s, false, &out), KP_VERDICT_CLOSE);
	/* Over sasl.server.max.receive.size: closed before control sees it. */
	w = frame(KP_API_SASL_AUTHENTICATE, 1, 600 * 1024);
	cr_assert_eq(run(&w, &s, false, &out), KP_VERDICT_CLOSE);
	/* Authenticated: everything is served again. */
	s.authenticated = true;
	w = frame(KP_API_CREATE_TOPICS, 2, 0);
	cr_assert_eq(run(&w, &s, false, &out), KP_VERDICT_FORWARD);
	out_free(&out);
}

Test(sasl, handshake_lists_mechanisms)
{
	struct kp_session s;
	struct kp_writer w = frame(KP_API_SASL_HANDSHAKE, 1, 0);
	struct kp_cursor c;
	struct kp_out out;

	kp_session_init(&s, 1, KP_SEC_SASL_PLAINTEXT);
	cr_assert_eq(run(&w, &s, true, &out), KP_VERDICT_REPLY);
	c = kp_cursor_make(out.resp.data + 8, out.resp.len - 8);
	cr_assert_eq(kp_read_i16(&c), KP_ERR_NONE);
	cr_assert_eq(kp_read_i32(&c), 2);
	cr_assert(kp_str_eq(kp_read_string(&c, false), kp_str_c("PLAIN")));
	cr_assert(kp_str_eq(kp_read_string(&c, false), kp_str_c("SCRAM-SHA-256")));
	out_free(&out);
}

Test(sasl, authenticate_answers)
{
	struct kp_session s;
	struct kp_writer w;
	struct kp_cursor c;
	struct kp_out out;

	kp_session_init(&s, 1, KP_SEC_SASL_PLAINTEXT);
	auth_error = KP_ERR_NONE;
	auth_raw = false;
	w = frame(KP_API_SASL_AUTHENTICATE, 1, 8);
	cr_assert_eq(run(&w, &s, true, &out), KP_VERDICT_REPLY);
	c = kp_cursor_make(out.resp.data + 8, out.resp.len - 8);
	cr_assert_eq(kp_read_i16(&c), KP_ERR_NONE);
	cr_assert_eq(kp_read_string(&c, false).len, -1);
	cr_assert_eq(kp_read_bytes(&c, false).len, 4);
	cr_assert_eq(kp_read_i64(&c), 5000);
	out_free(&out);
	/* Legacy framing: the size prefix and the bare token. */
	auth_raw = true;
	w = frame(KP_API_SASL_AUTHENTICATE, 0, 8);
	cr_assert_eq(run(&w, &s, true, &out), KP_VERDICT_REPLY);
	cr_assert_eq(out.resp.len, 8);
	cr_assert_eq(memcmp(out.resp.data, "\0\0\0\4v=ok", 8), 0);
	out_free(&out);
	/* Failure: the message; bare framing has no error: a close. */
	auth_error = KP_ERR_SASL_AUTHENTICATION_FAILED;
	w = frame(KP_API_SASL_AUTHENTICATE, 0, 8);
	cr_assert_eq(run(&w, &s, true, &out), KP_VERDICT_CLOSE);
	auth_raw = false;
	w = frame(KP_API_SASL_AUTHENTICATE, 2, 8);
	cr_assert_eq(run(&w, &s, true, &out), KP_VERDICT_REPLY);
	c = kp_cursor_make(out.resp.data + 9, out.resp.len - 9);
	cr_assert_eq(kp_read_i16(&c), KP_ERR_SASL_AUTHENTICATION_FAILED);
	cr_assert(kp_str_eq(kp_read_string(&c, true), kp_str_c("failed")));
	out_free(&out);
	/* No exchange open on an unauthenticated connection: a close. */
	auth_error = KP_ERR_ILLEGAL_SASL_STATE;
	w = frame(KP_API_SASL_AUTHENTICATE, 1, 8);
	cr_assert_eq(run(&w, &s, true, &out), KP_VERDICT_CLOSE);
}
