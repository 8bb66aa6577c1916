/* SPDX-License-Identifier: Apache-2.0 */
/* The io_uring side of a core: ring and provided-buffer ring setup, the SQEs
 * the loop issues (multishot accept and recv, sendmsg, eventfd read, cancel),
 * and the reaper, which only records what completed (chunks, sent bytes,
 * accepted sockets) and never runs request work itself. @thread dataplane,
 * except dp_uring_init()/dp_uring_fini() (control, before start/after join). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include "common/log.h"
#include "dataplane/dp_int.h"

static inline uint8_t *
dp_uring_buf(struct dp_core *core, uint16_t bid)
{
	return core->bufs + (size_t)bid * DP_RX_BUF_BYTES;
}

/* Rings are created disabled so that the core thread, which enables them,
 * is the single issuer; DEFER_TASKRUN runs completions only when the core
 * waits, which keeps them off other CPUs (a busy-polling dpdk core never
 * waits, so it goes without). Older kernels get plain flags. */
int
dp_uring_ring_init(struct dp_core *core, bool defer_taskrun)
{
	struct io_uring_params p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_R_DISABLED | IORING_SETUP_SINGLE_ISSUER |
		  (defer_taskrun ? IORING_SETUP_DEFER_TASKRUN : 0);
	rc = io_uring_queue_init_params(DP_URING_ENTRIES, &core->ring, &p);
	if (rc == -EINVAL) {
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_R_DISABLED;
		rc = io_uring_queue_init_params(DP_URING_ENTRIES, &core->ring, &p);
	}
	if (rc == 0)
		core->ring_ok = true;
	return rc;
}

/* Create the ring and register DP_RX_BUF_COUNT provided buffers as group
 * DP_RX_BGID. Returns 0 or -errno. @thread control */
static int
dp_uring_init(struct dp_core *core)
{
	struct io_uring_buf_reg reg;
	uint16_t bid;
	int rc;

	rc = dp_uring_ring_init(core, true);
	if (rc < 0)
		return rc;
	rc = dp_core_bufs_alloc(core, DP_RX_BUF_COUNT);
	if (rc < 0)
		return rc;
	core->br_bytes = DP_RX_BUF_COUNT * sizeof(struct io_uring_buf);
	core->br = mmap(NULL, core->br_bytes, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (core->br == MAP_FAILED) {
		core->br = NULL;
		return -errno;
	}
	core->bufs = aligned_alloc(4096, (size_t)DP_RX_BUF_COUNT * DP_RX_BUF_BYTES);
	if (core->bufs == NULL)
		return -ENOMEM;
	for (bid = 0; bid < DP_RX_BUF_COUNT; bid++)
		core->buf_ptr[bid] = dp_uring_buf(core, bid);
	io_uring_buf_ring_init(core->br);
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)core->br;
	reg.ring_entries = DP_RX_BUF_COUNT;
	reg.bgid = DP_RX_BGID;
	rc = io_uring_register_buf_ring(&core->ring, &reg, 0);
	if (rc < 0)
		return rc;
	for (bid = 0; bid < DP_RX_BUF_COUNT; bid++)
		io_uring_buf_ring_add(core->br, dp_uring_buf(core, bid), DP_RX_BUF_BYTES,
				      bid, io_uring_buf_ring_mask(DP_RX_BUF_COUNT), bid);
	io_uring_buf_ring_advance(core->br, DP_RX_BUF_COUNT);
	return 0;
}

/* Tear down the ring (cancelling whatever is outstanding), then the buffers.
 * @thread control, after the core thread has exited */
static void
dp_uring_fini(struct dp_core *core)
{
	if (core->ring_ok)
		io_uring_queue_exit(&core->ring);
	core->ring_ok = false;
	if (core->br != NULL)
		munmap(core->br, core->br_bytes);
	core->br = NULL;
	free(core->bufs);
	core->bufs = NULL;
}

/* Make the ring usable; the calling thread becomes its single issuer.
 * @thread dataplane */
int
dp_uring_ring_enable(struct dp_core *core)
{
	/* Debian's liburing 2.3 declares io_uring_enable_rings() but does not
	 * export it; the register opcode is what it would issue. */
	return io_uring_register(core->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
}

/* Room for n more SQEs, submitting what is queued when the SQ is full
 * (rare: only when one turn queues more than DP_URING_ENTRIES operations).
 * False when the kernel takes none of the queue either (io_uring_submit()
 * failed: -EBUSY with a completion backlog, -EAGAIN, -ENOMEM). */
static bool
dp_uring_room(struct dp_core *core, unsigned n)
{
	if (likely(io_uring_sq_space_left(&core->ring) >= n))
		return true;
	(void)io_uring_submit(&core->ring);
	return io_uring_sq_space_left(&core->ring) >= n;
}

/* An SQE, or NULL when the SQ is full and the kernel refuses the queue
 * (dp_uring_room()). Callers handle NULL, never assert: accept and the
 * wake-up read stay unarmed and are armed again next turn, a conn's recv,
 * send or splice closes the conn as a socket error would, and a cancel is
 * skipped (shutdown() already completes the recv). */
struct io_uring_sqe *
dp_uring_sqe(struct dp_core *core)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&core->ring);

	if (unlikely(sqe == NULL) && dp_uring_room(core, 1))
		sqe = io_uring_get_sqe(&core->ring);
	return sqe;
}

/* Give a provided buffer back to the kernel. The tail store-release in
 * io_uring_buf_ring_advance() pairs with the kernel's acquire of the tail
 * before it picks the buffer. */
static void
dp_uring_buf_put(struct dp_core *core, uint16_t bid)
{
	ASSERT_HOT(bid < DP_RX_BUF_COUNT);
	io_uring_buf_ring_add(core->br, dp_uring_buf(core, bid), DP_RX_BUF_BYTES, bid,
			      io_uring_buf_ring_mask(DP_RX_BUF_COUNT), 0);
	io_uring_buf_ring_advance(core->br, 1);
	core->bufs_returned = true;
}

static void
dp_uring_arm_accept(struct dp_core *core, int listener)
{
	struct io_uring_sqe *sqe = dp_uring_sqe(core);

	if (unlikely(sqe == NULL))
		return;         /* its accept_armed bit stays clear: next turn */
	/* One connection per accept, re-armed at the end of the turn only
	 * while the core's table and max.connections have room: beyond them
	 * connections wait in the listen backlog, unanswered, as Kafka's
	 * acceptor leaves them (a multishot accept would take them anyway). */
	io_uring_prep_accept(sqe, core->listen_fds[listener], NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
	/* The id names the listener: no conn exists yet. */
	io_uring_sqe_set_data64(sqe, dp_ud(DP_OP_ACCEPT, (uint32_t)listener));
	core->accept_armed |= 1u << listener;
}

void
dp_uring_arm_wake(struct dp_core *core)
{
	struct io_uring_sqe *sqe = dp_uring_sqe(core);

	if (unlikely(sqe == NULL))
		return;         /* wake_armed stays false: next turn */
	io_uring_prep_read(sqe, core->wake_fd, &core->wake_val, sizeof(core->wake_val), 0);
	io_uring_sqe_set_data64(sqe, dp_ud(DP_OP_WAKE, 0));
	core->wake_armed = true;
}

/* One recv into the provided-buffer group: one chunk, then the conn is
 * re-armed at the end of the turn that parsed it. Not multishot: a
 * multishot recv on a socket with megabytes queued takes every chunk of the
 * ring in one pass, and 150 pipelining clients starved everyone else of
 * chunks for seconds; one chunk per conn per turn shares the ring fairly. */
static void
dp_uring_arm_recv(struct dp_core *core, struct conn *conn)
{
	struct io_uring_sqe *sqe;

	ASSERT_HOT(conn->open);
	ASSERT_HOT(conn->recv == CONN_RECV_IDLE);
	sqe = dp_uring_sqe(core);
	if (unlikely(sqe == NULL)) {
		dp_conn_close(core, conn);
		return;
	}
	io_uring_prep_recv(sqe, conn->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = DP_RX_BGID;
	io_uring_sqe_set_data64(sqe, dp_ud(DP_OP_RECV, conn->id));
	conn->recv = CONN_RECV_ARMED;
}

/* Stop the multishot recv; its final CQE (-ECANCELED, or data that raced
 * the cancel) still arrives and still counts as outstanding until then. */
static void
dp_uring_cancel_recv(struct dp_core *core, struct conn *conn)
{
	struct io_uring_sqe *sqe;

	ASSERT_HOT(conn->recv == CONN_RECV_ARMED);
	sqe = dp_uring_sqe(core);
	if (unlikely(sqe == NULL))
		return;         /* the recv ends at shutdown() or with data */
	io_uring_prep_cancel64(sqe, dp_ud(DP_OP_RECV, conn->id), 0);
	io_uring_sqe_set_data64(sqe, dp_ud(DP_OP_CANCEL, conn->id));
	conn->recv = CONN_RECV_CANCELING;
}

/* Receive the missing bytes of the conn's partly assembled frame into the
 * frame's own buffer (MSG_WAITALL). */
static void
dp_uring_recv_direct(struct dp_core *core, struct conn *conn)
{
	struct io_uring_sqe *sqe = dp_uring_sqe(core);

	ASSERT_HOT(conn->recv == CONN_RECV_IDLE);
	ASSERT_HOT(frame_rx_missing(&conn->frx) > 0);
	if (unlikely(sqe == NULL)) {
		dp_conn_close(core, conn);
		return;
	}
	io_uring_prep_recv(sqe, conn->fd, frame_rx_tail(&conn->frx),
			   frame_rx_missing(&conn->frx), MSG_WAITALL);
	io_uring_sqe_set_data64(sqe, dp_ud(DP_OP_RECV_DIRECT, conn->id));
	conn->recv = CONN_RECV_DIRECT;
}

/* TLS: a large frame's tail comes as ciphertext, so instead of one 16 KiB
 * provided chunk per turn, one plain recv of up to DP_TLS_IN_MAX into the
 * conn's TLS input buffer, fed to the SSL when it completes. */
static void
dp_uring_tls_recv(struct dp_core *core, struct conn *conn)
{
	uint8_t *buf = dp_tls_in_buf(conn->tls);
	struct io_uring_sqe *sqe = buf != NULL ? dp_uring_sqe(core) : NULL;

	ASSERT_HOT(conn->recv == CONN_RECV_IDLE);
	if (unlikely(sqe == NULL)) {
		dp_conn_close(core, conn);
		return;
	}
	io_uring_prep_recv(sqe, conn->fd, buf, DP_TLS_IN_MAX, 0);
	io_uring_sqe_set_data64(sqe, dp_ud(DP_OP_TLS_RECV, conn->id));
	conn->recv = CONN_RECV_DIRECT;
}

/* After an op of conn completed: false when the conn closed meanwhile
 * (it is freed once no op is outstanding), true when the result counts. */
static bool
dp_uring_conn_live(struct dp_core *core, struct conn *conn)
{
	if (conn->open)
		return true;
	dp_conn_ops_check(core, conn);
	return false;
}

static void
dp_uring_on_recv_direct(struct dp_core *core, struct conn *conn, const struct io_uring_cqe *cqe)
{
	conn->recv = CONN_RECV_IDLE;
	if (!dp_uring_conn_live(core, conn))
		return;
	if (cqe->res <= 0 && cqe->res != -EINTR) {
		dp_conn_close(core, conn);      /* EOF or a socket error */
		return;
	}
	if (cqe->res > 0) {
		conn->active_ns = core->turn_ns;
		dp_stat_add(&core->stats.bytes_in, (uint64_t)cqe->res);
		frame_rx_received(&conn->frx, (uint32_t)cqe->res);
	}
	dp_list_add(&core->rx, conn);   /* hand the frame out, or receive more */
	dp_list_add(&core->arm, conn);
}

static void
dp_uring_on_tls_recv(struct dp_core *core, struct conn *conn, const struct io_uring_cqe *cqe)
{
	conn->recv = CONN_RECV_IDLE;
	if (!dp_uring_conn_live(core, conn))
		return;
	if (cqe->res == 0) {
		dp_conn_eof(core, conn);        /* close once what came is parsed */
		return;
	}
	if (cqe->res < 0 && cqe->res != -EINTR) {
		dp_conn_close(core, conn);
		return;
	}
	if (cqe->res > 0) {
		conn->active_ns = core->turn_ns;
		dp_stat_add(&core->stats.bytes_in, (uint64_t)cqe->res);
		if (!dp_tls_feed(conn->tls, conn->tls->in, (uint32_t)cqe->res)) {
			dp_conn_close(core, conn);
			return;
		}
	}
	dp_list_add(&core->rx, conn);
	dp_list_add(&core->arm, conn);
}

/* One sendmsg over conn->iov[0..iov_count): several replies, one SQE. */
static void
dp_uring_send(struct dp_core *core, struct conn *conn, uint32_t iov_count)
{
	struct io_uring_sqe *sqe;

	ASSERT_HOT(!conn->send_busy);
	ASSERT_HOT(iov_count > 0);
	memset(&conn->msg, 0, sizeof(conn->msg));
	conn->msg.msg_iov = conn->iov;
	conn->msg.msg_iovlen = iov_count;
	sqe = dp_uring_sqe(core);
	if (unlikely(sqe == NULL)) {
		dp_conn_close(core, conn);
		return;
	}
	io_uring_prep_sendmsg(sqe, conn->fd, &conn->msg, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, dp_ud(DP_OP_SEND, conn->id));
	conn->send_busy = true;
}

static void
dp_uring_on_recv(struct dp_core *core, struct conn *conn, const struct io_uring_cqe *cqe)
{
	bool more = (cqe->flags & IORING_CQE_F_MORE) != 0;

	if (!more)
		conn->recv = CONN_RECV_IDLE;
	if (cqe->res > 0) {
		uint16_t bid = (uint16_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);

		ASSERT(cqe->flags & IORING_CQE_F_BUFFER);
		dp_stat_add(&core->stats.bytes_in, (uint64_t)cqe->res);
		if (conn->open)
			dp_conn_rx_push(core, conn, bid, (uint32_t)cqe->res);
		else
			dp_uring_buf_put(core, bid);
	} else if (cqe->res == -ENOBUFS && conn->open) {
		/* The buffer ring ran dry: re-arm once buffers come back. */
		dp_list_add(&core->bufwait, conn);
		return;
	} else if (cqe->res == -ENOBUFS) {
		/* closing: fall through to the ops check below */
	} else if (cqe->res == 0 && conn->open) {
		dp_conn_eof(core, conn);
	} else if (cqe->res != -ECANCELED && conn->open) {
		dp_conn_close(core, conn);      /* a socket error */
	}
	if (!more) {
		if (conn->open)
			dp_list_add(&core->arm, conn);
		else
			dp_conn_ops_check(core, conn);
	}
}

static void
dp_uring_on_send(struct dp_core *core, struct conn *conn, const struct io_uring_cqe *cqe)
{
	conn->send_busy = false;
	if (!dp_uring_conn_live(core, conn))
		return;
	if (cqe->res <= 0) {
		dp_conn_close(core, conn);      /* EPIPE, ECONNRESET, ... */
		return;
	}
	dp_stat_add(&core->stats.bytes_out, (uint64_t)cqe->res);
	dp_conn_sent(core, conn, (uint32_t)cqe->res);
	dp_list_add(&core->tx, conn);   /* short write, or more became ready */
}

/* The conn's pipe, made on its first file region and sized for a splice. */
static int
dp_uring_pipe(struct conn *conn)
{
	int fds[2];

	if (conn->pipe_rd >= 0)
		return 0;
	if (pipe2(fds, O_CLOEXEC) != 0)
		return -errno;
	(void)fcntl(fds[1], F_SETPIPE_SZ, (int)DP_PIPE_BYTES);  /* best effort */
	conn->pipe_rd = fds[0];
	conn->pipe_wr = fds[1];
	return 0;
}

static void
dp_uring_splice_in(struct dp_core *core, struct conn *conn)
{
	struct io_uring_sqe *sqe = dp_uring_sqe(core);

	if (unlikely(sqe == NULL)) {
		dp_conn_close(core, conn);
		return;
	}
	io_uring_prep_splice(sqe, conn->splice_fd, conn->splice_pos, conn->pipe_wr, -1,
			     MIN(conn->splice_left, DP_PIPE_BYTES), 0);
	io_uring_sqe_set_data64(sqe, dp_ud(DP_OP_SPLICE_IN, conn->id));
	conn->send_busy = true;
}

static void dp_uring_spliced_out(struct dp_core *core, struct conn *conn, int res);

/* Pipe -> socket. First a plain splice() on the core: the socket is
 * non-blocking and the pipe holds the bytes, so it cannot block, and it
 * saves the io-wq round trip io_uring makes of every splice (a worker
 * thread's wakeup and switch per Fetch region). A full socket waits for
 * POLLOUT, the splice linked behind it. */
static void
dp_uring_splice_out(struct dp_core *core, struct conn *conn, bool wait_writable)
{
	struct io_uring_sqe *sqe;
	ssize_t n;

	if (!wait_writable) {
		/* No SPLICE_F_MORE: it corks the socket like MSG_MORE, and the
		 * tail of a reply then waits ~40 ms for more data that may never
		 * come. */
		n = splice(conn->pipe_rd, NULL, conn->fd, NULL, conn->pipe_bytes,
			   SPLICE_F_NONBLOCK);
		if (n > 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			dp_uring_spliced_out(core, conn, n > 0 ? (int)n : -errno);
			return;
		}
		wait_writable = true;
	}
	/* The POLLOUT and its linked splice go in together or not at all. */
	if (unlikely(!dp_uring_room(core, 2))) {
		dp_conn_close(core, conn);
		return;
	}
	sqe = dp_uring_sqe(core);
	io_uring_prep_poll_add(sqe, conn->fd, POLLOUT);
	io_uring_sqe_set_data64(sqe, dp_ud(DP_OP_POLLOUT, conn->id));
	sqe->flags |= IOSQE_IO_LINK;
	sqe = dp_uring_sqe(core);
	io_uring_prep_splice(sqe, conn->pipe_rd, -1, conn->fd, -1, conn->pipe_bytes, 0);
	io_uring_sqe_set_data64(sqe, dp_ud(DP_OP_SPLICE_OUT, conn->id));
	conn->send_busy = true;
}

/* File region -> pipe -> socket: no byte of it passes through userspace.
 * One splice at a time per conn; send_busy covers both directions. */
static int
dp_uring_splice(struct dp_core *core, struct conn *conn, int fd, int64_t pos, uint32_t len)
{
	int rc = dp_uring_pipe(conn);

	ASSERT_HOT(!conn->send_busy && conn->pipe_bytes == 0);
	if (rc != 0)
		return rc;
	conn->splice_fd = fd;
	conn->splice_pos = pos;
	conn->splice_left = len;
	dp_uring_splice_in(core, conn);
	return 0;
}

/* res bytes (or -errno) went from the pipe to the socket. */
static void
dp_uring_spliced_out(struct dp_core *core, struct conn *conn, int res)
{
	if (res == -EAGAIN) {
		dp_uring_splice_out(core, conn, true);  /* the socket is full */
		return;
	}
	if (res <= 0) {
		dp_conn_close(core, conn);      /* socket error */
		return;
	}
	conn->pipe_bytes -= (uint32_t)res;
	dp_stat_add(&core->stats.bytes_out, (uint64_t)res);
	dp_conn_sent(core, conn, (uint32_t)res);
	if (conn->pipe_bytes > 0)
		dp_uring_splice_out(core, conn, false);
	else if (conn->splice_left > 0)
		dp_uring_splice_in(core, conn);
	else
		dp_list_add(&core->tx, conn);   /* the region is out: what next */
}

static void
dp_uring_on_splice(struct dp_core *core, struct conn *conn, const struct io_uring_cqe *cqe,
		   bool out)
{
	conn->send_busy = false;
	if (!dp_uring_conn_live(core, conn))
		return;
	if (out) {
		dp_uring_spliced_out(core, conn, cqe->res);
		return;
	}
	if (cqe->res <= 0) {
		dp_conn_close(core, conn);      /* read error, or the file shrank */
		return;
	}
	conn->pipe_bytes += (uint32_t)cqe->res;
	conn->splice_pos += cqe->res;
	conn->splice_left -= (uint32_t)cqe->res;
	dp_uring_splice_out(core, conn, false);
}

static void
dp_uring_on_accept(struct dp_core *core, uint8_t listener, int fd)
{
	struct dp_peer peer;
	int one = 1;

	dp_limits_peer_of_fd(fd, &peer);
	if (dp_conn_accept(core, listener, fd, 0, dp_limits_peer_key(&peer), &peer) == NULL) {
		close(fd);      /* a limit refused it (counted) */
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* The table (or max.connections) just filled: the other listeners' armed
 * accepts would take connections only to close them, so they are cancelled
 * and those connections wait in their backlogs like the first listener's
 * (one that completes first is refused and counted). */
static void
dp_uring_cancel_accepts(struct dp_core *core)
{
	for (int l = 0; l < core->dp->listener_count; l++) {
		struct io_uring_sqe *sqe;

		if (!(core->accept_armed & 1u << l))
			continue;
		sqe = dp_uring_sqe(core);
		if (unlikely(sqe == NULL))
			return;
		io_uring_prep_cancel64(sqe, dp_ud(DP_OP_ACCEPT, (uint32_t)l), 0);
		io_uring_sqe_set_data64(sqe, dp_ud(DP_OP_CANCEL, 0));
	}
}

static void
dp_uring_on_accept_cqe(struct dp_core *core, uint32_t listener,
		       const struct io_uring_cqe *cqe)
{
	ASSERT_HOT(listener < (uint32_t)core->dp->listener_count);
	if (!(cqe->flags & IORING_CQE_F_MORE))
		core->accept_armed &= ~(1u << listener);
	if (cqe->res >= 0) {
		dp_uring_on_accept(core, (uint8_t)listener, cqe->res);
		if (core->accept_armed != 0 && (core->free_count == 0 || dp_limits_full(core)))
			dp_uring_cancel_accepts(core);
	} else if (cqe->res != -ECANCELED) {
		/* out of fds or memory: retry later instead of spinning */
		core->accept_retry_ns = clock_mono_ns() + DP_ACCEPT_RETRY_NS;
	}
}

static void
dp_uring_on_cqe(struct dp_core *core, const struct io_uring_cqe *cqe)
{
	uint32_t op = tag_ud_op(cqe->user_data);
	uint32_t id = tag_ud_id(cqe->user_data);
	struct conn *conn;

	if (op == DP_OP_ACCEPT) {       /* its id is the listener's index */
		dp_uring_on_accept_cqe(core, id, cqe);
		return;
	}
	/* Ops of no conn (wake) carry id 0, a valid entry too. */
	ASSERT_HOT(id < core->conn_count);
	conn = &core->conns[id];
	switch (op) {
	case DP_OP_RECV:
		dp_uring_on_recv(core, conn, cqe);
		break;
	case DP_OP_SEND:
		dp_uring_on_send(core, conn, cqe);
		break;
	case DP_OP_RECV_DIRECT:
		dp_uring_on_recv_direct(core, conn, cqe);
		break;
	case DP_OP_SPLICE_IN:
	case DP_OP_SPLICE_OUT:
		dp_uring_on_splice(core, conn, cqe, op == DP_OP_SPLICE_OUT);
		break;
	case DP_OP_WAKE:
		core->wake_armed = false;       /* the drain runs every turn anyway */
		break;
	case DP_OP_CANCEL:
		break;                          /* the recv's own CQE does the work */
	case DP_OP_POLLOUT:
		break;                          /* the linked splice's CQE does the work */
	case DP_OP_TLS_READ:
		dp_tls_conn_on_read(core, conn, cqe->res);
		break;
	case DP_OP_TLS_RECV:
		dp_uring_on_tls_recv(core, conn, cqe);
		break;
	default:
		PANIC("unknown io_uring op");
	}
}

/* Reap every completion that is ready and record its effect. */
static void
dp_uring_reap(struct dp_core *core)
{
	struct io_uring_cqe *cqe;
	unsigned head, count = 0;

	io_uring_for_each_cqe(&core->ring, head, cqe) {
		dp_uring_on_cqe(core, cqe);
		count++;
	}
	io_uring_cq_advance(&core->ring, count);
}

/* Submit the turn's SQEs in one syscall and wait for at least one completion
 * (or the timeout) unless some are already there or block is false. QSBR: a
 * core sleeping here holds no snapshot, so it goes offline and does not delay
 * dp_ctl_md_publish(). */
static void
dp_uring_wait(struct dp_core *core, bool block, uint64_t deadline_ns)
{
	struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = DP_WAIT_NS };
	struct io_uring_cqe *cqe;

	if (deadline_ns != UINT64_MAX) {
		uint64_t now = clock_mono_ns();

		ts.tv_nsec = deadline_ns <= now ? 0 : (long long)MIN(deadline_ns - now,
								    (uint64_t)DP_WAIT_NS);
		if (ts.tv_nsec == 0)
			block = false;
	}

	if (!block || io_uring_cq_ready(&core->ring) > 0) {
		/* GETEVENTS, not a plain submit: with DEFER_TASKRUN, completions
		 * (a recv that found data) run only then, and a core kept busy
		 * by a backlog never blocks, so new conns' requests waited for
		 * the whole of a flood. */
		io_uring_submit_and_get_events(&core->ring);
		return;
	}
	rcu_thread_offline();
	io_uring_submit_and_wait_timeout(&core->ring, &cqe, 1, &ts, NULL);
	rcu_thread_online();
}

/* Sleep until a completion arrives or timeout_ns passes. */
void
dp_uring_sleep(struct dp_core *core, uint64_t timeout_ns)
{
	struct __kernel_timespec ts = {
		.tv_sec = (long long)(timeout_ns / 1000000000ull),
		.tv_nsec = (long long)(timeout_ns % 1000000000ull),
	};
	struct io_uring_cqe *cqe;

	rcu_thread_offline();
	io_uring_submit_and_wait_timeout(&core->ring, &cqe, 1, &ts, NULL);
	rcu_thread_online();
}

/* A conn was parsed: at its in-flight limit, or with a backlog of unparsed
 * bytes, stash what is left and stop the recv so the socket, not this
 * process, buffers what comes next; with
 * a large frame's tail missing, stop the multishot recv so the next recv
 * (dp_uring_arm) lands it in the frame's buffer. */
static void
dp_uring_rx_after(struct dp_core *core, struct conn *conn)
{
	if (!conn_can_dispatch(conn) || dp_conn_rx_backlogged(core, conn)) {
		dp_conn_stash(core, conn);
		if (conn->open && conn->recv == CONN_RECV_ARMED)
			dp_uring_cancel_recv(core, conn);
	} else if (conn->recv == CONN_RECV_ARMED && conn->rx_head == CONN_BUF_NONE &&
		   frame_rx_missing(&conn->frx) >= DP_DIRECT_RECV_MIN) {
		dp_uring_cancel_recv(core, conn);
	}
}

/* Arm an accept on each listener that has none while the table and
 * max.connections have room (dp_uring_cancel_accepts() takes them back
 * when it runs out). */
static void
dp_uring_arm_accepts(struct dp_core *core)
{
	uint32_t all = (1u << core->dp->listener_count) - 1;

	if (core->accept_armed == all || core->free_count == 0 || dp_limits_full(core))
		return;
	if (core->accept_retry_ns != 0 && clock_mono_ns() < core->accept_retry_ns)
		return;
	core->accept_retry_ns = 0;
	for (int l = 0; l < core->dp->listener_count; l++) {
		if (!(core->accept_armed & 1u << l))
			dp_uring_arm_accept(core, l);
	}
}

/* Arm accept, the control wake-up read, and recv on every listed conn that
 * is open, idle and below its in-flight limit. ENOBUFS waiters join once a
 * buffer has come back. */
static void
dp_uring_arm(struct dp_core *core)
{
	uint32_t i;

	dp_uring_arm_accepts(core);
	if (!core->wake_armed)
		dp_uring_arm_wake(core);
	if (core->bufs_returned) {
		dp_list_move(core, &core->bufwait, &core->arm);
		core->bufs_returned = false;
	}
	for (i = 0; i < core->arm.count; i++) {
		struct conn *conn = &core->conns[core->arm.ids[i]];

		conn->lists &= ~CONN_ON_ARM;
		if (!conn->open || conn->eof || conn->recv != CONN_RECV_IDLE ||
		    !conn_can_dispatch(conn) || dp_conn_rx_backlogged(core, conn))
			continue;
		if (conn->rx_head == CONN_BUF_NONE && conn->stash == NULL &&
		    frame_rx_missing(&conn->frx) >= DP_DIRECT_RECV_MIN) {
			if (conn->tls == NULL)
				dp_uring_recv_direct(core, conn);
			else    /* ciphertext: into the TLS input */
				dp_uring_tls_recv(core, conn);
		} else {
			dp_uring_arm_recv(core, conn);
		}
	}
	core->arm.count = 0;
}

/* shutdown() completes an outstanding recv or send; the multishot recv is
 * cancelled so that its final CQE comes. */
static void
dp_uring_shutdown(struct dp_core *core, struct conn *conn)
{
	shutdown(conn->fd, SHUT_RDWR);
	if (conn->recv == CONN_RECV_ARMED)
		dp_uring_cancel_recv(core, conn);
}

/* A non-blocking send on the core: a few bytes into an empty socket
 * buffer, never a wait. */
static void
dp_uring_send_last(struct dp_core *core, struct conn *conn, const void *data, uint32_t len)
{
	(void)core;
	if (!conn->send_busy)
		(void)send(conn->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void
dp_uring_release(struct dp_core *core, struct conn *conn)
{
	(void)core;
	close(conn->fd);
}

static int
dp_uring_core_init(struct dp_core *core)
{
	return dp_uring_init(core);
}

static void
dp_uring_leave(struct dp_core *core)
{
	(void)core;
}

const struct dp_net dp_uring_net = {
	.name = "uring",
	.core_init = dp_uring_core_init,
	.core_fini = dp_uring_fini,
	.enable = dp_uring_ring_enable,
	.leave = dp_uring_leave,
	.reap = dp_uring_reap,
	.buf_put = dp_uring_buf_put,
	.rx_after = dp_uring_rx_after,
	.arm = dp_uring_arm,
	.shutdown = dp_uring_shutdown,
	.release = dp_uring_release,
	.send = dp_uring_send,
	.send_file = dp_uring_splice,
	.send_last = dp_uring_send_last,
	.wait = dp_uring_wait,
};
