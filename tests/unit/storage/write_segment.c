/* SPDX-License-Identifier: Apache-2.0 */
/* Writes a small partition log with storage/plog.c on real io_uring into
 * <dir>/t-0 (several segments, sparse indexes, two aborted transactions in
 * the first segment's .txnindex) and closes it cleanly, for
 * kafka_dump_log.sh to read back with Kafka's own DumpLogSegments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/plog_int.h"
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
	sio_destroy(tp.sio);
	return 0;
}
