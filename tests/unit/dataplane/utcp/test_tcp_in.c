/* SPDX-License-Identifier: Apache-2.0 */
/* Tests dataplane/utcp/tcp_in.c: the passive open and the state machine,
 * driven by hand-built segments through a fake NIC on a fake clock
 * (utcp_fake.c): handshakes with and without window scaling, MSS choice,
 * retransmitted SYNs, backlog bound, SYN_RCVD expiry, passive and active
 * close with TIME_WAIT, RST and SYN edge cases (RFC 5961), unknown tuples. */
#include <criterion/criterion.h>
#include <string.h>

#include "tests/unit/dataplane/utcp/utcp_fake.h"

#define A 0x10
#define F 0x01
#define S 0x02
#define R 0x04
#define P 0x08

FK_SUITE(utcp_tcp_in);

Test(utcp_tcp_in, handshake_with_ws)
{
	struct fk_seg seg;
	uint8_t opt[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 10, 4, 2, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8,
			  0, 0, 0, 0 };

	fk_start();
	fk_tcp(40000, 1000, 0, S, 65535, opt, sizeof(opt), NULL, 0);
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.flags, S | A);
	cr_assert_eq(seg.ack, 1001);
	cr_assert_eq(seg.mss, 1460);
	cr_assert_eq(seg.ws, 3, "256 KiB needs shift 3 (65536 > 65535), got %d", seg.ws);
	cr_assert(!seg.sack_ok && !seg.ts, "SACK and timestamps are declined");
	cr_assert_eq(seg.wnd, 65535, "SYN-ACK window unscaled");
	cr_assert_eq(utcp_stats(fk.s)->syn_rcvd_open, 1);
	cr_assert_eq(fk.accepts, 0);
	fk_tcp(40000, 1001, seg.seq + 1, A, 100, NULL, 0, NULL, 0);
	cr_assert_eq(fk.accepts, 1);
	cr_assert_eq(utcp_stats(fk.s)->conns_open, 1);
	cr_assert_eq(utcp_stats(fk.s)->syn_rcvd_open, 0);
	/* The peer's window is 100 << 10: a 200 KB send goes out at once up to cwnd. */
	static uint8_t buf[200000];
	cr_assert(utcp_send(fk.s, fk.conn, buf, sizeof(buf), 1));
	fk_poll();
	uint32_t sent = 0;
	while (fk_next(&seg))
		sent += seg.len;
	cr_assert_eq(sent, 10 * 1460, "IW10, got %u", sent);
}

Test(utcp_tcp_in, handshake_without_ws_and_small_mss)
{
	struct fk_seg seg;
	uint8_t opt[] = { 2, 4, 0x03, 0xe8 };   /* MSS 1000 */

	fk_start();
	fk_tcp(40000, 5, 0, S, 8000, opt, sizeof(opt), NULL, 0);
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.ws, -1, "no WS without the peer's");
	cr_assert_eq(seg.mss, 1460);
	fk_tcp(40000, 6, seg.seq + 1, A, 8000, NULL, 0, NULL, 0);
	static uint8_t buf[5000];
	cr_assert(utcp_send(fk.s, fk.conn, buf, sizeof(buf), 1));
	fk_poll();
	uint32_t n = 0;
	while (fk_next(&seg)) {
		cr_assert(seg.len <= 1000, "peer MSS honoured");
		n += seg.len;
		cr_assert(seg.wnd <= 65535);
	}
	cr_assert_eq(n, 5000);
}

Test(utcp_tcp_in, data_both_ways_and_passive_close)
{
	struct fk_seg seg;
	uint32_t iss;

	iss = fk_open(40001, 7000, 1460, 7);
	fk_tcp(40001, 7001, iss + 1, A | P, 512, NULL, 0, "hello", 5);
	cr_assert_eq(fk.rx_len, 5);
	cr_assert(memcmp(fk.rx, "hello", 5) == 0);
	cr_assert(utcp_send(fk.s, fk.conn, (const uint8_t *)"world!", 6, 9));
	fk_poll();
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.len, 6);
	cr_assert_eq(seg.ack, 7006, "the data carries the ACK");
	cr_assert(seg.flags & P);
	cr_assert(!fk_next(&seg), "one segment per poll");
	fk_tcp(40001, 7006, iss + 7, A | F, 512, NULL, 0, NULL, 0);
	cr_assert_eq(fk.acked, 6);
	cr_assert_eq(fk.eofs, 1);
	fk_poll();
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.ack, 7007);
	utcp_close(fk.s, fk.conn);
	fk_poll();
	cr_assert(fk_next(&seg));
	cr_assert(seg.flags & F);
	cr_assert_eq(seg.seq, iss + 7);
	cr_assert_eq(fk.closed, 0);
	fk_tcp(40001, 7007, iss + 8, A, 512, NULL, 0, NULL, 0);
	fk_expect_closed(1, UTCP_CLOSE_NORMAL);
	cr_assert_eq(utcp_stats(fk.s)->conns_open, 0);
	cr_assert_eq(utcp_stats(fk.s)->time_wait_open, 0);
}

Test(utcp_tcp_in, active_close_time_wait_and_new_syn)
{
	struct fk_seg seg;
	uint32_t iss;

	iss = fk_open(40002, 100, 1460, -1);
	utcp_close(fk.s, fk.conn);
	fk_poll();
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.flags, F | A);
	cr_assert_eq(seg.seq, iss + 1);
	cr_assert_eq(utcp_send(fk.s, fk.conn, (const uint8_t *)"x", 1, 0), false);
	fk_tcp(40002, 101, iss + 2, A, 1000, NULL, 0, NULL, 0);    /* FIN_WAIT_2 */
	fk_tcp(40002, 101, iss + 2, A, 1000, NULL, 0, "late", 4);  /* data still comes */
	cr_assert_eq(fk.rx_len, 4);
	fk_tcp(40002, 105, iss + 2, A | F, 1000, NULL, 0, NULL, 0);
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.flags, A);
	cr_assert_eq(seg.ack, 106);
	fk_expect_closed(1, UTCP_CLOSE_NORMAL);
	cr_assert_eq(utcp_stats(fk.s)->time_wait_open, 1);
	cr_assert_eq(utcp_stats(fk.s)->conns_open, 0);
	/* A retransmitted FIN in TIME_WAIT is ACKed again. */
	fk_skip_all();
	fk_tcp(40002, 105, iss + 2, A | F, 1000, NULL, 0, NULL, 0);
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.ack, 106);
	cr_assert_eq(seg.seq, iss + 2);
	/* An old SYN is answered with an ACK; a SYN beyond rcv_nxt opens anew. */
	fk_tcp(40002, 50, 0, S, 1000, NULL, 0, NULL, 0);
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.flags, A);
	fk_tcp(40002, 5000, 0, S, 1000, NULL, 0, NULL, 0);
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.flags, S | A);
	cr_assert_eq(seg.ack, 5001);
	cr_assert_eq(utcp_stats(fk.s)->time_wait_open, 0);
	cr_assert_eq(utcp_stats(fk.s)->syn_rcvd_open, 1);
}

Test(utcp_tcp_in, time_wait_expires)
{
	struct fk_seg seg;
	uint32_t iss;

	iss = fk_open(40003, 100, 1460, -1);
	fk_tcp(40003, 101, iss + 1, A | F, 1000, NULL, 0, NULL, 0);
	utcp_close(fk.s, fk.conn);
	fk_poll();
	fk_tcp(40003, 102, iss + 2, A, 1000, NULL, 0, NULL, 0);
	cr_assert_eq(fk.closed, 1, "LAST_ACK -> closed");
	/* Active close via simultaneous close: CLOSING -> TIME_WAIT. */
	iss = fk_handshake(40004, 300, 1460, -1);
	utcp_close(fk.s, fk.conn);
	fk_poll();
	fk_tcp(40004, 301, iss + 1, A | F, 1000, NULL, 0, NULL, 0);   /* FIN, ours unacked */
	fk_tcp(40004, 302, iss + 2, A, 1000, NULL, 0, NULL, 0);
	cr_assert_eq(fk.closed, 2);
	cr_assert_eq(utcp_stats(fk.s)->time_wait_open, 1);
	cr_assert(utcp_next_deadline(fk.s) <= fk.now + 60000 * FK_MS);
	fk_advance_ms(59000);
	cr_assert_eq(utcp_stats(fk.s)->time_wait_open, 1);
	fk_advance_ms(1100);
	cr_assert_eq(utcp_stats(fk.s)->time_wait_open, 0);
	fk_skip_all();
	fk_tcp(40004, 302, iss + 2, A, 1000, NULL, 0, NULL, 0);
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.flags, R, "after TIME_WAIT the tuple is unknown");
	cr_assert_eq(seg.seq, iss + 2);
}

Test(utcp_tcp_in, retransmitted_syn_gets_identical_synack)
{
	fk_start();
	fk_tcp(40005, 9, 0, S, 1000, (const uint8_t[]){ 2, 4, 5, 0xb4 }, 4, NULL, 0);
	fk_tcp(40005, 9, 0, S, 1000, (const uint8_t[]){ 2, 4, 5, 0xb4 }, 4, NULL, 0);
	cr_assert_eq(fk.frame_count, 2);
	cr_assert_eq(fk.frames[0].len, fk.frames[1].len);
	cr_assert(memcmp(fk.frames[0].buf, fk.frames[1].buf, fk.frames[0].len) == 0);
}

Test(utcp_tcp_in, synack_retransmit_and_syn_rcvd_expiry)
{
	struct fk_seg seg;
	uint64_t start = fk.now;

	fk_start();
	fk_tcp(40006, 9, 0, S, 1000, NULL, 0, NULL, 0);
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.mss, 1460);
	uint32_t times[6] = { 0 }, n = 0;
	for (uint32_t ms = 0; ms < 70000; ms += 10) {
		fk_advance_ms(10);
		while (fk_next(&seg)) {
			cr_assert_eq(seg.flags, S | A);
			cr_assert(n < 6);
			times[n++] = (uint32_t)((fk.now - start) / FK_MS);
		}
	}
	cr_assert_eq(n, 5, "syn_retries_max SYN-ACK retransmissions, got %u", n);
	cr_assert(times[0] >= 1000 && times[0] <= 1020, "1 s first, got %u", times[0]);
	cr_assert(times[1] >= 3000 && times[1] <= 3030, "then 2 s, got %u", times[1]);
	cr_assert(times[2] >= 7000 && times[2] <= 7050, "then 4 s, got %u", times[2]);
	cr_assert_eq(utcp_stats(fk.s)->syn_rcvd_open, 0, "expired");
	cr_assert_eq(utcp_stats(fk.s)->syn_rcvd_expired, 1);
	cr_assert_eq(fk.accepts, 0);
}

Test(utcp_tcp_in, syn_backlog_bound)
{
	fk.cfg.syn_backlog_max = 3;
	fk_start();
	for (uint16_t p = 1; p <= 5; p++)
		fk_tcp(41000 + p, 9, 0, S, 1000, NULL, 0, NULL, 0);
	cr_assert_eq(utcp_stats(fk.s)->syn_rcvd_open, 3);
	cr_assert_eq(utcp_stats(fk.s)->syn_dropped_backlog, 2);
	cr_assert_eq(fk.frame_count, 3);
}

Test(utcp_tcp_in, rst_rules_rfc5961)
{
	struct fk_seg seg;
	uint32_t iss;

	iss = fk_open(40007, 1000, 1460, -1);
	fk_skip_all();
	/* Outside the window: ignored silently. */
	fk_tcp(40007, 1000 + 900000, 0, R, 0, NULL, 0, NULL, 0);
	cr_assert_eq(fk_pending(), 0);
	/* In the window but not at rcv_nxt: challenge ACK, conn stays. */
	fk_tcp(40007, 1010, 0, R, 0, NULL, 0, NULL, 0);
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.flags, A);
	cr_assert_eq(seg.ack, 1001);
	cr_assert_eq(utcp_stats(fk.s)->challenge_acks, 1);
	/* A SYN on an established conn: challenge ACK. */
	fk_tcp(40007, 5555, 0, S, 1000, NULL, 0, NULL, 0);
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.flags, A);
	cr_assert_eq(seg.seq, iss + 1);
	cr_assert_eq(utcp_stats(fk.s)->challenge_acks, 2);
	cr_assert_eq(fk.closed, 0);
	/* Exactly at rcv_nxt: reset. */
	fk_tcp(40007, 1001, 0, R, 0, NULL, 0, NULL, 0);
	fk_expect_closed(1, UTCP_CLOSE_RESET);
	cr_assert_eq(utcp_stats(fk.s)->conns_open, 0);
	cr_assert_eq(utcp_send_room(fk.s, fk.conn), 0, "stale handle");
	cr_assert(!utcp_send(fk.s, fk.conn, (const uint8_t *)"x", 1, 0));
	utcp_close(fk.s, fk.conn);
	utcp_abort(fk.s, fk.conn);
	utcp_recv_done(fk.s, fk.conn, 1);
}

Test(utcp_tcp_in, rst_for_unknown_tuples)
{
	struct fk_seg seg;

	fk_start();
	/* With ACK: <SEQ=SEG.ACK><CTL=RST>. */
	fk_tcp(40008, 77, 12345, A, 1000, NULL, 0, "ab", 2);
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.flags, R);
	cr_assert_eq(seg.seq, 12345);
	/* Without ACK on the listening port: LISTEN drops it (RFC 9293 3.10.7.2). */
	fk_tcp(40008, 77, 0, F, 1000, NULL, 0, "ab", 2);
	cr_assert_eq(fk_pending(), 0);
	/* A RST never gets one. */
	fk_tcp(40008, 77, 0, R, 1000, NULL, 0, NULL, 0);
	cr_assert_eq(fk_pending(), 0);
	/* Another port is CLOSED: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
	uint8_t f[128];
	uint32_t n = fk_build_tcp(f, 40009, 1, 0, S, 1000, NULL, 0, NULL, 0);
	f[34 + 2] = 0x11;       /* dport 0x11xx, and fix the checksum: */
	f[34 + 16] = 0;
	f[34 + 17] = 0;
	{
		uint8_t ph[12];
		memcpy(ph, f + 26, 8);
		ph[8] = 0;
		ph[9] = 6;
		ph[10] = 0;
		ph[11] = 20;
		uint16_t c = utcp_csum_fold(utcp_csum_partial(f + 34, 20,
							      utcp_csum_partial(ph, 12, 0)));
		memcpy(f + 34 + 16, &c, 2);
	}
	fk_input(f, n, 0);
	cr_assert_eq(utcp_stats(fk.s)->csum_bad, 0);
	cr_assert(fk_next(&seg), "rst_out %lu", (unsigned long)utcp_stats(fk.s)->rst_out);
	cr_assert_eq(seg.flags, R | A);
	cr_assert_eq(seg.sport, (0x11 << 8) | (FK_PORT & 0xff));
	cr_assert_eq(seg.seq, 0);
	cr_assert_eq(seg.ack, 2);
}

Test(utcp_tcp_in, bad_handshake_ack_and_refused_accept)
{
	struct fk_seg seg;

	fk_start();
	fk_tcp(40010, 9, 0, S, 1000, NULL, 0, NULL, 0);
	cr_assert(fk_next(&seg));
	fk_tcp(40010, 10, seg.seq + 5, A, 1000, NULL, 0, NULL, 0);
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.flags, R, "unacceptable ACK in SYN_RCVD");
	cr_assert_eq(fk.accepts, 0);
	fk.refuse_accept = true;
	fk_tcp(40011, 9, 0, S, 1000, NULL, 0, NULL, 0);
	cr_assert(fk_next(&seg));
	fk_tcp(40011, 10, seg.seq + 1, A, 1000, NULL, 0, "data", 4);
	cr_assert(fk_next(&seg));
	cr_assert(seg.flags & R);
	cr_assert_eq(utcp_stats(fk.s)->conns_refused, 1);
	cr_assert_eq(utcp_stats(fk.s)->conns_open, 0);
	cr_assert_eq(fk.rx_len, 0);
}

Test(utcp_tcp_in, out_of_window_and_keepalive_get_acked)
{
	struct fk_seg seg;
	uint32_t iss;

	iss = fk_open(40012, 1000, 1460, -1);
	fk_skip_all();
	fk_tcp(40012, 1000, iss + 1, A, 1000, NULL, 0, "k", 1);   /* keepalive: seq - 1 */
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.flags, A);
	cr_assert_eq(seg.ack, 1001);
	cr_assert_eq(fk.rx_len, 0);
	fk_tcp(40012, 1001 + 10000000, iss + 1, A, 1000, NULL, 0, "z", 1);
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.ack, 1001);
	/* An ACK for data never sent: ACK back and drop (the payload too). */
	fk_tcp(40012, 1001, iss + 500, A, 1000, NULL, 0, "q", 1);
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.ack, 1001);
	cr_assert_eq(fk.rx_len, 0);
}

Test(utcp_tcp_in, fin_wait_2_times_out)
{
	uint32_t iss;

	fk.cfg.fin_wait2_ms = 5000;
	iss = fk_open(40013, 1000, 1460, -1);
	utcp_close(fk.s, fk.conn);
	fk_poll();
	fk_tcp(40013, 1001, iss + 2, A, 1000, NULL, 0, NULL, 0);
	fk_advance_ms(4900);
	fk_expect_closed_after(200, UTCP_CLOSE_TIMEOUT);
	cr_assert_eq(utcp_stats(fk.s)->conns_open, 0);
}

Test(utcp_tcp_in, bad_checksum_dropped_unless_nic_says_good)
{
	uint8_t f[128];
	uint32_t n = fk_build_tcp(f, 40014, 1, 0, S, 1000, NULL, 0, NULL, 0);

	fk_start();
	f[34 + 16] ^= 0x55;
	fk_input(f, n, 0);
	cr_assert_eq(fk.frame_count, 0);
	cr_assert_eq(utcp_stats(fk.s)->csum_bad, 1);
	fk_input(f, n, UTCP_RX_L4_CSUM_GOOD);
	cr_assert_eq(fk.frame_count, 1, "NIC verified: trusted");
	f[34 + 16] ^= 0x55;
	fk_input(f, n, UTCP_RX_L4_CSUM_BAD);
	cr_assert_eq(utcp_stats(fk.s)->csum_bad, 2, "NIC says bad: dropped");
	cr_assert_eq(fk.frame_count, 1);
}

/* A bare segment from the peer's sport to our port dport (fk_tcp() always
 * sends to FK_PORT). */
static void
tcp_to(uint16_t dport, uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags)
{
	uint8_t f[128], ph[12];
	uint32_t n = fk_build_tcp(f, sport, seq, ack, flags, 1000, NULL, 0, NULL, 0);
	uint16_t c;

	f[34 + 2] = (uint8_t)(dport >> 8);
	f[34 + 3] = (uint8_t)dport;
	f[34 + 16] = 0;
	f[34 + 17] = 0;
	memcpy(ph, f + 26, 8);
	ph[8] = 0;
	ph[9] = 6;
	ph[10] = 0;
	ph[11] = 20;
	c = utcp_csum_fold(utcp_csum_partial(f + 34, 20, utcp_csum_partial(ph, 12, 0)));
	memcpy(f + 34 + 16, &c, 2);
	fk_input(f, n, 0);
}

/* Several listening ports: the same peer address and port on two of them
 * are two connections, each answering from its own port; a third port is
 * CLOSED. */
Test(utcp_tcp_in, several_listening_ports)
{
	struct fk_seg seg;
	utcp_conn_t a, b;
	uint32_t iss_a, iss_b;

	fk.cfg.listen_ports[1] = 9094;
	fk.cfg.listen_port_count = 2;
	fk_start();
	tcp_to(FK_PORT, 40020, 500, 0, S);
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.flags, S | A);
	cr_assert_eq(seg.sport, FK_PORT);
	iss_a = seg.seq;
	tcp_to(9094, 40020, 900, 0, S);
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.flags, S | A, "a SYN-ACK, not a retransmission of the first");
	cr_assert_eq(seg.sport, 9094);
	cr_assert_eq(seg.ack, 901);
	iss_b = seg.seq;
	cr_assert_eq(utcp_stats(fk.s)->syn_rcvd_open, 2);
	tcp_to(FK_PORT, 40020, 501, iss_a + 1, A);
	a = fk.conn;
	tcp_to(9094, 40020, 901, iss_b + 1, A);
	b = fk.conn;
	cr_assert_eq(fk.accepts, 2);
	cr_assert_neq(a, b);
	cr_assert_eq(utcp_local_port(fk.s, a), FK_PORT);
	cr_assert_eq(utcp_local_port(fk.s, b), 9094);
	cr_assert(utcp_send(fk.s, b, (const uint8_t *)"hi", 2, 1));
	fk_poll();
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.sport, 9094);
	cr_assert_eq(seg.len, 2);
	tcp_to(9095, 40021, 1, 0, S);
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.flags, R | A, "a port not listened on is CLOSED");
	cr_assert_eq(seg.sport, 9095);
	utcp_abort(fk.s, a);
	utcp_abort(fk.s, b);
	fk_skip_all();
}
