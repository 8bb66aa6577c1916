/* SPDX-License-Identifier: Apache-2.0 */
/* Bit budgets of the 64-bit tags that carry an identity from one thread (or
 * one module) to another and back (packed and unpacked in common/tag.h),
 * and the config maxima those budgets imply. The config key table
 * (control/config_keys.c) takes its range maxima from here, so a config
 * value that would not fit its tag field cannot be set. */
#ifndef COMMON_LIMITS_H
#define COMMON_LIMITS_H

#include "common/assert.h"

/* Reply tag (kp_env.tag, dataplane -> protocol -> dataplane):
 * [63..40] conn generation (low bits), [39..16] conn id, [15..0] reply seq
 * (low bits; the full seq is rebuilt from the conn's oldest one). */
#define LIMITS_REPLY_GEN_BITS 24
#define LIMITS_REPLY_CONN_BITS 24
#define LIMITS_REPLY_SEQ_BITS 16

/* Storage token of a waiting request (st_req.token, protocol -> storage ->
 * protocol): [63..48] record generation, [47..24] record (reply slot)
 * index, [23..0] part index. */
#define LIMITS_KP_GEN_BITS 16
#define LIMITS_KP_SLOT_BITS 24
#define LIMITS_KP_PART_BITS 24

/* Storage token of a long-poll watch (kp_sub.c): [63..32] watch
 * generation, [31..0] watch index. */
#define LIMITS_SUB_GEN_BITS 32
#define LIMITS_SUB_INDEX_BITS 32

/* io_uring user_data of the dataplane: [63..32] op, [31..0] conn id. */
#define LIMITS_UD_OP_BITS 32
#define LIMITS_UD_ID_BITS 32

/* Frame tag (kp_env.frame_tag): the top bit set means a provided receive
 * buffer whose id is in the low bits; clear, a heap pointer (user space
 * pointers leave the top bit clear). */
#define LIMITS_FRAME_BUF_BITS 16

/* Control's per-connection scheduling key: [63..32] core, [31..0] conn id. */
#define LIMITS_SCHED_CORE_BITS 32
#define LIMITS_SCHED_CONN_BITS 32

STATIC_ASSERT(LIMITS_REPLY_GEN_BITS + LIMITS_REPLY_CONN_BITS + LIMITS_REPLY_SEQ_BITS == 64,
	      "reply tag uses 64 bits");
STATIC_ASSERT(LIMITS_KP_GEN_BITS + LIMITS_KP_SLOT_BITS + LIMITS_KP_PART_BITS == 64,
	      "storage token uses 64 bits");
STATIC_ASSERT(LIMITS_SUB_GEN_BITS + LIMITS_SUB_INDEX_BITS == 64, "watch token uses 64 bits");
STATIC_ASSERT(LIMITS_UD_OP_BITS + LIMITS_UD_ID_BITS == 64, "user_data uses 64 bits");
STATIC_ASSERT(LIMITS_SCHED_CORE_BITS + LIMITS_SCHED_CONN_BITS == 64, "sched key uses 64 bits");

/* Config maxima. */
/* spillway.connections.max: a conn id must fit the reply tag. */
#define LIMITS_CONNECTIONS_MAX (1 << 20)
/* spillway.connection.inflight.max: a conn's window of reply seqs must be
 * shorter than the tag's seq field, or a seq could not be rebuilt. */
#define LIMITS_INFLIGHT_MAX 4096
/* spillway.dataplane.cores and spillway.storage.workers. */
#define LIMITS_CORES_MAX 64
/* Reply slots (connections x in flight) per core: one waiting-request
 * record each, indexed by the storage token's slot field. The product of
 * the two config maxima is larger, so config_resolve checks it at start. */
#define LIMITS_SLOTS_MAX (1u << LIMITS_KP_SLOT_BITS)
/* Partitions one waiting request may name (part index field). */
#define LIMITS_PARTS_MAX ((1u << LIMITS_KP_PART_BITS) - 1)

STATIC_ASSERT(LIMITS_CONNECTIONS_MAX <= (1ull << LIMITS_REPLY_CONN_BITS),
	      "conn ids fit the reply tag");
STATIC_ASSERT(LIMITS_CONNECTIONS_MAX <= (1ull << LIMITS_UD_ID_BITS),
	      "conn ids fit io_uring user_data");
STATIC_ASSERT(LIMITS_CONNECTIONS_MAX <= (1ull << LIMITS_SCHED_CONN_BITS),
	      "conn ids fit the sched key");
STATIC_ASSERT(LIMITS_INFLIGHT_MAX < (1ull << LIMITS_REPLY_SEQ_BITS),
	      "a conn's reply seqs are told apart by the tag");
STATIC_ASSERT(LIMITS_INFLIGHT_MAX <= LIMITS_SLOTS_MAX, "one conn's slots fit the token");
STATIC_ASSERT(LIMITS_CORES_MAX <= (1ull << LIMITS_SCHED_CORE_BITS), "cores fit the sched key");

#endif
