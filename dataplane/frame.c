/* SPDX-License-Identifier: Apache-2.0 */
/* Split a connection's byte stream into size-prefixed Kafka frames. Frames
 * inside one chunk are returned in place; only a frame that spans chunks is
 * copied, into a buffer bounded by bytes_max. Never reads past a chunk and
 * never allocates from a size it has not checked. */
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/be.h"
#include "common/compiler.h"
#include "dataplane/frame.h"

/* @thread any */
void
frame_rx_init(struct frame_rx *rx, uint32_t bytes_max)
{
	ASSERT(rx != NULL);
	ASSERT(bytes_max >= FRAME_BYTES_MIN);
	memset(rx, 0, sizeof(*rx));
	rx->bytes_max = bytes_max;
}

/* @thread dataplane */
void
frame_rx_reset(struct frame_rx *rx)
{
	free(rx->body);
	rx->body = NULL;
	rx->body_len = 0;
	rx->body_have = 0;
	rx->prefix_have = 0;
}

/* @thread any */
bool
frame_size_ok(int32_t size, uint32_t bytes_max)
{
	if (size < (int32_t)FRAME_BYTES_MIN)    /* negative sizes land here too */
		return false;
	return (uint32_t)size <= bytes_max;
}

/* @thread dataplane */
bool
frame_rx_partial(const struct frame_rx *rx)
{
	return rx->prefix_have != 0 || rx->body != NULL;
}

/* The prefix is complete and says size; the body starts at *pos. Hand the
 * frame out in place when the whole body is in this chunk, else start an
 * assembly buffer with what there is. */
static enum frame_result
frame_body_start(struct frame_rx *rx, int32_t size, const uint8_t **pos,
		 const uint8_t *end, struct frame *out)
{
	size_t avail = (size_t)(end - *pos);
	uint32_t len;

	if (!frame_size_ok(size, rx->bytes_max))
		return FRAME_ERR_SIZE;
	len = (uint32_t)size;
	if (avail >= len) {
		out->data = *pos;
		out->len = len;
		out->owned = NULL;
		*pos += len;
		return FRAME_READY;
	}
	rx->body = malloc(len);         /* bounded by bytes_max just above */
	if (rx->body == NULL)
		return FRAME_ERR_NOMEM;
	memcpy(rx->body, *pos, avail);
	rx->body_len = len;
	rx->body_have = (uint32_t)avail;
	*pos = end;
	return FRAME_MORE;
}

/* @thread dataplane */
enum frame_result
frame_next(struct frame_rx *rx, const uint8_t **pos, const uint8_t *end,
	   struct frame *out)
{
	size_t avail;

	ASSERT_HOT(*pos <= end);
	avail = (size_t)(end - *pos);
	if (rx->body != NULL) {
		uint32_t take = (uint32_t)MIN(avail, (size_t)(rx->body_len - rx->body_have));

		memcpy(rx->body + rx->body_have, *pos, take);
		rx->body_have += take;
		*pos += take;
		if (rx->body_have < rx->body_len)
			return FRAME_MORE;
		out->data = rx->body;
		out->len = rx->body_len;
		out->owned = rx->body;  /* ownership moves to the frame */
		rx->body = NULL;
		rx->body_len = 0;
		rx->body_have = 0;
		return FRAME_READY;
	}
	if (rx->prefix_have > 0) {
		size_t want = FRAME_PREFIX_BYTES - rx->prefix_have;
		uint32_t take = (uint32_t)MIN(avail, want);

		memcpy(rx->prefix + rx->prefix_have, *pos, take);
		rx->prefix_have += take;
		*pos += take;
		if (rx->prefix_have < FRAME_PREFIX_BYTES)
			return FRAME_MORE;
		rx->prefix_have = 0;
		return frame_body_start(rx, (int32_t)be_read32(rx->prefix), pos, end, out);
	}
	if (avail < FRAME_PREFIX_BYTES) {
		memcpy(rx->prefix, *pos, avail);
		rx->prefix_have = (uint32_t)avail;
		*pos = end;
		return FRAME_MORE;
	}
	*pos += FRAME_PREFIX_BYTES;
	return frame_body_start(rx, (int32_t)be_read32(*pos - FRAME_PREFIX_BYTES), pos, end, out);
}

/* @thread dataplane */
void
frame_release(struct frame *frame)
{
	free(frame->owned);
	frame->owned = NULL;
	frame->data = NULL;
	frame->len = 0;
}
