/* SPDX-License-Identifier: Apache-2.0 */
/* The per-core poll loop and what it does with connections: accept, parse
 * received chunks into frames, dispatch them, queue replies in request order,
 * send, and close. Runs on one pinned thread per core: no locks, no logging,
 * no allocation except frame assembly (frame.c) and the responses protocol/
 * mallocs. Control state is reached only through dp_ctl.c. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include "dataplane/dp_int.h"

/* ---- connection lifecycle ---- */

/* Take an accepted socket into a free table entry, or close it when the
 * table is full. @thread dataplane */
void
dp_conn_accept(struct dp_core *core, int fd)
{
	struct conn *conn;
	int one = 1;

	if (unlikely(core->free_count == 0)) {
		close(fd);
		dp_stat_add(&core->stats.connections_rejected, 1);
		return;
	}
	conn = &core->conns[core->free_ids[--core->free_count]];
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	conn_open(conn, fd);
	dp_stat_add(&core->stats.connections_accepted, 1);
	dp_stat_add(&core->stats.connections_open, 1);
	dp_list_add(&core->arm, conn);
}

/* Start closing: no more reads or dispatches, late control replies drop
 * (generation bump), received chunks go back to the buffer ring. The entry
 * is freed at the end of the turn once no recv or send is outstanding.
 * @thread dataplane */
void
dp_conn_close(struct dp_core *core, struct conn *conn)
{
	if (!conn->open)
		return;
	conn->open = false;
	conn->gen++;
	shutdown(conn->fd, SHUT_RDWR);  /* completes an outstanding recv/send */
	if (conn->recv == CONN_RECV_ARMED)
		dp_uring_cancel_recv(core, conn);
	while (conn->rx_head != CONN_BUF_NONE) {
		uint16_t bid = conn->rx_head;

		conn->rx_head = core->buf_next[bid];
		dp_uring_buf_put(core, bid);
	}
	conn->rx_tail = CONN_BUF_NONE;
	dp_stat_add(&core->stats.connections_closed, 1);
	dp_stat_add(&core->stats.connections_open, (uint64_t)-1);
	dp_conn_ops_check(core, conn);
}

/* A closing conn with nothing outstanding in the kernel can be freed. */
void
dp_conn_ops_check(struct dp_core *core, struct conn *conn)
{
	ASSERT_HOT(!conn->open);
	if (conn->recv == CONN_RECV_IDLE && !conn->send_busy && conn->fd >= 0)
		dp_list_add(&core->closed, conn);
}

/* Append a received chunk to the conn's list of unparsed chunks. */
void
dp_conn_rx_push(struct dp_core *core, struct conn *conn, uint16_t bid, uint32_t len)
{
	ASSERT_HOT(len <= DP_RX_BUF_BYTES);
	core->buf_len[bid] = len;
	core->buf_next[bid] = CONN_BUF_NONE;
	if (conn->rx_tail == CONN_BUF_NONE)
		conn->rx_head = bid;
	else
		core->buf_next[conn->rx_tail] = bid;
	conn->rx_tail = bid;
	dp_list_add(&core->rx, conn);
}

/* ---- frames -> dispatch ---- */

/* Dispatch one frame and act on the verdict. Returns false if the conn was
 * closed. */
static bool
dp_core_dispatch(struct dp_core *core, const struct kp_env *env, struct conn *conn,
		 const struct frame *frame)
{
	struct kp_out out;
	uint32_t seq = conn_slot_open(conn);

	memset(&out, 0, sizeof(out));
	dp_stat_add(&core->stats.requests, 1);
	switch (kp_dispatch(env, frame->data, frame->len, &out)) {
	case KP_VERDICT_REPLY:
		ASSERT_HOT(out.resp.data != NULL && out.resp.len >= 4);
		conn_slot_done(conn, seq, out.resp.data, out.resp.len);
		dp_list_add(&core->tx, conn);
		return true;
	case KP_VERDICT_NO_REPLY:
		conn_slot_done(conn, seq, NULL, 0);
		dp_list_add(&core->tx, conn);
		return true;
	case KP_VERDICT_FORWARD:
		if (likely(dp_ctl_forward(core, conn, seq, out.fwd)))
			return true;
		free(out.fwd.data);
		break;
	case KP_VERDICT_CLOSE:
	default:
		dp_stat_add(&core->stats.protocol_errors, 1);
		break;
	}
	dp_conn_close(core, conn);
	return false;
}

/* Parse and dispatch the conn's chunks until they run out or the in-flight
 * limit is reached; in the latter case stop the recv so the socket, not this
 * process, buffers what the client sends next. */
static void
dp_core_rx_conn(struct dp_core *core, const struct kp_env *env, struct conn *conn)
{
	while (conn->open && conn->rx_head != CONN_BUF_NONE && conn_can_dispatch(conn)) {
		uint16_t bid = conn->rx_head;
		const uint8_t *base = dp_uring_buf(core, bid);
		const uint8_t *pos = base + conn->rx_off;
		const uint8_t *end = base + core->buf_len[bid];
		struct frame frame;
		enum frame_result r = frame_next(&conn->frx, &pos, end, &frame);

		conn->rx_off = (uint32_t)(pos - base);
		if (r == FRAME_READY) {
			bool ok = dp_core_dispatch(core, env, conn, &frame);

			frame_release(&frame);
			if (!ok)
				return;         /* closed: chunks already returned */
		} else if (r != FRAME_MORE) {
			dp_stat_add(&core->stats.protocol_errors, 1);
			dp_conn_close(core, conn);
			return;
		}
		if (pos == end) {       /* chunk used up: back to the kernel */
			conn->rx_head = core->buf_next[bid];
			if (conn->rx_head == CONN_BUF_NONE)
				conn->rx_tail = CONN_BUF_NONE;
			conn->rx_off = 0;
			dp_uring_buf_put(core, bid);
		}
	}
	if (conn->open && !conn_can_dispatch(conn) && conn->recv == CONN_RECV_ARMED)
		dp_uring_cancel_recv(core, conn);
}

static void
dp_core_rx(struct dp_core *core, const struct kp_env *env)
{
	uint32_t i;

	for (i = 0; i < core->rx.count; i++) {
		struct conn *conn = &core->conns[core->rx.ids[i]];

		conn->lists &= ~CONN_ON_RX;
		dp_core_rx_conn(core, env, conn);
	}
	core->rx.count = 0;
}

/* ---- tx, arming, freeing ---- */

/* Send the contiguous ready prefix of each conn's reply queue, one sendmsg
 * per conn; empty (no-reply) slots at the head are released first. */
static void
dp_core_tx(struct dp_core *core)
{
	uint32_t i, n;

	for (i = 0; i < core->tx.count; i++) {
		struct conn *conn = &core->conns[core->tx.ids[i]];

		conn->lists &= ~CONN_ON_TX;
		if (!conn->open || conn->send_busy)
			continue;       /* the send completion re-lists it */
		if (conn_tx_done(conn, 0) > 0) {
			dp_list_add(&core->rx, conn);   /* picked up next turn */
			dp_list_add(&core->arm, conn);
		}
		n = conn_tx_prepare(conn, conn->iov, CONN_IOV_MAX);
		if (n > 0)
			dp_uring_send(core, conn, n);
	}
	core->tx.count = 0;
}

/* Arm accept, the control wake-up read, and recv on every listed conn that
 * is open, idle and below its in-flight limit. ENOBUFS waiters join once a
 * buffer has come back. */
static void
dp_core_arm(struct dp_core *core)
{
	uint32_t i;

	if (!core->accept_armed && (core->accept_retry_ns == 0 ||
				    clock_mono_ns() >= core->accept_retry_ns)) {
		core->accept_retry_ns = 0;
		dp_uring_arm_accept(core);
	}
	if (!core->wake_armed)
		dp_uring_arm_wake(core);
	if (core->bufs_returned) {
		for (i = 0; i < core->bufwait.count; i++) {
			struct conn *conn = &core->conns[core->bufwait.ids[i]];

			conn->lists &= ~CONN_ON_BUFWAIT;
			dp_list_add(&core->arm, conn);
		}
		core->bufwait.count = 0;
		core->bufs_returned = false;
	}
	for (i = 0; i < core->arm.count; i++) {
		struct conn *conn = &core->conns[core->arm.ids[i]];

		conn->lists &= ~CONN_ON_ARM;
		if (conn->open && conn->recv == CONN_RECV_IDLE && conn_can_dispatch(conn))
			dp_uring_arm_recv(core, conn);
	}
	core->arm.count = 0;
}

/* Free closed entries whose kernel operations have all completed. */
static void
dp_core_free_closed(struct dp_core *core)
{
	uint32_t i;

	for (i = 0; i < core->closed.count; i++) {
		struct conn *conn = &core->conns[core->closed.ids[i]];

		conn->lists &= ~CONN_ON_CLOSED;
		ASSERT(!conn->open && conn->recv == CONN_RECV_IDLE && !conn->send_busy);
		close(conn->fd);
		conn_reset(conn);
		core->free_ids[core->free_count++] = conn->id;
	}
	core->closed.count = 0;
}

/* Exit path: close every socket and free every reply (the ring teardown in
 * dp_uring_fini() cancels whatever is still outstanding). */
static void
dp_core_close_all(struct dp_core *core)
{
	uint32_t id;

	for (id = 0; id < core->conn_count; id++) {
		struct conn *conn = &core->conns[id];

		if (conn->fd < 0)
			continue;
		dp_conn_close(core, conn);
		close(conn->fd);
		conn->recv = CONN_RECV_IDLE;
		conn_reset(conn);
	}
}

/* The loop: reap completions -> frames -> dispatch -> control replies -> tx
 * -> arm -> wake control -> quiescent state -> submit once and wait.
 * @thread dataplane */
void *
dp_core_main(void *arg)
{
	struct dp_core *core = arg;
	struct dp *dp = core->dp;
	struct kp_env env = { .request_bytes_max = dp->cfg.request_bytes_max };

	int rc;

	rcu_register_thread();
	rc = dp_uring_enable(core);
	ASSERT(rc == 0);
	/* Acquire pairs with the release store in dp_stop(). */
	while (!__atomic_load_n(&dp->stop, __ATOMIC_ACQUIRE)) {
		env.md = rcu_dereference(dp->md);
		dp_uring_reap(core);
		dp_core_rx(core, &env);
		dp_ctl_drain(core);
		dp_core_tx(core);
		dp_core_arm(core);
		dp_core_free_closed(core);
		dp_ctl_notify(core);
		rcu_quiescent_state();
		/* Block unless tx released slots and left chunks to parse. */
		dp_uring_wait(core, core->rx.count == 0);
	}
	dp_core_close_all(core);
	rcu_unregister_thread();
	return NULL;
}
