/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/group/grp_rec.c: golden bytes of each record type derived
 * by hand from the internal-records schemas (key = int16 version + fields,
 * value = int16 version + fields, classic encoding below v4), round trips,
 * decoding of older versions, and truncated input at every length. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "control/group/grp_rec.h"

static const uint8_t offset_key_golden[] = {
	0x00, 0x01,                     /* version 1 */
	0x00, 0x01, 'g',                /* group */
	0x00, 0x01, 't',                /* topic */
	0x00, 0x00, 0x00, 0x03,         /* partition */
};

Test(grp_rec, offset_key_golden_and_decode)
{
	struct kp_writer w;
	struct grp_rec_key k;

	kp_writer_init(&w, 16);
	grp_rec_offset_key_encode(&w, kp_str_c("g"), kp_str_c("t"), 3);
	cr_assert_eq(w.err, 0);
	cr_assert_eq(w.len, sizeof(offset_key_golden));
	cr_assert_eq(memcmp(w.buf, offset_key_golden, w.len), 0);
	cr_assert_eq(grp_rec_key_decode(w.buf, w.len, &k), 0);
	cr_assert_eq(k.version, 1);
	cr_assert(kp_str_eq(k.group, kp_str_c("g")));
	cr_assert(kp_str_eq(k.topic, kp_str_c("t")));
	cr_assert_eq(k.partition, 3);
	for (size_t n = 0; n < w.len; n++)
		cr_assert_lt(grp_rec_key_decode(w.buf, n, &k), 0, "len %zu", n);
	kp_writer_free(&w);
}

Test(grp_rec, group_key_and_unknown_version)
{
	static const uint8_t golden[] = { 0x00, 0x02, 0x00, 0x02, 'g', 'x' };
	static const uint8_t newer[] = { 0x00, 0x05, 0x00, 0x00 };
	struct kp_writer w;
	struct grp_rec_key k;

	kp_writer_init(&w, 16);
	grp_rec_group_key_encode(&w, kp_str_c("gx"));
	cr_assert_eq(w.len, sizeof(golden));
	cr_assert_eq(memcmp(w.buf, golden, w.len), 0);
	cr_assert_eq(grp_rec_key_decode(w.buf, w.len, &k), 0);
	cr_assert_eq(k.version, 2);
	cr_assert_eq(grp_rec_key_decode(newer, sizeof(newer), &k), -1);
	kp_writer_free(&w);
}

Test(grp_rec, offset_value_v3_golden_round_trip)
{
	static const uint8_t golden[] = {
		0x00, 0x03,
		0, 0, 0, 0, 0, 0, 0, 42,        /* offset */
		0, 0, 0, 7,                     /* leader epoch */
		0x00, 0x02, 'm', 'd',           /* metadata */
		0, 0, 0, 0, 0, 0, 0x03, 0xe8,   /* commit timestamp 1000 */
	};
	struct grp_rec_offset v = { 42, 7, { "md", 2 }, 1000, -1 }, d;
	struct kp_writer w;

	kp_writer_init(&w, 32);
	grp_rec_offset_value_encode(&w, &v);
	cr_assert_eq(w.len, sizeof(golden));
	cr_assert_eq(memcmp(w.buf, golden, w.len), 0);
	cr_assert_eq(grp_rec_offset_value_decode(w.buf, w.len, &d), 0);
	cr_assert_eq(d.offset, 42);
	cr_assert_eq(d.leader_epoch, 7);
	cr_assert(kp_str_eq(d.metadata, kp_str_c("md")));
	cr_assert_eq(d.commit_timestamp_ms, 1000);
	cr_assert_eq(d.expire_timestamp_ms, -1);
	for (size_t n = 0; n < w.len; n++)
		cr_assert_eq(grp_rec_offset_value_decode(w.buf, n, &d), -1);
	kp_writer_free(&w);
}

Test(grp_rec, offset_value_v1_with_expire)
{
	struct grp_rec_offset v = { 5, 9, { NULL, -1 }, 1000, 2000 }, d;
	struct kp_writer w;

	kp_writer_init(&w, 32);
	grp_rec_offset_value_encode(&w, &v);
	cr_assert_eq(w.len, 2 + 8 + 2 + 8 + 8);
	cr_assert_eq(w.buf[1], 1);
	cr_assert_eq(grp_rec_offset_value_decode(w.buf, w.len, &d), 0);
	cr_assert_eq(d.leader_epoch, -1);
	cr_assert_eq(d.metadata.len, 0);
	cr_assert_eq(d.expire_timestamp_ms, 2000);
	kp_writer_free(&w);
}

Test(grp_rec, group_value_round_trip_and_truncation)
{
	struct grp_rec_member m = {
		{ "m1", 2 }, { NULL, -1 }, { "c", 1 }, { "/h", 2 }, 300, 100,
		{ (const uint8_t *)"s", 1 }, { (const uint8_t *)"", 0 },
	};
	struct grp_rec_group g = { { "consumer", 8 }, 4, { "range", 5 }, { "m1", 2 }, 77, 1, &m };
	struct grp_rec_group d;
	struct grp_rec_member *ms;
	struct kp_writer w;

	kp_writer_init(&w, 64);
	grp_rec_group_value_encode(&w, &g);
	cr_assert_eq(w.err, 0);
	cr_assert_eq(w.buf[1], 3);
	cr_assert_eq(grp_rec_group_value_decode(w.buf, w.len, &d, &ms), 0);
	cr_assert_eq(d.generation, 4);
	cr_assert_eq(d.current_state_timestamp, 77);
	cr_assert_eq(d.member_count, 1);
	cr_assert(kp_str_eq(d.members[0].member_id, kp_str_c("m1")));
	cr_assert_eq(d.members[0].instance_id.len, -1);
	cr_assert_eq(d.members[0].rebalance_timeout_ms, 300);
	cr_assert_eq(d.members[0].subscription.len, 1);
	free(ms);
	for (size_t n = 0; n < w.len; n++) {
		cr_assert_eq(grp_rec_group_value_decode(w.buf, n, &d, &ms), -1);
		cr_assert_null(ms);
	}
	kp_writer_free(&w);
}
