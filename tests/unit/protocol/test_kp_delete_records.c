/* SPDX-License-Identifier: Apache-2.0 */
/* Tests protocol/handlers/delete_records.c against the fake storage: one
 * storage request per partition, Kafka's map semantics (a partition listed
 * twice asked once with its last offset and answered once, a topic listed
 * twice answered as one entry), errors known before storage, storage's
 * errors and low watermarks in the right partition, and a request with
 * nothing to ask answered at dispatch. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/gen/kp_api.h"
#include "protocol/gen/kp_msg_delete_records.h"
#include "protocol/gen/kp_msg_header.h"
#include "protocol/kp_core_int.h"
#include "tests/unit/protocol/core_harness.h"

TestSuite(delete_records, .init = h_setup, .fini = h_teardown);

#define DR_MAX 16

struct dr_entry {
	const char *topic;
	int32_t partition;
	int64_t offset;
};

/* The answer flattened: topic entries in order, their partitions. */
struct dr_answer {
	int topics;
	char topic_name[DR_MAX][16];
	int n;
	char topic[DR_MAX][16];
	int32_t partition[DR_MAX];
	int64_t low[DR_MAX];
	int16_t error[DR_MAX];
	enum kp_verdict verdict;        /* at dispatch */
};

/* Encode a request whose topic entries are runs of e with one name. */
static void
dr_request(struct kp_writer *w, int16_t version, const struct dr_entry *e, int n)
{
	struct kp_delete_records_request_delete_records_partition dp[DR_MAX];
	struct kp_delete_records_request_delete_records_topic dt[DR_MAX];
	struct kp_delete_records_request req;
	int k = 0;

	for (int i = 0; i < n; i++) {
		kp_delete_records_request_delete_records_partition_init(&dp[i]);
		dp[i].partition_index = e[i].partition;
		dp[i].offset = e[i].offset;
		if (i == 0 || strcmp(e[i - 1].topic, e[i].topic) != 0) {
			kp_delete_records_request_delete_records_topic_init(&dt[k]);
			dt[k].name = kp_str_c(e[i].topic);
			dt[k].partitions.items = &dp[i];
			dt[k].partitions.count = 0;
			k++;
		}
		dt[k - 1].partitions.count++;
	}
	kp_delete_records_request_init(&req);
	req.topics.count = k;
	req.topics.items = dt;
	req.timeout_ms = 30000;
	kp_delete_records_request_encode(w, version, &req);
}

static struct dr_answer
dr_run(int16_t version, const struct dr_entry *e, int n)
{
	struct kp_request_header hdr = { KP_API_DELETE_RECORDS, version, 9, kp_str_c("t") };
	struct dr_answer a = { 0 };
	struct kp_delete_records_response resp;
	struct kp_done done = { 0 };
	struct kp_cursor c, it;
	struct kp_out out;
	struct kp_writer w;
	struct kp_buf b;

	/* h_frame_begin() writes header v1; v2 is flexible (header v2). */
	kp_writer_init(&w, 256);
	kp_request_header_encode(&w, version >= 2 ? 2 : 1, &hdr);
	dr_request(&w, version, e, n);
	a.verdict = h_dispatch(&w, 4, &out);
	b = out.resp;
	if (a.verdict != KP_VERDICT_REPLY) {
		cr_assert_eq(a.verdict, KP_VERDICT_PENDING, "verdict %d", a.verdict);
		cr_assert_eq(h_poll(H_NOW, &done, 1), 1);
		cr_assert_eq(done.verdict, KP_VERDICT_REPLY);
		b = done.resp;
	}
	c = h_body(&b, 9);
	if (version >= 2)
		cr_assert_eq(kp_read_uvarint(&c), 0, "response header v1: no tagged fields");
	cr_assert_eq(kp_delete_records_response_decode(&c, version, &resp), 0);
	it = kp_array_cursor(&resp.topics);
	for (int32_t i = 0; i < resp.topics.count; i++) {
		struct kp_delete_records_response_delete_records_topic_result t;
		struct kp_cursor pit;

		kp_delete_records_response_delete_records_topic_result_decode(&it, version, &t);
		snprintf(a.topic_name[a.topics++], 16, "%.*s", (int)t.name.len, t.name.ptr);
		pit = kp_array_cursor(&t.partitions);
		for (int32_t j = 0; j < t.partitions.count; j++, a.n++) {
			struct kp_delete_records_response_delete_records_partition_result r;

			cr_assert_lt(a.n, DR_MAX);
			kp_delete_records_response_delete_records_partition_result_decode(&pit,
											  version,
											  &r);
			snprintf(a.topic[a.n], 16, "%.*s", (int)t.name.len, t.name.ptr);
			a.partition[a.n] = r.partition_index;
			a.low[a.n] = r.low_watermark;
			a.error[a.n] = r.error_code;
		}
	}
	cr_assert_eq(c.err, 0);
	free(b.data);
	return a;
}

Test(delete_records, kafka_map_semantics_and_errors)
{
	static const struct dr_entry e[] = {
		{ "alpha", 0, 5 }, { "alpha", 7, 1 }, { "nope", 0, 1 }, { "beta", 0, -1 },
		{ "alpha", 0, 3 }, { "alpha", 2, 4 },
	};
	struct dr_answer a = dr_run(2, e, 6);

	cr_assert_eq(a.verdict, KP_VERDICT_PENDING);
	cr_assert_eq(a.topics, 3, "one entry per topic, however listed");
	cr_assert_str_eq(a.topic_name[0], "alpha");
	cr_assert_str_eq(a.topic_name[1], "beta");
	cr_assert_str_eq(a.topic_name[2], "nope");
	cr_assert_eq(a.n, 5, "alpha-0 answered once");
	cr_assert(a.partition[0] == 0 && a.error[0] == 0 && a.low[0] == 3, "the last listing");
	cr_assert(a.partition[1] == 2 && a.error[1] == 0 && a.low[1] == 4);
	cr_assert(a.partition[2] == 7 && a.error[2] == KP_ERR_UNKNOWN_TOPIC_OR_PARTITION &&
		  a.low[2] == -1);
	cr_assert(a.partition[3] == 0 && a.error[3] == 0 && a.low[3] == 10, "-1: the end");
	cr_assert(a.error[4] == KP_ERR_UNKNOWN_TOPIC_OR_PARTITION && a.low[4] == -1);
	cr_assert_eq(fake_st_count(ST_REQ_DELETE_RECORDS), 3);
	for (uint32_t i = 0; i < fake_st.log_count; i++)
		if (fake_st.log[i].partition == 0 && fake_st.log[i].topic_id[0] == 1)
			cr_assert_eq(fake_st.log[i].delete_records.offset, 3);
}

Test(delete_records, storage_errors_land_in_their_partition)
{
	static const struct dr_entry e[] = { { "alpha", 2, 6 }, { "alpha", 1, 6 },
					     { "alpha", 0, 6 } };
	struct dr_answer a;

	fake_st.error_p1 = KP_ERR_OFFSET_OUT_OF_RANGE;
	a = dr_run(0, e, 3);
	cr_assert_eq(a.topics, 1);
	cr_assert_eq(a.n, 3);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(a.partition[i], i, "sorted by partition");
		cr_assert_eq(a.error[i], i == 1 ? KP_ERR_OFFSET_OUT_OF_RANGE : 0);
		cr_assert_eq(a.low[i], i == 1 ? -1 : 6);
	}
}

Test(delete_records, nothing_to_ask_answers_at_dispatch)
{
	static const struct dr_entry e[] = { { "nope", 0, 1 }, { "beta", 1, 1 } };
	struct dr_answer a = dr_run(1, e, 2);

	cr_assert_eq(a.verdict, KP_VERDICT_REPLY);
	cr_assert_eq(a.n, 2);
	cr_assert_eq(a.error[0], KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	cr_assert_eq(a.error[1], KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	cr_assert_eq(fake_st.log_count, 0);
}
