/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka frame splitter: 4-byte big-endian size prefix, then the request.
 * Owns the per-connection assembly state; knows nothing about sockets, rings
 * or dispatch. Internal to dataplane/: must not be included from outside. */
#ifndef DATAPLANE_FRAME_H
#define DATAPLANE_FRAME_H

#include <stdbool.h>
#include <stdint.h>

/* Smallest request: api_key (2) + api_version (2) + correlation_id (4). */
#define FRAME_BYTES_MIN 8u
#define FRAME_PREFIX_BYTES 4u

enum frame_result {
	FRAME_MORE = 0,         /* the chunk is used up; the frame needs more bytes */
	FRAME_READY,            /* *out holds one complete frame */
	FRAME_ERR_SIZE,         /* size < FRAME_BYTES_MIN, > bytes_max or negative */
	FRAME_ERR_NOMEM,        /* no memory for the assembly buffer */
};

/* Assembly state for one connection's byte stream. A frame that lies entirely
 * inside one received chunk is handed out in place (zero copy); a frame whose
 * body spans chunks is copied into a buffer malloc()ed at exactly its size,
 * which the size check bounds by bytes_max before allocating. */
struct frame_rx {
	uint32_t bytes_max;                     /* socket.request.max.bytes */
	uint32_t prefix_have;                   /* 1..3 while the prefix is split */
	uint8_t prefix[FRAME_PREFIX_BYTES];
	uint8_t *body;                          /* assembly buffer, or NULL */
	uint32_t body_len;
	uint32_t body_have;
};

/* One complete frame: the bytes after the size prefix. */
struct frame {
	const uint8_t *data;
	uint32_t len;
	uint8_t *owned;         /* assembly buffer to free, NULL when in place */
};

void frame_rx_init(struct frame_rx *rx, uint32_t bytes_max);
/* Drop a partly assembled frame (connection closed). */
void frame_rx_reset(struct frame_rx *rx);
/* True when a size read from the wire is acceptable. */
bool frame_size_ok(int32_t size, uint32_t bytes_max);
/* Consume bytes from [*pos, end) and advance *pos. Returns FRAME_READY with
 * *out set as soon as one frame is complete (call again for the next one),
 * FRAME_MORE once *pos == end without a complete frame, or an error after
 * which the connection must be closed. An in-place frame points into the
 * chunk, which must stay valid until the frame is released.
 * @thread dataplane */
enum frame_result frame_next(struct frame_rx *rx, const uint8_t **pos, const uint8_t *end,
			     struct frame *out);
/* Release a frame returned by frame_next() once it has been dispatched. */
void frame_release(struct frame *frame);
/* True while a frame is partly received (prefix or body). */
bool frame_rx_partial(const struct frame_rx *rx);

/* Bytes of a partly assembled body still missing (0 when none). The caller
 * may receive them straight into frame_rx_tail() and report them with
 * frame_rx_received(): a large frame then lands in its final buffer instead
 * of being copied chunk by chunk. frame_next() with an empty range hands the
 * frame out once nothing is missing. */
static inline uint32_t
frame_rx_missing(const struct frame_rx *rx)
{
	return rx->body != NULL ? rx->body_len - rx->body_have : 0;
}

static inline uint8_t *
frame_rx_tail(struct frame_rx *rx)
{
	return rx->body + rx->body_have;
}

static inline void
frame_rx_received(struct frame_rx *rx, uint32_t bytes)
{
	rx->body_have += bytes;
}

/* A body assembled in full, waiting for frame_next() to hand it out. */
static inline bool
frame_rx_complete(const struct frame_rx *rx)
{
	return rx->body != NULL && rx->body_have == rx->body_len;
}

#endif
