/* SPDX-License-Identifier: Apache-2.0 */
/* Tests storage/plog_watch.c on the simulated sio: a watch completes when
 * the high watermark passes its offset, or expires on tick. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/plog_int.h"
#include "tests/sim/sio_sim.h"
#include "tests/unit/storage/tplog.h"

TP_TEST_SUITE(plog_watch, 42);

Test(plog_watch, watch)
{
	struct plog_watch w = { .offset = 0, .deadline_ns = 1000 }, w2 = { .offset = 5,
		.deadline_ns = 1000 };

	cr_assert_eq(tp_open(&tp), 0);
	plog_watch(tp.plog, &w);
	plog_watch(tp.plog, &w2);
	cr_assert_eq(tp.watch_count, 0);
	tp_append_records(&tp, 1, 10, tp.now_ms, 1);
	tp_run(&tp);
	cr_assert_eq(tp.watch_count, 1);
	plog_tick(tp.plog, tp.now_ms, 2000);
	cr_assert_eq(tp.watch_count, 2);
	cr_assert_eq(w2.offset, -1, "expired");
}

Test(plog_watch, close_completes_watches_as_gone)
{
	struct plog_watch w = { .offset = 3, .deadline_ns = UINT64_MAX };

	cr_assert_eq(tp_open(&tp), 0);
	plog_watch(tp.plog, &w);
	tp_close(&tp);
	cr_assert_eq(tp.watch_count, 1);
	cr_assert_eq(w.offset, PLOG_WATCH_GONE, "the waiter hears the partition went away");
}
