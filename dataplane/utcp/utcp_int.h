/* SPDX-License-Identifier: Apache-2.0 */
/* utcp internals shared by the files of dataplane/utcp/: the per-core stack
 * struct, the connection and TIME_WAIT tables, the timer wheel, wire
 * constants and the functions each file exports to the others. Must not be
 * included from outside dataplane/utcp/ (the unit tests excepted). */
#ifndef DATAPLANE_UTCP_INT_H
#define DATAPLANE_UTCP_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/assert.h"
#include "common/be.h"
#include "common/compiler.h"
#include "dataplane/utcp.h"
#include "dataplane/utcp/seq.h"

#define ETH_HDR_LEN 14u
#define IP_HDR_LEN 20u
#define TCP_HDR_LEN 20u
#define TCP_OPT_MAX 40u
#define ARP_LEN 28u
#define HDR_BUF_LEN (ETH_HDR_LEN + IP_HDR_LEN + TCP_HDR_LEN + TCP_OPT_MAX)

#define ETHERTYPE_IPV4 0x0800u
#define ETHERTYPE_ARP 0x0806u
#define IPPROTO_ICMP_ 1u
#define IPPROTO_TCP_ 6u

#define TCP_FIN 0x01u
#define TCP_SYN 0x02u
#define TCP_RST 0x04u
#define TCP_PSH 0x08u
#define TCP_ACK 0x10u

#define TCP_MSS_DEFAULT 536u    /* RFC 9293: a SYN without MSS */
#define TCP_MSS_MIN 88u         /* below this a peer MSS is raised (as Linux) */
#define TCP_WSCALE_MAX 14u
#define TCP_IW_SEGS 10u         /* RFC 6928 */
#define TCP_SYNACK_RTO_MS 1000u
#define TCP_RTO_INIT_MS 1000u   /* RFC 6298 2.1 */
#define TCP_DUPACK_THRESH 3u
#define TCP_SND_QUEUED_MAX (1u << 30)   /* keeps seq comparisons valid */
#define TCP_TSO_PAYLOAD_MAX (65535u - IP_HDR_LEN - TCP_HDR_LEN - TCP_OPT_MAX)

#define NEIGH_MAX 16u
#define IDX_NONE UINT32_MAX
#define DIRTY_OFF (UINT32_MAX - 1u)
#define GEN_MAX 0xffeu          /* generation 0xfff with index 0xfffff is UTCP_CONN_NONE */

/* Timer wheel: 4096 slots of 2^20 ns (about 1 ms), one revolution 4.4 s;
 * a timer further out waits in its slot for later revolutions. */
#define WHEEL_TICK_SHIFT 20u
#define WHEEL_SLOTS 4096u
#define WHEEL_MASK (WHEEL_SLOTS - 1u)
#define WHEEL_FIRE WHEEL_SLOTS  /* the extra list head of timers being run */

STATIC_ASSERT((WHEEL_SLOTS & (WHEEL_SLOTS - 1)) == 0, "wheel slots must be a power of two");
STATIC_ASSERT(HDR_BUF_LEN == 94, "header block: eth + ip + tcp + options");

enum tcp_state {
	TCP_CLOSED = 0,         /* free table entry */
	TCP_SYN_RCVD,
	TCP_ESTABLISHED,
	TCP_CLOSE_WAIT,
	TCP_LAST_ACK,
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSING,
};

enum tcp_timer_kind {
	TIMER_NONE = 0,
	TIMER_SYNACK,           /* SYN-ACK retransmission, SYN_RCVD expiry */
	TIMER_RTO,              /* RFC 6298 retransmission */
	TIMER_PERSIST,          /* zero-window probe */
	TIMER_FIN_WAIT_2,
	TIMER_TIME_WAIT,        /* a TIME_WAIT table entry */
};

/* One timer: conns use nodes [0, conn_max), TIME_WAIT entries the rest. */
struct timer_node {
	uint32_t prev, next;
	uint32_t slot;          /* IDX_NONE when not armed */
	uint64_t expire_ns;
};

/* A utcp_send() entry: the application's memory, referenced, never copied. */
struct sq_ent {
	const uint8_t *base;
	uint32_t len;
	uint64_t ref;
};

/* An out-of-order segment held by its packet handle. */
struct ooo_ent {
	void *pkt;
	const uint8_t *data;
	uint32_t seq;
	uint32_t len;
	bool fin;
};

struct tcp_conn {
	uint8_t state;                  /* enum tcp_state */
	uint8_t timer_kind;             /* enum tcp_timer_kind */
	uint8_t snd_wscale, rcv_wscale; /* 0 both without window scaling */
	bool fin_queued;                /* utcp_close(): FIN at seq snd_end */
	bool ack_pending;               /* flush an ACK at utcp_poll() */
	bool ack_now;                   /* ... right away (out-of-order, gap fill) */
	bool in_recovery;               /* NewReno fast recovery */
	bool rtt_timing;
	uint8_t retries, backoff, dupacks;
	uint16_t gen;
	uint16_t peer_port;             /* host order */
	uint16_t lport;                 /* ours, one of listen_ports; host order */
	uint16_t mss;                   /* effective send MSS */
	uint16_t syn_opts;              /* peer MSS << 1 | WS seen, kept for the SYN-ACK */
	uint8_t peer_ws;                /* the peer's shift (clamped to 14) */
	uint8_t peer_mac[6];
	uint32_t hash_next;
	uint32_t dirty_next;            /* DIRTY_OFF: not on the dirty list */
	uint32_t app_id;
	uint32_t peer_ip;               /* host order */
	/* send side */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_end;
	uint32_t snd_wnd, snd_wnd_max, snd_wl1, snd_wl2;
	uint32_t cwnd, ssthresh, recover, ca_acked;
	uint32_t srtt_us, rttvar_us, rto_ms;
	uint32_t rtt_seq;
	uint64_t rtt_start_ns;
	uint64_t persist_since_ns;
	uint32_t sq_head, sq_count, sq_head_off;
	/* receive side */
	uint32_t irs, rcv_nxt, rcv_adv, rcv_held;
	uint32_t ooo_count;
};

/* A TIME_WAIT entry: what is needed to re-ACK a FIN and judge a new SYN. */
struct tw_ent {
	uint32_t peer_ip;
	uint16_t peer_port;
	uint16_t lport;
	uint8_t peer_mac[6];
	bool used;
	uint32_t snd_nxt, rcv_nxt;
	uint32_t hash_next;
};

struct ratelimit {
	uint64_t last_ns;
	uint32_t tokens;
};

struct neigh {
	uint32_t ip;
	uint8_t mac[6];
	uint64_t seen_ns;
};

/* A received frame being demultiplexed. */
struct rx_ctx {
	void *pkt;
	const uint8_t *frame;
	uint32_t len;
	uint32_t rx_flags;
	uint64_t now;
	const uint8_t *src_mac;
	uint32_t src_ip, dst_ip;        /* host order */
	const uint8_t *l4;
	uint32_t l4_len;
};

/* A parsed TCP segment. */
struct tcp_seg {
	uint32_t seq, ack;
	uint32_t wnd;                   /* raw header field */
	uint32_t len;                   /* payload bytes */
	const uint8_t *data;
	uint16_t sport, dport;
	uint16_t mss;                   /* 0: no option */
	int16_t ws;                     /* -1: no option */
	uint8_t flags;
};

/* Where to send a frame that belongs to no connection entry. */
struct peer {
	const uint8_t *mac;
	uint32_t ip;
	uint16_t port;
	uint16_t lport;                 /* our port: the conn's, or a RST's dport */
};

struct utcp {
	struct utcp_config cfg;
	struct utcp_stats stats;
	uint64_t now;                   /* the latest now_ns seen */
	uint32_t rcv_wscale;            /* what we offer */
	uint32_t mss_local;             /* mtu - 40 */
	uint32_t tso_payload_max;       /* 0: no TSO */
	/* connection table */
	struct tcp_conn *conns;
	uint32_t *conn_free;
	uint32_t conn_free_count;
	struct sq_ent *sq;              /* conn_max * snd_queue_max */
	struct ooo_ent *ooo;            /* conn_max * ooo_max */
	uint32_t dirty_head, dirty_tail;
	/* TIME_WAIT table */
	struct tw_ent *tw;
	uint32_t *tw_free;
	uint32_t tw_free_count;
	/* 4-tuple hash over conns [0, conn_max) and TIME_WAIT [conn_max, ...) */
	uint32_t *hash;
	uint32_t hash_mask;
	/* timers */
	struct timer_node *timers;
	uint32_t wheel[WHEEL_SLOTS + 1];
	uint64_t wheel_bits[WHEEL_SLOTS / 64];
	uint64_t wheel_tick;            /* the next tick to run */
	/* ARP and rate limits */
	struct neigh neigh[NEIGH_MAX];
	struct ratelimit rl_arp, rl_icmp, rl_rst, rl_challenge;
};

/* utcp.c */
bool utcp_rl_take(struct ratelimit *rl, uint64_t now);
bool utcp_xmit(struct utcp *s, const uint8_t *hdr, uint32_t hdr_len,
	       const struct utcp_slice *slices, uint32_t slice_count,
	       const struct utcp_tx_meta *meta);
void utcp_pkt_free(struct utcp *s, void *pkt);

/* csum.c */
uint16_t csum_fold16(uint32_t sum);
uint32_t csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint32_t l4_len);
uint32_t csum_add_slices(uint32_t sum, uint32_t offset, const struct utcp_slice *slices,
			 uint32_t slice_count);

/* arp.c */
void arp_input(struct utcp *s, struct rx_ctx *rx);
void arp_announce(struct utcp *s, uint64_t now);
const uint8_t *arp_lookup(const struct utcp *s, uint32_t ip);

/* ipv4.c */
void ipv4_input(struct utcp *s, struct rx_ctx *rx);
uint32_t ipv4_build(struct utcp *s, uint8_t *hdr, const uint8_t *dst_mac, uint32_t dst_ip,
		    uint8_t proto, uint32_t l4_len, struct utcp_tx_meta *meta);

/* icmp.c */
void icmp_input(struct utcp *s, struct rx_ctx *rx);

/* tcp_conn.c */
uint32_t tcp_conn_isn(const struct utcp *s, uint32_t peer_ip, uint16_t peer_port,
		      uint16_t lport, uint64_t now);
struct tcp_conn *tcp_conn_get(const struct utcp *s, utcp_conn_t handle);
utcp_conn_t tcp_conn_handle(const struct utcp *s, const struct tcp_conn *conn);
uint32_t tcp_conn_lookup(const struct utcp *s, uint32_t peer_ip, uint16_t peer_port,
			 uint16_t lport);
struct tcp_conn *tcp_conn_alloc(struct utcp *s, uint32_t peer_ip, uint16_t peer_port,
				uint16_t lport);
void tcp_conn_free(struct utcp *s, struct tcp_conn *conn);
void tcp_conn_close(struct utcp *s, struct tcp_conn *conn, enum utcp_close_reason why);
void tcp_conn_dirty(struct utcp *s, struct tcp_conn *conn);
void tcp_conn_time_wait(struct utcp *s, struct tcp_conn *conn);
void tcp_conn_tw_free(struct utcp *s, uint32_t tw_index);

/* tcp_in.c */
void tcp_in_input(struct utcp *s, struct rx_ctx *rx);
void tcp_in_challenge_ack(struct utcp *s, struct tcp_conn *conn);

/* tcp_ack.c */
bool tcp_ack_input(struct utcp *s, struct tcp_conn *conn, const struct tcp_seg *seg);
void tcp_ack_window(struct utcp *s, struct tcp_conn *conn, const struct tcp_seg *seg,
		    bool advanced);

/* tcp_rx.c */
void tcp_rx_data(struct utcp *s, struct tcp_conn *conn, const struct tcp_seg *seg, void *pkt);
void tcp_rx_ooo_flush(struct utcp *s, struct tcp_conn *conn);

/* tcp_out.c */
void tcp_out_flush(struct utcp *s, struct tcp_conn *conn);
void tcp_out_ack(struct utcp *s, struct tcp_conn *conn);
void tcp_out_synack(struct utcp *s, struct tcp_conn *conn);
void tcp_out_rst_conn(struct utcp *s, struct tcp_conn *conn);
void tcp_out_retransmit_una(struct utcp *s, struct tcp_conn *conn);
void tcp_out_probe(struct utcp *s, struct tcp_conn *conn);
bool tcp_out_ctl(struct utcp *s, const struct peer *peer, uint32_t seq, uint32_t ack,
		 uint8_t flags, uint16_t wnd);
uint16_t tcp_out_wnd(struct utcp *s, struct tcp_conn *conn);
uint32_t tcp_out_wnd_room(const struct utcp *s, const struct tcp_conn *conn);

/* tcp_timer.c */
void tcp_timer_init(struct utcp *s);
void tcp_timer_arm(struct utcp *s, uint32_t node, uint64_t expire_ns);
void tcp_timer_cancel(struct utcp *s, uint32_t node);
void tcp_timer_run(struct utcp *s, uint64_t now);
uint64_t tcp_timer_next(const struct utcp *s);
void tcp_timer_conn(struct utcp *s, struct tcp_conn *conn, enum tcp_timer_kind kind,
		    uint64_t delay_ns);
void tcp_timer_rto_arm(struct utcp *s, struct tcp_conn *conn);
void tcp_timer_rtt_sample(struct utcp *s, struct tcp_conn *conn, uint64_t rtt_ns);

static inline uint32_t
conn_index(const struct utcp *s, const struct tcp_conn *conn)
{
	return (uint32_t)(conn - s->conns);
}

static inline struct sq_ent *
conn_sq(const struct utcp *s, const struct tcp_conn *conn)
{
	return &s->sq[(uint64_t)conn_index(s, conn) * s->cfg.snd_queue_max];
}

static inline struct ooo_ent *
conn_ooo(const struct utcp *s, const struct tcp_conn *conn)
{
	return &s->ooo[(uint64_t)conn_index(s, conn) * s->cfg.ooo_max];
}

#endif
