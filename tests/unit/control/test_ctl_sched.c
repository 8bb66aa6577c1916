/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/ctl_sched.c, the control thread's fair queue: requests of
 * one connection stay in order, connections take turns one request each, a
 * newcomer waits at most one request per other connection, capacity and
 * reply backlogs are bounded and refuse instead of growing, a stalled core
 * holds back only its own connections, and the connection index survives
 * thousands of random pushes and pops checked against a simple model.
 * Buffers are malloc()ed so that ASan sees any leak or double free. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "control/ctl_sched.h"

static struct dp_msg
req(uint32_t conn_id, uint32_t seq)
{
	struct dp_msg m = { .type = DP_MSG_REQUEST, .conn_id = conn_id, .conn_gen = 1,
			    .seq = seq };

	m.buf.data = malloc(8);
	m.buf.len = 8;
	cr_assert_not_null(m.buf.data);
	return m;
}

static void
push(struct ctl_sched *s, int core, uint32_t conn_id, uint32_t seq)
{
	struct dp_msg m = req(conn_id, seq);

	cr_assert(ctl_sched_can_take(s, core));
	ctl_sched_push(s, core, &m);
}

/* A core ring that takes everything (or nothing while refusing), freeing
 * what it takes and remembering the order. */
struct ring {
	bool refuse[4];
	int count;
	uint32_t seqs[8192];
	int cores[8192];
};

static bool
ring_send(void *arg, int core, const struct dp_msg *msg)
{
	struct ring *r = arg;

	if (r->refuse[core])
		return false;
	cr_assert_lt(r->count, 8192);
	r->cores[r->count] = core;
	r->seqs[r->count++] = msg->seq;
	free(msg->buf.data);
	return true;
}

/* Pop one request, answer it, return "conn:seq" as a number conn*1000+seq. */
static int
serve(struct ctl_sched *s, struct ring *r)
{
	struct ctl_sched_item it;
	struct dp_msg reply;

	if (!ctl_sched_pop(s, &it))
		return -1;
	cr_assert_eq(it.msg.type, DP_MSG_REQUEST);
	free(it.msg.buf.data);
	reply = it.msg;
	reply.type = DP_MSG_REPLY;
	reply.buf.data = malloc(4);
	reply.buf.len = 4;
	ctl_sched_reply(s, it.core, &reply, ring_send, r);
	return (int)(it.core * 100000 + it.msg.conn_id * 1000 + it.msg.seq);
}

Test(ctl_sched, one_connection_keeps_its_order)
{
	struct ctl_sched *s = ctl_sched_create(1);
	struct ring r = { 0 };

	for (uint32_t i = 0; i < 10; i++)
		push(s, 0, 7, i);
	cr_assert_eq(ctl_sched_conn_count(s), 1);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(serve(s, &r), 7000 + i);
	cr_assert_eq(serve(s, &r), -1);
	cr_assert_eq(ctl_sched_conn_count(s), 0);
	cr_assert_eq(r.count, 10);
	ctl_sched_destroy(s);
}

Test(ctl_sched, connections_take_turns)
{
	struct ctl_sched *s = ctl_sched_create(2);
	struct ring r = { 0 };
	int want[] = { 1000, 2000, 103000, 1001, 2001, 1002, 1003 };

	for (uint32_t i = 0; i < 4; i++)
		push(s, 0, 1, i);
	push(s, 0, 2, 0);
	push(s, 0, 2, 1);
	push(s, 1, 3, 0);       /* same conn id on another core: another connection */
	cr_assert_eq(ctl_sched_conn_count(s), 3);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert_eq(serve(s, &r), want[i], "step %zu", i);
	ctl_sched_destroy(s);
}

Test(ctl_sched, newcomer_waits_one_request_per_other_connection)
{
	struct ctl_sched *s = ctl_sched_create(1);
	struct ring r = { 0 };

	/* Two heavy clients pipelining 64 requests each. */
	for (uint32_t i = 0; i < 64; i++) {
		push(s, 0, 1, i);
		push(s, 0, 2, i);
	}
	for (int i = 0; i < 9; i++)
		serve(s, &r);
	push(s, 0, 3, 0);
	/* Served after at most one more request of each heavy client. */
	int waited = 0;

	while (serve(s, &r) != 3000)
		waited++;
	cr_assert_leq(waited, 2);
	ctl_sched_destroy(s);
}

Test(ctl_sched, capacity_is_bounded_and_refused_not_grown)
{
	struct ctl_sched *s = ctl_sched_create(1);
	struct ring r = { 0 };

	for (uint32_t i = 0; i < CTL_SCHED_REQUESTS_MAX; i++)
		push(s, 0, i % 300, i);
	cr_assert_not(ctl_sched_can_take(s, 0));
	cr_assert_eq(ctl_sched_request_count(s), CTL_SCHED_REQUESTS_MAX);
	cr_assert_eq(ctl_sched_conn_count(s), 300);
	serve(s, &r);
	cr_assert(ctl_sched_can_take(s, 0));
	ctl_sched_destroy(s);   /* frees what is still queued */
}

Test(ctl_sched, one_reply_owed_per_core_at_a_time)
{
	struct ctl_sched *s = ctl_sched_create(2);
	struct ctl_sched_item a, b, c;

	push(s, 0, 1, 0);
	push(s, 0, 2, 0);
	push(s, 1, 1, 0);
	cr_assert(ctl_sched_pop(s, &a));
	cr_assert_eq(a.core, 0);
	/* Core 0 owes a reply: its other connection waits, core 1 runs. */
	cr_assert(ctl_sched_pop(s, &b));
	cr_assert_eq(b.core, 1);
	cr_assert_not(ctl_sched_pop(s, &c));
	free(a.msg.buf.data);
	free(b.msg.buf.data);
	ctl_sched_destroy(s);
}

Test(ctl_sched, stalled_core_backlog_is_bounded_and_holds_only_that_core)
{
	struct ctl_sched *s = ctl_sched_create(2);
	struct ring r = { 0 };

	r.refuse[0] = true;             /* core 0 stopped draining its ring */
	for (uint32_t i = 0; i < CTL_SCHED_BACKLOG_MAX + 10; i++)
		push(s, 0, i % 5, i);
	for (uint32_t i = 0; i < 20; i++)
		push(s, 1, 9, i);
	/* Core 0's replies fill its backlog, then its requests wait; core 1's
	 * keep flowing. */
	int served0 = 0, served1 = 0, v;

	while ((v = serve(s, &r)) >= 0) {
		if (v >= 100000)
			served1++;
		else
			served0++;
	}
	cr_assert_eq(served0, (int)CTL_SCHED_BACKLOG_MAX);
	cr_assert_eq(served1, 20);
	cr_assert_eq(ctl_sched_backlog_count(s), CTL_SCHED_BACKLOG_MAX);
	cr_assert_not(ctl_sched_can_take(s, 0));
	cr_assert(ctl_sched_can_take(s, 1));
	cr_assert_eq(ctl_sched_flush(s, ring_send, &r), CTL_SCHED_BACKLOG_MAX);
	/* The core drains: the backlog goes out in order, then the rest. */
	r.refuse[0] = false;
	int before = r.count;

	cr_assert_eq(ctl_sched_flush(s, ring_send, &r), 0);
	cr_assert_eq(r.count - before, (int)CTL_SCHED_BACKLOG_MAX);
	for (int i = 1; i < (int)CTL_SCHED_BACKLOG_MAX; i++)
		cr_assert_eq(r.cores[before + i], 0);
	while (serve(s, &r) >= 0)
		served0++;
	cr_assert_eq(served0, (int)CTL_SCHED_BACKLOG_MAX + 10);
	ctl_sched_destroy(s);
}

Test(ctl_sched, backlogged_replies_keep_their_order)
{
	struct ctl_sched *s = ctl_sched_create(1);
	struct ring r = { 0 };

	for (uint32_t i = 0; i < 6; i++)
		push(s, 0, 4, i);
	r.refuse[0] = true;
	for (int i = 0; i < 3; i++)
		serve(s, &r);
	r.refuse[0] = false;
	/* A reply sent while older ones are backlogged must queue behind them. */
	serve(s, &r);
	cr_assert_eq(r.count, 0);
	ctl_sched_flush(s, ring_send, &r);
	while (serve(s, &r) >= 0)
		;
	cr_assert_eq(r.count, 6);
	for (int i = 0; i < 6; i++)
		cr_assert_eq(r.seqs[i], (uint32_t)i);
	ctl_sched_destroy(s);
}

/* Random pushes and pops over many connections (ids chosen to collide in
 * the hash) checked against a model: per-connection FIFO order and the
 * count of connections with requests. */
Test(ctl_sched, random_against_a_model)
{
	enum { CONNS = 600 };
	struct ctl_sched *s = ctl_sched_create(4);
	struct ring r = { 0 };
	static uint32_t next_seq[4][CONNS], next_served[4][CONNS], queued[4][CONNS];
	uint32_t rng = 12345;

	memset(next_seq, 0, sizeof(next_seq));
	memset(next_served, 0, sizeof(next_served));
	memset(queued, 0, sizeof(queued));
	for (int step = 0; step < 200000; step++) {
		rng = rng * 1103515245u + 12345u;
		int core = (int)((rng >> 8) % 4);
		uint32_t conn = (rng >> 12) % CONNS * 8192u % 100000u;     /* collide */
		uint32_t ci = (rng >> 12) % CONNS;

		if ((rng >> 28) < 9 && ctl_sched_can_take(s, core)) {
			struct dp_msg m = req(conn, next_seq[core][ci]++);

			ctl_sched_push(s, core, &m);
			queued[core][ci]++;
		} else {
			struct ctl_sched_item it;

			if (!ctl_sched_pop(s, &it))
				continue;
			uint32_t i = 0;

			while ((i % CONNS) * 8192u % 100000u != it.msg.conn_id)
				i++;
			cr_assert_eq(it.msg.seq, next_served[it.core][i]++);
			queued[it.core][i]--;
			free(it.msg.buf.data);
			it.msg.type = DP_MSG_NO_REPLY;
			it.msg.buf.data = NULL;
			ctl_sched_reply(s, it.core, &it.msg, ring_send, &r);
			r.count = 0;
		}
		if (step % 1000 == 0) {
			uint32_t live = 0, total = 0;

			for (int c = 0; c < 4; c++)
				for (int i = 0; i < CONNS; i++) {
					live += queued[c][i] > 0;
					total += queued[c][i];
				}
			cr_assert_eq(ctl_sched_conn_count(s), live);
			cr_assert_eq(ctl_sched_request_count(s), total);
		}
	}
	ctl_sched_destroy(s);
}
