/* SPDX-License-Identifier: Apache-2.0 */
/* Tests dataplane/frame.c: feeds byte streams cut into chunks in every way
 * that matters (whole frames, several per chunk, split prefix, split body,
 * one byte at a time) and bad sizes, and checks what comes out: in place vs
 * assembled, contents, and the size errors that close a connection. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "common/be.h"
#include "dataplane/frame.h"

#define MAX_BYTES 1024u

/* The stream under test: bytes in buf, the reader's position, the frame
 * reader and the last frame out; reset before each test. */
static uint8_t buf[512];
static const uint8_t *pos;
static struct frame_rx rx;
static struct frame f;

static void
stream_setup(void)
{
	memset(buf, 0, sizeof(buf));
	pos = buf;
	frame_rx_init(&rx, MAX_BYTES);
}

TestSuite(frame, .init = stream_setup);

static void
put_size(uint8_t *at, int32_t size)
{
	be_write32(at, (uint32_t)size);
}

/* Append one frame (size prefix + body filled with a pattern) at at. */
static size_t
put_frame(uint8_t *at, uint32_t body_len, uint8_t fill)
{
	put_size(at, (int32_t)body_len);
	memset(at + 4, fill, body_len);
	return 4 + body_len;
}

/* frame_next() over the stream's bytes up to buf + end. */
static enum frame_result
feed(size_t end)
{
	return frame_next(&rx, &pos, buf + end, &f);
}

/* The last frame out is len bytes of fill. */
static void
expect_body(uint32_t len, uint8_t fill)
{
	cr_assert_eq(f.len, len);
	for (uint32_t i = 0; i < len; i++)
		cr_assert_eq(f.data[i], fill);
}

/* Feeding up to buf + end yields a frame of len bytes of fill, assembled
 * (owned) or pointing into buf; the frame is released. */
static void
expect_frame(size_t end, uint32_t len, uint8_t fill, bool owned)
{
	cr_assert_eq(feed(end), FRAME_READY, "frame of %u bytes", len);
	cr_assert_eq(f.owned != NULL, owned, "frame of %u bytes %s", len,
		     owned ? "not assembled" : "copied although whole in one chunk");
	expect_body(len, fill);
	frame_release(&f);
}

Test(frame, whole_frame_in_place)
{
	size_t n = put_frame(buf, 12, 0xab);

	cr_assert_eq(feed(n), FRAME_READY);
	cr_assert_null(f.owned, "a frame inside one chunk is not copied");
	cr_assert_eq(f.data, buf + 4);
	expect_body(12, 0xab);
	frame_release(&f);
	cr_assert_eq(feed(n), FRAME_MORE);
	cr_assert_eq(pos, buf + n);
	cr_assert_not(frame_rx_partial(&rx));
}

Test(frame, many_frames_in_one_buffer)
{
	size_t n = 0;
	int i;

	for (i = 0; i < 5; i++)
		n += put_frame(buf + n, 8 + (uint32_t)i * 3, (uint8_t)i);
	for (i = 0; i < 5; i++)
		expect_frame(n, 8 + (uint32_t)i * 3, (uint8_t)i, false);
	cr_assert_eq(feed(n), FRAME_MORE);
}

Test(frame, partial_prefix_then_body_in_place)
{
	size_t n = put_frame(buf, 20, 0x11);

	cr_assert_eq(feed(2), FRAME_MORE);
	cr_assert(frame_rx_partial(&rx));
	expect_frame(n, 20, 0x11, false);       /* the body lies whole in the second chunk */
	cr_assert_not(frame_rx_partial(&rx));
}

Test(frame, partial_body_is_assembled)
{
	size_t n = put_frame(buf, 30, 0x22);

	cr_assert_eq(feed(10), FRAME_MORE);
	cr_assert_eq(pos, buf + 10);
	expect_frame(n, 30, 0x22, true);
}

Test(frame, frame_spanning_three_buffers_then_next_in_place)
{
	size_t n = put_frame(buf, 300, 0x33);
	size_t n2 = n + put_frame(buf + n, 9, 0x44);

	cr_assert_eq(feed(100), FRAME_MORE);
	cr_assert_eq(feed(200), FRAME_MORE);
	/* The third chunk ends the big frame and holds the whole next one. */
	expect_frame(n2, 300, 0x33, true);
	expect_frame(n2, 9, 0x44, false);
}

Test(frame, one_byte_at_a_time)
{
	size_t n = 0, i;
	int got = 0;

	n += put_frame(buf + n, 8, 1);
	n += put_frame(buf + n, 40, 2);
	n += put_frame(buf + n, 17, 3);
	for (i = 0; i < n; i++) {
		enum frame_result r = feed(i + 1);

		if (r == FRAME_READY) {
			got++;
			expect_body(got == 1 ? 8 : got == 2 ? 40 : 17, (uint8_t)got);
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
		memset(buf, 0, 16);
		pos = buf;
		put_size(buf, bad[i]);
		frame_rx_init(&rx, MAX_BYTES);
		cr_assert_eq(feed(16), FRAME_ERR_SIZE, "size %d", bad[i]);
		frame_rx_reset(&rx);
	}
}

Test(frame, oversize_with_split_prefix)
{
	put_size(buf, (int32_t)MAX_BYTES + 1);
	cr_assert_eq(feed(3), FRAME_MORE);
	cr_assert_eq(feed(4), FRAME_ERR_SIZE);
}

Test(frame, reset_drops_partial_assembly)
{
	put_frame(buf, 100, 0x55);
	cr_assert_eq(feed(50), FRAME_MORE);
	cr_assert(frame_rx_partial(&rx));
	frame_rx_reset(&rx);    /* ASan would flag the assembly buffer if leaked */
	cr_assert_not(frame_rx_partial(&rx));
}
