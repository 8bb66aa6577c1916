/* SPDX-License-Identifier: Apache-2.0 */
/* Where the time of a produce goes: one latency histogram per stage of a
 * partition append and per acks mode, kept per thread (each dataplane core
 * and each storage worker records the stages it sees end) and added
 * together by control at scrape time. Recording is a bucket search and two
 * relaxed stores: no allocation, lock, clock read or formatting here. */
#ifndef COMMON_STAGE_H
#define COMMON_STAGE_H

#include <stdint.h>

#include "common/hist.h"

/* The stages of one partition append, in order; each starts where the
 * previous one ended, so per append their sum is `total`. */
enum stage {
	STAGE_RECEIVE = 0,      /* core: frame complete -> request validated */
	STAGE_QUEUE,            /* core -> worker: validated -> taken from the ring */
	STAGE_ISSUE,            /* worker: taken -> its writev submitted (waits behind
				 * the partition's write in flight) */
	STAGE_WRITE,            /* worker: writev submitted -> landed (CQE) */
	STAGE_SYNC_WAIT,        /* worker, acks=all: landed -> fsync submitted */
	STAGE_FSYNC,            /* worker, acks=all: fsync submitted -> landed */
	STAGE_ACK,              /* durable (acks=all) or landed (acks=1) -> the
				 * request's last partition reaped on the core */
	STAGE_SEND,             /* core: request complete -> response send submitted */
	STAGE_TOTAL,            /* frame complete -> response send submitted */
	STAGE_COUNT,
};

/* Label values, by enum stage. */
static const char *const stage_names[STAGE_COUNT] = {
	"receive", "queue", "issue", "write", "sync_wait", "fsync", "ack", "send", "total",
};

/* The acks modes recorded (acks=0 has no response, so no stages). */
enum stage_acks {
	STAGE_ACKS_ALL = 0,     /* acks=-1 */
	STAGE_ACKS_ONE,         /* acks=1 */
	STAGE_ACKS_COUNT,
	STAGE_ACKS_NONE = STAGE_ACKS_COUNT,     /* not recorded */
};

static const char *const stage_acks_names[STAGE_ACKS_COUNT] = { "all", "1" };

struct stage_hists {
	struct hist h[STAGE_ACKS_COUNT][STAGE_COUNT];
};

static inline enum stage_acks
stage_acks_of(int acks)
{
	if (acks == -1)
		return STAGE_ACKS_ALL;
	return acks == 1 ? STAGE_ACKS_ONE : STAGE_ACKS_NONE;
}

/* Whether stage st exists for acks mode a (acks=1 never syncs). */
static inline int
stage_applies(enum stage_acks a, enum stage st)
{
	return a == STAGE_ACKS_ALL || (st != STAGE_SYNC_WAIT && st != STAGE_FSYNC);
}

/* Record n samples of to_ns - from_ns (0 when the clocks of two threads
 * put to before from) for a request with this acks value; acks=0 and
 * unknown values record nothing. @thread the owner of s */
static inline void
stage_add_n(struct stage_hists *s, int acks, enum stage st, uint64_t from_ns, uint64_t to_ns,
	    uint64_t n)
{
	enum stage_acks a = stage_acks_of(acks);

	if (a == STAGE_ACKS_NONE || n == 0)
		return;
	hist_add_n(&s->h[a][st], to_ns > from_ns ? to_ns - from_ns : 0, n);
}

static inline void
stage_add(struct stage_hists *s, int acks, enum stage st, uint64_t from_ns, uint64_t to_ns)
{
	stage_add_n(s, acks, st, from_ns, to_ns, 1);
}

/* sum += a snapshot of s (s may be written concurrently). @thread any */
static inline void
stage_read_add(struct stage_hists *sum, const struct stage_hists *s)
{
	for (int a = 0; a < STAGE_ACKS_COUNT; a++)
		for (int st = 0; st < STAGE_COUNT; st++)
			hist_read_add(&sum->h[a][st], &s->h[a][st]);
}

#endif
