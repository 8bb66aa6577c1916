/* SPDX-License-Identifier: Apache-2.0 */
/* Tests cluster mode on a partition log (plog_repl.c, plog_epochs.c,
 * plog_truncate.c) on the simulated sio: a leader stamps its epoch, waits
 * acks=all appends for the ISR's fetches, bounds consumer reads by the high
 * watermark, refuses below min ISR (before and after the append), answers a
 * role change to follower; a follower keeps the leader's offsets and
 * epochs, truncates and appends again; the epoch cache answers as Kafka's
 * and survives reopening; a crash during truncation reopens consistent;
 * consumer watches wait on the high watermark, followers' on the log end. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "storage/plog_int.h"
#include "storage/pstate.h"
#include "tests/sim/sio_sim.h"
#include "tests/unit/storage/tplog.h"

TP_TEST_SUITE(plog_repl, 11);

static struct st_role
role(bool leader, int32_t epoch, int32_t min_isr, int isr_count, const int32_t *isr)
{
	struct st_role r = { .self_id = 1, .leader = leader, .leader_epoch = epoch,
			     .min_insync_replicas = min_isr, .replica_count = 3,
			     .replicas = { 1, 2, 3 }, .isr_count = isr_count };

	memcpy(r.isr, isr, sizeof(int32_t) * (size_t)isr_count);
	return r;
}

static const int32_t isr_all[] = { 1, 2, 3 };
static const int32_t isr_12[] = { 1, 2 };
static const int32_t isr_1[] = { 1 };

static void
set_role(bool leader, int32_t epoch, int32_t min_isr, int isr_count, const int32_t *isr)
{
	struct st_role r = role(leader, epoch, min_isr, isr_count, isr);

	cr_assert_eq(plog_repl_set_role(tp.plog, &r, tp.now_ms), 0);
}

/* A follower's append of a leader batch at base with epoch. */
static struct plog_append *
replica_append(int64_t base, int32_t epoch, int records, int64_t producer_id)
{
	struct tbatch_spec s = tbatch_spec(records, 20, tp.now_ms);
	struct plog_append *app;
	uint32_t len;
	uint8_t *b;

	s.producer_id = producer_id;
	b = tbatch_build(&s, &len);
	rbatch_set_base_offset(b, base);
	rbatch_set_leader_epoch(b, epoch);
	app = tp_append(&tp, b, len, 1);
	app->flags = ST_APPEND_REPLICA;
	tp_run(&tp);
	return app;
}

static struct rbatch_header
header_at(int64_t offset)
{
	struct plog_region r;

	cr_assert_eq(plog_read_to(tp.plog, offset, 1, tp.plog->hw, &r), 0);
	cr_assert_gt(r.len, 0);
	return tp_region_first(&tp, &r);
}

static void
epoch_end(int32_t asked, int32_t epoch, int64_t end)
{
	int32_t e;
	int64_t o;

	plog_read_epoch_end(tp.plog, asked, &e, &o);
	cr_assert_eq(e, epoch, "asked %d: epoch %d, expected %d", asked, e, epoch);
	cr_assert_eq(o, end, "asked %d: end %ld, expected %ld", asked, (long)o, (long)end);
}

Test(plog_repl, no_role_is_single_broker)
{
	cr_assert_eq(tp_open(&tp), 0);
	tp_write(&tp, 2, 3, 10, tp.now_ms, 0, -1);
	cr_assert_null(tp.plog->repl);
	cr_assert_eq(tp.done_count, 2);
	cr_assert_eq(plog_hw_visible(tp.plog), 6);
	cr_assert_eq(header_at(3).partition_leader_epoch, 0);
	epoch_end(0, 0, 6);
	epoch_end(-1, 0, 6);
	epoch_end(1, -1, -1);
	cr_assert_eq(sio_sim_file_size(tp.sio, "/data/t-0/leader-epoch-checkpoint"), 8);
}

Test(plog_repl, acks_all_waits_for_both_followers)
{
	struct plog_append *a;

	cr_assert_eq(tp_open(&tp), 0);
	set_role(true, 3, 2, 3, isr_all);
	a = tp_append_records(&tp, 5, 10, tp.now_ms, -1);
	tp_run(&tp);
	cr_assert_eq(a->error, -1, "done before the followers fetched");
	cr_assert_eq(header_at(0).partition_leader_epoch, 3);
	cr_assert_eq(plog_hw_visible(tp.plog), 0);
	plog_repl_fetch(tp.plog, 2, 5, tp.now_ms);
	cr_assert_eq(a->error, -1, "follower 3 has not fetched");
	plog_repl_fetch(tp.plog, 3, 3, tp.now_ms);
	cr_assert_eq(a->error, -1);
	cr_assert_eq(plog_hw_visible(tp.plog), 3);
	plog_repl_fetch(tp.plog, 3, 5, tp.now_ms);
	cr_assert_eq(a->error, 0);
	cr_assert_eq(a->base_offset, 0);
	cr_assert_eq(plog_hw_visible(tp.plog), 5);
	epoch_end(3, 3, 5);
	epoch_end(2, 2, 0);     /* older than the first: its start (Kafka) */
}

Test(plog_repl, consumer_reads_stop_at_high_watermark)
{
	struct plog_region r;
	uint32_t first_len;

	cr_assert_eq(tp_open(&tp), 0);
	set_role(true, 1, 1, 2, isr_12);
	tp_write(&tp, 1, 2, 50, tp.now_ms, 0, 1);
	first_len = tp.plog->segs[0]->size;
	tp_write(&tp, 1, 2, 50, tp.now_ms, 0, 1);
	cr_assert_eq(tp.plog->hw, 4);
	plog_repl_fetch(tp.plog, 2, 2, tp.now_ms);
	cr_assert_eq(plog_hw_visible(tp.plog), 2);
	cr_assert_eq(plog_read_to(tp.plog, 0, 1 << 20, plog_hw_visible(tp.plog), &r), 0);
	cr_assert_eq(r.len, (int32_t)first_len);
	cr_assert_eq(plog_read_to(tp.plog, 2, 1 << 20, plog_hw_visible(tp.plog), &r), 0);
	cr_assert_eq(r.len, 0);
	cr_assert_eq(plog_read_to(tp.plog, 0, 1 << 20, tp.plog->hw, &r), 0);
	cr_assert_eq(r.len, (int32_t)tp.plog->segs[0]->size);
	/* The high watermark never goes back. */
	plog_repl_fetch(tp.plog, 2, 1, tp.now_ms);
	cr_assert_eq(plog_hw_visible(tp.plog), 2);
}

Test(plog_repl, follower_dropped_from_isr_completes)
{
	struct plog_append *a;

	cr_assert_eq(tp_open(&tp), 0);
	set_role(true, 1, 2, 3, isr_all);
	a = tp_append_records(&tp, 3, 10, tp.now_ms, -1);
	tp_run(&tp);
	plog_repl_fetch(tp.plog, 2, 3, tp.now_ms);
	cr_assert_eq(a->error, -1);
	set_role(true, 1, 2, 2, isr_12);        /* 3 lagged: shrunk */
	cr_assert_eq(a->error, 0);
	cr_assert_eq(plog_hw_visible(tp.plog), 3);
}

Test(plog_repl, min_isr_refusals)
{
	struct plog_append *a, *b;

	cr_assert_eq(tp_open(&tp), 0);
	set_role(true, 1, 2, 1, isr_1);
	a = tp_append_records(&tp, 3, 10, tp.now_ms, -1);
	tp_run(&tp);
	cr_assert_eq(a->error, KP_ERR_NOT_ENOUGH_REPLICAS);
	cr_assert_eq(tp.plog->next_offset, 0, "written");
	b = tp_append_records(&tp, 3, 10, tp.now_ms, 1);
	tp_run(&tp);
	cr_assert_eq(b->error, 0, "acks=1 does not need the ISR");
	set_role(true, 1, 2, 3, isr_all);
	a = tp_append_records(&tp, 3, 10, tp.now_ms, -1);
	tp_run(&tp);
	cr_assert_eq(a->error, -1);
	set_role(true, 1, 2, 1, isr_1);
	cr_assert_eq(a->error, KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND);
	cr_assert_eq(a->base_offset, -1);
	cr_assert_eq(tp.plog->hw, 6, "the append itself stays in the log");
}

Test(plog_repl, becoming_follower_answers_not_leader)
{
	struct plog_append *a, *b;

	cr_assert_eq(tp_open(&tp), 0);
	set_role(true, 1, 1, 3, isr_all);
	a = tp_append_records(&tp, 3, 10, tp.now_ms, -1);
	tp_run(&tp);
	cr_assert_eq(a->error, -1);
	set_role(false, 2, 1, 3, isr_all);
	cr_assert_eq(a->error, KP_ERR_NOT_LEADER_OR_FOLLOWER);
	b = tp_append_records(&tp, 3, 10, tp.now_ms, 1);
	tp_run(&tp);
	cr_assert_eq(b->error, KP_ERR_NOT_LEADER_OR_FOLLOWER);
	cr_assert_eq(tp.plog->next_offset, 3);
}

Test(plog_repl, caught_up_time_as_kafka)
{
	struct st_leader_stats ls;

	cr_assert_eq(tp_open(&tp), 0);
	set_role(true, 1, 1, 3, isr_all);
	tp_write(&tp, 1, 10, 10, tp.now_ms, 0, 1);
	plog_repl_fetch(tp.plog, 2, 5, tp.now_ms + 100);        /* behind the end, 10 */
	tp_write(&tp, 1, 10, 10, tp.now_ms, 0, 1);
	plog_repl_fetch(tp.plog, 2, 10, tp.now_ms + 200);       /* the end at its last */
	plog_repl_stats(tp.plog, &ls);
	cr_assert_eq(ls.follower_count, 2);
	cr_assert_eq(ls.followers[0].id, 2);
	cr_assert_eq(ls.followers[0].log_end_offset, 10);
	cr_assert_eq(ls.followers[0].last_fetch_ms, tp.now_ms + 200);
	cr_assert_eq(ls.followers[0].last_caught_up_ms, tp.now_ms + 100);
	cr_assert_eq(ls.followers[1].log_end_offset, -1);
	cr_assert_eq(ls.log_end_offset, 20);
	cr_assert_eq(ls.high_watermark, 0, "follower 3 unknown holds it");
	cr_assert_eq(ls.epoch_start_offset, 0);
}

Test(plog_repl, follower_append_keeps_offsets_and_epochs)
{
	struct plog_append *a;

	cr_assert_eq(tp_open(&tp), 0);
	set_role(false, 5, 1, 3, isr_all);
	a = replica_append(0, 4, 5, 77);
	cr_assert_eq(a->error, 0);
	cr_assert_eq(a->base_offset, 0);
	a = replica_append(10, 5, 5, -1);
	cr_assert_eq(a->error, KP_ERR_OFFSET_OUT_OF_RANGE);
	cr_assert_eq(tp.plog->next_offset, 5, "nothing written");
	a = replica_append(5, 5, 5, 77);
	cr_assert_eq(a->error, 0, "the producer's sequences are not checked");
	cr_assert_eq(header_at(0).partition_leader_epoch, 4);
	cr_assert_eq(header_at(7).partition_leader_epoch, 5);
	cr_assert_eq(header_at(7).base_offset, 5);
	cr_assert_eq(pstate_producer_count(tp.plog->ps), 1);
	cr_assert_eq(plog_hw_visible(tp.plog), 0);
	plog_repl_follower_hw(tp.plog, 100);
	cr_assert_eq(plog_hw_visible(tp.plog), 10);
	plog_repl_follower_hw(tp.plog, 4);
	cr_assert_eq(plog_hw_visible(tp.plog), 4);
	epoch_end(5, 5, 10);
	epoch_end(4, 4, 5);
	epoch_end(3, 3, 0);
	epoch_end(6, -1, -1);
	epoch_end(-1, 5, 10);
	cr_assert_eq(plog_epochs_for_offset(tp.plog, 6), 5);
	/* A client's append to a follower, a follower's append to a leader. */
	a = tp_append_records(&tp, 1, 10, tp.now_ms, 1);
	tp_run(&tp);
	cr_assert_eq(a->error, KP_ERR_NOT_LEADER_OR_FOLLOWER);
	set_role(true, 6, 1, 3, isr_all);
	a = replica_append(10, 6, 1, -1);
	cr_assert_eq(a->error, KP_ERR_NOT_LEADER_OR_FOLLOWER);
	epoch_end(5, 5, 10);
	epoch_end(6, 6, 10);
	/* Persisted: the same answers after reopening. */
	tp_close(&tp);
	cr_assert_eq(tp_open(&tp), 0);
	epoch_end(4, 4, 5);
	epoch_end(5, 5, 10);
	epoch_end(6, 6, 10);
	cr_assert_eq(tp.plog->epochs.count, 3);
}

/* Three batches of 5 (epochs 4, 5, 6) in three segments. */
static void
follower_log(void)
{
	cr_assert_eq(tp_open(&tp), 0);
	set_role(false, 6, 1, 3, isr_all);
	cr_assert_eq(replica_append(0, 4, 5, 9)->error, 0);
	cr_assert_eq(plog_roll(tp.plog), 0);
	cr_assert_eq(replica_append(5, 5, 5, 9)->error, 0);
	cr_assert_eq(plog_roll(tp.plog), 0);
	cr_assert_eq(replica_append(10, 6, 5, 9)->error, 0);
	plog_repl_follower_hw(tp.plog, 15);
	tp_run(&tp);
}

static void
check_readable(int64_t end)
{
	struct plog_region r;

	for (int64_t off = 0; off < end; off++) {
		cr_assert_eq(plog_read(tp.plog, off, 1, &r), 0);
		cr_assert_gt(r.len, 0, "offset %ld", (long)off);
	}
	cr_assert_eq(plog_read(tp.plog, end, 1, &r), 0);
	cr_assert_eq(r.len, 0);
}

Test(plog_repl, truncate_then_append_again)
{
	cr_assert_eq(tp.done_count, 0);
	follower_log();
	cr_assert_eq(tp.plog->seg_count, 3);
	cr_assert_eq(plog_truncate(tp.plog, 7), 5, "the whole batch holding 7 goes");
	cr_assert_eq(tp.plog->seg_count, 2);
	cr_assert_eq(tp.plog->next_offset, 5);
	cr_assert_eq(plog_hw_visible(tp.plog), 5);
	cr_assert_eq(tp.plog->epochs.count, 1);
	epoch_end(-1, 4, 5);
	check_readable(5);
	cr_assert_eq(replica_append(5, 7, 3, 9)->error, 0);
	cr_assert_eq(replica_append(8, 7, 2, 9)->error, 0);
	epoch_end(4, 4, 5);
	epoch_end(7, 7, 10);
	check_readable(10);
	cr_assert_eq(header_at(9).partition_leader_epoch, 7);
	/* Truncation past the end does nothing; into the first segment. */
	cr_assert_eq(plog_truncate(tp.plog, 50), 10);
	cr_assert_eq(plog_truncate(tp.plog, 2), 0);
	cr_assert_eq(tp.plog->seg_count, 1);
	cr_assert_eq(tp.plog->epochs.count, 0);
	cr_assert_eq(pstate_producer_count(tp.plog->ps), 0);
	cr_assert_eq(replica_append(0, 8, 4, 9)->error, 0);
	check_readable(4);
	tp_close(&tp);
	cr_assert_eq(tp_open(&tp), 0);
	cr_assert_eq(tp.plog->next_offset, 4);
	epoch_end(-1, 8, 4);
	epoch_end(8, 8, 4);
	check_readable(4);
	cr_assert_eq(pstate_producer_count(tp.plog->ps), 1);
}

Test(plog_repl, truncate_keeps_producer_state_below)
{
	follower_log();
	cr_assert_eq(plog_truncate(tp.plog, 10), 10);
	cr_assert_eq(pstate_producer_count(tp.plog->ps), 1);
	cr_assert_eq(tp.plog->seg_count, 3, "the empty segment at 10 stays");
	epoch_end(5, 5, 10);
	epoch_end(-1, 5, 10);
	check_readable(10);
}

/* The segment's sync fails midway through a truncation and the power goes:
 * the log reopens whole (maybe longer than asked), the epoch cache agrees
 * with it, and the truncation can be done again. */
Test(plog_repl, crash_during_truncation_recovers_consistent)
{
	struct sio_sim_crash how = { .power_loss = true, .torn_bytes = -1 };
	int64_t end;

	follower_log();
	plog_sync(tp.plog);
	tp_run(&tp);
	sio_sim_fail(tp.sio, SIO_SIM_FSYNC, 0, EIO);
	cr_assert_lt(plog_truncate(tp.plog, 7), 0);
	sio_sim_crash(tp.sio, &how);
	tp_run(&tp);
	plog_close(tp.plog, 3);
	tp.plog = NULL;
	cr_assert_eq(tp_open(&tp), 0);
	end = tp.plog->next_offset;
	cr_assert(end == 5 || end == 10 || end == 15, "log end %ld", (long)end);
	check_readable(end);
	for (uint32_t i = 0; i < tp.plog->epochs.count; i++)
		cr_assert_leq(tp.plog->epochs.e[i].start_offset, end);
	cr_assert_eq(plog_epochs_for_offset(tp.plog, end - 1), (int32_t)(end / 5 + 3));
	set_role(false, 6, 1, 3, isr_all);
	cr_assert_eq(plog_truncate(tp.plog, 7), 5);
	check_readable(5);
	cr_assert_eq(plog_epochs_for_offset(tp.plog, 4), 4);
	/* An epoch that began at the end may stay; the next batch replaces it. */
	cr_assert_eq(replica_append(5, 6, 2, 9)->error, 0);
	epoch_end(4, 4, 5);
	epoch_end(5, 4, 5);
	epoch_end(-1, 6, 7);
	tp_close(&tp);
	cr_assert_eq(tp_open(&tp), 0);
	cr_assert_eq(tp.plog->next_offset, 7);
	check_readable(7);
	epoch_end(-1, 6, 7);
}

Test(plog_repl, epoch_cache_file_format)
{
	char buf[64];
	int fd;
	ssize_t n;

	cr_assert_eq(tp_open(&tp), 0);
	set_role(true, 2, 1, 1, isr_1);
	tp_write(&tp, 1, 4, 10, tp.now_ms, 0, 1);
	set_role(true, 7, 1, 1, isr_1);
	fd = sio_open(tp.sio, "/data/t-0/leader-epoch-checkpoint", O_RDONLY, 0);
	cr_assert_geq(fd, 0);
	n = sio_pread(tp.sio, fd, buf, sizeof(buf) - 1, 0);
	sio_close(tp.sio, fd);
	cr_assert_gt(n, 0);
	buf[n] = '\0';
	cr_assert_str_eq(buf, "0\n2\n2 0\n7 4\n");
	/* Becoming leader again at the same epoch adds nothing. */
	set_role(true, 7, 1, 1, isr_1);
	cr_assert_eq(tp.plog->epochs.count, 2);
	cr_assert_eq(plog_hw_visible(tp.plog), 4, "the ISR is the leader alone");
}

Test(plog_repl, watches_wait_on_hw_or_log_end)
{
	struct plog_watch consumer = { .offset = 0, .deadline_ns = UINT64_MAX };
	struct plog_watch replica = { .offset = 0, .deadline_ns = UINT64_MAX, .replica = true };

	cr_assert_eq(tp_open(&tp), 0);
	set_role(true, 1, 1, 2, isr_12);
	plog_watch(tp.plog, &consumer);
	plog_watch(tp.plog, &replica);
	cr_assert_eq(tp.watch_count, 0);
	tp_write(&tp, 1, 3, 10, tp.now_ms, 0, 1);
	cr_assert_eq(tp.watch_count, 1, "the log end passed the follower's offset");
	cr_assert_eq(tp.plog->watches, &consumer);
	plog_repl_fetch(tp.plog, 2, 3, tp.now_ms);
	cr_assert_eq(tp.watch_count, 2, "the high watermark moved: the consumer's too");
	cr_assert_null(tp.plog->watches);
}

/* Regression: an idempotent acks=all retry that is a duplicate of a batch
 * the followers have not fetched yet waits with it, and completes with the
 * original's offsets once the high watermark passes them (it was answered
 * at once, before the batch was committed). */
Test(plog_repl, duplicate_retry_waits_for_the_isr)
{
	struct tbatch_spec s = tbatch_spec(4, 10, tp.now_ms);
	struct plog_append *a, *dup;
	uint8_t *b1, *b2;
	uint32_t len;

	cr_assert_eq(tp_open(&tp), 0);
	set_role(true, 1, 2, 3, isr_all);
	s.producer_id = 7;
	s.producer_epoch = 0;
	s.base_sequence = 0;
	b1 = tbatch_build(&s, &len);
	b2 = tbatch_build(&s, &len);
	a = tp_append(&tp, b1, len, -1);
	tp_run(&tp);
	cr_assert_eq(a->error, -1, "waits for the followers");
	dup = tp_append(&tp, b2, len, -1);
	tp_run(&tp);
	cr_assert_eq(dup->error, -1, "the retry waits too");
	plog_repl_fetch(tp.plog, 2, 4, tp.now_ms);
	plog_repl_fetch(tp.plog, 3, 4, tp.now_ms);
	cr_assert_eq(a->error, 0);
	cr_assert_eq(dup->error, 0);
	cr_assert_eq(dup->base_offset, 0);
	cr_assert_eq(tp.plog->next_offset, 4, "written once");
}

/* An acks=all append bounded by Produce's timeout_ms, not yet run. */
static struct plog_append *
timed_append(int records, int32_t timeout_ms)
{
	struct plog_append *app = tp_append_records(&tp, records, 10, tp.now_ms, -1);

	app->flags = ST_APPEND_TIMEOUT;
	app->timeout_ms = timeout_ms;
	return app;
}

/* Kafka's DelayedProduce: a wait for the ISR that outlives timeout_ms
 * completes REQUEST_TIMED_OUT with its offsets, the records stay; one the
 * followers pass in time completes NONE; one without a timeout (the
 * coordinator's own appends) keeps waiting. The tick finds the expired
 * ones without walking the waiters before the earliest deadline. */
Test(plog_repl, acks_all_wait_times_out)
{
	struct plog_append *a, *b, *c;
	uint64_t t0;

	cr_assert_eq(tp_open(&tp), 0);
	set_role(true, 1, 2, 3, isr_all);
	t0 = clock_mono_ns();
	a = timed_append(2, 100);
	b = timed_append(3, 100);
	c = tp_append_records(&tp, 1, 10, tp.now_ms, -1);
	tp_run(&tp);
	cr_assert_eq(a->error, -1, "waits for the followers");
	cr_assert_eq(b->error, -1);
	cr_assert(plog_timed(tp.plog), "the tick must visit it");
	cr_assert_geq(tp.plog->repl->ack_deadline_ns, t0 + 100 * 1000000ull);
	plog_repl_fetch(tp.plog, 2, 2, tp.now_ms);
	plog_repl_fetch(tp.plog, 3, 2, tp.now_ms);
	cr_assert_eq(a->error, 0, "passed in time");
	plog_tick(tp.plog, tp.now_ms, t0 + 99 * 1000000ull);
	cr_assert_eq(b->error, -1, "not yet");
	plog_tick(tp.plog, tp.now_ms, clock_mono_ns() + 100 * 1000000ull);
	cr_assert_eq(b->error, KP_ERR_REQUEST_TIMED_OUT);
	cr_assert_eq(b->base_offset, 2, "its offsets kept");
	cr_assert_eq(c->error, -1, "no timeout: still waits");
	cr_assert_eq(tp.plog->repl->ack_head, c);
	cr_assert_eq(tp.plog->repl->ack_tail, c);
	cr_assert_eq(tp.plog->repl->ack_deadline_ns, UINT64_MAX);
	cr_assert_eq(tp.plog->next_offset, 6, "the records stay");
	plog_repl_fetch(tp.plog, 2, 6, tp.now_ms);
	plog_repl_fetch(tp.plog, 3, 6, tp.now_ms);
	cr_assert_eq(c->error, 0);
	cr_assert_eq(plog_hw_visible(tp.plog), 6);
	cr_assert_not(plog_timed(tp.plog));
}

/* timeout_ms 0 (or below): not replicated at once -> REQUEST_TIMED_OUT at
 * once, as Kafka's purgatory expires a zero delay; the leader alone in the
 * ISR passes it at once -> NONE. */
Test(plog_repl, acks_all_zero_timeout)
{
	struct plog_append *a, *b;

	cr_assert_eq(tp_open(&tp), 0);
	set_role(true, 1, 1, 2, isr_12);
	a = timed_append(2, 0);
	tp_run(&tp);
	cr_assert_eq(a->error, KP_ERR_REQUEST_TIMED_OUT);
	cr_assert_eq(a->base_offset, 0);
	cr_assert_null(tp.plog->repl->ack_head);
	set_role(true, 1, 1, 1, isr_1);
	b = timed_append(1, 0);
	tp_run(&tp);
	cr_assert_eq(b->error, 0);
	cr_assert_eq(b->base_offset, 2);
}

/* An idempotent retry of a timed-out batch is a duplicate: it waits for
 * the ISR again with its own timeout, with the original's offsets. */
Test(plog_repl, timed_out_retry_waits_again)
{
	struct tbatch_spec s = tbatch_spec(4, 10, tp.now_ms);
	struct plog_append *a, *dup;
	uint8_t *b1, *b2;
	uint32_t len;

	cr_assert_eq(tp_open(&tp), 0);
	set_role(true, 1, 2, 3, isr_all);
	s.producer_id = 7;
	b1 = tbatch_build(&s, &len);
	b2 = tbatch_build(&s, &len);
	a = tp_append(&tp, b1, len, -1);
	a->flags = ST_APPEND_TIMEOUT;
	a->timeout_ms = 10;
	tp_run(&tp);
	plog_tick(tp.plog, tp.now_ms, clock_mono_ns() + 10 * 1000000ull);
	cr_assert_eq(a->error, KP_ERR_REQUEST_TIMED_OUT);
	dup = tp_append(&tp, b2, len, -1);
	dup->flags = ST_APPEND_TIMEOUT;
	dup->timeout_ms = 60000;
	tp_run(&tp);
	cr_assert_eq(dup->error, -1, "the retry waits for the ISR again");
	plog_repl_fetch(tp.plog, 2, 4, tp.now_ms);
	plog_repl_fetch(tp.plog, 3, 4, tp.now_ms);
	cr_assert_eq(dup->error, 0);
	cr_assert_eq(dup->base_offset, 0);
	cr_assert_eq(tp.plog->next_offset, 4, "written once");
}

/* A partition deleted (or closed) while an acks=all append waits for the
 * followers: the append completes with the error, and its completion reads
 * the partition's offsets (the last stable offset from the producer
 * state) before anything is freed. The producer state was freed first and
 * the completion read it: a use-after-free that killed a broker in the
 * cluster suite (reassignment tests deleting topics under load). */
Test(plog_repl, close_with_acks_all_waiting)
{
	struct plog_append *a;

	cr_assert_eq(tp_open(&tp), 0);
	set_role(true, 3, 2, 3, isr_all);
	a = tp_append_records(&tp, 5, 10, tp.now_ms, -1);
	tp_run(&tp);
	cr_assert_eq(a->error, -1, "waits for the followers");
	tp_close(&tp);
	cr_assert_eq(a->error, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
}
