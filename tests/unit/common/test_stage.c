/* SPDX-License-Identifier: Apache-2.0 */
/* Tests common/stage.h and hist_add_n() of common/hist.h: which acks values
 * are recorded and which stages apply to them, one sample per call or n at
 * once (count and sum), a "to" before "from" recorded as 0, and adding
 * snapshots together as control does at scrape time. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/stage.h"

static uint64_t
count(const struct hist *h)
{
	uint64_t n = 0;

	for (int i = 0; i <= HIST_BOUNDS; i++)
		n += h->count[i];
	return n;
}

Test(stage, acks_modes)
{
	cr_assert_eq(stage_acks_of(-1), STAGE_ACKS_ALL);
	cr_assert_eq(stage_acks_of(1), STAGE_ACKS_ONE);
	cr_assert_eq(stage_acks_of(0), STAGE_ACKS_NONE);
	cr_assert_eq(stage_acks_of(2), STAGE_ACKS_NONE);
	cr_assert(stage_applies(STAGE_ACKS_ALL, STAGE_FSYNC));
	cr_assert(stage_applies(STAGE_ACKS_ALL, STAGE_SYNC_WAIT));
	cr_assert(!stage_applies(STAGE_ACKS_ONE, STAGE_FSYNC));
	cr_assert(!stage_applies(STAGE_ACKS_ONE, STAGE_SYNC_WAIT));
	cr_assert(stage_applies(STAGE_ACKS_ONE, STAGE_WRITE));
	cr_assert_str_eq(stage_names[STAGE_RECEIVE], "receive");
	cr_assert_str_eq(stage_names[STAGE_TOTAL], "total");
	cr_assert_str_eq(stage_acks_names[STAGE_ACKS_ONE], "1");
}

Test(stage, add_and_read)
{
	static struct stage_hists s, sum;

	memset(&s, 0, sizeof(s));
	stage_add(&s, -1, STAGE_WRITE, 1000, 61000);            /* 60 us: le 100 us */
	stage_add_n(&s, 1, STAGE_SEND, 0, 3000000, 4);          /* 3 ms x 4: le 5 ms */
	stage_add(&s, 1, STAGE_QUEUE, 5000, 4000);              /* clocks crossed: 0 */
	stage_add(&s, 0, STAGE_TOTAL, 0, 1000);                 /* acks=0: nothing */
	stage_add_n(&s, -1, STAGE_ACK, 0, 1000, 0);             /* n 0: nothing */
	cr_assert_eq(count(&s.h[STAGE_ACKS_ALL][STAGE_WRITE]), 1);
	cr_assert_eq(s.h[STAGE_ACKS_ALL][STAGE_WRITE].count[1], 1);
	cr_assert_eq(s.h[STAGE_ACKS_ALL][STAGE_WRITE].sum_ns, 60000);
	cr_assert_eq(count(&s.h[STAGE_ACKS_ONE][STAGE_SEND]), 4);
	cr_assert_eq(s.h[STAGE_ACKS_ONE][STAGE_SEND].count[6], 4);
	cr_assert_eq(s.h[STAGE_ACKS_ONE][STAGE_SEND].sum_ns, 12000000);
	cr_assert_eq(s.h[STAGE_ACKS_ONE][STAGE_QUEUE].count[0], 1);
	cr_assert_eq(s.h[STAGE_ACKS_ONE][STAGE_QUEUE].sum_ns, 0);
	cr_assert_eq(count(&s.h[STAGE_ACKS_ALL][STAGE_TOTAL]), 0);
	cr_assert_eq(count(&s.h[STAGE_ACKS_ONE][STAGE_TOTAL]), 0);
	cr_assert_eq(count(&s.h[STAGE_ACKS_ALL][STAGE_ACK]), 0);

	memset(&sum, 0, sizeof(sum));
	stage_read_add(&sum, &s);
	stage_read_add(&sum, &s);
	cr_assert_eq(count(&sum.h[STAGE_ACKS_ONE][STAGE_SEND]), 8);
	cr_assert_eq(sum.h[STAGE_ACKS_ALL][STAGE_WRITE].sum_ns, 120000);
}

Test(stage, hist_add_n_matches_repeated_add)
{
	struct hist a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	for (int i = 0; i < 5; i++)
		hist_add(&a, 700000);
	hist_add_n(&b, 700000, 5);
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
}
