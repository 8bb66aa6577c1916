/* SPDX-License-Identifier: Apache-2.0 */
/* Tests storage/plog_read.c on the simulated sio: reads (also from inside
 * a batch, and whole batches up to max_bytes), ListOffsets by timestamp and
 * position, and OffsetForLeaderEpoch. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/plog_int.h"
#include "tests/sim/sio_sim.h"
#include "tests/unit/storage/tplog.h"

TP_TEST_SUITE(plog_read, 42);

Test(plog_read, read_from_inside_a_batch)
{
	struct plog_region r;
	struct rbatch_header h;
	int i;

	cr_assert_eq(tp_open(&tp), 0);
	for (i = 0; i < 10; i++)
		tp_append_records(&tp, 5, 100, tp.now_ms + i, 1);
	tp_run(&tp);
	cr_assert_eq(plog_read(tp.plog, 12, 1 << 20, &r), 0);
	h = tp_region_first(&tp, &r);
	cr_assert_eq(h.base_offset, 10, "the whole batch holding offset 12");
	cr_assert_eq(r.pos + r.len, tp.plog->segs[0]->size);
	/* max_bytes smaller than a batch: still one whole batch. */
	cr_assert_eq(plog_read(tp.plog, 44, 10, &r), 0);
	h = tp_region_first(&tp, &r);
	cr_assert_eq(h.base_offset, 40);
	cr_assert_eq(r.len, rbatch_total_bytes(&h));
	cr_assert_eq(plog_read(tp.plog, 50, 100, &r), 0);
	cr_assert_eq(r.len, 0, "at the high watermark: nothing yet");
	cr_assert_eq(plog_read(tp.plog, 51, 100, &r), KP_ERR_OFFSET_OUT_OF_RANGE);
	cr_assert_eq(plog_read(tp.plog, -1, 100, &r), KP_ERR_OFFSET_OUT_OF_RANGE);
}

Test(plog_read, read_whole_batches_up_to_max_bytes)
{
	struct plog_region r;
	int i;

	tp.cfg.index_interval_bytes = 1000;
	cr_assert_eq(tp_open(&tp), 0);
	for (i = 0; i < 50; i++)
		tp_append_records(&tp, 1, 200, tp.now_ms, 1);
	tp_run(&tp);
	cr_assert_gt(tp.plog->segs[0]->oidx.entry_count, 5);
	cr_assert_eq(plog_read(tp.plog, 3, 2000, &r), 0);
	cr_assert_leq(r.len, 2000);
	cr_assert_eq(r.len % tp.done[0]->len, 0, "whole batches only");
	cr_assert_eq(r.len / tp.done[0]->len, 2000 / tp.done[0]->len);
}

Test(plog_read, offset_by_timestamp)
{
	struct tbatch_spec s;
	int64_t off, ts;
	uint32_t len;
	uint8_t *b;
	int i;

	tp.cfg.segment_bytes = 2048;
	tp.cfg.index_interval_bytes = 256;
	cr_assert_eq(tp_open(&tp), 0);
	for (i = 0; i < 40; i++) {
		/* Batch i holds records at 1000 + 10 i + {0, 2, 4}. */
		s = tbatch_spec(3, 50, 1000 + 10 * i);
		s.ts_step = 2;
		b = tbatch_build(&s, &len);
		tp_append(&tp, b, len, 1);
		tp_run(&tp);
	}
	cr_assert_gt(tp.plog->seg_count, 2);
	cr_assert_eq(plog_read_offset(tp.plog, 1000 + 10 * 17 + 3, &off, &ts), 0);
	cr_assert_eq(off, 17 * 3 + 2, "first record with ts >= target");
	cr_assert_eq(ts, 1000 + 10 * 17 + 4);
	cr_assert_eq(plog_read_offset(tp.plog, 0, &off, &ts), 0);
	cr_assert_eq(off, 0);
	plog_read_offset(tp.plog, 99999, &off, &ts);
	cr_assert_eq(off, -1);
	plog_read_offset(tp.plog, ST_OFFSET_EARLIEST, &off, &ts);
	cr_assert_eq(off, 0);
	plog_read_offset(tp.plog, ST_OFFSET_LATEST, &off, &ts);
	cr_assert_eq(off, 120);
	plog_read_offset(tp.plog, ST_OFFSET_MAX_TIMESTAMP, &off, &ts);
	cr_assert_eq(ts, 1000 + 390 + 4);
	cr_assert_eq(off, 119);
}

Test(plog_read, epoch_end_offsets)
{
	int32_t e;
	int64_t end;

	cr_assert_eq(tp_open(&tp), 0);
	tp_append_records(&tp, 4, 10, tp.now_ms, 1);
	tp_run(&tp);
	plog_read_epoch_end(tp.plog, 0, &e, &end);
	cr_assert_eq(e, 0);
	cr_assert_eq(end, 4);
	plog_read_epoch_end(tp.plog, 3, &e, &end);
	cr_assert_eq(e, -1);
	cr_assert_eq(end, -1);
}
