/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka's UUID text form: base64url (RFC 4648 section 5), no padding. */
#include "common/uuid.h"

#include "common/assert.h"

void
uuid_to_text(const uint8_t id[UUID_BYTES], char out[UUID_TEXT_BYTES])
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint32_t bits;
	int o = 0;

	STATIC_ASSERT(UUID_BYTES % 3 == 1, "one byte left after the 3-byte groups");
	/* Five groups of 3 bytes -> 4 characters each. */
	for (int i = 0; i + 3 <= UUID_BYTES; i += 3) {
		bits = (uint32_t)id[i] << 16 | (uint32_t)id[i + 1] << 8 | id[i + 2];
		out[o++] = alphabet[bits >> 18 & 63];
		out[o++] = alphabet[bits >> 12 & 63];
		out[o++] = alphabet[bits >> 6 & 63];
		out[o++] = alphabet[bits & 63];
	}
	/* The last byte: 8 bits -> 2 characters, the low 4 bits zero. */
	bits = (uint32_t)id[UUID_BYTES - 1] << 16;
	out[o++] = alphabet[bits >> 18 & 63];
	out[o++] = alphabet[bits >> 12 & 63];
	ASSERT(o == UUID_TEXT_BYTES - 1);
	out[o] = '\0';
}
