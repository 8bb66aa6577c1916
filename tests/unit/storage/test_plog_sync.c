/* SPDX-License-Identifier: Apache-2.0 */
/* Tests storage/plog_sync.c on the simulated sio: one fdatasync per group
 * commit, writes landing during a sync, acks=1 vs flush.messages and
 * flush.ms, and a failed fdatasync failing the acks=all appends. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/plog_int.h"
#include "tests/sim/sio_sim.h"
#include "tests/unit/storage/tplog.h"

TP_TEST_SUITE(plog_sync, 42);

Test(plog_sync, group_commit_one_fdatasync)
{
	struct plog_append *a[8];
	int i;

	cr_assert_eq(tp_open(&tp), 0);
	for (i = 0; i < 8; i++)
		a[i] = tp_append_records(&tp, 1, 20, tp.now_ms, -1);
	plog_append_issue(tp.plog, tp.now_ms);
	sio_submit(tp.sio);
	cr_assert_eq(sio_reap(tp.sio, 1), 1, "the write");
	cr_assert_eq(tp.done_count, 0, "acks=all waits for the sync");
	cr_assert_eq(tp.plog->hw, 8, "written: visible to readers");
	tp_run(&tp);
	for (i = 0; i < 8; i++)
		cr_assert_eq(a[i]->error, 0);
	cr_assert_eq(tp.done_count, 8);
	cr_assert_eq(tp.plog->fdatasync_count, 1);
	cr_assert_eq(sio_sim_count(tp.sio, SIO_SIM_FDATASYNC), 1);
	cr_assert_eq(tp.plog->synced_offset, 8);
}

Test(plog_sync, group_commit_covers_writes_during_a_sync)
{
	int i;

	sio_sim_set_reorder(tp.sio, true);
	cr_assert_eq(tp_open(&tp), 0);
	for (i = 0; i < 30; i++) {
		tp_append_records(&tp, 1, 20, tp.now_ms, -1);
		plog_append_issue(tp.plog, tp.now_ms);
		sio_submit(tp.sio);
		sio_reap(tp.sio, 1);
	}
	tp_run(&tp);
	cr_assert_eq(tp.done_count, 30);
	for (i = 0; i < 30; i++)
		cr_assert_eq(tp.done[i]->error, 0);
	cr_assert_lt(tp.plog->fdatasync_count, 30);
	cr_assert_eq(tp.plog->synced_offset, 30);
}

Test(plog_sync, acks_one_needs_no_sync_and_flush_messages_forces_one)
{
	cr_assert_eq(tp_open(&tp), 0);
	tp_append_records(&tp, 5, 20, tp.now_ms, 1);
	tp_run(&tp);
	cr_assert_eq(tp.plog->fdatasync_count, 0);
	tp.plog->cfg.flush_messages = 6;
	tp_append_records(&tp, 5, 20, tp.now_ms, 1);
	tp_run(&tp);
	cr_assert_eq(tp.plog->fdatasync_count, 1);
	cr_assert_eq(tp.plog->synced_offset, 10);
}

Test(plog_sync, flush_ms_syncs_on_tick)
{
	tp.cfg.flush_ms = 100;
	cr_assert_eq(tp_open(&tp), 0);
	tp_append_records(&tp, 5, 20, tp.now_ms, 0);
	tp_run(&tp);
	cr_assert_eq(tp.plog->fdatasync_count, 0);
	plog_tick(tp.plog, tp.now_ms + 200, 0);
	tp_run(&tp);
	cr_assert_eq(tp.plog->fdatasync_count, 1);
}

Test(plog_sync, fdatasync_error_fails_acks_all)
{
	struct plog_append *a;

	cr_assert_eq(tp_open(&tp), 0);
	sio_sim_fail(tp.sio, SIO_SIM_FDATASYNC, 0, EIO);
	a = tp_append_records(&tp, 1, 10, tp.now_ms, -1);
	tp_run(&tp);
	cr_assert_eq(a->error, 56);
}
