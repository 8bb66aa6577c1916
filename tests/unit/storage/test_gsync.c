/* SPDX-License-Identifier: Apache-2.0 */
/* Tests storage/gsync.c on the simulated sio: partitions whose acks=all
 * writes land in one turn share one flush (syncfs for several files,
 * fdatasync for one), writes landing during a round wait for the next, a
 * failed flush fails every append it covered and only those, and what was
 * acknowledged survives a power loss in every partition. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/plog_int.h"
#include "tests/sim/sio_sim.h"
#include "tests/unit/storage/tbatch.h"

#define PARTS 4
#define APPS_MAX 1024

static const uint8_t topic_id[16] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6 };

struct gt {
	struct sio *sio;
	struct fcache fc;
	struct gsync gs;
	struct plog *plogs[PARTS];
	struct st_log_config cfg;
	int64_t now_ms;
	struct plog_append *apps[APPS_MAX];
	unsigned app_count;
	unsigned done_count;
};

static struct gt gt;

static void
gt_append_done(void *ctx, struct plog *plog, struct plog_append *app)
{
	(void)ctx;
	(void)plog;
	(void)app;
	gt.done_count++;
}

static void
gt_watch_done(void *ctx, struct plog *plog, struct plog_watch *w)
{
	(void)ctx;
	(void)plog;
	(void)w;
}

static const struct plog_ops gt_ops = { gt_append_done, gt_watch_done, NULL };

static void
gt_open(int p)
{
	struct plog_open_args a = {
		.sio = gt.sio, .fc = &gt.fc, .log_dir = "/data", .topic_name = "g",
		.topic_id = topic_id, .partition = p, .cfg = &gt.cfg, .ops = &gt_ops,
		.now_ms = gt.now_ms,
	};
	int err;

	gt.plogs[p] = plog_open(&a, &err);
	cr_assert_not_null(gt.plogs[p], "open: %d", err);
	gt.plogs[p]->gs = &gt.gs;
}

static void
setup(void)
{
	int p;

	memset(&gt, 0, sizeof(gt));
	gt.sio = sio_sim_create(77);
	cr_assert_eq(sio_mkdir(gt.sio, "/data", 0755), 0);
	gt.cfg = (struct st_log_config){
		.segment_bytes = 1 << 20, .segment_ms = 7LL * 24 * 3600 * 1000,
		.retention_ms = -1, .retention_bytes = -1, .max_message_bytes = 1 << 20,
		.index_interval_bytes = 4096, .segment_index_bytes = 1 << 16,
		.flush_messages = INT64_MAX, .flush_ms = INT64_MAX,
		.producer_id_expiration_ms = 86400000,
	};
	gt.now_ms = 1700000000000LL;
	fcache_init(&gt.fc, 1024, 1024);
	gsync_init(&gt.gs, gt.sio, GSYNC_AUTO, NULL);
	for (p = 0; p < PARTS; p++)
		gt_open(p);
}

/* A worker's turn: issue, submit, reap, then the round. */
static void
gt_turn(void)
{
	int p;

	for (p = 0; p < PARTS; p++)
		if (gt.plogs[p] != NULL)
			plog_append_issue(gt.plogs[p], gt.now_ms);
	sio_submit(gt.sio);
	sio_reap(gt.sio, 256);
	gsync_kick(&gt.gs);
}

static bool
gt_busy(void)
{
	int p;

	if (gt.sio->inflight > 0 || gt.gs.wait_head != NULL)
		return true;
	for (p = 0; p < PARTS; p++)
		if (gt.plogs[p] != NULL && gt.plogs[p]->pend_head != NULL)
			return true;
	return false;
}

static void
gt_run(void)
{
	int guard = 0;

	do {
		gt_turn();
		cr_assert_lt(++guard, 100000);
	} while (gt_busy());
}

static struct plog_append *
gt_append(int p, int8_t acks)
{
	struct tbatch_spec s = tbatch_spec(2, 50, gt.now_ms);
	struct plog_append *app = calloc(1, sizeof(*app));
	uint32_t len;

	cr_assert(app != NULL && gt.app_count < APPS_MAX);
	app->batch = tbatch_build(&s, &len);
	app->len = len;
	app->acks = acks;
	app->error = -1;
	gt.apps[gt.app_count++] = app;
	plog_append(gt.plogs[p], app);
	return app;
}

static void
teardown(void)
{
	unsigned i;
	int p;

	gt_run();
	for (p = 0; p < PARTS; p++)
		if (gt.plogs[p] != NULL)
			plog_close(gt.plogs[p], 3);
	for (i = 0; i < gt.app_count; i++) {
		free(gt.apps[i]->batch);
		free(gt.apps[i]);
	}
	sio_destroy(gt.sio);
}

TestSuite(gsync, .init = setup, .fini = teardown);

Test(gsync, partitions_landing_in_one_turn_share_one_syncfs)
{
	struct plog_append *a[PARTS];
	int p;

	for (p = 0; p < PARTS; p++)
		a[p] = gt_append(p, -1);
	gt_run();
	for (p = 0; p < PARTS; p++) {
		cr_assert_eq(a[p]->error, 0);
		cr_assert_eq(gt.plogs[p]->synced_offset, 2);
	}
	cr_assert_eq(gt.done_count, PARTS);
	cr_assert_eq(gt.gs.rounds, 1);
	cr_assert_eq(sio_sim_count(gt.sio, SIO_SIM_SYNCFS), 1);
	cr_assert_eq(sio_sim_count(gt.sio, SIO_SIM_FLUSH), 0);
	cr_assert_eq(sio_sim_count(gt.sio, SIO_SIM_FDATASYNC), 0, "no per-file io-wq syncs");
}

Test(gsync, one_file_waiting_gets_an_fdatasync)
{
	struct plog_append *a = gt_append(2, -1);

	gt_run();
	cr_assert_eq(a->error, 0);
	cr_assert_eq(sio_sim_count(gt.sio, SIO_SIM_FLUSH), 1);
	cr_assert_eq(sio_sim_count(gt.sio, SIO_SIM_SYNCFS), 0);
	gt.gs.mode = GSYNC_SYNCFS;
	a = gt_append(2, -1);
	gt_run();
	cr_assert_eq(a->error, 0);
	cr_assert_eq(sio_sim_count(gt.sio, SIO_SIM_SYNCFS), 1, "syncfs mode: always syncfs");
}

Test(gsync, acks_one_asks_for_no_flush)
{
	int p;

	for (p = 0; p < PARTS; p++)
		gt_append(p, 1);
	gt_run();
	cr_assert_eq(gt.done_count, PARTS);
	cr_assert_eq(gt.gs.rounds, 0);
}

/* Writes keep landing while rounds run: each append is acknowledged only
 * by a round that started after it landed, and rounds batch many. */
Test(gsync, writes_landing_during_a_round_wait_for_the_next)
{
	int i, p;

	sio_sim_set_reorder(gt.sio, true);
	for (i = 0; i < 40; i++) {
		for (p = 0; p < PARTS; p++)
			gt_append(p, -1);
		gt_turn();
		for (p = 0; p < PARTS; p++)
			cr_assert_leq(gt.plogs[p]->synced_offset, gt.plogs[p]->hw);
	}
	gt_run();
	cr_assert_eq(gt.done_count, 40 * PARTS);
	for (i = 0; i < (int)gt.app_count; i++)
		cr_assert_eq(gt.apps[i]->error, 0);
	for (p = 0; p < PARTS; p++)
		cr_assert_eq(gt.plogs[p]->synced_offset, 80);
	cr_assert_lt(gt.gs.rounds, 40 * PARTS / 2, "%lu rounds", (unsigned long)gt.gs.rounds);
}

Test(gsync, failed_flush_fails_what_it_covered_only)
{
	struct plog_append *a[PARTS], *b;
	int p;

	sio_sim_fail(gt.sio, SIO_SIM_SYNCFS, 0, EIO);
	for (p = 0; p < PARTS; p++)
		a[p] = gt_append(p, -1);
	gt_run();
	for (p = 0; p < PARTS; p++)
		cr_assert_eq(a[p]->error, KP_ERR_KAFKA_STORAGE_ERROR);
	b = gt_append(1, -1);
	gt_append(3, -1);
	gt_run();
	cr_assert_eq(b->error, 0, "the next round works");
	cr_assert_eq(gt.plogs[1]->synced_offset, 4);
}

/* The power-loss property across partitions: after a crash that throws
 * the page cache away, every partition still has what it acknowledged
 * with acks=all, and nothing it acknowledged with acks=1 only. */
Test(gsync, acknowledged_data_survives_power_loss_in_every_partition)
{
	struct sio_sim_crash how = { .power_loss = true, .torn_bytes = 0 };
	int i, p;

	for (i = 0; i < 5; i++) {
		for (p = 0; p < PARTS; p++)
			gt_append(p, -1);
		gt_run();
	}
	for (p = 0; p < PARTS; p++)
		gt_append(p, 1);
	gt_run();
	sio_sim_crash(gt.sio, &how);
	gt_run();
	for (p = 0; p < PARTS; p++) {
		plog_close(gt.plogs[p], 3);
		gt_open(p);
		cr_assert_eq(gt.plogs[p]->hw, 10, "partition %d", p);
	}
}

/* A plog whose landed acks=all appends wait for the next round is not idle
 * (closing it would drop them unanswered) until that round ends. */
Test(gsync, a_waiting_partition_is_busy_until_its_round_ends)
{
	int p;

	for (p = 0; p < PARTS; p++)
		gt_append(p, -1);
	for (p = 0; p < PARTS; p++)
		plog_append_issue(gt.plogs[p], gt.now_ms);
	sio_submit(gt.sio);
	sio_reap(gt.sio, 256);
	cr_assert_not_null(gt.gs.wait_head, "landed, waiting for the round");
	cr_assert_not(plog_idle(gt.plogs[0]));
	gsync_kick(&gt.gs);
	cr_assert_not(plog_idle(gt.plogs[0]), "in the round");
	gt_run();
	cr_assert(plog_idle(gt.plogs[0]));
	plog_close(gt.plogs[0], 3);
	gt.plogs[0] = NULL;
	cr_assert_eq(gt.apps[0]->error, 0);
	cr_assert_eq(gt.gs.rounds, 1);
}
