/* SPDX-License-Identifier: Apache-2.0 */
/* ACK processing of an established connection: RFC 5961 5.2 ACK range
 * check, snd_una advance with release of send-queue entries (ops.acked),
 * RTT samples (Karn), the send window (RFC 9293 wl1/wl2 rule, peer scale),
 * and NewReno: slow start, congestion avoidance, three-dup-ACK fast
 * retransmit and fast recovery with partial ACKs (RFC 5681, RFC 6582). */
#include "dataplane/utcp/utcp_int.h"

#define CWND_MAX (1u << 30)

/* Release `bytes` acked bytes from the head of the send queue. */
static void
tcp_ack_release(struct utcp *s, struct tcp_conn *conn, uint32_t bytes)
{
	const struct sq_ent *sq = conn_sq(s, conn);

	while (bytes > 0) {
		uint32_t rest;

		ASSERT(conn->sq_count > 0);
		rest = sq[conn->sq_head].len - conn->sq_head_off;
		if (bytes < rest) {
			conn->sq_head_off += bytes;
			return;
		}
		bytes -= rest;
		conn->sq_head_off = 0;
		conn->sq_head = conn->sq_head + 1 == s->cfg.snd_queue_max ? 0 : conn->sq_head + 1;
		conn->sq_count--;
	}
}

/* The send window from the newest segment only (RFC 9293 3.10.7.4), and
 * from every ACK that moves snd_una (as Linux's tcp_may_update_window), so
 * the window is always relative to snd_una: its right edge is
 * snd_una + snd_wnd. */
void
tcp_ack_window(struct utcp *s, struct tcp_conn *conn, const struct tcp_seg *seg,
	       bool advanced)
{
	uint32_t old = conn->snd_wnd;

	if (!advanced && !seq_lt(conn->snd_wl1, seg->seq) &&
	    !(conn->snd_wl1 == seg->seq && seq_leq(conn->snd_wl2, seg->ack)))
		return;
	conn->snd_wnd = seg->wnd << conn->snd_wscale;
	conn->snd_wl1 = seg->seq;
	conn->snd_wl2 = seg->ack;
	conn->snd_wnd_max = MAX(conn->snd_wnd_max, conn->snd_wnd);
	if (conn->snd_wnd > old) {
		if (conn->timer_kind == TIMER_PERSIST && conn->snd_wnd > 0) {
			tcp_timer_conn(s, conn, TIMER_NONE, 0);
			conn->backoff = 0;
		}
		tcp_conn_dirty(s, conn);
	}
}

static void
tcp_ack_cwnd_grow(struct tcp_conn *conn, uint32_t acked)
{
	if (conn->cwnd < conn->ssthresh) {
		/* Slow start with RFC 3465 L = 2: one ACK per burst covers many. */
		conn->cwnd += MIN(acked, 2u * conn->mss);
	} else {
		conn->ca_acked += acked;
		if (conn->ca_acked >= conn->cwnd) {
			conn->ca_acked -= conn->cwnd;
			conn->cwnd += conn->mss;
		}
	}
	conn->cwnd = MIN(conn->cwnd, CWND_MAX);
}

/* New data acked during fast recovery (RFC 6582 3.2 steps 3 and 4). */
static void
tcp_ack_recovery(struct utcp *s, struct tcp_conn *conn, uint32_t acked)
{
	if (seq_geq(conn->snd_una, conn->recover)) {
		uint32_t flight = conn->snd_max - conn->snd_una;

		conn->cwnd = MIN(conn->ssthresh, MAX(flight, (uint32_t)conn->mss) + conn->mss);
		conn->in_recovery = false;
		conn->dupacks = 0;
		return;
	}
	/* Partial ACK: resend the next hole, deflate by what was acked. */
	tcp_out_retransmit_una(s, conn);
	conn->cwnd = conn->cwnd > acked ? conn->cwnd - acked : 0;
	if (acked >= conn->mss)
		conn->cwnd += conn->mss;
	conn->cwnd = MAX(conn->cwnd, (uint32_t)conn->mss);
	tcp_timer_rto_arm(s, conn);
}

/* A duplicate ACK (RFC 5681 2: no data, no SYN/FIN, same window,
 * outstanding data): count it, fast retransmit on the third. */
static void
tcp_ack_dup(struct utcp *s, struct tcp_conn *conn, const struct tcp_seg *seg)
{
	if (seg->len != 0 || (seg->flags & (TCP_SYN | TCP_FIN)) || seg->wnd == 0 ||
	    (seg->wnd << conn->snd_wscale) != conn->snd_wnd || conn->snd_max == conn->snd_una) {
		conn->dupacks = 0;
		return;
	}
	s->stats.dup_acks_in++;
	if (conn->in_recovery) {
		conn->cwnd = MIN(conn->cwnd + conn->mss, CWND_MAX);     /* inflate */
		tcp_conn_dirty(s, conn);
		return;
	}
	if (conn->dupacks < 255)
		conn->dupacks++;
	if (conn->dupacks != TCP_DUPACK_THRESH || !seq_geq(seg->ack, conn->recover))
		return;
	conn->ssthresh = MAX((conn->snd_max - conn->snd_una) / 2, 2u * conn->mss);
	conn->recover = conn->snd_max;
	conn->in_recovery = true;
	conn->rtt_timing = false;       /* Karn */
	s->stats.fast_retransmits++;
	tcp_out_retransmit_una(s, conn);
	conn->cwnd = conn->ssthresh + TCP_DUPACK_THRESH * conn->mss;
	tcp_conn_dirty(s, conn);
}

/* snd_una moves to seg->ack. Returns the payload bytes that covers. */
static uint32_t
tcp_ack_advance(struct utcp *s, struct tcp_conn *conn, uint32_t ack)
{
	uint32_t data_from = conn->snd_una, data_to = seq_min(ack, conn->snd_end);
	uint32_t data_acked = seq_gt(data_to, data_from) ? data_to - data_from : 0;

	tcp_ack_release(s, conn, data_acked);
	conn->snd_una = ack;
	if (seq_lt(conn->snd_nxt, ack))
		conn->snd_nxt = ack;    /* after go-back-N or an accepted probe */
	if (conn->rtt_timing && seq_geq(ack, conn->rtt_seq)) {
		conn->rtt_timing = false;
		tcp_timer_rtt_sample(s, conn, s->now - conn->rtt_start_ns);
	}
	conn->retries = 0;
	if (conn->timer_kind != TIMER_PERSIST)
		conn->backoff = 0;
	if (conn->snd_una == conn->snd_max) {
		if (conn->timer_kind == TIMER_RTO)
			tcp_timer_conn(s, conn, TIMER_NONE, 0);
	} else if (conn->timer_kind == TIMER_RTO || conn->timer_kind == TIMER_NONE) {
		tcp_timer_rto_arm(s, conn);     /* RFC 6298 5.3 */
	}
	return data_acked;
}

/* The ACK field of an acceptable segment. False when the segment is done
 * with (an ACK for unsent data) or the conn went away in ops.acked(). */
bool
tcp_ack_input(struct utcp *s, struct tcp_conn *conn, const struct tcp_seg *seg)
{
	uint32_t ack = seg->ack, acked, data_acked;
	utcp_conn_t handle;

	if (seq_gt(ack, conn->snd_max)) {
		tcp_out_ack(s, conn);           /* acks what we never sent */
		return false;
	}
	if (seq_lt(ack, conn->snd_una - MAX(conn->snd_wnd_max, 65535u))) {
		tcp_in_challenge_ack(s, conn);  /* RFC 5961 5.2: far too old */
		return false;
	}
	if (!seq_gt(ack, conn->snd_una)) {
		/* An older ACK never moves the window: its edge is relative to
		 * an ACK before snd_una (RFC 9293: SND.UNA =< SEG.ACK). */
		if (ack == conn->snd_una) {
			tcp_ack_dup(s, conn, seg);
			tcp_ack_window(s, conn, seg, false);
		}
		return true;
	}
	acked = ack - conn->snd_una;
	data_acked = tcp_ack_advance(s, conn, ack);
	if (conn->in_recovery)
		tcp_ack_recovery(s, conn, acked);
	else
		tcp_ack_cwnd_grow(conn, acked);
	if (!conn->in_recovery)
		conn->dupacks = 0;
	tcp_ack_window(s, conn, seg, true);
	tcp_conn_dirty(s, conn);
	if (data_acked == 0 || conn->app_id == UINT32_MAX)
		return true;
	handle = tcp_conn_handle(s, conn);
	s->cfg.ops.acked(s->cfg.ops_arg, conn->app_id, data_acked);
	return tcp_conn_get(s, handle) != NULL;
}
