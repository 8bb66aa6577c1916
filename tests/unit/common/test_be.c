/* SPDX-License-Identifier: Apache-2.0 */
/* Tests common/be.h: byte order against hand-written bytes, every width at
 * every alignment, round trips of the extremes, and that a store touches
 * exactly its own bytes. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "common/be.h"

Test(be, reads_network_order)
{
	static const uint8_t b[8] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };

	cr_assert_eq(be_read16(b), 0x0102);
	cr_assert_eq(be_read32(b), 0x01020304u);
	cr_assert_eq(be_read64(b), 0x0102030405060708ull);
}

Test(be, writes_network_order)
{
	uint8_t b[8];
	static const uint8_t want[8] = { 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88 };

	be_write64(b, 0x8182838485868788ull);
	cr_assert_arr_eq(b, want, 8);
	memset(b, 0, sizeof(b));
	be_write32(b, 0x81828384u);
	cr_assert_arr_eq(b, want, 4);
	memset(b, 0, sizeof(b));
	be_write16(b, 0x8182);
	cr_assert_arr_eq(b, want, 2);
}

Test(be, any_alignment)
{
	uint8_t buf[24];

	for (size_t at = 0; at < 8; at++) {
		memset(buf, 0xa5, sizeof(buf));
		be_write16(buf + at, 0xbeef);
		cr_assert_eq(be_read16(buf + at), 0xbeef);
		be_write32(buf + at, 0xdeadbeefu);
		cr_assert_eq(be_read32(buf + at), 0xdeadbeefu);
		be_write64(buf + at, 0x0123456789abcdefull);
		cr_assert_eq(be_read64(buf + at), 0x0123456789abcdefull);
		cr_assert_eq(buf[at], 0x01);
		cr_assert_eq(buf[at + 7], 0xef);
	}
}

Test(be, stores_only_their_bytes)
{
	uint8_t buf[12];

	memset(buf, 0x5a, sizeof(buf));
	be_write16(buf + 2, 0);
	be_write32(buf + 4, 0);
	cr_assert_eq(buf[1], 0x5a);
	cr_assert_eq(buf[8], 0x5a);
	memset(buf, 0x5a, sizeof(buf));
	be_write64(buf + 2, 0);
	cr_assert_eq(buf[1], 0x5a);
	cr_assert_eq(buf[10], 0x5a);
}

Test(be, extremes_round_trip)
{
	static const uint64_t v64[] = { 0, 1, INT64_MAX, (uint64_t)INT64_MIN, UINT64_MAX };
	static const uint32_t v32[] = { 0, 1, INT32_MAX, (uint32_t)INT32_MIN, UINT32_MAX };
	uint8_t b[8];

	for (size_t i = 0; i < sizeof(v64) / sizeof(v64[0]); i++) {
		be_write64(b, v64[i]);
		cr_assert_eq(be_read64(b), v64[i]);
		be_write32(b, v32[i]);
		cr_assert_eq(be_read32(b), v32[i]);
		be_write16(b, (uint16_t)v32[i]);
		cr_assert_eq(be_read16(b), (uint16_t)v32[i]);
	}
	/* A negative Kafka INT32 (-1, "null length") reads back through a cast. */
	be_write32(b, (uint32_t)-1);
	cr_assert_eq((int32_t)be_read32(b), -1);
}
