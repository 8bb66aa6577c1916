/* SPDX-License-Identifier: Apache-2.0 */
/* TCP input: parse and checksum a segment, find its connection, TIME_WAIT
 * entry or the listener, and walk RFC 9293 3.10.7 for it: passive open
 * (SYN_RCVD, the backlog bound), acceptability, RST and SYN checks with
 * RFC 5961 challenge ACKs, the handshake's ACK, state changes when our FIN
 * is acked. ACK bookkeeping is in tcp_ack.c, payload and FIN in tcp_rx.c.
 * Every path frees or hands on the packet exactly once. */
#include "dataplane/utcp/utcp_int.h"

#define TCPOPT_EOL 0u
#define TCPOPT_NOP 1u
#define TCPOPT_MSS 2u
#define TCPOPT_WS 3u
#define SSTHRESH_INIT (1u << 30)

/* MSS and WS of a SYN; anything else (SACK-permitted, timestamps, TFO) is
 * declined by not echoing it. Malformed options end the walk. */
static void
tcp_in_options(struct tcp_seg *seg, const uint8_t *opt, uint32_t opt_len)
{
	uint32_t i = 0;

	while (i < opt_len) {
		uint8_t kind = opt[i], len;

		if (kind == TCPOPT_EOL)
			return;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= opt_len)
			return;
		len = opt[i + 1];
		if (len < 2 || i + len > opt_len)
			return;
		if (kind == TCPOPT_MSS && len == 4)
			seg->mss = be_read16(opt + i + 2);
		else if (kind == TCPOPT_WS && len == 3)
			seg->ws = (int16_t)MIN(opt[i + 2], TCP_WSCALE_MAX);
		i += len;
	}
}

static bool
tcp_in_parse(struct utcp *s, const struct rx_ctx *rx, struct tcp_seg *seg)
{
	const uint8_t *th = rx->l4;
	uint32_t doff;

	if (unlikely(rx->l4_len < TCP_HDR_LEN)) {
		s->stats.ip_bad++;
		return false;
	}
	doff = (uint32_t)(th[12] >> 4) * 4u;
	if (unlikely(doff < TCP_HDR_LEN || doff > rx->l4_len)) {
		s->stats.ip_bad++;
		return false;
	}
	if (unlikely(rx->rx_flags & UTCP_RX_L4_CSUM_BAD)) {
		s->stats.csum_bad++;
		return false;
	}
	if (!(rx->rx_flags & UTCP_RX_L4_CSUM_GOOD)) {
		uint32_t sum = csum_pseudo(rx->src_ip, rx->dst_ip, IPPROTO_TCP_, rx->l4_len);

		if (unlikely(utcp_csum_fold(utcp_csum_partial(th, rx->l4_len, sum)) != 0)) {
			s->stats.csum_bad++;
			return false;
		}
	}
	seg->sport = be_read16(th);
	seg->dport = be_read16(th + 2);
	seg->seq = be_read32(th + 4);
	seg->ack = be_read32(th + 8);
	seg->flags = th[13] & (TCP_FIN | TCP_SYN | TCP_RST | TCP_PSH | TCP_ACK);
	seg->wnd = be_read16(th + 14);
	seg->data = th + doff;
	seg->len = rx->l4_len - doff;
	seg->mss = 0;
	seg->ws = -1;
	if ((seg->flags & TCP_SYN) && doff > TCP_HDR_LEN)
		tcp_in_options(seg, th + TCP_HDR_LEN, doff - TCP_HDR_LEN);
	return true;
}

/* RFC 9293 3.10.7.1: a segment for no connection gets a RST (rate limited). */
static void
tcp_in_rst_reply(struct utcp *s, const struct rx_ctx *rx, const struct tcp_seg *seg)
{
	struct peer peer = { rx->src_mac, rx->src_ip, seg->sport, seg->dport };
	uint32_t seg_len = seg->len + !!(seg->flags & TCP_SYN) + !!(seg->flags & TCP_FIN);

	if ((seg->flags & TCP_RST) || !utcp_rl_take(&s->rl_rst, rx->now))
		return;
	if (seg->flags & TCP_ACK)
		tcp_out_ctl(s, &peer, seg->ack, 0, TCP_RST, 0);
	else
		tcp_out_ctl(s, &peer, 0, seg->seq + seg_len, TCP_RST | TCP_ACK, 0);
}

void
tcp_in_challenge_ack(struct utcp *s, struct tcp_conn *conn)
{
	if (!utcp_rl_take(&s->rl_challenge, s->now))
		return;
	s->stats.challenge_acks++;
	tcp_out_ack(s, conn);
}

/* LISTEN (RFC 9293 3.10.7.2): a SYN opens SYN_RCVD within the backlog. */
static void
tcp_in_listen(struct utcp *s, const struct rx_ctx *rx, const struct tcp_seg *seg)
{
	struct tcp_conn *conn;
	uint32_t peer_mss;

	if ((seg->flags & (TCP_RST | TCP_ACK)) == TCP_ACK)
		tcp_in_rst_reply(s, rx, seg);
	if ((seg->flags & (TCP_SYN | TCP_RST | TCP_ACK)) != TCP_SYN)
		return;
	if (s->stats.syn_rcvd_open >= s->cfg.syn_backlog_max) {
		s->stats.syn_dropped_backlog++;
		return;
	}
	conn = tcp_conn_alloc(s, rx->src_ip, seg->sport, seg->dport);
	if (conn == NULL) {
		s->stats.syn_dropped_backlog++;
		return;
	}
	s->stats.syn_rcvd_open++;
	conn->state = TCP_SYN_RCVD;
	memcpy(conn->peer_mac, rx->src_mac, 6);
	conn->irs = seg->seq;
	conn->rcv_nxt = seg->seq + 1;
	conn->rcv_adv = conn->rcv_nxt + MIN(s->cfg.rcv_window, 65535u);
	conn->iss = tcp_conn_isn(s, rx->src_ip, seg->sport, seg->dport, rx->now);
	conn->snd_una = conn->iss;
	conn->snd_nxt = conn->iss + 1;
	conn->snd_max = conn->iss + 1;
	conn->snd_end = conn->iss + 1;
	conn->recover = conn->iss;
	peer_mss = seg->mss ? MAX((uint32_t)seg->mss, TCP_MSS_MIN) : TCP_MSS_DEFAULT;
	conn->mss = (uint16_t)MIN(peer_mss, s->mss_local);
	if (seg->ws >= 0) {
		conn->syn_opts = 1;
		conn->snd_wscale = (uint8_t)seg->ws;
		conn->rcv_wscale = (uint8_t)s->rcv_wscale;
	}
	conn->snd_wnd = seg->wnd;       /* a SYN's window is never scaled */
	conn->rto_ms = TCP_RTO_INIT_MS;
	conn->ssthresh = SSTHRESH_INIT;
	conn->rtt_start_ns = rx->now;
	tcp_out_synack(s, conn);
	tcp_timer_conn(s, conn, TIMER_SYNACK, (uint64_t)TCP_SYNACK_RTO_MS * 1000000u);
}

/* A segment on a TIME_WAIT tuple: re-ACK (and restart 2 MSL on a FIN), or
 * accept a new SYN beyond the old receive sequence (RFC 1122 4.2.2.13).
 * RSTs are ignored (RFC 1337). */
static void
tcp_in_time_wait(struct utcp *s, const struct rx_ctx *rx, const struct tcp_seg *seg,
		 uint32_t ti)
{
	struct tw_ent *tw = &s->tw[ti];
	struct peer peer = { tw->peer_mac, tw->peer_ip, tw->peer_port, tw->lport };

	if (seg->flags & TCP_RST)
		return;
	if ((seg->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN && seq_gt(seg->seq, tw->rcv_nxt)) {
		tcp_conn_tw_free(s, ti);
		tcp_in_listen(s, rx, seg);
		return;
	}
	tcp_out_ctl(s, &peer, tw->snd_nxt, tw->rcv_nxt, TCP_ACK, 0);
	if (seg->flags & TCP_FIN)
		tcp_timer_arm(s, s->cfg.conn_max + ti,
			      rx->now + (uint64_t)s->cfg.time_wait_ms * 1000000u);
}

/* RFC 9293 3.10.7.4 first check; a zero window still takes a segment at
 * rcv_nxt for its ACK (its payload is then dropped: *strip). */
static bool
tcp_in_acceptable(const struct tcp_conn *conn, const struct tcp_seg *seg, bool *strip)
{
	uint32_t seg_len = seg->len + !!(seg->flags & TCP_SYN) + !!(seg->flags & TCP_FIN);
	uint32_t wnd = seq_gt(conn->rcv_adv, conn->rcv_nxt) ? conn->rcv_adv - conn->rcv_nxt : 0;
	uint32_t end = conn->rcv_nxt + wnd;

	*strip = false;
	if (seg_len == 0) {
		if (wnd == 0)
			return seg->seq == conn->rcv_nxt;
		return seq_in(seg->seq, conn->rcv_nxt, end);
	}
	if (wnd == 0) {
		*strip = seg->seq == conn->rcv_nxt;
		return *strip;
	}
	return seq_in(seg->seq, conn->rcv_nxt, end) ||
	       seq_in(seg->seq + seg_len - 1, conn->rcv_nxt, end);
}

/* The handshake's ACK: ESTABLISHED, and the application decides. False
 * when the connection is gone (refused). */
static bool
tcp_in_establish(struct utcp *s, struct tcp_conn *conn, const struct tcp_seg *seg)
{
	utcp_conn_t handle = tcp_conn_handle(s, conn);
	uint32_t app_id;

	if (conn->retries == 0)
		tcp_timer_rtt_sample(s, conn, s->now - conn->rtt_start_ns);
	conn->snd_una = seg->ack;
	conn->snd_wnd = seg->wnd << conn->snd_wscale;
	conn->snd_wnd_max = conn->snd_wnd;
	conn->snd_wl1 = seg->seq;
	conn->snd_wl2 = seg->ack;
	conn->cwnd = MIN(TCP_IW_SEGS * conn->mss, MAX(2u * conn->mss, 14600u));
	conn->retries = 0;
	conn->backoff = 0;
	tcp_timer_conn(s, conn, TIMER_NONE, 0);
	conn->state = TCP_ESTABLISHED;
	s->stats.syn_rcvd_open--;
	s->stats.conns_open++;
	app_id = s->cfg.ops.accept(s->cfg.ops_arg, handle);
	conn = tcp_conn_get(s, handle);
	if (conn == NULL)
		return false;   /* aborted inside accept() */
	if (app_id == UINT32_MAX) {
		s->stats.conns_refused++;
		tcp_out_rst_conn(s, conn);
		tcp_conn_free(s, conn);
		return false;
	}
	conn->app_id = app_id;
	s->stats.conns_accepted++;
	return true;
}

/* RST and SYN checks (RFC 5961 3 and 4). True when the segment is done. */
static bool
tcp_in_rst_syn(struct utcp *s, struct tcp_conn *conn, const struct tcp_seg *seg)
{
	if (seg->flags & TCP_RST) {
		s->stats.rst_in++;
		if (seg->seq != conn->rcv_nxt) {
			tcp_in_challenge_ack(s, conn);
			return true;
		}
		if (conn->state == TCP_SYN_RCVD)
			tcp_conn_free(s, conn);         /* back to LISTEN: nothing to tell */
		else
			tcp_conn_close(s, conn, UTCP_CLOSE_RESET);
		return true;
	}
	if (seg->flags & TCP_SYN) {
		tcp_in_challenge_ack(s, conn);
		return true;
	}
	return (seg->flags & TCP_ACK) == 0;
}

/* Our FIN is acked: FIN_WAIT_1 -> FIN_WAIT_2, CLOSING -> TIME_WAIT,
 * LAST_ACK -> closed. False when the conn is gone. */
static bool
tcp_in_fin_acked(struct utcp *s, struct tcp_conn *conn)
{
	if (!conn->fin_queued || !seq_gt(conn->snd_una, conn->snd_end))
		return true;
	switch (conn->state) {
	case TCP_FIN_WAIT_1:
		conn->state = TCP_FIN_WAIT_2;
		tcp_timer_conn(s, conn, TIMER_FIN_WAIT_2, (uint64_t)s->cfg.fin_wait2_ms * 1000000u);
		return true;
	case TCP_CLOSING:
		if (conn->ack_pending)
			tcp_out_ack(s, conn);
		tcp_conn_time_wait(s, conn);
		return false;
	case TCP_LAST_ACK:
		tcp_conn_close(s, conn, UTCP_CLOSE_NORMAL);
		return false;
	default:
		return true;
	}
}

static void
tcp_in_conn(struct utcp *s, struct tcp_conn *conn, struct tcp_seg *seg, void *pkt)
{
	utcp_conn_t handle = tcp_conn_handle(s, conn);
	bool strip;

	if (conn->state == TCP_SYN_RCVD &&
	    (seg->flags & (TCP_SYN | TCP_RST | TCP_ACK)) == TCP_SYN) {
		if (seg->seq == conn->irs)
			tcp_out_synack(s, conn);        /* identical to the first */
		goto drop;
	}
	if (!tcp_in_acceptable(conn, seg, &strip)) {
		if (!(seg->flags & TCP_RST))
			tcp_out_ack(s, conn);
		goto drop;
	}
	if (strip) {
		seg->len = 0;
		seg->flags &= (uint8_t)~TCP_FIN;
		conn->ack_now = true;
	}
	if (tcp_in_rst_syn(s, conn, seg))
		goto drop;
	if (conn->state == TCP_SYN_RCVD) {
		if (!seq_gt(seg->ack, conn->snd_una) || !seq_leq(seg->ack, conn->snd_max)) {
			struct peer peer = { conn->peer_mac, conn->peer_ip, conn->peer_port,
					     conn->lport };

			tcp_out_ctl(s, &peer, seg->ack, 0, TCP_RST, 0);
			goto drop;
		}
		if (!tcp_in_establish(s, conn, seg))
			goto drop;
	}
	if (!tcp_ack_input(s, conn, seg))
		goto drop;
	conn = tcp_conn_get(s, handle);
	if (conn == NULL || !tcp_in_fin_acked(s, conn))
		goto drop;
	if ((seg->len > 0 || (seg->flags & TCP_FIN)) &&
	    (conn->state == TCP_ESTABLISHED || conn->state == TCP_FIN_WAIT_1 ||
	     conn->state == TCP_FIN_WAIT_2)) {
		tcp_rx_data(s, conn, seg, pkt);
		return;
	}
	if (conn->ack_now)
		tcp_out_ack(s, conn);
drop:
	utcp_pkt_free(s, pkt);
}

/* True when port is one of those we accept on. */
static bool
tcp_in_listening(const struct utcp *s, uint16_t port)
{
	for (uint32_t i = 0; i < s->cfg.listen_port_count; i++) {
		if (s->cfg.listen_ports[i] == port)
			return true;
	}
	return false;
}

void
tcp_in_input(struct utcp *s, struct rx_ctx *rx)
{
	struct tcp_seg seg;
	uint32_t idx;

	if (!tcp_in_parse(s, rx, &seg)) {
		utcp_pkt_free(s, rx->pkt);
		return;
	}
	s->stats.segs_in++;
	if (!tcp_in_listening(s, seg.dport) || seg.sport == 0) {
		tcp_in_rst_reply(s, rx, &seg);
		utcp_pkt_free(s, rx->pkt);
		return;
	}
	idx = tcp_conn_lookup(s, rx->src_ip, seg.sport, seg.dport);
	if (likely(idx < s->cfg.conn_max)) {
		tcp_in_conn(s, &s->conns[idx], &seg, rx->pkt);
		return;
	}
	if (idx == IDX_NONE)
		tcp_in_listen(s, rx, &seg);
	else
		tcp_in_time_wait(s, rx, &seg, idx - s->cfg.conn_max);
	utcp_pkt_free(s, rx->pkt);
}
