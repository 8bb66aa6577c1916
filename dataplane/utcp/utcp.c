/* SPDX-License-Identifier: Apache-2.0 */
/* The stack's entry points: create (every table allocated here, nothing
 * later), destroy, stats, Ethernet demultiplexing of received frames, and
 * the end-of-turn poll that runs timers and flushes ACKs and data of the
 * connections touched in this turn. No protocol logic lives here. */
#include <stdlib.h>

#include "dataplane/utcp/utcp_int.h"

#define RL_PER_SEC 1000u        /* ARP replies, echo replies, RSTs, challenge ACKs */
#define RL_BURST 100u

static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* Token bucket: RL_PER_SEC a second, bursts of RL_BURST. */
bool
utcp_rl_take(struct ratelimit *rl, uint64_t now)
{
	uint64_t elapsed = now - rl->last_ns;
	uint64_t add = elapsed / (1000000000u / RL_PER_SEC);

	if (now < rl->last_ns)
		add = 0;
	if (add > 0) {
		rl->tokens = (uint32_t)MIN((uint64_t)rl->tokens + add, (uint64_t)RL_BURST);
		rl->last_ns = now;
	}
	if (rl->tokens == 0)
		return false;
	rl->tokens--;
	return true;
}

bool
utcp_xmit(struct utcp *s, const uint8_t *hdr, uint32_t hdr_len,
	  const struct utcp_slice *slices, uint32_t slice_count, const struct utcp_tx_meta *meta)
{
	ASSERT_HOT(slice_count <= UTCP_TX_SLICES_MAX);
	ASSERT_HOT(hdr_len <= HDR_BUF_LEN);
	if (unlikely(!s->cfg.ops.xmit(s->cfg.ops_arg, hdr, hdr_len, slices, slice_count, meta))) {
		s->stats.frames_dropped_tx++;
		return false;
	}
	s->stats.frames_out++;
	return true;
}

void
utcp_pkt_free(struct utcp *s, void *pkt)
{
	s->cfg.ops.pkt_free(s->cfg.ops_arg, pkt);
}

static bool
utcp_config_ok(const struct utcp_config *cfg)
{
	if (cfg->mtu < 576 || cfg->mtu > 9216 || cfg->ipv4 == 0 || cfg->prefix_len > 32)
		return false;
	if (cfg->conn_max == 0 || cfg->conn_max > UTCP_CONN_MAX)
		return false;
	if (cfg->listen_port_count == 0 || cfg->listen_port_count > UTCP_LISTEN_MAX)
		return false;
	for (uint32_t i = 0; i < cfg->listen_port_count; i++) {
		if (cfg->listen_ports[i] == 0)
			return false;
		for (uint32_t j = 0; j < i; j++) {
			if (cfg->listen_ports[j] == cfg->listen_ports[i])
				return false;
		}
	}
	if (cfg->time_wait_max > UTCP_CONN_MAX || cfg->rcv_window < 1024)
		return false;
	if (cfg->snd_queue_max == 0 || cfg->snd_queue_max > 65536 || cfg->ooo_max > 1024)
		return false;
	if (cfg->rcv_window > (1u << 30))
		return false;
	return cfg->ops.xmit != NULL && cfg->ops.pkt_free != NULL && cfg->ops.accept != NULL &&
	       cfg->ops.recv != NULL && cfg->ops.eof != NULL && cfg->ops.acked != NULL &&
	       cfg->ops.closed != NULL;
}

/* Zero config fields get the defaults their comments in utcp.h name. */
static void
utcp_config_defaults(struct utcp_config *cfg)
{
	if (cfg->rto_min_ms == 0)
		cfg->rto_min_ms = 200;
	if (cfg->rto_max_ms == 0)
		cfg->rto_max_ms = 60000;
	if (cfg->rto_max_ms < cfg->rto_min_ms)
		cfg->rto_max_ms = cfg->rto_min_ms;
	if (cfg->retries_max == 0)
		cfg->retries_max = 15;
	if (cfg->syn_retries_max == 0)
		cfg->syn_retries_max = 5;
	if (cfg->time_wait_ms == 0)
		cfg->time_wait_ms = 60000;
	if (cfg->fin_wait2_ms == 0)
		cfg->fin_wait2_ms = 60000;
	if (cfg->syn_backlog_max == 0)
		cfg->syn_backlog_max = cfg->conn_max;
}

static bool
utcp_alloc_tables(struct utcp *s)
{
	const struct utcp_config *cfg = &s->cfg;
	uint32_t entries = cfg->conn_max + cfg->time_wait_max;
	uint32_t buckets = 16;

	while (buckets < 2 * entries)
		buckets <<= 1;
	s->hash_mask = buckets - 1;
	s->conns = calloc(cfg->conn_max, sizeof(*s->conns));
	s->conn_free = calloc(cfg->conn_max, sizeof(*s->conn_free));
	s->sq = calloc((size_t)cfg->conn_max * cfg->snd_queue_max, sizeof(*s->sq));
	s->ooo = calloc((size_t)cfg->conn_max * (cfg->ooo_max ? cfg->ooo_max : 1),
			sizeof(*s->ooo));
	s->tw = calloc(cfg->time_wait_max ? cfg->time_wait_max : 1, sizeof(*s->tw));
	s->tw_free = calloc(cfg->time_wait_max ? cfg->time_wait_max : 1, sizeof(*s->tw_free));
	s->hash = malloc(sizeof(*s->hash) * buckets);
	s->timers = calloc(entries, sizeof(*s->timers));
	return s->conns != NULL && s->conn_free != NULL && s->sq != NULL && s->ooo != NULL &&
	       s->tw != NULL && s->tw_free != NULL && s->hash != NULL && s->timers != NULL;
}

static void
utcp_free_tables(struct utcp *s)
{
	free(s->conns);
	free(s->conn_free);
	free(s->sq);
	free(s->ooo);
	free(s->tw);
	free(s->tw_free);
	free(s->hash);
	free(s->timers);
	free(s);
}

struct utcp *
utcp_create(const struct utcp_config *cfg)
{
	struct utcp *s;
	uint32_t mtu_payload;

	if (cfg == NULL || !utcp_config_ok(cfg))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->cfg = *cfg;
	utcp_config_defaults(&s->cfg);
	if (!utcp_alloc_tables(s)) {
		utcp_free_tables(s);
		return NULL;
	}
	for (uint32_t i = 0; i <= s->hash_mask; i++)
		s->hash[i] = IDX_NONE;
	for (uint32_t i = 0; i < s->cfg.conn_max; i++) {
		s->conns[i].dirty_next = DIRTY_OFF;
		s->conn_free[i] = s->cfg.conn_max - 1 - i;      /* index 0 first */
	}
	s->conn_free_count = s->cfg.conn_max;
	for (uint32_t i = 0; i < s->cfg.time_wait_max; i++)
		s->tw_free[i] = s->cfg.time_wait_max - 1 - i;
	s->tw_free_count = s->cfg.time_wait_max;
	s->dirty_head = IDX_NONE;
	s->dirty_tail = IDX_NONE;
	mtu_payload = s->cfg.mtu - IP_HDR_LEN - TCP_HDR_LEN;
	s->mss_local = mtu_payload;
	while ((s->cfg.rcv_window >> s->rcv_wscale) > 65535u && s->rcv_wscale < TCP_WSCALE_MAX)
		s->rcv_wscale++;
	if ((s->cfg.tx_offloads & UTCP_TX_TCP_TSO) && (s->cfg.tx_offloads & UTCP_TX_TCP_CSUM) &&
	    (s->cfg.tx_offloads & UTCP_TX_IP_CSUM))
		s->tso_payload_max = MIN(MAX(s->cfg.tso_max, mtu_payload), TCP_TSO_PAYLOAD_MAX);
	s->rl_arp.tokens = RL_BURST;
	s->rl_icmp.tokens = RL_BURST;
	s->rl_rst.tokens = RL_BURST;
	s->rl_challenge.tokens = RL_BURST;
	tcp_timer_init(s);
	return s;
}

void
utcp_destroy(struct utcp *s)
{
	if (s == NULL)
		return;
	for (uint32_t i = 0; i < s->cfg.conn_max; i++) {
		struct tcp_conn *conn = &s->conns[i];
		struct ooo_ent *ooo;

		if (conn->state == TCP_CLOSED)
			continue;
		ooo = conn_ooo(s, conn);
		for (uint32_t j = 0; j < conn->ooo_count; j++)
			utcp_pkt_free(s, ooo[j].pkt);
		conn->ooo_count = 0;
	}
	utcp_free_tables(s);
}

const struct utcp_stats *
utcp_stats(const struct utcp *s)
{
	return &s->stats;
}

void
utcp_announce(struct utcp *s, uint64_t now_ns)
{
	s->now = now_ns;
	arp_announce(s, now_ns);
}

void
utcp_input(struct utcp *s, void *pkt, const uint8_t *frame, uint32_t len, uint32_t rx_flags,
	   uint64_t now_ns)
{
	struct rx_ctx rx = {
		.pkt = pkt, .frame = frame, .len = len, .rx_flags = rx_flags, .now = now_ns,
	};
	uint16_t type;

	s->now = now_ns;
	s->stats.frames_in++;
	if (unlikely(len < ETH_HDR_LEN)) {
		s->stats.ip_bad++;
		utcp_pkt_free(s, pkt);
		return;
	}
	if (memcmp(frame, s->cfg.mac, 6) != 0 && memcmp(frame, mac_bcast, 6) != 0) {
		s->stats.not_ours++;
		utcp_pkt_free(s, pkt);
		return;
	}
	rx.src_mac = frame + 6;
	type = be_read16(frame + 12);
	if (likely(type == ETHERTYPE_IPV4)) {
		ipv4_input(s, &rx);
	} else if (type == ETHERTYPE_ARP) {
		arp_input(s, &rx);
	} else {
		s->stats.not_ours++;
		utcp_pkt_free(s, pkt);
	}
}

void
utcp_poll(struct utcp *s, uint64_t now_ns)
{
	uint32_t idx;

	s->now = now_ns;
	tcp_timer_run(s, now_ns);
	/* Conns marked while flushing (an xmit failure) wait for the next turn. */
	idx = s->dirty_head;
	s->dirty_head = IDX_NONE;
	s->dirty_tail = IDX_NONE;
	while (idx != IDX_NONE) {
		struct tcp_conn *conn = &s->conns[idx];

		idx = conn->dirty_next;
		conn->dirty_next = DIRTY_OFF;
		if (conn->state != TCP_CLOSED)
			tcp_out_flush(s, conn);
	}
}

uint64_t
utcp_next_deadline(const struct utcp *s)
{
	if (s->dirty_head != IDX_NONE)
		return s->now;
	return tcp_timer_next(s);
}
