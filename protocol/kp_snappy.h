/* SPDX-License-Identifier: Apache-2.0 */
/* Resumable decoder for one raw snappy unit (google/snappy
 * format_description.txt). snappy-c decodes a unit only in one call, whose
 * time grows with the unit; record validation on a dataplane core must stop
 * after a slice, so it decodes through this one. Internal to protocol/. */
#ifndef PROTOCOL_KP_SNAPPY_H
#define PROTOCOL_KP_SNAPPY_H

#include <stddef.h>
#include <stdint.h>

/* The decoder writes the whole unit into out: a copy may reach back to the
 * unit's first byte (encoders such as klauspost/s2, which franz-go uses,
 * emit offsets beyond 64 KiB), so no smaller window would do. */
struct kp_snappy {
	const uint8_t *in;              /* next element */
	const uint8_t *in_end;
	uint8_t *out;                   /* out_bytes long */
	size_t out_bytes;               /* the length the unit declares */
	size_t out_pos;                 /* bytes decoded so far */
	size_t lit_left;                /* bytes of the current literal not yet copied */
};

enum kp_snappy_status { KP_SNAPPY_ERR = -1, KP_SNAPPY_DONE = 0, KP_SNAPPY_MORE = 1 };

/* The unit's preamble: its decoded length (a varint of at most 5 bytes,
 * below 2^32) into *out_bytes and the preamble's size into *hdr_bytes.
 * 0, or -1 if in[0..n) does not start with one. @thread any */
int kp_snappy_length(const uint8_t *in, size_t n, size_t *out_bytes, size_t *hdr_bytes);

/* Start decoding the elements in[0..n) (the unit after its preamble) into
 * out, which holds out_bytes bytes. @thread any */
void kp_snappy_start(struct kp_snappy *sn, const uint8_t *in, size_t n, uint8_t *out,
		     size_t out_bytes);

/* Decode about out_max more bytes (at least one element; a copy may run up
 * to 63 bytes past). KP_SNAPPY_MORE: call again; KP_SNAPPY_DONE: the unit
 * decoded to exactly its declared length with no input left; KP_SNAPPY_ERR:
 * a truncated or corrupt unit, an offset before the unit's start, or output
 * beyond the declared length. Never reads or writes outside in and out.
 * @thread any */
int kp_snappy_decode(struct kp_snappy *sn, size_t out_max);

#endif
