/* SPDX-License-Identifier: Apache-2.0 */
/* TCP output: builds every TCP frame (header block + payload slices that
 * reference the send queue), checksums in software or leaves them to the
 * NIC, and decides what a connection may send now: peer window and cwnd,
 * sender SWS avoidance without Nagle, PSH at the end of a burst, FIN after
 * the queued data, TSO frames, the advertised window with receiver SWS
 * avoidance. Congestion state changes live in tcp_in.c and tcp_timer.c. */
#include "dataplane/utcp/utcp_int.h"

#define TCPOPT_EOL 0u
#define TCPOPT_NOP 1u
#define TCPOPT_MSS 2u
#define TCPOPT_WS 3u

static void
tcp_out_peer(const struct tcp_conn *conn, struct peer *peer)
{
	peer->mac = conn->peer_mac;
	peer->ip = conn->peer_ip;
	peer->port = conn->peer_port;
	peer->lport = conn->lport;
}

/* One TCP frame: headers, options, payload slices; checksums per offloads. */
static bool
tcp_out_frame(struct utcp *s, const struct peer *peer, uint32_t seq, uint32_t ack,
	      uint8_t flags, uint16_t wnd, const uint8_t *opt, uint32_t opt_len,
	      const struct utcp_slice *slices, uint32_t slice_count, uint32_t pay_len,
	      uint16_t tso_segsz)
{
	uint8_t hdr[HDR_BUF_LEN];
	struct utcp_tx_meta meta = { 0 };
	uint32_t tcp_hlen = TCP_HDR_LEN + opt_len;
	uint32_t off;
	uint8_t *th;
	uint16_t c;

	ASSERT_HOT(opt_len <= TCP_OPT_MAX && opt_len % 4 == 0);
	off = ipv4_build(s, hdr, peer->mac, peer->ip, IPPROTO_TCP_, tcp_hlen + pay_len, &meta);
	th = hdr + off;
	ASSERT_HOT(peer->lport != 0);
	be_write16(th, peer->lport);
	be_write16(th + 2, peer->port);
	be_write32(th + 4, seq);
	be_write32(th + 8, ack);
	th[12] = (uint8_t)((tcp_hlen / 4) << 4);
	th[13] = flags;
	be_write16(th + 14, wnd);
	be_write16(th + 16, 0);
	be_write16(th + 18, 0);
	if (opt_len > 0)
		memcpy(th + TCP_HDR_LEN, opt, opt_len);
	meta.l4_len = (uint16_t)tcp_hlen;
	meta.tso_segsz = tso_segsz;
	if (s->cfg.tx_offloads & UTCP_TX_TCP_CSUM) {
		/* What DPDK wants: the pseudo-header sum, without the length under TSO. */
		meta.offloads |= UTCP_TX_TCP_CSUM;
		c = csum_fold16(csum_pseudo(s->cfg.ipv4, peer->ip, IPPROTO_TCP_,
					    tso_segsz ? 0 : tcp_hlen + pay_len));
	} else {
		uint32_t sum = csum_pseudo(s->cfg.ipv4, peer->ip, IPPROTO_TCP_, tcp_hlen + pay_len);

		sum = utcp_csum_partial(th, tcp_hlen, sum);
		sum = csum_add_slices(sum, tcp_hlen, slices, slice_count);
		c = utcp_csum_fold(sum);
	}
	memcpy(th + 16, &c, 2);
	if (!utcp_xmit(s, hdr, off + tcp_hlen, slices, slice_count, &meta))
		return false;
	s->stats.segs_out++;
	if (flags & TCP_RST)
		s->stats.rst_out++;
	return true;
}

bool
tcp_out_ctl(struct utcp *s, const struct peer *peer, uint32_t seq, uint32_t ack,
	    uint8_t flags, uint16_t wnd)
{
	return tcp_out_frame(s, peer, seq, ack, flags, wnd, NULL, 0, NULL, 0, 0, 0);
}

uint32_t
tcp_out_wnd_room(const struct utcp *s, const struct tcp_conn *conn)
{
	uint32_t room = s->cfg.rcv_window > conn->rcv_held ? s->cfg.rcv_window - conn->rcv_held : 0;

	return MIN(room, 65535u << conn->rcv_wscale);
}

/* The window field for a segment now. The right edge moves only by at
 * least min(rcv_window / 2, MSS) (receiver SWS avoidance, RFC 9293
 * 3.8.6.2.2) and never left; scaling rounds up so it cannot shrink. */
uint16_t
tcp_out_wnd(struct utcp *s, struct tcp_conn *conn)
{
	uint32_t right = conn->rcv_nxt + tcp_out_wnd_room(s, conn);
	uint32_t step = MIN(s->cfg.rcv_window / 2, s->mss_local);
	uint32_t wnd, field, unit = 1u << conn->rcv_wscale;

	if (seq_geq(right, conn->rcv_adv + step))
		conn->rcv_adv = right;
	if (seq_lt(conn->rcv_adv, conn->rcv_nxt))
		conn->rcv_adv = conn->rcv_nxt;
	wnd = conn->rcv_adv - conn->rcv_nxt;
	field = (uint32_t)(((uint64_t)wnd + unit - 1) >> conn->rcv_wscale);
	if (field > 65535u)
		field = 65535u;
	conn->rcv_adv = conn->rcv_nxt + (field << conn->rcv_wscale);
	return (uint16_t)field;
}

void
tcp_out_ack(struct utcp *s, struct tcp_conn *conn)
{
	struct peer peer;

	tcp_out_peer(conn, &peer);
	if (tcp_out_ctl(s, &peer, conn->snd_nxt, conn->rcv_nxt, TCP_ACK, tcp_out_wnd(s, conn))) {
		conn->ack_pending = false;
		conn->ack_now = false;
	}
}

void
tcp_out_rst_conn(struct utcp *s, struct tcp_conn *conn)
{
	struct peer peer;

	tcp_out_peer(conn, &peer);
	tcp_out_ctl(s, &peer, conn->snd_nxt, conn->rcv_nxt, TCP_RST | TCP_ACK, 0);
}

/* SYN-ACK: MSS, and WS only when the SYN had it; the SYN window unscaled.
 * Every field comes from the conn, so a retransmission is identical. */
void
tcp_out_synack(struct utcp *s, struct tcp_conn *conn)
{
	uint8_t opt[8];
	uint32_t opt_len = 4;
	struct peer peer;

	opt[0] = TCPOPT_MSS;
	opt[1] = 4;
	be_write16(opt + 2, (uint16_t)s->mss_local);
	if (conn->syn_opts & 1u) {
		opt[4] = TCPOPT_NOP;
		opt[5] = TCPOPT_WS;
		opt[6] = 3;
		opt[7] = conn->rcv_wscale;
		opt_len = 8;
	}
	tcp_out_peer(conn, &peer);
	tcp_out_frame(s, &peer, conn->iss, conn->rcv_nxt, TCP_SYN | TCP_ACK,
		      (uint16_t)MIN(s->cfg.rcv_window, 65535u), opt, opt_len, NULL, 0, 0, 0);
}

/* Slices for send-queue bytes [seq, seq + len): up to UTCP_TX_SLICES_MAX
 * of them, so fewer bytes may come back. */
static uint32_t
tcp_out_slices(const struct utcp *s, const struct tcp_conn *conn, uint32_t seq, uint32_t len,
	       struct utcp_slice *slices, uint32_t *slice_count)
{
	const struct sq_ent *sq = conn_sq(s, conn);
	uint32_t qmax = s->cfg.snd_queue_max;
	uint32_t off = conn->sq_head_off + (seq - seq_max(conn->snd_una, conn->iss + 1));
	uint32_t i = conn->sq_head, left = conn->sq_count, got = 0, n = 0;

	while (left > 0 && off >= sq[i].len) {
		off -= sq[i].len;
		i = i + 1 == qmax ? 0 : i + 1;
		left--;
	}
	while (left > 0 && got < len && n < UTCP_TX_SLICES_MAX) {
		uint32_t take = MIN(sq[i].len - off, len - got);

		slices[n].base = sq[i].base + off;
		slices[n].len = take;
		slices[n].ref = sq[i].ref;
		n++;
		got += take;
		off = 0;
		i = i + 1 == qmax ? 0 : i + 1;
		left--;
	}
	*slice_count = n;
	return got;
}

/* Send data [seq, seq + len) (and the FIN after it when fin and it ends at
 * snd_end). Returns the payload bytes sent, 0 when the frame was dropped. */
static uint32_t
tcp_out_data(struct utcp *s, struct tcp_conn *conn, uint32_t seq, uint32_t len, bool fin,
	     bool *fin_sent)
{
	struct utcp_slice slices[UTCP_TX_SLICES_MAX];
	uint32_t slice_count, got;
	uint8_t flags = TCP_ACK;
	struct peer peer;
	uint16_t segsz = 0;

	got = tcp_out_slices(s, conn, seq, len, slices, &slice_count);
	ASSERT_HOT(got > 0);
	if (seq + got == conn->snd_end) {
		flags |= TCP_PSH;
		if (fin)
			flags |= TCP_FIN;
	}
	if (got > conn->mss) {
		ASSERT_HOT(s->tso_payload_max > 0);
		segsz = conn->mss;
	}
	tcp_out_peer(conn, &peer);
	if (!tcp_out_frame(s, &peer, seq, conn->rcv_nxt, flags, tcp_out_wnd(s, conn), NULL, 0,
			   slices, slice_count, got, segsz))
		return 0;
	conn->ack_pending = false;
	conn->ack_now = false;
	s->stats.bytes_out += got;
	*fin_sent = (flags & TCP_FIN) != 0;
	return got;
}

/* After sending [seq, end): snd_nxt/snd_max, Karn-safe RTT timing, RTO. */
static void
tcp_out_sent(struct utcp *s, struct tcp_conn *conn, uint32_t seq, uint32_t end)
{
	if (seq_lt(seq, conn->snd_max)) {
		s->stats.retransmits++;
	} else if (!conn->rtt_timing) {
		conn->rtt_timing = true;
		conn->rtt_seq = end;
		conn->rtt_start_ns = s->now;
	}
	conn->snd_nxt = end;
	conn->snd_max = seq_max(conn->snd_max, end);
	if (conn->timer_kind != TIMER_RTO)
		tcp_timer_rto_arm(s, conn);
}

static bool
tcp_out_fin(struct utcp *s, struct tcp_conn *conn)
{
	struct peer peer;
	uint32_t seq = conn->snd_end;

	tcp_out_peer(conn, &peer);
	if (!tcp_out_ctl(s, &peer, seq, conn->rcv_nxt, TCP_FIN | TCP_ACK, tcp_out_wnd(s, conn)))
		return false;
	conn->ack_pending = false;
	conn->ack_now = false;
	tcp_out_sent(s, conn, seq, seq + 1);
	return true;
}

/* Data (and FIN) as the windows allow. False when an xmit failed. */
static bool
tcp_out_send(struct utcp *s, struct tcp_conn *conn)
{
	uint32_t wnd = MIN(conn->snd_wnd, conn->cwnd);
	uint32_t seg_max = conn->mss;

	if (s->tso_payload_max > conn->mss)
		seg_max = s->tso_payload_max / conn->mss * conn->mss;
	for (;;) {
		uint32_t nxt = conn->snd_nxt, flight = nxt - conn->snd_una;
		uint32_t data_left = seq_lt(nxt, conn->snd_end) ? conn->snd_end - nxt : 0;
		uint32_t usable = wnd > flight ? wnd - flight : 0;
		uint32_t len, got;
		bool fin_sent = false;

		if (data_left == 0) {
			if (conn->fin_queued && nxt == conn->snd_end)
				return tcp_out_fin(s, conn);
			return true;
		}
		if (usable == 0) {
			if (flight == 0 && conn->timer_kind != TIMER_PERSIST) {
				conn->persist_since_ns = s->now;
				tcp_timer_conn(s, conn, TIMER_PERSIST,
					       (uint64_t)conn->rto_ms * 1000000u);
			}
			return true;
		}
		len = MIN(MIN(data_left, usable), seg_max);
		/* Sender SWS avoidance (no Nagle): a runt only as the last
		 * bytes, or when nothing is in flight to bring an ACK. */
		if (len < conn->mss && len < data_left && flight > 0 &&
		    len < conn->snd_wnd_max / 2)
			return true;
		got = tcp_out_data(s, conn, nxt, len, conn->fin_queued, &fin_sent);
		if (got == 0)
			return false;
		tcp_out_sent(s, conn, nxt, nxt + got + (fin_sent ? 1u : 0u));
	}
}

/* End of turn for one conn: what may be sent, then the ACK if still owed. */
void
tcp_out_flush(struct utcp *s, struct tcp_conn *conn)
{
	bool ok = true;

	switch (conn->state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
	case TCP_FIN_WAIT_1:
	case TCP_LAST_ACK:
	case TCP_CLOSING:
		ok = tcp_out_send(s, conn);
		break;
	default:
		break;
	}
	if (conn->state == TCP_SYN_RCVD)
		conn->ack_pending = false;      /* the SYN-ACK timer answers */
	if (conn->ack_pending)
		tcp_out_ack(s, conn);
	if (!ok || conn->ack_pending)
		tcp_conn_dirty(s, conn);        /* the NIC was full: next turn */
}

/* Fast retransmit / partial ACK: the first unacked segment, once. */
void
tcp_out_retransmit_una(struct utcp *s, struct tcp_conn *conn)
{
	uint32_t una = conn->snd_una, sent_end = seq_min(conn->snd_max, conn->snd_end);
	uint32_t data_left = seq_lt(una, sent_end) ? sent_end - una : 0;
	bool fin_sent = false;

	s->stats.retransmits++;
	if (data_left == 0) {
		struct peer peer;

		if (!conn->fin_queued || !seq_gt(conn->snd_max, conn->snd_end))
			return;         /* only what was sent is resent */
		tcp_out_peer(conn, &peer);
		tcp_out_ctl(s, &peer, conn->snd_end, conn->rcv_nxt, TCP_FIN | TCP_ACK,
			    tcp_out_wnd(s, conn));
		return;
	}
	(void)tcp_out_data(s, conn, una, MIN(data_left, (uint32_t)conn->mss),
			   conn->fin_queued && seq_gt(conn->snd_max, conn->snd_end), &fin_sent);
}

/* Zero-window probe: one byte past the window (RFC 9293 3.8.6.1), without
 * moving snd_nxt; snd_max covers it so an ACK of it is acceptable. */
void
tcp_out_probe(struct utcp *s, struct tcp_conn *conn)
{
	uint32_t nxt = conn->snd_nxt;
	bool fin_sent = false;

	s->stats.zero_window_probes++;
	if (seq_lt(nxt, conn->snd_end)) {
		if (tcp_out_data(s, conn, nxt, 1, false, &fin_sent) > 0)
			conn->snd_max = seq_max(conn->snd_max, nxt + 1);
		return;
	}
	tcp_out_ack(s, conn);
}
