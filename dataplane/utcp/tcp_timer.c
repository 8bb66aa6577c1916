/* SPDX-License-Identifier: Apache-2.0 */
/* Timers: a hashed timing wheel (one node per conn and per TIME_WAIT
 * entry, O(1) arm and cancel, a poll visits only the slots whose time has
 * come), and what each timer does when it fires: SYN-ACK retransmission and
 * SYN_RCVD expiry, the RFC 6298 retransmission timeout with its RTT
 * estimator, zero-window probes, FIN_WAIT_2 and TIME_WAIT expiry. */
#include "dataplane/utcp/utcp_int.h"

#define MS_NS 1000000ull

void
tcp_timer_init(struct utcp *s)
{
	uint32_t n = s->cfg.conn_max + s->cfg.time_wait_max;

	for (uint32_t i = 0; i <= WHEEL_SLOTS; i++)
		s->wheel[i] = IDX_NONE;
	memset(s->wheel_bits, 0, sizeof(s->wheel_bits));
	for (uint32_t i = 0; i < n; i++)
		s->timers[i].slot = IDX_NONE;
	s->wheel_tick = 0;
}

static void
tcp_timer_link(struct utcp *s, uint32_t node, uint32_t slot)
{
	struct timer_node *t = &s->timers[node];

	t->slot = slot;
	t->prev = IDX_NONE;
	t->next = s->wheel[slot];
	if (t->next != IDX_NONE)
		s->timers[t->next].prev = node;
	s->wheel[slot] = node;
	if (slot < WHEEL_SLOTS)
		s->wheel_bits[slot / 64] |= 1ull << (slot % 64);
}

void
tcp_timer_cancel(struct utcp *s, uint32_t node)
{
	struct timer_node *t = &s->timers[node];

	if (t->slot == IDX_NONE)
		return;
	if (t->prev != IDX_NONE)
		s->timers[t->prev].next = t->next;
	else
		s->wheel[t->slot] = t->next;
	if (t->next != IDX_NONE)
		s->timers[t->next].prev = t->prev;
	if (t->slot < WHEEL_SLOTS && s->wheel[t->slot] == IDX_NONE)
		s->wheel_bits[t->slot / 64] &= ~(1ull << (t->slot % 64));
	t->slot = IDX_NONE;
}

void
tcp_timer_arm(struct utcp *s, uint32_t node, uint64_t expire_ns)
{
	uint64_t tick = expire_ns >> WHEEL_TICK_SHIFT;

	ASSERT_HOT(node < s->cfg.conn_max + s->cfg.time_wait_max);
	tcp_timer_cancel(s, node);
	if (tick < s->wheel_tick)
		tick = s->wheel_tick;   /* already due: the next slot run */
	s->timers[node].expire_ns = expire_ns;
	tcp_timer_link(s, node, (uint32_t)(tick & WHEEL_MASK));
}

/* Arm the conn's one timer as `kind`, delay_ns from now. */
void
tcp_timer_conn(struct utcp *s, struct tcp_conn *conn, enum tcp_timer_kind kind,
	       uint64_t delay_ns)
{
	conn->timer_kind = (uint8_t)kind;
	if (kind == TIMER_NONE)
		tcp_timer_cancel(s, conn_index(s, conn));
	else
		tcp_timer_arm(s, conn_index(s, conn), s->now + delay_ns);
}

static uint64_t
tcp_timer_backoff_ms(const struct utcp *s, const struct tcp_conn *conn)
{
	uint64_t ms = (uint64_t)conn->rto_ms << MIN(conn->backoff, 30u);

	return MIN(ms, (uint64_t)s->cfg.rto_max_ms);
}

void
tcp_timer_rto_arm(struct utcp *s, struct tcp_conn *conn)
{
	tcp_timer_conn(s, conn, TIMER_RTO, tcp_timer_backoff_ms(s, conn) * MS_NS);
}

/* RFC 6298 2.2-2.4, in microseconds, clock granularity 1 ms. */
void
tcp_timer_rtt_sample(struct utcp *s, struct tcp_conn *conn, uint64_t rtt_ns)
{
	uint32_t r = (uint32_t)MIN(rtt_ns / 1000u, (uint64_t)UINT32_MAX / 8);
	uint64_t rto_us;

	if (conn->srtt_us == 0) {
		conn->srtt_us = r ? r : 1;
		conn->rttvar_us = r / 2;
	} else {
		uint32_t err = r > conn->srtt_us ? r - conn->srtt_us : conn->srtt_us - r;

		conn->rttvar_us = (3 * conn->rttvar_us + err) / 4;
		conn->srtt_us = (7 * conn->srtt_us + r) / 8;
		if (conn->srtt_us == 0)
			conn->srtt_us = 1;
	}
	rto_us = conn->srtt_us + MAX(1000u, 4 * conn->rttvar_us);
	conn->rto_ms = (uint32_t)MIN(MAX(rto_us / 1000u, (uint64_t)s->cfg.rto_min_ms),
				     (uint64_t)s->cfg.rto_max_ms);
}

static void
tcp_timer_synack(struct utcp *s, struct tcp_conn *conn)
{
	if (conn->retries >= s->cfg.syn_retries_max) {
		s->stats.syn_rcvd_expired++;
		tcp_conn_free(s, conn);
		return;
	}
	conn->retries++;
	s->stats.retransmits++;
	tcp_out_synack(s, conn);
	tcp_timer_conn(s, conn, TIMER_SYNACK,
		       ((uint64_t)TCP_SYNACK_RTO_MS << conn->retries) * MS_NS);
}

/* RFC 6298 5.4-5.7 and RFC 5681 (3.1 eq. 4): back off, collapse the
 * window to one segment, go back to snd_una (the flush resends). */
static void
tcp_timer_rto(struct utcp *s, struct tcp_conn *conn)
{
	uint32_t flight = conn->snd_max - conn->snd_una;

	s->stats.rto_expired++;
	if (conn->retries >= s->cfg.retries_max) {
		tcp_conn_close(s, conn, UTCP_CLOSE_TIMEOUT);
		return;
	}
	conn->retries++;
	if (conn->backoff < 30)
		conn->backoff++;
	if (conn->retries == 1 || !conn->in_recovery)
		conn->ssthresh = MAX(flight / 2, 2u * conn->mss);
	conn->cwnd = conn->mss;
	conn->ca_acked = 0;
	conn->in_recovery = false;
	conn->recover = conn->snd_max;
	conn->dupacks = 0;
	conn->rtt_timing = false;       /* Karn */
	conn->snd_nxt = conn->snd_una;
	tcp_out_flush(s, conn);
	if (conn->timer_kind == TIMER_NONE)
		tcp_timer_rto_arm(s, conn);     /* xmit failed: try again later */
}

static void
tcp_timer_persist(struct utcp *s, struct tcp_conn *conn)
{
	if (conn->fin_queued &&
	    s->now - conn->persist_since_ns >= (uint64_t)s->cfg.fin_wait2_ms * MS_NS) {
		tcp_conn_close(s, conn, UTCP_CLOSE_TIMEOUT);
		return;
	}
	if (conn->backoff < 30)
		conn->backoff++;
	tcp_out_probe(s, conn);
	tcp_timer_conn(s, conn, TIMER_PERSIST, tcp_timer_backoff_ms(s, conn) * MS_NS);
}

static void
tcp_timer_fire(struct utcp *s, uint32_t node)
{
	struct tcp_conn *conn;
	uint8_t kind;

	if (node >= s->cfg.conn_max) {
		tcp_conn_tw_free(s, node - s->cfg.conn_max);
		return;
	}
	conn = &s->conns[node];
	ASSERT(conn->state != TCP_CLOSED);
	kind = conn->timer_kind;
	conn->timer_kind = TIMER_NONE;
	switch (kind) {
	case TIMER_SYNACK:
		tcp_timer_synack(s, conn);
		break;
	case TIMER_RTO:
		tcp_timer_rto(s, conn);
		break;
	case TIMER_PERSIST:
		tcp_timer_persist(s, conn);
		break;
	case TIMER_FIN_WAIT_2:
		tcp_conn_close(s, conn, UTCP_CLOSE_TIMEOUT);
		break;
	default:
		break;
	}
}

/* Run one slot: its list moves to the fire list, due timers run, the rest
 * (later revolutions) go back. Handlers may arm and cancel any timer. */
static void
tcp_timer_run_slot(struct utcp *s, uint32_t slot, uint64_t now)
{
	uint32_t node;

	if (s->wheel[slot] == IDX_NONE)
		return;
	s->wheel[WHEEL_FIRE] = s->wheel[slot];
	s->wheel[slot] = IDX_NONE;
	s->wheel_bits[slot / 64] &= ~(1ull << (slot % 64));
	for (node = s->wheel[WHEEL_FIRE]; node != IDX_NONE; node = s->timers[node].next)
		s->timers[node].slot = WHEEL_FIRE;
	while ((node = s->wheel[WHEEL_FIRE]) != IDX_NONE) {
		uint64_t expire = s->timers[node].expire_ns;

		tcp_timer_cancel(s, node);
		if (expire <= now)
			tcp_timer_fire(s, node);
		else
			tcp_timer_arm(s, node, expire);
	}
}

void
tcp_timer_run(struct utcp *s, uint64_t now)
{
	uint64_t now_tick = now >> WHEEL_TICK_SHIFT;
	uint64_t n;

	if (now_tick < s->wheel_tick)
		return;
	n = MIN(now_tick - s->wheel_tick + 1, (uint64_t)WHEEL_SLOTS);
	/* The current tick is run again next time: later timers may be due in it. */
	for (uint64_t i = 0; i < n; i++) {
		uint64_t tick = now_tick - (n - 1) + i;

		s->wheel_tick = tick;
		tcp_timer_run_slot(s, (uint32_t)(tick & WHEEL_MASK), now);
	}
	s->wheel_tick = now_tick;
}

/* A lower bound of the next expiry: the earliest timer in the current slot,
 * or the start of the next non-empty slot. */
uint64_t
tcp_timer_next(const struct utcp *s)
{
	uint32_t cur = (uint32_t)(s->wheel_tick & WHEEL_MASK);
	uint64_t d = UINT64_MAX;

	for (uint32_t n = s->wheel[cur]; n != IDX_NONE; n = s->timers[n].next)
		d = MIN(d, s->timers[n].expire_ns);
	for (uint32_t i = 1; i < WHEEL_SLOTS; i++) {
		uint32_t slot = (cur + i) & WHEEL_MASK;
		uint64_t word = s->wheel_bits[slot / 64] >> (slot % 64);

		if (word == 0) {
			i += 63 - slot % 64;    /* rest of this word is empty */
			continue;
		}
		if (word & 1u) {
			d = MIN(d, (s->wheel_tick + i) << WHEEL_TICK_SHIFT);
			break;
		}
	}
	return d;
}
