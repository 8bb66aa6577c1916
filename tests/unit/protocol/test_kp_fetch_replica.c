/* SPDX-License-Identifier: Apache-2.0 */
/* Tests a follower's Fetch (replica_id >= 0, cluster mode) through the
 * protocol core against the fake storage: its READs carry the replica id
 * (storage then reads to the log end and records the follower's
 * position), a consumer's carry -1; its long poll waits on a WATCH of its
 * own with the replica id (the log end), apart from consumers' watches of
 * the same partition; with an authorizer it needs CLUSTER_ACTION on the
 * cluster, not READ on the topic. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "protocol/gen/kp_api.h"
#include "protocol/kp_acl.h"
#include "tests/unit/protocol/core_harness.h"

TestSuite(kp_fetch_replica, .init = h_setup, .fini = h_teardown);

static const char *const alpha[] = { "alpha" };
static const int32_t p0[] = { 0 };

static enum kp_verdict
fetch(uint32_t slot, int32_t replica_id, int32_t max_wait_ms)
{
	struct kp_writer w = h_frame_begin(KP_API_FETCH, 11, (int32_t)slot);
	struct kp_out out;

	h_fetch_replica_id = replica_id;
	h_fetch(&w, max_wait_ms, 1, 0, 0, alpha, p0, 1);
	return h_dispatch(&w, slot, &out);
}

static const struct st_req *
last_of(uint8_t type)
{
	for (uint32_t i = fake_st.log_count; i-- > 0;)
		if (fake_st.log[i].type == type)
			return &fake_st.log[i];
	cr_assert_fail("no request of type %u", type);
	return NULL;
}

static void
answer(uint32_t slot)
{
	struct kp_done done;

	cr_assert_eq(h_poll(H_NOW, &done, 1), 1);
	cr_assert_eq(done.tag, 100 + slot);
	cr_assert_eq(done.verdict, KP_VERDICT_REPLY);
	h_done_free(&done);
	kp_core_flush(h_kc);
}

Test(kp_fetch_replica, reads_carry_the_replica_id)
{
	fake_st.read_len = 50;
	cr_assert_eq(fetch(0, 2, 0), KP_VERDICT_PENDING);
	cr_assert_eq(last_of(ST_REQ_READ)->read.replica_id, 2);
	answer(0);
	cr_assert_eq(fetch(1, -1, 0), KP_VERDICT_PENDING);
	cr_assert_eq(last_of(ST_REQ_READ)->read.replica_id, -1);
	answer(1);
	cr_assert_eq(fake_st.refs_held, 0);
}

Test(kp_fetch_replica, long_poll_watches_the_log_end_apart_from_consumers)
{
	struct kp_done done[4];
	unsigned n;

	cr_assert_eq(fetch(0, 3, 5000), KP_VERDICT_PENDING);
	cr_assert_eq(fetch(1, -1, 5000), KP_VERDICT_PENDING);
	cr_assert_eq(h_poll(H_NOW, done, 4), 0, "both wait");
	cr_assert_eq(fake_st_count(ST_REQ_WATCH), 2, "one watch each: log end, HW");
	cr_assert_eq(fake_st.log[fake_st.log_count - 2].type, ST_REQ_WATCH);
	cr_assert_eq(fake_st.log[fake_st.log_count - 2].watch.replica_id, 3);
	cr_assert_eq(fake_st.log[fake_st.log_count - 2].watch.offset, 3, "its fetch offset");
	cr_assert_eq(last_of(ST_REQ_WATCH)->watch.replica_id, -1);
	fake_st.read_len = 40;
	cr_assert_eq(fake_st_fire_watches(fake_st.log_end + 1), 2);
	n = h_poll(H_NOW, done, 4);
	cr_assert_eq(n, 2);
	for (unsigned i = 0; i < n; i++) {
		cr_assert_eq(done[i].verdict, KP_VERDICT_REPLY);
		cr_assert_eq(done[i].piece_count, 1);
		h_done_free(&done[i]);
	}
	kp_core_flush(h_kc);
	cr_assert_eq(fake_st.refs_held, 0);
}

Test(kp_fetch_replica, needs_cluster_action_with_an_authorizer)
{
	struct kp_acl_index *ix = kp_acl_index_build(NULL, 0, NULL, 0, false);
	struct kp_done done;

	cr_assert_not_null(ix);
	h_md.acl = ix;
	cr_assert_eq(fetch(0, 2, 0), KP_VERDICT_REPLY, "every partition refused at once");
	cr_assert_eq(fake_st_count(ST_REQ_READ), 0);
	cr_assert_eq(h_poll(H_NOW, &done, 1), 0);
	h_md.acl = NULL;
	kp_acl_index_unref(ix);
}
