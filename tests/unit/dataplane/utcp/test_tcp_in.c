/* SPDX-License-Identifier: Apache-2.0 */
/* Tests dataplane/utcp/tcp_in.c: the passive open and the state machine,
 * driven by hand-built segments through a fake NIC on a fake clock
 * (utcp_fake.c): handshakes with and without window scaling, MSS choice,
 * retransmitted SYNs, backlog bound, SYN_RCVD expiry, passive and active
 * close with TIME_WAIT, RST and SYN edge cases (RFC 5961), unknown tuples. */
#include <criterion/criterion.h>

#include "tests/unit/dataplane/utcp/utcp_fake.h"

#define A 0x10
#define F 0x01
#define S 0x02
#define R 0x04
#define P 0x08

static void
setup(void)
{
	fk_init();
}

static void
teardown(void)
{
	fk_finish();
}

TestSuite(utcp_tcp_in, .init = setup, .fini = teardown);

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

	fk_start();
	iss = fk_handshake(40001, 7000, 1460, 7);
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
	cr_assert_eq(fk.closed, 1);
	cr_assert_eq(fk.closed_why, UTCP_CLOSE_NORMAL);
	cr_assert_eq(utcp_stats(fk.s)->conns_open, 0);
	cr_assert_eq(utcp_stats(fk.s)->time_wait_open, 0);
}
