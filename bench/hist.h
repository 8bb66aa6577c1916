/* SPDX-License-Identifier: Apache-2.0 */
/* A high-dynamic-range latency histogram for bench/: log-linear buckets over
 * 0 .. 100 s in microseconds (128 linear sub-buckets per power of two, so a
 * reported value is within 0.4% of the true one), percentiles, mean, max.
 * hist_record() is safe against concurrent hist_merge()/reads (relaxed atomics). */
#ifndef BENCH_HIST_H
#define BENCH_HIST_H

#include <stddef.h>
#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_SUB_COUNT (1u << HIST_SUB_BITS)
/* Largest value kept exactly in a bucket: 100 s in microseconds. */
#define HIST_VALUE_MAX 100000000ull
/* msb(HIST_VALUE_MAX) = 26: shifts 0..19, plus the exact first 128. */
#define HIST_BUCKET_COUNT ((26 - HIST_SUB_BITS + 2) * HIST_SUB_COUNT)

struct hist {
	uint64_t counts[HIST_BUCKET_COUNT];
	uint64_t total;
	uint64_t sum;
	uint64_t min;
	uint64_t max;
	uint64_t overflow_count;	/* values above HIST_VALUE_MAX */
};

void hist_init(struct hist *hist);
void hist_record(struct hist *hist, uint64_t value);
/* Adds src into dst; src may be recorded into concurrently. */
void hist_merge(struct hist *dst, const struct hist *src);

size_t hist_bucket_index(uint64_t value);
uint64_t hist_bucket_low(size_t index);
uint64_t hist_bucket_width(size_t index);

/* The value at percentile pct (0 < pct <= 100); 0 when empty. */
uint64_t hist_percentile(const struct hist *hist, double pct);
double hist_mean(const struct hist *hist);
uint64_t hist_count(const struct hist *hist);

#endif
