/* SPDX-License-Identifier: Apache-2.0 */
/* Connection tables: the fixed connection array with its free list and
 * handle generations, the 4-tuple hash shared with the compact TIME_WAIT
 * table, the RFC 6528 ISN, the dirty list of connections to flush at poll,
 * and teardown (ops.closed, held packets). Nothing here parses segments. */
#include "dataplane/utcp/utcp_int.h"

#define HANDLE_INDEX_BITS 20u
#define HANDLE_INDEX_MASK ((1u << HANDLE_INDEX_BITS) - 1u)

static inline uint64_t
rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND \
	do { \
		v0 += v1; v1 = rotl64(v1, 13); v1 ^= v0; v0 = rotl64(v0, 32); \
		v2 += v3; v3 = rotl64(v3, 16); v3 ^= v2; \
		v0 += v3; v3 = rotl64(v3, 21); v3 ^= v0; \
		v2 += v1; v1 = rotl64(v1, 17); v1 ^= v2; v2 = rotl64(v2, 32); \
	} while (0)

/* SipHash-2-4 of two 64-bit words (the 4-tuple) under k0, k1. */
static uint64_t
tcp_conn_siphash(uint64_t k0, uint64_t k1, uint64_t m0, uint64_t m1)
{
	uint64_t v0 = 0x736f6d6570736575ull ^ k0, v1 = 0x646f72616e646f6dull ^ k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ k0, v3 = 0x7465646279746573ull ^ k1;
	uint64_t last = (uint64_t)16 << 56;

	v3 ^= m0;
	SIPROUND;
	SIPROUND;
	v0 ^= m0;
	v3 ^= m1;
	SIPROUND;
	SIPROUND;
	v0 ^= m1;
	v3 ^= last;
	SIPROUND;
	SIPROUND;
	v0 ^= last;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* RFC 6528: ISN = M + F(4-tuple, secret), M a 4 us clock. */
uint32_t
tcp_conn_isn(const struct utcp *s, uint32_t peer_ip, uint16_t peer_port, uint16_t lport,
	     uint64_t now)
{
	uint64_t m0 = (uint64_t)s->cfg.ipv4 << 32 | peer_ip;
	uint64_t m1 = (uint64_t)lport << 16 | peer_port;
	uint64_t f = tcp_conn_siphash(s->cfg.isn_key[0], s->cfg.isn_key[1], m0, m1);

	return (uint32_t)f + (uint32_t)(now / 4000u);
}

static uint32_t
tcp_conn_bucket(const struct utcp *s, uint32_t peer_ip, uint16_t peer_port, uint16_t lport)
{
	uint64_t h = ((uint64_t)peer_ip << 32 | (uint64_t)peer_port << 16 | lport) ^
		     s->cfg.isn_key[1];

	h *= 0x9e3779b97f4a7c15ull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return (uint32_t)h & s->hash_mask;
}

/* Index in the combined space: < conn_max a conn, else a TIME_WAIT entry. */
uint32_t
tcp_conn_lookup(const struct utcp *s, uint32_t peer_ip, uint16_t peer_port, uint16_t lport)
{
	uint32_t idx = s->hash[tcp_conn_bucket(s, peer_ip, peer_port, lport)];

	while (idx != IDX_NONE) {
		if (idx < s->cfg.conn_max) {
			const struct tcp_conn *c = &s->conns[idx];

			if (c->peer_ip == peer_ip && c->peer_port == peer_port &&
			    c->lport == lport)
				return idx;
			idx = c->hash_next;
		} else {
			const struct tw_ent *t = &s->tw[idx - s->cfg.conn_max];

			if (t->peer_ip == peer_ip && t->peer_port == peer_port &&
			    t->lport == lport)
				return idx;
			idx = t->hash_next;
		}
	}
	return IDX_NONE;
}

static uint32_t *
tcp_conn_next_ptr(struct utcp *s, uint32_t idx)
{
	if (idx < s->cfg.conn_max)
		return &s->conns[idx].hash_next;
	return &s->tw[idx - s->cfg.conn_max].hash_next;
}

static void
tcp_conn_hash_add(struct utcp *s, uint32_t idx, uint32_t peer_ip, uint16_t peer_port,
		  uint16_t lport)
{
	uint32_t *head = &s->hash[tcp_conn_bucket(s, peer_ip, peer_port, lport)];

	*tcp_conn_next_ptr(s, idx) = *head;
	*head = idx;
}

static void
tcp_conn_hash_del(struct utcp *s, uint32_t idx, uint32_t peer_ip, uint16_t peer_port,
		  uint16_t lport)
{
	uint32_t *p = &s->hash[tcp_conn_bucket(s, peer_ip, peer_port, lport)];

	while (*p != idx) {
		ASSERT(*p != IDX_NONE);
		p = tcp_conn_next_ptr(s, *p);
	}
	*p = *tcp_conn_next_ptr(s, idx);
}

utcp_conn_t
tcp_conn_handle(const struct utcp *s, const struct tcp_conn *conn)
{
	return (uint32_t)conn->gen << HANDLE_INDEX_BITS | conn_index(s, conn);
}

struct tcp_conn *
tcp_conn_get(const struct utcp *s, utcp_conn_t handle)
{
	uint32_t idx = handle & HANDLE_INDEX_MASK;
	struct tcp_conn *conn;

	if (idx >= s->cfg.conn_max)
		return NULL;
	conn = &s->conns[idx];
	if (conn->state == TCP_CLOSED || conn->gen != handle >> HANDLE_INDEX_BITS)
		return NULL;
	return conn;
}

struct tcp_conn *
tcp_conn_alloc(struct utcp *s, uint32_t peer_ip, uint16_t peer_port, uint16_t lport)
{
	struct tcp_conn *conn;
	uint32_t idx, dirty_next;
	uint16_t gen;

	if (s->conn_free_count == 0)
		return NULL;
	idx = s->conn_free[--s->conn_free_count];
	conn = &s->conns[idx];
	ASSERT(conn->state == TCP_CLOSED);
	/* A freed conn may still sit on the dirty list: keep its link. */
	dirty_next = conn->dirty_next;
	gen = conn->gen;
	memset(conn, 0, sizeof(*conn));
	conn->dirty_next = dirty_next;
	conn->gen = gen;
	conn->peer_ip = peer_ip;
	conn->peer_port = peer_port;
	conn->lport = lport;
	conn->app_id = UINT32_MAX;
	tcp_conn_hash_add(s, idx, peer_ip, peer_port, lport);
	return conn;
}

/* Back to the free list: held packets freed, timer cancelled, the handle
 * made stale. No callbacks. */
void
tcp_conn_free(struct utcp *s, struct tcp_conn *conn)
{
	struct ooo_ent *ooo = conn_ooo(s, conn);
	uint32_t idx = conn_index(s, conn);

	ASSERT(conn->state != TCP_CLOSED);
	for (uint32_t i = 0; i < conn->ooo_count; i++)
		utcp_pkt_free(s, ooo[i].pkt);
	conn->ooo_count = 0;
	tcp_timer_cancel(s, idx);
	tcp_conn_hash_del(s, idx, conn->peer_ip, conn->peer_port, conn->lport);
	if (conn->state == TCP_SYN_RCVD) {
		ASSERT(s->stats.syn_rcvd_open > 0);
		s->stats.syn_rcvd_open--;
	} else {
		ASSERT(s->stats.conns_open > 0);
		s->stats.conns_open--;
	}
	conn->state = TCP_CLOSED;
	conn->sq_count = 0;
	conn->gen = conn->gen >= GEN_MAX ? 0 : (uint16_t)(conn->gen + 1);
	s->conn_free[s->conn_free_count++] = idx;
}

static void
tcp_conn_notify(struct utcp *s, uint32_t app_id, enum utcp_close_reason why)
{
	if (why == UTCP_CLOSE_NORMAL)
		s->stats.conns_closed++;
	else if (why == UTCP_CLOSE_RESET)
		s->stats.conns_reset++;
	else if (why == UTCP_CLOSE_TIMEOUT)
		s->stats.conns_timeout++;
	s->cfg.ops.closed(s->cfg.ops_arg, app_id, why);
}

/* The connection ends: free it, then tell the application why (if it had
 * accepted it). The callback runs last, when the handle is already stale. */
void
tcp_conn_close(struct utcp *s, struct tcp_conn *conn, enum utcp_close_reason why)
{
	uint32_t app_id = conn->app_id;
	bool accepted = conn->state != TCP_SYN_RCVD && app_id != UINT32_MAX;

	tcp_conn_free(s, conn);
	if (accepted)
		tcp_conn_notify(s, app_id, why);
}

void
tcp_conn_dirty(struct utcp *s, struct tcp_conn *conn)
{
	uint32_t idx = conn_index(s, conn);

	if (conn->dirty_next != DIRTY_OFF)
		return;
	conn->dirty_next = IDX_NONE;
	if (s->dirty_tail == IDX_NONE)
		s->dirty_head = idx;
	else
		s->conns[s->dirty_tail].dirty_next = idx;
	s->dirty_tail = idx;
}

/* Both FINs are through: keep the tuple in the TIME_WAIT table for 2 MSL
 * (or drop it when the table is full), free the conn, tell the app. */
void
tcp_conn_time_wait(struct utcp *s, struct tcp_conn *conn)
{
	uint32_t app_id = conn->app_id;
	uint32_t ti, node;
	struct tw_ent *tw;

	if (s->tw_free_count == 0) {
		s->stats.time_wait_dropped++;
		tcp_conn_close(s, conn, UTCP_CLOSE_NORMAL);
		return;
	}
	ti = s->tw_free[--s->tw_free_count];
	tw = &s->tw[ti];
	node = s->cfg.conn_max + ti;
	ASSERT(!tw->used);
	tw->used = true;
	tw->peer_ip = conn->peer_ip;
	tw->peer_port = conn->peer_port;
	tw->lport = conn->lport;
	memcpy(tw->peer_mac, conn->peer_mac, 6);
	tw->snd_nxt = conn->snd_nxt;
	tw->rcv_nxt = conn->rcv_nxt;
	s->stats.time_wait_open++;
	tcp_conn_free(s, conn);
	tcp_conn_hash_add(s, node, tw->peer_ip, tw->peer_port, tw->lport);
	tcp_timer_arm(s, node, s->now + (uint64_t)s->cfg.time_wait_ms * 1000000u);
	if (app_id != UINT32_MAX)
		tcp_conn_notify(s, app_id, UTCP_CLOSE_NORMAL);
}

void
tcp_conn_tw_free(struct utcp *s, uint32_t tw_index)
{
	struct tw_ent *tw = &s->tw[tw_index];
	uint32_t node = s->cfg.conn_max + tw_index;

	ASSERT(tw->used);
	tcp_timer_cancel(s, node);
	tcp_conn_hash_del(s, node, tw->peer_ip, tw->peer_port, tw->lport);
	tw->used = false;
	ASSERT(s->stats.time_wait_open > 0);
	s->stats.time_wait_open--;
	s->tw_free[s->tw_free_count++] = tw_index;
}
