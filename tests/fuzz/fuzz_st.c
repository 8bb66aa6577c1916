/* SPDX-License-Identifier: Apache-2.0 */
/* A storage double for fuzz_request's kp_dispatch() runs: the core side of
 * storage/st.h (st_submit, st_flush, st_reap and the two sizes) answering
 * every request at once from a bounded completion ring, so Produce, Fetch,
 * ListOffsets and OffsetForLeaderEpoch run their pending paths to the end
 * without threads or files. Partition 1 of every topic answers
 * NOT_LEADER_OR_FOLLOWER (error paths); Fetch reads of partition 0 below
 * offset 16 return a file region (a fake descriptor nobody opens) whose
 * reference must come back by ST_REQ_RELEASE: fuzz_st_refs_held() is the
 * leak oracle. WATCH requests are held, never fired (long polls end at their
 * deadline). */
#include <stdlib.h>
#include <string.h>

#include "protocol/kp_error.h"
#include "storage/st.h"
#include "tests/fuzz/fuzz_st.h"

#define FUZZ_ST_CPLS 256u               /* completions in flight */
#define FUZZ_ST_REFS_MAX 64u            /* file regions a core may hold */
#define FUZZ_ST_READ_END 16             /* partition 0 has data below this */
#define FUZZ_ST_FAKE_FD 1000            /* never opened, never read */

struct st {
	struct st_cpl cpls[FUZZ_ST_CPLS];
	uint32_t head;
	uint32_t count;
	uint32_t refs_held;
	uint32_t ref_next;
	int64_t log_end;
};

static struct st fuzz_st_one;

struct st *
fuzz_st_get(void)
{
	return &fuzz_st_one;
}

uint32_t
fuzz_st_refs_held(void)
{
	return fuzz_st_one.refs_held;
}

int
st_worker_count(const struct st *st)
{
	(void)st;
	return 1;
}

uint32_t
st_refs_max(void)
{
	return FUZZ_ST_REFS_MAX;
}

static void
fuzz_st_answer(struct st *st, const struct st_req *req, struct st_cpl *cpl)
{
	memset(cpl, 0, sizeof(*cpl));
	cpl->type = req->type;
	cpl->partition = req->partition;
	cpl->token = req->token;
	cpl->error = req->partition == 1 ? KP_ERR_NOT_LEADER_OR_FOLLOWER : KP_ERR_NONE;
	cpl->log_start_offset = 0;
	cpl->high_watermark = st->log_end;
	cpl->last_stable_offset = st->log_end;
	switch (req->type) {
	case ST_REQ_APPEND:
		cpl->append.base_offset = cpl->error == KP_ERR_NONE ? st->log_end : -1;
		cpl->append.log_append_time = -1;
		if (cpl->error == KP_ERR_NONE)
			st->log_end++;
		break;
	case ST_REQ_READ:
		cpl->read.fd = -1;
		if (cpl->error == KP_ERR_NONE && req->partition == 0 &&
		    req->read.offset >= 0 && req->read.offset < FUZZ_ST_READ_END) {
			cpl->read.fd = FUZZ_ST_FAKE_FD;
			cpl->read.len = req->read.max_bytes > 0 && req->read.max_bytes < 100 ?
					req->read.max_bytes : 100;
			cpl->read.pos = req->read.offset * 100;
			cpl->read.ref = ++st->ref_next;
			st->refs_held++;
		}
		break;
	case ST_REQ_OFFSET:
		cpl->offset.offset = req->offset.timestamp == ST_OFFSET_LATEST ? st->log_end : 0;
		cpl->offset.timestamp = -1;
		cpl->offset.leader_epoch = 0;
		break;
	case ST_REQ_EPOCH:
		cpl->epoch.leader_epoch = req->epoch.leader_epoch < 0 ? -1 : 0;
		cpl->epoch.end_offset = st->log_end;
		break;
	default:
		abort();
	}
}

bool
st_submit(struct st *st, int core, const struct st_req *req)
{
	if (st != &fuzz_st_one || core != 0)
		abort();
	switch (req->type) {
	case ST_REQ_WATCH:
		return true;    /* held until its deadline, never fired */
	case ST_REQ_RELEASE:
		if (st->refs_held == 0 || req->release.ref == 0 || req->release.ref > st->ref_next)
			abort();        /* released what was never handed out */
		st->refs_held--;
		return true;
	default:
		break;
	}
	if (st->count == FUZZ_ST_CPLS)
		return false;   /* ring full: the core retries after a reap */
	fuzz_st_answer(st, req, &st->cpls[(st->head + st->count) % FUZZ_ST_CPLS]);
	st->count++;
	return true;
}

void
st_flush(struct st *st, int core)
{
	(void)st;
	(void)core;
}

unsigned
st_reap(struct st *st, int core, struct st_cpl *out, unsigned max)
{
	unsigned n = 0;

	(void)core;
	while (n < max && st->count > 0) {
		out[n++] = st->cpls[st->head];
		st->head = (st->head + 1) % FUZZ_ST_CPLS;
		st->count--;
	}
	return n;
}
