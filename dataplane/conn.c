/* SPDX-License-Identifier: Apache-2.0 */
/* The per-connection in-order reply queue: requests get increasing seqs at
 * dispatch, replies may complete in any order, and only the contiguous
 * completed prefix is ever handed to the sender. No I/O here, no locks; the
 * only memory touched is the conn's own slots and the replies they own. */
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "dataplane/conn.h"

/* @thread any */
uint32_t
conn_slot_count(uint32_t inflight_max)
{
	uint32_t n = 1;

	ASSERT(inflight_max > 0);
	ASSERT(inflight_max <= (1u << 20));
	while (n < inflight_max)
		n <<= 1;
	return n;
}

/* @thread control (startup) */
void
conn_init(struct conn *conn, uint32_t id, struct conn_slot *slots,
	  uint32_t inflight_max, uint32_t request_bytes_max)
{
	uint32_t slot_count = conn_slot_count(inflight_max);

	memset(conn, 0, sizeof(*conn));
	memset(slots, 0, slot_count * sizeof(*slots));
	conn->fd = -1;
	conn->id = id;
	conn->slots = slots;
	conn->slot_mask = slot_count - 1;
	conn->inflight_max = inflight_max;
	conn->rx_head = CONN_BUF_NONE;
	conn->rx_tail = CONN_BUF_NONE;
	frame_rx_init(&conn->frx, request_bytes_max);
}

/* @thread dataplane */
void
conn_open(struct conn *conn, int fd)
{
	ASSERT(conn->fd == -1);
	ASSERT(fd >= 0);
	ASSERT(conn_inflight(conn) == 0);
	conn->fd = fd;
	conn->open = true;
	conn->send_busy = false;
	conn->recv = CONN_RECV_IDLE;
	conn->tx_off = 0;
	conn->rx_head = CONN_BUF_NONE;
	conn->rx_tail = CONN_BUF_NONE;
	conn->rx_off = 0;
}

/* @thread dataplane */
void
conn_reset(struct conn *conn)
{
	uint32_t seq;

	for (seq = conn->seq_head; seq != conn->seq_next; seq++) {
		struct conn_slot *slot = &conn->slots[seq & conn->slot_mask];

		free(slot->data);
		memset(slot, 0, sizeof(*slot));
	}
	conn->seq_head = conn->seq_next;
	conn->tx_off = 0;
	frame_rx_reset(&conn->frx);
	conn->fd = -1;
	conn->open = false;
	conn->send_busy = false;
	conn->recv = CONN_RECV_IDLE;
}

/* @thread dataplane */
uint32_t
conn_slot_open(struct conn *conn)
{
	struct conn_slot *slot = &conn->slots[conn->seq_next & conn->slot_mask];

	ASSERT_HOT(conn_can_dispatch(conn));
	ASSERT_HOT(slot->state == CONN_SLOT_FREE);
	slot->state = CONN_SLOT_PENDING;
	slot->data = NULL;
	slot->len = 0;
	return conn->seq_next++;
}

/* @thread dataplane */
bool
conn_slot_pending(const struct conn *conn, uint32_t seq)
{
	/* Unsigned distance: seqs wrap, and one far ahead or behind is out. */
	if (seq - conn->seq_head >= conn_inflight(conn))
		return false;
	return conn->slots[seq & conn->slot_mask].state == CONN_SLOT_PENDING;
}

/* @thread dataplane */
void
conn_slot_done(struct conn *conn, uint32_t seq, uint8_t *data, uint32_t len)
{
	struct conn_slot *slot = &conn->slots[seq & conn->slot_mask];

	ASSERT(conn_slot_pending(conn, seq));
	ASSERT_HOT(data != NULL || len == 0);
	slot->data = data;
	slot->len = len;
	slot->state = CONN_SLOT_DONE;
}

/* @thread dataplane */
uint32_t
conn_tx_prepare(const struct conn *conn, struct iovec *iov, uint32_t iov_max)
{
	uint32_t seq = conn->seq_head;
	uint32_t off = conn->tx_off;
	uint32_t n = 0;

	while (seq != conn->seq_next && n < iov_max) {
		const struct conn_slot *slot = &conn->slots[seq & conn->slot_mask];

		if (slot->state != CONN_SLOT_DONE)
			break;
		ASSERT_HOT(off <= slot->len);
		if (slot->len > off) {
			iov[n].iov_base = slot->data + off;
			iov[n].iov_len = slot->len - off;
			n++;
		}
		off = 0;
		seq++;
	}
	return n;
}

/* @thread dataplane */
uint32_t
conn_tx_done(struct conn *conn, uint32_t bytes)
{
	uint32_t released = 0;

	while (conn->seq_head != conn->seq_next) {
		struct conn_slot *slot = &conn->slots[conn->seq_head & conn->slot_mask];
		uint32_t left;

		if (slot->state != CONN_SLOT_DONE)
			break;
		left = slot->len - conn->tx_off;
		if (left > bytes) {
			conn->tx_off += bytes;
			bytes = 0;
			break;
		}
		bytes -= left;
		free(slot->data);
		memset(slot, 0, sizeof(*slot));
		conn->tx_off = 0;
		conn->seq_head++;
		released++;
	}
	ASSERT(bytes == 0);     /* the kernel never reports more than was queued */
	return released;
}
