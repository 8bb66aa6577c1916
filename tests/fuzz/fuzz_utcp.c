/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: a sequence of frames and events -> one utcp stack on a
 * fake clock. Byte 0 picks the NIC offloads; then records of
 * [op][len_hi][len_lo][len bytes]:
 *   op 0: a raw Ethernet frame (the low op bits above 3 are rx_flags)
 *   op 1: a TCP segment from peer port p, built with valid checksums, its
 *         sequence numbers relative to what the harness saw (so ACKs land)
 *   op 2: advance the clock, poll
 *   op 3: application calls (send, close, abort, recv_done)
 * Every run starts with a valid handshake, so inputs reach established
 * connections. Oracles: no crash or sanitizer report; every packet handle
 * comes back exactly once by utcp_destroy(); no callback names a closed
 * app id; acked bytes never exceed sent bytes; frames are well formed
 * (lengths, checksums in software mode, slice count); and without raw
 * frames, no segment carries data past the window the peer offered. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/be.h"
#include "dataplane/utcp.h"
#include "tests/unit/dataplane/utcp/fk_build.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define PEERS 4
#define RCV_WINDOW 16384u

struct peer_state {
	bool open;              /* the harness has an app conn for it */
	utcp_conn_t conn;
	uint32_t our_iss;       /* from the SYN-ACK */
	uint32_t peer_nxt;      /* the peer's next seq */
	uint32_t right_edge;    /* highest ack + window the peer offered */
	bool edge_known;
	bool edge_unsure;       /* a second handshake: which SYN's WS applies is unclear */
	int ws;                 /* the shift the peer announced (-1 none) */
	uint64_t sent, acked;
	void *held[8];
	uint32_t held_len[8];
	uint32_t held_count;
};

static struct {
	struct utcp *s;
	uint64_t now;
	long pkts;
	bool raw_seen;
	uint32_t tx_offloads;
	struct peer_state peers[PEERS];
} h;

static uint8_t send_buf[65536];

static void
check_tcp_frame(const uint8_t *f, uint32_t len, const struct utcp_tx_meta *meta)
{
	const uint8_t *ip = f + 14, *th = ip + 20;
	uint32_t sport, dport, seq, flags, pay, doff;
	struct peer_state *ps;

	CHECK(be_read16(ip + 2) + 14u == len || meta->tso_segsz > 0);
	doff = (uint32_t)(th[12] >> 4) * 4u;
	CHECK(doff >= 20 && 34 + doff <= len);
	pay = len - 34 - doff;
	if (meta->tso_segsz == 0)
		CHECK(pay <= 1460);
	sport = be_read16(th);
	dport = be_read16(th + 2);
	seq = be_read32(th + 4);
	flags = th[13];
	if (meta->offloads == 0) {
		uint8_t ph[12];
		uint32_t sum;

		memcpy(ph, ip + 12, 8);
		ph[8] = 0;
		ph[9] = 6;
		be_write16(ph + 10, (uint16_t)(len - 34));
		sum = utcp_csum_partial(ph, 12, 0);
		CHECK(utcp_csum_fold(utcp_csum_partial(ip, 20, 0)) == 0);
		CHECK(utcp_csum_fold(utcp_csum_partial(th, len - 34, sum)) == 0);
	}
	if (sport != FK_PORT || dport < 1000 || dport >= 1000 + PEERS)
		return;
	ps = &h.peers[dport - 1000];
	if ((flags & 0x12) == 0x12) {
		ps->our_iss = seq;
		return;
	}
	/* A one-byte zero-window probe may pass the edge. */
	if (!h.raw_seen && ps->edge_known && !ps->edge_unsure && pay > 1)
		CHECK((int32_t)(seq + pay - ps->right_edge) <= 0);
}

static bool
fz_xmit(void *arg, const uint8_t *hdr, uint32_t hdr_len, const struct utcp_slice *slices,
	uint32_t slice_count, const struct utcp_tx_meta *meta)
{
	static uint8_t f[70000];
	uint32_t len = hdr_len;

	(void)arg;
	CHECK(slice_count <= UTCP_TX_SLICES_MAX && hdr_len >= 14 && hdr_len <= sizeof(f));
	memcpy(f, hdr, hdr_len);
	for (uint32_t i = 0; i < slice_count; i++) {
		CHECK(slices[i].len > 0 && len + slices[i].len <= sizeof(f));
		memcpy(f + len, slices[i].base, slices[i].len);
		len += slices[i].len;
	}
	if (be_read16(f + 12) == 0x0800 && len >= 54 && f[14 + 9] == 6)
		check_tcp_frame(f, len, meta);
	return true;
}

static void
fz_pkt_free(void *arg, void *pkt)
{
	(void)arg;
	CHECK(fk_build_pkt_free(pkt, &h.pkts));
}

static struct peer_state *
app(uint32_t app_id)
{
	CHECK(app_id < PEERS && h.peers[app_id].open);
	return &h.peers[app_id];
}

static uint32_t
fz_accept(void *arg, utcp_conn_t conn)
{
	(void)arg;
	for (uint32_t i = 0; i < PEERS; i++) {
		if (!h.peers[i].open) {
			h.peers[i].open = true;
			h.peers[i].conn = conn;
			h.peers[i].sent = 0;
			h.peers[i].acked = 0;
			return i;
		}
	}
	return UINT32_MAX;
}

static bool
fz_recv(void *arg, uint32_t app_id, const uint8_t *data, uint32_t len, void *pkt)
{
	struct peer_state *ps = app(app_id);
	volatile uint8_t sink = 0;

	(void)arg;
	CHECK(len > 0);
	for (uint32_t i = 0; i < len; i++)
		sink ^= data[i];        /* ASan checks the bytes are inside the pkt */
	(void)sink;
	if (ps->held_count == 8 || (len & 0x3f) == 0x3f)
		return false;
	ps->held[ps->held_count] = pkt;
	ps->held_len[ps->held_count++] = len;
	return true;
}

static void
fz_eof(void *arg, uint32_t app_id)
{
	(void)arg;
	(void)app(app_id);
}

static void
fz_acked(void *arg, uint32_t app_id, uint32_t bytes)
{
	struct peer_state *ps = app(app_id);

	(void)arg;
	ps->acked += bytes;
	CHECK(ps->acked <= ps->sent);
}

static void
release(struct peer_state *ps)
{
	for (uint32_t i = 0; i < ps->held_count; i++) {
		if (ps->open)
			utcp_recv_done(h.s, ps->conn, ps->held_len[i]);
		fz_pkt_free(NULL, ps->held[i]);
	}
	ps->held_count = 0;
}

static void
fz_closed(void *arg, uint32_t app_id, enum utcp_close_reason why)
{
	struct peer_state *ps = app(app_id);

	(void)arg;
	CHECK(why <= UTCP_CLOSE_ABORT && why != UTCP_CLOSE_ABORT);
	ps->open = false;
	release(ps);
}

static void
input(const uint8_t *frame, uint32_t len, uint32_t rx_flags)
{
	uint8_t *pkt = fk_build_pkt(frame, len, &h.pkts);     /* exact size */

	CHECK(pkt != NULL);
	utcp_input(h.s, pkt, pkt, len, rx_flags, h.now);
}

/* Data bytes one op can carry: an op's length field is 16 bits. */
#define SEG_DATA_MAX 65535u

/* A segment from peer port 1000 + p with correct checksums; len is at most
 * SEG_DATA_MAX (the frame buffer is sized for it). */
static void
segment(uint32_t p, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
	const uint8_t *opt, uint32_t opt_len, const uint8_t *data, uint32_t len)
{
	static uint8_t f[FK_BUILD_HDR_MAX + SEG_DATA_MAX];
	uint32_t n;

	CHECK(len <= SEG_DATA_MAX && opt_len <= 40);
	n = fk_build_tcp(f, (uint16_t)(1000 + p), seq, ack, flags, wnd, opt, opt_len, data,
				  len);
	struct peer_state *ps = &h.peers[p];

	if (flags & 0x10) {
		uint32_t shift = (flags & 0x02) || ps->ws < 0 ? 0 : (uint32_t)ps->ws;
		uint32_t edge = ack + ((uint32_t)wnd << shift);

		if (!ps->edge_known || (int32_t)(edge - ps->right_edge) > 0)
			ps->right_edge = edge;
		ps->edge_known = true;
	}
	input(f, n, 0);
}

static void
handshake(uint32_t p, uint32_t isn, int ws)
{
	uint8_t opt[8] = { 2, 4, 5, 0xb4, 1, 3, 3, 0 };
	struct peer_state *ps = &h.peers[p];

	opt[7] = (uint8_t)(ws < 0 ? 0 : ws);
	if (ps->edge_known)
		ps->edge_unsure = true;
	ps->ws = ws;
	ps->edge_known = false;
	segment(p, isn, 0, 0x02, 65535, opt, ws < 0 ? 4 : 8, NULL, 0);
	ps->peer_nxt = isn + 1;
	segment(p, isn + 1, ps->our_iss + 1, 0x10, 256, NULL, 0, NULL, 0);
}

/* op 1: [p|flags][seq_delta:2][ack_delta:2][wnd:2][data...] */
static void
op_segment(const uint8_t *d, uint32_t len)
{
	struct peer_state *ps;
	uint32_t p, seq, ack;
	uint8_t flags;

	if (len < 7)
		return;
	p = d[0] & (PEERS - 1);
	ps = &h.peers[p];
	flags = (uint8_t)((d[0] >> 2) & 0x3f);
	if ((flags & 0x3f) == 0x02 && (d[1] & 0x80)) {
		handshake(p, be_read32(d + 1), d[5] & 0x80 ? -1 : d[5] & 15);
		return;
	}
	seq = ps->peer_nxt + (uint32_t)(int16_t)be_read16(d + 1);
	ack = ps->our_iss + 1 + be_read16(d + 3) * 16u;
	segment(p, seq, ack, flags, be_read16(d + 5), NULL, 0, d + 7, len - 7);
	if ((int16_t)be_read16(d + 1) == 0)
		ps->peer_nxt += len - 7 + !!(flags & 0x01);
}

/* op 3: [p][what][n:2] */
static void
op_app(const uint8_t *d, uint32_t len)
{
	struct peer_state *ps;
	uint32_t n;

	if (len < 4)
		return;
	ps = &h.peers[d[0] & (PEERS - 1)];
	n = be_read16(d + 2);
	if (!ps->open && (d[1] & 7) != 5)
		return;
	switch (d[1] & 7) {
	case 0:
	case 1:
		if (n > 0 && utcp_send(h.s, ps->conn, send_buf + (n & 0x3ff), n, n))
			ps->sent += n;
		break;
	case 2:
		utcp_close(h.s, ps->conn);
		break;
	case 3:
		release(ps);
		break;
	case 4:
		utcp_abort(h.s, ps->conn);
		ps->open = false;
		release(ps);
		break;
	case 5:
		(void)utcp_send_room(h.s, ps->conn);  /* stale handles are fine */
		utcp_recv_done(h.s, ps->conn, 0);
		break;
	default:
		utcp_poll(h.s, h.now);
		break;
	}
}

static void
run(const uint8_t *data, size_t size)
{
	while (size >= 3) {
		uint8_t op = data[0];
		uint32_t len = be_read16(data + 1);

		data += 3;
		size -= 3;
		if (len > size)
			len = (uint32_t)size;
		switch (op & 3) {
		case 0:
			h.raw_seen = true;
			input(data, len, (uint32_t)(op >> 2) & 15u);
			break;
		case 1:
			op_segment(data, len);
			break;
		case 2:
			h.now += (len >= 2 ? be_read16(data) : 1) * 1000000ull;
			utcp_poll(h.s, h.now);
			break;
		default:
			op_app(data, len);
			break;
		}
		data += len;
		size -= len;
		utcp_poll(h.s, h.now);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct utcp_config cfg = {
		.ipv4 = FK_OUR_IP, .prefix_len = 24, .mtu = 1500, .listen_ports = { FK_PORT },
		.listen_port_count = 1,
		.conn_max = 4, .syn_backlog_max = 2, .time_wait_max = 2,
		.rcv_window = RCV_WINDOW, .snd_queue_max = 8, .ooo_max = 4, .tso_max = 16000,
		.rto_min_ms = 200, .rto_max_ms = 2000, .retries_max = 4, .syn_retries_max = 2,
		.time_wait_ms = 3000, .fin_wait2_ms = 3000,
		.isn_key = { 1, 2 },
		.ops = { fz_xmit, fz_pkt_free, fz_accept, fz_recv, fz_eof, fz_acked, fz_closed },
	};

	if (size < 1 || size > 1 << 16)
		return 0;
	memset(&h, 0, sizeof(h));
	memcpy(cfg.mac, fk_build_our_mac, 6);
	cfg.tx_offloads = data[0] & 7u;
	h.now = 1000000000ull;
	h.s = utcp_create(&cfg);
	CHECK(h.s != NULL);
	utcp_announce(h.s, h.now);
	handshake(0, 1000 + (uint32_t)data[0] * 0x1000000u, data[0] & 0x80 ? -1 : 7);
	run(data + 1, size - 1);
	h.now += 600ull * 1000000000ull;        /* every timer runs out */
	utcp_poll(h.s, h.now);
	for (uint32_t i = 0; i < PEERS; i++) {
		if (h.peers[i].open)
			utcp_abort(h.s, h.peers[i].conn);
		h.peers[i].open = false;
		release(&h.peers[i]);
	}
	utcp_destroy(h.s);
	CHECK(h.pkts == 0);
	return 0;
}
