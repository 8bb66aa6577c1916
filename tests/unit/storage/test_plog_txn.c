/* SPDX-License-Identifier: Apache-2.0 */
/* Transactions in a partition log (storage/plog_txn.c, pstate_txn.c,
 * txn_marker.c) on the simulated sio: the last stable offset moves with
 * transactions opened, committed and aborted by several producers and on
 * several partitions; an ABORT is indexed in the segment's .txnindex; a
 * marker with an older producer or coordinator epoch is refused, as are a
 * client's control batch and a non-transactional batch inside a
 * transaction; recovery (snapshot + replay of the markers) gives back the
 * same LSO and index, also when the .txnindex was lost. */
#include <criterion/criterion.h>
#include <errno.h>
#include <isa-l/crc.h>
#include <stdlib.h>
#include <string.h>

#include "common/be.h"
#include "common/kafka_errors.h"
#include "common/rbatch.h"
#include "storage/plog_int.h"
#include "storage/pstate.h"
#include "storage/txn_marker.h"
#include "tests/sim/sio_sim.h"
#include "tests/unit/storage/tplog.h"

TP_TEST_SUITE(plog_txn, 11);

#define SEG0_TXNINDEX "/data/t-0/00000000000000000000.txnindex"

/* A batch of n records from producer pid (epoch, first sequence), marked
 * transactional when txn. */
static struct plog_append *
append_data(int64_t pid, int16_t epoch, int32_t seq, int n, bool txn)
{
	struct tbatch_spec s = tbatch_spec(n, 10, tp.now_ms);
	uint8_t *b;
	uint32_t len;

	s.producer_id = pid;
	s.producer_epoch = epoch;
	s.base_sequence = seq;
	b = tbatch_build(&s, &len);
	if (txn) {
		be_write16(b + 21, be_read16(b + 21) | RBATCH_ATTR_TRANSACTIONAL);
		be_write32(b + 17, rbatch_crc_compute(b, len));
	}
	return tp_append(&tp, b, len, -1);
}

static struct plog_append *
append_marker(int64_t pid, int16_t epoch, int32_t coord_epoch, int16_t type, uint8_t flags)
{
	struct txn_marker m = {
		.producer_id = pid, .producer_epoch = epoch, .coordinator_epoch = coord_epoch,
		.type = type, .timestamp_ms = tp.now_ms,
	};
	uint8_t *b = malloc(TXN_MARKER_BYTES);
	struct plog_append *app;

	cr_assert_not_null(b);
	txn_marker_build(&m, b);
	app = tp_append(&tp, b, TXN_MARKER_BYTES, -1);
	app->flags = flags;
	return app;
}

static int16_t
run_one(struct plog_append *app)
{
	tp_run(&tp);
	return app->error;
}

static uint32_t
aborted(int64_t from, int64_t upper, struct txn_aborted *e, uint32_t max)
{
	struct txn_aborted_list out = { .e = e, .max = max };

	cr_assert_geq(plog_txn_collect(tp.plog, from, upper, &out), 0);
	return out.count;
}

Test(plog_txn, marker_batch_round_trip)
{
	struct txn_marker m = { 7, 3, 9, TXN_MARKER_COMMIT, 1234 }, r;
	uint8_t b[TXN_MARKER_BYTES];

	txn_marker_build(&m, b);
	cr_assert(rbatch_crc_ok(b, sizeof(b)));
	cr_assert(txn_marker_parse(b, sizeof(b), &r));
	cr_assert_eq(r.producer_id, 7);
	cr_assert_eq(r.producer_epoch, 3);
	cr_assert_eq(r.coordinator_epoch, 9);
	cr_assert_eq(r.type, TXN_MARKER_COMMIT);
	b[RBATCH_HEADER_BYTES + 8] = 5;         /* type 5: not a marker */
	cr_assert_not(txn_marker_parse(b, sizeof(b), &r));
}

/* pstate alone: two producers' transactions, the LSO below the HW. */
Test(plog_txn, pstate_first_unstable_moves)
{
	struct pstate *ps = pstate_create();
	struct pstate_txn_end end;

	cr_assert_eq(pstate_record(ps, 1, 0, 0, 4, 0, 4, 0), 0);
	cr_assert_eq(pstate_txn_begin(ps, 1, 0), 0);
	cr_assert_eq(pstate_record(ps, 2, 0, 0, 4, 5, 9, 0), 0);
	cr_assert_eq(pstate_txn_begin(ps, 2, 5), 0);
	cr_assert_eq(pstate_first_unstable(ps, 10), 0);
	cr_assert_eq(pstate_txn_check(ps, 1, false), KP_ERR_INVALID_TXN_STATE);
	cr_assert_eq(pstate_txn_end(ps, 1, 0, 0, 10, 0, &end), 0);
	cr_assert(end.ended);
	cr_assert_eq(end.first_offset, 0);
	cr_assert_eq(end.last_stable_offset, 5, "producer 2's transaction is still open");
	/* The marker at 10 is not below the HW yet: still unstable from 0. */
	cr_assert_eq(pstate_first_unstable(ps, 10), 0);
	cr_assert_eq(pstate_first_unstable(ps, 11), 5);
	cr_assert_eq(pstate_txn_end(ps, 2, 0, 0, 11, 0, &end), 0);
	cr_assert_eq(end.last_stable_offset, 12);
	cr_assert_eq(pstate_first_unstable(ps, 12), -1);
	cr_assert_eq(pstate_txn_count(ps), 0);
	/* A marker for a producer without a transaction ends nothing. */
	cr_assert_eq(pstate_txn_end(ps, 3, 0, 0, 12, 0, &end), 0);
	cr_assert_not(end.ended);
	pstate_destroy(ps);
}

Test(plog_txn, lso_open_commit_abort_two_producers)
{
	struct txn_aborted e[4];

	cr_assert_eq(tp_open(&tp), 0);
	tp_append_records(&tp, 2, 10, tp.now_ms, -1);           /* 0-1, no producer */
	append_data(100, 0, 0, 3, true);                        /* 2-4 txn A */
	append_data(200, 0, 0, 2, true);                        /* 5-6 txn B */
	append_data(100, 0, 3, 1, true);                        /* 7 txn A */
	tp_run(&tp);
	cr_assert_eq(tp.plog->hw, 8);
	cr_assert_eq(plog_lso(tp.plog), 2);
	cr_assert_eq(pstate_txn_first_offset(tp.plog->ps, 100), 2);
	/* B commits: A still holds the LSO. */
	cr_assert_eq(run_one(append_marker(200, 0, 0, TXN_MARKER_COMMIT, ST_APPEND_MARKER)), 0);
	cr_assert_eq(plog_lso(tp.plog), 2);
	cr_assert_eq(tp.plog->segs[0]->txn.entry_count, 0, "a commit is not indexed");
	/* A aborts at 9: stable to the log end. */
	cr_assert_eq(run_one(append_marker(100, 0, 0, TXN_MARKER_ABORT, ST_APPEND_MARKER)), 0);
	cr_assert_eq(tp.plog->hw, 10);
	cr_assert_eq(plog_lso(tp.plog), 10);
	cr_assert_eq(aborted(0, 10, e, 4), 1);
	cr_assert_eq(e[0].producer_id, 100);
	cr_assert_eq(e[0].first_offset, 2);
	cr_assert_eq(e[0].last_offset, 9);
	cr_assert_eq(e[0].last_stable_offset, 10);
	cr_assert_eq(aborted(10, 12, e, 4), 0, "ended before the fetch");
	/* B again, then A: the LSO follows B's new transaction. */
	append_data(200, 0, 2, 1, true);                        /* 10 */
	tp_run(&tp);
	cr_assert_eq(plog_lso(tp.plog), 10);
	append_data(100, 0, 4, 1, true);                        /* 11 */
	tp_run(&tp);
	cr_assert_eq(run_one(append_marker(200, 0, 0, TXN_MARKER_ABORT, ST_APPEND_MARKER)), 0);
	cr_assert_eq(plog_lso(tp.plog), 11);
	cr_assert_eq(aborted(0, 13, e, 4), 2);
	cr_assert_eq(e[1].first_offset, 10);
	cr_assert_eq(e[1].last_offset, 12);
	cr_assert_eq(e[1].last_stable_offset, 11, "A was open when B aborted");
}

Test(plog_txn, refusals)
{
	struct plog_append *a;

	cr_assert_eq(tp_open(&tp), 0);
	append_data(100, 2, 0, 1, true);
	tp_run(&tp);
	/* A client's control batch (no ST_APPEND_MARKER). */
	cr_assert_eq(run_one(append_marker(100, 2, 0, TXN_MARKER_COMMIT, 0)),
		     KP_ERR_INVALID_RECORD);
	/* A non-transactional batch inside the producer's transaction. */
	cr_assert_eq(run_one(append_data(100, 2, 1, 1, false)), KP_ERR_INVALID_TXN_STATE);
	/* A data batch flagged as a marker. */
	a = append_data(100, 2, 1, 1, true);
	a->flags = ST_APPEND_MARKER;
	cr_assert_eq(run_one(a), KP_ERR_INVALID_RECORD);
	/* Stale producer epoch: nothing written, the transaction stays. */
	cr_assert_eq(run_one(append_marker(100, 1, 0, TXN_MARKER_ABORT, ST_APPEND_MARKER)),
		     KP_ERR_INVALID_PRODUCER_EPOCH);
	cr_assert_eq(tp.plog->hw, 1);
	cr_assert_eq(plog_lso(tp.plog), 0);
	cr_assert_eq(run_one(append_marker(100, 2, 5, TXN_MARKER_ABORT, ST_APPEND_MARKER)), 0);
	cr_assert_eq(plog_lso(tp.plog), 2);
	/* An older coordinator epoch than the last marker's. */
	cr_assert_eq(run_one(append_marker(100, 2, 4, TXN_MARKER_ABORT, ST_APPEND_MARKER)),
		     KP_ERR_TRANSACTION_COORDINATOR_FENCED);
	/* A newer producer epoch (the coordinator's bump) is taken. */
	cr_assert_eq(run_one(append_marker(100, 3, 5, TXN_MARKER_ABORT, ST_APPEND_MARKER)), 0);
	cr_assert_eq(run_one(append_data(100, 2, 1, 1, true)), KP_ERR_INVALID_PRODUCER_EPOCH);
	cr_assert_eq(run_one(append_data(100, 3, 0, 1, true)), 0);
}

/* Two partitions' logs keep their own transactions. */
Test(plog_txn, partitions_independent)
{
	static const uint8_t id[16] = { 1, 2, 3 };
	struct plog *p0;

	cr_assert_eq(tp_open(&tp), 0);
	append_data(100, 0, 0, 2, true);
	tp_run(&tp);
	p0 = tp.plog;
	tp.plog = NULL;
	{
		struct plog_open_args a = {
			.sio = tp.sio, .fc = &tp.fc, .log_dir = tp.log_dir, .topic_name = "t",
			.topic_id = id, .partition = 1, .cfg = &tp.cfg, .ops = p0->ops,
			.ops_ctx = p0->ops_ctx,
			.now_ms = tp.now_ms,
		};
		int err = 0;

		tp.plog = plog_open(&a, &err);
		cr_assert_not_null(tp.plog);
	}
	tp_append_records(&tp, 3, 10, tp.now_ms, -1);
	append_data(100, 0, 2, 1, true);
	tp_run(&tp);
	cr_assert_eq(plog_lso(tp.plog), 3);
	cr_assert_eq(run_one(append_marker(100, 0, 0, TXN_MARKER_COMMIT, ST_APPEND_MARKER)), 0);
	cr_assert_eq(plog_lso(tp.plog), 5);
	cr_assert_eq(plog_lso(p0), 0, "partition 0's transaction is still open");
	plog_close(tp.plog, 3);
	tp.plog = p0;
}

static void
reopen(bool drop_txnindex)
{
	tp_close(&tp);
	if (drop_txnindex)
		cr_assert_eq(sio_unlink(tp.sio, SEG0_TXNINDEX), 0);
	cr_assert_eq(tp_open(&tp), 0);
}

/* Open + aborted + committed transactions, then a reopen (with and without
 * the .txnindex, and after a roll: the snapshot carries the open one). */
static void
recovery_case(bool drop_txnindex, bool roll)
{
	struct txn_aborted e[4];
	int64_t lso;

	cr_assert_eq(tp_open(&tp), 0);
	append_data(100, 0, 0, 2, true);                        /* 0-1 A */
	append_data(200, 0, 0, 2, true);                        /* 2-3 B */
	append_data(300, 0, 0, 1, true);                        /* 4 C */
	tp_run(&tp);
	cr_assert_eq(run_one(append_marker(100, 0, 0, TXN_MARKER_ABORT, ST_APPEND_MARKER)), 0);
	cr_assert_eq(run_one(append_marker(300, 0, 0, TXN_MARKER_COMMIT, ST_APPEND_MARKER)), 0);
	if (roll) {
		cr_assert_eq(plog_roll(tp.plog), 0);
		append_data(400, 0, 0, 1, true);                /* 7 D */
		tp_run(&tp);
	}
	lso = plog_lso(tp.plog);
	cr_assert_eq(lso, 2, "B is open");
	reopen(drop_txnindex);
	cr_assert_eq(plog_lso(tp.plog), lso);
	cr_assert_eq(pstate_txn_first_offset(tp.plog->ps, 200), 2);
	cr_assert_eq(pstate_txn_first_offset(tp.plog->ps, 100), -1);
	cr_assert_eq(aborted(0, 100, e, 4), 1);
	cr_assert_eq(e[0].producer_id, 100);
	cr_assert_eq(e[0].first_offset, 0);
	cr_assert_eq(e[0].last_offset, 5);
	cr_assert_eq(e[0].last_stable_offset, 2);
	/* B ends after the restart as it would have before. */
	cr_assert_eq(run_one(append_marker(200, 0, 0, TXN_MARKER_ABORT, ST_APPEND_MARKER)), 0);
	cr_assert_eq(plog_lso(tp.plog), roll ? 7 : tp.plog->hw);
	cr_assert_eq(aborted(0, 100, e, 4), 2);
}

Test(plog_txn, recovery_replays_markers) { recovery_case(false, false); }
Test(plog_txn, recovery_rebuilds_lost_txnindex) { recovery_case(true, false); }
Test(plog_txn, recovery_from_snapshot_after_roll) { recovery_case(false, true); }

/* A crash after the marker was acknowledged (acks=all: synced; the
 * .txnindex is not synced with it): the entry survives a process crash
 * and, lost with the page cache in a power loss, comes back from the
 * marker. */
static void
crash_case(bool power_loss)
{
	struct sio_sim_crash how = { .power_loss = power_loss, .torn_bytes = 0 };
	struct txn_aborted e[2];

	cr_assert_eq(tp_open(&tp), 0);
	append_data(100, 0, 0, 2, true);
	tp_run(&tp);
	cr_assert_eq(run_one(append_marker(100, 0, 0, TXN_MARKER_ABORT, ST_APPEND_MARKER)), 0);
	sio_sim_crash(tp.sio, &how);
	tp_run(&tp);
	plog_close(tp.plog, 3);
	tp.plog = NULL;
	cr_assert_eq(tp_open(&tp), 0);
	cr_assert_eq(tp.plog->hw, 3, "acks=all data survives");
	cr_assert_eq(plog_lso(tp.plog), 3);
	cr_assert_eq(aborted(0, 3, e, 2), 1);
	cr_assert_eq(e[0].last_offset, 2);
	cr_assert_eq(e[0].first_offset, 0);
}

Test(plog_txn, crash_keeps_abort_index) { crash_case(false); }
Test(plog_txn, power_loss_rebuilds_abort_index) { crash_case(true); }

/* A follower applies the leader's markers unchecked; its LSO waits for
 * its high watermark to pass the marker, as Kafka's unreplicatedTxns. */
Test(plog_txn, follower_applies_markers)
{
	struct st_role r = { .self_id = 2, .leader = false, .leader_epoch = 1,
			     .min_insync_replicas = 1, .replica_count = 2, .replicas = { 1, 2 },
			     .isr_count = 2, .isr = { 1, 2 } };
	struct txn_marker m = { .producer_id = 7, .producer_epoch = 0, .type = TXN_MARKER_ABORT };
	struct txn_aborted e[2];
	struct plog_append *a;
	uint8_t *b;

	cr_assert_eq(tp_open(&tp), 0);
	cr_assert_eq(plog_repl_set_role(tp.plog, &r, tp.now_ms), 0);
	a = append_data(7, 0, 0, 2, true);
	rbatch_set_base_offset(a->batch, 0);
	a->flags = ST_APPEND_REPLICA;
	a->acks = 1;            /* as st_req_append() makes a follower's */
	cr_assert_eq(run_one(a), 0, "error %d", a->error);
	b = malloc(TXN_MARKER_BYTES);
	cr_assert_not_null(b);
	txn_marker_build(&m, b);
	rbatch_set_base_offset(b, 2);
	a = tp_append(&tp, b, TXN_MARKER_BYTES, 1);
	a->flags = ST_APPEND_REPLICA;
	cr_assert_eq(run_one(a), 0, "error %d", a->error);
	plog_repl_follower_hw(tp.plog, 2);
	cr_assert_eq(plog_lso(tp.plog), 0, "the marker is not below the high watermark");
	plog_repl_follower_hw(tp.plog, 3);
	cr_assert_eq(plog_lso(tp.plog), 3);
	cr_assert_eq(aborted(0, 3, e, 2), 1);
	cr_assert(e[0].first_offset == 0 && e[0].last_offset == 2);
}

/* A write given back (plog_append_undo/requeue) reopens the transaction
 * its marker had ended. */
Test(plog_txn, truncate_reopens)
{
	struct pstate *ps = pstate_create();
	struct pstate_txn_end end;

	cr_assert_eq(pstate_record(ps, 1, 0, 0, 1, 0, 1, 0), 0);
	cr_assert_eq(pstate_txn_begin(ps, 1, 0), 0);
	cr_assert_eq(pstate_txn_end(ps, 1, 0, 0, 5, 0, &end), 0);
	cr_assert_eq(pstate_record(ps, 1, 0, 2, 2, 6, 6, 0), 0);
	cr_assert_eq(pstate_txn_begin(ps, 1, 6), 0);
	pstate_truncate(ps, 5);
	cr_assert_eq(pstate_txn_first_offset(ps, 1), 0);
	cr_assert_eq(pstate_first_unstable(ps, 100), 0);
	cr_assert_eq(pstate_txn_count(ps), 1);
	pstate_truncate(ps, 0);
	cr_assert_eq(pstate_txn_first_offset(ps, 1), -1);
	cr_assert_eq(pstate_first_unstable(ps, 100), -1);
	pstate_destroy(ps);
}

static uint8_t *
put(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		*p++ = (uint8_t)(v >> (8 * i));
	return p;
}

/* A version 1 snapshot (before transactions) still loads; a version 2
 * one carries the open transaction. */
Test(plog_txn, snapshot_versions)
{
	struct pstate *ps = pstate_create(), *back = pstate_create();
	uint8_t v1[80], *w = v1, *buf;
	struct pstate_dup dup;
	int16_t err;
	size_t n;

	w = put(w, 0x53505053u, 4);
	w = put(w, 1, 4);
	w = put(w, 1, 4);
	w = put(w, 9, 8);               /* pid */
	w = put(w, 2, 2);               /* epoch */
	w = put(w, 1, 2);               /* batches */
	w = put(w, 100, 8);             /* last timestamp */
	w = put(w, 0, 4);
	w = put(w, 4, 4);
	w = put(w, 10, 8);
	w = put(w, 14, 8);
	w = put(w, 100, 8);
	w = put(w, ~crc32_iscsi(v1, (int)(w - v1), 0xffffffffu), 4);
	cr_assert_eq(pstate_snapshot_read(ps, v1, (size_t)(w - v1)), 0);
	cr_assert_eq(pstate_check(ps, 9, 2, 0, 4, &dup, &err), PSTATE_DUPLICATE);
	cr_assert_eq(dup.base_offset, 10);
	cr_assert_eq(pstate_txn_first_offset(ps, 9), -1);

	cr_assert_eq(pstate_record(ps, 9, 2, 5, 5, 15, 15, 200), 0);
	cr_assert_eq(pstate_txn_begin(ps, 9, 15), 0);
	n = pstate_snapshot_size(ps);
	buf = malloc(n);
	cr_assert_not_null(buf);
	pstate_snapshot_write(ps, buf);
	cr_assert_eq(pstate_snapshot_read(back, buf, n), 0);
	cr_assert_eq(pstate_txn_first_offset(back, 9), 15);
	cr_assert_eq(pstate_first_unstable(back, 100), 15);
	cr_assert_eq(pstate_check(back, 9, 2, 6, 6, &dup, &err), PSTATE_APPEND);
	free(buf);
	pstate_destroy(ps);
	pstate_destroy(back);
}

/* The cleaner gets only the sealed segments below the LSO. */
Test(plog_txn, cleaner_stops_at_lso)
{
	cr_assert_eq(tp_open(&tp), 0);
	tp_append_records(&tp, 2, 10, tp.now_ms, -1);           /* 0-1 */
	tp_run(&tp);
	cr_assert_eq(plog_roll(tp.plog), 0);
	append_data(100, 0, 0, 2, true);                        /* 2-3 */
	tp_run(&tp);
	cr_assert_eq(plog_roll(tp.plog), 0);
	tp_append_records(&tp, 2, 10, tp.now_ms, -1);           /* 4-5 */
	tp_run(&tp);
	cr_assert_eq(plog_roll(tp.plog), 0);
	cr_assert_eq(tp.plog->seg_count, 4);
	cr_assert_eq(plog_txn_cleanable(tp.plog), 1, "the open transaction's segment stays");
	cr_assert_eq(run_one(append_marker(100, 0, 0, TXN_MARKER_COMMIT, ST_APPEND_MARKER)), 0);
	cr_assert_eq(plog_txn_cleanable(tp.plog), 3, "every sealed segment");
}

/* An aborted transaction whose marker landed segments after the data a
 * read_committed fetch returns is still listed: Kafka's
 * collectAbortedTransactions goes on through later segments until an entry
 * with lastStableOffset >= the upper bound ends the search. */
Test(plog_txn, abort_marker_in_a_later_segment)
{
	struct txn_aborted e[4];

	cr_assert_eq(tp_open(&tp), 0);
	append_data(100, 0, 0, 3, true);                        /* 0-2 A */
	tp_run(&tp);
	cr_assert_eq(plog_roll(tp.plog), 0);                    /* segment 3 */
	append_data(-1, -1, -1, 2, false);                      /* 3-4 */
	tp_run(&tp);
	cr_assert_eq(plog_roll(tp.plog), 0);                    /* segment 5 */
	cr_assert_eq(run_one(append_marker(100, 0, 0, TXN_MARKER_ABORT, ST_APPEND_MARKER)), 0);
	cr_assert_eq(tp.plog->seg_count, 3);
	/* The data read from offset 0 ends at 3: the marker is at 5. */
	cr_assert_eq(aborted(0, 3, e, 4), 1, "the abort indexed two segments later");
	cr_assert_eq(e[0].producer_id, 100);
	cr_assert_eq(e[0].first_offset, 0);
	cr_assert_eq(e[0].last_offset, 5);
	/* Records of other producers inside its span overlap it too. */
	cr_assert_eq(aborted(3, 5, e, 4), 1);
}
