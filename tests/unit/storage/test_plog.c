/* SPDX-License-Identifier: Apache-2.0 */
/* Tests storage/plog.c (with segment.c and segment_index.c) on the simulated
 * sio (tests/sim/sio_sim.c): offset assignment, reads (also from inside a
 * batch), roll, indexes, ListOffsets by timestamp, retention by time and
 * size, group commit, LogAppendTime, and EIO/ENOSPC mid-append. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/plog_int.h"
#include "tests/sim/sio_sim.h"
#include "tests/unit/storage/tplog.h"

static struct tp tp;

static void
setup(void)
{
	memset(&tp, 0, sizeof(tp));
	tp.sio = sio_sim_create(42);
	tp.cfg = tp_config();
	tp.log_dir = "/data";
	tp.now_ms = 1700000000000LL;
	cr_assert_eq(sio_mkdir(tp.sio, "/data", 0755), 0);
}

static void
teardown(void)
{
	if (tp.plog != NULL)
		tp_close(&tp);
	tp_free_appends(&tp);
	sio_destroy(tp.sio);
}

TestSuite(plog, .init = setup, .fini = teardown);

/* Read the batch header at r's position back through sio. */
static struct rbatch_header
region_first(const struct plog_region *r)
{
	uint8_t buf[RBATCH_HEADER_BYTES];
	struct rbatch_header h;

	cr_assert_eq(sio_pread(tp.sio, r->seg->fd, buf, sizeof(buf), r->pos), sizeof(buf));
	cr_assert_eq(rbatch_header_parse(buf, sizeof(buf), &h), 0);
	return h;
}

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

Test(plog, read_from_inside_a_batch)
{
	struct plog_region r;
	struct rbatch_header h;
	int i;

	cr_assert_eq(tp_open(&tp), 0);
	for (i = 0; i < 10; i++)
		tp_append_records(&tp, 5, 100, tp.now_ms + i, 1);
	tp_run(&tp);
	cr_assert_eq(plog_read(tp.plog, 12, 1 << 20, &r), 0);
	h = region_first(&r);
	cr_assert_eq(h.base_offset, 10, "the whole batch holding offset 12");
	cr_assert_eq(r.pos + r.len, tp.plog->segs[0]->size);
	/* max_bytes smaller than a batch: still one whole batch. */
	cr_assert_eq(plog_read(tp.plog, 44, 10, &r), 0);
	h = region_first(&r);
	cr_assert_eq(h.base_offset, 40);
	cr_assert_eq(r.len, rbatch_total_bytes(&h));
	cr_assert_eq(plog_read(tp.plog, 50, 100, &r), 0);
	cr_assert_eq(r.len, 0, "at the high watermark: nothing yet");
	cr_assert_eq(plog_read(tp.plog, 51, 100, &r), KP_ERR_OFFSET_OUT_OF_RANGE);
	cr_assert_eq(plog_read(tp.plog, -1, 100, &r), KP_ERR_OFFSET_OUT_OF_RANGE);
}

Test(plog, read_whole_batches_up_to_max_bytes)
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

Test(plog, roll_by_size_and_index_lookup)
{
	struct plog_region r;
	struct rbatch_header h;
	int64_t off;
	int i;

	tp.cfg.segment_bytes = 4096;
	tp.cfg.index_interval_bytes = 512;
	cr_assert_eq(tp_open(&tp), 0);
	for (i = 0; i < 100; i++) {
		tp_append_records(&tp, 2, 150, tp.now_ms + i, 1);
		tp_run(&tp);
	}
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
		h = region_first(&r);
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

Test(plog, offset_by_timestamp)
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
	cr_assert_eq(plog_list_offset(tp.plog, 1000 + 10 * 17 + 3, &off, &ts), 0);
	cr_assert_eq(off, 17 * 3 + 2, "first record with ts >= target");
	cr_assert_eq(ts, 1000 + 10 * 17 + 4);
	cr_assert_eq(plog_list_offset(tp.plog, 0, &off, &ts), 0);
	cr_assert_eq(off, 0);
	plog_list_offset(tp.plog, 99999, &off, &ts);
	cr_assert_eq(off, -1);
	plog_list_offset(tp.plog, ST_OFFSET_EARLIEST, &off, &ts);
	cr_assert_eq(off, 0);
	plog_list_offset(tp.plog, ST_OFFSET_LATEST, &off, &ts);
	cr_assert_eq(off, 120);
	plog_list_offset(tp.plog, ST_OFFSET_MAX_TIMESTAMP, &off, &ts);
	cr_assert_eq(ts, 1000 + 390 + 4);
	cr_assert_eq(off, 119);
}

Test(plog, epoch_end_offsets)
{
	int32_t e;
	int64_t end;

	cr_assert_eq(tp_open(&tp), 0);
	tp_append_records(&tp, 4, 10, tp.now_ms, 1);
	tp_run(&tp);
	plog_epoch_end(tp.plog, 0, &e, &end);
	cr_assert_eq(e, 0);
	cr_assert_eq(end, 4);
	plog_epoch_end(tp.plog, 3, &e, &end);
	cr_assert_eq(e, -1);
	cr_assert_eq(end, -1);
}

Test(plog, retention_by_size_and_time)
{
	int i, n;

	tp.cfg.segment_bytes = 2048;
	cr_assert_eq(tp_open(&tp), 0);
	for (i = 0; i < 60; i++) {
		tp_append_records(&tp, 1, 200, tp.now_ms - 100000 + i, 1);
		tp_run(&tp);
	}
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
	int i;

	tp.cfg.segment_bytes = 1024;
	cr_assert_eq(tp_open(&tp), 0);
	for (i = 0; i < 10; i++) {
		tp_append_records(&tp, 1, 300, tp.now_ms, 1);
		tp_run(&tp);
	}
	cr_assert_eq(plog_read(tp.plog, 0, 100, &r), 0);
	cr_assert_eq(segment_hold(r.seg), 0);
	tp.plog->cfg.retention_bytes = 0;
	cr_assert_gt(plog_retention(tp.plog, tp.now_ms), 0);
	cr_assert_not(sio_sim_exists(tp.sio, "/data/t-0/00000000000000000000.log"));
	h = region_first(&r);
	cr_assert_eq(h.base_offset, 0, "the unlinked file is still readable");
	segment_release(r.seg);
}

Test(plog, group_commit_one_fdatasync)
{
	struct plog_append *a[8];
	int i;

	cr_assert_eq(tp_open(&tp), 0);
	for (i = 0; i < 8; i++)
		a[i] = tp_append_records(&tp, 1, 20, tp.now_ms, -1);
	plog_issue(tp.plog, tp.now_ms);
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

Test(plog, group_commit_covers_writes_during_a_sync)
{
	int i;

	sio_sim_set_reorder(tp.sio, true);
	cr_assert_eq(tp_open(&tp), 0);
	for (i = 0; i < 30; i++) {
		tp_append_records(&tp, 1, 20, tp.now_ms, -1);
		plog_issue(tp.plog, tp.now_ms);
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

Test(plog, acks_one_needs_no_sync_and_flush_messages_forces_one)
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

Test(plog, flush_ms_syncs_on_tick)
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

Test(plog, log_append_time)
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
		h = region_first(&r);
		cr_assert_leq(h.base_offset, off);
	}
}

Test(plog, eio_mid_append_then_resumes)
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

Test(plog, enospc_short_write_then_space_returns)
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

Test(plog, fdatasync_error_fails_acks_all)
{
	struct plog_append *a;

	cr_assert_eq(tp_open(&tp), 0);
	sio_sim_fail(tp.sio, SIO_SIM_FDATASYNC, 0, EIO);
	a = tp_append_records(&tp, 1, 10, tp.now_ms, -1);
	tp_run(&tp);
	cr_assert_eq(a->error, 56);
}

Test(plog, watch)
{
	struct plog_watch w = { .offset = 0, .deadline_ns = 1000 }, w2 = { .offset = 5,
		.deadline_ns = 1000 };

	cr_assert_eq(tp_open(&tp), 0);
	plog_watch(tp.plog, &w);
	plog_watch(tp.plog, &w2);
	cr_assert_eq(tp.watch_count, 0);
	tp_append_records(&tp, 1, 10, tp.now_ms, 1);
	tp_run(&tp);
	cr_assert_eq(tp.watch_count, 1);
	plog_tick(tp.plog, tp.now_ms, 2000);
	cr_assert_eq(tp.watch_count, 2);
	cr_assert_eq(w2.offset, -1, "expired");
}
