/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/mx.c and common/hist.h: histogram bucketing at the bounds
 * and the exposition text (label escaping, cumulative buckets, +Inf, _sum in
 * seconds, _count) compared byte for byte. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "control/mx.h"

Test(hist, bucket_bounds_are_inclusive)
{
	cr_assert_eq(hist_bucket(0), 0);
	cr_assert_eq(hist_bucket(50000), 0);
	cr_assert_eq(hist_bucket(50001), 1);
	cr_assert_eq(hist_bucket(10000000000ull), HIST_BOUNDS - 1);
	cr_assert_eq(hist_bucket(10000000001ull), HIST_BOUNDS);
	cr_assert_eq(hist_bucket(UINT64_MAX), HIST_BOUNDS);
	for (unsigned i = 1; i < HIST_BOUNDS; i++)
		cr_assert_gt(hist_bounds_ns[i], hist_bounds_ns[i - 1]);
}

Test(hist, add_and_read)
{
	struct hist h = { 0 }, sum = { 0 };

	hist_add(&h, 1000);             /* 1us: first bucket */
	hist_add(&h, 2000000);          /* 2ms: le 0.0025 */
	hist_add(&h, 20000000000ull);   /* 20s: +Inf */
	hist_read_add(&sum, &h);
	hist_read_add(&sum, &h);
	cr_assert_eq(sum.count[0], 2);
	cr_assert_eq(sum.count[hist_bucket(2000000)], 2);
	cr_assert_eq(sum.count[HIST_BOUNDS], 2);
	cr_assert_eq(sum.sum_ns, 2 * (1000 + 2000000 + 20000000000ull));
}

Test(exposition, family_and_escaped_labels)
{
	struct mx_buf b = { 0 };
	const char *l[] = { "topic", "a\"b\\c\nd", "partition", "3", NULL };

	mx_family(&b, "spillway_x_total", "counter", "Things.");
	mx_sample(&b, "spillway_x_total", l, 42);
	mx_sample(&b, "spillway_x_total", NULL, 0.5);
	cr_assert_not(b.oom);
	cr_assert_str_eq(b.data, "# HELP spillway_x_total Things.\n"
			 "# TYPE spillway_x_total counter\n"
			 "spillway_x_total{topic=\"a\\\"b\\\\c\\nd\",partition=\"3\"} 42\n"
			 "spillway_x_total 0.5\n");
	mx_buf_free(&b);
}

Test(exposition, histogram_is_cumulative)
{
	struct mx_buf b = { 0 };
	struct hist h = { 0 };
	const char *l[] = { "api", "Produce", NULL };
	char line[128];

	hist_add(&h, 40000);            /* le 5e-05 */
	hist_add(&h, 40000);
	hist_add(&h, 3000000);          /* le 0.005 */
	hist_add(&h, 30000000000ull);   /* +Inf */
	mx_histogram(&b, "spillway_d_seconds", l, &h);
	cr_assert_not(b.oom);
#define B "spillway_d_seconds_bucket"
	cr_assert_not_null(strstr(b.data, B "{api=\"Produce\",le=\"5e-05\"} 2\n"));
	cr_assert_not_null(strstr(b.data, B "{api=\"Produce\",le=\"0.0025\"} 2\n"));
	cr_assert_not_null(strstr(b.data, B "{api=\"Produce\",le=\"0.005\"} 3\n"));
	cr_assert_not_null(strstr(b.data, B "{api=\"Produce\",le=\"10\"} 3\n"));
	cr_assert_not_null(strstr(b.data, B "{api=\"Produce\",le=\"+Inf\"} 4\n"));
#undef B
	snprintf(line, sizeof(line), "spillway_d_seconds_sum{api=\"Produce\"} %.9g\n",
		 (40000 * 2 + 3000000 + 30000000000.0) / 1e9);
	cr_assert_not_null(strstr(b.data, line), "%s", b.data);
	cr_assert_not_null(strstr(b.data, "spillway_d_seconds_count{api=\"Produce\"} 4\n"));
	mx_buf_free(&b);
}

Test(exposition, write_appends_raw_bytes)
{
	struct mx_buf b = { 0 };

	mx_printf(&b, "head\n");
	mx_write(&b, "a\"b\\", 4);
	mx_write(&b, "ignored", 0);
	cr_assert_eq(b.len, 9);
	cr_assert_str_eq(b.data, "head\na\"b\\");
	mx_buf_free(&b);
}
