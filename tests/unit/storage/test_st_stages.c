/* SPDX-License-Identifier: Apache-2.0 */
/* Tests the produce stage timing of storage/st_worker.c (common/stage.h) end
 * to end on real io_uring in a temp dir, with this thread as the one core:
 * timed appends (t_valid_ns set) with acks=all and acks=1 come back with a
 * done time after their validation, and the worker statistics count one
 * sample per append in each of its stages (queue, issue, write, and for
 * acks=all sync_wait and fsync), none in the core's stages; untimed and
 * failed appends record nothing. */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/stage.h"
#include "storage/st.h"
#include "tests/unit/storage/tbatch.h"

#define PARTS 3

static const uint8_t topic[16] = { 0x5a, 0x6e, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };
static char dir[64];
static int wake_fd;

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/st-stages-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	wake_fd = eventfd(0, EFD_NONBLOCK);
}

static void
teardown(void)
{
	char cmd[128];

	close(wake_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(st_stages, .init = setup, .fini = teardown);

static struct st *
start(void)
{
	struct st_config sc = { .log_dir = dir, .worker_count = 1, .core_count = 1,
				.ring_slots = 64 };
	struct st_log_config lc = {
		.segment_bytes = 1 << 20, .segment_ms = 86400000, .retention_ms = -1,
		.retention_bytes = -1, .max_message_bytes = 1 << 20,
		.index_interval_bytes = 4096, .segment_index_bytes = 1 << 20,
		.flush_messages = INT64_MAX, .flush_ms = INT64_MAX,
		.producer_id_expiration_ms = 86400000,
	};
	char err[128];
	struct st *st = st_create(&sc, err, sizeof(err));

	cr_assert_not_null(st, "%s", err);
	st_attach_core(st, 0, wake_fd);
	cr_assert_eq(st_start(st), 0);
	cr_assert_eq(st_partitions_open(st, topic, "stages", 0, PARTS, &lc), 0);
	return st;
}

static void
reap(struct st *st, struct st_cpl *out, unsigned n)
{
	uint64_t deadline = clock_mono_ns() + 5000000000ull, v;
	struct pollfd pfd = { .fd = wake_fd, .events = POLLIN };
	unsigned got = 0;

	while (got < n) {
		got += st_reap(st, 0, out + got, n - got);
		if (got < n) {
			cr_assert_lt(clock_mono_ns(), deadline, "timed out with %u of %u", got, n);
			if (poll(&pfd, 1, 10) > 0)
				cr_assert_eq(read(wake_fd, &v, 8), 8);
		}
	}
}

static void
worker_stats(void *arg, const struct st_worker_stats *ws)
{
	*(struct stage_hists *)arg = ws->stages;
}

static void
part_stats(void *arg, const struct st_partition_stats *ps)
{
	(void)arg;
	(void)ps;
}

static uint64_t
count(const struct hist *h)
{
	uint64_t n = 0;

	for (int i = 0; i <= HIST_BOUNDS; i++)
		n += h->count[i];
	return n;
}

/* Submit one append per partition (partition PARTS: unknown) and reap them. */
static void
append_round(struct st *st, int8_t acks, uint64_t t_valid_ns, int32_t part_count,
	     struct st_cpl *cpl, uint8_t **bufs)
{
	for (int32_t p = 0; p < part_count; p++) {
		struct tbatch_spec s = tbatch_spec(2, 50, 1000);
		struct st_req r;
		uint32_t len;

		bufs[p] = tbatch_build(&s, &len);
		memset(&r, 0, sizeof(r));
		r.type = ST_REQ_APPEND;
		r.acks = acks;
		r.partition = p;
		r.token = (uint64_t)p;
		memcpy(r.topic_id, topic, sizeof(r.topic_id));
		r.append.batch = bufs[p];
		r.append.len = len;
		r.append.t_valid_ns = t_valid_ns;
		cr_assert(st_submit(st, 0, &r));
	}
	st_flush(st, 0);
	reap(st, cpl, (unsigned)part_count);
}

Test(st_stages, worker_stages_per_append)
{
	struct stage_hists sh;
	struct st_cpl cpl[PARTS + 1];
	uint8_t *bufs[PARTS + 1];
	struct st *st = start();
	uint64_t t0 = clock_mono_ns();

	append_round(st, -1, t0, PARTS, cpl, bufs);
	for (int i = 0; i < PARTS; i++) {
		cr_assert_eq(cpl[i].error, 0);
		cr_assert_geq(cpl[i].append.t_done_ns, t0);
		cr_assert_leq(cpl[i].append.t_done_ns, clock_mono_ns());
		free(bufs[i]);
	}
	append_round(st, 1, clock_mono_ns(), PARTS, cpl, bufs);
	for (int i = 0; i < PARTS; i++) {
		cr_assert_neq(cpl[i].append.t_done_ns, 0);
		free(bufs[i]);
	}
	/* Untimed (t_valid_ns 0), acks=0, and an unknown partition: nothing. */
	append_round(st, 1, 0, 1, cpl, bufs);
	cr_assert_eq(cpl[0].append.t_done_ns, 0);
	free(bufs[0]);
	append_round(st, 0, clock_mono_ns(), 1, cpl, bufs);
	cr_assert_eq(cpl[0].append.t_done_ns, 0);
	free(bufs[0]);
	append_round(st, -1, clock_mono_ns(), PARTS + 1, cpl, bufs);
	for (int i = 0; i < PARTS + 1; i++) {
		if (cpl[i].partition == PARTS) {
			cr_assert_neq(cpl[i].error, 0);
			cr_assert_eq(cpl[i].append.t_done_ns, 0);
		}
		free(bufs[i]);
	}

	memset(&sh, 0, sizeof(sh));
	cr_assert_eq(st_stats_collect(st, part_stats, worker_stats, &sh), 0);
	for (int s = 0; s < STAGE_COUNT; s++) {
		bool worker = s == STAGE_QUEUE || s == STAGE_ISSUE || s == STAGE_WRITE ||
			      s == STAGE_SYNC_WAIT || s == STAGE_FSYNC;
		bool sync = s == STAGE_SYNC_WAIT || s == STAGE_FSYNC;

		cr_assert_eq(count(&sh.h[STAGE_ACKS_ALL][s]), worker ? 2 * PARTS : 0, "%s",
			     stage_names[s]);
		cr_assert_eq(count(&sh.h[STAGE_ACKS_ONE][s]), worker && !sync ? PARTS : 0, "%s",
			     stage_names[s]);
	}
	cr_assert_gt(sh.h[STAGE_ACKS_ALL][STAGE_FSYNC].sum_ns, 0, "an fdatasync takes time");
	st_stop(st);
	st_destroy(st);
}
