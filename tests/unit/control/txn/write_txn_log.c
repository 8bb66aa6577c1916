/* SPDX-License-Identifier: Apache-2.0 */
/* Writes <dir>/__transaction_state-0 with storage/plog.c on real io_uring,
 * holding records from control/txn/txn_rec.c one per batch, as Kafka's
 * TransactionStateManager appends them (magic 2, uncompressed, no producer,
 * CRC-32C): a transaction's life (Ongoing over two topics, PrepareCommit,
 * CompleteCommit), one aborted (PrepareAbort at value v1, the flexible
 * layout with every tagged field, then CompleteAbort), one Empty, and a
 * tombstone. kafka_dump_txn_log.sh then reads it back with Kafka's own
 * DumpLogSegments --transaction-log-decoder; the expected text is there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/be.h"
#include "common/rbatch.h"
#include "control/txn/txn_rec.h"
#include "storage/fcache_int.h"
#include "storage/plog_int.h"
#include "storage/sio.h"

#define WT_TS 1700000000000LL

struct wt_rec {
	const char *id;
	int16_t version;
	bool tombstone;
	struct txn_rec_value value;
};

static const int32_t wt_orders[] = { 0, 1, 2 };
static const int32_t wt_payments[] = { 5, 7 };
static const struct txn_rec_topic wt_topics[] = {
	{ { "orders", 6 }, 3, wt_orders },
	{ { "payments", 8 }, 2, wt_payments },
};

#define WT_VALUE(pid, epoch, timeout, st, count, start, update)                          \
	{ .producer_id = (pid), .previous_producer_id = -1, .next_producer_id = -1,      \
	  .producer_epoch = (epoch), .timeout_ms = (timeout), .state = (st),             \
	  .topic_count = (count), .topics = wt_topics, .start_timestamp_ms = (start),    \
	  .last_update_timestamp_ms = (update) }

static const struct wt_rec wt_recs[] = {
	{ "app-1", 0, false, WT_VALUE(4000, 3, 60000, TXN_REC_STATE_ONGOING, 2, WT_TS, WT_TS + 1) },
	{ "app-1", 0, false,
	  WT_VALUE(4000, 3, 60000, TXN_REC_STATE_PREPARE_COMMIT, 2, WT_TS, WT_TS + 2) },
	{ "app-1", 0, false,
	  WT_VALUE(4000, 3, 60000, TXN_REC_STATE_COMPLETE_COMMIT, 0, WT_TS, WT_TS + 3) },
	{ "app-2", 1, false,
	  WT_VALUE(4001, 0, 30000, TXN_REC_STATE_PREPARE_ABORT, 1, WT_TS + 4, WT_TS + 5) },
	{ "app-2", 0, false,
	  WT_VALUE(4001, 0, 30000, TXN_REC_STATE_COMPLETE_ABORT, 0, WT_TS + 4, WT_TS + 6) },
	{ "app-3", 0, false, WT_VALUE(4002, 9, 900000, TXN_REC_STATE_EMPTY, 0, -1, WT_TS + 7) },
	{ "app-3", 0, true, { 0 } },
};
#define WT_RECS_COUNT (sizeof(wt_recs) / sizeof(wt_recs[0]))

/* One record batch v2 holding rec, in a new malloc()ed buffer. */
static uint8_t *
wt_batch(const struct wt_rec *rec, int64_t ts, uint32_t *len_out)
{
	struct kp_writer k, v, body, out;
	struct txn_rec_value value = rec->value;

	kp_writer_init(&k, 32);
	kp_writer_init(&v, 128);
	kp_writer_init(&body, 256);
	kp_writer_init(&out, 512);
	txn_rec_key_encode(&k, kp_str_c(rec->id));
	if (rec->version >= 1) {
		/* Every tagged field (Kafka 4's), which Kafka 3.9 skips. */
		value.previous_producer_id = 3999;
		value.next_producer_id = value.producer_id + 1;
		value.client_transaction_version = 2;
	}
	if (!rec->tombstone)
		txn_rec_value_encode(&v, rec->version, &value);
	kp_write_i8(&body, 0);                          /* attributes */
	kp_write_varlong(&body, 0);                     /* timestamp delta */
	kp_write_varint(&body, 0);                      /* offset delta */
	kp_write_varint(&body, (int32_t)k.len);
	kp_write_raw(&body, k.buf, k.len);
	kp_write_varint(&body, rec->tombstone ? -1 : (int32_t)v.len);
	if (!rec->tombstone)
		kp_write_raw(&body, v.buf, v.len);
	kp_write_varint(&body, 0);                      /* headers */
	kp_write_i64(&out, 0);                          /* base offset: storage's */
	kp_write_i32(&out, 0);                          /* batch length, below */
	kp_write_i32(&out, -1);                         /* partition leader epoch */
	kp_write_i8(&out, RBATCH_MAGIC_V2);
	kp_write_u32(&out, 0);                          /* CRC, below */
	kp_write_i16(&out, 0);                          /* attributes: none */
	kp_write_i32(&out, 0);                          /* last offset delta */
	kp_write_i64(&out, ts);                         /* base timestamp */
	kp_write_i64(&out, ts);                         /* max timestamp */
	kp_write_i64(&out, -1);                         /* producer id */
	kp_write_i16(&out, -1);                         /* producer epoch */
	kp_write_i32(&out, -1);                         /* base sequence */
	kp_write_i32(&out, 1);                          /* records */
	kp_write_varint(&out, (int32_t)body.len);
	kp_write_raw(&out, body.buf, body.len);
	kp_writer_free(&k);
	kp_writer_free(&v);
	kp_writer_free(&body);
	if (out.err != 0 || k.err != 0 || v.err != 0 || body.err != 0) {
		kp_writer_free(&out);
		return NULL;
	}
	kp_write_put_i32(&out, 8, (int32_t)(out.len - RBATCH_LOG_OVERHEAD));
	be_write32(out.buf + 17, rbatch_crc_compute(out.buf, out.len));
	*len_out = (uint32_t)out.len;
	return out.buf;                 /* the writer's buffer, now the caller's */
}

static unsigned wt_done_count;
static int wt_errors;

static void
wt_append_done(void *ctx, struct plog *plog, struct plog_append *app)
{
	(void)ctx;
	(void)plog;
	wt_done_count++;
	if (app->error != 0)
		wt_errors++;
}

static void
wt_watch_done(void *ctx, struct plog *plog, struct plog_watch *w)
{
	(void)ctx;
	(void)plog;
	(void)w;
}

static const struct plog_ops wt_ops = { wt_append_done, wt_watch_done, NULL };

/* Issue, submit and reap until every append completed. */
static int
wt_run(struct sio *sio, struct plog *plog, int64_t now_ms, unsigned want)
{
	for (int guard = 0; wt_done_count < want; guard++) {
		if (guard > 100000)
			return -1;
		plog_append_issue(plog, now_ms);
		sio_submit(sio);
		if (sio->inflight > 0)
			sio_wait(sio, 1000000);
		sio_reap(sio, 64);
	}
	return 0;
}

static struct plog *
wt_open(struct sio *sio, struct fcache *fc, const char *dir, const struct st_log_config *cfg)
{
	static const uint8_t topic_id[16] = { 0x7a, 0x11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
					      12, 13, 14 };
	struct plog_open_args a = {
		.sio = sio, .fc = fc, .log_dir = dir, .topic_name = "__transaction_state",
		.topic_id = topic_id, .partition = 0, .cfg = cfg, .ops = &wt_ops,
		.now_ms = WT_TS, .create = true,
	};
	int err;

	return plog_open(&a, &err);
}

int
main(int argc, char **argv)
{
	struct st_log_config cfg = {
		.segment_bytes = 1 << 20, .segment_ms = 7LL * 24 * 3600 * 1000,
		.retention_ms = -1, .retention_bytes = -1, .max_message_bytes = 1 << 20,
		.index_interval_bytes = 4096, .segment_index_bytes = 1 << 16,
		.flush_messages = INT64_MAX, .flush_ms = INT64_MAX,
		.producer_id_expiration_ms = 86400000,
	};
	struct plog_append apps[WT_RECS_COUNT];
	struct fcache fc;
	struct plog *plog;
	struct sio *sio;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	sio = sio_uring_create(64, &err);
	if (sio == NULL)
		return 77;              /* no io_uring here */
	fcache_init(&fc, 64, 64);
	plog = wt_open(sio, &fc, argv[1], &cfg);
	if (plog == NULL)
		return 1;
	memset(apps, 0, sizeof(apps));
	for (unsigned i = 0; i < WT_RECS_COUNT; i++) {
		apps[i].batch = wt_batch(&wt_recs[i], WT_TS + 10 * i, &apps[i].len);
		if (apps[i].batch == NULL)
			return 1;
		apps[i].acks = -1;
		apps[i].error = -1;
		plog_append(plog, &apps[i]);
	}
	if (wt_run(sio, plog, WT_TS, WT_RECS_COUNT) != 0 || wt_errors != 0)
		return 1;
	printf("%u records, log end offset %ld\n", wt_done_count, (long)plog->hw);
	plog_close(plog, 3);
	fcache_fini(&fc);
	for (unsigned i = 0; i < WT_RECS_COUNT; i++)
		free(apps[i].batch);
	sio_destroy(sio);
	return 0;
}
