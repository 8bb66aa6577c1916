/* SPDX-License-Identifier: Apache-2.0 */
/* Tests common/rbatch.c: the header parse against a batch kcat produced
 * through a real Kafka (tests/golden/records), the CRC-32C against a bitwise
 * reference written here from the Castagnoli polynomial and against the CRC
 * the client computed, and the in-place rewrites. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common/rbatch.h"
#include "tests/unit/common/tfile.h"

/* Reflected CRC-32C, polynomial 0x82f63b78, init and final xor ~0. */
static uint32_t
ref_crc32c(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
	}
	return ~crc;
}

Test(rbatch, reference_crc_check_value)
{
	/* The CRC-32C check value of "123456789" (RFC 3720 / Castagnoli). */
	cr_assert_eq(ref_crc32c((const uint8_t *)"123456789", 9), 0xe3069283u);
}

Test(rbatch, crc_matches_reference_and_client)
{
	const char *names[] = { "kcat-none.bin", "kcat-gzip.bin", "kcat-snappy.bin",
				"kcat-lz4.bin", "kcat-zstd.bin", "java-gzip.bin",
				"java-snappy.bin", "java-lz4.bin", "java-zstd.bin" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t len;
		uint8_t *b = tfile_read(REC_GOLDEN_DIR, names[i], &len);
		struct rbatch_header h;

		cr_assert_eq(rbatch_header_parse(b, len, &h), 0);
		cr_assert_eq(rbatch_crc_compute(b, len), ref_crc32c(b + 21, len - 21), "%s",
			     names[i]);
		cr_assert_eq(rbatch_crc_compute(b, len), h.crc, "%s", names[i]);
		cr_assert(rbatch_crc_ok(b, len));
		free(b);
	}
}

Test(rbatch, crc_odd_lengths_match_reference)
{
	uint8_t buf[300];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 37 + 11);
	for (size_t len = RBATCH_HEADER_BYTES; len <= sizeof(buf); len++)
		cr_assert_eq(rbatch_crc_compute(buf, len), ref_crc32c(buf + 21, len - 21));
}

Test(rbatch, header_fields)
{
	size_t len;
	uint8_t *b = tfile_read(REC_GOLDEN_DIR, "kcat-none.bin", &len);
	struct rbatch_header h;

	cr_assert_eq(rbatch_header_parse(b, len, &h), 0);
	cr_assert_eq(h.base_offset, 0);
	cr_assert_eq(rbatch_total_bytes(&h), (int64_t)len);
	cr_assert_eq(h.partition_leader_epoch, -1);
	cr_assert_eq(h.magic, RBATCH_MAGIC_V2);
	cr_assert_eq(h.attributes & RBATCH_ATTR_CODEC_MASK, RBATCH_CODEC_NONE);
	cr_assert_eq(h.records_count, 21);
	cr_assert_eq(h.last_offset_delta, 20);
	cr_assert_geq(h.producer_id, 0);        /* kcat ran with enable.idempotence */
	cr_assert_eq(h.base_sequence, 0);
	cr_assert_geq(h.max_timestamp, h.base_timestamp);
	cr_assert_eq(rbatch_header_parse(b, RBATCH_HEADER_BYTES - 1, &h), -1);
	free(b);
}

Test(rbatch, rewrites_outside_crc_keep_it)
{
	size_t len;
	uint8_t *b = tfile_read(REC_GOLDEN_DIR, "kcat-gzip.bin", &len);
	struct rbatch_header h;

	rbatch_set_base_offset(b, 0x0102030405060708ll);
	rbatch_set_leader_epoch(b, 7);
	cr_assert(rbatch_crc_ok(b, len));
	rbatch_header_parse(b, len, &h);
	cr_assert_eq(h.base_offset, 0x0102030405060708ll);
	cr_assert_eq(h.partition_leader_epoch, 7);
	free(b);
}

Test(rbatch, log_append_time_recomputes_crc)
{
	size_t len;
	uint8_t *b = tfile_read(REC_GOLDEN_DIR, "kcat-none.bin", &len);
	struct rbatch_header h0, h1;

	rbatch_header_parse(b, len, &h0);
	rbatch_set_log_append_time(b, len, 1700000000123ll);
	rbatch_header_parse(b, len, &h1);
	cr_assert(rbatch_crc_ok(b, len));
	cr_assert_neq(h1.crc, h0.crc);
	cr_assert_eq(h1.attributes, h0.attributes | RBATCH_ATTR_LOG_APPEND_TIME);
	cr_assert_eq(h1.max_timestamp, 1700000000123ll);
	cr_assert_eq(h1.base_timestamp, h0.base_timestamp);
	b[len - 1] ^= 1;
	cr_assert_not(rbatch_crc_ok(b, len));
	cr_assert_not(rbatch_crc_ok(b, RBATCH_HEADER_BYTES - 1));
	free(b);
}
