/* SPDX-License-Identifier: Apache-2.0 */
/* Raw snappy unit decoding in bounded slices (format: google/snappy
 * format_description.txt, written from the format, not from its code). It
 * only decodes: framing (xerial) and every limit on sizes belong to the
 * caller, kp_records_inflate.c. */
#include "protocol/kp_snappy.h"

#include <string.h>

#include "common/assert.h"

/* Element tags: the low two bits of the tag byte. */
#define KP_SNAPPY_LITERAL 0
#define KP_SNAPPY_COPY1 1               /* length 4..11, 11-bit offset */
#define KP_SNAPPY_COPY2 2               /* length 1..64, 16-bit offset */
#define KP_SNAPPY_COPY4 3               /* length 1..64, 32-bit offset */
/* A literal's length-1 sits in the tag's upper six bits below 60; 60..63
 * say it follows in 1..4 little-endian bytes. */
#define KP_SNAPPY_LITERAL_INLINE_MAX 60
#define KP_SNAPPY_PREAMBLE_BYTES_MAX 5

int
kp_snappy_length(const uint8_t *in, size_t n, size_t *out_bytes, size_t *hdr_bytes)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n && i < KP_SNAPPY_PREAMBLE_BYTES_MAX; i++) {
		v |= (uint64_t)(in[i] & 0x7f) << (7 * i);
		if ((in[i] & 0x80) == 0) {
			if (v > UINT32_MAX)
				return -1;
			*out_bytes = (size_t)v;
			*hdr_bytes = i + 1;
			return 0;
		}
	}
	return -1;
}

void
kp_snappy_start(struct kp_snappy *sn, const uint8_t *in, size_t n, uint8_t *out,
		size_t out_bytes)
{
	ASSERT(out != NULL || out_bytes == 0);
	sn->in = in;
	sn->in_end = in + n;
	sn->out = out;
	sn->out_bytes = out_bytes;
	sn->out_pos = 0;
	sn->lit_left = 0;
}

/* Little-endian integer of n (1..4) bytes. */
static uint32_t
kp_snappy_le(const uint8_t *p, size_t n)
{
	uint32_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

/* Parse the element at sn->in: a literal sets lit_left (its bytes are
 * copied by the caller's loop), a copy is done here. */
static int
kp_snappy_element(struct kp_snappy *sn)
{
	uint8_t tag = *sn->in++;
	size_t avail = (size_t)(sn->in_end - sn->in);
	size_t room = sn->out_bytes - sn->out_pos;
	size_t len, off;
	const uint8_t *src;
	uint8_t *dst;

	switch (tag & 3) {
	case KP_SNAPPY_LITERAL:
		len = (size_t)(tag >> 2) + 1;
		if ((tag >> 2) >= KP_SNAPPY_LITERAL_INLINE_MAX) {
			size_t k = (size_t)(tag >> 2) - KP_SNAPPY_LITERAL_INLINE_MAX + 1;

			if (avail < k)
				return KP_SNAPPY_ERR;
			len = (size_t)kp_snappy_le(sn->in, k) + 1;
			sn->in += k;
			avail -= k;
		}
		if (len > avail || len > room)
			return KP_SNAPPY_ERR;
		sn->lit_left = len;
		return KP_SNAPPY_MORE;
	case KP_SNAPPY_COPY1:
		if (avail < 1)
			return KP_SNAPPY_ERR;
		len = 4 + ((tag >> 2) & 7);
		off = (size_t)(tag >> 5) << 8 | sn->in[0];
		sn->in += 1;
		break;
	case KP_SNAPPY_COPY2:
		if (avail < 2)
			return KP_SNAPPY_ERR;
		len = (size_t)(tag >> 2) + 1;
		off = kp_snappy_le(sn->in, 2);
		sn->in += 2;
		break;
	default:
		if (avail < 4)
			return KP_SNAPPY_ERR;
		len = (size_t)(tag >> 2) + 1;
		off = kp_snappy_le(sn->in, 4);
		sn->in += 4;
		break;
	}
	if (off == 0 || off > sn->out_pos || len > room)
		return KP_SNAPPY_ERR;
	dst = sn->out + sn->out_pos;
	src = dst - off;
	if (off == 1) {
		memset(dst, *src, len);         /* a run: byte by byte it would be 4x slower */
	} else {
		/* Overlapping when off < len: copy off bytes at a time, each block
		 * from bytes already written. */
		for (size_t done = 0; done < len; done += off) {
			size_t k = len - done < off ? len - done : off;

			memcpy(dst + done, src + done, k);
		}
	}
	sn->out_pos += len;
	return KP_SNAPPY_MORE;
}

int
kp_snappy_decode(struct kp_snappy *sn, size_t out_max)
{
	size_t goal;

	ASSERT_HOT(sn->out_pos <= sn->out_bytes);
	if (out_max == 0)
		out_max = 1;                    /* always make progress */
	goal = sn->out_pos + (out_max < sn->out_bytes - sn->out_pos ? out_max
								   : sn->out_bytes - sn->out_pos);
	for (;;) {
		if (sn->lit_left > 0) {
			size_t n = sn->lit_left;

			if (n > goal - sn->out_pos && goal > sn->out_pos)
				n = goal - sn->out_pos;
			/* kp_snappy_element checked the literal against both ends. */
			memcpy(sn->out + sn->out_pos, sn->in, n);
			sn->in += n;
			sn->out_pos += n;
			sn->lit_left -= n;
			if (sn->lit_left > 0)
				return KP_SNAPPY_MORE;
		}
		if (sn->in == sn->in_end)
			return sn->out_pos == sn->out_bytes ? KP_SNAPPY_DONE : KP_SNAPPY_ERR;
		if (sn->out_pos >= goal && sn->out_pos < sn->out_bytes)
			return KP_SNAPPY_MORE;
		if (kp_snappy_element(sn) == KP_SNAPPY_ERR)
			return KP_SNAPPY_ERR;
	}
}
