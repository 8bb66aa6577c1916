/* SPDX-License-Identifier: Apache-2.0 */
/* Test harness for plog tests: a plog on a given sio with completions
 * collected in arrays, and helpers to append hand-built batches and run the
 * IO until it settles. */
#ifndef TESTS_UNIT_STORAGE_TPLOG_H
#define TESTS_UNIT_STORAGE_TPLOG_H

#include "storage/fcache_int.h"
#include "storage/plog_int.h"
#include "tests/unit/storage/tbatch.h"

#define TP_APPENDS_MAX 4096

struct tp {
	struct sio *sio;
	struct fcache fc;       /* tp_open() sets a roomy one up unless fc.fds_max > 0 */
	struct plog *plog;
	struct st_log_config cfg;
	const char *log_dir;
	int64_t now_ms;
	unsigned done_count;
	unsigned watch_count;
	struct plog_append *done[TP_APPENDS_MAX];
};

struct st_log_config tp_config(void);
/* The usual fixture: a simulated sio seeded with seed holding /data,
 * tp_config(), a fixed wall clock; tp_teardown() closes what is open. */
void tp_setup(struct tp *tp, uint64_t seed);
void tp_teardown(struct tp *tp);
/* A Criterion suite over a file-scope `tp` with that fixture. */
#define TP_TEST_SUITE(suite, seed)                                               \
	static struct tp tp;                                                     \
	static void suite##_setup(void) { tp_setup(&tp, seed); }                 \
	static void suite##_teardown(void) { tp_teardown(&tp); }                 \
	TestSuite(suite, .init = suite##_setup, .fini = suite##_teardown)
/* Open (or reopen) tp->plog for topic "t" partition 0. 0 or -errno. */
int tp_open(struct tp *tp);
void tp_close(struct tp *tp);
/* Append a built batch (taking ownership of its memory); returns the
 * plog_append to look at after tp_run(). */
struct plog_append *tp_append(struct tp *tp, uint8_t *batch, uint32_t len, int8_t acks);
struct plog_append *tp_append_records(struct tp *tp, int records, int value_bytes, int64_t ts,
				      int8_t acks);
/* Append batches of records x value_bytes one at a time, each landing
 * before the next is queued (a writev each); batch i at timestamp
 * ts + i * ts_step. */
void tp_write(struct tp *tp, int batches, int records, int value_bytes, int64_t ts,
	      int64_t ts_step, int8_t acks);
/* Issue, submit and reap until nothing is in flight. */
void tp_run(struct tp *tp);
/* Free appends the harness allocated. */
void tp_free_appends(struct tp *tp);
/* The header of the batch at r's position, read back through sio. */
struct rbatch_header tp_region_first(struct tp *tp, const struct plog_region *r);

#endif
