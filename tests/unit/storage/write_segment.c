/* SPDX-License-Identifier: Apache-2.0 */
/* Writes a small partition log with storage/plog.c on real io_uring into
 * <dir>/t-0 (several segments, sparse indexes, two aborted transactions in
 * the first segment's .txnindex) and one with real transactions into
 * <dir>/txn/t-0 (transactional batches, an ABORT and a COMMIT marker
 * appended as the coordinator will, the abort indexed by storage), and
 * closes them cleanly, for kafka_dump_log.sh to read back with Kafka's own
 * DumpLogSegments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/be.h"
#include "common/rbatch.h"
#include "storage/plog_int.h"
#include "storage/txn_marker.h"
#include "tests/unit/storage/tplog.h"

static int
run_until_idle(struct tp *tp)
{
	int guard = 0;

	plog_append_issue(tp->plog, tp->now_ms);
	while (tp->sio->inflight > 0 || tp->plog->pend_head != NULL) {
		if (++guard > 100000)
			return -1;
		sio_wait(tp->sio, 1000000);
		sio_reap(tp->sio, 64);
		plog_append_issue(tp->plog, tp->now_ms);
	}
	return 0;
}

/* The entries kafka_dump_log.sh looks for (first segment: offsets 0-5 at
 * least, with two batches of three records before the roll). */
static int
write_txn_index(struct plog *plog)
{
	static const struct txn_aborted txns[] = {
		{ .producer_id = 4242, .first_offset = 0, .last_offset = 2,
		  .last_stable_offset = 0 },
		{ .producer_id = 123456789012LL, .first_offset = 1, .last_offset = 5,
		  .last_stable_offset = 1 },
	};
	unsigned i;

	if (plog->seg_count < 2 || plog->segs[0]->next_offset <= 5)
		return -1;
	for (i = 0; i < sizeof(txns) / sizeof(txns[0]); i++)
		if (segment_txn_append(plog->segs[0], &txns[i]) != 0)
			return -1;
	return 0;
}

static struct plog_append *
append_txn(struct tp *tp, int64_t pid, int records)
{
	struct tbatch_spec s = tbatch_spec(records, 20, tp->now_ms);
	uint32_t len;
	uint8_t *b;

	s.producer_id = pid;
	s.producer_epoch = 1;
	s.base_sequence = 0;
	b = tbatch_build(&s, &len);
	be_write16(b + 21, be_read16(b + 21) | RBATCH_ATTR_TRANSACTIONAL);
	be_write32(b + 17, rbatch_crc_compute(b, len));
	return tp_append(tp, b, len, -1);
}

static struct plog_append *
append_marker(struct tp *tp, int64_t pid, int16_t type)
{
	struct txn_marker m = { .producer_id = pid, .producer_epoch = 1,
				.coordinator_epoch = 5, .type = type, .timestamp_ms = tp->now_ms };
	uint8_t *b = malloc(TXN_MARKER_BYTES);
	struct plog_append *app;

	if (b == NULL)
		return NULL;
	txn_marker_build(&m, b);
	app = tp_append(tp, b, TXN_MARKER_BYTES, -1);
	app->flags = ST_APPEND_MARKER;
	return app;
}

/* <dir>/txn/t-0: 0-1 producer 777, 2 producer 778, 3 ABORT of 777 (its
 * .txnindex entry: first 0, last 3, LSO 2: 778 is open), 4 COMMIT of 778. */
static int
write_txn_log(const char *dir, struct sio *sio)
{
	char sub[512];
	struct tp tp;
	int rc = 0;

	snprintf(sub, sizeof(sub), "%s/txn", dir);
	if (mkdir(sub, 0755) != 0)
		return -1;
	memset(&tp, 0, sizeof(tp));
	tp.sio = sio;
	tp.cfg = tp_config();
	tp.log_dir = sub;
	tp.now_ms = 1700000000000LL;
	if (tp_open(&tp) != 0)
		return -1;
	append_txn(&tp, 777, 2);
	append_txn(&tp, 778, 1);
	if (append_marker(&tp, 777, TXN_MARKER_ABORT) == NULL ||
	    append_marker(&tp, 778, TXN_MARKER_COMMIT) == NULL || run_until_idle(&tp) != 0)
		rc = -1;
	for (unsigned i = 0; rc == 0 && i < tp.done_count; i++)
		if (tp.done[i]->error != 0)
			rc = -1;
	if (rc == 0 && (plog_lso(tp.plog) != 5 || tp.plog->segs[0]->txn.entry_count != 1))
		rc = -1;
	plog_close(tp.plog, 3);
	tp_free_appends(&tp);
	return rc;
}

int
main(int argc, char **argv)
{
	struct tp tp;
	unsigned i;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	memset(&tp, 0, sizeof(tp));
	tp.sio = sio_uring_create(64, &err);
	if (tp.sio == NULL)
		return 77;              /* no io_uring here */
	tp.cfg = tp_config();
	tp.cfg.segment_bytes = 1200;
	tp.cfg.index_interval_bytes = 100;
	tp.log_dir = argv[1];
	tp.now_ms = 1700000000000LL;
	if (tp_open(&tp) != 0)
		return 1;
	for (i = 0; i < 12; i++) {
		tp_append_records(&tp, 3, 40, tp.now_ms + 10 * i, -1);
		if (i % 2 == 1 && run_until_idle(&tp) != 0)
			return 1;
	}
	if (run_until_idle(&tp) != 0)
		return 1;
	for (i = 0; i < tp.done_count; i++)
		if (tp.done[i]->error != 0)
			return 1;
	if (write_txn_index(tp.plog) != 0)
		return 1;
	printf("%u segments, log end offset %ld\n", tp.plog->seg_count, (long)tp.plog->hw);
	plog_close(tp.plog, 3);
	tp_free_appends(&tp);
	if (write_txn_log(argv[1], tp.sio) != 0)
		return 1;
	sio_destroy(tp.sio);
	return 0;
}
