/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to the dpdk backend (dp_dpdk.c: EAL, port, metrics; and
 * dp_dpdk_core.c: one core's queues, mempools, utcp and the dp_net calls;
 * dp_dpdk_tx.c: frames to mbufs and the tx burst).
 * Compiled only when libdpdk is found (SPILLWAY_DPDK). */
#ifndef DATAPLANE_DP_DPDK_INT_H
#define DATAPLANE_DP_DPDK_INT_H

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/dp_int.h"
#include "dataplane/utcp.h"

/* Packets per rx/tx burst, and rx bursts per loop turn at most. */
#define DPK_BURST 32u
#define DPK_RX_BURSTS_MAX 4u
/* Frames queued for one tx burst; a full queue is flushed at once. */
#define DPK_TXQ_MAX 256u
/* Received chunks (one per delivered segment) per core, and per conn. */
#define DPK_CHUNKS 16384u
#define DPK_CONN_CHUNKS_MAX 128u
/* Per-conn receive window (bytes handed up and not yet parsed). */
#define DPK_RCV_WINDOW (128u * 1024u)
/* utcp_send() entries per connection. */
#define DPK_SND_QUEUE 64u
/* Hugepage blocks that carry file regions (Fetch records) to the NIC. */
#define DPK_BLOCK_BYTES (256u * 1024u)
#define DPK_BLOCKS 64u
#define DPK_CONN_BLOCKS 4u
/* Spin this long after the last work before an idle sleep (when allowed). */
#define DPK_SPIN_NS 200000ull

/* The port, shared by every core (set up on the control thread). */
struct dpk_port {
	uint16_t port_id;
	uint16_t queues;
	uint16_t mtu;
	uint16_t seg_max;               /* mbufs per frame the PMD takes */
	int socket;
	bool eal_ready;
	bool configured;
	bool started;
	bool multi_seg;                 /* header + payload mbufs chained */
	bool tso_clamp;                 /* net_tap: TSO segment + headers <= MTU */
	uint32_t utcp_tx_offloads;      /* UTCP_TX_* from the device's caps */
	uint64_t tx_offloads;           /* RTE_ETH_TX_OFFLOAD_* enabled */
	uint64_t rx_offloads;
	uint16_t nb_rxd, nb_txd;
	struct rte_ether_addr mac;
	char driver[64];
	struct dp_dpdk_config cfg;
	char *eal_argv_text;            /* EAL keeps pointers into it until cleanup */
	uint64_t isn_key[2];
};

/* A hugepage block holding part of a file region while TCP needs it. Its
 * shinfo refcount: 1 for the conn (until the bytes are acked) plus 1 per
 * mbuf attached to it (until the PMD frees the mbuf). */
struct dpk_block {
	uint8_t *va;
	rte_iova_t iova;
	struct rte_mbuf_ext_shared_info shinfo;
	struct dpk_core *owner;
	uint32_t index;
};

/* The backend's view of one dp conn (same index as core->conns). */
struct dpk_conn {
	uint64_t pos_queued;            /* stream bytes given to utcp_send() */
	uint64_t pos_acked;             /* of those, acknowledged */
	uint32_t held;                  /* chunks of it not yet put back */
	uint32_t block_head;            /* FIFO of blocks in flight */
	uint32_t block_count;
	uint32_t blocks[DPK_CONN_BLOCKS];
	uint64_t block_end[DPK_CONN_BLOCKS];    /* stream position each ends at */
	uint32_t reading;               /* block being read into, or UINT32_MAX */
	bool close_pending;             /* utcp_close() at the end of the turn */
};

struct dpk_core {
	struct dp_core *core;
	struct dpk_port *port;
	uint16_t queue;
	struct rte_mempool *rx_pool;    /* NIC receive buffers */
	struct rte_mempool *tx_pool;    /* headers and copied payload */
	struct rte_mempool *ext_pool;   /* data-less mbufs for hugepage blocks */
	struct utcp *utcp;
	bool in_utcp;                   /* inside utcp_input/poll: no calls back */

	struct rte_mbuf *txq[DPK_TXQ_MAX];
	uint32_t txq_count;

	/* Chunks: the mbuf each one is in, its utcp conn and dp conn. */
	struct rte_mbuf **chunk_mbuf;
	utcp_conn_t *chunk_handle;
	uint32_t *chunk_conn;
	uint32_t *chunk_gen;
	uint16_t *chunk_free;
	uint32_t chunk_free_count;

	struct dpk_conn *conns;
	uint32_t *close_ids;            /* conns with close_pending */
	uint32_t close_count;

	uint8_t *block_mem;             /* DPK_BLOCKS x DPK_BLOCK_BYTES, hugepages */
	struct dpk_block blocks[DPK_BLOCKS];
	uint32_t block_free[DPK_BLOCKS];
	uint32_t block_free_count;
	bool blocks_returned;

	uint64_t idle_sleep_ns;
	uint64_t last_busy_ns;
	bool busy;
	bool registered;                /* rte_thread_register() done */
	uint64_t tx_dropped;            /* single writer; read by metrics */
	uint64_t rx_dropped;
};

/* dp_dpdk_core.c: dp_dpdk_net (dp_int.h) is its entry. */

/* dp_dpdk_tx.c */
void dp_dpdk_tx_flush(struct dpk_core *kc);
/* utcp_ops.xmit (arg: the dpk_core): queue one frame for the burst; false
 * (counted in tx_dropped) when out of mbufs. */
bool dp_dpdk_tx_xmit(void *arg, const uint8_t *hdr, uint32_t hdr_len,
		     const struct utcp_slice *slices, uint32_t slice_count,
		     const struct utcp_tx_meta *meta);

#endif
