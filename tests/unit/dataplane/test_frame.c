/* SPDX-License-Identifier: Apache-2.0 */
/* Tests dataplane/frame.c: feeds byte streams cut into chunks in every way
 * that matters (whole frames, several per chunk, split prefix, split body,
 * one byte at a time) and bad sizes, and checks what comes out: in place vs
 * assembled, contents, and the size errors that close a connection. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "dataplane/frame.h"

#define MAX_BYTES 1024u

/* Append one frame (size prefix + body filled with a pattern) to buf. */
static size_t
put_frame(uint8_t *buf, uint32_t body_len, uint8_t fill)
{
	buf[0] = (uint8_t)(body_len >> 24);
	buf[1] = (uint8_t)(body_len >> 16);
	buf[2] = (uint8_t)(body_len >> 8);
	buf[3] = (uint8_t)body_len;
	memset(buf + 4, fill, body_len);
	return 4 + body_len;
}

static void
put_size(uint8_t *buf, int32_t size)
{
	uint32_t u = (uint32_t)size;

	buf[0] = (uint8_t)(u >> 24);
	buf[1] = (uint8_t)(u >> 16);
	buf[2] = (uint8_t)(u >> 8);
	buf[3] = (uint8_t)u;
}

static void
expect_body(const struct frame *frame, uint32_t len, uint8_t fill)
{
	uint32_t i;

	cr_assert_eq(frame->len, len);
	for (i = 0; i < len; i++)
		cr_assert_eq(frame->data[i], fill);
}

Test(frame, whole_frame_in_place)
{
	uint8_t buf[64];
	size_t n = put_frame(buf, 12, 0xab);
	const uint8_t *pos = buf;
	struct frame_rx rx;
	struct frame f;

	frame_rx_init(&rx, MAX_BYTES);
	cr_assert_eq(frame_next(&rx, &pos, buf + n, &f), FRAME_READY);
	cr_assert_null(f.owned, "a frame inside one chunk is not copied");
	cr_assert_eq(f.data, buf + 4);
	expect_body(&f, 12, 0xab);
	frame_release(&f);
	cr_assert_eq(frame_next(&rx, &pos, buf + n, &f), FRAME_MORE);
	cr_assert_eq(pos, buf + n);
	cr_assert_not(frame_rx_partial(&rx));
}

Test(frame, many_frames_in_one_buffer)
{
	uint8_t buf[256];
	size_t n = 0;
	const uint8_t *pos = buf;
	struct frame_rx rx;
	struct frame f;
	int i;

	for (i = 0; i < 5; i++)
		n += put_frame(buf + n, 8 + (uint32_t)i * 3, (uint8_t)i);
	frame_rx_init(&rx, MAX_BYTES);
	for (i = 0; i < 5; i++) {
		cr_assert_eq(frame_next(&rx, &pos, buf + n, &f), FRAME_READY);
		cr_assert_null(f.owned);
		expect_body(&f, 8 + (uint32_t)i * 3, (uint8_t)i);
		frame_release(&f);
	}
	cr_assert_eq(frame_next(&rx, &pos, buf + n, &f), FRAME_MORE);
}

Test(frame, partial_prefix_then_body_in_place)
{
	uint8_t buf[64];
	size_t n = put_frame(buf, 20, 0x11);
	const uint8_t *pos = buf;
	struct frame_rx rx;
	struct frame f;

	frame_rx_init(&rx, MAX_BYTES);
	cr_assert_eq(frame_next(&rx, &pos, buf + 2, &f), FRAME_MORE);
	cr_assert(frame_rx_partial(&rx));
	cr_assert_eq(frame_next(&rx, &pos, buf + n, &f), FRAME_READY);
	cr_assert_null(f.owned, "the body lies whole in the second chunk");
	expect_body(&f, 20, 0x11);
	frame_release(&f);
	cr_assert_not(frame_rx_partial(&rx));
}

Test(frame, partial_body_is_assembled)
{
	uint8_t buf[64];
	size_t n = put_frame(buf, 30, 0x22);
	const uint8_t *pos = buf;
	struct frame_rx rx;
	struct frame f;

	frame_rx_init(&rx, MAX_BYTES);
	cr_assert_eq(frame_next(&rx, &pos, buf + 10, &f), FRAME_MORE);
	cr_assert_eq(pos, buf + 10);
	cr_assert_eq(frame_next(&rx, &pos, buf + n, &f), FRAME_READY);
	cr_assert_not_null(f.owned);
	expect_body(&f, 30, 0x22);
	frame_release(&f);
}

Test(frame, frame_spanning_three_buffers_then_next_in_place)
{
	uint8_t buf[512];
	size_t n = put_frame(buf, 300, 0x33);
	size_t n2 = n + put_frame(buf + n, 9, 0x44);
	const uint8_t *pos = buf;
	struct frame_rx rx;
	struct frame f;

	frame_rx_init(&rx, MAX_BYTES);
	cr_assert_eq(frame_next(&rx, &pos, buf + 100, &f), FRAME_MORE);
	cr_assert_eq(frame_next(&rx, &pos, buf + 200, &f), FRAME_MORE);
	/* The third chunk ends the big frame and holds the whole next one. */
	cr_assert_eq(frame_next(&rx, &pos, buf + n2, &f), FRAME_READY);
	cr_assert_not_null(f.owned);
	expect_body(&f, 300, 0x33);
	frame_release(&f);
	cr_assert_eq(frame_next(&rx, &pos, buf + n2, &f), FRAME_READY);
	cr_assert_null(f.owned);
	expect_body(&f, 9, 0x44);
	frame_release(&f);
}

Test(frame, one_byte_at_a_time)
{
	uint8_t buf[256];
	size_t n = 0, i;
	const uint8_t *pos = buf;
	struct frame_rx rx;
	struct frame f;
	int got = 0;

	n += put_frame(buf + n, 8, 1);
	n += put_frame(buf + n, 40, 2);
	n += put_frame(buf + n, 17, 3);
	frame_rx_init(&rx, MAX_BYTES);
	for (i = 0; i < n; i++) {
		enum frame_result r = frame_next(&rx, &pos, buf + i + 1, &f);

		if (r == FRAME_READY) {
			got++;
			expect_body(&f, got == 1 ? 8 : got == 2 ? 40 : 17, (uint8_t)got);
			frame_release(&f);
		} else {
			cr_assert_eq(r, FRAME_MORE);
		}
		cr_assert_eq(pos, buf + i + 1);
	}
	cr_assert_eq(got, 3);
}

Test(frame, size_limits)
{
	cr_assert(frame_size_ok(8, MAX_BYTES));
	cr_assert(frame_size_ok((int32_t)MAX_BYTES, MAX_BYTES));
	cr_assert_not(frame_size_ok(7, MAX_BYTES), "too small for a request header");
	cr_assert_not(frame_size_ok(0, MAX_BYTES));
	cr_assert_not(frame_size_ok(-1, MAX_BYTES));
	cr_assert_not(frame_size_ok(INT32_MIN, MAX_BYTES));
	cr_assert_not(frame_size_ok((int32_t)MAX_BYTES + 1, MAX_BYTES));
}

Test(frame, oversize_undersize_negative_are_errors)
{
	static const int32_t bad[] = { (int32_t)MAX_BYTES + 1, 7, 0, -1, INT32_MIN, INT32_MAX };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t buf[16] = { 0 };
		const uint8_t *pos = buf;
		struct frame_rx rx;
		struct frame f;

		put_size(buf, bad[i]);
		frame_rx_init(&rx, MAX_BYTES);
		cr_assert_eq(frame_next(&rx, &pos, buf + sizeof(buf), &f), FRAME_ERR_SIZE,
			     "size %d", bad[i]);
		frame_rx_reset(&rx);
	}
}

Test(frame, oversize_with_split_prefix)
{
	uint8_t buf[8];
	const uint8_t *pos = buf;
	struct frame_rx rx;
	struct frame f;

	put_size(buf, (int32_t)MAX_BYTES + 1);
	frame_rx_init(&rx, MAX_BYTES);
	cr_assert_eq(frame_next(&rx, &pos, buf + 3, &f), FRAME_MORE);
	cr_assert_eq(frame_next(&rx, &pos, buf + 4, &f), FRAME_ERR_SIZE);
}

Test(frame, reset_drops_partial_assembly)
{
	uint8_t buf[128];
	size_t n = put_frame(buf, 100, 0x55);
	const uint8_t *pos = buf;
	struct frame_rx rx;
	struct frame f;

	(void)n;
	frame_rx_init(&rx, MAX_BYTES);
	cr_assert_eq(frame_next(&rx, &pos, buf + 50, &f), FRAME_MORE);
	cr_assert(frame_rx_partial(&rx));
	frame_rx_reset(&rx);    /* ASan would flag the assembly buffer if leaked */
	cr_assert_not(frame_rx_partial(&rx));
}
