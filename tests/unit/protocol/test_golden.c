/* SPDX-License-Identifier: Apache-2.0 */
/* Tests the generated decoders against request bytes captured from real
 * clients (tests/golden/, see PROVENANCE.md): each frame decodes (header and
 * body) to the values the capture script asked the client to send, walking
 * arrays the way handlers do, and re-encodes to identical bytes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/gen/kp_api.h"
#include "protocol/gen/kp_msg_api_versions.h"
#include "protocol/gen/kp_msg_create_topics.h"
#include "protocol/gen/kp_msg_delete_topics.h"
#include "protocol/gen/kp_msg_header.h"
#include "protocol/gen/kp_msg_metadata.h"
#include "protocol/kp_wire.h"

#ifndef KP_GOLDEN_DIR
#error "KP_GOLDEN_DIR must name tests/golden"
#endif

#define GOLDEN_TOPIC "golden-topic"

struct golden {
	uint8_t *buf;
	size_t len;
	struct kp_request_header hdr;
	struct kp_cursor body;          /* positioned after the header */
};

static void
golden_load(struct golden *g, const char *rel, int16_t key, int16_t version,
	    const char *client_id)
{
	char path[512];
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", KP_GOLDEN_DIR, rel);
	f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	cr_assert_gt(n, 0);
	rewind(f);
	g->buf = malloc((size_t)n);     /* exactly sized: ASan sees over-reads */
	g->len = (size_t)n;
	cr_assert_eq(fread(g->buf, 1, g->len, f), g->len);
	fclose(f);

	g->body = kp_cursor_make(g->buf, g->len);
	cr_assert_eq(kp_request_header_decode(&g->body, kp_request_header_version(key, version),
					      &g->hdr), 0, "%s: header", rel);
	cr_assert_eq(g->hdr.request_api_key, key);
	cr_assert_eq(g->hdr.request_api_version, version);
	cr_assert(kp_str_eq(g->hdr.client_id, kp_str_c(client_id)), "%s: client id %.*s",
		  rel, g->hdr.client_id.len, g->hdr.client_id.ptr);
}

/* Re-encode header and body (from the decoded wire slices): same bytes. */
static void
golden_reencode(struct golden *g)
{
	struct kp_cursor c = kp_cursor_make(g->buf, g->len);
	struct kp_request_header h;
	int16_t key = g->hdr.request_api_key, version = g->hdr.request_api_version;
	int16_t hv = kp_request_header_version(key, version);
	struct kp_writer w;

	kp_writer_init(&w, 0);
	cr_assert_eq(kp_request_header_decode(&c, hv, &h), 0);
	kp_request_header_encode(&w, hv, &h);
	cr_assert_eq(kp_request_roundtrip_any(key, version, &c, &w), 0);
	cr_assert_eq(kp_cursor_left(&c), 0, "trailing bytes");
	cr_assert_eq(w.len, g->len, "re-encoded %zu bytes, golden %zu", w.len, g->len);
	cr_assert_eq(memcmp(w.buf, g->buf, g->len), 0, "re-encoded bytes differ");
	kp_writer_free(&w);
	free(g->buf);
}

static void
check_api_versions(const char *rel, int16_t version, const char *client_id,
		   const char *sw_name, const char *sw_version)
{
	struct golden g;
	struct kp_api_versions_request req;

	golden_load(&g, rel, KP_API_API_VERSIONS, version, client_id);
	cr_assert_eq(kp_api_versions_request_decode(&g.body, version, &req), 0);
	cr_assert_eq(kp_cursor_left(&g.body), 0);
	cr_assert(kp_str_eq(req.client_software_name, kp_str_c(sw_name)),
		  "%s: software name %.*s", rel, req.client_software_name.len,
		  req.client_software_name.ptr);
	cr_assert(kp_str_eq(req.client_software_version, kp_str_c(sw_version)),
		  "%s: software version %.*s", rel, req.client_software_version.len,
		  req.client_software_version.ptr);
	golden_reencode(&g);
}

Test(golden, api_versions)
{
	check_api_versions("api_versions/v3.kcat.req.bin", 3, "golden-kcat",
			   "librdkafka", "2.0.2");
	check_api_versions("api_versions/v3.confluent-kafka.req.bin", 3, "golden-confluent",
			   "confluent-kafka-python", "1.7.0-rdkafka-2.0.2");
	/* v0 has no body; the software fields keep their "" defaults. */
	check_api_versions("api_versions/v0.kafka-python.req.bin", 0, "golden-kafka-python",
			   "", "");
}

/* topic_count -1: null (all topics). */
static void
check_metadata(const char *rel, int16_t version, const char *client_id, int32_t topic_count,
	       bool allow_auto_create)
{
	struct golden g;
	struct kp_metadata_request req;

	golden_load(&g, rel, KP_API_METADATA, version, client_id);
	cr_assert_eq(kp_metadata_request_decode(&g.body, version, &req), 0, "%s", rel);
	cr_assert_eq(req.topics.count, topic_count, "%s: %d topics", rel, req.topics.count);
	cr_assert_eq(req.allow_auto_topic_creation, allow_auto_create, "%s", rel);

	struct kp_cursor it = kp_array_cursor(&req.topics);
	for (int32_t i = 0; i < req.topics.count; i++) {
		struct kp_metadata_request_metadata_request_topic t;
		int rc = kp_metadata_request_metadata_request_topic_decode(&it, version, &t);
		cr_assert_eq(rc, 0);
		cr_assert(kp_str_eq(t.name, kp_str_c(GOLDEN_TOPIC)));
	}
	cr_assert_eq(kp_cursor_left(&it), 0);
	golden_reencode(&g);
}

Test(golden, metadata)
{
	check_metadata("metadata/v4.kcat.req.bin", 4, "golden-kcat", 1, true);
	check_metadata("metadata/v4.confluent-kafka.req.bin", 4, "golden-confluent", 1, true);
	check_metadata("metadata/v0.kafka-python.req.bin", 0, "golden-kafka-python", 0, true);
	check_metadata("metadata/v1.kafka-python.req.bin", 1, "golden-kafka-python", -1, true);
	check_metadata("metadata/v5.kafka-python.req.bin", 5, "golden-kafka-python", -1, false);
}

static void
check_create_topics(const char *rel, int16_t version, const char *client_id)
{
	struct golden g;
	struct kp_create_topics_request req;

	golden_load(&g, rel, KP_API_CREATE_TOPICS, version, client_id);
	cr_assert_eq(kp_create_topics_request_decode(&g.body, version, &req), 0, "%s", rel);
	cr_assert_eq(req.topics.count, 1);
	cr_assert_eq(req.timeout_ms, 5000);
	cr_assert(!req.validate_only);

	struct kp_cursor it = kp_array_cursor(&req.topics);
	struct kp_create_topics_request_creatable_topic t;
	cr_assert_eq(kp_create_topics_request_creatable_topic_decode(&it, version, &t), 0);
	cr_assert(kp_str_eq(t.name, kp_str_c(GOLDEN_TOPIC)));
	cr_assert_eq(t.num_partitions, 3);
	cr_assert_eq(t.replication_factor, 1);
	cr_assert_eq(t.assignments.count, 0);
	cr_assert_eq(t.configs.count, 0);
	golden_reencode(&g);
}

Test(golden, create_topics)
{
	check_create_topics("create_topics/v4.confluent-kafka.req.bin", 4, "golden-confluent");
	check_create_topics("create_topics/v3.kafka-python.req.bin", 3, "golden-kafka-python");
}

static void
check_delete_topics(const char *rel, int16_t version, const char *client_id)
{
	struct golden g;
	struct kp_delete_topics_request req;

	golden_load(&g, rel, KP_API_DELETE_TOPICS, version, client_id);
	cr_assert_eq(kp_delete_topics_request_decode(&g.body, version, &req), 0, "%s", rel);
	cr_assert_eq(req.timeout_ms, 5000);
	cr_assert_eq(req.topic_names.count, 1);
	cr_assert_eq(req.topics.count, 0);      /* v6+ only */

	/* An array of primitives: read elements with kp_wire from its cursor. */
	struct kp_cursor it = kp_array_cursor(&req.topic_names);
	struct kp_str name = kp_read_string(&it, version >= 4);
	cr_assert_eq(it.err, KP_WIRE_OK);
	cr_assert(kp_str_eq(name, kp_str_c(GOLDEN_TOPIC)));
	golden_reencode(&g);
}

Test(golden, delete_topics)
{
	check_delete_topics("delete_topics/v1.confluent-kafka.req.bin", 1, "golden-confluent");
	check_delete_topics("delete_topics/v3.kafka-python.req.bin", 3, "golden-kafka-python");
}
