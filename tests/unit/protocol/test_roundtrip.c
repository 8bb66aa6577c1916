/* SPDX-License-Identifier: Apache-2.0 */
/* Tests the generated codec (protocol/gen/) for every generated API x every
 * valid version, request and response: fill every field the version has with
 * a non-default value (kp_test_fill.c), encode, decode, re-encode from the
 * decoded wire slices and compare bytes; then decode every strict prefix,
 * each in an exactly-sized heap buffer so ASan sees any over-read. Also pins
 * the encoding rules that are easy to get wrong (header v2 ClientId, tags). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/gen/kp_api.h"
#include "protocol/gen/kp_msg_api_versions.h"
#include "protocol/gen/kp_msg_header.h"
#include "protocol/gen/kp_msg_metadata.h"
#include "protocol/kp_wire.h"
#include "tests/unit/protocol/gen/kp_test_fill.h"

struct rt_param {
	int16_t api_key;        /* -1: request header, -2: response header */
	int16_t version;
	bool response;
};

#define RT_PARAMS_MAX 1024
#define RT_ARENA_BYTES (8u << 20)

static struct rt_param rt_params[RT_PARAMS_MAX];
static uint8_t *rt_arena_buf;

static size_t
rt_params_fill(void)
{
	size_t n = 0, api_count;
	const struct kp_api_info *apis = kp_api_info_list(&api_count);

	for (size_t i = 0; i < api_count; i++)
		for (int16_t v = apis[i].min_version; v <= apis[i].max_version; v++)
			for (int side = 0; side < 2; side++)
				rt_params[n++] = (struct rt_param){ apis[i].key, v, side == 1 };
	for (int16_t v = 0; v <= 2; v++)
		rt_params[n++] = (struct rt_param){ -1, v, false };
	for (int16_t v = 0; v <= 1; v++)
		rt_params[n++] = (struct rt_param){ -2, v, true };
	cr_assert_leq(n, RT_PARAMS_MAX);
	return n;
}

static int
rt_encode_test(const struct rt_param *p, struct kp_test_arena *a, struct kp_writer *w)
{
	if (p->api_key == -1)
		return kp_request_header_encode_test(p->version, a, w);
	if (p->api_key == -2)
		return kp_response_header_encode_test(p->version, a, w);
	if (p->response)
		return kp_response_encode_test_any(p->api_key, p->version, a, w);
	return kp_request_encode_test_any(p->api_key, p->version, a, w);
}

/* Decode one message from c and re-encode it into w: 0, or -1 when either
 * fails. The headers have no generated *_roundtrip_any(), so they are
 * decoded and encoded here. */
static int
rt_roundtrip(const struct rt_param *p, struct kp_cursor *c, struct kp_writer *w)
{
	struct kp_request_header req_h;
	struct kp_response_header resp_h;

	if (p->api_key >= 0 && p->response)
		return kp_response_roundtrip_any(p->api_key, p->version, c, w);
	if (p->api_key >= 0)
		return kp_request_roundtrip_any(p->api_key, p->version, c, w);
	if (p->api_key == -1 && kp_request_header_decode(c, p->version, &req_h) == 0)
		kp_request_header_encode(w, p->version, &req_h);
	else if (p->api_key == -2 && kp_response_header_decode(c, p->version, &resp_h) == 0)
		kp_response_header_encode(w, p->version, &resp_h);
	else
		return -1;
	return w->err == KP_WIRE_OK ? 0 : -1;
}

ParameterizedTestParameters(roundtrip, every_api_version)
{
	size_t n = rt_params_fill();
	return cr_make_param_array(struct rt_param, rt_params, n);
}

static void
rt_setup(void)
{
	rt_arena_buf = malloc(RT_ARENA_BYTES);
	cr_assert_not_null(rt_arena_buf);
}

static void
rt_teardown(void)
{
	free(rt_arena_buf);
}

ParameterizedTest(struct rt_param *p, roundtrip, every_api_version,
		  .init = rt_setup, .fini = rt_teardown)
{
	struct kp_test_arena a = { rt_arena_buf, 0, RT_ARENA_BYTES };
	struct kp_writer w1, w2;
	struct kp_cursor c;
	int rc;

	kp_writer_init(&w1, 0);
	kp_writer_init(&w2, 0);
	rc = rt_encode_test(p, &a, &w1);
	cr_assert_eq(rc, 0, "api %d v%d %s: fill+encode failed (err %d)", p->api_key,
		     p->version, p->response ? "resp" : "req", w1.err);

	c = kp_cursor_make(w1.buf, w1.len);
	rc = rt_roundtrip(p, &c, &w2);
	cr_assert_eq(rc, 0, "api %d v%d %s: decode/re-encode failed (cursor err %d, "
		     "writer err %d, at %zu of %zu)", p->api_key, p->version,
		     p->response ? "resp" : "req", c.err, w2.err,
		     (size_t)(c.pos - w1.buf), w1.len);
	cr_assert_eq(kp_cursor_left(&c), 0, "api %d v%d: %zu bytes not consumed",
		     p->api_key, p->version, kp_cursor_left(&c));
	cr_assert_eq(w2.len, w1.len, "api %d v%d %s: re-encoded %zu bytes, first %zu",
		     p->api_key, p->version, p->response ? "resp" : "req", w2.len, w1.len);
	cr_assert(w1.len == 0 || memcmp(w1.buf, w2.buf, w1.len) == 0, "api %d v%d %s: bytes differ",
		     p->api_key, p->version, p->response ? "resp" : "req");

	/* Every strict prefix must fail cleanly. */
	for (size_t len = 0; len < w1.len; len++) {
		uint8_t *buf = malloc(len > 0 ? len : 1);
		struct kp_writer w3;

		cr_assert_not_null(buf);
		memcpy(buf, w1.buf, len);
		c = kp_cursor_make(buf, len);
		kp_writer_init(&w3, 0);
		rc = rt_roundtrip(p, &c, &w3);
		cr_assert_eq(rc, -1, "api %d v%d %s: prefix %zu of %zu decoded", p->api_key,
			     p->version, p->response ? "resp" : "req", len, w1.len);
		cr_assert_neq(c.err, KP_WIRE_OK);
		kp_writer_free(&w3);
		free(buf);
	}
	kp_writer_free(&w1);
	kp_writer_free(&w2);
}

Test(roundtrip, version_out_of_range)
{
	size_t api_count;
	const struct kp_api_info *apis = kp_api_info_list(&api_count);
	static const uint8_t zeros[64];

	cr_assert_eq(api_count, KP_API_GENERATED_COUNT);
	for (size_t i = 0; i < api_count; i++) {
		int16_t bad[2] = { (int16_t)(apis[i].min_version - 1),
				   (int16_t)(apis[i].max_version + 1) };
		for (int j = 0; j < 2; j++) {
			struct kp_cursor c = kp_cursor_make(zeros, sizeof(zeros));
			cr_assert_eq(kp_request_decode_any(apis[i].key, bad[j], &c), -1);
			cr_assert_eq(c.err, KP_WIRE_VERSION);
			c = kp_cursor_make(zeros, sizeof(zeros));
			cr_assert_eq(kp_response_decode_any(apis[i].key, bad[j], &c), -1);
			cr_assert_eq(c.err, KP_WIRE_VERSION);
		}
	}
	struct kp_cursor c = kp_cursor_make(zeros, sizeof(zeros));
	cr_assert_eq(kp_request_decode_any(4, 0, &c), -1);   /* LeaderAndIsr: not generated */
	cr_assert_eq(c.err, KP_WIRE_VERSION);
}

Test(api, table)
{
	const struct kp_api_info *info = kp_api_info_get(KP_API_CREATE_TOPICS);

	cr_assert_not_null(info);
	cr_assert_str_eq(info->name, "CreateTopics");
	cr_assert_eq(info->key, 19);
	cr_assert_eq(info->min_version, 0);
	cr_assert_eq(info->max_version, 7);
	cr_assert_eq(info->request_flexible_min, 5);
	cr_assert_null(kp_api_info_get(4));
	cr_assert_null(kp_api_info_get(-1));
	cr_assert_eq(kp_api_info_get(KP_API_OFFSET_DELETE)->request_flexible_min, -1);
	cr_assert_eq(kp_request_header_version(KP_API_API_VERSIONS, 3), 2);
	cr_assert_eq(kp_request_header_version(KP_API_API_VERSIONS, 2), 1);
	cr_assert_eq(kp_response_header_version(KP_API_API_VERSIONS, 3), 0);
	cr_assert_eq(kp_response_header_version(KP_API_METADATA, 9), 1);
	cr_assert_eq(kp_response_header_version(KP_API_METADATA, 8), 0);
	cr_assert_eq(KP_API_PRODUCE, 0);
	cr_assert_eq(KP_API_DESCRIBE_PRODUCERS, 61);
}

/* Request header v2 is flexible, but ClientId keeps its int16 length. */
Test(header, v2_client_id_is_classic)
{
	static const uint8_t wire[] = {
		0x00, 0x12, 0x00, 0x03,         /* ApiVersions v3 */
		0x00, 0x00, 0x00, 0x07,         /* correlation id */
		0x00, 0x02, 'i', 'd',           /* client id, int16 length */
		0x00,                           /* no tagged fields */
	};
	struct kp_cursor c = kp_cursor_make(wire, sizeof(wire));
	struct kp_request_header h;
	struct kp_writer w;

	cr_assert_eq(kp_request_header_decode(&c, 2, &h), 0);
	cr_assert_eq(h.request_api_key, 18);
	cr_assert_eq(h.request_api_version, 3);
	cr_assert_eq(h.correlation_id, 7);
	cr_assert(kp_str_eq(h.client_id, kp_str_c("id")));
	cr_assert_eq(kp_cursor_left(&c), 0);
	kp_writer_init(&w, 0);
	kp_request_header_encode(&w, 2, &h);
	cr_assert_eq(w.len, sizeof(wire));
	cr_assert_eq(memcmp(w.buf, wire, sizeof(wire)), 0);
	kp_writer_free(&w);

	/* Null client id (v1+ nullable). */
	static const uint8_t null_id[] = { 0, 3, 0, 1, 0, 0, 0, 1, 0xff, 0xff };
	c = kp_cursor_make(null_id, sizeof(null_id));
	cr_assert_eq(kp_request_header_decode(&c, 1, &h), 0);
	cr_assert_eq(h.client_id.len, -1);
}

/* Tagged fields: written only when not default, unknown ones skipped,
 * duplicate or out-of-order tags rejected. */
Test(tagged, write_skip_reject)
{
	struct kp_api_versions_response m;
	struct kp_writer w;
	struct kp_cursor c;

	kp_api_versions_response_init(&m);
	cr_assert_eq(m.finalized_features_epoch, -1);
	kp_writer_init(&w, 0);
	kp_api_versions_response_encode(&w, 3, &m);
	/* error 0, compact array empty, throttle 0, zero tags. */
	static const uint8_t empty[] = { 0, 0, 1, 0, 0, 0, 0, 0 };
	cr_assert_eq(w.len, sizeof(empty));
	cr_assert_eq(memcmp(w.buf, empty, sizeof(empty)), 0);

	w.len = 0;
	m.zk_migration_ready = true;
	kp_api_versions_response_encode(&w, 3, &m);
	static const uint8_t one_tag[] = { 0, 0, 1, 0, 0, 0, 0, 1, 3, 1, 1 };
	cr_assert_eq(w.len, sizeof(one_tag));
	cr_assert_eq(memcmp(w.buf, one_tag, sizeof(one_tag)), 0);
	c = kp_cursor_make(w.buf, w.len);
	cr_assert_eq(kp_api_versions_response_decode(&c, 3, &m), 0);
	cr_assert(m.zk_migration_ready);
	kp_writer_free(&w);

	/* Unknown tag 9 (3 bytes) then known tag 3: accepted. */
	static const uint8_t unknown[] = { 0, 0, 1, 0, 0, 0, 0, 2, 3, 1, 1, 9, 3, 7, 7, 7 };
	c = kp_cursor_make(unknown, sizeof(unknown));
	cr_assert_eq(kp_api_versions_response_decode(&c, 3, &m), 0);
	cr_assert(m.zk_migration_ready);

	static const uint8_t dup[] = { 0, 0, 1, 0, 0, 0, 0, 2, 3, 1, 1, 3, 1, 0 };
	c = kp_cursor_make(dup, sizeof(dup));
	cr_assert_eq(kp_api_versions_response_decode(&c, 3, &m), -1);
	cr_assert_eq(c.err, KP_WIRE_INVALID);

	static const uint8_t order[] = { 0, 0, 1, 0, 0, 0, 0, 2, 9, 0, 3, 1, 1 };
	c = kp_cursor_make(order, sizeof(order));
	cr_assert_eq(kp_api_versions_response_decode(&c, 3, &m), -1);
	cr_assert_eq(c.err, KP_WIRE_INVALID);

	/* A known tag whose size does not match its content. */
	static const uint8_t size[] = { 0, 0, 1, 0, 0, 0, 0, 1, 3, 2, 1, 0 };
	c = kp_cursor_make(size, sizeof(size));
	cr_assert_eq(kp_api_versions_response_decode(&c, 3, &m), -1);
	cr_assert_eq(c.err, KP_WIRE_INVALID);
}

/* Defaults, nullability, ignorable and non-ignorable fields. */
Test(codec, defaults_and_version_gates)
{
	struct kp_metadata_request req;
	struct kp_metadata_response resp;
	struct kp_writer w;
	struct kp_cursor c;

	kp_metadata_request_init(&req);
	cr_assert(req.allow_auto_topic_creation);        /* schema default true */
	kp_metadata_response_init(&resp);
	cr_assert_eq(resp.cluster_id.len, -1);          /* default null */
	cr_assert_eq(resp.controller_id, -1);
	cr_assert_eq(resp.cluster_authorized_operations, INT32_MIN);

	/* Metadata v1+: null topics = all topics. v0 does not allow null. */
	static const uint8_t v1_null[] = { 0xff, 0xff, 0xff, 0xff };
	c = kp_cursor_make(v1_null, sizeof(v1_null));
	cr_assert_eq(kp_metadata_request_decode(&c, 1, &req), 0);
	cr_assert_eq(req.topics.count, -1);
	c = kp_cursor_make(v1_null, sizeof(v1_null));
	cr_assert_eq(kp_metadata_request_decode(&c, 0, &req), -1);
	cr_assert_eq(c.err, KP_WIRE_INVALID);

	/* Ignorable throttle_time_ms is dropped in v0; non-ignorable
	 * allow_auto_topic_creation=false cannot be said in v3. */
	kp_writer_init(&w, 0);
	kp_metadata_response_init(&resp);
	resp.throttle_time_ms = 5;
	kp_metadata_response_encode(&w, 0, &resp);
	cr_assert_eq(w.err, KP_WIRE_OK);
	kp_writer_free(&w);

	kp_writer_init(&w, 0);
	kp_metadata_request_init(&req);
	req.allow_auto_topic_creation = false;
	kp_metadata_request_encode(&w, 3, &req);
	cr_assert_eq(w.err, KP_WIRE_VERSION);
	kp_writer_free(&w);

	/* A non-nullable string set to null is refused by the encoder. */
	kp_writer_init(&w, 0);
	kp_metadata_response_init(&resp);
	struct kp_metadata_response_metadata_response_topic t;
	kp_metadata_response_metadata_response_topic_init(&t);
	t.name.len = -1;
	resp.topics.items = &t;
	resp.topics.count = 1;
	kp_metadata_response_encode(&w, 5, &resp);
	cr_assert_eq(w.err, KP_WIRE_INVALID);
	kp_writer_free(&w);
}
