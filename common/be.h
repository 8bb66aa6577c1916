/* SPDX-License-Identifier: Apache-2.0 */
/* Big-endian (network order) loads and stores of 16, 32 and 64-bit fields
 * at any alignment: the Kafka wire, the record batch header, the segment
 * indexes, the 4-byte frame prefix and the TCP/IP headers all use them.
 * GCC merges the byte accesses, so each is one load or store and a byte
 * swap. */
#ifndef COMMON_BE_H
#define COMMON_BE_H

#include <endian.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t
be_read16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
be_read32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t
be_read64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

static inline void
be_write16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
be_write32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void
be_write64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, sizeof(v));
}

#endif
