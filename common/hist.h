/* SPDX-License-Identifier: Apache-2.0 */
/* A fixed latency histogram for per-thread counters: log-spaced bucket
 * bounds from 50us to 10s, one count per bucket plus a sum. The owning
 * thread bumps it with relaxed stores (no allocation, no formatting); a
 * reader adds snapshots together with relaxed loads. Counts are per bucket,
 * not cumulative: the exposition code accumulates them. */
#ifndef COMMON_HIST_H
#define COMMON_HIST_H

#include <stdint.h>

#define HIST_BOUNDS 17          /* finite upper bounds; one more bucket for +Inf */

/* Upper bounds in nanoseconds (Prometheus "le", inclusive). */
static const uint64_t hist_bounds_ns[HIST_BOUNDS] = {
	50000ull, 100000ull, 250000ull, 500000ull,
	1000000ull, 2500000ull, 5000000ull, 10000000ull, 25000000ull, 50000000ull,
	100000000ull, 250000000ull, 500000000ull,
	1000000000ull, 2500000000ull, 5000000000ull, 10000000000ull,
};

struct hist {
	uint64_t count[HIST_BOUNDS + 1];        /* [HIST_BOUNDS]: above the last bound */
	uint64_t sum_ns;
};

/* The bucket a value falls in: the first bound >= ns, or HIST_BOUNDS. */
static inline unsigned
hist_bucket(uint64_t ns)
{
	unsigned i = 0;

	while (i < HIST_BOUNDS && ns > hist_bounds_ns[i])
		i++;
	return i;
}

/* Record one value. Single writer: the plain read of its own counter races
 * with nothing; the relaxed stores pair with hist_read_add()'s relaxed
 * loads (no torn values; a reader may see the count before the sum). */
static inline void
hist_add(struct hist *h, uint64_t ns)
{
	uint64_t *c = &h->count[hist_bucket(ns)];

	__atomic_store_n(c, *c + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&h->sum_ns, h->sum_ns + ns, __ATOMIC_RELAXED);
}

/* Record n values of ns each (one sample per partition append of a
 * request that shares the value). Same single-writer rule as hist_add(). */
static inline void
hist_add_n(struct hist *h, uint64_t ns, uint64_t n)
{
	uint64_t *c = &h->count[hist_bucket(ns)];

	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
	__atomic_store_n(&h->sum_ns, h->sum_ns + ns * n, __ATOMIC_RELAXED);
}

/* sum += a snapshot of h (h may be written concurrently). @thread any */
static inline void
hist_read_add(struct hist *sum, const struct hist *h)
{
	for (unsigned i = 0; i <= HIST_BOUNDS; i++)
		sum->count[i] += __atomic_load_n(&h->count[i], __ATOMIC_RELAXED);
	sum->sum_ns += __atomic_load_n(&h->sum_ns, __ATOMIC_RELAXED);
}

#endif
