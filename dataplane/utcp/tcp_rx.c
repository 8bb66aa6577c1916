/* SPDX-License-Identifier: Apache-2.0 */
/* TCP receive: payload of an acceptable segment, trimmed to what is new
 * and to the window, goes up in place through ops.recv() (the packet with
 * it), or into the bounded out-of-order queue that holds packet handles
 * until the gap fills; then the peer's FIN (ops.eof, CLOSE_WAIT, CLOSING or
 * TIME_WAIT). Out-of-order data and gap fills are ACKed at once. */
#include "dataplane/utcp/utcp_int.h"

void
tcp_rx_ooo_flush(struct utcp *s, struct tcp_conn *conn)
{
	struct ooo_ent *ooo = conn_ooo(s, conn);

	for (uint32_t i = 0; i < conn->ooo_count; i++)
		utcp_pkt_free(s, ooo[i].pkt);
	conn->ooo_count = 0;
}

/* Keep [seq, seq + len) (+FIN) sorted by seq; a full queue or a segment
 * already held drops it. */
static void
tcp_rx_ooo_insert(struct utcp *s, struct tcp_conn *conn, uint32_t seq, const uint8_t *data,
		  uint32_t len, bool fin, void *pkt)
{
	struct ooo_ent *ooo = conn_ooo(s, conn);
	uint32_t pos = conn->ooo_count;

	for (uint32_t i = 0; i < conn->ooo_count; i++) {
		if (seq_leq(ooo[i].seq, seq) &&
		    seq_geq(ooo[i].seq + ooo[i].len, seq + len) && (ooo[i].fin || !fin)) {
			s->stats.ooo_dropped++;         /* nothing new in it */
			utcp_pkt_free(s, pkt);
			return;
		}
		if (pos == conn->ooo_count && seq_lt(seq, ooo[i].seq))
			pos = i;
	}
	if (conn->ooo_count >= s->cfg.ooo_max) {
		s->stats.ooo_dropped++;
		utcp_pkt_free(s, pkt);
		return;
	}
	memmove(&ooo[pos + 1], &ooo[pos], (conn->ooo_count - pos) * sizeof(*ooo));
	ooo[pos].pkt = pkt;
	ooo[pos].data = data;
	ooo[pos].seq = seq;
	ooo[pos].len = len;
	ooo[pos].fin = fin;
	conn->ooo_count++;
	s->stats.ooo_queued++;
}

/* Hand in-order bytes up. False when the application refused them (pkt
 * freed here) or the conn went away inside recv(); *gone tells which. */
static bool
tcp_rx_deliver(struct utcp *s, struct tcp_conn **connp, const uint8_t *data, uint32_t len,
	       void *pkt, bool *gone)
{
	struct tcp_conn *conn = *connp;
	utcp_conn_t handle = tcp_conn_handle(s, conn);
	bool taken;

	/* Held before the call: recv() may utcp_recv_done() at once. */
	conn->rcv_held += len;
	taken = s->cfg.ops.recv(s->cfg.ops_arg, conn->app_id, data, len, pkt);
	conn = tcp_conn_get(s, handle);
	*connp = conn;
	*gone = conn == NULL;
	if (!taken) {
		utcp_pkt_free(s, pkt);
		if (conn != NULL)
			conn->rcv_held -= len;
		return false;
	}
	if (conn == NULL)
		return false;
	conn->rcv_nxt += len;
	s->stats.bytes_in += len;
	return true;
}

/* The peer's FIN at rcv_nxt. */
static void
tcp_rx_fin(struct utcp *s, struct tcp_conn *conn)
{
	utcp_conn_t handle = tcp_conn_handle(s, conn);
	uint8_t state = conn->state;

	conn->rcv_nxt++;
	tcp_rx_ooo_flush(s, conn);      /* nothing can follow a FIN */
	if (state == TCP_ESTABLISHED)
		conn->state = TCP_CLOSE_WAIT;
	else if (state == TCP_FIN_WAIT_1)
		conn->state = TCP_CLOSING;
	conn->ack_pending = true;
	tcp_conn_dirty(s, conn);
	s->cfg.ops.eof(s->cfg.ops_arg, conn->app_id);
	conn = tcp_conn_get(s, handle);
	if (conn == NULL || state != TCP_FIN_WAIT_2)
		return;
	tcp_out_ack(s, conn);
	tcp_conn_time_wait(s, conn);
}

/* Deliver out-of-order segments the in-order data has reached. */
static void
tcp_rx_ooo_drain(struct utcp *s, struct tcp_conn *conn)
{
	struct ooo_ent *ooo = conn_ooo(s, conn);

	while (conn->ooo_count > 0 && seq_leq(ooo[0].seq, conn->rcv_nxt)) {
		struct ooo_ent e = ooo[0];
		uint32_t skip = conn->rcv_nxt - e.seq;
		bool gone;

		conn->ooo_count--;
		memmove(&ooo[0], &ooo[1], conn->ooo_count * sizeof(*ooo));
		if (skip > e.len || (skip == e.len && !e.fin)) {
			utcp_pkt_free(s, e.pkt);        /* all of it arrived since */
			continue;
		}
		if (skip < e.len) {
			if (!tcp_rx_deliver(s, &conn, e.data + skip, e.len - skip, e.pkt, &gone)) {
				if (gone)
					return;
				break;
			}
			ooo = conn_ooo(s, conn);
		} else {
			utcp_pkt_free(s, e.pkt);
		}
		if (e.fin) {
			tcp_rx_fin(s, conn);
			return;
		}
	}
	conn->ack_now = true;
}

/* Payload and FIN of an acceptable segment in ESTABLISHED, FIN_WAIT_1 or
 * FIN_WAIT_2. Takes pkt. */
void
tcp_rx_data(struct utcp *s, struct tcp_conn *conn, const struct tcp_seg *seg, void *pkt)
{
	uint32_t seq = seg->seq, len = seg->len;
	const uint8_t *data = seg->data;
	bool fin = (seg->flags & TCP_FIN) != 0, gone;
	utcp_conn_t handle = tcp_conn_handle(s, conn);

	if (seq_lt(seq, conn->rcv_nxt)) {
		uint32_t skip = conn->rcv_nxt - seq;    /* overlap: only new bytes go up */

		if (skip >= len) {
			fin = fin && skip == len;
			len = 0;
		} else {
			data += skip;
			len -= skip;
		}
		seq = conn->rcv_nxt;
	}
	if (seq_gt(seq + len, conn->rcv_adv)) {
		len = seq_gt(conn->rcv_adv, seq) ? conn->rcv_adv - seq : 0;
		fin = false;
	}
	if (len == 0 && !fin) {
		conn->ack_pending = true;
		tcp_conn_dirty(s, conn);
		utcp_pkt_free(s, pkt);
		return;
	}
	if (seq != conn->rcv_nxt) {
		tcp_rx_ooo_insert(s, conn, seq, data, len, fin, pkt);
		tcp_out_ack(s, conn);           /* a dup ACK at once */
		return;
	}
	if (len > 0) {
		if (!tcp_rx_deliver(s, &conn, data, len, pkt, &gone))
			return;         /* refused: no ACK, the peer resends */
	} else {
		utcp_pkt_free(s, pkt);
	}
	conn->ack_pending = true;
	tcp_conn_dirty(s, conn);
	if (fin) {
		tcp_rx_fin(s, conn);
		return;
	}
	if (conn->ooo_count > 0) {
		tcp_rx_ooo_drain(s, conn);
		conn = tcp_conn_get(s, handle);
		if (conn != NULL && conn->ack_now)
			tcp_out_ack(s, conn);
	}
}
