/* SPDX-License-Identifier: Apache-2.0 */
/* request_percentage enforcement on a dataplane core (kp_req_quota.c).
 * @thread dataplane */
#ifndef PROTOCOL_KP_REQ_QUOTA_H
#define PROTOCOL_KP_REQ_QUOTA_H

#include <stdint.h>

#include "protocol/kp.h"

/* Count the core's time on this request (env->t0_ns until now) under the
 * client's request_percentage quota, if it has one; over it, raise the
 * response's throttle_time_ms (REPLY), the pending record's (PENDING) or
 * tell where control's reply has it (FORWARD), and out->throttle_ms. */
struct kp_api_row;
void kp_req_quota_apply(const struct kp_env *env, const struct kp_api_row *row, int16_t version,
			const uint8_t *frame, uint32_t len, enum kp_verdict verdict,
			struct kp_out *out);

#endif
