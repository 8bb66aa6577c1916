/* SPDX-License-Identifier: Apache-2.0 */
/* Writes a small partition log with storage/plog.c on real io_uring into
 * <dir>/t-0 (several segments, sparse indexes) and closes it cleanly,
 * for kafka_dump_log.sh to read back with Kafka's own DumpLogSegments. */
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
	printf("%u segments, log end offset %ld\n", tp.plog->seg_count, (long)tp.plog->hw);
	plog_close(tp.plog, 3);
	tp_free_appends(&tp);
	sio_destroy(tp.sio);
	return 0;
}
