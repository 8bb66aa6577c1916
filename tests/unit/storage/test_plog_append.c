/* SPDX-License-Identifier: Apache-2.0 */
/* Tests storage/plog_append.c on the simulated sio: LogAppendTime, and EIO
 * or ENOSPC mid-append with the log intact and appends resuming after. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/plog_int.h"
#include "storage/plog_stage.h"
#include "tests/sim/sio_sim.h"
#include "tests/unit/storage/tplog.h"

TP_TEST_SUITE(plog_append, 42);

Test(plog_append, log_append_time)
{
	struct plog_append *a;
	struct plog_region r;
	struct rbatch_header h;
	uint8_t buf[1024];

	tp.cfg.log_append_time = true;
	cr_assert_eq(tp_open(&tp), 0);
	a = tp_append_records(&tp, 3, 20, 5, 1);
	tp_run(&tp);
	cr_assert_eq(a->log_append_time, tp.now_ms);
	cr_assert_eq(plog_read(tp.plog, 0, 1000, &r), 0);
	cr_assert_eq(sio_pread(tp.sio, r.seg->fd, buf, (size_t)r.len, r.pos), r.len);
	rbatch_header_parse(buf, (size_t)r.len, &h);
	cr_assert_eq(h.max_timestamp, tp.now_ms);
	cr_assert(h.attributes & RBATCH_ATTR_LOG_APPEND_TIME);
	cr_assert(rbatch_crc_ok(buf, (size_t)r.len));
	cr_assert_eq(h.partition_leader_epoch, 0);
}

static void
check_intact(int64_t hw)
{
	struct plog_region r;
	struct rbatch_header h;
	int64_t off;

	for (off = 0; off < hw; off++) {
		cr_assert_eq(plog_read(tp.plog, off, 1, &r), 0);
		cr_assert_gt(r.len, 0);
		h = tp_region_first(&tp, &r);
		cr_assert_leq(h.base_offset, off);
	}
}

Test(plog_append, eio_mid_append_then_resumes)
{
	struct plog_append *a, *b, *c;
	int64_t size;

	cr_assert_eq(tp_open(&tp), 0);
	a = tp_append_records(&tp, 2, 50, tp.now_ms, 1);
	tp_run(&tp);
	size = plog_active(tp.plog)->size;
	sio_sim_fail(tp.sio, SIO_SIM_WRITEV, 0, EIO);
	b = tp_append_records(&tp, 2, 50, tp.now_ms, 1);
	tp_run(&tp);
	cr_assert_eq(a->error, 0);
	cr_assert_eq(b->error, 56);
	cr_assert_eq(b->base_offset, -1);
	cr_assert_eq(tp.plog->hw, 2);
	cr_assert_eq(plog_active(tp.plog)->size, size);
	c = tp_append_records(&tp, 2, 50, tp.now_ms, 1);
	tp_run(&tp);
	cr_assert_eq(c->error, 0);
	cr_assert_eq(c->base_offset, 2, "the failed batch's offsets are reused");
	check_intact(4);
}

Test(plog_append, enospc_short_write_then_space_returns)
{
	struct plog_append *a, *b, *c;
	int64_t size;

	cr_assert_eq(tp_open(&tp), 0);
	a = tp_append_records(&tp, 2, 100, tp.now_ms, -1);
	tp_run(&tp);
	size = sio_sim_file_size(tp.sio, "/data/t-0/00000000000000000000.log");
	sio_sim_set_space(tp.sio, size + 50);
	b = tp_append_records(&tp, 2, 100, tp.now_ms, -1);
	tp_run(&tp);
	cr_assert_eq(a->error, 0);
	cr_assert_eq(b->error, 56);
	cr_assert_eq(sio_sim_file_size(tp.sio, "/data/t-0/00000000000000000000.log"), size,
		     "the short write was cut back");
	b = tp_append_records(&tp, 2, 100, tp.now_ms, -1);
	tp_run(&tp);
	cr_assert_eq(b->error, 56);
	sio_sim_set_space(tp.sio, -1);
	c = tp_append_records(&tp, 2, 100, tp.now_ms, -1);
	tp_run(&tp);
	cr_assert_eq(c->error, 0);
	cr_assert_eq(c->base_offset, 2);
	check_intact(4);
}

/* Stage timestamps (common/stage.h): a write stamps each of its appends
 * when it is submitted and when it lands, one clock read each, in order;
 * the sync pair is left to the sync path (plog_append_sync_stamp()). */
Test(plog_append, stage_stamps)
{
	struct plog_append *a, *b, *c;

	cr_assert_eq(tp_open(&tp), 0);
	a = tp_append_records(&tp, 2, 10, 5, 1);
	b = tp_append_records(&tp, 1, 10, 5, -1);
	tp_run(&tp);
	c = tp_append_records(&tp, 1, 10, 5, 1);
	tp_run(&tp);
	cr_assert_eq(a->error, 0);
	cr_assert_eq(b->error, 0);
	cr_assert_neq(a->t_write_ns, 0);
	cr_assert_eq(a->t_write_ns, b->t_write_ns, "one writev, one submit time");
	cr_assert_eq(a->t_landed_ns, b->t_landed_ns, "one completion, one land time");
	cr_assert_leq(a->t_write_ns, a->t_landed_ns);
	cr_assert_leq(a->t_landed_ns, c->t_write_ns, "the next write starts after");
	cr_assert_leq(c->t_write_ns, c->t_landed_ns);
	cr_assert_eq(a->t_sync_submit_ns, 0, "acks=1: no sync stamps");
	plog_append_sync_stamp(b, 7, 9);
	cr_assert_eq(b->t_sync_submit_ns, 7);
	cr_assert_eq(b->t_sync_done_ns, 9);
}
