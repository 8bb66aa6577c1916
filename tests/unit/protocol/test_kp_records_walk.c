/* SPDX-License-Identifier: Apache-2.0 */
/* Tests protocol/kp_records_walk.c: records whose bytes are wrong (each
 * built from a valid one) are refused with INVALID_RECORD, and records
 * whose length varints straddle the decompression windows and the steps
 * are walked whole, with every codec and odd budgets. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/kp_error.h"
#include "protocol/kp_records.h"
#include "tests/unit/protocol/test_kp_records.h"
#include "tests/unit/protocol/trecords.h"

/* One record: key "k<offset_delta>", value of vlen 'v' bytes, one header. */
static void
put_record(struct trecords_buf *b, int32_t offset_delta, size_t vlen)
{
	char key[16];

	snprintf(key, sizeof(key), "k%d", offset_delta);
	trecords_put_record(b, &(struct trecords_rec){
		.ts_delta = offset_delta * 3, .offset_delta = offset_delta, .key = key,
		.value_len = (int64_t)vlen, .value_fill = 'v', .header = true });
}

/* Records whose bytes are wrong, each built from a valid one. */
static int16_t
check_body(const uint8_t *body, size_t len, int32_t n)
{
	struct trecords_hdr h = trecords_hdr_default(n);
	struct trecords_buf b = trecords_batch(&h, body, len);
	int16_t err = check(&b, V_LATEST);

	free(b.p);
	return err;
}

Test(kp_records_walk, record_walk_errors)
{
	struct trecords_buf r = trecords_records(2, 4, 'v', true);
	struct trecords_buf x = { 0 };
	uint8_t junk[12];

	cr_assert_eq(check_body(r.p, r.len, 2), KP_ERR_NONE);
	cr_assert_eq(check_body(r.p, r.len, 3), KP_ERR_INVALID_RECORD);   /* fewer records */
	cr_assert_eq(check_body(r.p, r.len, 1), KP_ERR_INVALID_RECORD);   /* bytes left */
	cr_assert_eq(check_body(r.p, r.len - 1, 2), KP_ERR_INVALID_RECORD);
	/* offsetDelta 1 for the first record. */
	put_record(&x, 1, 4);
	cr_assert_eq(check_body(x.p, x.len, 1), KP_ERR_INVALID_RECORD);
	free(x.p);
	/* A record length that disagrees with its fields, both ways. */
	x = (struct trecords_buf){ 0 };
	put_record(&x, 0, 4);
	x.p[0] += 2;
	cr_assert_eq(check_body(x.p, x.len, 1), KP_ERR_INVALID_RECORD);
	x.p[0] -= 4;
	cr_assert_eq(check_body(x.p, x.len, 1), KP_ERR_INVALID_RECORD);
	free(x.p);
	/* A varint over 5 bytes, a negative length, a key length of -2, a
	 * negative header count, a negative header key length. */
	memset(junk, 0xff, sizeof(junk));
	cr_assert_eq(check_body(junk, sizeof(junk), 1), KP_ERR_INVALID_RECORD);
	const int64_t bad[][7] = {
		/* len, attr, ts, off, key, value, headers */
		{ -3, 0, 0, 0, -1, -1, 0 },
		{ 6, 0, 0, 0, -2, -1, 0 },
		{ 6, 0, 0, 0, -1, -2, 0 },
		{ 6, 0, 0, 0, -1, -1, -1 },
		{ 8, 0, 0, 0, -1, -1, 1 },      /* header key length -1 follows */
		{ 7, 0, 0, 0, -1, -1, 100 },    /* header count past the record */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		x = (struct trecords_buf){ 0 };
		for (int k = 0; k < 7; k++) {
			if (k == 1) {
				uint8_t a = 0;

				trecords_put(&x, &a, 1);
			} else {
				trecords_put_varint(&x, bad[i][k]);
			}
		}
		trecords_put_varint(&x, -1);
		trecords_put_varint(&x, -1);
		cr_assert_eq(check_body(x.p, x.len, 1), KP_ERR_INVALID_RECORD, "case %zu", i);
		free(x.p);
	}
	free(r.p);
}

/* Records whose length varints straddle the 64 KiB windows and the steps:
 * values sized so record boundaries fall 1..6 bytes before each window
 * end, walked with budgets that do not divide anything. */
Test(kp_records_walk, records_span_windows_and_steps)
{
	struct trecords_buf r = { 0 };
	int32_t n = 0;

	while (r.len < (600u << 10)) {
		size_t to_edge = (64u << 10) - r.len % (64u << 10);
		size_t vlen = to_edge > 40 ? to_edge - 20 - (size_t)(n % 6) : 70000;

		trecords_put_record(&r, &(struct trecords_rec){
			.ts_delta = n, .offset_delta = n, .value_len = (int64_t)vlen,
			.value_fill = 'a' + n % 26 });
		n++;
	}
	for (int ci = -1; ci < TRECORDS_CODECS; ci++) {
		struct trecords_buf b = trecords_batch_codec(ci, &r, n);
		struct rbatch_header h;
		static const size_t budgets[] = { 1, 5, 13, 4093, 65521 };

		cr_assert_eq(kp_records_validate(b.p, (int32_t)b.len, V_LATEST, MAX_BYTES, &h),
			     KP_ERR_NONE, "%s", trecords_codec_name(ci));
		for (size_t k = 0; k < sizeof(budgets) / sizeof(budgets[0]); k++) {
			long steps;

			cr_assert_eq(stepped(b.p, b.len, MAX_BYTES, budgets[k], &steps),
				     KP_ERR_NONE, "%s budget %zu", trecords_codec_name(ci),
				     budgets[k]);
		}
		free(b.p);
	}
	free(r.p);
	kp_records_thread_release();
}
