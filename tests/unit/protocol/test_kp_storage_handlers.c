/* SPDX-License-Identifier: Apache-2.0 */
/* Tests the four storage-backed handlers (protocol/handlers/produce.c,
 * fetch.c, list_offsets.c, offset_for_leader_epoch.c) against the fake
 * storage: the error code of every partition, the response's topic entries
 * and their order, the answers given at dispatch without storage, and the
 * values storage answered landing in the right partition. */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/gen/kp_api.h"
#include "protocol/gen/kp_msg_fetch.h"
#include "protocol/gen/kp_msg_list_offsets.h"
#include "protocol/gen/kp_msg_offset_for_leader_epoch.h"
#include "protocol/gen/kp_msg_produce.h"
#include "protocol/kp_core_int.h"
#include "tests/unit/protocol/core_harness.h"

TestSuite(handlers, .init = h_setup, .fini = h_teardown);

/* A response's partitions flattened: topic entry index, partition, error,
 * and one value (offset, record bytes) per partition. */
struct flat {
	int n;
	int topics;
	char topic[16][16];
	int entry[16];
	int32_t partition[16];
	int16_t error[16];
	int64_t value[16];
	_Alignas(max_align_t) uint8_t resp[512];        /* the decoded top level */
};

/* Where a response's partition entry keeps what the tests compare. */
struct flat_fields {
	size_t partition;       /* int32_t */
	size_t error;           /* int16_t */
	size_t value;           /* int64_t, or int32_t when value32 */
	bool value32;
};

static void
flat_get(const uint8_t *entry, const struct flat_fields *at, struct flat *f)
{
	int32_t v32;

	memcpy(&f->partition[f->n], entry + at->partition, sizeof(int32_t));
	memcpy(&f->error[f->n], entry + at->error, sizeof(int16_t));
	if (at->value32) {
		memcpy(&v32, entry + at->value, sizeof(v32));
		f->value[f->n] = v32;
	} else {
		memcpy(&f->value[f->n], entry + at->value, sizeof(int64_t));
	}
}

/* Dispatch the request in w into slot and flatten its answer (given at
 * dispatch or after one poll) with the response's shape. */
static struct flat
flat_run(struct kp_writer *w, uint32_t slot, int16_t version, const struct kp_shape *shape,
	 const struct flat_fields *at)
{
	struct flat f = { 0 };
	struct kp_done done = { 0 };
	_Alignas(max_align_t) uint8_t entry[512];
	struct kp_array topics;
	struct kp_out out;
	struct kp_buf b;
	struct kp_cursor c, it;
	enum kp_verdict v = h_dispatch(w, slot, &out);

	b = out.resp;
	if (v != KP_VERDICT_REPLY) {
		cr_assert_eq(v, KP_VERDICT_PENDING);
		cr_assert_eq(h_poll(H_NOW, &done, 1), 1);
		cr_assert_eq(done.verdict, KP_VERDICT_REPLY);
		cr_assert_eq(done.tag, 100 + slot);
		b = done.resp;
	}
	c = h_body(&b, (int32_t)slot);
	cr_assert_eq(shape->request(&c, version, f.resp, &topics), 0);
	it = kp_array_cursor(&topics);
	for (int32_t i = 0; i < topics.count; i++) {
		struct kp_array parts;
		struct kp_str name = shape->topic(&it, version, &parts);
		struct kp_cursor pit = kp_array_cursor(&parts);

		f.topics++;
		for (int32_t j = 0; j < parts.count; j++, f.n++) {
			cr_assert_lt(f.n, 16);
			shape->part(&pit, version, entry);
			flat_get(entry, at, &f);
			snprintf(f.topic[f.n], sizeof(f.topic[f.n]), "%.*s", (int)name.len,
				 name.ptr);
			f.entry[f.n] = f.topics - 1;
		}
	}
	free(b.data);
	return f;
}

KP_SHAPE_DEFINE(produce_resp, kp_produce_response, responses,
		kp_produce_response_topic_produce_response, name, partition_responses,
		kp_produce_response_partition_produce_response);

static const struct flat_fields produce_fields = {
	offsetof(struct kp_produce_response_partition_produce_response, index),
	offsetof(struct kp_produce_response_partition_produce_response, error_code),
	offsetof(struct kp_produce_response_partition_produce_response, base_offset),
};

static struct flat
produce_flat(int16_t acks, const char *const *topics, const int32_t *parts, int n)
{
	struct kp_writer w = h_frame_begin(KP_API_PRODUCE, 8, 0);

	h_produce(&w, acks, topics, parts, n);
	return flat_run(&w, 0, 8, &produce_resp, &produce_fields);
}

Test(handlers, produce_errors_per_partition_in_request_order)
{
	static const char *const topics[] = { "alpha", "alpha", "alpha", "beta", "gamma" };
	struct flat f = produce_flat(1, topics, (const int32_t[]){ 0, 1, 9, 0, 0 }, 5);

	cr_assert_eq(f.n, 5);
	cr_assert_eq(f.topics, 3);
	cr_assert_str_eq(f.topic[3], "beta");
	cr_assert_eq(f.error[0], KP_ERR_NONE);
	cr_assert_eq(f.value[0], 10, "the base offset storage gave");
	cr_assert_eq(f.error[1], KP_ERR_NOT_LEADER_OR_FOLLOWER);
	cr_assert_eq(f.value[1], -1, "-1 offsets on error, as Kafka");
	cr_assert_eq(f.error[2], KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	cr_assert_eq(f.error[3], KP_ERR_NONE);
	cr_assert_eq(f.error[4], KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	cr_assert_eq(fake_st_count(ST_REQ_APPEND), 3, "unknown partitions never reach storage");
}

Test(handlers, produce_bad_acks_answers_at_dispatch)
{
	static const char *const topics[] = { "alpha" };
	struct flat f = produce_flat(2, topics, (const int32_t[]){ 0 }, 1);

	cr_assert_eq(f.n, 1);
	cr_assert_eq(f.error[0], KP_ERR_INVALID_REQUIRED_ACKS);
	cr_assert_eq(fake_st.log_count, 0);
}

KP_SHAPE_DEFINE(fetch_resp, kp_fetch_response, responses,
		kp_fetch_response_fetchable_topic_response, topic, partitions,
		kp_fetch_response_partition_data);

static const struct flat_fields fetch_fields = {
	offsetof(struct kp_fetch_response_partition_data, partition_index),
	offsetof(struct kp_fetch_response_partition_data, error_code),
	offsetof(struct kp_fetch_response_partition_data, records.len),
	true,
};

static struct flat
fetch_flat(int8_t isolation, int32_t session_id, const char *const *topics,
	   const int32_t *parts, int n, int16_t *top_error)
{
	struct kp_writer w = h_frame_begin(KP_API_FETCH, 11, 1);
	struct flat f;
	const struct kp_fetch_response *resp;

	h_fetch(&w, 0, 0, isolation, session_id, topics, parts, n);
	f = flat_run(&w, 1, 11, &fetch_resp, &fetch_fields);
	resp = (const struct kp_fetch_response *)f.resp;
	cr_assert_eq(resp->session_id, 0);
	*top_error = resp->error_code;
	return f;
}

Test(handlers, fetch_merges_repeats_and_puts_unknown_last)
{
	static const char *const topics[] = { "gamma", "alpha", "alpha", "alpha", "beta" };
	int16_t top;
	struct flat f = fetch_flat(0, 0, topics, (const int32_t[]){ 0, 9, 1, 1, 0 }, 5, &top);

	cr_assert_eq(top, KP_ERR_NONE);
	cr_assert_eq(f.n, 4, "alpha-1 listed twice is one partition");
	cr_assert_str_eq(f.topic[0], "alpha");
	cr_assert_eq(f.partition[0], 1);
	cr_assert_eq(f.error[0], KP_ERR_NOT_LEADER_OR_FOLLOWER);
	cr_assert_str_eq(f.topic[1], "beta");
	cr_assert_eq(f.error[1], KP_ERR_NONE);
	cr_assert_eq(f.value[1], 0, "no data: empty records");
	cr_assert_str_eq(f.topic[2], "gamma");
	cr_assert_eq(f.error[2], KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	cr_assert_str_eq(f.topic[3], "alpha");
	cr_assert_eq(f.partition[3], 9);
	cr_assert_eq(f.topics, 4, "a topic entry per run of one name");
}

Test(handlers, fetch_unknown_session_and_bad_isolation_answer_at_dispatch)
{
	static const char *const topics[] = { "alpha", "alpha" };
	int16_t top;
	struct flat f = fetch_flat(0, 42, topics, (const int32_t[]){ 0, 0 }, 2, &top);

	cr_assert_eq(top, KP_ERR_FETCH_SESSION_ID_NOT_FOUND);
	cr_assert_eq(f.n, 0);
	f = fetch_flat(7, 0, topics, (const int32_t[]){ 0, 0 }, 2, &top);
	cr_assert_eq(top, KP_ERR_UNKNOWN_SERVER_ERROR);
	cr_assert_eq(f.n, 2, "every listing answered as listed");
	cr_assert_eq(f.error[1], KP_ERR_UNKNOWN_SERVER_ERROR);
	cr_assert_eq(f.value[1], -1, "null records");
	cr_assert_eq(fake_st.log_count, 0);
}

KP_SHAPE_DEFINE(list_offsets_resp, kp_list_offsets_response, topics,
		kp_list_offsets_response_list_offsets_topic_response, name, partitions,
		kp_list_offsets_response_list_offsets_partition_response);

static const struct flat_fields list_offsets_fields = {
	offsetof(struct kp_list_offsets_response_list_offsets_partition_response, partition_index),
	offsetof(struct kp_list_offsets_response_list_offsets_partition_response, error_code),
	offsetof(struct kp_list_offsets_response_list_offsets_partition_response, offset),
};

static struct flat
list_offsets_flat(const char *const *topics, const int32_t *parts, int n)
{
	struct kp_writer w = h_frame_begin(KP_API_LIST_OFFSETS, 5, 2);

	h_list_offsets(&w, 5, topics, parts, n);
	return flat_run(&w, 2, 5, &list_offsets_resp, &list_offsets_fields);
}

Test(handlers, list_offsets_mirrors_the_request_and_refuses_duplicates)
{
	static const char *const topics[] = { "alpha", "alpha", "beta", "!alpha", "gamma" };
	struct flat f = list_offsets_flat(topics, (const int32_t[]){ 0, 1, 0, 0, 0 }, 5);

	cr_assert_eq(f.topics, 4, "a topic entry per request entry, repeats included");
	cr_assert_eq(f.n, 5);
	cr_assert_eq(f.entry[3], 2);
	cr_assert_str_eq(f.topic[3], "alpha");
	cr_assert_eq(f.error[0], KP_ERR_INVALID_REQUEST, "alpha-0 listed twice");
	cr_assert_eq(f.error[3], KP_ERR_INVALID_REQUEST);
	cr_assert_eq(f.error[1], KP_ERR_NOT_LEADER_OR_FOLLOWER);
	cr_assert_eq(f.error[2], KP_ERR_NONE);
	cr_assert_eq(f.value[2], 10, "the latest offset storage gave");
	cr_assert_eq(f.error[4], KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	cr_assert_eq(f.value[4], -1);
	cr_assert_eq(fake_st_count(ST_REQ_OFFSET), 2, "duplicates never reach storage");
}

KP_SHAPE_DEFINE(epoch_resp, kp_offset_for_leader_epoch_response, topics,
		kp_offset_for_leader_epoch_response_offset_for_leader_topic_result, topic,
		partitions, kp_offset_for_leader_epoch_response_epoch_end_offset);

static const struct flat_fields epoch_fields = {
	offsetof(struct kp_offset_for_leader_epoch_response_epoch_end_offset, partition),
	offsetof(struct kp_offset_for_leader_epoch_response_epoch_end_offset, error_code),
	offsetof(struct kp_offset_for_leader_epoch_response_epoch_end_offset, end_offset),
};

static struct flat
epoch_flat(int32_t current, const char *const *topics, const int32_t *parts, int n)
{
	struct kp_writer w = h_frame_begin(KP_API_OFFSET_FOR_LEADER_EPOCH, 3, 3);

	h_epoch(&w, current, topics, parts, n);
	return flat_run(&w, 3, 3, &epoch_resp, &epoch_fields);
}

Test(handlers, offset_for_leader_epoch_per_partition)
{
	static const char *const topics[] = { "alpha", "alpha", "gamma" };
	struct flat f = epoch_flat(-1, topics, (const int32_t[]){ 0, 1, 0 }, 3);

	cr_assert_eq(f.topics, 2);
	cr_assert_eq(f.n, 3);
	cr_assert_eq(f.error[0], KP_ERR_NONE);
	cr_assert_eq(f.value[0], 10, "the end offset storage gave");
	cr_assert_eq(f.error[1], KP_ERR_NOT_LEADER_OR_FOLLOWER);
	cr_assert_eq(f.value[1], -1);
	cr_assert_eq(f.error[2], KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
}

Test(handlers, offset_for_leader_epoch_undefined_asked_is_undefined)
{
	static const char *const topics[] = { "alpha" };
	struct flat f;

	h_epoch_asked = -1;
	f = epoch_flat(-1, topics, (const int32_t[]){ 0 }, 1);
	cr_assert_eq(f.error[0], KP_ERR_NONE);
	cr_assert_eq(f.value[0], -1, "Kafka's UNDEFINED_EPOCH_OFFSET");
	cr_assert_eq(fake_st.log_count, 0, "storage's -1 is the latest epoch: not asked");
}

Test(handlers, offset_for_leader_epoch_fences_by_current_epoch)
{
	static const char *const topics[] = { "alpha" };
	struct flat f = epoch_flat(5, topics, (const int32_t[]){ 0 }, 1);

	cr_assert_eq(f.error[0], KP_ERR_UNKNOWN_LEADER_EPOCH, "a newer epoch is unknown here");
	cr_assert_eq(fake_st.log_count, 0, "answered at dispatch");
}

Test(handlers, undecodable_requests_close_and_free_the_slot)
{
	struct kp_writer w = h_frame_begin(KP_API_LIST_OFFSETS, 5, 1);
	struct kp_out out;

	kp_write_i32(&w, -1);
	kp_write_i32(&w, 5);    /* a topic count with no topics behind it */
	cr_assert_eq(h_dispatch(&w, 2, &out), KP_VERDICT_CLOSE);
	/* The slot is free: the next request in it works. */
	{
		static const char *const topics[] = { "beta" };
		struct flat f = list_offsets_flat(topics, (const int32_t[]){ 0 }, 1);

		cr_assert_eq(f.error[0], KP_ERR_NONE);
	}
}
