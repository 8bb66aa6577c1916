/* SPDX-License-Identifier: Apache-2.0 */
/* Tests the protocol core (kp_core.c, kp_pending.c, kp_sub.c, kp_heap.c)
 * through whole requests against the fake storage: submission in request
 * order when the ring is full, completions routed by token, acks=0 sending
 * nothing, long polls woken by data or by their deadline, cancellation on
 * close while storage works or while waiting, and region references always
 * coming back. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "protocol/gen/kp_api.h"
#include "protocol/gen/kp_msg_fetch.h"
#include "tests/unit/protocol/core_harness.h"

TestSuite(kp_core, .init = h_setup, .fini = h_teardown);

static const char *const alpha[] = { "alpha", "alpha", "alpha" };
static const int32_t p0[] = { 0 }, p01[] = { 0, 1 }, p012[] = { 0, 1, 2 };

static enum kp_verdict
produce(uint32_t slot, int16_t acks, const int32_t *parts, int n)
{
	struct kp_writer w = h_frame_begin(KP_API_PRODUCE, 8, (int32_t)slot);
	struct kp_out out;

	h_produce(&w, acks, alpha, parts, n);
	return h_dispatch(&w, slot, &out);
}

static enum kp_verdict
fetch(uint32_t slot, int32_t max_wait_ms, int32_t min_bytes)
{
	struct kp_writer w = h_frame_begin(KP_API_FETCH, 11, (int32_t)slot);
	struct kp_out out;
	enum kp_verdict v;

	h_fetch(&w, max_wait_ms, min_bytes, 0, 0, alpha, p0, 1);
	v = h_dispatch(&w, slot, &out);
	cr_assert(v != KP_VERDICT_PENDING || out.held_bytes > 0,
		  "a waiting request says what it holds");
	return v;
}

Test(kp_core, full_ring_submits_in_request_order_later)
{
	struct kp_done done[8];
	unsigned n;

	fake_st.room = 1;       /* the first part fits, then the ring is full */
	cr_assert_eq(produce(0, 1, p012, 3), KP_VERDICT_PENDING);
	cr_assert_eq(produce(1, 1, p0, 1), KP_VERDICT_PENDING);
	cr_assert_eq(fake_st_count(ST_REQ_APPEND), 1);
	/* Nothing is dropped or reordered while full; room comes back. */
	n = h_poll(H_NOW, done, 8);
	for (unsigned i = 0; i < n; i++)
		cr_assert_neq(done[i].tag, 100, "slot 0 still has parts to submit");
	fake_st.room = UINT32_MAX;
	kp_core_flush(h_kc);
	cr_assert_eq(fake_st_count(ST_REQ_APPEND), 4);
	for (uint32_t i = 0; i < 4; i++) {
		cr_assert_eq(fake_st.log[i].partition, i < 3 ? (int32_t)i : 0);
		/* Tokens name the slot: slot 0's three parts, then slot 1. */
		cr_assert_eq((fake_st.log[i].token >> 24) & 0xffffff, i < 3 ? 0u : 1u);
	}
	n = h_poll(H_NOW, done, 8);
	cr_assert_eq(n, 2);
	cr_assert_eq(done[0].tag, 100);
	cr_assert_eq(done[1].tag, 101);
	for (unsigned i = 0; i < n; i++) {
		cr_assert_eq(done[i].verdict, KP_VERDICT_REPLY);
		h_done_free(&done[i]);
	}
}

Test(kp_core, acks0_waits_for_appends_then_sends_nothing)
{
	struct kp_done done[4];

	fake_st.hold = true;
	cr_assert_eq(produce(2, 0, p01, 2), KP_VERDICT_PENDING);
	cr_assert_eq(h_poll(H_NOW, done, 4), 0);
	fake_st_answer_held();
	cr_assert_eq(h_poll(H_NOW, done, 4), 1);
	cr_assert_eq(done[0].verdict, KP_VERDICT_NO_REPLY);
	cr_assert_null(done[0].resp.data);
	cr_assert_eq(done[0].tag, 102);
	/* Every partition failing before storage: no reply at dispatch. */
	cr_assert_eq(produce(3, 0, (const int32_t[]){ 9 }, 1), KP_VERDICT_NO_REPLY);
}

Test(kp_core, cancel_while_storage_works_drops_the_answer)
{
	struct kp_done done[4];

	fake_st.hold = true;
	cr_assert_eq(produce(4, 1, p0, 1), KP_VERDICT_PENDING);
	/* Storage still writes from the record's memory: not free yet. */
	cr_assert_not(kp_core_cancel(h_kc, 4, &done[0]));
	fake_st_answer_held();
	cr_assert_eq(h_poll(H_NOW, done, 4), 1);
	cr_assert_eq(done[0].verdict, KP_VERDICT_CLOSE);
	cr_assert_eq(done[0].tag, 104);
	cr_assert_eq(done[0].frame_tag, 204);
	cr_assert_null(done[0].resp.data);
	/* The slot is free again: a new request takes it. */
	fake_st.hold = false;
	cr_assert_eq(produce(4, 1, p0, 1), KP_VERDICT_PENDING);
	cr_assert_eq(h_poll(H_NOW, done, 4), 1);
	cr_assert_eq(done[0].verdict, KP_VERDICT_REPLY);
	h_done_free(&done[0]);
}

Test(kp_core, cancel_of_unsubmitted_parts_is_immediate)
{
	struct kp_done done;

	fake_st.room = 0;
	cr_assert_eq(produce(0, 1, p012, 3), KP_VERDICT_PENDING);
	cr_assert(kp_core_cancel(h_kc, 0, &done));
	cr_assert_eq(done.verdict, KP_VERDICT_CLOSE);
	cr_assert_eq(done.tag, 100);
	fake_st.room = UINT32_MAX;
	kp_core_flush(h_kc);
	cr_assert_eq(fake_st_count(ST_REQ_APPEND), 0, "nothing of a closed request is submitted");
}

Test(kp_core, long_poll_wakes_on_data_and_sends_the_region)
{
	struct kp_done done[4];

	cr_assert_eq(fetch(5, 5000, 1), KP_VERDICT_PENDING);
	cr_assert_eq(h_poll(H_NOW, done, 4), 0, "below min_bytes: it waits");
	cr_assert_eq(fake_st_count(ST_REQ_WATCH), 1);
	cr_assert_lt(kp_core_deadline(h_kc), UINT64_MAX);
	fake_st.read_len = 70;
	cr_assert_eq(fake_st_fire_watches(fake_st.log_end + 1), 1);
	/* The wake reads again; this storage answers at once. */
	cr_assert_eq(h_poll(H_NOW, done, 4), 1);
	cr_assert_eq(done[0].verdict, KP_VERDICT_REPLY);
	cr_assert_eq(done[0].piece_count, 1);
	cr_assert_eq(done[0].pieces[0].len, 70);
	cr_assert_eq(done[0].pieces[0].partition, 0);
	/* The size prefix counts the region the dataplane splices in. */
	cr_assert_eq(*(uint32_t *)done[0].resp.data, __builtin_bswap32(done[0].resp.len - 4 + 70));
	cr_assert_eq(kp_core_deadline(h_kc), UINT64_MAX);
	cr_assert_eq(fake_st.refs_held, 1);
	h_done_free(&done[0]);
	kp_core_flush(h_kc);
	cr_assert_eq(fake_st.refs_held, 0, "the sent region's reference came back");
}

Test(kp_core, long_poll_answers_empty_at_its_deadline)
{
	struct kp_done done[4];
	uint32_t reads;
	uint64_t deadline;

	cr_assert_eq(fetch(6, 100, 1), KP_VERDICT_PENDING);
	cr_assert_eq(h_poll(H_NOW, done, 4), 0);
	reads = fake_st_count(ST_REQ_READ);
	deadline = kp_core_deadline(h_kc);
	cr_assert_eq(h_poll(deadline - 1, done, 4), 0, "not before its deadline");
	cr_assert_eq(h_poll(deadline, done, 4), 0);
	cr_assert_eq(kp_core_deadline(h_kc), 0, "settled in the next turn");
	cr_assert_eq(h_poll(deadline, done, 4), 1);
	cr_assert_eq(fake_st_count(ST_REQ_READ), reads, "nothing new: storage is not asked again");
	cr_assert_eq(done[0].verdict, KP_VERDICT_REPLY);
	cr_assert_eq(done[0].piece_count, 0);
	h_done_free(&done[0]);
}

Test(kp_core, cancel_while_waiting_is_immediate)
{
	struct kp_done done[4];

	cr_assert_eq(fetch(7, 5000, 1), KP_VERDICT_PENDING);
	cr_assert_eq(h_poll(H_NOW, done, 4), 0);
	cr_assert(kp_core_cancel(h_kc, 7, &done[0]));
	cr_assert_eq(done[0].verdict, KP_VERDICT_CLOSE);
	cr_assert_eq(done[0].tag, 107);
	cr_assert_eq(kp_core_deadline(h_kc), UINT64_MAX, "off the deadline heap");
	cr_assert_not(kp_core_cancel(h_kc, 7, &done[0]), "a free slot has nothing to cancel");
	/* Its watch firing later finds no waiter. */
	fake_st_fire_watches(fake_st.log_end + 1);
	cr_assert_eq(h_poll(H_NOW, done, 4), 0);
}

Test(kp_core, one_watch_per_partition_however_many_wait)
{
	struct kp_done done[8];

	for (uint32_t s = 0; s < 4; s++)
		cr_assert_eq(fetch(s, 5000, 1), KP_VERDICT_PENDING);
	cr_assert_eq(h_poll(H_NOW, done, 8), 0);
	cr_assert_eq(fake_st_count(ST_REQ_WATCH), 1);
	fake_st.read_len = 10;
	fake_st_fire_watches(fake_st.log_end + 1);
	cr_assert_eq(h_poll(H_NOW, done, 8), 4, "one firing wakes every waiter");
	for (unsigned i = 0; i < 4; i++)
		h_done_free(&done[i]);
}

Test(kp_core, read_regions_released_when_cut_or_cancelled)
{
	struct kp_done done[4];

	fake_st.read_len = 50;
	fake_st.hold = true;
	cr_assert_eq(fetch(1, 0, 0), KP_VERDICT_PENDING);
	cr_assert_not(kp_core_cancel(h_kc, 1, &done[0]));
	fake_st_answer_held();
	cr_assert_eq(fake_st.refs_held, 1);
	cr_assert_eq(h_poll(H_NOW, done, 4), 1);
	cr_assert_eq(done[0].verdict, KP_VERDICT_CLOSE);
	kp_core_flush(h_kc);
	cr_assert_eq(fake_st.refs_held, 0, "a dropped answer gives its region back");
}
