/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: bytes -> kp_records_validate(), every codec. The first
 * byte picks the Produce version (low 4 bits) and, with bit 7 set, asks for
 * the CRC to be recomputed over a copy first, so the fuzzer reaches the
 * record walk and the decompressors instead of stopping at the CRC. Oracle:
 * no crash or sanitizer report, and an accepted batch has a sane header. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/kp_error.h"
#include "protocol/kp_records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_MESSAGE_BYTES (1 << 20)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rbatch_header h;
	uint8_t *copy;
	int16_t version, err;

	if (size < 1 || size > FUZZ_MAX_MESSAGE_BYTES)
		return 0;
	version = (int16_t)(data[0] & 0x0f);
	copy = malloc(size);            /* exact size: ASan sees any overread */
	if (copy == NULL)
		return 0;
	memcpy(copy, data + 1, size - 1);
	if ((data[0] & 0x80) && size - 1 >= RBATCH_HEADER_BYTES) {
		uint32_t crc = rbatch_crc_compute(copy, size - 1);

		for (int i = 0; i < 4; i++)
			copy[17 + i] = (uint8_t)(crc >> (24 - 8 * i));
	}
	err = kp_records_validate(size > 1 ? copy : NULL, (int32_t)(size - 1), version,
				  FUZZ_MAX_MESSAGE_BYTES, &h);
	if (err == KP_ERR_NONE &&
	    (h.records_count <= 0 || h.base_offset != 0 || h.magic != RBATCH_MAGIC_V2 ||
	     rbatch_total_bytes(&h) != (int64_t)(size - 1)))
		abort();
	free(copy);
	return 0;
}
