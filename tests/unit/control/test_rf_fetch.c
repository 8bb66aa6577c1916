/* SPDX-License-Identifier: Apache-2.0 */
/* Tests rf_batches_check() (control/rf_fetch.c): which bytes of a leader's
 * Fetch answer the replica fetcher hands to storage. Whole batches from the
 * fetch offset on with contiguous offsets and a good CRC-32C; a torn last
 * batch is left for the next fetch; a corrupt or misplaced one refuses the
 * answer; the byte bound stops after a batch but always takes the first. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common/rbatch.h"
#include "control/rf_int.h"
#include "tests/unit/storage/tbatch.h"

/* Three batches of 2, 3 and 1 records at offsets 10, 12, 15. */
static uint8_t *
three(size_t *len, size_t sizes[3])
{
	int recs[3] = { 2, 3, 1 };
	int64_t base = 10;
	uint8_t *out = NULL;
	int i;

	*len = 0;
	for (i = 0; i < 3; i++) {
		struct tbatch_spec spec = tbatch_spec(recs[i], 40, 1000);
		uint32_t bl;
		uint8_t *b = tbatch_build(&spec, &bl);

		rbatch_set_base_offset(b, base);
		rbatch_set_leader_epoch(b, 3);
		base += recs[i];
		out = realloc(out, *len + bl);
		memcpy(out + *len, b, bl);
		*len += bl;
		sizes[i] = bl;
		free(b);
	}
	return out;
}

Test(rf_batches_check, whole_batches_in_order)
{
	size_t len, sz[3];
	uint8_t *b = three(&len, sz);
	int64_t next;

	cr_assert_eq(rf_batches_check(b, len, 10, 1 << 20, &next), (int64_t)len);
	cr_assert_eq(next, 16);
	free(b);
}

Test(rf_batches_check, torn_last_batch_left_for_later)
{
	size_t len, sz[3];
	uint8_t *b = three(&len, sz);
	int64_t next;

	cr_assert_eq(rf_batches_check(b, len - 5, 10, 1 << 20, &next), (int64_t)(sz[0] + sz[1]));
	cr_assert_eq(next, 15);
	cr_assert_eq(rf_batches_check(b, 30, 10, 1 << 20, &next), 0);
	cr_assert_eq(next, 10);
	free(b);
}

Test(rf_batches_check, corrupt_or_misplaced_refused)
{
	size_t len, sz[3];
	uint8_t *b = three(&len, sz);
	int64_t next;

	/* not at the fetch offset */
	cr_assert_eq(rf_batches_check(b, len, 11, 1 << 20, &next), -1);
	/* a record byte flipped in the second batch: its CRC fails */
	b[sz[0] + sz[1] - 1] ^= 0x55;
	cr_assert_eq(rf_batches_check(b, len, 10, 1 << 20, &next), -1);
	b[sz[0] + sz[1] - 1] ^= 0x55;
	/* a gap between batches */
	rbatch_set_base_offset(b + sz[0], 13);
	cr_assert_eq(rf_batches_check(b, len, 10, 1 << 20, &next), -1);
	rbatch_set_base_offset(b + sz[0], 12);
	/* magic 1 */
	b[16] = 1;
	cr_assert_eq(rf_batches_check(b, len, 10, 1 << 20, &next), -1);
	b[16] = 2;
	/* a batch length below the header's */
	b[8] = b[9] = b[10] = 0;
	b[11] = 10;
	cr_assert_eq(rf_batches_check(b, len, 10, 1 << 20, &next), -1);
	free(b);
}

Test(rf_batches_check, bound_stops_after_a_batch_but_takes_the_first)
{
	size_t len, sz[3];
	uint8_t *b = three(&len, sz);
	int64_t next;

	cr_assert_eq(rf_batches_check(b, len, 10, 1, &next), (int64_t)sz[0]);
	cr_assert_eq(next, 12);
	cr_assert_eq(rf_batches_check(b, len, 10, sz[0] + sz[1], &next), (int64_t)(sz[0] + sz[1]));
	free(b);
}
