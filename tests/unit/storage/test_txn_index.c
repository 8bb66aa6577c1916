/* SPDX-License-Identifier: Apache-2.0 */
/* Tests storage/txn_index.c (the aborted-transaction index, Kafka's
 * .txnindex) on the simulated sio, first alone and then through the
 * segments of a partition log: Kafka's byte layout, collection over fetch
 * ranges (overlap edges, the completeness flag, a full output array),
 * lastOffset order enforced, truncation, a torn or corrupt tail cut when
 * the file is loaded, entries kept across a close and reopen, entries past
 * the recovered log end dropped, truncated with the log, and the file
 * deleted with its segment (retention, DeleteRecords, topic deletion). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "storage/plog_int.h"
#include "storage/txn_index.h"
#include "tests/sim/sio_sim.h"
#include "tests/unit/storage/tplog.h"

TP_TEST_SUITE(txn_index, 17);

#define TI_PATH "/data/00000000000000000100.txnindex"

static const struct txn_aborted ti_entries[] = {
	{ .producer_id = 1, .first_offset = 100, .last_offset = 105, .last_stable_offset = 100 },
	{ .producer_id = 2, .first_offset = 103, .last_offset = 110, .last_stable_offset = 103 },
	{ .producer_id = 3, .first_offset = 112, .last_offset = 120, .last_stable_offset = 111 },
	{ .producer_id = 4, .first_offset = 121, .last_offset = 130, .last_stable_offset = 125 },
};

/* An index at base 100 holding ti_entries, descriptor open. */
static void
ti_fill(struct txn_index *ti)
{
	txn_index_init(ti, 100);
	cr_assert_eq(txn_index_fd_open(tp.sio, ti, TI_PATH, false), -ENOENT,
		     "no file before the first append");
	cr_assert_eq(txn_index_fd_open(tp.sio, ti, TI_PATH, true), 0);
	for (unsigned i = 0; i < 4; i++)
		cr_assert_eq(txn_index_append(tp.sio, ti, &ti_entries[i]), 0);
	cr_assert_eq(ti->entry_count, 4);
	cr_assert_eq(ti->last_offset, 130);
	cr_assert_eq(sio_sim_file_size(tp.sio, TI_PATH), 4 * 34);
}

/* Collect [from, upper) and compare with the expected producer ids. */
static void
ti_expect(const struct txn_index *ti, int64_t from, int64_t upper, int want_rc,
	  const int64_t *pids, uint32_t pid_count)
{
	struct txn_aborted e[8];
	struct txn_aborted_list out = { .e = e, .count = 0, .max = 8 };

	cr_assert_eq(txn_index_collect(tp.sio, ti, from, upper, &out), want_rc,
		     "[%ld, %ld)", (long)from, (long)upper);
	cr_assert_eq(out.count, pid_count, "[%ld, %ld)", (long)from, (long)upper);
	for (uint32_t i = 0; i < pid_count; i++)
		cr_assert_eq(e[i].producer_id, pids[i], "[%ld, %ld) #%u", (long)from,
			     (long)upper, i);
}

Test(txn_index, kafka_layout)
{
	static const uint8_t want[34] = {
		0, 0,                                   /* version 0 */
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0, 0, 0, 0, 0, 0, 0x01, 0x00,           /* firstOffset 256 */
		0, 0, 0, 0, 0, 0, 0x01, 0x2c,           /* lastOffset 300 */
		0, 0, 0, 0, 0, 0, 0x00, 0xff,           /* lastStableOffset 255 */
	};
	struct txn_aborted txn = { 0x0102030405060708LL, 256, 300, 255 }, back;
	struct txn_index ti;
	uint8_t buf[40];

	txn_index_init(&ti, 0);
	cr_assert_eq(txn_index_fd_open(tp.sio, &ti, "/data/00000000000000000000.txnindex", true),
		     0);
	cr_assert_eq(txn_index_append(tp.sio, &ti, &txn), 0);
	cr_assert_eq(sio_pread(tp.sio, ti.fd, buf, sizeof(buf), 0), 34);
	cr_assert_arr_eq(buf, want, 34);
	cr_assert(txn_index_decode(buf, &back));
	cr_assert_eq(memcmp(&back, &txn, sizeof(txn)), 0);
	cr_assert_eq(txn_index_entry_at(tp.sio, &ti, 0, &back), 0);
	cr_assert_eq(back.last_stable_offset, 255);
	buf[1] = 1;
	cr_assert_not(txn_index_decode(buf, &back), "version 1 is not Kafka's");
	txn_index_fd_close(tp.sio, &ti);
}

Test(txn_index, collect_over_ranges)
{
	static const int64_t b[] = { 2 }, abc[] = { 1, 2, 3 }, all[] = { 1, 2, 3, 4 };
	static const int64_t a[] = { 1 }, d[] = { 4 };
	struct txn_index ti;

	ti_fill(&ti);
	/* C starts at the exclusive upper bound, A ends just before from;
	 * D's LSO (125) reaches the upper bound: complete. */
	ti_expect(&ti, 106, 112, 1, b, 1);
	/* Inclusive edges: A ends at from, C starts just below upper. */
	ti_expect(&ti, 105, 113, 1, abc, 3);
	/* Nothing's LSO reaches 200: the next segment may hold more. */
	ti_expect(&ti, 0, 200, 0, all, 4);
	ti_expect(&ti, 131, 140, 0, NULL, 0);
	/* B's LSO (103) reaches 101 before B or later entries are looked at. */
	ti_expect(&ti, 100, 101, 1, a, 1);
	/* The scan stops at the first LSO >= upper (B), before D is looked at. */
	ti_expect(&ti, 0, 103, 1, a, 1);
	/* D's LSO (125) is the exclusive upper bound: complete; one past it
	 * is not. */
	ti_expect(&ti, 121, 125, 1, d, 1);
	ti_expect(&ti, 125, 126, 0, d, 1);
	txn_index_fd_close(tp.sio, &ti);
}

Test(txn_index, collect_into_a_full_array)
{
	struct txn_aborted e[2];
	struct txn_aborted_list out = { .e = e, .count = 0, .max = 2 };
	struct txn_index ti;

	ti_fill(&ti);
	cr_assert_eq(txn_index_collect(tp.sio, &ti, 0, 200, &out), -ENOBUFS);
	cr_assert_eq(out.count, 2);
	cr_assert_eq(e[0].producer_id, 1);
	cr_assert_eq(e[1].producer_id, 2);
	/* Appending after earlier segments' entries: one slot left. */
	out.count = 1;
	cr_assert_eq(txn_index_collect(tp.sio, &ti, 106, 112, &out), 1);
	cr_assert_eq(out.count, 2);
	cr_assert_eq(e[1].producer_id, 2);
	txn_index_fd_close(tp.sio, &ti);
}

Test(txn_index, out_of_order_append_refused)
{
	struct txn_aborted bad[] = {
		{ 9, 120, 130, 120 },   /* lastOffset equal to the last entry's */
		{ 9, 100, 129, 100 },   /* below it */
		{ 9, 140, 135, 130 },   /* firstOffset after lastOffset */
		{ 9, -1, 140, 130 },    /* negative firstOffset */
	};
	struct txn_aborted below_base = { 9, 10, 99, 10 };
	struct txn_aborted ok = { 9, 125, 131, 125 };
	struct txn_index ti;

	ti_fill(&ti);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(txn_index_append(tp.sio, &ti, &bad[i]), -EINVAL, "#%u", i);
	cr_assert_eq(ti.entry_count, 4);
	cr_assert_eq(sio_sim_file_size(tp.sio, TI_PATH), 4 * 34, "nothing written");
	cr_assert_eq(txn_index_append(tp.sio, &ti, &ok), 0);
	cr_assert_eq(ti.last_offset, 131);
	txn_index_fd_close(tp.sio, &ti);

	txn_index_init(&ti, 100);
	cr_assert_eq(txn_index_fd_open(tp.sio, &ti, "/data/x.txnindex", true), 0);
	cr_assert_eq(txn_index_append(tp.sio, &ti, &below_base), -EINVAL,
		     "a marker below the segment's base");
	txn_index_fd_close(tp.sio, &ti);
}

Test(txn_index, failed_write_leaves_no_torn_entry)
{
	struct txn_aborted next = { 5, 131, 140, 131 };
	struct txn_index ti;

	ti_fill(&ti);
	sio_sim_fail(tp.sio, SIO_SIM_PWRITE, 0, ENOSPC);
	cr_assert_eq(txn_index_append(tp.sio, &ti, &next), -ENOSPC);
	cr_assert_eq(ti.entry_count, 4);
	cr_assert_eq(sio_sim_file_size(tp.sio, TI_PATH), 4 * 34);
	cr_assert_eq(txn_index_append(tp.sio, &ti, &next), 0);
	cr_assert_eq(ti.entry_count, 5);
	txn_index_fd_close(tp.sio, &ti);
}

Test(txn_index, truncate)
{
	struct txn_aborted again = { 7, 111, 111, 111 };
	static const int64_t ab[] = { 1, 2 }, abe[] = { 1, 2, 7 };
	struct txn_index ti;

	ti_fill(&ti);
	cr_assert_eq(txn_index_truncate(tp.sio, &ti, 131), 0);
	cr_assert_eq(ti.entry_count, 4, "nothing ends at or past 131");
	/* C ends at 120: it goes with D. */
	cr_assert_eq(txn_index_truncate(tp.sio, &ti, 120), 0);
	cr_assert_eq(ti.entry_count, 2);
	cr_assert_eq(ti.last_offset, 110);
	cr_assert_eq(sio_sim_file_size(tp.sio, TI_PATH), 2 * 34);
	ti_expect(&ti, 0, 200, 0, ab, 2);
	/* Appends resume after the new last entry. */
	cr_assert_eq(txn_index_append(tp.sio, &ti, &again), 0);
	ti_expect(&ti, 0, 200, 0, abe, 3);
	cr_assert_eq(txn_index_truncate(tp.sio, &ti, 0), 0);
	cr_assert_eq(ti.entry_count, 0);
	cr_assert_eq(ti.last_offset, -1);
	cr_assert_eq(sio_sim_file_size(tp.sio, TI_PATH), 0);
	ti_expect(&ti, 0, 200, 0, NULL, 0);
	txn_index_fd_close(tp.sio, &ti);
}

/* Load TI_PATH afresh: the sanity check at segment open. */
static void
ti_load(struct txn_index *ti, bool want_cut, uint32_t want_count)
{
	bool cut;

	txn_index_init(ti, 100);
	cr_assert_eq(txn_index_load(tp.sio, ti, TI_PATH, &cut), 0);
	cr_assert_eq(cut, want_cut);
	cr_assert_eq(ti->entry_count, want_count);
	cr_assert_eq(ti->fd, -1, "closed again after the check");
	cr_assert_eq(sio_sim_file_size(tp.sio, TI_PATH), (int64_t)want_count * 34);
}

Test(txn_index, torn_or_corrupt_tail_cut_on_load)
{
	static const uint8_t junk[20] = { 0, 0, 1, 2, 3 };
	uint8_t entry[34];
	struct txn_aborted txn = ti_entries[0];
	struct txn_index ti;
	int fd;

	txn_index_init(&ti, 100);
	cr_assert_eq(txn_index_load(tp.sio, &ti, TI_PATH, &(bool){ false }), 0, "no file: empty");
	cr_assert_eq(ti.entry_count, 0);
	cr_assert_not(sio_sim_exists(tp.sio, TI_PATH), "loading creates nothing");
	ti_fill(&ti);
	txn_index_fd_close(tp.sio, &ti);
	ti_load(&ti, false, 4);
	cr_assert_eq(ti.last_offset, 130);
	/* A crash mid-append leaves a partial entry. */
	fd = sio_open(tp.sio, TI_PATH, O_RDWR, 0);
	cr_assert_eq(sio_pwrite(tp.sio, fd, junk, sizeof(junk), 4 * 34), (ssize_t)sizeof(junk));
	sio_close(tp.sio, fd);
	ti_load(&ti, true, 4);
	/* Entry 2 rewritten with version 1: it and everything after go. */
	fd = sio_open(tp.sio, TI_PATH, O_RDWR, 0);
	txn_index_encode(entry, &ti_entries[2]);
	entry[1] = 1;
	cr_assert_eq(sio_pwrite(tp.sio, fd, entry, 34, 2 * 34), 34);
	sio_close(tp.sio, fd);
	ti_load(&ti, true, 2);
	cr_assert_eq(ti.last_offset, 110);
	/* Out of order (a zero-filled entry after a power loss is too). */
	fd = sio_open(tp.sio, TI_PATH, O_RDWR, 0);
	txn_index_encode(entry, &txn);
	cr_assert_eq(sio_pwrite(tp.sio, fd, entry, 34, 2 * 34), 34);
	sio_close(tp.sio, fd);
	ti_load(&ti, true, 2);
	/* An entry ending below the segment's base offset (Kafka's
	 * sanityCheck) is corrupt from the first entry on. */
	fd = sio_open(tp.sio, TI_PATH, O_RDWR, 0);
	txn.last_offset = 99;
	txn.first_offset = 50;
	txn_index_encode(entry, &txn);
	cr_assert_eq(sio_pwrite(tp.sio, fd, entry, 34, 0), 34);
	sio_close(tp.sio, fd);
	ti_load(&ti, true, 0);
}

/* ---- through the segments of a partition log ---- */

/* A log of several segments (offsets 0..19, a batch of one record each). */
static void
txn_log(void)
{
	tp.cfg.segment_bytes = 1024;
	tp.cfg.delete_policy = true;
	cr_assert_eq(tp_open(&tp), 0);
	tp_write(&tp, 20, 1, 300, tp.now_ms, 0, 1);
	cr_assert_gt(tp.plog->seg_count, 4);
	cr_assert_eq(tp.plog->next_offset, 20);
}

static void
seg_path(uint32_t i, char *buf, size_t size)
{
	segment_path(tp.plog->dir, tp.plog->segs[i]->base_offset, ".txnindex", buf, size);
}

/* One aborted transaction whose marker is the last offset of segment i. */
static void
seg_abort(uint32_t i, int64_t pid)
{
	struct segment *seg = tp.plog->segs[i];
	struct txn_aborted txn = { pid, seg->base_offset, seg->next_offset - 1,
				   seg->base_offset };

	cr_assert_eq(segment_txn_append(seg, &txn), 0);
}

Test(txn_index, kept_across_close_and_reopen)
{
	struct txn_aborted e[4];
	struct txn_aborted_list out = { .e = e, .count = 0, .max = 4 };
	char path[SEGMENT_PATH_MAX];
	uint32_t n;

	txn_log();
	n = tp.plog->seg_count;
	seg_path(1, path, sizeof(path));
	cr_assert_not(sio_sim_exists(tp.sio, path), "created only on the first append");
	seg_abort(1, 11);
	seg_abort(n - 1, 12);
	cr_assert(sio_sim_exists(tp.sio, path));
	tp_close(&tp);
	cr_assert_eq(tp_open(&tp), 0);
	cr_assert_eq(tp.plog->seg_count, n);
	cr_assert_eq(tp.plog->segs[0]->txn.entry_count, 0);
	cr_assert_eq(tp.plog->segs[1]->txn.entry_count, 1);
	cr_assert_eq(tp.plog->segs[n - 1]->txn.entry_count, 1);
	for (uint32_t i = 0; i < n; i++)
		cr_assert_geq(segment_txn_collect(tp.plog->segs[i], 0, 20, &out), 0);
	cr_assert_eq(out.count, 2);
	cr_assert_eq(e[0].producer_id, 11);
	cr_assert_eq(e[0].last_offset, tp.plog->segs[2]->base_offset - 1);
	cr_assert_eq(e[1].producer_id, 12);
	cr_assert_eq(e[1].last_offset, 19);
	/* Appends go on in order after the reopen. */
	cr_assert_eq(segment_txn_append(tp.plog->segs[1], &e[0]), -EINVAL);
}

Test(txn_index, recovery_repairs_a_torn_index)
{
	static const uint8_t junk[7] = { 0, 0, 9 };
	struct segment *active;
	struct txn_aborted past = { 13, 19, 25, 19 };
	char path[SEGMENT_PATH_MAX];
	uint32_t n;
	int fd;

	txn_log();
	n = tp.plog->seg_count;
	seg_abort(0, 10);
	seg_abort(n - 1, 12);
	/* A marker the crash lost: its entry landed, the batch did not. */
	cr_assert_eq(segment_txn_append(plog_active(tp.plog), &past), 0);
	seg_path(0, path, sizeof(path));
	tp_close(&tp);
	fd = sio_open(tp.sio, path, O_RDWR, 0);
	cr_assert_eq(sio_pwrite(tp.sio, fd, junk, sizeof(junk), 34), (ssize_t)sizeof(junk));
	sio_close(tp.sio, fd);
	cr_assert_eq(tp_open(&tp), 0);
	cr_assert_eq(sio_sim_file_size(tp.sio, path), 34, "the torn entry is cut");
	cr_assert_eq(tp.plog->segs[0]->txn.entry_count, 1);
	active = plog_active(tp.plog);
	cr_assert_eq(active->txn.entry_count, 1, "the entry past the log end is dropped");
	cr_assert_eq(active->txn.last_offset, 19);
	seg_path(n - 1, path, sizeof(path));
	cr_assert_eq(sio_sim_file_size(tp.sio, path), 34);
}

Test(txn_index, recovery_drops_entries_of_a_torn_log_tail)
{
	struct txn_aborted txn = { 14, 20, 20, 20 };
	struct plog_append *a;
	char path[SEGMENT_PATH_MAX];
	struct sio_sim_crash how = { .power_loss = false, .torn_bytes = 30 };

	txn_log();
	/* The entry for a marker at 20 is written, the batch at 20 tears. */
	cr_assert_eq(segment_txn_append(plog_active(tp.plog), &txn), 0);
	seg_path(tp.plog->seg_count - 1, path, sizeof(path));
	a = tp_append_records(&tp, 1, 100, tp.now_ms, 1);
	plog_append_issue(tp.plog, tp.now_ms);
	sio_sim_crash(tp.sio, &how);
	tp_run(&tp);
	cr_assert_neq(a->error, 0);
	plog_close(tp.plog, 3);
	tp.plog = NULL;
	cr_assert_eq(tp_open(&tp), 0);
	cr_assert_eq(tp.plog->next_offset, 20);
	cr_assert_eq(plog_active(tp.plog)->txn.entry_count, 0);
	cr_assert_eq(sio_sim_file_size(tp.sio, path), 0);
}

Test(txn_index, truncated_with_the_log)
{
	char last[SEGMENT_PATH_MAX], mid[SEGMENT_PATH_MAX];
	struct segment *seg;
	struct txn_aborted early, late;
	uint32_t n;

	txn_log();
	n = tp.plog->seg_count;
	seg = tp.plog->segs[2];
	cr_assert_geq(seg->next_offset - seg->base_offset, 2);
	early = (struct txn_aborted){ 20, seg->base_offset, seg->base_offset, 0 };
	late = (struct txn_aborted){ 21, seg->base_offset, seg->next_offset - 1, 0 };
	cr_assert_eq(segment_txn_append(seg, &early), 0);
	cr_assert_eq(segment_txn_append(seg, &late), 0);
	seg_abort(n - 1, 22);
	seg_path(2, mid, sizeof(mid));
	seg_path(n - 1, last, sizeof(last));
	/* Cut inside segment 2, after its first batch: the later segments go
	 * with their indexes, segment 2 keeps only the entry below the cut. */
	cr_assert_eq(plog_truncate(tp.plog, seg->base_offset + 1), seg->base_offset + 1);
	cr_assert_eq(tp.plog->seg_count, 3);
	cr_assert_not(sio_sim_exists(tp.sio, last));
	cr_assert_eq(seg->txn.entry_count, 1);
	cr_assert_eq(seg->txn.last_offset, seg->base_offset);
	cr_assert_eq(sio_sim_file_size(tp.sio, mid), 34);
	tp_close(&tp);
	cr_assert_eq(tp_open(&tp), 0);
	cr_assert_eq(tp.plog->segs[2]->txn.entry_count, 1);
	/* Full truncation (a follower below the leader's start). */
	cr_assert_eq(plog_truncate_full(tp.plog, 100), 100);
	cr_assert_not(sio_sim_exists(tp.sio, mid));
}

Test(txn_index, orphan_next_to_a_new_segment_emptied)
{
	struct txn_aborted txn = { 40, 100, 101, 100 };
	const char *orphan = "/data/t-0/00000000000000000100.txnindex";
	struct txn_index ti;

	txn_log();
	/* A segment at 100 was deleted before, its .txnindex left behind by
	 * a crash between the unlinks. */
	txn_index_init(&ti, 100);
	cr_assert_eq(txn_index_fd_open(tp.sio, &ti, orphan, true), 0);
	cr_assert_eq(txn_index_append(tp.sio, &ti, &txn), 0);
	txn_index_fd_close(tp.sio, &ti);
	cr_assert_eq(plog_truncate_full(tp.plog, 100), 100);
	cr_assert_eq(plog_active(tp.plog)->txn.entry_count, 0);
	cr_assert_eq(sio_sim_file_size(tp.sio, orphan), 0);
}

Test(txn_index, deleted_with_its_segment)
{
	char p0[SEGMENT_PATH_MAX], p1[SEGMENT_PATH_MAX], p3[SEGMENT_PATH_MAX];
	int64_t low;

	txn_log();
	seg_abort(0, 30);
	seg_abort(1, 31);
	seg_abort(3, 33);
	seg_path(0, p0, sizeof(p0));
	seg_path(1, p1, sizeof(p1));
	seg_path(3, p3, sizeof(p3));
	/* Retention takes segment 0 alone. */
	tp.plog->cfg.retention_bytes = 0;
	for (uint32_t i = 1; i < tp.plog->seg_count; i++)
		tp.plog->cfg.retention_bytes += tp.plog->segs[i]->size;
	cr_assert_eq(plog_retention(tp.plog, tp.now_ms), 1);
	cr_assert_not(sio_sim_exists(tp.sio, p0));
	cr_assert(sio_sim_exists(tp.sio, p1));
	/* DeleteRecords past segment 1. */
	tp.plog->cfg.retention_bytes = -1;
	cr_assert_eq(plog_delete_records(tp.plog, tp.plog->segs[1]->next_offset, &low), 0);
	cr_assert_not(sio_sim_exists(tp.sio, p1));
	cr_assert(sio_sim_exists(tp.sio, p3));
	/* Topic deletion. */
	plog_delete(tp.plog, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	tp.plog = NULL;
	cr_assert_not(sio_sim_exists(tp.sio, p3));
}

Test(txn_index, descriptors_stay_within_the_open_file_budget)
{
	struct txn_aborted e[64];
	struct txn_aborted_list out = { .e = e, .count = 0, .max = 64 };
	uint32_t n, i;

	fcache_init(&tp.fc, 3, 6);
	txn_log();
	n = tp.plog->seg_count;
	for (i = 0; i < n; i++)
		seg_abort(i, 50 + i);
	for (int round = 0; round < 3; round++) {
		out.count = 0;
		for (i = 0; i < n; i++)
			cr_assert_geq(segment_txn_collect(tp.plog->segs[i], 0, 100, &out), 0);
		cr_assert_eq(out.count, n);
		cr_assert_leq(tp.fc.fds_open, tp.fc.fds_max);
		cr_assert_eq(sio_sim_fds_open(tp.sio), tp.fc.fds_open,
			     "only the cache holds descriptors");
	}
	cr_assert_gt(tp.fc.evictions, 0);
	tp_close(&tp);
	cr_assert_eq(sio_sim_fds_open(tp.sio), 0, "a closed log holds no .txnindex open");
}
