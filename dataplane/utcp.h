/* SPDX-License-Identifier: Apache-2.0 */
/* utcp: Spillway's userspace TCP/IP (Ethernet, ARP, IPv4, ICMP echo, TCP,
 * server side) for the dpdk backend. A pure C library: no DPDK types, no
 * threads, no clock of its own, no allocation after utcp_create(). One
 * struct utcp per dataplane core, used only by that core's thread.
 *
 * The NIC is reached through struct utcp_ops: received frames come in with
 * utcp_input() (the caller's packet handle travels with them), frames go out
 * through ops.xmit() as a header block plus payload slices that reference the
 * application's memory (no copy in the stack). In-order payload goes up
 * through ops.recv() in place, with the packet handle, which the application
 * then owns. The caller drives time: every call takes now_ns
 * (CLOCK_MONOTONIC) and utcp_poll() runs timers and flushes ACKs and queued
 * data once per loop turn (one ACK per connection per receive burst).
 *
 * Phase 1 (../shared/DESIGN.md section 2): full RFC 9293 state machine with
 * TIME_WAIT and SYN_RCVD expiry and a FIN_WAIT_2 timeout, MSS and window
 * scaling (SACK and timestamps are declined), RFC 6298 retransmission timer,
 * NewReno with fast retransmit (RFC 5681/6582), zero-window probing, RFC 5961
 * RST/SYN checks, bounded out-of-order queue, SYN backlog limit, software
 * checksums where the NIC gives none. Passive opens only. */
#ifndef DATAPLANE_UTCP_H
#define DATAPLANE_UTCP_H

#include <stdbool.h>
#include <stdint.h>

/* A connection handle: table index in the low 20 bits, a generation in the
 * high 12. A handle of a connection that has since been freed is stale and
 * every call with it is a no-op. */
typedef uint32_t utcp_conn_t;
#define UTCP_CONN_NONE UINT32_MAX
#define UTCP_CONN_MAX (1u << 20)
#define UTCP_LISTEN_MAX 8       /* listening ports */

/* Payload slices of one outgoing frame, at most this many (ENA: 17
 * buffers per packet, one of them the header). */
#define UTCP_TX_SLICES_MAX 16u

/* utcp_input() rx_flags: what the NIC verified. Neither GOOD nor BAD for a
 * layer means unknown: the stack checks it in software. */
enum {
	UTCP_RX_IP_CSUM_GOOD = 1u << 0,
	UTCP_RX_IP_CSUM_BAD = 1u << 1,
	UTCP_RX_L4_CSUM_GOOD = 1u << 2,
	UTCP_RX_L4_CSUM_BAD = 1u << 3,
};

/* What the NIC can do on transmit (struct utcp_config.tx_offloads). */
enum {
	UTCP_TX_IP_CSUM = 1u << 0,      /* NIC fills the IPv4 header checksum */
	UTCP_TX_TCP_CSUM = 1u << 1,     /* NIC fills the TCP checksum (the stack
					 * leaves the pseudo-header sum in it) */
	UTCP_TX_TCP_TSO = 1u << 2,      /* NIC splits a frame into MSS segments */
};

/* One payload slice of an outgoing frame: the application's memory as given
 * to utcp_send() (or a part of it), with the ref given there. */
struct utcp_slice {
	const uint8_t *base;
	uint32_t len;
	uint64_t ref;           /* utcp_send()'s ref, opaque to the stack */
};

/* How the NIC must finish an outgoing frame. */
struct utcp_tx_meta {
	uint16_t l2_len;        /* 14 */
	uint16_t l3_len;        /* 20 */
	uint16_t l4_len;        /* TCP header with options; 0 for non-TCP */
	uint16_t tso_segsz;     /* > 0: TSO with this MSS (only with UTCP_TX_TCP_TSO) */
	uint32_t offloads;      /* UTCP_TX_*: which checksums the NIC must fill */
};

/* Why a connection went away (ops.closed). */
enum utcp_close_reason {
	UTCP_CLOSE_NORMAL = 0,  /* orderly: both FINs exchanged, or our FIN acked */
	UTCP_CLOSE_RESET,       /* the peer sent an acceptable RST */
	UTCP_CLOSE_TIMEOUT,     /* retransmissions or a FIN_WAIT_2/persist limit ran out */
	UTCP_CLOSE_ABORT,       /* utcp_abort() */
};

struct utcp_ops {
	/* Send one frame: hdr[0, hdr_len) holds the Ethernet, IPv4 and TCP (or
	 * ARP/ICMP) headers, complete except for the checksums meta->offloads
	 * asks the NIC to fill; the payload follows as the slices, in order.
	 * The callee copies or references the slices before returning (refs
	 * let it attach the memory zero-copy); the stack keeps the memory
	 * until it is acked. Returns false when the frame was dropped (no
	 * buffers, queue full): counted, and TCP recovers by retransmitting. */
	bool (*xmit)(void *arg, const uint8_t *hdr, uint32_t hdr_len,
		     const struct utcp_slice *slices, uint32_t slice_count,
		     const struct utcp_tx_meta *meta);
	/* Free a received packet handle the stack does not hand up. */
	void (*pkt_free)(void *arg, void *pkt);
	/* A connection reached ESTABLISHED (after the handshake's ACK). Return
	 * the application's id for it (echoed in every callback below), or
	 * UINT32_MAX to refuse it: the stack resets it. */
	uint32_t (*accept)(void *arg, utcp_conn_t conn);
	/* In-order bytes data[0, len) of segment pkt. On true the application
	 * owns pkt (and the bytes, which stay valid until it frees pkt) and must
	 * call utcp_recv_done() once it is done with them; the window opens
	 * by that much. On false (no room) the stack drops the segment
	 * unacknowledged (the peer retransmits) and frees pkt itself. A pkt
	 * may reach recv() at most once. */
	bool (*recv)(void *arg, uint32_t app_id, const uint8_t *data, uint32_t len, void *pkt);
	/* The peer sent FIN: no more bytes will arrive (the app normally closes). */
	void (*eof)(void *arg, uint32_t app_id);
	/* bytes more of what utcp_send() queued are acknowledged: the slices
	 * they cover are no longer referenced by the stack. */
	void (*acked)(void *arg, uint32_t app_id, uint32_t bytes);
	/* The connection is gone; after this its handle is stale and no more
	 * callbacks name app_id. Unacked send memory is no longer referenced.
	 * Not called for utcp_abort() or a refused accept. */
	void (*closed)(void *arg, uint32_t app_id, enum utcp_close_reason why);
};

struct utcp_config {
	uint8_t mac[6];
	uint32_t ipv4;                  /* ours, host byte order */
	uint8_t prefix_len;             /* of ipv4's subnet */
	uint32_t gateway;               /* host byte order; 0: none */
	uint16_t mtu;                   /* IP MTU, 576..9216 */
	/* The TCP ports we accept on (listen_ports[0..listen_port_count)),
	 * distinct and nonzero; utcp_local_port() tells a conn's. */
	uint16_t listen_ports[UTCP_LISTEN_MAX];
	uint32_t listen_port_count;     /* 1..UTCP_LISTEN_MAX */
	uint32_t conn_max;              /* connection table size (<= UTCP_CONN_MAX) */
	uint32_t syn_backlog_max;       /* half-open connections at most */
	uint32_t time_wait_max;         /* TIME_WAIT table size */
	uint32_t rcv_window;            /* per connection receive window, bytes */
	uint32_t snd_queue_max;         /* utcp_send() entries per connection */
	uint32_t ooo_max;               /* out-of-order segments held per connection */
	uint32_t tx_offloads;           /* UTCP_TX_* the NIC has */
	uint32_t tso_max;               /* largest TSO frame payload (UTCP_TX_TCP_TSO) */
	uint32_t rto_min_ms;            /* 200 */
	uint32_t rto_max_ms;            /* 60000 */
	uint32_t retries_max;           /* retransmissions before giving up (15) */
	uint32_t syn_retries_max;       /* SYN-ACK retransmissions before expiry (5) */
	uint32_t time_wait_ms;          /* 2 MSL (60000) */
	uint32_t fin_wait2_ms;          /* 60000 */
	uint64_t isn_key[2];            /* RFC 6528 secret */
	struct utcp_ops ops;
	void *ops_arg;
};

/* Counters, single writer (the owning core); read with relaxed loads. */
struct utcp_stats {
	uint64_t frames_in, frames_out, frames_dropped_tx;
	uint64_t arp_in, arp_out, icmp_echo;
	uint64_t ip_bad, csum_bad, not_ours;
	uint64_t segs_in, segs_out, bytes_in, bytes_out;
	uint64_t retransmits, fast_retransmits, rto_expired, zero_window_probes;
	uint64_t ooo_queued, ooo_dropped, dup_acks_in;
	uint64_t rst_in, rst_out, challenge_acks, syn_dropped_backlog;
	uint64_t conns_accepted, conns_closed, conns_reset, conns_timeout;
	uint64_t conns_open, syn_rcvd_open, time_wait_open;
	/* Added with the implementation: TIME_WAIT skipped because its table
	 * was full, SYN_RCVD entries that expired unanswered, and connections
	 * ops.accept refused. */
	uint64_t time_wait_dropped, syn_rcvd_expired, conns_refused;
};

struct utcp;

/* Set up one core's stack (all memory allocated here). NULL on a bad config
 * or no memory. */
struct utcp *utcp_create(const struct utcp_config *cfg);
/* Free pkts still held (out-of-order queues); no callbacks. */
void utcp_destroy(struct utcp *s);
/* Send a gratuitous ARP for our address. */
void utcp_announce(struct utcp *s, uint64_t now_ns);

/* One received Ethernet frame, frame[0, len), inside packet handle pkt.
 * The stack takes pkt: it hands it up (ops.recv), keeps it (out-of-order
 * queue) or frees it (ops.pkt_free) before or after returning. */
void utcp_input(struct utcp *s, void *pkt, const uint8_t *frame, uint32_t len,
		uint32_t rx_flags, uint64_t now_ns);
/* End of a loop turn: send pending ACKs and window updates, transmit what
 * the windows allow, run expired timers. */
void utcp_poll(struct utcp *s, uint64_t now_ns);
/* When utcp_poll() next has timer work to do (UINT64_MAX: none). */
uint64_t utcp_next_deadline(const struct utcp *s);

/* Queue data[0, len) for sending after what is queued; the memory stays the
 * caller's and must stay valid and unchanged until ops.acked() covers it (or
 * the connection is closed/aborted). ref travels with every slice of it to
 * ops.xmit(). Sent at the next utcp_poll(). Returns false when the
 * connection's send queue has no free entry (or is closing). */
bool utcp_send(struct utcp *s, utcp_conn_t conn, const uint8_t *data, uint32_t len,
	       uint64_t ref);
/* The peer's IPv4 address, host byte order (0 when stale). */
uint32_t utcp_peer_ipv4(const struct utcp *s, utcp_conn_t conn);
/* The conn's local port: which of listen_ports it came in on (0: stale). */
uint16_t utcp_local_port(const struct utcp *s, utcp_conn_t conn);
/* Free send-queue entries (0 when stale). */
uint32_t utcp_send_room(const struct utcp *s, utcp_conn_t conn);
/* The application released bytes handed up by ops.recv(). */
void utcp_recv_done(struct utcp *s, utcp_conn_t conn, uint32_t bytes);
/* Orderly close: FIN after the queued data. ops.closed follows later. */
void utcp_close(struct utcp *s, utcp_conn_t conn);
/* Send RST and forget the connection now (queued data is dropped, no
 * callbacks; held pkts are freed). */
void utcp_abort(struct utcp *s, utcp_conn_t conn);

const struct utcp_stats *utcp_stats(const struct utcp *s);

/* Internet checksum helpers, also used by the NIC glue and the tests. The
 * sum is in memory order (as rte_raw_cksum): store utcp_csum_fold()'s
 * result with memcpy, no byte swap. */
uint32_t utcp_csum_partial(const void *data, uint32_t len, uint32_t sum);
uint16_t utcp_csum_fold(uint32_t sum);

#endif
