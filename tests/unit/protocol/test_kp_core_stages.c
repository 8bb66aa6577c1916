/* SPDX-License-Identifier: Apache-2.0 */
/* Tests the produce stage timing of the protocol core (kp_core.c,
 * kp_pending.c, handlers/produce.c) over the storage double, which answers
 * a timed append as done 1 ms after its validation: a Produce dispatched
 * with a frame time carries its validation time to storage, and when it
 * completes records receive and ack once per partition append storage
 * timed (not the failed one) and leaves send and total to the dataplane
 * through kp_done; untimed requests and acks=0 record nothing. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/clock.h"
#include "common/stage.h"
#include "protocol/gen/kp_api.h"
#include "protocol/kp_core_priv.h"
#include "tests/unit/protocol/core_harness.h"

TestSuite(kp_core_stages, .init = h_setup, .fini = h_teardown);

static const char *const alpha[] = { "alpha", "alpha", "alpha" };
static const int32_t p012[] = { 0, 1, 2 };
static struct stage_hists stages;

static enum kp_verdict
produce(uint32_t slot, int16_t acks, uint64_t t0_ns)
{
	struct kp_writer w = h_frame_begin(KP_API_PRODUCE, 8, (int32_t)slot);
	struct kp_env env = {
		.md = &h_md, .request_bytes_max = 1 << 20, .kc = h_kc, .tag = 100 + slot,
		.frame_tag = 200 + slot, .slot = slot, .conn = slot, .t0_ns = t0_ns,
		.stages = &stages,
	};
	struct kp_out out;
	enum kp_verdict v;

	h_produce(&w, acks, alpha, p012, 3);
	memset(&out, 0, sizeof(out));
	v = kp_dispatch(&env, w.buf, (uint32_t)w.len, &out);
	kp_writer_free(&w);
	return v;
}

static unsigned
poll_at(uint64_t now, struct kp_done *done, unsigned max)
{
	struct kp_env env = { .md = &h_md, .kc = h_kc, .stages = &stages };

	return kp_core_poll(h_kc, &env, now, done, max);
}

static uint64_t
count(enum stage_acks a, enum stage s)
{
	uint64_t n = 0;

	for (int i = 0; i <= HIST_BOUNDS; i++)
		n += stages.h[a][s].count[i];
	return n;
}

Test(kp_core_stages, produce_records_receive_and_ack_per_append)
{
	uint64_t t0 = clock_mono_ns(), now;
	struct kp_done done[4];

	memset(&stages, 0, sizeof(stages));
	fake_st.error_p1 = KP_ERR_NOT_LEADER_OR_FOLLOWER;      /* partition 1 fails */
	cr_assert_eq(produce(0, -1, t0), KP_VERDICT_PENDING);
	cr_assert_eq(fake_st_count(ST_REQ_APPEND), 3);
	for (uint32_t i = 0; i < 3; i++) {
		cr_assert_geq(fake_st.log[i].append.t_valid_ns, t0);
		cr_assert_eq(fake_st.log[i].append.t_valid_ns, fake_st.log[0].append.t_valid_ns,
			     "one validation time per request");
	}
	now = fake_st.log[0].append.t_valid_ns + 3000000;      /* 2 ms after done */
	cr_assert_eq(poll_at(now, done, 4), 1);
	cr_assert_eq(done[0].verdict, KP_VERDICT_REPLY);
	cr_assert_eq(done[0].stage_count, 2);
	cr_assert_eq(done[0].stage_acks, -1);
	cr_assert_eq(done[0].stage_done_ns, now);
	cr_assert_eq(count(STAGE_ACKS_ALL, STAGE_RECEIVE), 2);
	cr_assert_eq(count(STAGE_ACKS_ALL, STAGE_ACK), 2);
	cr_assert_eq(stages.h[STAGE_ACKS_ALL][STAGE_ACK].sum_ns, 2 * 2000000);
	cr_assert_eq(stages.h[STAGE_ACKS_ALL][STAGE_RECEIVE].sum_ns,
		     2 * (fake_st.log[0].append.t_valid_ns - t0));
	cr_assert_eq(count(STAGE_ACKS_ALL, STAGE_SEND), 0, "the dataplane's");
	cr_assert_eq(count(STAGE_ACKS_ALL, STAGE_WRITE), 0, "storage's");
	h_done_free(&done[0]);
}

Test(kp_core_stages, untimed_and_acks0_record_nothing)
{
	struct kp_done done[4];

	memset(&stages, 0, sizeof(stages));
	cr_assert_eq(produce(0, 1, 0), KP_VERDICT_PENDING);
	cr_assert_eq(fake_st.log[0].append.t_valid_ns, 0);
	cr_assert_eq(produce(1, 0, clock_mono_ns()), KP_VERDICT_PENDING);
	cr_assert_eq(poll_at(clock_mono_ns(), done, 4), 2);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(done[i].stage_count, 0);
		h_done_free(&done[i]);
	}
	for (int a = 0; a < STAGE_ACKS_COUNT; a++)
		for (int s = 0; s < STAGE_COUNT; s++)
			cr_assert_eq(count((enum stage_acks)a, (enum stage)s), 0);
}
