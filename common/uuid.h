/* SPDX-License-Identifier: Apache-2.0 */
/* A 16-byte UUID as Kafka prints it (Uuid.toString()): URL-safe base64
 * without padding, 22 characters. Topic ids in partition.metadata, cluster
 * and directory ids in meta.properties. */
#ifndef COMMON_UUID_H
#define COMMON_UUID_H

#include <stdint.h>

#define UUID_BYTES 16
#define UUID_TEXT_BYTES 23      /* 22 characters + NUL */

/* Write the 22 characters and a NUL to out. */
void uuid_to_text(const uint8_t id[UUID_BYTES], char out[UUID_TEXT_BYTES]);

#endif
