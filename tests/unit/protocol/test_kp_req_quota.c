/* SPDX-License-Identifier: Apache-2.0 */
/* Tests protocol/kp_req_quota.c: where each response carries
 * throttle_time_ms (the schemas' ThrottleTimeMs versions and positions),
 * and that raising it keeps the larger of a byte quota's and the request
 * quota's throttle and never writes outside the response. */
#include <criterion/criterion.h>
#include <string.h>

#include "protocol/gen/kp_api.h"
#include "protocol/kp.h"

Test(kp_throttle_site, follows_the_schemas)
{
	/* Metadata: throttle_time_ms first from v3; v9+ headers have tags. */
	cr_assert_eq(kp_throttle_site(KP_API_METADATA, 1), 0);
	cr_assert_eq(kp_throttle_site(KP_API_METADATA, 3), 8);
	cr_assert_eq(kp_throttle_site(KP_API_METADATA, 12), 9);
	cr_assert_eq(kp_throttle_site(KP_API_LIST_OFFSETS, 1), 0);
	cr_assert_eq(kp_throttle_site(KP_API_LIST_OFFSETS, 7), 9);
	cr_assert_eq(kp_throttle_site(KP_API_DESCRIBE_CONFIGS, 1), 8);
	/* OffsetDelete: after error_code. */
	cr_assert_eq(kp_throttle_site(KP_API_OFFSET_DELETE, 0), 10);
	/* Produce: last field, before v9+'s empty tagged-field section. */
	cr_assert_eq(kp_throttle_site(KP_API_PRODUCE, 8), -4);
	cr_assert_eq(kp_throttle_site(KP_API_PRODUCE, 11), -5);
	/* ApiVersions: found in the response itself (after its api_keys
	 * array, kp_req_quota_apply); unknown APIs: never raised. */
	cr_assert_eq(kp_throttle_site(KP_API_API_VERSIONS, 3), 0);
	cr_assert_eq(kp_throttle_site(999, 0), 0);
}

static int32_t
be32(const uint8_t *b)
{
	return (int32_t)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]);
}

Test(kp_throttle_raise, keeps_the_larger_and_stays_inside)
{
	uint8_t bytes[16] = { 0 };
	struct kp_buf resp = { bytes, sizeof(bytes) };

	kp_throttle_raise(&resp, 9, 250);
	cr_assert_eq(be32(bytes + 9), 250);
	kp_throttle_raise(&resp, 9, 100);               /* a byte quota's larger */
	cr_assert_eq(be32(bytes + 9), 250);
	memset(bytes, 0, sizeof(bytes));
	kp_throttle_raise(&resp, -5, 7);                /* from the end */
	cr_assert_eq(be32(bytes + 11), 7);
	memset(bytes, 0, sizeof(bytes));
	kp_throttle_raise(&resp, 13, 1);                /* would pass the end */
	kp_throttle_raise(&resp, -20, 1);
	kp_throttle_raise(&resp, 0, 1);
	for (size_t i = 0; i < sizeof(bytes); i++)
		cr_assert_eq(bytes[i], 0);
}
