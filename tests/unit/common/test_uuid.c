/* SPDX-License-Identifier: Apache-2.0 */
/* Tests common/uuid.c: Kafka's text form of a UUID against ids Kafka prints
 * (Uuid.ZERO_UUID, METADATA_TOPIC_ID) and vectors from Python's
 * base64.urlsafe_b64encode(), and against a bit-at-a-time reference encoder
 * written here, for random ids. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common/uuid.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Reference: take bits 6 at a time, most significant first; the last
 * character holds the 2 bits left, shifted up. */
static void
ref_text(const uint8_t id[16], char out[23])
{
	int o = 0;

	for (int bit = 0; bit < 128; bit += 6) {
		unsigned v = 0;

		for (int k = 0; k < 6; k++) {
			int b = bit + k;
			unsigned set = b < 128 ? (id[b / 8] >> (7 - b % 8)) & 1u : 0;

			v = v << 1 | set;
		}
		out[o++] = alphabet[v];
	}
	out[o] = '\0';
}

static void
check(const char *hex, const char *want)
{
	uint8_t id[UUID_BYTES];
	char got[UUID_TEXT_BYTES];

	for (int i = 0; i < UUID_BYTES; i++) {
		char byte[3] = { hex[2 * i], hex[2 * i + 1], '\0' };

		id[i] = (uint8_t)strtoul(byte, NULL, 16);
	}
	memset(got, '#', sizeof(got));
	uuid_to_text(id, got);
	cr_assert_str_eq(got, want, "%s", hex);
}

Test(uuid, known_ids)
{
	check("00000000000000000000000000000000", "AAAAAAAAAAAAAAAAAAAAAA");
	check("00000000000000000000000000000001", "AAAAAAAAAAAAAAAAAAAAAQ");
	check("000102030405060708090a0b0c0d0e0f", "AAECAwQFBgcICQoLDA0ODw");
	check("ffffffffffffffffffffffffffffffff", "_____________________w");
	check("fb3e0fa94bd04a1b9a5ec5e2cca6b2a3", "-z4PqUvQShuaXsXizKayow");
}

Test(uuid, matches_reference)
{
	uint8_t id[UUID_BYTES];
	char got[UUID_TEXT_BYTES], want[UUID_TEXT_BYTES];

	srand(12);
	for (int n = 0; n < 10000; n++) {
		for (int i = 0; i < UUID_BYTES; i++)
			id[i] = (uint8_t)rand();
		uuid_to_text(id, got);
		ref_text(id, want);
		cr_assert_str_eq(got, want);
		cr_assert_eq(strlen(got), UUID_TEXT_BYTES - 1);
	}
}
