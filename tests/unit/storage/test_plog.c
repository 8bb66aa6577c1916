/* SPDX-License-Identifier: Apache-2.0 */
/* Tests storage/plog.c (with segment.c, segment_index.c and plog_dir.c) on
 * the simulated sio (tests/sim/sio_sim.c): the files a new partition gets,
 * offsets across one writev, roll by size and time with the index lookups
 * after it, and retention by time and size. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/plog_int.h"
#include "tests/sim/sio_sim.h"
#include "tests/unit/storage/tplog.h"

TP_TEST_SUITE(plog, 42);

Test(plog, files_and_offsets)
{
	struct plog_append *a, *b;

	cr_assert_eq(tp_open(&tp), 0);
	cr_assert(sio_sim_exists(tp.sio, "/data/t-0/00000000000000000000.log"));
	cr_assert(sio_sim_exists(tp.sio, "/data/t-0/00000000000000000000.index"));
	cr_assert(sio_sim_exists(tp.sio, "/data/t-0/00000000000000000000.timeindex"));
	cr_assert(sio_sim_exists(tp.sio, "/data/t-0/partition.metadata"));
	cr_assert(sio_sim_exists(tp.sio, "/data/t-0/leader-epoch-checkpoint"));
	a = tp_append_records(&tp, 3, 10, tp.now_ms, 1);
	b = tp_append_records(&tp, 2, 10, tp.now_ms, 1);
	tp_run(&tp);
	cr_assert_eq(a->error, 0);
	cr_assert_eq(a->base_offset, 0);
	cr_assert_eq(b->base_offset, 3);
	cr_assert_eq(tp.plog->hw, 5);
	cr_assert_eq(tp.plog->write_count, 1, "both batches went in one writev");
	cr_assert_eq(sio_sim_file_size(tp.sio, "/data/t-0/00000000000000000000.log"),
		     a->len + b->len);
}

Test(plog, roll_by_size_and_index_lookup)
{
	struct plog_region r;
	struct rbatch_header h;
	int64_t off;
	int i;

	tp.cfg.segment_bytes = 4096;
	tp.cfg.index_interval_bytes = 512;
	cr_assert_eq(tp_open(&tp), 0);
	tp_write(&tp, 100, 2, 150, tp.now_ms, 1, 1);
	cr_assert_gt(tp.plog->seg_count, 5);
	for (i = 0; i < (int)tp.plog->seg_count; i++)
		cr_assert_leq(tp.plog->segs[i]->size, 4096);
	cr_assert(sio_sim_exists(tp.sio, "/data/t-0/00000000000000000000.log"));
	cr_assert_eq(tp.plog->segs[1]->base_offset, tp.plog->segs[0]->next_offset);
	/* Sealed indexes are trimmed to their entries, like Kafka's. */
	cr_assert_eq(sio_sim_file_size(tp.sio, "/data/t-0/00000000000000000000.index"),
		     tp.plog->segs[0]->oidx.entry_count * 8);
	for (off = 0; off < 200; off += 7) {
		cr_assert_eq(plog_read(tp.plog, off, 1, &r), 0);
		h = tp_region_first(&tp, &r);
		cr_assert_leq(h.base_offset, off);
		cr_assert_geq(h.base_offset + h.last_offset_delta, off);
	}
}

Test(plog, roll_by_time)
{
	tp.cfg.segment_ms = 1000;
	cr_assert_eq(tp_open(&tp), 0);
	tp_append_records(&tp, 1, 10, tp.now_ms, 1);
	tp_run(&tp);
	tp.now_ms += 2000;
	tp_append_records(&tp, 1, 10, tp.now_ms, 1);
	tp_run(&tp);
	cr_assert_eq(tp.plog->seg_count, 2);
	cr_assert_eq(plog_active(tp.plog)->base_offset, 1);
	cr_assert(sio_sim_exists(tp.sio, "/data/t-0/00000000000000000001.snapshot"));
}

/* A snapshot whose write fails leaves neither it nor its temporary file, and
 * the roll still happens (a missing snapshot costs only recovery time). */
Test(plog, roll_with_failed_snapshot_write)
{
	tp.cfg.segment_ms = 1000;
	cr_assert_eq(tp_open(&tp), 0);
	tp_append_records(&tp, 1, 10, tp.now_ms, 1);
	tp_run(&tp);
	tp.now_ms += 2000;
	sio_sim_fail(tp.sio, SIO_SIM_PWRITE, 0, EIO);
	tp_append_records(&tp, 1, 10, tp.now_ms, 1);
	tp_run(&tp);
	cr_assert_eq(tp.plog->seg_count, 2);
	cr_assert_not(sio_sim_exists(tp.sio, "/data/t-0/00000000000000000001.snapshot"));
	cr_assert_not(sio_sim_exists(tp.sio, "/data/t-0/00000000000000000001.snapshot.tmp"));
}

Test(plog, retention_by_size_and_time)
{
	int n;

	tp.cfg.segment_bytes = 2048;
	cr_assert_eq(tp_open(&tp), 0);
	tp_write(&tp, 60, 1, 200, tp.now_ms - 100000, 1, 1);
	n = (int)tp.plog->seg_count;
	cr_assert_gt(n, 4);
	tp.plog->cfg.retention_bytes = 5000;
	cr_assert_gt(plog_retention(tp.plog, tp.now_ms), 0);
	cr_assert_lt((int)tp.plog->seg_count, n);
	cr_assert_eq(tp.plog->log_start_offset, tp.plog->segs[0]->base_offset);
	cr_assert_gt(tp.plog->log_start_offset, 0);
	cr_assert_not(sio_sim_exists(tp.sio, "/data/t-0/00000000000000000000.log"));
	cr_assert_not(sio_sim_exists(tp.sio, "/data/t-0/00000000000000000000.index"));
	/* Time: everything is older than 50 s, but the active segment stays. */
	tp.plog->cfg.retention_bytes = -1;
	tp.plog->cfg.retention_ms = 50000;
	plog_sweep(tp.plog, tp.now_ms);
	cr_assert_eq(tp.plog->seg_count, 1);
	cr_assert_eq(tp.plog->log_start_offset, plog_active(tp.plog)->base_offset);
	struct plog_region r;
	cr_assert_eq(plog_read(tp.plog, 0, 100, &r), KP_ERR_OFFSET_OUT_OF_RANGE);
}

Test(plog, retention_keeps_a_read_segment_open)
{
	struct plog_region r;
	struct rbatch_header h;

	tp.cfg.segment_bytes = 1024;
	cr_assert_eq(tp_open(&tp), 0);
	tp_write(&tp, 10, 1, 300, tp.now_ms, 0, 1);
	cr_assert_eq(plog_read(tp.plog, 0, 100, &r), 0);
	cr_assert_eq(segment_hold(r.seg), 0);
	tp.plog->cfg.retention_bytes = 0;
	cr_assert_gt(plog_retention(tp.plog, tp.now_ms), 0);
	cr_assert_not(sio_sim_exists(tp.sio, "/data/t-0/00000000000000000000.log"));
	h = tp_region_first(&tp, &r);
	cr_assert_eq(h.base_offset, 0, "the unlinked file is still readable");
	segment_release(r.seg);
}

/* cleanup.policy=compact alone never deletes segments by retention.ms or
 * retention.bytes (only the cleaner shrinks such a log); compact,delete does
 * both, like Kafka's UnifiedLog.deleteOldSegments. */
Test(plog, retention_follows_cleanup_policy)
{
	int n;

	tp.cfg.segment_bytes = 2048;
	cr_assert_eq(tp_open(&tp), 0);
	tp_write(&tp, 60, 1, 200, tp.now_ms - 100000, 1, 1);
	n = (int)tp.plog->seg_count;
	tp.plog->cfg.compact = true;
	tp.plog->cfg.delete_policy = false;
	tp.plog->cfg.retention_bytes = 0;
	tp.plog->cfg.retention_ms = 1;
	cr_assert_eq(plog_retention(tp.plog, tp.now_ms), 0);
	plog_sweep(tp.plog, tp.now_ms);
	cr_assert_eq((int)tp.plog->seg_count, n);
	cr_assert_eq(tp.plog->log_start_offset, 0);
	tp.plog->cfg.delete_policy = true;
	cr_assert_eq(plog_retention(tp.plog, tp.now_ms), n - 1);
	cr_assert_eq(tp.plog->seg_count, 1);
}
