/* SPDX-License-Identifier: Apache-2.0 */
/* Log-linear latency histogram (see hist.h): bucket arithmetic, recording,
 * merging and percentiles. Values below 256 are exact; above, a bucket spans
 * 1/128 of its power of two and reports its midpoint, clamped to min/max. */
#include "hist.h"

#include <string.h>

void
hist_init(struct hist *hist)
{
	memset(hist, 0, sizeof(*hist));
	hist->min = UINT64_MAX;
}

size_t
hist_bucket_index(uint64_t value)
{
	unsigned msb;
	unsigned shift;

	if (value > HIST_VALUE_MAX)
		value = HIST_VALUE_MAX;
	if (value < HIST_SUB_COUNT)
		return (size_t)value;
	msb = 63u - (unsigned)__builtin_clzll(value);
	shift = msb - HIST_SUB_BITS;
	return (size_t)(shift + 1) * HIST_SUB_COUNT + (size_t)(value >> shift) - HIST_SUB_COUNT;
}

uint64_t
hist_bucket_low(size_t index)
{
	size_t shift;

	if (index < HIST_SUB_COUNT)
		return index;
	shift = index / HIST_SUB_COUNT - 1;
	return (uint64_t)(index % HIST_SUB_COUNT + HIST_SUB_COUNT) << shift;
}

uint64_t
hist_bucket_width(size_t index)
{
	if (index < HIST_SUB_COUNT)
		return 1;
	return 1ull << (index / HIST_SUB_COUNT - 1);
}

static void
atomic_min(uint64_t *where, uint64_t value)
{
	uint64_t cur = __atomic_load_n(where, __ATOMIC_RELAXED);

	while (value < cur && !__atomic_compare_exchange_n(where, &cur, value, 1,
							   __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static void
atomic_max(uint64_t *where, uint64_t value)
{
	uint64_t cur = __atomic_load_n(where, __ATOMIC_RELAXED);

	while (value > cur && !__atomic_compare_exchange_n(where, &cur, value, 1,
							   __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

void
hist_record(struct hist *hist, uint64_t value)
{
	__atomic_fetch_add(&hist->counts[hist_bucket_index(value)], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&hist->total, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&hist->sum, value, __ATOMIC_RELAXED);
	if (value > HIST_VALUE_MAX)
		__atomic_fetch_add(&hist->overflow_count, 1, __ATOMIC_RELAXED);
	atomic_min(&hist->min, value);
	atomic_max(&hist->max, value);
}

void
hist_merge(struct hist *dst, const struct hist *src)
{
	size_t i;
	uint64_t total = 0;

	for (i = 0; i < HIST_BUCKET_COUNT; i++) {
		uint64_t n = __atomic_load_n(&src->counts[i], __ATOMIC_RELAXED);

		dst->counts[i] += n;
		total += n;
	}
	/* total is the sum of the buckets read, so percentiles stay consistent. */
	dst->total += total;
	dst->sum += __atomic_load_n(&src->sum, __ATOMIC_RELAXED);
	dst->overflow_count += __atomic_load_n(&src->overflow_count, __ATOMIC_RELAXED);
	atomic_min(&dst->min, __atomic_load_n(&src->min, __ATOMIC_RELAXED));
	atomic_max(&dst->max, __atomic_load_n(&src->max, __ATOMIC_RELAXED));
}

uint64_t
hist_count(const struct hist *hist)
{
	return __atomic_load_n(&hist->total, __ATOMIC_RELAXED);
}

double
hist_mean(const struct hist *hist)
{
	uint64_t n = hist_count(hist);

	return n ? (double)hist->sum / (double)n : 0.0;
}

uint64_t
hist_percentile(const struct hist *hist, double pct)
{
	uint64_t n = hist_count(hist);
	uint64_t rank;
	uint64_t seen = 0;
	uint64_t value;
	size_t i;

	if (n == 0)
		return 0;
	if (pct >= 100.0)
		return hist->max;
	rank = (uint64_t)(pct / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	for (i = 0; i < HIST_BUCKET_COUNT; i++) {
		seen += hist->counts[i];
		if (seen >= rank)
			break;
	}
	if (i == HIST_BUCKET_COUNT)
		return hist->max;
	value = hist_bucket_low(i) + (hist_bucket_width(i) - 1) / 2;
	if (value > hist->max)
		value = hist->max;
	if (value < hist->min)
		value = hist->min;
	return value;
}
