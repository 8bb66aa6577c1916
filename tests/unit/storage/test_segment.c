/* SPDX-License-Identifier: Apache-2.0 */
/* Tests storage/segment.c's open-file discipline on the simulated sio:
 * segments of many plogs share an open-file cache much smaller than their
 * files, and every append, read, roll, retention, recovery and close still
 * works, with descriptors and maps within the budget whenever nothing is in
 * flight; a descriptor limit below the budget (EMFILE) is absorbed by
 * evicting and retrying, and writes wait for descriptors that writes in
 * flight hold instead of failing; a READ's hold keeps a file open across evictions
 * and a deletion. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rbatch.h"
#include "storage/plog_int.h"
#include "tests/sim/sio_sim.h"
#include "tests/unit/storage/tbatch.h"
#include "tests/unit/storage/tplog.h"

#define PLOGS 40

static const uint8_t topic[16] = { 7, 7, 7, 7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
static struct sio *sio;
static struct fcache fc;
static struct plog *plogs[PLOGS];
static struct st_log_config cfg;
static unsigned appended;
static unsigned failed;

static void
on_append(void *ctx, struct plog *plog, struct plog_append *app)
{
	(void)ctx;
	(void)plog;
	if (app->error == 0)
		appended++;
	else
		failed++;
	free(app->batch);
	free(app);
}

static void
on_watch(void *ctx, struct plog *plog, struct plog_watch *w)
{
	(void)ctx;
	(void)plog;
	(void)w;
}

static const struct plog_ops ops = { on_append, on_watch };

static void
setup(void)
{
	sio = sio_sim_create(11);
	cr_assert_eq(sio_mkdir(sio, "/data", 0755), 0);
	cfg = tp_config();
	appended = failed = 0;
	memset(plogs, 0, sizeof(plogs));
}

static void
teardown(void)
{
	sio_destroy(sio);
}

TestSuite(segment, .init = setup, .fini = teardown);

static struct plog *
open_plog(int32_t p)
{
	struct plog_open_args a = {
		.sio = sio, .fc = &fc, .log_dir = "/data", .topic_name = "t", .topic_id = topic,
		.partition = p, .cfg = &cfg, .ops = &ops, .now_ms = 1700000000000LL,
	};
	struct plog *plog;
	int err;

	plog = plog_open(&a, &err);
	cr_assert_not_null(plog, "partition %d: %d", p, err);
	return plog;
}

static void
append(struct plog *plog, int records)
{
	struct tbatch_spec s = tbatch_spec(records, 100, 1700000000000LL);
	struct plog_append *app = calloc(1, sizeof(*app));
	uint32_t len;

	cr_assert_not_null(app);
	app->batch = tbatch_build(&s, &len);
	app->len = len;
	app->acks = -1;
	plog_append(plog, app);
	plog_append_issue(plog, 1700000000000LL);
}

/* Run the IO until nothing is in flight or queued, issuing again what a
 * plog could not issue for want of descriptors (as the worker does). */
static void
settle(void)
{
	bool queued = true;
	int guard = 0;

	while (sio->inflight > 0 || queued) {
		queued = false;
		for (int i = 0; i < PLOGS; i++) {
			if (plogs[i] == NULL || plogs[i]->pend_head == NULL)
				continue;
			plog_append_issue(plogs[i], 1700000000000LL);
			queued = queued || plogs[i]->pend_head != NULL;
		}
		sio_submit(sio);
		sio_reap(sio, 64);
		cr_assert_lt(++guard, 100000);
	}
}

/* The batch at offset through a held region, as a fetch reads it. */
static void
check_read(struct plog *plog, int64_t offset)
{
	struct plog_region r;
	uint8_t hdr[RBATCH_HEADER_BYTES];
	struct rbatch_header h;

	cr_assert_eq(plog_read(plog, offset, 1 << 20, &r), 0);
	cr_assert_gt(r.len, 0, "offset %ld", (long)offset);
	cr_assert_eq(segment_hold(r.seg), 0);
	cr_assert_eq(sio_pread(sio, r.seg->fd, hdr, sizeof(hdr), r.pos), sizeof(hdr));
	cr_assert_eq(rbatch_header_parse(hdr, sizeof(hdr), &h), 0);
	cr_assert_leq(h.base_offset, offset);
	cr_assert_geq(h.base_offset + h.last_offset_delta, offset);
	segment_release(r.seg);
}

static void
within_budget(void)
{
	cr_assert_leq(fc.fds_open, fc.fds_max);
	cr_assert_leq(fc.maps_open, fc.maps_max);
	cr_assert_eq(sio_sim_fds_open(sio), fc.fds_open, "only the cache holds descriptors");
	cr_assert_eq(sio_sim_maps_open(sio), fc.maps_open, "only the cache holds maps");
}

static void
close_all(void)
{
	for (int i = 0; i < PLOGS; i++) {
		if (plogs[i] != NULL)
			plog_close(plogs[i], 3);
		plogs[i] = NULL;
	}
	cr_assert_eq(sio_sim_fds_open(sio), 0);
	cr_assert_eq(sio_sim_maps_open(sio), 0);
	fcache_fini(&fc);
}

Test(segment, many_plogs_share_a_small_cache)
{
	fcache_init(&fc, 4, 6);
	for (int i = 0; i < PLOGS; i++) {
		plogs[i] = open_plog(i);
		within_budget();
	}
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < PLOGS; i++)
			append(plogs[i], 1 + i % 3);
		settle();
		within_budget();
	}
	cr_assert_eq(appended, 3 * PLOGS);
	cr_assert_eq(failed, 0);
	for (int i = 0; i < PLOGS; i++) {
		cr_assert_eq(plogs[i]->hw, 3 * (1 + i % 3));
		for (int64_t off = 0; off < plogs[i]->hw; off++)
			check_read(plogs[i], off);
		within_budget();
	}
	cr_assert_gt(fc.evictions, 100, "the cache was really too small");
	close_all();
	/* Reopen everything (recovery reads every segment) within the budget. */
	fcache_init(&fc, 4, 6);
	for (int i = 0; i < PLOGS; i++) {
		plogs[i] = open_plog(i);
		cr_assert_eq(plogs[i]->hw, 3 * (1 + i % 3));
		within_budget();
	}
	check_read(plogs[PLOGS - 2], 5);
	close_all();
}

Test(segment, rolls_retention_and_recovery_with_one_descriptor)
{
	struct plog *plog;

	cfg.segment_bytes = 1024;
	cfg.index_interval_bytes = 100;
	fcache_init(&fc, 1, 2);
	plog = plogs[0] = open_plog(0);
	for (int i = 0; i < 60; i++) {
		append(plog, 2);
		settle();
		within_budget();
	}
	cr_assert_gt(plog->seg_count, 10);
	for (int64_t off = 0; off < plog->hw; off += 7)
		check_read(plog, off);
	within_budget();
	/* ListOffsets by time walks the indexes of older segments. */
	int64_t offset, ts;

	cr_assert_eq(plog_read_offset(plog, 1700000000000LL, &offset, &ts), 0);
	cr_assert_eq(offset, 0);
	plog_close(plog, 3);
	plogs[0] = NULL;
	cr_assert_eq(sio_sim_fds_open(sio), 0);
	/* Reopen: every sealed segment's index is checked within the budget;
	 * a missing sealed index is rebuilt. */
	cr_assert_eq(sio_unlink(sio, "/data/t-0/00000000000000000000.index"), 0);
	plog = plogs[0] = open_plog(0);
	cr_assert_eq(plog->hw, 120);
	cr_assert_gt(plog->segs[0]->oidx.entry_count, 0, "rebuilt");
	cr_assert_leq(sio_sim_fds_peak(sio), 4, "a few transient descriptors at most");
	within_budget();
	check_read(plog, 0);
	check_read(plog, 119);
	/* Retention deletes segments whose files the cache may have closed. */
	plog->cfg.retention_bytes = 2048;
	cr_assert_gt(plog_retention(plog, 1700000000000LL), 0);
	within_budget();
	check_read(plog, plog->log_start_offset);
	close_all();
}

Test(segment, emfile_below_the_budget_is_absorbed)
{
	fcache_init(&fc, 100, 200);
	sio_sim_set_fd_limit(sio, 3);
	for (int i = 0; i < PLOGS; i++) {
		/* Fill the descriptor limit with cached logs first: every
		 * open, the partition's small files included, must make room. */
		for (int k = 1; k <= 3 && i - k >= 0; k++) {
			cr_assert_eq(segment_log_pin(plogs[i - k]->segs[0]), 0);
			segment_log_unpin(plogs[i - k]->segs[0]);
		}
		cr_assert(i < 3 || sio_sim_fds_open(sio) == 3);
		plogs[i] = open_plog(i);
	}
	cr_assert_leq(sio_sim_fds_open(sio), 3);
	for (int i = 0; i < PLOGS; i++)
		append(plogs[i], 1);
	settle();
	cr_assert_eq(appended, PLOGS, "writes waited for descriptors, none failed");
	cr_assert_eq(failed, 0);
	for (int i = 0; i < PLOGS; i++)
		check_read(plogs[i], 0);
	close_all();
}

Test(segment, a_hold_keeps_a_deleted_segment_readable)
{
	struct plog_region r;
	uint8_t hdr[RBATCH_HEADER_BYTES];

	fcache_init(&fc, 1, 2);
	plogs[0] = open_plog(0);
	plogs[1] = open_plog(1);
	append(plogs[0], 3);
	settle();
	cr_assert_eq(plog_read(plogs[0], 1, 1000, &r), 0);
	cr_assert_eq(segment_hold(r.seg), 0);
	/* Other partitions' files cannot evict it, even over the budget. */
	append(plogs[1], 1);
	settle();
	check_read(plogs[1], 0);
	cr_assert_geq(r.seg->fd, 0);
	plog_delete(plogs[0], 3);
	plogs[0] = NULL;
	cr_assert_not(sio_sim_exists(sio, "/data/t-0"));
	cr_assert_eq(sio_pread(sio, r.seg->fd, hdr, sizeof(hdr), r.pos), sizeof(hdr),
		     "still readable after the delete");
	segment_release(r.seg);
	close_all();
}
