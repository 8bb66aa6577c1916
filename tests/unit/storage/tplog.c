/* SPDX-License-Identifier: Apache-2.0 */
/* Test harness for plog tests (see tplog.h). */
#include "tests/unit/storage/tplog.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "tests/sim/sio_sim.h"

static const uint8_t tp_topic_id[16] = { 0x12, 0x34, 0x56, 0x78, 1, 2, 3, 4, 5, 6, 7, 8, 9,
					 10, 11, 12 };

static struct plog_append *tp_all[TP_APPENDS_MAX];
static unsigned tp_all_count;

/* What the worker's st_cpl_fill() reads of the partition for every
 * completion, also while it is being freed (ASan checks the order). */
static void
tp_cpl_reads(struct plog *plog)
{
	volatile int64_t sink = plog->log_start_offset + plog_hw_visible(plog) + plog_lso(plog);

	(void)sink;
}

static void
tp_append_done(void *ctx, struct plog *plog, struct plog_append *app)
{
	struct tp *tp = ctx;

	tp_cpl_reads(plog);
	ASSERT(tp->done_count < TP_APPENDS_MAX);
	tp->done[tp->done_count++] = app;
}

static void
tp_watch_done(void *ctx, struct plog *plog, struct plog_watch *w)
{
	struct tp *tp = ctx;

	tp_cpl_reads(plog);
	(void)w;
	tp->watch_count++;
}

static const struct plog_ops tp_ops = { tp_append_done, tp_watch_done };

struct st_log_config
tp_config(void)
{
	struct st_log_config c = {
		.segment_bytes = 1 << 20, .segment_ms = 7LL * 24 * 3600 * 1000,
		.retention_ms = -1, .retention_bytes = -1, .max_message_bytes = 1 << 20,
		.index_interval_bytes = 4096, .segment_index_bytes = 1 << 16,
		.flush_messages = INT64_MAX, .flush_ms = INT64_MAX,
		.producer_id_expiration_ms = 86400000,
	};

	return c;
}

int
tp_open(struct tp *tp)
{
	struct plog_open_args a = {
		.sio = tp->sio, .fc = &tp->fc, .log_dir = tp->log_dir, .topic_name = "t",
		.topic_id = tp_topic_id, .partition = 0, .cfg = &tp->cfg, .ops = &tp_ops,
		.ops_ctx = tp, .now_ms = tp->now_ms,
	};
	int err;

	if (tp->fc.fds_max == 0)
		fcache_init(&tp->fc, 1024, 1024);
	tp->plog = plog_open(&a, &err);
	return tp->plog == NULL ? err : 0;
}

void
tp_close(struct tp *tp)
{
	tp_run(tp);
	plog_close(tp->plog, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	tp->plog = NULL;
}

struct plog_append *
tp_append(struct tp *tp, uint8_t *batch, uint32_t len, int8_t acks)
{
	struct plog_append *app = calloc(1, sizeof(*app));

	ASSERT(app != NULL && tp_all_count < TP_APPENDS_MAX);
	tp_all[tp_all_count++] = app;
	app->batch = batch;
	app->len = len;
	app->acks = acks;
	app->error = -1;
	plog_append(tp->plog, app);
	return app;
}

struct plog_append *
tp_append_records(struct tp *tp, int records, int value_bytes, int64_t ts, int8_t acks)
{
	struct tbatch_spec s = tbatch_spec(records, value_bytes, ts);
	uint32_t len;
	uint8_t *b = tbatch_build(&s, &len);

	return tp_append(tp, b, len, acks);
}

void
tp_write(struct tp *tp, int batches, int records, int value_bytes, int64_t ts, int64_t ts_step,
	 int8_t acks)
{
	for (int i = 0; i < batches; i++) {
		tp_append_records(tp, records, value_bytes, ts + i * ts_step, acks);
		tp_run(tp);
	}
}

void
tp_run(struct tp *tp)
{
	int guard = 0;

	do {
		if (tp->plog != NULL)
			plog_append_issue(tp->plog, tp->now_ms);
		sio_submit(tp->sio);
		sio_reap(tp->sio, 64);
		guard++;
		ASSERT(guard < 100000);
	} while (tp->sio->inflight > 0 || (tp->plog != NULL && tp->plog->pend_head != NULL &&
					   !tp->plog->write_inflight));
}

void
tp_free_appends(struct tp *tp)
{
	unsigned i;

	for (i = 0; i < tp_all_count; i++) {
		free(tp_all[i]->batch);
		free(tp_all[i]);
	}
	tp_all_count = 0;
	tp->done_count = 0;
}

void
tp_setup(struct tp *tp, uint64_t seed)
{
	memset(tp, 0, sizeof(*tp));
	tp->sio = sio_sim_create(seed);
	tp->cfg = tp_config();
	tp->log_dir = "/data";
	tp->now_ms = 1700000000000LL;
	cr_assert_eq(sio_mkdir(tp->sio, "/data", 0755), 0);
}

void
tp_teardown(struct tp *tp)
{
	if (tp->plog != NULL)
		tp_close(tp);
	tp_free_appends(tp);
	sio_destroy(tp->sio);
}

struct rbatch_header
tp_region_first(struct tp *tp, const struct plog_region *r)
{
	uint8_t buf[RBATCH_HEADER_BYTES];
	struct rbatch_header h;

	cr_assert_eq(sio_pread(tp->sio, r->seg->fd, buf, sizeof(buf), r->pos), sizeof(buf));
	cr_assert_eq(rbatch_header_parse(buf, sizeof(buf), &h), 0);
	return h;
}
