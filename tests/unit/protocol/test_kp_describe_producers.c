/* SPDX-License-Identifier: Apache-2.0 */
/* Tests protocol/handlers/describe_producers.c against the fake storage
 * (partition p has p producers): one PRODUCERS request per known partition,
 * storage's lists encoded with coordinator epoch and transaction start -1,
 * the request's topic entries answered as listed, the errors known before
 * storage (with Kafka's message for the topic-level ones), storage's
 * errors in their partition, and a cancelled request. (That the lists are
 * freed is checked under LeakSanitizer by the integration test
 * test_describe_producers_no_leak: Criterion's forked tests exit without
 * a leak check.) */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/gen/kp_api.h"
#include "protocol/gen/kp_msg_describe_producers.h"
#include "protocol/gen/kp_msg_header.h"
#include "protocol/kp_core_int.h"
#include "tests/unit/protocol/core_harness.h"

TestSuite(describe_producers, .init = h_setup, .fini = h_teardown);

#define DP_MAX 16

struct dp_topic {
	const char *name;
	int32_t parts[4];
	int32_t n;
};

/* The answer flattened in response order. */
struct dp_answer {
	int topics;
	char topic_name[DP_MAX][16];
	int32_t topic_parts[DP_MAX];
	int n;
	int32_t partition[DP_MAX];
	int16_t error[DP_MAX];
	char message[DP_MAX][160];      /* "(null)" for a null message */
	int32_t producers[DP_MAX];
	struct kp_describe_producers_response_producer_state state[DP_MAX][4];
	enum kp_verdict verdict;        /* at dispatch */
};

static void
dp_request(struct kp_writer *w, const struct dp_topic *t, int n)
{
	struct kp_describe_producers_request_topic_request tr[DP_MAX];
	struct kp_describe_producers_request req;

	for (int i = 0; i < n; i++) {
		kp_describe_producers_request_topic_request_init(&tr[i]);
		tr[i].name = kp_str_c(t[i].name);
		tr[i].partition_indexes.items = t[i].parts;
		tr[i].partition_indexes.count = t[i].n;
	}
	kp_describe_producers_request_init(&req);
	req.topics.items = tr;
	req.topics.count = n;
	kp_describe_producers_request_encode(w, 0, &req);
}

static void
dp_part(struct dp_answer *a, struct kp_cursor *pit)
{
	struct kp_describe_producers_response_partition_response r;
	struct kp_cursor sit;

	cr_assert_lt(a->n, DP_MAX);
	cr_assert_eq(kp_describe_producers_response_partition_response_decode(pit, 0, &r), 0);
	a->partition[a->n] = r.partition_index;
	a->error[a->n] = r.error_code;
	if (r.error_message.len < 0)
		snprintf(a->message[a->n], 160, "(null)");
	else
		snprintf(a->message[a->n], 160, "%.*s", (int)r.error_message.len,
			 r.error_message.ptr);
	a->producers[a->n] = r.active_producers.count;
	cr_assert_leq(r.active_producers.count, 4);
	sit = kp_array_cursor(&r.active_producers);
	for (int32_t k = 0; k < r.active_producers.count; k++)
		kp_describe_producers_response_producer_state_decode(&sit, 0,
								     &a->state[a->n][k]);
	a->n++;
}

static struct dp_answer
dp_run(const struct dp_topic *t, int n)
{
	struct kp_request_header hdr = { KP_API_DESCRIBE_PRODUCERS, 0, 9, kp_str_c("t") };
	struct dp_answer a = { 0 };
	struct kp_describe_producers_response resp;
	struct kp_done done = { 0 };
	struct kp_cursor c, it;
	struct kp_out out;
	struct kp_writer w;
	struct kp_buf b;

	kp_writer_init(&w, 256);
	kp_request_header_encode(&w, 2, &hdr);
	dp_request(&w, t, n);
	a.verdict = h_dispatch(&w, 4, &out);
	b = out.resp;
	if (a.verdict != KP_VERDICT_REPLY) {
		cr_assert_eq(a.verdict, KP_VERDICT_PENDING, "verdict %d", a.verdict);
		cr_assert_eq(h_poll(H_NOW, &done, 1), 1);
		cr_assert_eq(done.verdict, KP_VERDICT_REPLY);
		b = done.resp;
	}
	c = h_body(&b, 9);
	cr_assert_eq(kp_read_uvarint(&c), 0, "response header v1: no tagged fields");
	cr_assert_eq(kp_describe_producers_response_decode(&c, 0, &resp), 0);
	it = kp_array_cursor(&resp.topics);
	for (int32_t i = 0; i < resp.topics.count; i++) {
		struct kp_describe_producers_response_topic_response tr;
		struct kp_cursor pit;

		kp_describe_producers_response_topic_response_decode(&it, 0, &tr);
		snprintf(a.topic_name[a.topics], 16, "%.*s", (int)tr.name.len, tr.name.ptr);
		a.topic_parts[a.topics++] = tr.partitions.count;
		pit = kp_array_cursor(&tr.partitions);
		for (int32_t j = 0; j < tr.partitions.count; j++)
			dp_part(&a, &pit);
	}
	cr_assert_eq(c.err, 0);
	cr_assert_eq(c.pos, c.end, "the whole body read");
	free(b.data);
	return a;
}

Test(describe_producers, lists_and_errors_in_request_order)
{
	static const struct dp_topic t[] = {
		{ "alpha", { 2, 0, 5 }, 3 }, { "nope", { 0 }, 1 }, { "a b", { 0 }, 1 },
		{ "alpha", { 2 }, 1 }, { "beta", { 0 }, 0 },
	};
	struct dp_answer a = dp_run(t, 5);

	cr_assert_eq(a.verdict, KP_VERDICT_PENDING);
	cr_assert_eq(a.topics, 5, "every topic entry answered as listed");
	cr_assert_str_eq(a.topic_name[3], "alpha");
	cr_assert_eq(a.topic_parts[4], 0);
	cr_assert_eq(a.n, 6);
	cr_assert(a.partition[0] == 2 && a.error[0] == 0 && a.producers[0] == 2);
	for (int k = 0; k < 2; k++) {
		const struct kp_describe_producers_response_producer_state *s = &a.state[0][k];

		cr_assert_eq(s->producer_id, 100 + k);
		cr_assert_eq(s->producer_epoch, k);
		cr_assert_eq(s->last_sequence, 10 * k);
		cr_assert_eq(s->last_timestamp, 1000 + k);
		cr_assert_eq(s->coordinator_epoch, -1);
		cr_assert_eq(s->current_txn_start_offset, -1);
	}
	cr_assert(a.partition[1] == 0 && a.error[1] == 0 && a.producers[1] == 0);
	cr_assert_str_eq(a.message[1], "(null)");
	cr_assert(a.partition[2] == 5 && a.error[2] == KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	cr_assert_str_eq(a.message[2], "(null)", "a partition's error has no message");
	cr_assert_eq(a.error[3], KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	cr_assert_str_eq(a.message[3], "This server does not host this topic-partition.");
	cr_assert_eq(a.error[4], KP_ERR_INVALID_TOPIC_EXCEPTION);
	cr_assert_str_eq(a.message[4], "Topic name is invalid: 'a b' contains one or more "
			 "characters other than ASCII alphanumerics, '.', '_' and '-'");
	cr_assert(a.partition[5] == 2 && a.producers[5] == 2, "asked again, answered again");
	cr_assert_eq(fake_st_count(ST_REQ_PRODUCERS), 3);
}

Test(describe_producers, storage_error_lands_in_its_partition)
{
	static const struct dp_topic t[] = { { "alpha", { 0, 1, 2 }, 3 } };
	struct dp_answer a;

	fake_st.error_p1 = KP_ERR_NOT_LEADER_OR_FOLLOWER;
	a = dp_run(t, 1);
	cr_assert_eq(a.n, 3);
	cr_assert(a.error[1] == KP_ERR_NOT_LEADER_OR_FOLLOWER && a.producers[1] == 0);
	cr_assert_str_eq(a.message[1], "(null)");
	cr_assert(a.error[2] == 0 && a.producers[2] == 2);
}

Test(describe_producers, nothing_to_ask_answers_at_dispatch)
{
	static const struct dp_topic t[] = { { "nope", { 0, 1 }, 2 }, { "beta", { 3 }, 1 } };
	struct dp_answer a = dp_run(t, 2);

	cr_assert_eq(a.verdict, KP_VERDICT_REPLY);
	cr_assert_eq(a.n, 3);
	cr_assert_eq(a.error[2], KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	cr_assert_eq(fake_st.log_count, 0);
}

/* The connection closes while storage works: the answer is dropped, the
 * record (and the lists storage made, freed with it) goes back. */
Test(describe_producers, cancelled_request_frees_the_lists)
{
	static const struct dp_topic t[] = { { "alpha", { 2, 2, 0 }, 3 } };
	struct kp_request_header hdr = { KP_API_DESCRIBE_PRODUCERS, 0, 9, kp_str_c("t") };
	struct kp_done done[2];
	struct kp_out out;
	struct kp_writer w;

	fake_st.hold = true;
	kp_writer_init(&w, 256);
	kp_request_header_encode(&w, 2, &hdr);
	dp_request(&w, t, 1);
	cr_assert_eq(h_dispatch(&w, 4, &out), KP_VERDICT_PENDING);
	cr_assert_not(kp_core_cancel(h_kc, 4, &done[0]), "storage still has its parts");
	fake_st_answer_held();
	cr_assert_eq(h_poll(H_NOW, done, 2), 1);
	cr_assert_eq(done[0].verdict, KP_VERDICT_CLOSE);
	cr_assert_null(done[0].resp.data);
}
