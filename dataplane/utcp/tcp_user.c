/* SPDX-License-Identifier: Apache-2.0 */
/* The application's calls on a connection (RFC 9293 3.10 user calls):
 * SEND (queue a reference), RECEIVE's release (utcp_recv_done opens the
 * window), CLOSE and ABORT. A stale handle makes every one a no-op. Output
 * happens at utcp_poll(), never inside these calls, except abort's RST. */
#include "dataplane/utcp/utcp_int.h"

static bool
tcp_user_can_send(const struct tcp_conn *conn)
{
	return (conn->state == TCP_ESTABLISHED || conn->state == TCP_CLOSE_WAIT) &&
	       !conn->fin_queued;
}

bool
utcp_send(struct utcp *s, utcp_conn_t handle, const uint8_t *data, uint32_t len, uint64_t ref)
{
	struct tcp_conn *conn = tcp_conn_get(s, handle);
	struct sq_ent *e;
	uint32_t tail;

	if (conn == NULL || !tcp_user_can_send(conn) || conn->sq_count >= s->cfg.snd_queue_max)
		return false;
	if (len == 0)
		return true;
	if (len > TCP_SND_QUEUED_MAX || conn->snd_end - conn->snd_una > TCP_SND_QUEUED_MAX - len)
		return false;
	ASSERT_HOT(data != NULL);
	tail = conn->sq_head + conn->sq_count;
	if (tail >= s->cfg.snd_queue_max)
		tail -= s->cfg.snd_queue_max;
	e = &conn_sq(s, conn)[tail];
	e->base = data;
	e->len = len;
	e->ref = ref;
	conn->sq_count++;
	conn->snd_end += len;
	tcp_conn_dirty(s, conn);
	return true;
}

uint32_t
utcp_send_room(const struct utcp *s, utcp_conn_t handle)
{
	const struct tcp_conn *conn = tcp_conn_get(s, handle);

	if (conn == NULL || !tcp_user_can_send(conn))
		return 0;
	return s->cfg.snd_queue_max - conn->sq_count;
}

uint32_t
utcp_peer_ipv4(const struct utcp *s, utcp_conn_t handle)
{
	const struct tcp_conn *conn = tcp_conn_get(s, handle);

	return conn != NULL ? conn->peer_ip : 0;
}

uint16_t
utcp_local_port(const struct utcp *s, utcp_conn_t handle)
{
	const struct tcp_conn *conn = tcp_conn_get(s, handle);

	return conn != NULL ? conn->lport : 0;
}

/* A window update goes out at poll when the window opens by a receiver-SWS
 * step after having been under half the buffer (the peer may be waiting). */
void
utcp_recv_done(struct utcp *s, utcp_conn_t handle, uint32_t bytes)
{
	struct tcp_conn *conn = tcp_conn_get(s, handle);
	uint32_t wnd_old, step;

	if (conn == NULL)
		return;
	ASSERT_HOT(bytes <= conn->rcv_held);
	conn->rcv_held -= MIN(bytes, conn->rcv_held);
	wnd_old = seq_gt(conn->rcv_adv, conn->rcv_nxt) ? conn->rcv_adv - conn->rcv_nxt : 0;
	step = MIN(s->cfg.rcv_window / 2, s->mss_local);
	if (wnd_old < s->cfg.rcv_window / 2 &&
	    tcp_out_wnd_room(s, conn) >= wnd_old + step &&
	    conn->state != TCP_SYN_RCVD) {
		conn->ack_pending = true;
		tcp_conn_dirty(s, conn);
	}
}

void
utcp_close(struct utcp *s, utcp_conn_t handle)
{
	struct tcp_conn *conn = tcp_conn_get(s, handle);

	if (conn == NULL || conn->fin_queued)
		return;
	if (conn->state == TCP_ESTABLISHED)
		conn->state = TCP_FIN_WAIT_1;
	else if (conn->state == TCP_CLOSE_WAIT)
		conn->state = TCP_LAST_ACK;
	else
		return;
	conn->fin_queued = true;
	tcp_conn_dirty(s, conn);
}

void
utcp_abort(struct utcp *s, utcp_conn_t handle)
{
	struct tcp_conn *conn = tcp_conn_get(s, handle);

	if (conn == NULL)
		return;
	tcp_out_rst_conn(s, conn);
	tcp_conn_free(s, conn);
}
