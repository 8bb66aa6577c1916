/* SPDX-License-Identifier: Apache-2.0 */
/* The storage double of the protocol core's unit tests and of the
 * kp_dispatch() fuzz target (fake_st.c): the core side of storage/st.h with
 * requests logged, answers held or given at once, a ring that can be made
 * full, and WATCHes fired only by the caller. */
#ifndef TESTS_UNIT_PROTOCOL_FAKE_ST_H
#define TESTS_UNIT_PROTOCOL_FAKE_ST_H

#include <stdbool.h>
#include <stdint.h>

#include "storage/st.h"

#define FAKE_ST_LOG_MAX 256u

struct fake_st_state {
	/* Settings, changed by the caller between calls. */
	uint32_t room;          /* submits (not RELEASE) the ring takes before it
				 * is full; UINT32_MAX after fake_st_reset() */
	bool hold;              /* keep answers until fake_st_answer_held() */
	int64_t log_end;        /* APPEND's next offset (each success adds one),
				 * the latest offset and an epoch's end offset */
	int32_t read_len;       /* bytes a READ of partition 0 finds (0: none),
				 * at most the read's max_bytes when that is less */
	int64_t read_end;       /* ... when its offset is below this */
	/* A read_committed READ that finds data lists this many aborted
	 * transactions (producer 1000 + i from offset i), malloc'd as a
	 * worker does. */
	uint32_t read_aborted;
	int16_t error_p1;       /* error answered for partition 1 */
	int64_t log_start;      /* the log start offset answered (DELETE_RECORDS:
				 * the request's offset, -1 the log end) */
	/* What the core submitted, the first FAKE_ST_LOG_MAX in order (WATCH
	 * and RELEASE included), and how many of each type in all. */
	struct st_req log[FAKE_ST_LOG_MAX];
	uint32_t log_count;
	uint32_t type_count[ST_REQ_PRODUCERS + 1];
	uint32_t refs_held;     /* regions handed out and not released */
};

extern struct fake_st_state fake_st;

/* The one storage instance (core 0, one worker), reset to defaults. */
struct st *fake_st_reset(void);
/* Answer every held request now (in submission order). */
void fake_st_answer_held(void);
/* Fire every armed WATCH with this high watermark. Returns how many. */
uint32_t fake_st_fire_watches(int64_t high_watermark);
/* Submitted requests of this type so far. */
uint32_t fake_st_count(uint8_t type);

#endif
