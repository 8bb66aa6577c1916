/* SPDX-License-Identifier: Apache-2.0 */
/* Tests storage/plog_start.c on the simulated sio: DeleteRecords moving the
 * log start offset (Kafka's checks and their order), the segments wholly
 * below it deleted, the start kept across a reopen and a power loss (and
 * stopped at the log end when the records it passed were lost), a torn
 * file ignored, a failed write moving nothing, and retention after it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "storage/plog_int.h"
#include "tests/sim/sio_sim.h"
#include "tests/unit/storage/tplog.h"

TP_TEST_SUITE(plog_start, 11);

#define START_FILE "/data/t-0/" PLOG_START_FILE

static void
open_segmented(void)
{
	tp.cfg.delete_policy = true;
	tp.cfg.segment_bytes = 1000;    /* about one 2 x 300-byte batch each */
	cr_assert_eq(tp_open(&tp), 0);
	tp_write(&tp, 10, 2, 300, tp.now_ms, 0, -1);
	cr_assert_eq(tp.plog->hw, 20);
	cr_assert_geq(tp.plog->seg_count, 5);
}

static int64_t
earliest(void)
{
	int64_t off, ts;

	cr_assert_eq(plog_read_offset(tp.plog, ST_OFFSET_EARLIEST, &off, &ts), 0);
	return off;
}

static uint32_t
segment_of(int64_t offset)
{
	uint32_t i = 0;

	while (i + 1 < tp.plog->seg_count && tp.plog->segs[i + 1]->base_offset <= offset)
		i++;
	return i;
}

Test(plog_start, moves_start_and_deletes_segments_below)
{
	struct plog_region r;
	int64_t low, base;
	char path[SEGMENT_PATH_MAX];
	uint32_t count;

	open_segmented();
	base = tp.plog->segs[segment_of(9)]->base_offset;
	count = tp.plog->seg_count - segment_of(9);
	segment_path("/data/t-0", 0, ".log", path, sizeof(path));
	cr_assert(sio_sim_exists(tp.sio, path));
	cr_assert_eq(plog_delete_records(tp.plog, 9, &low), 0);
	cr_assert_eq(low, 9);
	cr_assert_eq(tp.plog->log_start_offset, 9);
	cr_assert_eq(tp.plog->seg_count, count, "the segments wholly below 9 went");
	cr_assert_eq(tp.plog->segs[0]->base_offset, base);
	cr_assert_not(sio_sim_exists(tp.sio, path));
	cr_assert_eq(earliest(), 9);
	cr_assert_eq(plog_read(tp.plog, 8, 1 << 20, &r), KP_ERR_OFFSET_OUT_OF_RANGE);
	cr_assert_eq(plog_read(tp.plog, 9, 1 << 20, &r), 0);
	cr_assert_gt(r.len, 0);
}

Test(plog_start, kafka_checks)
{
	int64_t low;

	open_segmented();
	cr_assert_eq(plog_delete_records(tp.plog, 21, &low), KP_ERR_OFFSET_OUT_OF_RANGE);
	cr_assert_eq(low, -1);
	cr_assert_eq(plog_delete_records(tp.plog, -2, &low), KP_ERR_OFFSET_OUT_OF_RANGE);
	cr_assert_eq(plog_delete_records(tp.plog, 5, &low), 0);
	cr_assert_eq(low, 5);
	/* At or below the start: nothing moves, the start is the answer. */
	cr_assert_eq(plog_delete_records(tp.plog, 3, &low), 0);
	cr_assert_eq(low, 5);
	cr_assert_eq(plog_delete_records(tp.plog, -1, &low), 0);
	cr_assert_eq(low, 20, "-1 is the high watermark");
	cr_assert_eq(tp.plog->seg_count, 1, "only the active segment is left");
	/* cleanup.policy=compact alone refuses first, whatever the offset. */
	tp.plog->cfg.delete_policy = false;
	tp.plog->cfg.compact = true;
	cr_assert_eq(plog_delete_records(tp.plog, 99, &low), KP_ERR_POLICY_VIOLATION);
	cr_assert_eq(low, -1);
}

Test(plog_start, kept_across_reopen_and_power_loss)
{
	struct sio_sim_crash how = { .power_loss = true };
	int64_t low;

	open_segmented();
	cr_assert_eq(plog_delete_records(tp.plog, 13, &low), 0);
	tp_close(&tp);
	cr_assert_eq(tp_open(&tp), 0);
	cr_assert_eq(tp.plog->log_start_offset, 13);
	cr_assert_eq(earliest(), 13);
	cr_assert_eq(plog_delete_records(tp.plog, 15, &low), 0);
	sio_sim_crash(tp.sio, &how);
	tp_run(&tp);
	plog_close(tp.plog, 3);
	tp.plog = NULL;
	cr_assert_eq(tp_open(&tp), 0);
	cr_assert_eq(tp.plog->log_start_offset, 15, "acknowledged: durable");
	cr_assert_eq(tp.plog->hw, 20);
}

Test(plog_start, stops_at_the_log_end_when_records_were_lost)
{
	struct sio_sim_crash how = { .power_loss = true };
	int64_t low;

	tp.cfg.delete_policy = true;
	cr_assert_eq(tp_open(&tp), 0);
	tp_write(&tp, 5, 2, 100, tp.now_ms, 0, -1);
	tp_write(&tp, 5, 2, 100, tp.now_ms, 0, 1);      /* never synced */
	cr_assert_eq(plog_delete_records(tp.plog, 18, &low), 0);
	sio_sim_crash(tp.sio, &how);
	tp_run(&tp);
	plog_close(tp.plog, 3);
	tp.plog = NULL;
	cr_assert_eq(tp_open(&tp), 0);
	cr_assert_eq(tp.plog->hw, 10);
	cr_assert_eq(tp.plog->log_start_offset, 10, "no start past the log end");
}

Test(plog_start, a_torn_file_is_ignored)
{
	int64_t low;
	int fd;

	open_segmented();
	cr_assert_eq(plog_delete_records(tp.plog, 1, &low), 0);
	tp_close(&tp);
	fd = sio_open(tp.sio, START_FILE, O_RDWR | O_TRUNC, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(sio_pwrite(tp.sio, fd, "0\n1", 3, 0), 3);
	sio_close(tp.sio, fd);
	cr_assert_eq(tp_open(&tp), 0);
	cr_assert_eq(tp.plog->log_start_offset, 0);
}

Test(plog_start, failed_write_moves_nothing)
{
	int64_t low;

	open_segmented();
	sio_sim_fail(tp.sio, SIO_SIM_FSYNC, 0, EIO);
	cr_assert_eq(plog_delete_records(tp.plog, 9, &low), KP_ERR_KAFKA_STORAGE_ERROR);
	cr_assert_eq(low, -1);
	cr_assert_eq(tp.plog->log_start_offset, 0);
	cr_assert_not(sio_sim_exists(tp.sio, START_FILE ".tmp"));
}

Test(plog_start, retention_after_delete_records)
{
	int64_t low;

	open_segmented();
	cr_assert_eq(plog_delete_records(tp.plog, 9, &low), 0);
	/* A sweep with nothing to retain leaves the start inside its segment. */
	plog_sweep(tp.plog, tp.now_ms);
	cr_assert_eq(tp.plog->log_start_offset, 9);
	/* Retention dropping that segment moves the start to the next base. */
	tp.plog->cfg.retention_bytes = 0;
	cr_assert_gt(plog_retention(tp.plog, tp.now_ms), 0);
	cr_assert_eq(tp.plog->log_start_offset, tp.plog->segs[0]->base_offset);
	cr_assert_gt(tp.plog->log_start_offset, 9);
}

Test(plog_start, time_lookup_starts_at_the_start)
{
	int64_t low, off, ts, t0 = tp.now_ms;

	tp.cfg.delete_policy = true;
	cr_assert_eq(tp_open(&tp), 0);
	/* Batch i: offsets 2i and 2i+1 at t0 + 10i and t0 + 10i + 1. */
	tp_write(&tp, 5, 2, 100, t0, 10, -1);
	cr_assert_eq(plog_delete_records(tp.plog, 3, &low), 0);
	/* Kafka's findOffsetByTimestamp(target, logStartOffset): the first
	 * record at or after the start whose timestamp qualifies. */
	cr_assert_eq(plog_read_offset(tp.plog, t0, &off, &ts), 0);
	cr_assert_eq(off, 3);
	cr_assert_eq(ts, t0 + 11);
	cr_assert_eq(plog_read_offset(tp.plog, t0 + 12, &off, &ts), 0);
	cr_assert_eq(off, 4);
	cr_assert_eq(ts, t0 + 20);
	cr_assert_eq(plog_read_offset(tp.plog, t0 + 42, &off, &ts), 0);
	cr_assert_eq(off, -1);
}
