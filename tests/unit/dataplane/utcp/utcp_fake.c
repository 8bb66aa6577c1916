/* SPDX-License-Identifier: Apache-2.0 */
/* The utcp test double (see utcp_fake.h): fake NIC, clock and application
 * callbacks, and frame parsers written from the RFCs, apart from the stack's
 * own code (only utcp_csum_* is shared); frames are built by fk_build.c. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "common/be.h"
#include "tests/unit/dataplane/utcp/utcp_fake.h"

struct fake fk;
uint8_t fk_data[FK_DATA_BYTES];

static bool
fk_xmit(void *arg, const uint8_t *hdr, uint32_t hdr_len, const struct utcp_slice *slices,
	uint32_t slice_count, const struct utcp_tx_meta *meta)
{
	struct fk_frame *f;
	uint32_t len = hdr_len;

	(void)arg;
	cr_assert(slice_count <= UTCP_TX_SLICES_MAX);
	if (fk.xmit_fail)
		return false;
	cr_assert(fk.frame_count < FK_FRAMES_MAX, "too many frames");
	for (uint32_t i = 0; i < slice_count; i++)
		len += slices[i].len;
	f = &fk.frames[fk.frame_count++];
	f->buf = malloc(len ? len : 1);
	memcpy(f->buf, hdr, hdr_len);
	f->len = hdr_len;
	for (uint32_t i = 0; i < slice_count; i++) {
		memcpy(f->buf + f->len, slices[i].base, slices[i].len);
		f->len += slices[i].len;
	}
	f->hdr_len = hdr_len;
	f->slice_count = slice_count;
	f->meta = *meta;
	return true;
}

static void
fk_pkt_free(void *arg, void *pkt)
{
	(void)arg;
	cr_assert(fk_build_pkt_free(pkt, &fk.pkts_out), "NULL pkt, or pkt freed twice");
}

static uint32_t
fk_accept(void *arg, utcp_conn_t conn)
{
	(void)arg;
	if (fk.refuse_accept)
		return UINT32_MAX;
	fk.conn = conn;
	fk.accepts++;
	return 7;
}

static bool
fk_recv(void *arg, uint32_t app_id, const uint8_t *data, uint32_t len, void *pkt)
{
	(void)arg;
	cr_assert_eq(app_id, 7u);
	cr_assert(len > 0);
	if (fk.refuse_recv)
		return false;
	fk.recv_calls++;
	cr_assert(fk.rx_len + len <= FK_RX_MAX);
	memcpy(fk.rx + fk.rx_len, data, len);
	fk.rx_len += len;
	if (fk.hold_pkts && fk.held_count < 1024) {
		fk.held[fk.held_count++] = pkt;
		return true;
	}
	fk_pkt_free(NULL, pkt);
	utcp_recv_done(fk.s, fk.conn, len);
	return true;
}

static void
fk_eof(void *arg, uint32_t app_id)
{
	(void)arg;
	cr_assert_eq(app_id, 7u);
	fk.eofs++;
}

static void
fk_acked(void *arg, uint32_t app_id, uint32_t bytes)
{
	(void)arg;
	cr_assert_eq(app_id, 7u);
	fk.acked += bytes;
}

static void
fk_closed(void *arg, uint32_t app_id, enum utcp_close_reason why)
{
	(void)arg;
	cr_assert_eq(app_id, 7u);
	fk.closed++;
	fk.closed_why = why;
}

void
fk_init(void)
{
	memset(&fk, 0, sizeof(fk));
	for (uint32_t i = 0; i < FK_DATA_BYTES; i++)
		fk_data[i] = (uint8_t)(i * 13 + 5);
	fk.rx = malloc(FK_RX_MAX);
	fk.conn = UTCP_CONN_NONE;
	fk.now = 1000 * FK_MS;
	memcpy(fk.cfg.mac, fk_build_our_mac, 6);
	fk.cfg.ipv4 = FK_OUR_IP;
	fk.cfg.prefix_len = 24;
	fk.cfg.mtu = 1500;
	fk.cfg.listen_ports[0] = FK_PORT;
	fk.cfg.listen_port_count = 1;
	fk.cfg.conn_max = 64;
	fk.cfg.syn_backlog_max = 16;
	fk.cfg.time_wait_max = 16;
	fk.cfg.rcv_window = 256 * 1024;
	fk.cfg.snd_queue_max = 64;
	fk.cfg.ooo_max = 8;
	fk.cfg.rto_min_ms = 200;
	fk.cfg.rto_max_ms = 60000;
	fk.cfg.retries_max = 15;
	fk.cfg.syn_retries_max = 5;
	fk.cfg.time_wait_ms = 60000;
	fk.cfg.fin_wait2_ms = 60000;
	fk.cfg.isn_key[0] = 0x0123456789abcdefull;
	fk.cfg.isn_key[1] = 0xfedcba9876543210ull;
	fk.cfg.ops.xmit = fk_xmit;
	fk.cfg.ops.pkt_free = fk_pkt_free;
	fk.cfg.ops.accept = fk_accept;
	fk.cfg.ops.recv = fk_recv;
	fk.cfg.ops.eof = fk_eof;
	fk.cfg.ops.acked = fk_acked;
	fk.cfg.ops.closed = fk_closed;
}

void
fk_start(void)
{
	fk.s = utcp_create(&fk.cfg);
	cr_assert(fk.s != NULL);
}

void
fk_release(void)
{
	for (uint32_t i = 0; i < fk.held_count; i++)
		fk_pkt_free(NULL, fk.held[i]);
	fk.held_count = 0;
}

void
fk_finish(void)
{
	fk_release();
	utcp_destroy(fk.s);
	fk.s = NULL;
	cr_assert_eq(fk.pkts_out, 0, "%ld pkts leaked", fk.pkts_out);
	for (uint32_t i = 0; i < fk.frame_count; i++)
		free(fk.frames[i].buf);
	free(fk.rx);
}

void
fk_input(const uint8_t *frame, uint32_t len, uint32_t rx_flags)
{
	uint8_t *pkt = fk_build_pkt(frame, len, &fk.pkts_out);

	cr_assert(pkt != NULL);
	utcp_input(fk.s, pkt, pkt, len, rx_flags, fk.now);
}

void
fk_tcp(uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
       const uint8_t *opt, uint32_t opt_len, const void *data, uint32_t len)
{
	uint8_t *f = malloc(FK_BUILD_HDR_MAX + len);
	uint32_t n = fk_build_tcp(f, sport, seq, ack, flags, wnd, opt, opt_len, data, len);

	fk_input(f, n, 0);
	free(f);
}

void
fk_poll(void)
{
	utcp_poll(fk.s, fk.now);
}

void
fk_advance_ms(uint64_t ms)
{
	fk.now += ms * FK_MS;
	utcp_poll(fk.s, fk.now);
}

bool
fk_csum_ok(const struct fk_frame *f)
{
	const uint8_t *ip = f->buf + 14;
	uint32_t ihl = (ip[0] & 15u) * 4u, tot = be_read16(ip + 2), sum;
	uint8_t ph[12];

	if (utcp_csum_fold(utcp_csum_partial(ip, ihl, 0)) != 0)
		return false;
	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = ip[9];
	be_write16(ph + 10, (uint16_t)(tot - ihl));
	sum = ip[9] == 6 ? utcp_csum_partial(ph, 12, 0) : 0;
	return utcp_csum_fold(utcp_csum_partial(ip + ihl, tot - ihl, sum)) == 0;
}

bool
fk_parse(const struct fk_frame *f, struct fk_seg *seg)
{
	const uint8_t *ip = f->buf + 14, *th;
	uint32_t ihl, tot, doff;

	memset(seg, 0, sizeof(*seg));
	if (f->len < 54 || be_read16(f->buf + 12) != 0x0800 || ip[9] != 6)
		return false;
	ihl = (ip[0] & 15u) * 4u;
	tot = be_read16(ip + 2);
	cr_assert_eq(tot + 14, f->len, "ip tot_len %u vs frame %u", tot, f->len);
	cr_assert_eq(be_read16(ip + 6), 0x4000, "DF");
	cr_assert_eq(ip[8], 64, "TTL");
	th = ip + ihl;
	doff = (uint32_t)(th[12] >> 4) * 4u;
	seg->sport = be_read16(th);
	seg->dport = be_read16(th + 2);
	seg->seq = be_read32(th + 4);
	seg->ack = be_read32(th + 8);
	seg->flags = th[13];
	seg->wnd = be_read16(th + 14);
	seg->data = th + doff;
	seg->len = tot - ihl - doff;
	seg->dst_ip = be_read32(ip + 16);
	seg->mss = -1;
	seg->ws = -1;
	for (uint32_t i = 20; i < doff;) {
		uint8_t kind = th[i];

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (kind == 2)
			seg->mss = be_read16(th + i + 2);
		if (kind == 3)
			seg->ws = th[i + 2];
		if (kind == 4)
			seg->sack_ok = true;
		if (kind == 8)
			seg->ts = true;
		i += th[i + 1];
	}
	return true;
}

bool
fk_next(struct fk_seg *seg)
{
	while (fk.frame_seen < fk.frame_count) {
		const struct fk_frame *f = &fk.frames[fk.frame_seen++];

		if (fk_parse(f, seg)) {
			if (f->meta.offloads == 0)
				cr_assert(fk_csum_ok(f), "bad checksum on a sent frame");
			return true;
		}
	}
	return false;
}

uint32_t
fk_pending(void)
{
	return fk.frame_count - fk.frame_seen;
}

void
fk_skip_all(void)
{
	fk.frame_seen = fk.frame_count;
}

uint32_t
fk_handshake(uint16_t sport, uint32_t peer_isn, int mss, int ws)
{
	uint8_t opt[12];
	uint32_t n = 0;
	struct fk_seg seg;

	if (mss >= 0) {
		opt[n++] = 2;
		opt[n++] = 4;
		be_write16(opt + n, (uint16_t)mss);
		n += 2;
	}
	if (ws >= 0) {
		opt[n++] = 1;
		opt[n++] = 3;
		opt[n++] = 3;
		opt[n++] = (uint8_t)ws;
	}
	fk_skip_all();
	fk_tcp(sport, peer_isn, 0, 0x02, 65535, opt, n, NULL, 0);
	cr_assert(fk_next(&seg), "no SYN-ACK");
	cr_assert_eq(seg.flags, 0x12, "SYN-ACK flags %#x", seg.flags);
	cr_assert_eq(seg.ack, peer_isn + 1);
	fk_tcp(sport, peer_isn + 1, seg.seq + 1, 0x10, 65535, NULL, 0, NULL, 0);
	return seg.seq;
}

uint32_t
fk_open(uint16_t sport, uint32_t peer_isn, int mss, int ws)
{
	fk_start();
	return fk_handshake(sport, peer_isn, mss, ws);
}

void
fk_expect_closed(uint32_t count, enum utcp_close_reason why)
{
	cr_assert_eq(fk.closed, count, "closed %u times, want %u", fk.closed, count);
	cr_assert_eq(fk.closed_why, why, "close reason %d, want %d", fk.closed_why, why);
}

void
fk_expect_closed_after(uint64_t ms, enum utcp_close_reason why)
{
	cr_assert_eq(fk.closed, 0, "closed more than %llu ms early", (unsigned long long)ms);
	fk_advance_ms(ms);
	fk_expect_closed(1, why);
}
