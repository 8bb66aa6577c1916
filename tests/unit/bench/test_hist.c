/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for bench/hist.c: bucket arithmetic is continuous and bounded,
 * percentiles are within 1% of the exact order statistic over 1 us .. 100 s,
 * merge adds, and min/max/mean are exact. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "bench/hist.h"

static struct hist g_hist;

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

Test(hist, buckets_cover_range_without_gaps)
{
	size_t i;

	cr_assert_eq(hist_bucket_index(0), 0);
	cr_assert_lt(hist_bucket_index(HIST_VALUE_MAX), HIST_BUCKET_COUNT);
	for (i = 0; i + 1 < hist_bucket_index(HIST_VALUE_MAX); i++) {
		cr_assert_eq(hist_bucket_low(i) + hist_bucket_width(i), hist_bucket_low(i + 1),
			     "gap after bucket %zu", i);
		cr_assert_eq(hist_bucket_index(hist_bucket_low(i)), i);
		cr_assert_eq(hist_bucket_index(hist_bucket_low(i) + hist_bucket_width(i) - 1), i);
	}
}

Test(hist, bucket_width_within_one_percent)
{
	uint64_t v;

	for (v = 1; v <= HIST_VALUE_MAX; v = v * 3 / 2 + 1) {
		size_t i = hist_bucket_index(v);

		cr_assert_leq((double)(hist_bucket_width(i) - 1) / (double)v, 0.01, "v=%lu",
			      (unsigned long)v);
	}
}

Test(hist, exact_small_values)
{
	uint64_t v;

	hist_init(&g_hist);
	for (v = 1; v <= 100; v++)
		hist_record(&g_hist, v);
	cr_assert_eq(hist_percentile(&g_hist, 50.0), 50);
	cr_assert_eq(hist_percentile(&g_hist, 99.0), 99);
	cr_assert_eq(hist_percentile(&g_hist, 100.0), 100);
	cr_assert_eq(g_hist.min, 1);
	cr_assert_eq(g_hist.max, 100);
	cr_assert_float_eq(hist_mean(&g_hist), 50.5, 1e-9);
}

Test(hist, percentiles_within_one_percent_of_exact)
{
	static const double pcts[] = {50.0, 90.0, 99.0, 99.9, 99.99};
	enum { N = 200000 };
	uint64_t *vals = malloc(N * sizeof(*vals));
	unsigned seed = 12345;
	size_t i;

	cr_assert_not_null(vals);
	hist_init(&g_hist);
	for (i = 0; i < N; i++) {
		/* log-uniform over 1 us .. 100 s */
		double e = (double)rand_r(&seed) / RAND_MAX * 8.0;
		uint64_t v = (uint64_t)__builtin_exp(e * 2.302585092994046);

		vals[i] = v;
		hist_record(&g_hist, v);
	}
	qsort(vals, N, sizeof(*vals), cmp_u64);
	for (i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		uint64_t rank = (uint64_t)(pcts[i] / 100.0 * N + 0.999999);
		double exact = (double)vals[rank - 1];
		double got = (double)hist_percentile(&g_hist, pcts[i]);

		cr_assert_leq(__builtin_fabs(got - exact) / exact, 0.01, "p%g: %g vs %g",
			      pcts[i], got, exact);
	}
	cr_assert_eq(hist_percentile(&g_hist, 100.0), vals[N - 1]);
	cr_assert_eq(hist_count(&g_hist), N);
	free(vals);
}

Test(hist, overflow_is_clamped_and_counted)
{
	hist_init(&g_hist);
	hist_record(&g_hist, 5);
	hist_record(&g_hist, HIST_VALUE_MAX * 10);
	cr_assert_eq(g_hist.overflow_count, 1);
	cr_assert_eq(g_hist.max, HIST_VALUE_MAX * 10);
	cr_assert_eq(hist_percentile(&g_hist, 100.0), HIST_VALUE_MAX * 10);
	cr_assert_leq(hist_percentile(&g_hist, 99.0), HIST_VALUE_MAX * 10);
}

Test(hist, merge_adds_counts)
{
	static struct hist other;
	uint64_t v;

	hist_init(&g_hist);
	hist_init(&other);
	for (v = 1; v <= 1000; v++)
		hist_record(v % 2 ? &g_hist : &other, v * 1000);
	hist_merge(&g_hist, &other);
	cr_assert_eq(hist_count(&g_hist), 1000);
	cr_assert_eq(g_hist.min, 1000);
	cr_assert_eq(g_hist.max, 1000000);
	cr_assert_leq(__builtin_fabs((double)hist_percentile(&g_hist, 50.0) - 500000.0),
		      5000.0);
	cr_assert_float_eq(hist_mean(&g_hist), 500500.0, 1e-6);
}

Test(hist, empty)
{
	hist_init(&g_hist);
	cr_assert_eq(hist_percentile(&g_hist, 99.0), 0);
	cr_assert_float_eq(hist_mean(&g_hist), 0.0, 1e-12);
}
