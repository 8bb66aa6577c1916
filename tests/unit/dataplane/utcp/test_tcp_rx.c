/* SPDX-License-Identifier: Apache-2.0 */
/* Tests dataplane/utcp/tcp_rx.c: in-order delivery in place, overlap
 * trimming (only new bytes go up, from inside the frame), the out-of-order
 * queue (fill, gap fill, bound, immediate ACKs), ops.recv() refusing, and
 * the advertised window (held bytes, utcp_recv_done, window updates).
 * Hand-built segments through the fake NIC of utcp_fake.c. */
#include <criterion/criterion.h>

#include "tests/unit/dataplane/utcp/utcp_fake.h"

#define A 0x10
#define F 0x01
#define P 0x08

static uint32_t iss;

FK_SUITE(utcp_tcp_rx);

static void
open_conn(void)
{
	iss = fk_open(50000, 1000, 1460, -1);
	fk_skip_all();
}

static void
data(uint32_t seq, const char *s)
{
	fk_tcp(50000, seq, iss + 1, A, 65535, NULL, 0, s, (uint32_t)strlen(s));
}

Test(utcp_tcp_rx, overlap_delivers_only_new_bytes)
{
	open_conn();
	data(1001, "abcd");
	data(1003, "cdefgh");
	cr_assert_eq(fk.rx_len, 8);
	cr_assert(memcmp(fk.rx, "abcdefgh", 8) == 0);
	cr_assert_eq(fk.recv_calls, 2);
	data(1001, "abcdefgh");         /* all old: nothing up, an ACK */
	cr_assert_eq(fk.recv_calls, 2);
	fk_poll();
	struct fk_seg seg;
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.ack, 1009);
	cr_assert(!fk_next(&seg), "one ACK per poll");
}

Test(utcp_tcp_rx, ooo_fill_and_gap_fill)
{
	struct fk_seg seg;

	open_conn();
	data(1005, "efgh");
	cr_assert_eq(fk.rx_len, 0);
	cr_assert(fk_next(&seg), "OOO data is ACKed at once");
	cr_assert_eq(seg.ack, 1001);
	data(1013, "mnop");
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.ack, 1001);
	data(1009, "ijkl");
	data(1009, "ijkl");             /* duplicate in the queue: dropped */
	cr_assert_eq(utcp_stats(fk.s)->ooo_queued, 3);
	cr_assert_eq(utcp_stats(fk.s)->ooo_dropped, 1);
	fk_skip_all();
	data(1001, "abcd");             /* the gap: everything goes up in order */
	cr_assert_eq(fk.rx_len, 16);
	cr_assert(memcmp(fk.rx, "abcdefghijklmnop", 16) == 0);
	cr_assert(fk_next(&seg), "gap fill ACKed at once");
	cr_assert_eq(seg.ack, 1017);
}

Test(utcp_tcp_rx, ooo_queue_bound_and_overlapping_entries)
{
	struct fk_seg seg;

	fk.cfg.ooo_max = 2;
	open_conn();
	data(1003, "cdef");
	data(1005, "efgh");             /* overlaps the first entry's tail */
	data(1020, "zz");               /* queue full: dropped */
	cr_assert_eq(utcp_stats(fk.s)->ooo_dropped, 1);
	data(1001, "ab");
	cr_assert_eq(fk.rx_len, 8);
	cr_assert(memcmp(fk.rx, "abcdefgh", 8) == 0);
	fk_skip_all();
	fk_poll();
	(void)seg;
}

Test(utcp_tcp_rx, ooo_freed_on_reset_and_destroy)
{
	open_conn();
	data(1005, "efgh");
	data(1010, "x");
	cr_assert_eq(fk.pkts_out, 2, "two held");
	fk_tcp(50000, 1001, 0, 0x04, 0, NULL, 0, NULL, 0);
	cr_assert_eq(fk.pkts_out, 0);
	cr_assert_eq(fk.closed_why, UTCP_CLOSE_RESET);
	iss = fk_handshake(50001, 1, 1460, -1);
	fk_tcp(50001, 10, iss + 1, A, 1000, NULL, 0, "late", 4);
	cr_assert_eq(fk.pkts_out, 1);   /* fk_finish() destroys: must be freed */
}

Test(utcp_tcp_rx, ooo_fin_processed_after_gap)
{
	open_conn();
	fk_tcp(50000, 1003, iss + 1, A | F, 1000, NULL, 0, "cd", 2);
	cr_assert_eq(fk.eofs, 0);
	data(1001, "ab");
	cr_assert_eq(fk.rx_len, 4);
	cr_assert_eq(fk.eofs, 1);
	fk_poll();
	struct fk_seg seg;
	fk_skip_all();
	utcp_close(fk.s, fk.conn);
	fk_poll();
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.ack, 1006);
	cr_assert(seg.flags & F);
}

Test(utcp_tcp_rx, recv_refused_is_not_acked)
{
	struct fk_seg seg;

	open_conn();
	fk.refuse_recv = true;
	data(1001, "abcd");
	fk_poll();
	cr_assert(!fk_next(&seg), "nothing to ACK");
	cr_assert_eq(fk.pkts_out, 0, "the stack freed the refused pkt");
	fk.refuse_recv = false;
	data(1001, "abcd");
	fk_poll();
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.ack, 1005);
}

Test(utcp_tcp_rx, window_shrinks_with_held_bytes_and_reopens)
{
	struct fk_seg seg;
	static char big[1461];

	fk.cfg.rcv_window = 8192;
	fk.hold_pkts = true;
	open_conn();
	memset(big, 'x', 1460);
	for (uint32_t i = 0; i < 5; i++)
		data(1001 + i * 1460, big);
	cr_assert_eq(fk.rx_len, 7300);
	fk_poll();
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.ack, 1001 + 7300);
	cr_assert_eq(seg.wnd, 8192 - 7300, "window = rcv_window - held, got %u", seg.wnd);
	/* Beyond the window: trimmed to it. */
	data(1001 + 7300, big);
	cr_assert_eq(fk.rx_len, 8192);
	fk_poll();
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.wnd, 0);
	/* A zero-window probe is ACKed with window 0 and not delivered. */
	fk_skip_all();
	data(1001 + 8192, "p");
	cr_assert_eq(fk.rx_len, 8192);
	fk_poll();
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.wnd, 0);
	cr_assert_eq(seg.ack, 1001 + 8192);
	/* The application releases: a window update goes out by itself. */
	utcp_recv_done(fk.s, fk.conn, 100);
	fk_poll();
	cr_assert(!fk_next(&seg), "100 bytes is under the SWS step");
	utcp_recv_done(fk.s, fk.conn, 8092);
	fk_poll();
	cr_assert(fk_next(&seg), "window update");
	cr_assert_eq(seg.wnd, 8192);
	fk_release();
}

Test(utcp_tcp_rx, scaled_window_advertised)
{
	struct fk_seg seg;

	fk.cfg.rcv_window = 1u << 20;
	iss = fk_open(50002, 1000, 1460, 7);
	fk_tcp(50002, 1001, iss + 1, A, 1000, NULL, 0, "abc", 3);
	fk_skip_all();
	fk_poll();
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.wnd, (1u << 20) >> 5, "1 MiB >> 5, got %u", seg.wnd);
}
