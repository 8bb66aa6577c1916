/* SPDX-License-Identifier: Apache-2.0 */
/* A storage double (see fake_st.h) for the protocol core's unit tests and
 * the kp_dispatch() fuzz target: st_submit logs each request and answers it
 * at once into a bounded completion ring, or holds it (fake_st.hold);
 * st_reap hands the completions back in order. Partition 1 answers
 * fake_st.error_p1; READs of partition 0 find a file region (a fake
 * descriptor nobody opens) whose reference must come back by RELEASE:
 * refs_held is the leak oracle. WATCHes wait for fake_st_fire_watches().
 * Misuse (a release never handed out, an unknown type) aborts. */
#include <stdlib.h>
#include <string.h>

#include "protocol/kp_error.h"
#include "tests/unit/protocol/fake_st.h"

#define FAKE_ST_CPLS 256u               /* completions in flight */
#define FAKE_ST_HELD_MAX 256u           /* held answers, armed watches */
#define FAKE_ST_FAKE_FD 1000            /* never opened, never read */

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
	fake_st.read_end = INT64_MAX;
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

/* Partition p has p producers (ids 100 + i, epoch i, last sequence 10 * i,
 * last timestamp 1000 + i), handed over malloc'd as a worker does. */
static void
fake_st_producers(const struct st_req *req, struct st_cpl *cpl)
{
	uint32_t n = req->partition > 0 ? (uint32_t)req->partition : 0;

	cpl->producers.list = NULL;
	cpl->producers.count = 0;
	if (cpl->error != KP_ERR_NONE || n == 0)
		return;
	cpl->producers.list = calloc(n, sizeof(*cpl->producers.list));
	if (cpl->producers.list == NULL)
		abort();
	for (uint32_t i = 0; i < n; i++)
		cpl->producers.list[i] = (struct st_producer){
			.producer_id = 100 + i, .epoch = (int16_t)i,
			.last_sequence = 10 * (int32_t)i, .last_timestamp = 1000 + i,
		};
	cpl->producers.count = n;
}

static void
fake_st_read(const struct st_req *req, struct st_cpl *cpl)
{
	cpl->read.fd = -1;
	if (cpl->error != KP_ERR_NONE || req->partition != 0 || fake_st.read_len <= 0 ||
	    req->read.offset < 0 || req->read.offset >= fake_st.read_end)
		return;
	cpl->read.fd = FAKE_ST_FAKE_FD;
	cpl->read.len = req->read.max_bytes > 0 && req->read.max_bytes < fake_st.read_len
			? req->read.max_bytes : fake_st.read_len;
	cpl->read.pos = req->read.offset * 100;
	cpl->read.ref = ++fake_st_one.ref_next;
	fake_st.refs_held++;
	if (req->read.isolation != 1 || fake_st.read_aborted == 0)
		return;
	cpl->read.aborted = calloc(fake_st.read_aborted, sizeof(*cpl->read.aborted));
	if (cpl->read.aborted == NULL)
		return;
	for (uint32_t i = 0; i < fake_st.read_aborted; i++)
		cpl->read.aborted[i] = (struct st_aborted_txn){ 1000 + i, i };
	cpl->read.aborted_count = fake_st.read_aborted;
}

/* Answer req into the completion ring (room was checked at submit). */
static void
fake_st_answer(const struct st_req *req)
{
	struct st_cpl *cpl = &fake_st_one.cpls[(fake_st_one.head + fake_st_one.count) %
					       FAKE_ST_CPLS];

	memset(cpl, 0, sizeof(*cpl));
	cpl->type = req->type;
	cpl->partition = req->partition;
	cpl->token = req->token;
	cpl->error = req->partition == 1 ? fake_st.error_p1 : KP_ERR_NONE;
	cpl->high_watermark = fake_st.log_end;
	cpl->last_stable_offset = fake_st.log_end;
	cpl->log_start_offset = fake_st.log_start;
	switch (req->type) {
	case ST_REQ_APPEND:
		cpl->append.base_offset = cpl->error == KP_ERR_NONE ? fake_st.log_end : -1;
		cpl->append.log_append_time = -1;
		/* A timed append is done (durable) 1 ms after its validation. */
		if (cpl->error == KP_ERR_NONE && req->append.t_valid_ns != 0)
			cpl->append.t_done_ns = req->append.t_valid_ns + 1000000;
		if (cpl->error == KP_ERR_NONE)
			fake_st.log_end++;
		break;
	case ST_REQ_READ:
		fake_st_read(req, cpl);
		break;
	case ST_REQ_OFFSET:
		cpl->offset.offset = req->offset.timestamp == ST_OFFSET_LATEST ? fake_st.log_end
									       : 0;
		cpl->offset.timestamp = -1;
		cpl->offset.leader_epoch = 0;
		break;
	case ST_REQ_EPOCH:
		cpl->epoch.leader_epoch = req->epoch.leader_epoch < 0 ? -1 : 0;
		cpl->epoch.end_offset = fake_st.log_end;
		break;
	case ST_REQ_DELETE_RECORDS:
		cpl->log_start_offset = req->delete_records.offset == -1
					? fake_st.log_end : req->delete_records.offset;
		if (cpl->error != KP_ERR_NONE)
			cpl->log_start_offset = -1;
		break;
	case ST_REQ_PRODUCERS:
		fake_st_producers(req, cpl);
		break;
	default:
		abort();
	}
	fake_st_one.count++;
}

bool
st_submit(struct st *st, int core, const struct st_req *req)
{
	if (st != &fake_st_one || core != 0 || req->type < ST_REQ_APPEND ||
	    req->type > ST_REQ_PRODUCERS)
		abort();
	if (req->type == ST_REQ_RELEASE) {
		if (fake_st.refs_held == 0 || req->release.ref == 0 ||
		    req->release.ref > st->ref_next)
			abort();        /* released what was never handed out */
		fake_st.refs_held--;
	} else {
		/* Full: no room left, or no completion slot for the answer. */
		if (fake_st.room == 0 || (req->type != ST_REQ_WATCH &&
					  st->count + st->held_count >= FAKE_ST_CPLS))
			return false;
		if (fake_st.room != UINT32_MAX)
			fake_st.room--;
	}
	if (fake_st.log_count < FAKE_ST_LOG_MAX)
		fake_st.log[fake_st.log_count++] = *req;
	fake_st.type_count[req->type]++;
	if (req->type == ST_REQ_WATCH && st->watch_count < FAKE_ST_HELD_MAX)
		st->watches[st->watch_count++] = *req;  /* past it: never fires */
	else if (req->type == ST_REQ_WATCH || req->type == ST_REQ_RELEASE)
		return true;
	else if (fake_st.hold)
		st->held[st->held_count++] = *req;
	else
		fake_st_answer(req);
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

	if (fake_st_one.count + n > FAKE_ST_CPLS)
		abort();
	for (uint32_t i = 0; i < n; i++) {
		struct st_cpl *cpl = &fake_st_one.cpls[(fake_st_one.head + fake_st_one.count) %
						       FAKE_ST_CPLS];

		memset(cpl, 0, sizeof(*cpl));
		cpl->type = ST_REQ_WATCH;
		cpl->partition = fake_st_one.watches[i].partition;
		cpl->token = fake_st_one.watches[i].token;
		cpl->high_watermark = high_watermark;
		fake_st_one.count++;
	}
	fake_st_one.watch_count = 0;
	return n;
}

uint32_t
fake_st_count(uint8_t type)
{
	return type <= ST_REQ_PRODUCERS ? fake_st.type_count[type] : 0;
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
