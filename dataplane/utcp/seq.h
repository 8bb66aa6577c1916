/* SPDX-License-Identifier: Apache-2.0 */
/* TCP sequence arithmetic modulo 2^32 (RFC 9293 section 3.4): every
 * comparison of two sequence numbers goes through these helpers, so a
 * connection whose ISN sits just below 2^32 wraps correctly. Valid only for
 * numbers less than 2^31 apart, which the window and queue bounds ensure. */
#ifndef DATAPLANE_UTCP_SEQ_H
#define DATAPLANE_UTCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

static inline bool
seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool
seq_leq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

static inline bool
seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static inline bool
seq_geq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}

/* lo <= x < hi, modulo 2^32. */
static inline bool
seq_in(uint32_t x, uint32_t lo, uint32_t hi)
{
	return x - lo < hi - lo;
}

static inline uint32_t
seq_max(uint32_t a, uint32_t b)
{
	return seq_gt(a, b) ? a : b;
}

static inline uint32_t
seq_min(uint32_t a, uint32_t b)
{
	return seq_lt(a, b) ? a : b;
}

#endif
