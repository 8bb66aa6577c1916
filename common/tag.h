/* SPDX-License-Identifier: Apache-2.0 */
/* Pack and unpack the 64-bit tags that carry an identity across threads and
 * back: the dataplane's reply tag, frame tag and io_uring user_data, the
 * protocol core's storage tokens, control's scheduling key. Field widths
 * are the budgets of common/limits.h; a packer asserts each field fits. */
#ifndef COMMON_TAG_H
#define COMMON_TAG_H

#include <stdbool.h>
#include <stdint.h>

#include "common/assert.h"
#include "common/limits.h"

#define TAG_MASK(bits) ((bits) >= 64 ? UINT64_MAX : (1ull << (bits)) - 1)

/* Reply tag: the conn's generation is truncated (it only tells a closed
 * conn's late answer from the current one's), and so is seq. */
static inline uint64_t
tag_reply(uint32_t conn_gen, uint32_t conn_id, uint32_t seq)
{
	ASSERT_HOT(conn_id < (1ull << LIMITS_REPLY_CONN_BITS));
	return ((uint64_t)conn_gen & TAG_MASK(LIMITS_REPLY_GEN_BITS))
		       << (LIMITS_REPLY_CONN_BITS + LIMITS_REPLY_SEQ_BITS) |
	       (uint64_t)conn_id << LIMITS_REPLY_SEQ_BITS |
	       (seq & TAG_MASK(LIMITS_REPLY_SEQ_BITS));
}

/* The truncated generation, to compare with tag_reply_gen_of(conn->gen). */
static inline uint32_t
tag_reply_gen(uint64_t tag)
{
	return (uint32_t)(tag >> (LIMITS_REPLY_CONN_BITS + LIMITS_REPLY_SEQ_BITS));
}

static inline uint32_t
tag_reply_gen_of(uint32_t conn_gen)
{
	return conn_gen & (uint32_t)TAG_MASK(LIMITS_REPLY_GEN_BITS);
}

static inline uint32_t
tag_reply_conn(uint64_t tag)
{
	return (uint32_t)(tag >> LIMITS_REPLY_SEQ_BITS) &
	       (uint32_t)TAG_MASK(LIMITS_REPLY_CONN_BITS);
}

/* The full seq, given the oldest seq in flight on the conn (seq_head): the
 * window in flight is shorter than the field (limits.h). */
static inline uint32_t
tag_reply_seq(uint64_t tag, uint32_t seq_head)
{
	return seq_head + (uint16_t)((uint16_t)tag - (uint16_t)seq_head);
}
STATIC_ASSERT(LIMITS_REPLY_SEQ_BITS == 16, "tag_reply_seq() works in uint16_t");

/* Storage token of a waiting request's part. */
static inline uint64_t
tag_kp(uint16_t gen, uint32_t slot, uint32_t part)
{
	ASSERT_HOT(slot < (1ull << LIMITS_KP_SLOT_BITS));
	ASSERT_HOT(part < (1ull << LIMITS_KP_PART_BITS));
	return (uint64_t)gen << (LIMITS_KP_SLOT_BITS + LIMITS_KP_PART_BITS) |
	       (uint64_t)slot << LIMITS_KP_PART_BITS | part;
}

static inline uint16_t
tag_kp_gen(uint64_t token)
{
	return (uint16_t)(token >> (LIMITS_KP_SLOT_BITS + LIMITS_KP_PART_BITS));
}

static inline uint32_t
tag_kp_slot(uint64_t token)
{
	return (uint32_t)(token >> LIMITS_KP_PART_BITS) & (uint32_t)TAG_MASK(LIMITS_KP_SLOT_BITS);
}

static inline uint32_t
tag_kp_part(uint64_t token)
{
	return (uint32_t)token & (uint32_t)TAG_MASK(LIMITS_KP_PART_BITS);
}
STATIC_ASSERT(LIMITS_KP_GEN_BITS == 16, "tag_kp() takes a uint16_t generation");

/* The tags split 32/32 bits: TAG_SPLIT32(name, hi, lo) defines
 * tag_<name>(hi, lo) to pack and tag_<name>_<hi>(), tag_<name>_<lo>() to
 * unpack. */
#define TAG_SPLIT32(name, hi, lo)                                            \
	static inline uint64_t tag_##name(uint32_t hi, uint32_t lo)          \
	{                                                                    \
		return (uint64_t)hi << 32 | lo;                              \
	}                                                                    \
	static inline uint32_t tag_##name##_##hi(uint64_t t)                 \
	{                                                                    \
		return (uint32_t)(t >> 32);                                  \
	}                                                                    \
	static inline uint32_t tag_##name##_##lo(uint64_t t)                 \
	{                                                                    \
		return (uint32_t)t;                                          \
	}

/* Storage token of a long-poll watch: tag_sub(gen, index). */
STATIC_ASSERT(LIMITS_SUB_GEN_BITS == 32 && LIMITS_SUB_INDEX_BITS == 32, "a 32/32 split");
TAG_SPLIT32(sub, gen, index)
/* io_uring user_data: tag_ud(op, id), which operation on which conn (or 0). */
STATIC_ASSERT(LIMITS_UD_OP_BITS == 32 && LIMITS_UD_ID_BITS == 32, "a 32/32 split");
TAG_SPLIT32(ud, op, id)
/* Control's scheduling key of a connection: tag_sched(core, conn). */
STATIC_ASSERT(LIMITS_SCHED_CORE_BITS == 32 && LIMITS_SCHED_CONN_BITS == 32, "a 32/32 split");
TAG_SPLIT32(sched, core, conn)

/* Frame tag: a provided receive buffer (its id) or a heap copy to free. */
#define TAG_FRAME_BUF (1ull << 63)

static inline uint64_t
tag_frame_buf(uint16_t bid)
{
	return TAG_FRAME_BUF | bid;
}

static inline uint64_t
tag_frame_heap(void *ptr)
{
	uint64_t tag = (uint64_t)(uintptr_t)ptr;

	ASSERT_HOT(!(tag & TAG_FRAME_BUF));
	return tag;
}

static inline bool
tag_frame_is_buf(uint64_t tag)
{
	return (tag & TAG_FRAME_BUF) != 0;
}

static inline uint16_t
tag_frame_bid(uint64_t tag)
{
	return (uint16_t)(tag & TAG_MASK(LIMITS_FRAME_BUF_BITS));
}

static inline void *
tag_frame_ptr(uint64_t tag)
{
	return (void *)(uintptr_t)tag;
}
STATIC_ASSERT(LIMITS_FRAME_BUF_BITS == 16, "buffer ids are uint16_t");

#endif
