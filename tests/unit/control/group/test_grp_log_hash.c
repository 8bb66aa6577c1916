/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/group/grp_log_hash.c against values printed by Java
 * (String.hashCode, Kafka's Utils.abs, % partitions) for ASCII, empty and
 * non-ASCII ids, including a code point outside the BMP (two UTF-16 units). */
#include <criterion/criterion.h>

#include "control/group/grp_int.h"

Test(grp_log_hash, java_values)
{
	cr_assert_eq(grp_log_partition_of(kp_str_c("mygroup"), 50), 39);
	cr_assert_eq(grp_log_partition_of(kp_str_c("mygroup"), 7), 2);
	cr_assert_eq(grp_log_partition_of(kp_str_c(""), 50), 0);
	cr_assert_eq(grp_log_partition_of(kp_str_c("gr\xc3\xbcppe-\xe4\xb8\xad"), 50), 22);
	cr_assert_eq(grp_log_partition_of(kp_str_c("gr\xc3\xbcppe-\xe4\xb8\xad"), 7), 1);
	cr_assert_eq(grp_log_partition_of(kp_str_c("\xf0\x9f\x98\x80x"), 50), 39);
	cr_assert_eq(grp_log_partition_of(kp_str_c("console-consumer-12345"), 50), 6);
	cr_assert_eq(grp_log_partition_of(kp_str_c("console-consumer-12345"), 7), 6);
}

Test(grp_log_hash, malformed_utf8_is_bounded)
{
	/* A truncated sequence at the end must not read past the id. */
	int32_t p = grp_log_partition_of(kp_str_c("a\xe4\xb8"), 50);

	cr_assert(p >= 0 && p < 50);
}
