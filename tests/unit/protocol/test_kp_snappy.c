/* SPDX-License-Identifier: Apache-2.0 */
/* Tests protocol/kp_snappy.c: units written by snappy-c (the reference
 * encoder) decode to the same bytes with every slice size; units written
 * here by hand cover what snappy-c never emits (4-byte offsets, as
 * klauspost/s2 writes, long literals) and every malformed element. */
#include <criterion/criterion.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/kp_snappy.h"

/* Decode a whole unit in slices of out_max; returns the status and leaves
 * the output in *out (malloc'd, the declared length). */
static int
decode_all(const uint8_t *unit, size_t n, size_t out_max, uint8_t **out, size_t *out_bytes)
{
	struct kp_snappy sn;
	size_t hdr;
	int rc;

	*out = NULL;
	if (kp_snappy_length(unit, n, out_bytes, &hdr) != 0)
		return KP_SNAPPY_ERR;
	*out = malloc(*out_bytes + 1);
	kp_snappy_start(&sn, unit + hdr, n - hdr, *out, *out_bytes);
	do {
		size_t before = sn.out_pos;

		rc = kp_snappy_decode(&sn, out_max);
		if (rc == KP_SNAPPY_MORE) {
			cr_assert_gt(sn.out_pos, before, "progress");
			cr_assert_leq(sn.out_pos - before, (out_max ? out_max : 1) + 63);
		}
	} while (rc == KP_SNAPPY_MORE);
	return rc;
}

static void
fill_mixed(uint8_t *p, size_t n)
{
	unsigned r = 7;

	for (size_t i = 0; i < n; i++) {
		r = r * 1103515245 + 12345;
		p[i] = (i / 97) % 3 == 0 ? (uint8_t)(r >> 16) : (uint8_t)('a' + (i / 11) % 7);
	}
}

Test(kp_snappy, matches_snappy_c_every_slice)
{
	static const size_t sizes[] = { 0, 1, 5, 64, 1000, 70000, 300000 };
	static const size_t slices[] = { 0, 1, 2, 3, 63, 64, 65, 4096, 100000, SIZE_MAX };

	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		for (int kind = 0; kind < 2; kind++) {
			size_t n = sizes[si], clen = snappy_max_compressed_length(n);
			uint8_t *src = malloc(n + 1), *c = malloc(clen);

			if (kind == 0)
				memset(src, 'z', n);
			else
				fill_mixed(src, n);
			cr_assert_eq(snappy_compress((char *)src, n, (char *)c, &clen), SNAPPY_OK);
			for (size_t k = 0; k < sizeof(slices) / sizeof(slices[0]); k++) {
				uint8_t *out;
				size_t out_bytes;

				if (slices[k] < 64 && n > 70000)
					continue;       /* slow, and covered by smaller units */
				cr_assert_eq(decode_all(c, clen, slices[k], &out, &out_bytes),
					     KP_SNAPPY_DONE, "size %zu kind %d slice %zu", n, kind,
					     slices[k]);
				cr_assert_eq(out_bytes, n);
				cr_assert_eq(memcmp(out, src, n), 0);
				free(out);
			}
			free(src);
			free(c);
		}
	}
}

/* A literal of 70,000 bytes (3-byte length), then a 4-byte-offset copy
 * reaching back to the first byte, then an overlapping 1-byte-offset copy. */
Test(kp_snappy, long_literals_and_far_copies)
{
	size_t lit = 70000, n = 0;
	uint8_t *unit = malloc(lit + 64), *out;
	size_t out_bytes;

	for (size_t v = lit + 64 + 11; ; v >>= 7) {     /* preamble: 70,075 */
		unit[n++] = (uint8_t)(v & 0x7f) | (v > 0x7f ? 0x80 : 0);
		if (v <= 0x7f)
			break;
	}
	unit[n++] = 62 << 2;                    /* literal, 3 length bytes follow */
	unit[n++] = (uint8_t)((lit - 1) & 0xff);
	unit[n++] = (uint8_t)(((lit - 1) >> 8) & 0xff);
	unit[n++] = (uint8_t)((lit - 1) >> 16);
	fill_mixed(unit + n, lit);
	n += lit;
	unit[n++] = (63 << 2) | 3;              /* copy of 64, offset 70,000 */
	unit[n++] = (uint8_t)(lit & 0xff);
	unit[n++] = (uint8_t)((lit >> 8) & 0xff);
	unit[n++] = (uint8_t)(lit >> 16);
	unit[n++] = 0;
	unit[n++] = (7 << 2) | 1;               /* copy of 11, offset 1 */
	unit[n++] = 1;
	for (size_t slice = 1; slice < 100000; slice = slice * 7 + 3) {
		cr_assert_eq(decode_all(unit, n, slice, &out, &out_bytes), KP_SNAPPY_DONE,
			     "slice %zu", slice);
		cr_assert_eq(out_bytes, 70075);
		cr_assert_eq(memcmp(out + lit, out, 64), 0);
		for (int i = 0; i < 11; i++)
			cr_assert_eq(out[lit + 64 + (size_t)i], out[lit + 63]);
		free(out);
	}
	free(unit);
}

Test(kp_snappy, malformed_units)
{
	static const struct { uint8_t b[12]; size_t n; const char *what; } bad[] = {
		{ { 0x05, 0x0c, 'a', 'b', 'c', 'd' }, 6, "output short of the declared length" },
		{ { 0x02, 0x0c, 'a', 'b', 'c', 'd' }, 6, "literal past the declared length" },
		{ { 0x04, 0x0c, 'a', 'b' }, 4, "literal past the input" },
		{ { 0x05, 0x00, 'a', 0x0d }, 4, "copy-1 cut short" },
		{ { 0x05, 0x00, 'a', 0x0e, 0x00, 0x00 }, 6, "offset 0" },
		{ { 0x05, 0x00, 'a', 0x0e, 0x02, 0x00 }, 6, "offset before the start" },
		{ { 0x04, 0x00, 'a', 0x0f, 0x01, 0x00, 0x00, 0x00 }, 8, "copy-4 past the length" },
		{ { 0x05, 0x00, 'a', 0x0f, 0x01, 0x00 }, 6, "copy-4 cut short" },
		{ { 0x01, 0x00, 'a', 0x00, 'b' }, 5, "input after the declared length" },
		{ { 0x03, 0xf4, 0x02 }, 3, "2-byte literal length cut short" },
		{ { 0x03, 0xf0, 0x02, 'a' }, 4, "literal bytes cut short" },
		{ { 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 }, 6, "preamble over 5 bytes" },
		{ { 0xff, 0xff, 0xff, 0xff, 0x1f }, 5, "preamble over 2^32 - 1" },
		{ { 0x80 }, 1, "preamble cut short" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *out;
		size_t out_bytes;

		cr_assert_eq(decode_all(bad[i].b, bad[i].n, 1, &out, &out_bytes), KP_SNAPPY_ERR,
			     "%s", bad[i].what);
		free(out);
		cr_assert_eq(decode_all(bad[i].b, bad[i].n, SIZE_MAX, &out, &out_bytes),
			     KP_SNAPPY_ERR, "%s", bad[i].what);
		free(out);
	}
}
