/* SPDX-License-Identifier: Apache-2.0 */
/* Tests common/tag.h: every tag packs and unpacks its fields unchanged at
 * the bounds of its bit budget (common/limits.h), the fields do not bleed
 * into each other, and the truncated fields (reply generation and seq) are
 * rebuilt as their users expect. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "common/tag.h"

Test(tag, reply_round_trips_at_the_bounds)
{
	const uint32_t conns[] = { 0, 1, LIMITS_CONNECTIONS_MAX - 1,
				   (1u << LIMITS_REPLY_CONN_BITS) - 1 };
	const uint32_t gens[] = { 0, 1, (1u << LIMITS_REPLY_GEN_BITS) - 1, UINT32_MAX };

	for (size_t c = 0; c < sizeof(conns) / sizeof(conns[0]); c++) {
		for (size_t g = 0; g < sizeof(gens) / sizeof(gens[0]); g++) {
			uint64_t tag = tag_reply(gens[g], conns[c], 0xffff);

			cr_assert_eq(tag_reply_conn(tag), conns[c]);
			cr_assert_eq(tag_reply_gen(tag), tag_reply_gen_of(gens[g]));
			cr_assert_eq(tag_reply_seq(tag, 0xfff0), 0xffffu);
		}
	}
}

Test(tag, reply_seq_is_rebuilt_across_the_wrap)
{
	/* The oldest seq in flight is head; the request's seq is at most
	 * LIMITS_INFLIGHT_MAX - 1 past it, also across uint16 and uint32 wraps. */
	const uint32_t heads[] = { 0, 0xfff0, 0x1fff0, UINT32_MAX - 5 };

	for (size_t h = 0; h < sizeof(heads) / sizeof(heads[0]); h++) {
		for (uint32_t d = 0; d < LIMITS_INFLIGHT_MAX; d += 255) {
			uint32_t seq = heads[h] + d;

			cr_assert_eq(tag_reply_seq(tag_reply(7, 3, seq), heads[h]), seq);
		}
		cr_assert_eq(tag_reply_seq(tag_reply(7, 3, heads[h] + LIMITS_INFLIGHT_MAX - 1),
					   heads[h]), heads[h] + LIMITS_INFLIGHT_MAX - 1);
	}
}

Test(tag, kp_round_trips_at_the_bounds)
{
	const uint16_t gens[] = { 0, 1, UINT16_MAX };
	const uint32_t slots[] = { 0, 1, LIMITS_SLOTS_MAX - 1 };
	const uint32_t parts[] = { 0, 1, LIMITS_PARTS_MAX };

	for (size_t g = 0; g < 3; g++) {
		for (size_t s = 0; s < 3; s++) {
			for (size_t p = 0; p < 3; p++) {
				uint64_t t = tag_kp(gens[g], slots[s], parts[p]);

				cr_assert_eq(tag_kp_gen(t), gens[g]);
				cr_assert_eq(tag_kp_slot(t), slots[s]);
				cr_assert_eq(tag_kp_part(t), parts[p]);
			}
		}
	}
	cr_assert_eq(tag_kp(UINT16_MAX, LIMITS_SLOTS_MAX - 1, LIMITS_PARTS_MAX), UINT64_MAX);
}

Test(tag, sub_ud_and_sched_round_trip)
{
	const uint32_t v[] = { 0, 1, UINT32_MAX - 1, UINT32_MAX };

	for (size_t a = 0; a < 4; a++) {
		for (size_t b = 0; b < 4; b++) {
			cr_assert_eq(tag_sub_gen(tag_sub(v[a], v[b])), v[a]);
			cr_assert_eq(tag_sub_index(tag_sub(v[a], v[b])), v[b]);
			cr_assert_eq(tag_ud_op(tag_ud(v[a], v[b])), v[a]);
			cr_assert_eq(tag_ud_id(tag_ud(v[a], v[b])), v[b]);
			cr_assert_eq(tag_sched_core(tag_sched(v[a], v[b])), v[a]);
			cr_assert_eq(tag_sched_conn(tag_sched(v[a], v[b])), v[b]);
		}
	}
	/* Every core and conn id the config allows gets its own key. */
	cr_assert_neq(tag_sched(LIMITS_CORES_MAX - 1, 0), tag_sched(0, LIMITS_CONNECTIONS_MAX - 1));
}

Test(tag, frame_tells_buffers_from_heap_copies)
{
	static uint8_t heap_like[8];
	const uint16_t bids[] = { 0, 1, UINT16_MAX };

	for (size_t i = 0; i < 3; i++) {
		uint64_t t = tag_frame_buf(bids[i]);

		cr_assert(tag_frame_is_buf(t));
		cr_assert_eq(tag_frame_bid(t), bids[i]);
	}
	cr_assert_not(tag_frame_is_buf(tag_frame_heap(heap_like)));
	cr_assert_eq(tag_frame_ptr(tag_frame_heap(heap_like)), (void *)heap_like);
}
