/* SPDX-License-Identifier: Apache-2.0 */
/* One dataplane core on the dpdk backend: its RX/TX queue pair, mempools and
 * utcp instance, and the dp_net calls the core loop makes. Frames come off
 * the NIC ring into utcp; in-order payload becomes chunks the loop parses in
 * place (the mbuf is the chunk); replies go to utcp_send() by reference and
 * are freed when acked; file regions (Fetch records) are read by io_uring
 * into hugepage blocks that mbufs attach to (dp_dpdk_tx.c), so the NIC
 * sends them without a userspace copy, and the blocks stay until the bytes
 * are acked and every mbuf on them is freed. utcp never runs
 * inside its own callbacks: closes are deferred to the end of the turn.
 * @thread dataplane, except init/fini (control). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_malloc.h>

#include "common/log.h"
#include "dataplane/dp_dpdk_int.h"

static inline struct dpk_core *
dpk(const struct dp_core *core)
{
	return core->net_state;
}

/* ---- hugepage blocks for file regions ---- */

static void
dpk_block_free_cb(void *addr, void *opaque)
{
	struct dpk_block *b = opaque;
	struct dpk_core *kc = b->owner;

	(void)addr;
	kc->block_free[kc->block_free_count++] = b->index;
	kc->blocks_returned = true;
}

static struct dpk_block *
dpk_block_get(struct dpk_core *kc)
{
	struct dpk_block *b;

	if (kc->block_free_count == 0)
		return NULL;
	b = &kc->blocks[kc->block_free[--kc->block_free_count]];
	rte_mbuf_ext_refcnt_set(&b->shinfo, 1);
	return b;
}

/* Drop the conn's reference; the last mbuf on it (or this) frees it. */
static void
dpk_block_put(struct dpk_block *b)
{
	if (rte_mbuf_ext_refcnt_update(&b->shinfo, -1) == 0)
		dpk_block_free_cb(b->va, b);
}

/* Blocks whose bytes are all acked go back (to the PMD's last reference). */
static void
dpk_conn_blocks_acked(struct dpk_core *kc, struct dpk_conn *c, bool all)
{
	while (c->block_count > 0 &&
	       (all || c->block_end[c->block_head] <= c->pos_acked)) {
		dpk_block_put(&kc->blocks[c->blocks[c->block_head]]);
		c->block_head = (c->block_head + 1) % DPK_CONN_BLOCKS;
		c->block_count--;
	}
}

/* ---- utcp callbacks ---- */

static void
dpk_pkt_free(void *arg, void *pkt)
{
	(void)arg;
	rte_pktmbuf_free(pkt);
}

static uint32_t
dpk_accept(void *arg, utcp_conn_t handle)
{
	struct dpk_core *kc = arg;
	uint32_t ip = utcp_peer_ipv4(kc->utcp, handle);
	struct dp_peer peer = { .family = DP_PEER_IPV4,
				.addr = { ip >> 24, ip >> 16 & 0xff, ip >> 8 & 0xff, ip & 0xff } };
	uint16_t port = utcp_local_port(kc->utcp, handle);
	struct conn *conn;
	struct dpk_conn *c;
	int l = 0;

	/* The listener is the one whose port the SYN came to (utcp listens
	 * only on theirs, distinct: dp_dpdk_setup). */
	while (l < kc->core->dp->listener_count - 1 && kc->core->dp->listeners[l].port != port)
		l++;
	conn = dp_conn_accept(kc->core, (uint8_t)l, 0, handle, 0, &peer);
	if (conn == NULL)
		return UINT32_MAX;      /* table full: utcp resets it */
	c = &kc->conns[conn->id];
	memset(c, 0, sizeof(*c));
	c->reading = UINT32_MAX;
	conn->recv = CONN_RECV_ARMED;   /* while the utcp conn exists */
	return conn->id;
}

/* In-order bytes: the mbuf becomes a chunk of the conn's stream. */
static bool
dpk_recv(void *arg, uint32_t app_id, const uint8_t *data, uint32_t len, void *pkt)
{
	struct dpk_core *kc = arg;
	struct dp_core *core = kc->core;
	struct conn *conn = &core->conns[app_id];
	struct dpk_conn *c = &kc->conns[app_id];
	uint16_t bid;

	ASSERT_HOT(app_id < core->conn_count);
	if (!conn->open) {
		/* Closing: the bytes are not wanted, the window stays open. */
		rte_pktmbuf_free(pkt);
		return true;
	}
	if (c->held >= DPK_CONN_CHUNKS_MAX || kc->chunk_free_count == 0) {
		dp_stat_add(&kc->rx_dropped, 1);
		return false;   /* utcp drops it unacked; the peer resends */
	}
	bid = kc->chunk_free[--kc->chunk_free_count];
	kc->chunk_mbuf[bid] = pkt;
	kc->chunk_handle[bid] = conn->handle;
	kc->chunk_conn[bid] = app_id;
	kc->chunk_gen[bid] = conn->gen;
	core->buf_ptr[bid] = (uint8_t *)(uintptr_t)data;
	c->held++;
	dp_stat_add(&core->stats.bytes_in, len);
	dp_conn_rx_push(core, conn, bid, len);
	return true;
}

static void
dpk_eof(void *arg, uint32_t app_id)
{
	struct dpk_core *kc = arg;
	struct conn *conn = &kc->core->conns[app_id];

	dp_conn_eof(kc->core, conn);    /* the client is done: close once parsed */
}

static void
dpk_acked(void *arg, uint32_t app_id, uint32_t bytes)
{
	struct dpk_core *kc = arg;
	struct conn *conn = &kc->core->conns[app_id];
	struct dpk_conn *c = &kc->conns[app_id];

	c->pos_acked += bytes;
	dpk_conn_blocks_acked(kc, c, false);
	dp_stat_add(&kc->core->stats.bytes_out, bytes);
	if (!conn->open)
		return;
	dp_conn_sent(kc->core, conn, bytes);
	dp_list_add(&kc->core->tx, conn);
}

static void
dpk_closed(void *arg, uint32_t app_id, enum utcp_close_reason why)
{
	struct dpk_core *kc = arg;
	struct conn *conn = &kc->core->conns[app_id];

	(void)why;
	dpk_conn_blocks_acked(kc, &kc->conns[app_id], true);
	conn->recv = CONN_RECV_IDLE;    /* utcp holds nothing of it any more */
	if (conn->open)
		dp_conn_close(kc->core, conn);
	else
		dp_conn_ops_check(kc->core, conn);
}

/* ---- dp_net ---- */

static void
dpk_buf_put(struct dp_core *core, uint16_t bid)
{
	struct dpk_core *kc = dpk(core);
	uint32_t id = kc->chunk_conn[bid];
	uint32_t len = core->buf_len[bid];

	rte_pktmbuf_free(kc->chunk_mbuf[bid]);
	kc->chunk_mbuf[bid] = NULL;
	if (core->conns[id].gen == kc->chunk_gen[bid])
		kc->conns[id].held--;   /* else closed since: dpk_accept() resets it */
	/* The window opens by what was parsed (a stale handle is a no-op;
	 * inside utcp's callbacks the conn is closing, so skip it). */
	if (!kc->in_utcp)
		utcp_recv_done(kc->utcp, kc->chunk_handle[bid], len);
	kc->chunk_free[kc->chunk_free_count++] = bid;
}

/* The in-flight limit needs nothing here: unparsed chunks stay, the
 * window stays shut by what they hold, and the peer stops sending. */
static void
dpk_rx_after(struct dp_core *core, struct conn *conn)
{
	(void)core;
	(void)conn;
}

static void
dpk_send(struct dp_core *core, struct conn *conn, uint32_t iov_count)
{
	struct dpk_core *kc = dpk(core);
	struct dpk_conn *c = &kc->conns[conn->id];
	uint64_t queued = 0;

	for (uint32_t i = 0; i < iov_count; i++) {
		if (!utcp_send(kc->utcp, conn->handle, conn->iov[i].iov_base,
			       (uint32_t)conn->iov[i].iov_len, 0))
			break;  /* queue full: the next ack lists the conn again */
		queued += conn->iov[i].iov_len;
	}
	conn->tx_queued += queued;
	c->pos_queued += queued;
}

/* Read (part of) a file region into a hugepage block; dpk_on_read() hands
 * it to utcp. One read per conn at a time (send_busy). */
static int
dpk_send_file(struct dp_core *core, struct conn *conn, int fd, int64_t pos, uint32_t len)
{
	struct dpk_core *kc = dpk(core);
	struct dpk_conn *c = &kc->conns[conn->id];
	struct io_uring_sqe *sqe;
	struct dpk_block *b;
	uint32_t n = len < DPK_BLOCK_BYTES ? len : DPK_BLOCK_BYTES;

	if (c->block_count == DPK_CONN_BLOCKS || utcp_send_room(kc->utcp, conn->handle) == 0)
		return 0;       /* an ack frees room and lists the conn again */
	b = dpk_block_get(kc);
	if (b == NULL) {
		dp_list_add(&core->bufwait, conn);      /* until a block comes back */
		return 0;
	}
	sqe = dp_uring_sqe(core);
	if (unlikely(sqe == NULL)) {
		dpk_block_put(b);
		return -EBUSY;  /* the kernel refused the queue: the caller closes */
	}
	io_uring_prep_read(sqe, fd, b->va, n, (uint64_t)pos);
	io_uring_sqe_set_data64(sqe, dp_ud(DP_OP_FILE_READ, conn->id));
	c->reading = b->index;
	conn->send_busy = true;
	return 0;
}

static void
dpk_on_read(struct dp_core *core, struct conn *conn, int res)
{
	struct dpk_core *kc = dpk(core);
	struct dpk_conn *c = &kc->conns[conn->id];
	struct dpk_block *b = &kc->blocks[c->reading];
	uint32_t slot;

	c->reading = UINT32_MAX;
	conn->send_busy = false;
	if (!conn->open || res <= 0) {
		dpk_block_put(b);
		if (conn->open)
			dp_conn_close(core, conn);      /* the file shrank or failed */
		else
			dp_conn_ops_check(core, conn);
		return;
	}
	/* Room was checked before the read and only this path adds to it. */
	if (!utcp_send(kc->utcp, conn->handle, b->va, (uint32_t)res, (uint64_t)(uintptr_t)b)) {
		dpk_block_put(b);
		dp_conn_close(core, conn);
		return;
	}
	slot = (c->block_head + c->block_count) % DPK_CONN_BLOCKS;
	c->pos_queued += (uint32_t)res;
	c->blocks[slot] = b->index;
	c->block_end[slot] = c->pos_queued;
	c->block_count++;
	conn->tx_queued += (uint32_t)res;
	dp_list_add(&core->tx, conn);
}

static void
dpk_reap_ring(struct dp_core *core)
{
	struct io_uring_cqe *cqe;
	unsigned head, count = 0;

	io_uring_for_each_cqe(&core->ring, head, cqe) {
		uint32_t op = tag_ud_op(cqe->user_data);
		uint32_t id = tag_ud_id(cqe->user_data);

		if (op == DP_OP_WAKE) {
			core->wake_armed = false;
		} else if (op == DP_OP_TLS_READ) {
			ASSERT(id < core->conn_count);
			dp_tls_conn_on_read(core, &core->conns[id], cqe->res);
		} else {
			ASSERT(op == DP_OP_FILE_READ && id < core->conn_count);
			dpk_on_read(core, &core->conns[id], cqe->res);
		}
		count++;
	}
	io_uring_cq_advance(&core->ring, count);
	if (count > 0)
		dpk(core)->busy = true;
}

/* Frames off the NIC ring into utcp, then io_uring completions. */
static void
dpk_reap(struct dp_core *core)
{
	struct dpk_core *kc = dpk(core);
	struct rte_mbuf *pkts[DPK_BURST];
	uint64_t now = clock_mono_ns();

	kc->in_utcp = true;
	for (uint32_t b = 0; b < DPK_RX_BURSTS_MAX; b++) {
		uint16_t n = rte_eth_rx_burst(kc->port->port_id, kc->queue, pkts, DPK_BURST);

		for (uint16_t i = 0; i < n; i++) {
			struct rte_mbuf *m = pkts[i];
			uint64_t f = m->ol_flags;
			uint32_t flags = 0;

			if (i + 1 < n)
				rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
			if ((f & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD)
				flags |= UTCP_RX_IP_CSUM_GOOD;
			else if ((f & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_BAD)
				flags |= UTCP_RX_IP_CSUM_BAD;
			if ((f & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
				flags |= UTCP_RX_L4_CSUM_GOOD;
			else if ((f & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_BAD)
				flags |= UTCP_RX_L4_CSUM_BAD;
			if (unlikely(m->nb_segs != 1)) {
				rte_pktmbuf_free(m);    /* scattered: larger than the MTU */
				continue;
			}
			utcp_input(kc->utcp, m, rte_pktmbuf_mtod(m, const uint8_t *),
				   m->data_len, flags, now);
		}
		if (n > 0)
			kc->busy = true;
		if (n < DPK_BURST)
			break;
	}
	kc->in_utcp = false;
	dpk_reap_ring(core);
}

/* Block waiters retry once blocks came back; the control wake-up read is
 * re-armed; per-conn arming has nothing to do (utcp always receives). */
static void
dpk_arm(struct dp_core *core)
{
	struct dpk_core *kc = dpk(core);
	uint32_t i;

	for (i = 0; i < core->arm.count; i++)
		core->conns[core->arm.ids[i]].lists &= ~CONN_ON_ARM;
	core->arm.count = 0;
	if (kc->blocks_returned) {
		dp_list_move(core, &core->bufwait, &core->tx);
		kc->blocks_returned = false;
	}
	if (!core->wake_armed)
		dp_uring_arm_wake(core);
}

/* Closing: utcp sends FIN after the queued replies, at the end of the turn
 * (never from inside a utcp callback). conn->recv stays ARMED until
 * dpk_closed() says utcp let go of the conn's memory. */
static void
dpk_shutdown(struct dp_core *core, struct conn *conn)
{
	struct dpk_core *kc = dpk(core);
	struct dpk_conn *c = &kc->conns[conn->id];

	if (conn->recv != CONN_RECV_ARMED || c->close_pending)
		return;
	c->close_pending = true;
	kc->close_ids[kc->close_count++] = conn->id;
}

static void
dpk_close_pending(struct dpk_core *kc)
{
	for (uint32_t i = 0; i < kc->close_count; i++) {
		struct conn *conn = &kc->core->conns[kc->close_ids[i]];

		kc->conns[conn->id].close_pending = false;
		if (conn->recv == CONN_RECV_ARMED)
			utcp_close(kc->utcp, conn->handle);
	}
	kc->close_count = 0;
}

/* The entry is freed; at exit, a conn utcp still has is reset. */
static void
dpk_release(struct dp_core *core, struct conn *conn)
{
	struct dpk_core *kc = dpk(core);

	if (conn->recv == CONN_RECV_ARMED) {
		utcp_abort(kc->utcp, conn->handle);
		dpk_conn_blocks_acked(kc, &kc->conns[conn->id], true);
	}
}

/* End of turn: closes, then utcp's ACKs, data and timers, then the burst;
 * sleep only when allowed, idle for a while, and nothing is due sooner. */
static void
dpk_wait(struct dp_core *core, bool block, uint64_t deadline_ns)
{
	struct dpk_core *kc = dpk(core);
	uint64_t now = clock_mono_ns();
	uint64_t wake;

	dpk_close_pending(kc);
	kc->in_utcp = true;
	utcp_poll(kc->utcp, now);
	kc->in_utcp = false;
	dp_dpdk_tx_flush(kc);
	if (kc->busy || !block || kc->idle_sleep_ns == 0) {
		if (kc->busy)
			kc->last_busy_ns = now;
		kc->busy = false;
		if (io_uring_sq_ready(&core->ring) > 0)
			io_uring_submit(&core->ring);
		return;
	}
	if (now - kc->last_busy_ns < DPK_SPIN_NS) {
		if (io_uring_sq_ready(&core->ring) > 0)
			io_uring_submit(&core->ring);
		return;
	}
	wake = now + kc->idle_sleep_ns;
	if (deadline_ns < wake)
		wake = deadline_ns;
	if (utcp_next_deadline(kc->utcp) < wake)
		wake = utcp_next_deadline(kc->utcp);
	if (wake <= now) {
		io_uring_submit(&core->ring);
		return;
	}
	dp_uring_sleep(core, wake - now);
}

static int
dpk_enable(struct dp_core *core)
{
	struct dpk_core *kc = dpk(core);

	/* An lcore id for this thread: mempool caches work per lcore. */
	if (rte_thread_register() == 0)
		kc->registered = true;
	utcp_announce(kc->utcp, clock_mono_ns());
	return dp_uring_ring_enable(core);
}

static void
dpk_leave(struct dp_core *core)
{
	struct dpk_core *kc = dpk(core);

	dp_dpdk_tx_flush(kc);
	if (kc->registered)
		rte_thread_unregister();
	kc->registered = false;
}

/* ---- setup ---- */

static struct rte_mempool *
dpk_pool(const char *what, int core, unsigned count, uint16_t room, int socket)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	struct rte_mempool *mp;

	snprintf(name, sizeof(name), "spw_%s_%d", what, core);
	mp = rte_pktmbuf_pool_create(name, count, 256, 0, room, socket);
	if (mp == NULL)
		log_error("dpdk", "core %d: cannot create mempool %s (%u mbufs): %s (more "
			  "hugepages? see hugepages-setup.sh)", core, name, count,
			  rte_strerror(rte_errno));
	return mp;
}

static int
dpk_core_tables(struct dp_core *core, struct dpk_core *kc)
{
	uint32_t n = core->conn_count;
	int rc = dp_core_bufs_alloc(core, DPK_CHUNKS);

	if (rc < 0)
		return rc;
	kc->chunk_mbuf = calloc(DPK_CHUNKS, sizeof(*kc->chunk_mbuf));
	kc->chunk_handle = calloc(DPK_CHUNKS, sizeof(*kc->chunk_handle));
	kc->chunk_conn = calloc(DPK_CHUNKS, sizeof(*kc->chunk_conn));
	kc->chunk_gen = calloc(DPK_CHUNKS, sizeof(*kc->chunk_gen));
	kc->chunk_free = calloc(DPK_CHUNKS, sizeof(*kc->chunk_free));
	kc->conns = calloc(n, sizeof(*kc->conns));
	kc->close_ids = calloc(n, sizeof(*kc->close_ids));
	if (kc->chunk_mbuf == NULL || kc->chunk_handle == NULL || kc->chunk_conn == NULL ||
	    kc->chunk_gen == NULL || kc->chunk_free == NULL || kc->conns == NULL ||
	    kc->close_ids == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < DPK_CHUNKS; i++)
		kc->chunk_free[i] = (uint16_t)(DPK_CHUNKS - 1 - i);
	kc->chunk_free_count = DPK_CHUNKS;
	return 0;
}

static int
dpk_core_blocks(struct dpk_core *kc, int socket)
{
	/* 2 MiB aligned: a block never straddles a hugepage, so its IOVA
	 * range is contiguous even in PA mode. */
	kc->block_mem = rte_malloc_socket("spw_blocks", (size_t)DPK_BLOCKS * DPK_BLOCK_BYTES,
					  2u << 20, socket);
	if (kc->block_mem == NULL) {
		log_error("dpdk", "cannot allocate %u MiB of hugepage blocks (more hugepages? "
			  "see hugepages-setup.sh)", DPK_BLOCKS * DPK_BLOCK_BYTES >> 20);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < DPK_BLOCKS; i++) {
		struct dpk_block *b = &kc->blocks[i];

		b->va = kc->block_mem + (size_t)i * DPK_BLOCK_BYTES;
		b->iova = rte_mem_virt2iova(b->va);
		b->owner = kc;
		b->index = i;
		b->shinfo.free_cb = dpk_block_free_cb;
		b->shinfo.fcb_opaque = b;
		kc->block_free[i] = i;
	}
	kc->block_free_count = DPK_BLOCKS;
	return 0;
}

static int
dpk_core_utcp(struct dp_core *core, struct dpk_core *kc)
{
	STATIC_ASSERT(DP_LISTENERS_MAX <= UTCP_LISTEN_MAX, "utcp listens on every port");
	const struct dpk_port *pt = kc->port;
	struct utcp_config uc = {
		.ipv4 = pt->cfg.ipv4,
		.prefix_len = pt->cfg.prefix_len,
		.gateway = pt->cfg.gateway,
		.mtu = pt->mtu,
		.listen_port_count = (uint32_t)core->dp->listener_count,
		.conn_max = core->conn_count,
		.syn_backlog_max = 1024,
		.time_wait_max = core->conn_count,
		.rcv_window = DPK_RCV_WINDOW,
		.snd_queue_max = DPK_SND_QUEUE,
		/* Room for a whole window of MSS segments: anything less drops
		 * what arrived after a loss, and without SACK the sender only
		 * learns of it one RTT (or one RTO) at a time. */
		.ooo_max = DPK_RCV_WINDOW / 1024u,
		.tx_offloads = pt->utcp_tx_offloads,
		.tso_max = 65535u - 14u - 20u - 60u,
		.rto_min_ms = 200,
		.rto_max_ms = 60000,
		.retries_max = 15,
		.syn_retries_max = 5,
		.time_wait_ms = 60000,
		.fin_wait2_ms = 60000,
		.ops = {
			.xmit = dp_dpdk_tx_xmit,
			.pkt_free = dpk_pkt_free,
			.accept = dpk_accept,
			.recv = dpk_recv,
			.eof = dpk_eof,
			.acked = dpk_acked,
			.closed = dpk_closed,
		},
		.ops_arg = kc,
	};

	for (int l = 0; l < core->dp->listener_count; l++)
		uc.listen_ports[l] = core->dp->listeners[l].port;
	memcpy(uc.mac, pt->mac.addr_bytes, sizeof(uc.mac));
	uc.isn_key[0] = pt->isn_key[0];
	uc.isn_key[1] = pt->isn_key[1];
	kc->utcp = utcp_create(&uc);
	if (kc->utcp == NULL) {
		log_error("dpdk", "core %d: utcp setup failed", core->index);
		return -ENOMEM;
	}
	return 0;
}

/* Mempools, the queue pair, chunk tables, hugepage blocks, utcp and the
 * io_uring ring (control wake-ups and file reads). @thread control */
static int
dpk_core_init(struct dp_core *core)
{
	struct dpk_port *pt = core->dp->dpdk;
	struct dpk_core *kc = calloc(1, sizeof(*kc));
	uint16_t room = (uint16_t)(RTE_PKTMBUF_HEADROOM +
				   (pt->mtu + 64u > 2048u ? pt->mtu + 64u : 2048u));
	unsigned rx_count = pt->mtu > 2000 ? 8191 : 16383;
	struct rte_eth_rxconf rxconf;
	struct rte_eth_txconf txconf;
	struct rte_eth_dev_info info;
	int rc;

	if (kc == NULL)
		return -ENOMEM;
	core->net_state = kc;
	kc->core = core;
	kc->port = pt;
	kc->queue = (uint16_t)core->index;
	kc->idle_sleep_ns = (uint64_t)pt->cfg.idle_sleep_us * 1000u;
	rc = dp_uring_ring_init(core, false);
	if (rc < 0)
		return rc;
	kc->rx_pool = dpk_pool("rx", core->index, rx_count, room, pt->socket);
	kc->tx_pool = dpk_pool("tx", core->index, 8191, room, pt->socket);
	kc->ext_pool = dpk_pool("ext", core->index, 8191, 0, pt->socket);
	if (kc->rx_pool == NULL || kc->tx_pool == NULL || kc->ext_pool == NULL)
		return -ENOMEM;
	rc = rte_eth_dev_info_get(pt->port_id, &info);
	if (rc != 0)
		return rc;
	rxconf = info.default_rxconf;
	rxconf.offloads = pt->rx_offloads;
	txconf = info.default_txconf;
	txconf.offloads = pt->tx_offloads;
	rc = rte_eth_rx_queue_setup(pt->port_id, kc->queue, pt->nb_rxd, (unsigned)pt->socket,
				    &rxconf, kc->rx_pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(pt->port_id, kc->queue, pt->nb_txd,
					    (unsigned)pt->socket, &txconf);
	if (rc != 0) {
		log_error("dpdk", "core %d: queue setup failed: %s", core->index,
			  rte_strerror(-rc));
		return rc;
	}
	rc = dpk_core_tables(core, kc);
	if (rc == 0)
		rc = dpk_core_blocks(kc, pt->socket);
	if (rc == 0)
		rc = dpk_core_utcp(core, kc);
	return rc;
}

/* @thread control, after the core thread has exited */
static void
dpk_core_fini(struct dp_core *core)
{
	struct dpk_core *kc = dpk(core);

	if (core->ring_ok)
		io_uring_queue_exit(&core->ring);
	core->ring_ok = false;
	if (kc == NULL)
		return;
	if (kc->utcp != NULL)
		utcp_destroy(kc->utcp);
	for (uint32_t i = 0; kc->chunk_mbuf != NULL && i < DPK_CHUNKS; i++)
		rte_pktmbuf_free(kc->chunk_mbuf[i]);
	rte_free(kc->block_mem);
	free(kc->chunk_mbuf);
	free(kc->chunk_handle);
	free(kc->chunk_conn);
	free(kc->chunk_gen);
	free(kc->chunk_free);
	free(kc->conns);
	free(kc->close_ids);
	free(kc);
	core->net_state = NULL;
}

const struct dp_net dp_dpdk_net = {
	.name = "dpdk",
	.core_init = dpk_core_init,
	.core_fini = dpk_core_fini,
	.enable = dpk_enable,
	.leave = dpk_leave,
	.reap = dpk_reap,
	.buf_put = dpk_buf_put,
	.rx_after = dpk_rx_after,
	.arm = dpk_arm,
	.shutdown = dpk_shutdown,
	.release = dpk_release,
	.send = dpk_send,
	.send_file = dpk_send_file,
	.wait = dpk_wait,
};
