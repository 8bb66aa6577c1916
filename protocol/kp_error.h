/* SPDX-License-Identifier: Apache-2.0 */
/* Names of the Kafka error codes (common/kafka_errors.h defines them). */
#ifndef PROTOCOL_KP_ERROR_H
#define PROTOCOL_KP_ERROR_H

#include <stdint.h>

#include "common/kafka_errors.h"

/* "UNKNOWN_TOPIC_OR_PARTITION" for a code; "UNKNOWN" if not listed. */
const char *kp_error_name(int16_t code);

#endif
