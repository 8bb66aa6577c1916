/* SPDX-License-Identifier: Apache-2.0 */
/* Tests a read_committed Fetch through the protocol core against the fake
 * storage: the READ asks for isolation 1, the aborted transactions its
 * completion lists are answered in the partition's aborted_transactions
 * (read_uncommitted: null), and a long poll's second read replaces the
 * first read's list (the newer list is answered). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/gen/kp_api.h"
#include "protocol/gen/kp_msg_fetch.h"
#include "protocol/kp_wire.h"
#include "tests/unit/protocol/core_harness.h"

TestSuite(kp_fetch_committed, .init = h_setup, .fini = h_teardown);

static const char *const alpha[] = { "alpha" };
static const int32_t p0[] = { 0 };

struct got {
	int64_t lso;
	int32_t aborted;        /* -1: null */
	struct kp_fetch_response_aborted_transaction a[8];
};

/* The response with each piece's bytes in place, decoded (v11). */
static void
decode(const struct kp_done *done, struct got *g)
{
	size_t total = done->resp.len, from = 0, to = 0;
	struct kp_fetch_response_fetchable_topic_response tr;
	struct kp_fetch_response_partition_data pd;
	struct kp_fetch_response resp;
	struct kp_cursor c, it;
	uint8_t *buf;

	for (uint32_t i = 0; i < done->piece_count; i++)
		total += done->pieces[i].len;
	buf = malloc(total);
	cr_assert_not_null(buf);
	for (uint32_t i = 0; i < done->piece_count; i++) {
		memcpy(buf + to, done->resp.data + from, done->pieces[i].at - from);
		to += done->pieces[i].at - from;
		from = done->pieces[i].at;
		memset(buf + to, 0, done->pieces[i].len);
		to += done->pieces[i].len;
	}
	memcpy(buf + to, done->resp.data + from, done->resp.len - from);
	c = kp_cursor_make(buf, total);
	kp_read_i32(&c);
	cr_assert_eq(kp_read_i32(&c), 7);
	cr_assert_eq(kp_fetch_response_decode(&c, 11, &resp), 0);
	it = kp_array_cursor(&resp.responses);
	cr_assert_eq(kp_fetch_response_fetchable_topic_response_decode(&it, 11, &tr), 0);
	it = kp_array_cursor(&tr.partitions);
	cr_assert_eq(kp_fetch_response_partition_data_decode(&it, 11, &pd), 0);
	g->lso = pd.last_stable_offset;
	g->aborted = pd.aborted_transactions.count;
	it = kp_array_cursor(&pd.aborted_transactions);
	for (int32_t i = 0; i < pd.aborted_transactions.count && i < 8; i++)
		cr_assert_eq(kp_fetch_response_aborted_transaction_decode(&it, 11, &g->a[i]), 0);
	free(buf);
}

static void
run(int8_t isolation, int32_t max_wait_ms, int32_t min_bytes, struct got *g, bool fire)
{
	struct kp_writer w = h_frame_begin(KP_API_FETCH, 11, 7);
	struct kp_done done;
	struct kp_out out;

	h_fetch(&w, max_wait_ms, min_bytes, isolation, 0, alpha, p0, 1);
	cr_assert_eq(h_dispatch(&w, 0, &out), KP_VERDICT_PENDING);
	if (fire) {
		cr_assert_eq(h_poll(H_NOW, &done, 1), 0, "waits for more bytes");
		fake_st.read_len = 100;
		fake_st.read_aborted = 3;
		cr_assert_eq(fake_st_fire_watches(fake_st.log_end + 1), 1);
	}
	cr_assert_eq(h_poll(H_NOW, &done, 1), 1);
	cr_assert_eq(done.verdict, KP_VERDICT_REPLY);
	decode(&done, g);
	h_done_free(&done);
	kp_core_flush(h_kc);
	cr_assert_eq(fake_st.refs_held, 0);
}

Test(kp_fetch_committed, aborted_transactions_answered)
{
	struct got g;

	fake_st.read_len = 50;
	fake_st.read_aborted = 2;
	run(1, 0, 0, &g, false);
	cr_assert_eq(fake_st.log[0].read.isolation, 1);
	cr_assert_eq(g.aborted, 2);
	cr_assert(g.a[0].producer_id == 1000 && g.a[0].first_offset == 0);
	cr_assert(g.a[1].producer_id == 1001 && g.a[1].first_offset == 1);
	run(0, 0, 0, &g, false);
	cr_assert_eq(g.aborted, -1, "read_uncommitted: null");
}

Test(kp_fetch_committed, no_aborted_is_an_empty_list)
{
	struct got g;

	fake_st.read_len = 50;
	run(1, 0, 0, &g, false);
	cr_assert_eq(g.aborted, 0);
}

Test(kp_fetch_committed, long_poll_reread_replaces_the_list)
{
	struct got g;

	fake_st.read_len = 50;
	fake_st.read_aborted = 1;
	run(1, 5000, 80, &g, true);
	cr_assert_eq(g.aborted, 3, "the second read's list");
	cr_assert_eq(g.a[2].producer_id, 1002);
}
