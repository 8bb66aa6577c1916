/* SPDX-License-Identifier: Apache-2.0 */
/* Tests storage/recovery.c through plog_open() on the simulated sio: a torn
 * tail after a crash mid-write, lost unsynced writes after a power loss
 * (acks=all data survives), missing and stale indexes rebuilt, and producer
 * state rebuilt from the snapshot written at roll plus the log after it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "storage/plog_int.h"
#include "storage/pstate.h"
#include "tests/sim/sio_sim.h"
#include "tests/unit/storage/tplog.h"

TP_TEST_SUITE(recovery, 7);

/* Crash, let the dead plog's ops fail, close it, reopen. */
static void
crash_and_reopen(bool power_loss, int64_t torn_bytes)
{
	struct sio_sim_crash how = { .power_loss = power_loss, .torn_bytes = torn_bytes };

	sio_sim_crash(tp.sio, &how);
	tp_run(&tp);
	plog_close(tp.plog, 3);
	tp.plog = NULL;
	cr_assert_eq(tp_open(&tp), 0);
}

static void
check_readable(int64_t end)
{
	struct plog_region r;
	int64_t off;

	for (off = 0; off < end; off++) {
		cr_assert_eq(plog_read(tp.plog, off, 1, &r), 0);
		cr_assert_gt(r.len, 0, "offset %ld", (long)off);
	}
}

Test(recovery, torn_tail_is_cut)
{
	const char *log = "/data/t-0/00000000000000000000.log";
	struct plog_append *a;
	int64_t good;

	tp.cfg.index_interval_bytes = 300;
	cr_assert_eq(tp_open(&tp), 0);
	tp_write(&tp, 20, 2, 100, tp.now_ms, 0, -1);
	good = sio_sim_file_size(tp.sio, log);
	a = tp_append_records(&tp, 2, 100, tp.now_ms, 1);
	plog_append_issue(tp.plog, tp.now_ms);
	crash_and_reopen(false, 40);
	cr_assert_eq(a->error, 56, "the dead write failed");
	cr_assert_eq(sio_sim_file_size(tp.sio, log), good, "torn bytes cut");
	cr_assert_eq(tp.plog->hw, 40);
	check_readable(40);
	a = tp_append_records(&tp, 1, 10, tp.now_ms, 1);
	tp_run(&tp);
	cr_assert_eq(a->base_offset, 40);
}

Test(recovery, power_loss_keeps_synced_data)
{
	cr_assert_eq(tp_open(&tp), 0);
	tp_write(&tp, 10, 3, 100, tp.now_ms, 0, -1);
	tp_write(&tp, 5, 3, 100, tp.now_ms, 0, 1);
	cr_assert_eq(tp.plog->hw, 45);
	crash_and_reopen(true, 0);
	cr_assert_eq(tp.plog->hw, 30, "acks=1 data was never synced");
	check_readable(30);
}

Test(recovery, missing_indexes_rebuilt)
{
	struct plog_region r;

	tp.cfg.segment_bytes = 3000;
	tp.cfg.index_interval_bytes = 256;
	cr_assert_eq(tp_open(&tp), 0);
	tp_write(&tp, 40, 2, 100, tp.now_ms, 1, 1);
	cr_assert_gt(tp.plog->seg_count, 2);
	tp_close(&tp);
	cr_assert_eq(sio_unlink(tp.sio, "/data/t-0/00000000000000000000.index"), 0);
	cr_assert_eq(sio_unlink(tp.sio, "/data/t-0/00000000000000000000.timeindex"), 0);
	cr_assert_eq(tp_open(&tp), 0);
	cr_assert_gt(tp.plog->segs[0]->oidx.entry_count, 0, "sealed index rebuilt");
	cr_assert_eq(sio_sim_file_size(tp.sio, "/data/t-0/00000000000000000000.index"),
		     tp.plog->segs[0]->oidx.entry_count * 8);
	cr_assert_eq(tp.plog->hw, 80);
	check_readable(80);
	cr_assert_eq(plog_read(tp.plog, 5, 1, &r), 0);
}

Test(recovery, stale_active_index_rebuilt)
{
	struct segment_index *idx;
	uint32_t rel, pos, n;
	uint8_t bad[8];
	int fd;

	tp.cfg.index_interval_bytes = 200;
	cr_assert_eq(tp_open(&tp), 0);
	tp_write(&tp, 20, 2, 100, tp.now_ms, 0, -1);
	idx = &plog_active(tp.plog)->oidx;
	n = idx->entry_count;
	cr_assert_gt(n, 3);
	/* The last entry still increases but points inside a batch: stale. */
	segment_index_offset_at(idx, n - 2, &rel, &pos);
	rel += 1;
	pos += 7;
	bad[0] = 0, bad[1] = 0, bad[2] = (uint8_t)(rel >> 8), bad[3] = (uint8_t)rel;
	bad[4] = 0, bad[5] = 0, bad[6] = (uint8_t)(pos >> 8), bad[7] = (uint8_t)pos;
	tp_close(&tp);
	fd = sio_open(tp.sio, "/data/t-0/00000000000000000000.index", 2, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(sio_pwrite(tp.sio, fd, bad, 8, (n - 1) * 8), 8);
	sio_close(tp.sio, fd);
	cr_assert_eq(tp_open(&tp), 0);
	cr_assert_eq(tp.plog->hw, 40);
	cr_assert_eq(plog_active(tp.plog)->oidx.entry_count, n, "rebuilt in full");
	check_readable(40);
}

Test(recovery, garbage_after_the_tail_is_cut)
{
	const char *log = "/data/t-0/00000000000000000000.log";
	uint8_t junk[300];
	int64_t good;
	int fd;

	cr_assert_eq(tp_open(&tp), 0);
	tp_append_records(&tp, 2, 100, tp.now_ms, -1);
	tp_run(&tp);
	tp_close(&tp);
	good = sio_sim_file_size(tp.sio, log);
	memset(junk, 0xab, sizeof(junk));
	fd = sio_open(tp.sio, log, 2, 0);
	sio_pwrite(tp.sio, fd, junk, sizeof(junk), good);
	sio_close(tp.sio, fd);
	cr_assert_eq(tp_open(&tp), 0);
	cr_assert_eq(sio_sim_file_size(tp.sio, log), good);
	cr_assert_eq(tp.plog->hw, 2);
}

Test(recovery, producer_state_from_snapshot_and_log)
{
	struct tbatch_spec s;
	struct plog_append *a;
	uint32_t len;
	uint8_t *b;
	int i;

	tp.cfg.segment_bytes = 700;
	cr_assert_eq(tp_open(&tp), 0);
	for (i = 0; i < 10; i++) {
		s = tbatch_spec(2, 100, tp.now_ms);
		s.producer_id = 77;
		s.producer_epoch = 0;
		s.base_sequence = 2 * i;
		b = tbatch_build(&s, &len);
		tp_append(&tp, b, len, -1);
		tp_run(&tp);
	}
	cr_assert_gt(tp.plog->seg_count, 2);
	crash_and_reopen(false, 0);
	cr_assert_eq(pstate_producer_count(tp.plog->ps), 1);
	/* A retry of the last batch is a duplicate with its original offset. */
	s = tbatch_spec(2, 100, tp.now_ms);
	s.producer_id = 77;
	s.producer_epoch = 0;
	s.base_sequence = 18;
	b = tbatch_build(&s, &len);
	a = tp_append(&tp, b, len, 1);
	tp_run(&tp);
	cr_assert_eq(a->error, 0);
	cr_assert_eq(a->base_offset, 18);
	cr_assert_eq(tp.plog->hw, 20, "nothing appended");
	/* Out of sequence is rejected. */
	s.base_sequence = 25;
	b = tbatch_build(&s, &len);
	a = tp_append(&tp, b, len, 1);
	tp_run(&tp);
	cr_assert_eq(a->error, 45);
}

/* A sealed segment ending in a torn batch (the power-loss image of a roll
 * whose flush never ran: the segment's last write only partly reached the
 * disk, the next segment exists) is cut after its last whole batch, its
 * indexes rebuilt, and every offset still served reads whole batches. */
Test(recovery, torn_tail_of_a_sealed_segment_is_cut)
{
	const char *log = "/data/t-0/00000000000000000000.log";
	struct plog_region r;
	int64_t size, off;
	uint8_t junk[60];
	int fd;

	tp.cfg.segment_bytes = 2000;
	tp.cfg.index_interval_bytes = 256;
	cr_assert_eq(tp_open(&tp), 0);
	tp_write(&tp, 30, 2, 100, tp.now_ms, 0, 1);
	cr_assert_gt(tp.plog->seg_count, 2);
	tp_close(&tp);
	/* Tear the first segment's last batch: its last 60 bytes become junk. */
	size = sio_sim_file_size(tp.sio, log);
	memset(junk, 0, sizeof(junk));
	fd = sio_open(tp.sio, log, 2, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(sio_pwrite(tp.sio, fd, junk, sizeof(junk), size - 60), 60);
	sio_close(tp.sio, fd);
	cr_assert_eq(tp_open(&tp), 0);
	cr_assert_lt(sio_sim_file_size(tp.sio, log), size - 60, "cut at a batch boundary");
	cr_assert_eq(tp.plog->segs[0]->size, sio_sim_file_size(tp.sio, log));
	cr_assert_eq(tp.plog->hw, 60, "later segments untouched");
	for (off = 0; off < 60; off++) {
		struct rbatch_header h;

		cr_assert_eq(plog_read(tp.plog, off, 1, &r), 0);
		if (r.len == 0)
			continue;
		h = tp_region_first(&tp, &r);
		cr_assert_geq(h.base_offset + h.last_offset_delta, off, "offset %ld",
			      (long)off);
	}
}

/* A roll asks for a sync of the sealed segment (Kafka flushes on roll),
 * even when nothing else would sync: acks=1 writes, no flush policy. */
Test(recovery, roll_syncs_the_sealed_segment)
{
	tp.cfg.segment_bytes = 2000;
	cr_assert_eq(tp_open(&tp), 0);
	tp_write(&tp, 30, 2, 100, tp.now_ms, 0, 1);
	cr_assert_gt(tp.plog->seg_count, 2);
	cr_assert_geq(tp.plog->fdatasync_count, tp.plog->seg_count - 1);
	cr_assert_eq(tp.plog->segs[0]->synced_size, tp.plog->segs[0]->size);
	cr_assert_eq(tp.plog->segs[tp.plog->seg_count - 2]->synced_size,
		     tp.plog->segs[tp.plog->seg_count - 2]->size);
}
