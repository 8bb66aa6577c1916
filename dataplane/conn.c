/* SPDX-License-Identifier: Apache-2.0 */
/* The per-connection in-order reply queue: requests get increasing seqs at
 * dispatch, replies may complete in any order, and only the contiguous
 * completed prefix is ever handed to the sender. No I/O here, no locks; the
 * only memory touched is the conn's own slots and the replies they own. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	conn->pipe_rd = -1;
	conn->pipe_wr = -1;
	conn->splice_fd = -1;
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
	conn->eof = false;
	conn->send_busy = false;
	conn->recv = CONN_RECV_IDLE;
	conn->tx_off = 0;
	conn->tx_queued = 0;
	conn->rx_head = CONN_BUF_NONE;
	conn->rx_tail = CONN_BUF_NONE;
	conn->rx_off = 0;
	conn->stash_len = 0;
	conn->stash_off = 0;
	conn->pipe_bytes = 0;
	conn->splice_fd = -1;
	conn->splice_left = 0;
	conn->mute_until_ns = 0;
	conn->sasl_flags = 0;
	conn->auth_expire_ns = 0;
}

/* @thread dataplane */
void
conn_reset(struct conn *conn, conn_pieces_fn *release, void *arg)
{
	uint32_t seq;

	for (seq = conn->seq_head; seq != conn->seq_next; seq++) {
		struct conn_slot *slot = &conn->slots[seq & conn->slot_mask];

		free(slot->data);
		if (slot->piece_count > 0)
			release(arg, slot->pieces, slot->piece_count);
		memset(slot, 0, sizeof(*slot));
	}
	free(conn->stash);
	conn->stash = NULL;
	conn->stash_len = 0;
	conn->stash_off = 0;
	free(conn->held);
	conn->held = NULL;
	conn->held_len = 0;
	if (conn->pipe_rd >= 0) {
		close(conn->pipe_rd);
		close(conn->pipe_wr);
	}
	conn->pipe_rd = -1;
	conn->pipe_wr = -1;
	conn->pipe_bytes = 0;
	conn->splice_fd = -1;
	conn->splice_left = 0;
	conn->seq_head = conn->seq_next;
	conn->tx_off = 0;
	conn->tx_queued = 0;
	conn->mem_bytes = 0;
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
	slot->piece_count = 0;
	slot->pieces = NULL;
	slot->held = 0;
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
conn_slot_done(struct conn *conn, uint32_t seq, uint8_t *data, uint32_t len,
	       struct kp_piece *pieces, uint32_t piece_count)
{
	struct conn_slot *slot = &conn->slots[seq & conn->slot_mask];

	ASSERT(conn_slot_pending(conn, seq));
	ASSERT_HOT(data != NULL || len == 0);
	ASSERT_HOT(conn->mem_bytes >= slot->held);
	conn->mem_bytes = conn->mem_bytes - slot->held + len;
	slot->held = 0;
	slot->data = data;
	slot->len = len;
	slot->pieces = pieces;
	slot->piece_count = piece_count;
	slot->state = CONN_SLOT_DONE;
}

/* @thread dataplane */
void
conn_slot_hold(struct conn *conn, uint32_t seq, uint64_t bytes)
{
	struct conn_slot *slot = &conn->slots[seq & conn->slot_mask];

	ASSERT(conn_slot_pending(conn, seq));
	slot->held += bytes;
	conn->mem_bytes += bytes;
}

/* Bytes a reply puts on the wire: its data plus its file regions. */
static uint64_t
conn_slot_wire_bytes(const struct conn_slot *slot)
{
	uint64_t n = slot->len;

	for (uint32_t i = 0; i < slot->piece_count; i++)
		n += slot->pieces[i].len;
	return n;
}

/* Locate wire offset off of a reply: a memory run (*mem, *mem_len) or,
 * with *piece set, a file region starting *piece_off bytes into it. */
static void
conn_slot_seek(const struct conn_slot *slot, uint64_t off, const uint8_t **mem,
	       uint32_t *mem_len, const struct kp_piece **piece, uint32_t *piece_off)
{
	uint32_t data_at = 0;  /* data bytes before the current run */

	*piece = NULL;
	for (uint32_t i = 0; i <= slot->piece_count; i++) {
		uint32_t run_end = i < slot->piece_count ? slot->pieces[i].at : slot->len;
		uint32_t run = run_end - data_at;

		if (off < run) {
			*mem = slot->data + data_at + off;
			*mem_len = run - (uint32_t)off;
			return;
		}
		off -= run;
		data_at = run_end;
		if (i < slot->piece_count && off < slot->pieces[i].len) {
			*piece = &slot->pieces[i];
			*piece_off = (uint32_t)off;
			return;
		}
		if (i < slot->piece_count)
			off -= slot->pieces[i].len;
	}
	*mem = NULL;
	*mem_len = 0;
}

/* @thread dataplane */
void
conn_tx_prepare(const struct conn *conn, struct iovec *iov, uint32_t iov_max,
		struct conn_tx *tx)
{
	uint32_t seq = conn->seq_head;
	uint64_t off = conn->tx_off + conn->tx_queued;

	tx->iov_count = 0;
	tx->file_fd = -1;
	while (seq != conn->seq_next && tx->iov_count < iov_max) {
		const struct conn_slot *slot = &conn->slots[seq & conn->slot_mask];
		const struct kp_piece *piece;
		const uint8_t *mem;
		uint32_t mem_len, piece_off;
		uint64_t wire;

		if (slot->state != CONN_SLOT_DONE)
			break;
		wire = conn_slot_wire_bytes(slot);
		if (off >= wire) {      /* empty, or handed to the transport already */
			off -= wire;
			seq++;
			continue;
		}
		conn_slot_seek(slot, off, &mem, &mem_len, &piece, &piece_off);
		if (piece != NULL) {
			if (tx->iov_count == 0) {       /* the head is a file region */
				tx->file_fd = piece->fd;
				tx->file_pos = piece->pos + piece_off;
				tx->file_len = piece->len - piece_off;
			}
			return;
		}
		if (mem_len > 0) {
			iov[tx->iov_count].iov_base = (void *)(uintptr_t)mem;
			iov[tx->iov_count].iov_len = mem_len;
			tx->iov_count++;
			off += mem_len;
			continue;               /* a piece may follow in this reply */
		}
		off = 0;
		seq++;
	}
}

/* @thread dataplane */
uint32_t
conn_tx_done(struct conn *conn, uint32_t bytes, conn_pieces_fn *release, void *arg)
{
	uint32_t released = 0;

	if (conn->tx_queued > 0) {      /* dpdk: bytes were acked */
		ASSERT(bytes <= conn->tx_queued);
		conn->tx_queued -= bytes;
	}
	while (conn->seq_head != conn->seq_next) {
		struct conn_slot *slot = &conn->slots[conn->seq_head & conn->slot_mask];
		uint32_t left;

		if (slot->state != CONN_SLOT_DONE)
			break;
		left = (uint32_t)(conn_slot_wire_bytes(slot) - conn->tx_off);
		if (left > bytes) {
			conn->tx_off += bytes;
			bytes = 0;
			break;
		}
		bytes -= left;
		ASSERT_HOT(conn->mem_bytes >= slot->len);
		conn->mem_bytes -= slot->len;
		free(slot->data);
		if (slot->piece_count > 0)
			release(arg, slot->pieces, slot->piece_count);
		memset(slot, 0, sizeof(*slot));
		conn->tx_off = 0;
		conn->seq_head++;
		released++;
	}
	ASSERT(bytes == 0);     /* the kernel never reports more than was queued */
	return released;
}
