/* SPDX-License-Identifier: Apache-2.0 */
/* Tests protocol/kp_dispatch.c and the handlers through whole frames: the
 * version gate (unknown key or version closes, as Kafka does), ApiVersions'
 * KIP-511 fallback and v0 response header, Metadata from a snapshot, the
 * forward-to-control decision, and admin handlers over a small in-test admin
 * implementation (a stand-in for control, which has its own tests). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/gen/kp_api.h"
#include "protocol/gen/kp_msg_api_versions.h"
#include "protocol/gen/kp_msg_create_partitions.h"
#include "protocol/gen/kp_msg_create_topics.h"
#include "protocol/gen/kp_msg_delete_topics.h"
#include "protocol/gen/kp_msg_describe_configs.h"
#include "protocol/gen/kp_msg_metadata.h"
#include "protocol/kp.h"
#include "tests/unit/protocol/tmd.h"

/* ---- a two-topic snapshot and an admin double that can add topics ---- */

static struct kp_md_topic topics[8];
static const struct kp_md_topic *by_id[8];
static char names[8][32];
static struct kp_md md;

static void
md_add(const char *name, int32_t parts)
{
	int32_t i = md.topic_count++;

	snprintf(names[i], sizeof(names[i]), "%s", name);
	topics[i].name = kp_str_c(names[i]);
	memset(topics[i].id.b, 0, 16);
	topics[i].id.b[0] = (uint8_t)(i + 1);
	topics[i].partition_count = parts;
	by_id[i] = &topics[i];
	tmd_single(&md, topics, md.topic_count);
}

static void
md_setup(void)
{
	memset(&md, 0, sizeof(md));
	md.broker_id = 1;
	md.controller_id = 1;
	md.cluster_id = "AAAAAAAAAAAAAAAAAAAAAA";
	md.endpoint_count = 1;
	md.endpoints[0] = (struct kp_md_endpoint){ "PLAINTEXT", "127.0.0.1", 9092, 0 };
	md.auto_create_topics = true;
	md.num_partitions = 2;
	md.default_replication_factor = 1;
	md.topics = topics;
	md.by_id = by_id;
	md_add("alpha", 3);     /* names added in sorted order, ids ascending */
	md_add("beta", 1);
}

static int16_t
admin_create(void *ctx, const struct kp_topic_spec *spec, bool validate_only,
	     struct kp_uuid *id, char *msg, size_t n)
{
	(void)ctx;
	if (kp_md_topic_by_name(&md, spec->name) != NULL) {
		snprintf(msg, n, "exists");
		return KP_ERR_TOPIC_ALREADY_EXISTS;
	}
	if (!validate_only) {
		char name[32];

		snprintf(name, sizeof(name), "%.*s", (int)spec->name.len, spec->name.ptr);
		md_add(name, spec->partition_count);
		*id = topics[md.topic_count - 1].id;
	}
	return KP_ERR_NONE;
}

static int16_t
admin_delete(void *ctx, const struct kp_md_topic *t, char *msg, size_t n)
{
	(void)ctx; (void)t; (void)msg; (void)n;
	return KP_ERR_NONE;
}

static const struct kp_md *
admin_md(void *ctx)
{
	(void)ctx;
	return &md;
}

static void
admin_spec_configs(void *ctx, const struct kp_topic_spec *spec, kp_config_entry_fn *fn, void *arg)
{
	struct kp_config_entry e = { .name = "retention.ms", .value = "604800000",
				     .source = KP_CONFIG_SOURCE_DEFAULT, .is_default = true };

	(void)ctx; (void)spec;
	fn(arg, &e);
}

static int16_t
admin_configs(void *ctx, int8_t type, struct kp_str res, const struct kp_str *names, int32_t n,
	      bool syn, bool docs, kp_config_entry_fn *fn, void *arg, char *msg, size_t msg_size)
{
	(void)ctx; (void)type; (void)res; (void)names; (void)n; (void)syn; (void)docs;
	(void)msg; (void)msg_size;
	admin_spec_configs(NULL, NULL, fn, arg);
	return KP_ERR_NONE;
}

static int16_t
admin_auto_create(void *ctx, struct kp_str name, char *msg, size_t n)
{
	struct kp_topic_spec spec = { .name = name, .partition_count = 1,
				      .replication_factor = 1 };
	struct kp_uuid id;

	return admin_create(ctx, &spec, false, &id, msg, n);
}

static const struct kp_admin_ops admin = {
	.configs_describe = admin_configs,
	.topic_auto_create = admin_auto_create,
	.topic_create = admin_create,
	.topic_delete = admin_delete,
	.topic_spec_configs = admin_spec_configs,
	.md = admin_md,
	.md_fresh = admin_md,
};

TestSuite(dispatch, .init = md_setup);

/* ---- helpers ---- */

static struct kp_writer
frame_begin(int16_t key, int16_t version, int32_t correlation, bool flexible)
{
	struct kp_writer w;

	kp_writer_init(&w, 64);
	kp_write_i16(&w, key);
	kp_write_i16(&w, version);
	kp_write_i32(&w, correlation);
	kp_write_string(&w, kp_str_c("test-client"), false);
	if (flexible)
		kp_write_uvarint(&w, 0);
	return w;
}

static enum kp_verdict
run(struct kp_writer *w, bool on_control, struct kp_out *out)
{
	struct kp_env env = { .md = &md, .request_bytes_max = 1 << 20 };
	enum kp_verdict v;

	memset(out, 0, sizeof(*out));
	if (on_control) {
		env.admin = &admin;
		v = kp_dispatch_control(&env, w->buf, (uint32_t)w->len, out);
	} else {
		v = kp_dispatch(&env, w->buf, (uint32_t)w->len, out);
	}
	kp_writer_free(w);
	return v;
}

/* Response cursor after size and correlation id (and header tags if flexible). */
static struct kp_cursor
resp_body(const struct kp_out *out, int32_t correlation, bool flexible)
{
	struct kp_cursor c = kp_cursor_make(out->resp.data, out->resp.len);

	cr_assert_eq(kp_read_i32(&c), (int32_t)out->resp.len - 4);
	cr_assert_eq(kp_read_i32(&c), correlation);
	if (flexible)
		kp_skip_tagged_fields(&c);
	return c;
}

/* ---- tests ---- */

Test(dispatch, unknown_api_key_closes)
{
	struct kp_writer w = frame_begin(999, 0, 1, false);
	struct kp_out out;

	cr_assert_eq(run(&w, false, &out), KP_VERDICT_CLOSE);
}

Test(dispatch, unsupported_version_closes)
{
	struct kp_writer w = frame_begin(KP_API_METADATA, 13, 1, true);
	struct kp_out out;

	cr_assert_eq(run(&w, false, &out), KP_VERDICT_CLOSE);
}

Test(dispatch, short_frame_closes)
{
	uint8_t frame[6] = { 0, 18, 0, 0, 0, 0 };
	struct kp_env env = { .md = &md };
	struct kp_out out;

	cr_assert_eq(kp_dispatch(&env, frame, sizeof(frame), &out), KP_VERDICT_CLOSE);
}

/* ApiVersions v3+ body: the client's software name and version. */
static void
api_versions_request(struct kp_writer *w, const char *software, const char *version)
{
	kp_write_string(w, kp_str_c(software), true);
	kp_write_string(w, kp_str_c(version), true);
	kp_write_uvarint(w, 0);
}

/* Run an ApiVersions frame and decode its reply at version (header v0,
 * always); the caller frees out->resp.data. */
static struct kp_api_versions_response
api_versions_reply(struct kp_writer *w, int32_t correlation, int16_t version,
		   struct kp_out *out)
{
	struct kp_api_versions_response resp;
	struct kp_cursor c;

	cr_assert_eq(run(w, false, out), KP_VERDICT_REPLY);
	c = resp_body(out, correlation, false);
	cr_assert_eq(kp_api_versions_response_decode(&c, version, &resp), 0);
	return resp;
}

Test(dispatch, api_versions_v3_header_v0_and_table)
{
	struct kp_writer w = frame_begin(KP_API_API_VERSIONS, 3, 77, true);
	struct kp_api_versions_response resp;
	struct kp_out out;
	bool saw_metadata = false;

	api_versions_request(&w, "librdkafka", "2.0.2");
	resp = api_versions_reply(&w, 77, 3, &out);
	cr_assert_eq(resp.error_code, KP_ERR_NONE);
	struct kp_cursor it = kp_array_cursor(&resp.api_keys);
	for (int32_t i = 0; i < resp.api_keys.count; i++) {
		struct kp_api_versions_response_api_version k;

		kp_api_versions_response_api_version_decode(&it, 3, &k);
		if (k.api_key == KP_API_METADATA) {
			saw_metadata = true;
			cr_assert_eq(k.min_version, 0);
			cr_assert_eq(k.max_version, 12);
		}
	}
	cr_assert(saw_metadata);
	free(out.resp.data);
}

Test(dispatch, api_versions_unknown_version_gets_v0_body)
{
	struct kp_writer w = frame_begin(KP_API_API_VERSIONS, 9, 5, true);
	struct kp_api_versions_response resp;
	struct kp_out out;

	kp_write_raw(&w, "\x01\x02\x03", 3);    /* a body we cannot know */
	resp = api_versions_reply(&w, 5, 0, &out);
	cr_assert_eq(resp.error_code, KP_ERR_UNSUPPORTED_VERSION);
	cr_assert_eq(resp.api_keys.count, 1);
	free(out.resp.data);
}

Test(dispatch, api_versions_bad_software_name_is_invalid_request)
{
	struct kp_writer w = frame_begin(KP_API_API_VERSIONS, 3, 5, true);
	struct kp_out out;

	api_versions_request(&w, "-bad-", "1.0");
	cr_assert_eq(api_versions_reply(&w, 5, 3, &out).error_code, KP_ERR_INVALID_REQUEST);
	free(out.resp.data);
}

static void
metadata_request(struct kp_writer *w, int16_t version, const char *const *want, int n, bool allow)
{
	struct kp_metadata_request_metadata_request_topic t[4];
	struct kp_metadata_request req;

	kp_metadata_request_init(&req);
	for (int i = 0; i < n; i++) {
		kp_metadata_request_metadata_request_topic_init(&t[i]);
		t[i].name = kp_str_c(want[i]);
	}
	req.topics.count = want == NULL ? -1 : n;
	req.topics.items = t;
	req.allow_auto_topic_creation = allow;
	kp_metadata_request_encode(w, version, &req);
}

static struct kp_metadata_response
metadata_response(const struct kp_out *out, int16_t version)
{
	struct kp_metadata_response resp;
	struct kp_cursor c = resp_body(out, 9, version >= 9);

	cr_assert_eq(kp_metadata_response_decode(&c, version, &resp), 0);
	return resp;
}

Test(dispatch, metadata_all_topics_every_version)
{
	for (int16_t v = 1; v <= 12; v++) {
		struct kp_writer w = frame_begin(KP_API_METADATA, v, 9, v >= 9);
		struct kp_metadata_response resp;
		struct kp_out out;

		metadata_request(&w, v, NULL, 0, true);
		cr_assert_eq(run(&w, false, &out), KP_VERDICT_REPLY, "v%d", v);
		resp = metadata_response(&out, v);
		cr_assert_eq(resp.topics.count, 2, "v%d", v);
		cr_assert_eq(resp.brokers.count, 1);
		cr_assert_eq(resp.controller_id, 1);
		struct kp_cursor it = kp_array_cursor(&resp.topics);
		struct kp_metadata_response_metadata_response_topic t;
		kp_metadata_response_metadata_response_topic_decode(&it, v, &t);
		cr_assert(kp_str_eq(t.name, kp_str_c("alpha")));
		cr_assert_eq(t.partitions.count, 3);
		free(out.resp.data);
	}
}

Test(dispatch, metadata_missing_topic_forwards_then_creates_on_control)
{
	const char *want[] = { "alpha", "newtopic" };
	struct kp_writer w = frame_begin(KP_API_METADATA, 9, 9, true);
	struct kp_out out;

	metadata_request(&w, 9, want, 2, true);
	cr_assert_eq(run(&w, false, &out), KP_VERDICT_FORWARD);
	cr_assert_not_null(out.fwd.data);

	/* Control runs the forwarded copy. */
	struct kp_env env = { .md = &md, .admin = &admin };
	struct kp_out cout;
	cr_assert_eq(kp_dispatch_control(&env, out.fwd.data, out.fwd.len, &cout), KP_VERDICT_REPLY);
	free(out.fwd.data);
	struct kp_metadata_response resp = metadata_response(&cout, 9);
	cr_assert_eq(resp.topics.count, 2);
	cr_assert_not_null(kp_md_topic_by_name(&md, kp_str_c("newtopic")));
	free(cout.resp.data);
}

Test(dispatch, metadata_no_auto_create_gives_unknown_topic)
{
	const char *want[] = { "nosuch" };
	struct kp_writer w = frame_begin(KP_API_METADATA, 4, 9, false);
	struct kp_metadata_response_metadata_response_topic t;
	struct kp_metadata_response resp;
	struct kp_out out;

	metadata_request(&w, 4, want, 1, false);
	cr_assert_eq(run(&w, false, &out), KP_VERDICT_REPLY);
	resp = metadata_response(&out, 4);
	struct kp_cursor it = kp_array_cursor(&resp.topics);
	kp_metadata_response_metadata_response_topic_decode(&it, 4, &t);
	cr_assert_eq(t.error_code, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	free(out.resp.data);
}

/* Header v2: the broker's decoder skips the header's tagged fields and
 * closes on a malformed tag section (tags out of order, a size past the end). */
Test(dispatch, header_v2_tagged_fields)
{
	static const uint8_t good_tags[] = { 2, 0, 2, 'a', 'b', 5, 0 };
	static const uint8_t bad_order[] = { 2, 5, 0, 0, 0 };
	static const uint8_t bad_size[] = { 1, 0, 40, 'a' };
	const struct { const uint8_t *tags; size_t len; enum kp_verdict want; } cases[] = {
		{ good_tags, sizeof(good_tags), KP_VERDICT_REPLY },
		{ bad_order, sizeof(bad_order), KP_VERDICT_CLOSE },
		{ bad_size, sizeof(bad_size), KP_VERDICT_CLOSE },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kp_writer w = frame_begin(KP_API_METADATA, 9, 21, false);
		struct kp_out out;

		kp_write_raw(&w, cases[i].tags, cases[i].len);
		metadata_request(&w, 9, NULL, 0, false);
		cr_assert_eq(run(&w, false, &out), cases[i].want, "case %zu", i);
		if (cases[i].want == KP_VERDICT_REPLY) {
			struct kp_metadata_response resp;
			struct kp_cursor c = resp_body(&out, 21, true);

			cr_assert_eq(kp_metadata_response_decode(&c, 9, &resp), 0);
			cr_assert_eq(resp.topics.count, 2);
			free(out.resp.data);
		}
	}
}

Test(dispatch, create_topics_is_forwarded_and_checks_like_kafka)
{
	struct kp_create_topics_request_creatable_topic t[4];
	struct kp_create_topics_request req;
	const char *tn[] = { "gamma", "alpha", "bad/name", "gamma2" };
	int16_t rf[] = { -1, 1, 1, 3 };
	int16_t want[] = { KP_ERR_NONE, KP_ERR_TOPIC_ALREADY_EXISTS,
			   KP_ERR_INVALID_TOPIC_EXCEPTION, KP_ERR_INVALID_REPLICATION_FACTOR };
	struct kp_writer w = frame_begin(KP_API_CREATE_TOPICS, 5, 3, true);
	struct kp_out out;

	kp_create_topics_request_init(&req);
	for (int i = 0; i < 4; i++) {
		kp_create_topics_request_creatable_topic_init(&t[i]);
		t[i].name = kp_str_c(tn[i]);
		t[i].num_partitions = -1;
		t[i].replication_factor = rf[i];
	}
	req.topics.count = 4;
	req.topics.items = t;
	kp_create_topics_request_encode(&w, 5, &req);
	struct kp_writer copy = w;
	struct kp_env env = { .md = &md };
	cr_assert_eq(kp_dispatch(&env, copy.buf, (uint32_t)copy.len, &out), KP_VERDICT_FORWARD);
	free(out.fwd.data);
	cr_assert_eq(run(&w, true, &out), KP_VERDICT_REPLY);

	struct kp_cursor c = resp_body(&out, 3, true);
	struct kp_create_topics_response resp;
	cr_assert_eq(kp_create_topics_response_decode(&c, 5, &resp), 0);
	cr_assert_eq(resp.topics.count, 4);
	struct kp_cursor it = kp_array_cursor(&resp.topics);
	for (int i = 0; i < 4; i++) {
		struct kp_create_topics_response_creatable_topic_result r;

		kp_create_topics_response_creatable_topic_result_decode(&it, 5, &r);
		cr_assert_eq(r.error_code, want[i], "topic %s: %d", tn[i], r.error_code);
		if (i == 0) {
			cr_assert_eq(r.num_partitions, 2);      /* num.partitions default */
			cr_assert_eq(r.replication_factor, 1);
			cr_assert_eq(r.configs.count, 1);
		} else {
			cr_assert_geq(r.error_message.len, 1);
		}
	}
	free(out.resp.data);
}

/* Cluster mode: three live brokers; alpha's partitions have 3 replicas. */
static const int32_t cl_replicas[] = { 1, 2, 3 };
static const struct kp_md_partition cl_alpha[] = {
	{ 1, 0, 0, 3, 3, 0, cl_replicas, cl_replicas, cl_replicas },
	{ 2, 0, 0, 3, 3, 0, cl_replicas, cl_replicas, cl_replicas },
	{ 3, 0, 0, 3, 3, 0, cl_replicas, cl_replicas, cl_replicas },
};
static const struct kp_md_broker cl_brokers[] = {
	{ 1, NULL, 1, { { "PLAINTEXT", "127.0.0.1", 9092, 0 } } },
	{ 2, NULL, 1, { { "PLAINTEXT", "h2", 9093, 0 } } },
	{ 3, NULL, 1, { { "PLAINTEXT", "h3", 9094, 0 } } },
};

static void
cluster_mode(int32_t broker_count)
{
	md.cluster = true;
	md.brokers = cl_brokers;
	md.broker_count = broker_count;
	topics[0].partitions = cl_alpha;
}

Test(dispatch, create_topics_cluster_checks_like_zookeeper_mode)
{
	static const char *const tn[] = { "c1", "c2", "c3", "c4", "c5", "c6" };
	static const int32_t np[] = { -1, 4, 2, 2, 2, 0 };
	static const int16_t rf[] = { 3, -1, 4, 0, -3, 2 };
	static const int16_t want[] = { KP_ERR_NONE, KP_ERR_NONE,
		KP_ERR_INVALID_REPLICATION_FACTOR, KP_ERR_INVALID_REPLICATION_FACTOR,
		KP_ERR_INVALID_REPLICATION_FACTOR, KP_ERR_INVALID_PARTITIONS };
	static const char *const msg[] = { NULL, NULL,
		"Replication factor: 4 larger than available brokers: 3.",
		"Replication factor must be larger than 0.",
		"Replication factor must be larger than 0.",
		"Number of partitions must be larger than 0." };
	struct kp_create_topics_request_creatable_topic t[6];
	struct kp_create_topics_request req;
	struct kp_writer w = frame_begin(KP_API_CREATE_TOPICS, 5, 3, true);
	struct kp_out out;

	cluster_mode(3);
	kp_create_topics_request_init(&req);
	for (int i = 0; i < 6; i++) {
		kp_create_topics_request_creatable_topic_init(&t[i]);
		t[i].name = kp_str_c(tn[i]);
		t[i].num_partitions = np[i];
		t[i].replication_factor = rf[i];
	}
	req.topics.count = 6;
	req.topics.items = t;
	req.validate_only = true;
	kp_create_topics_request_encode(&w, 5, &req);
	cr_assert_eq(run(&w, true, &out), KP_VERDICT_REPLY);

	struct kp_cursor c = resp_body(&out, 3, true);
	struct kp_create_topics_response resp;
	cr_assert_eq(kp_create_topics_response_decode(&c, 5, &resp), 0);
	cr_assert_eq(resp.topics.count, 6);
	struct kp_cursor it = kp_array_cursor(&resp.topics);
	for (int i = 0; i < 6; i++) {
		struct kp_create_topics_response_creatable_topic_result r;

		kp_create_topics_response_creatable_topic_result_decode(&it, 5, &r);
		cr_assert_eq(r.error_code, want[i], "topic %s: %d", tn[i], r.error_code);
		if (msg[i] != NULL)
			cr_assert(kp_str_eq(r.error_message, kp_str_c(msg[i])), "%s: %.*s", tn[i],
				  (int)r.error_message.len, r.error_message.ptr);
	}
	free(out.resp.data);
}

Test(dispatch, create_partitions_cluster_needs_the_replication_factor)
{
	struct kp_create_partitions_request_create_partitions_topic t;
	struct kp_create_partitions_request req;
	struct kp_writer w = frame_begin(KP_API_CREATE_PARTITIONS, 3, 4, true);
	struct kp_create_partitions_response resp;
	struct kp_create_partitions_response_create_partitions_topic_result r;
	struct kp_out out;

	cluster_mode(2);        /* broker 3 is gone; alpha has 3 replicas */
	kp_create_partitions_request_init(&req);
	kp_create_partitions_request_create_partitions_topic_init(&t);
	t.name = kp_str_c("alpha");
	t.count = 5;
	t.assignments.count = -1;
	req.topics.count = 1;
	req.topics.items = &t;
	kp_create_partitions_request_encode(&w, 3, &req);
	cr_assert_eq(run(&w, true, &out), KP_VERDICT_REPLY);

	struct kp_cursor c = resp_body(&out, 4, true);
	cr_assert_eq(kp_create_partitions_response_decode(&c, 3, &resp), 0);
	struct kp_cursor it = kp_array_cursor(&resp.results);
	kp_create_partitions_response_create_partitions_topic_result_decode(&it, 3, &r);
	cr_assert_eq(r.error_code, KP_ERR_INVALID_REPLICATION_FACTOR);
	cr_assert(kp_str_eq(r.error_message,
			    kp_str_c("Replication factor: 3 larger than available brokers: 2.")));
	free(out.resp.data);
}

Test(dispatch, delete_topics_v6_by_unknown_id)
{
	struct kp_delete_topics_request_delete_topic_state s;
	struct kp_delete_topics_request req;
	struct kp_writer w = frame_begin(KP_API_DELETE_TOPICS, 6, 4, true);
	struct kp_out out;

	kp_delete_topics_request_init(&req);
	kp_delete_topics_request_delete_topic_state_init(&s);
	s.name.len = -1;
	s.name.ptr = NULL;
	memset(s.topic_id.b, 0xee, 16);
	req.topics.count = 1;
	req.topics.items = &s;
	kp_delete_topics_request_encode(&w, 6, &req);
	cr_assert_eq(run(&w, true, &out), KP_VERDICT_REPLY);
	struct kp_cursor c = resp_body(&out, 4, true);
	struct kp_delete_topics_response resp;
	cr_assert_eq(kp_delete_topics_response_decode(&c, 6, &resp), 0);
	struct kp_cursor it = kp_array_cursor(&resp.responses);
	struct kp_delete_topics_response_deletable_topic_result r;
	kp_delete_topics_response_deletable_topic_result_decode(&it, 6, &r);
	cr_assert_eq(r.error_code, KP_ERR_UNKNOWN_TOPIC_ID);
	free(out.resp.data);
}

Test(dispatch, truncated_bodies_close_never_crash)
{
	const char *want[] = { "alpha", "beta" };
	struct kp_writer w = frame_begin(KP_API_METADATA, 9, 9, true);

	metadata_request(&w, 9, want, 2, false);
	for (size_t len = 8; len < w.len; len++) {
		struct kp_env env = { .md = &md };
		struct kp_out out;
		enum kp_verdict v = kp_dispatch(&env, w.buf, (uint32_t)len, &out);

		cr_assert(v == KP_VERDICT_CLOSE || v == KP_VERDICT_REPLY, "len %zu", len);
		if (v == KP_VERDICT_REPLY)
			free(out.resp.data);
	}
	kp_writer_free(&w);
}

/* Regression: the Java AdminClient's describeTopics(ids) sends Metadata v12
 * entries with the id set and an empty, not null, name. */
Test(dispatch, metadata_by_id_with_empty_name)
{
	struct kp_metadata_request_metadata_request_topic t[2];
	struct kp_metadata_request req;
	struct kp_writer w = frame_begin(KP_API_METADATA, 12, 9, true);
	struct kp_out o;

	kp_metadata_request_init(&req);
	for (int i = 0; i < 2; i++) {
		kp_metadata_request_metadata_request_topic_init(&t[i]);
		t[i].name = kp_str_c("");
	}
	t[0].topic_id = topics[1].id;           /* beta */
	memset(t[1].topic_id.b, 0x77, 16);      /* unknown */
	req.topics.count = 2;
	req.topics.items = t;
	kp_metadata_request_encode(&w, 12, &req);
	cr_assert_eq(run(&w, false, &o), KP_VERDICT_REPLY);
	struct kp_metadata_response resp = metadata_response(&o, 12);
	struct kp_cursor it = kp_array_cursor(&resp.topics);
	struct kp_metadata_response_metadata_response_topic r;
	kp_metadata_response_metadata_response_topic_decode(&it, 12, &r);
	cr_assert_eq(r.error_code, KP_ERR_NONE);
	cr_assert(kp_str_eq(r.name, kp_str_c("beta")));
	kp_metadata_response_metadata_response_topic_decode(&it, 12, &r);
	cr_assert_eq(r.error_code, KP_ERR_UNKNOWN_TOPIC_ID);
	cr_assert_eq(r.name.len, -1);
	free(o.resp.data);
}

/* Regression: DescribeConfigs' IsDefault exists only in v0; setting it at
 * v1+ failed the encode and closed the connection. */
Test(dispatch, describe_configs_v1_encodes)
{
	struct kp_writer w = frame_begin(KP_API_DESCRIBE_CONFIGS, 1, 2, false);
	struct kp_out o;

	kp_write_i32(&w, 1);                    /* one resource */
	kp_write_i8(&w, 2);                     /* TOPIC */
	kp_write_string(&w, kp_str_c("alpha"), false);
	kp_write_i32(&w, -1);                   /* every key */
	kp_write_bool(&w, true);                /* include synonyms */
	cr_assert_eq(run(&w, true, &o), KP_VERDICT_REPLY);
	struct kp_cursor c = resp_body(&o, 2, false);
	struct kp_describe_configs_response resp;
	cr_assert_eq(kp_describe_configs_response_decode(&c, 1, &resp), 0);
	cr_assert_eq(resp.results.count, 1);
	free(o.resp.data);
}

/* ---- the group coordinator's APIs (handlers/group.c) ---- */

static struct kp_group_call group_seen;
static enum kp_verdict group_verdict;

static enum kp_verdict
admin_group(void *ctx, struct kp_group_call *call)
{
	(void)ctx;
	group_seen = *call;
	if (group_verdict == KP_VERDICT_REPLY)
		kp_write_i16(call->w, 0x1234);  /* a body: just an error code */
	return group_verdict;
}

static enum kp_verdict
run_group(struct kp_writer *w, const char *host, struct kp_out *out)
{
	struct kp_admin_ops ops = admin;
	struct kp_env env = { .md = &md, .request_bytes_max = 1 << 20, .admin = &ops,
			      .client_host = kp_str_c(host) };
	enum kp_verdict v;

	ops.group = admin_group;
	memset(out, 0, sizeof(*out));
	memset(&group_seen, 0, sizeof(group_seen));
	/* The call points into the frame: the caller frees it after checking. */
	v = kp_dispatch_control(&env, w->buf, (uint32_t)w->len, out);
	return v;
}

Test(dispatch, group_apis_advertised_with_kafka_ranges)
{
	static const int16_t want[][3] = {
		{ KP_API_FIND_COORDINATOR, 0, 6 }, { KP_API_JOIN_GROUP, 0, 9 },
		{ KP_API_SYNC_GROUP, 0, 5 }, { KP_API_HEARTBEAT, 0, 4 },
		{ KP_API_LEAVE_GROUP, 0, 5 }, { KP_API_OFFSET_COMMIT, 2, 9 },
		{ KP_API_OFFSET_FETCH, 1, 9 }, { KP_API_OFFSET_DELETE, 0, 0 },
		{ KP_API_DESCRIBE_GROUPS, 0, 5 }, { KP_API_LIST_GROUPS, 0, 5 },
		{ KP_API_DELETE_GROUPS, 0, 2 },
	};
	struct kp_writer w = frame_begin(KP_API_API_VERSIONS, 3, 8, true);
	struct kp_api_versions_response resp;
	struct kp_out out;
	int found = 0;

	api_versions_request(&w, "librdkafka", "2.0.2");
	resp = api_versions_reply(&w, 8, 3, &out);
	struct kp_cursor it = kp_array_cursor(&resp.api_keys);
	for (int32_t i = 0; i < resp.api_keys.count; i++) {
		struct kp_api_versions_response_api_version k;

		kp_api_versions_response_api_version_decode(&it, 3, &k);
		for (size_t j = 0; j < sizeof(want) / sizeof(want[0]); j++) {
			if (k.api_key != want[j][0])
				continue;
			cr_assert_eq(k.min_version, want[j][1], "key %d", k.api_key);
			cr_assert_eq(k.max_version, want[j][2], "key %d", k.api_key);
			found++;
		}
	}
	cr_assert_eq(found, 11);
	free(out.resp.data);
}

Test(dispatch, group_api_forwarded_from_core)
{
	struct kp_writer w = frame_begin(KP_API_JOIN_GROUP, 5, 9, false);
	struct kp_out out;

	kp_write_string(&w, kp_str_c("g"), false);
	cr_assert_eq(run(&w, false, &out), KP_VERDICT_FORWARD);
	cr_assert_gt(out.fwd.len, 8);
	free(out.fwd.data);
}

/* OffsetCommit v0-1 reach the coordinator (v0 answers UNSUPPORTED_VERSION
 * there, as KRaft Kafka does); a version above the table's closes. */
Test(dispatch, group_api_outside_accepted_versions_closes)
{
	struct kp_writer w = frame_begin(KP_API_OFFSET_COMMIT, 10, 9, false);
	struct kp_out out;

	cr_assert_eq(run(&w, false, &out), KP_VERDICT_CLOSE);
}

Test(dispatch, group_call_carries_header_host_and_body)
{
	struct kp_writer w = frame_begin(KP_API_HEARTBEAT, 4, 41, true);
	struct kp_out out;

	kp_write_i32(&w, 0x0a0b0c0d);   /* the body, untouched by dispatch */
	group_verdict = KP_VERDICT_REPLY;
	cr_assert_eq(run_group(&w, "/127.0.0.1", &out), KP_VERDICT_REPLY);
	cr_assert_eq(group_seen.api_key, KP_API_HEARTBEAT);
	cr_assert_eq(group_seen.api_version, 4);
	cr_assert_eq(group_seen.correlation_id, 41);
	cr_assert_eq(group_seen.client_id.len, 11);
	cr_assert_eq(memcmp(group_seen.client_id.ptr, "test-client", 11), 0);
	cr_assert_eq(group_seen.client_host.len, 10);
	cr_assert_eq(memcmp(group_seen.client_host.ptr, "/127.0.0.1", 10), 0);
	cr_assert_eq(kp_read_i32(&group_seen.body), 0x0a0b0c0d);
	cr_assert_eq(group_seen.body.err, 0);
	kp_writer_free(&w);
	/* size, correlation id, header tags (v4 is flexible), the body */
	struct kp_cursor c = resp_body(&out, 41, true);
	cr_assert_eq(kp_read_i16(&c), 0x1234);
	free(out.resp.data);
}

Test(dispatch, group_parked_passes_through_without_response)
{
	struct kp_writer w;
	struct kp_out out;

	kp_writer_init(&w, 64);
	kp_write_i16(&w, KP_API_FIND_COORDINATOR);
	kp_write_i16(&w, 0);
	kp_write_i32(&w, 3);
	kp_write_i16(&w, -1);           /* client_id null */

	kp_write_string(&w, kp_str_c("g"), false);
	group_verdict = KP_VERDICT_PARKED;
	cr_assert_eq(run_group(&w, "", &out), KP_VERDICT_PARKED);
	cr_assert_null(out.resp.data);
	cr_assert_eq(group_seen.client_id.len, 0);       /* null client id reads as "" */
	cr_assert_not_null(group_seen.client_id.ptr);
	cr_assert_eq(group_seen.client_host.len, 0);
	kp_writer_free(&w);
}
