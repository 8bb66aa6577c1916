/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the protocol core's unit tests (core_harness.c): a two-topic
 * snapshot, a kp_core over the fake storage (fake_st.c), request frames
 * built with the generated encoders, and dispatch/poll by reply slot. */
#ifndef TESTS_UNIT_PROTOCOL_CORE_HARNESS_H
#define TESTS_UNIT_PROTOCOL_CORE_HARNESS_H

#include "protocol/kp.h"
#include "tests/unit/protocol/fake_st.h"

#define H_SLOTS 8u
#define H_NOW 1000000000ull     /* the harness's "now" for kp_core_poll */

extern struct kp_md h_md;       /* "alpha" (3 partitions), "beta" (1) */
extern struct kp_core *h_kc;

/* Reset storage and make a fresh core (Criterion .init / .fini). */
void h_setup(void);
void h_teardown(void);

/* A frame: header (non-flexible, client id "t") then the body. */
struct kp_writer h_frame_begin(int16_t key, int16_t version, int32_t correlation);
/* Dispatch a frame into reply slot (the env's tag is 100 + slot, conn is
 * slot / 2); frees the frame writer. */
enum kp_verdict h_dispatch(struct kp_writer *frame, uint32_t slot, struct kp_out *out);
/* kp_core_poll at now; up to max dones. */
unsigned h_poll(uint64_t now, struct kp_done *done, unsigned max);
/* A cursor over a response's body (after size and correlation id, which
 * are checked). */
struct kp_cursor h_body(const struct kp_buf *resp, int32_t correlation);
/* Free a done's response and give its pieces back. */
void h_done_free(struct kp_done *d);

/* One valid record batch from a real client (golden data). */
const uint8_t *h_batch(uint32_t *len);

/* Request bodies. parts: partition indexes of one topic entry each
 * (topics[i] with parts[i]); n entries. */
void h_produce(struct kp_writer *w, int16_t acks, const char *const *topics,
	       const int32_t *parts, int n);
/* Fetch's replica_id (-1 after h_setup: a consumer). */
extern int32_t h_fetch_replica_id;
void h_fetch(struct kp_writer *w, int32_t max_wait_ms, int32_t min_bytes, int8_t isolation,
	     int32_t session_id, const char *const *topics, const int32_t *parts, int n);
void h_list_offsets(struct kp_writer *w, int16_t version, const char *const *topics,
		    const int32_t *parts, int n);
/* OffsetForLeaderEpoch's leader_epoch asked (0 after h_setup). */
extern int32_t h_epoch_asked;
void h_epoch(struct kp_writer *w, int32_t current_leader_epoch, const char *const *topics,
	     const int32_t *parts, int n);

#endif
