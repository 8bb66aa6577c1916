/* SPDX-License-Identifier: Apache-2.0 */
/* TLS on a core's connections (dp_tls.c does the OpenSSL part): at accept a
 * conn of an SSL or SASL_SSL listener gets the listener's published context;
 * its received chunks are fed to the SSL as ciphertext and given back at
 * once, the plaintext becomes the conn's stash for the frame parser; its
 * replies (memory and file regions) are encrypted a few records at a time
 * into a ciphertext buffer the backend sends and that stays put until the
 * backend reports all of it sent (dpdk: acked). Handshakes advance only
 * with the bytes received, one flight per turn, and one that is not done
 * by spillway.ssl.handshake.timeout.ms closes. @thread dataplane */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <urcu-qsbr.h>

#include "dataplane/dp_int.h"

/* At accept: a TLS listener's conn gets its TLS state. False when the
 * listener has no context or memory ran out (the caller refuses it). */
bool
dp_tls_conn_open(struct dp_core *core, struct conn *conn)
{
	struct dp_tls_ctx *ctx;
	uint64_t deadline;

	conn->tls = NULL;
	if (!kp_sec_is_tls(conn->session.protocol))
		return true;
	if (conn->session.listener >= DP_TLS_LISTENERS_MAX)
		return false;
	ctx = rcu_dereference(core->dp->tls[conn->session.listener]);
	if (ctx == NULL)
		return false;
	conn->tls = malloc(sizeof(*conn->tls));
	if (conn->tls == NULL)
		return false;
	deadline = core->turn_ns + core->dp->cfg.tls_handshake_ms * 1000000ull;
	if (dp_tls_init(conn->tls, ctx, deadline) != 0) {
		free(conn->tls);
		conn->tls = NULL;
		return false;
	}
	core->tls_next_ns = MIN(core->tls_next_ns, deadline);
	return true;
}

/* The entry is being freed: its stash is the TLS plaintext buffer. */
void
dp_tls_conn_free(struct conn *conn)
{
	if (conn->tls == NULL)
		return;
	if (conn->stash == conn->tls->plain) {
		conn->stash = NULL;
		conn->stash_len = 0;
		conn->stash_off = 0;
	}
	dp_tls_fini(conn->tls);
	free(conn->tls);
	conn->tls = NULL;
}

/* A failed handshake: the alert OpenSSL wrote (certificate required,
 * unknown CA, not TLS at all) goes out if the socket takes it at once, so
 * the client can say why; then the conn closes. */
static void
dp_tls_conn_failed(struct dp_core *core, struct conn *conn)
{
	uint8_t alert[64];
	uint32_t n;

	dp_stat_add(&core->stats.tls_handshakes_failed[conn->session.listener], 1);
	if (core->net->send_last != NULL && conn->tls->cipher_acked == conn->tls->cipher_len &&
	    dp_tls_out_pending(conn->tls) <= sizeof(alert)) {
		n = dp_tls_out_take(conn->tls, alert, sizeof(alert));
		if (n > 0)
			core->net->send_last(core, conn, alert, n);
	}
	dp_conn_close(core, conn);
}

/* Feed received chunks to the SSL (each goes back at once) while it holds
 * less than DP_TLS_IN_MAX, or all of them. False when it closed. */
bool
dp_tls_conn_feed(struct dp_core *core, struct conn *conn, bool all)
{
	struct dp_tls *t = conn->tls;

	while (conn->rx_head != CONN_BUF_NONE && (all || dp_tls_in_pending(t) < DP_TLS_IN_MAX)) {
		uint16_t bid = conn->rx_head;

		if (!dp_tls_feed(t, dp_buf(core, bid) + conn->rx_off,
				 core->buf_len[bid] - conn->rx_off)) {
			dp_conn_close(core, conn);
			return false;
		}
		conn->rx_head = core->buf_next[bid];
		conn->rx_off = 0;
		dp_buf_parsed(core, bid);
	}
	if (conn->rx_head == CONN_BUF_NONE)
		conn->rx_tail = CONN_BUF_NONE;
	return true;
}

/* The handshake finished: count it and take the principal from the
 * client certificate (no rule applying fails it, as Kafka). */
static bool
dp_tls_conn_established(struct dp_core *core, struct conn *conn)
{
	char principal[KP_PRINCIPAL_MAX + 1];
	int len = dp_tls_principal(conn->tls, principal, sizeof(principal));

	if (len < 0 || !kp_session_set_principal(&conn->session, principal, (size_t)len)) {
		dp_tls_conn_failed(core, conn);
		return false;
	}
	conn->tls->deadline_ns = 0;
	dp_stat_add(&core->stats.tls_handshakes[conn->session.listener], 1);
	return true;
}

/* Decrypt what was received into the conn's (empty) stash: true when it
 * now holds plaintext. Advances the handshake first; what the SSL wants to
 * send (a handshake flight, alerts, tickets) is listed for tx. */
bool
dp_tls_conn_rx(struct dp_core *core, struct conn *conn)
{
	struct dp_tls *t = conn->tls;
	enum dp_tls_result r;
	uint32_t got = 0;

	ASSERT_HOT(conn->stash == NULL);
	t->deferred = false;
	if (!dp_tls_conn_feed(core, conn, false))
		return false;
	if (!t->open) {
		if (dp_tls_in_pending(t) == 0)
			return false;
		if (core->tls_steps_left == 0) {
			t->deferred = true;     /* dp_core_rx keeps it listed */
			return false;
		}
		core->tls_steps_left--;
		r = dp_tls_handshake(t);
		if (dp_tls_out_pending(t) > 0)
			dp_list_add(&core->tx, conn);
		if (r == DP_TLS_ERR || r == DP_TLS_EOF) {
			dp_tls_conn_failed(core, conn);
			return false;
		}
		if (r == DP_TLS_AGAIN || !dp_tls_conn_established(core, conn))
			return false;
	}
	r = dp_tls_read(t, t->plain, DP_TLS_PLAIN_BYTES, &got);
	if (dp_tls_out_pending(t) > 0)
		dp_list_add(&core->tx, conn);
	if (got > 0) {
		conn->stash = t->plain;
		conn->stash_len = got;
		conn->stash_off = 0;
		return true;
	}
	if (r == DP_TLS_EOF)
		conn->eof = true;       /* close_notify: close once replies are out */
	else if (r == DP_TLS_ERR)
		dp_conn_close(core, conn);
	return false;
}

/* Encrypted plaintext leaves the reply queue as if sent. */
static void
dp_tls_conn_plain_done(struct dp_core *core, struct conn *conn, uint32_t bytes)
{
	if (conn_tx_done(conn, bytes, dp_pieces_release, core) > 0) {
		dp_list_add(&core->rx, conn);
		dp_list_add(&core->arm, conn);
	}
}

/* A slice of the file region at the head: read at once when the page cache
 * has it (preadv2 RWF_NOWAIT: one copy, file -> buffer, before
 * encryption), else through io_uring (DP_OP_TLS_READ) so the core does not
 * wait for the disk: the conn is busy until it completes. Returns the bytes
 * encrypted, 0 when the read went to io_uring, or -1 (closes). */
static int
dp_tls_conn_file(struct dp_core *core, struct conn *conn, const struct conn_tx *tx,
		 uint32_t room)
{
	struct dp_tls *t = conn->tls;
	struct iovec iov = { t->file, MIN(MIN(tx->file_len, DP_TLS_FILE_BYTES), room) };
	ssize_t n = preadv2(tx->file_fd, &iov, 1, tx->file_pos, RWF_NOWAIT);
	struct io_uring_sqe *sqe;

	if (n < 0 && errno == EAGAIN) {
		sqe = dp_uring_sqe(core);
		if (sqe == NULL)
			return -1;
		io_uring_prep_read(sqe, tx->file_fd, t->file, (unsigned)iov.iov_len,
				   (uint64_t)tx->file_pos);
		io_uring_sqe_set_data64(sqe, dp_ud(DP_OP_TLS_READ, conn->id));
		conn->send_busy = true;
		dp_stat_add(&core->stats.tls_file_reads_async, 1);
		return 0;
	}
	if (n <= 0 || !dp_tls_write(t, t->file, (uint32_t)n))
		return -1;      /* the file shrank or failed */
	dp_tls_conn_plain_done(core, conn, (uint32_t)n);
	return (int)n;
}

void
dp_tls_conn_on_read(struct dp_core *core, struct conn *conn, int res)
{
	conn->send_busy = false;
	if (!conn->open) {
		dp_conn_ops_check(core, conn);
		return;
	}
	if (res <= 0 || !dp_tls_write(conn->tls, conn->tls->file, (uint32_t)res)) {
		dp_conn_close(core, conn);      /* the file shrank or failed */
		return;
	}
	dp_tls_conn_plain_done(core, conn, (uint32_t)res);
	dp_list_add(&core->tx, conn);
}

/* Encrypt up to DP_TLS_TX_PLAIN_BYTES of ready replies. False if closed. */
static bool
dp_tls_conn_encrypt(struct dp_core *core, struct conn *conn)
{
	struct dp_tls *t = conn->tls;
	uint32_t done = 0;

	ASSERT_HOT(conn->tx_queued == 0);
	while (done < DP_TLS_TX_PLAIN_BYTES) {
		uint32_t n = 0, room = DP_TLS_TX_PLAIN_BYTES - done;
		struct conn_tx tx;

		conn_tx_prepare(conn, conn->iov, CONN_IOV_MAX, &tx);
		for (uint32_t i = 0; i < tx.iov_count && n < room; i++) {
			uint32_t len = (uint32_t)MIN(conn->iov[i].iov_len, (size_t)(room - n));

			if (!dp_tls_write(t, conn->iov[i].iov_base, len)) {
				dp_conn_close(core, conn);
				return false;
			}
			n += len;
		}
		if (n > 0) {
			dp_tls_conn_plain_done(core, conn, n);
		} else if (tx.file_fd >= 0) {
			int rc = dp_tls_conn_file(core, conn, &tx, room);

			if (rc < 0) {
				dp_conn_close(core, conn);
				return false;
			}
			if (rc == 0)
				break;  /* reading: the rest after it completes */
			n = (uint32_t)rc;
		} else {
			break;
		}
		done += n;
	}
	return true;
}

/* Send the conn's ciphertext: what is not yet handed to the backend, or,
 * once all of it was sent, the next fill (the SSL's own output first, then
 * encrypted replies). Called by dp_core_tx() with no send outstanding. */
void
dp_tls_conn_tx(struct dp_core *core, struct conn *conn)
{
	struct dp_tls *t = conn->tls;
	uint64_t queued = conn->tx_queued;

	if (t->cipher_acked == t->cipher_len) {
		t->cipher_len = 0;
		t->cipher_handed = 0;
		t->cipher_acked = 0;
		if (dp_tls_out_pending(t) == 0 && t->open && !dp_tls_conn_encrypt(core, conn))
			return;
		t->cipher_len = dp_tls_out_take(t, t->cipher, DP_TLS_CIPHER_BYTES);
	}
	/* A file read in flight (send_busy) sends what it brings with the rest. */
	if (t->cipher_handed == t->cipher_len || conn->send_busy)
		return;
	conn->iov[0].iov_base = t->cipher + t->cipher_handed;
	conn->iov[0].iov_len = t->cipher_len - t->cipher_handed;
	core->net->send(core, conn, 1);
	/* dpdk queues at once and counts it in tx_queued; the acks come to
	 * dp_tls_conn_sent. The reply queue never sees ciphertext counts. */
	if (conn->tx_queued > queued) {
		t->cipher_handed += (uint32_t)(conn->tx_queued - queued);
		conn->tx_queued = queued;
	}
}

/* True when every reply the conn encrypted is on the wire (sent, or acked
 * on dpdk): a close after a last answer (a failed SASL exchange) waits for
 * this as well as for an empty reply queue. */
bool
dp_tls_conn_drained(const struct conn *conn)
{
	const struct dp_tls *t = conn->tls;

	return t == NULL || (t->cipher_acked == t->cipher_len && dp_tls_out_pending(t) == 0);
}

/* The backend sent (uring) or got acked (dpdk) bytes of the ciphertext. */
void
dp_tls_conn_sent(struct dp_core *core, struct conn *conn, uint32_t bytes)
{
	struct dp_tls *t = conn->tls;

	ASSERT(bytes <= t->cipher_len - t->cipher_acked);
	t->cipher_acked += bytes;
	t->cipher_handed = MAX(t->cipher_handed, t->cipher_acked);
	conn->active_ns = core->turn_ns;
	dp_list_add(&core->tx, conn);
}

/* Close the conns whose handshake outlived its deadline: a scan of the
 * table once the earliest deadline passed. */
void
dp_tls_conn_expire(struct dp_core *core)
{
	uint64_t next = UINT64_MAX;

	if (core->turn_ns < core->tls_next_ns)
		return;
	for (uint32_t id = 0; id < core->conn_count; id++) {
		struct conn *conn = &core->conns[id];

		if (!conn->open || conn->tls == NULL || conn->tls->deadline_ns == 0)
			continue;
		if (conn->tls->deadline_ns > core->turn_ns) {
			next = MIN(next, conn->tls->deadline_ns);
			continue;
		}
		conn->tls->deadline_ns = 0;
		dp_tls_conn_failed(core, conn);
	}
	core->tls_next_ns = next;
}
