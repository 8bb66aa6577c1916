/* SPDX-License-Identifier: Apache-2.0 */
/* A scriptable storage double (see fake_st.h): st_submit logs each request
 * and either answers it at once into a bounded completion ring or holds it
 * (fake_st.hold); st_reap hands the completions back in order. Partition 1
 * answers fake_st.error_p1; READs of partition 0 find fake_st.read_len
 * bytes as a file region (a fake descriptor nobody opens) whose reference
 * must come back by RELEASE. WATCHes wait for fake_st_fire_watches(). */
#include <criterion/criterion.h>
#include <string.h>

#include "protocol/kp_error.h"
#include "tests/unit/protocol/fake_st.h"

#define FAKE_ST_CPLS 256u
#define FAKE_ST_FAKE_FD 1000
#define FAKE_ST_HELD_MAX 256u

struct st {
	struct st_cpl cpls[FAKE_ST_CPLS];
	uint32_t head;
	uint32_t count;
	struct st_req held[FAKE_ST_HELD_MAX];
	uint32_t held_count;
	struct st_req watches[FAKE_ST_HELD_MAX];
	uint32_t watch_count;
	uint32_t ref_next;
};

struct fake_st_state fake_st;
static struct st fake_st_one;

struct st *
fake_st_reset(void)
{
	memset(&fake_st, 0, sizeof(fake_st));
	memset(&fake_st_one, 0, sizeof(fake_st_one));
	fake_st.room = UINT32_MAX;
	fake_st.log_end = 10;
	fake_st.error_p1 = KP_ERR_NOT_LEADER_OR_FOLLOWER;
	return &fake_st_one;
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
	return 64;
}

static void
fake_st_push(const struct st_cpl *cpl)
{
	cr_assert_lt(fake_st_one.count, FAKE_ST_CPLS);
	fake_st_one.cpls[(fake_st_one.head + fake_st_one.count) % FAKE_ST_CPLS] = *cpl;
	fake_st_one.count++;
}

static void
fake_st_answer(const struct st_req *req)
{
	struct st_cpl cpl;

	memset(&cpl, 0, sizeof(cpl));
	cpl.type = req->type;
	cpl.partition = req->partition;
	cpl.token = req->token;
	cpl.error = req->partition == 1 ? fake_st.error_p1 : KP_ERR_NONE;
	cpl.high_watermark = fake_st.log_end;
	cpl.last_stable_offset = fake_st.log_end;
	switch (req->type) {
	case ST_REQ_APPEND:
		cpl.append.base_offset = cpl.error == KP_ERR_NONE ? fake_st.log_end : -1;
		cpl.append.log_append_time = -1;
		break;
	case ST_REQ_READ:
		cpl.read.fd = -1;
		if (cpl.error == KP_ERR_NONE && req->partition == 0 && fake_st.read_len > 0) {
			cpl.read.fd = FAKE_ST_FAKE_FD;
			cpl.read.len = fake_st.read_len;
			cpl.read.pos = req->read.offset * 100;
			cpl.read.ref = ++fake_st_one.ref_next;
			fake_st.refs_held++;
		}
		break;
	case ST_REQ_OFFSET:
		cpl.offset.offset = req->offset.timestamp == ST_OFFSET_LATEST ? fake_st.log_end : 0;
		cpl.offset.timestamp = -1;
		cpl.offset.leader_epoch = 0;
		break;
	case ST_REQ_EPOCH:
		cpl.epoch.leader_epoch = 0;
		cpl.epoch.end_offset = fake_st.log_end;
		break;
	default:
		cr_assert_fail("unexpected request type %d", req->type);
	}
	fake_st_push(&cpl);
}

bool
st_submit(struct st *st, int core, const struct st_req *req)
{
	cr_assert(st == &fake_st_one && core == 0);
	if (req->type == ST_REQ_RELEASE) {
		cr_assert(fake_st.refs_held > 0 && req->release.ref > 0 &&
			  req->release.ref <= st->ref_next, "released what was never handed out");
		fake_st.refs_held--;
	} else {
		if (fake_st.room == 0)
			return false;
		if (fake_st.room != UINT32_MAX)
			fake_st.room--;
	}
	cr_assert_lt(fake_st.log_count, FAKE_ST_LOG_MAX);
	fake_st.log[fake_st.log_count++] = *req;
	if (req->type == ST_REQ_WATCH) {
		cr_assert_lt(st->watch_count, FAKE_ST_HELD_MAX);
		st->watches[st->watch_count++] = *req;
	} else if (req->type != ST_REQ_RELEASE) {
		if (fake_st.hold) {
			cr_assert_lt(st->held_count, FAKE_ST_HELD_MAX);
			st->held[st->held_count++] = *req;
		} else {
			fake_st_answer(req);
		}
	}
	return true;
}

void
fake_st_answer_held(void)
{
	for (uint32_t i = 0; i < fake_st_one.held_count; i++)
		fake_st_answer(&fake_st_one.held[i]);
	fake_st_one.held_count = 0;
}

uint32_t
fake_st_fire_watches(int64_t high_watermark)
{
	uint32_t n = fake_st_one.watch_count;

	for (uint32_t i = 0; i < n; i++) {
		struct st_cpl cpl;

		memset(&cpl, 0, sizeof(cpl));
		cpl.type = ST_REQ_WATCH;
		cpl.partition = fake_st_one.watches[i].partition;
		cpl.token = fake_st_one.watches[i].token;
		cpl.high_watermark = high_watermark;
		fake_st_push(&cpl);
	}
	fake_st_one.watch_count = 0;
	return n;
}

uint32_t
fake_st_count(uint8_t type)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < fake_st.log_count; i++)
		n += fake_st.log[i].type == type;
	return n;
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
		st->head = (st->head + 1) % FAKE_ST_CPLS;
		st->count--;
	}
	return n;
}
