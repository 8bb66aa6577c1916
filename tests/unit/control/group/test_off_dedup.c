/* SPDX-License-Identifier: Apache-2.0 */
/* off_dedup (control/group/off_dedup.c): the partition listings of an
 * OffsetCommit or OffsetFetch answered once each (the last listing), one
 * entry per topic, topics in the order of their first listing. */
#include <criterion/criterion.h>

#include "control/group/off_int.h"

static struct off_key
key(const char *topic, int32_t partition, int32_t index)
{
	return (struct off_key){ kp_str_c(topic), partition, index, false };
}

Test(off_dedup, no_duplicates_keeps_request_order)
{
	struct off_key k[] = { key("b", 1, 0), key("b", 0, 1), key("a", 5, 2) };
	int32_t order[3];

	cr_assert_eq(off_dedup(k, 3, order), 3);
	cr_assert_eq(order[0], 0);
	cr_assert_eq(order[1], 1);
	cr_assert_eq(order[2], 2);
}

Test(off_dedup, duplicates_answered_once_with_the_last_listing)
{
	/* b/0 twice in one entry, then b again in a later entry after a. */
	struct off_key k[] = { key("b", 0, 0), key("b", 0, 1), key("a", 0, 2), key("b", 1, 3),
			       key("ab", 0, 4), key("b", 0, 5) };
	int32_t order[6];

	cr_assert_eq(off_dedup(k, 6, order), 4);
	/* b (first listed at 0): partition 1 (3), partition 0's last (5). */
	cr_assert_eq(order[0], 3);
	cr_assert_eq(order[1], 5);
	cr_assert_eq(order[2], 2);      /* a */
	cr_assert_eq(order[3], 4);      /* ab: a name prefix is another topic */
}

Test(off_dedup, as_listed_entries_are_never_merged)
{
	struct off_key k[] = { key("t", 0, 0), key("t", 0, 1), key("t", 0, 2), key("t", 0, 3) };
	int32_t order[4];

	k[0].as_listed = k[2].as_listed = true;
	cr_assert_eq(off_dedup(k, 4, order), 3);
	cr_assert_eq(order[0], 0);
	cr_assert_eq(order[1], 2);
	cr_assert_eq(order[2], 3);      /* the last of the others */
}

Test(off_dedup, empty)
{
	int32_t order[1];

	cr_assert_eq(off_dedup(NULL, 0, order), 0);
}
