/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: bytes -> size-prefixed frames -> request header (v1 or
 * v2, chosen from the api key and version the frame claims) -> body decode
 * with the generated decoders. Oracle: no crash or sanitizer report, and a
 * body that decodes must re-encode, and re-encoding its decode must give the
 * same bytes (the codec reaches a fixed point after one pass). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/gen/kp_api.h"
#include "protocol/gen/kp_msg_header.h"
#include "protocol/kp_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check_fixed_point(int16_t key, int16_t version, const uint8_t *body, size_t len,
		       bool response)
{
	struct kp_cursor c = kp_cursor_make(body, len);
	struct kp_writer w1, w2;
	int rc;

	rc = response ? kp_response_decode_any(key, version, &c)
		      : kp_request_decode_any(key, version, &c);
	if (rc != 0)
		return;
	kp_writer_init(&w1, 0);
	kp_writer_init(&w2, 0);
	c = kp_cursor_make(body, len);
	rc = response ? kp_response_roundtrip_any(key, version, &c, &w1)
		      : kp_request_roundtrip_any(key, version, &c, &w1);
	if (rc != 0)
		abort();        /* decoded but could not be encoded again */
	c = kp_cursor_make(w1.buf, w1.len);
	rc = response ? kp_response_roundtrip_any(key, version, &c, &w2)
		      : kp_request_roundtrip_any(key, version, &c, &w2);
	if (rc != 0 || kp_cursor_left(&c) != 0 || w1.len != w2.len ||
	    (w1.len > 0 && memcmp(w1.buf, w2.buf, w1.len) != 0))
		abort();        /* not a fixed point */
	kp_writer_free(&w1);
	kp_writer_free(&w2);
}

static void
fuzz_frame(const uint8_t *frame, size_t len)
{
	struct kp_cursor c = kp_cursor_make(frame, len);
	struct kp_request_header h;
	int16_t hv = 1;

	if (len >= 4) {
		int16_t key = (int16_t)((frame[0] << 8) | frame[1]);
		int16_t version = (int16_t)((frame[2] << 8) | frame[3]);
		int16_t v = kp_request_header_version(key, version);
		if (v >= 0)
			hv = v;
	}
	if (kp_request_header_decode(&c, hv, &h) != 0)
		return;
	fuzz_check_fixed_point(h.request_api_key, h.request_api_version, c.pos,
			       kp_cursor_left(&c), false);
	/* The same bytes as a response body widen coverage for free. */
	fuzz_check_fixed_point(h.request_api_key, h.request_api_version, c.pos,
			       kp_cursor_left(&c), true);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	while (size >= 4) {
		uint32_t n = ((uint32_t)data[0] << 24) | ((uint32_t)data[1] << 16) |
			     ((uint32_t)data[2] << 8) | data[3];
		data += 4;
		size -= 4;
		if (n > size)
			n = (uint32_t)size;
		/* An exactly-sized copy, so ASan sees reads past the frame. */
		uint8_t *frame = malloc(n > 0 ? n : 1);
		if (frame == NULL)
			return 0;
		memcpy(frame, data, n);
		fuzz_frame(frame, n);
		free(frame);
		data += n;
		size -= n;
	}
	return 0;
}
