/* SPDX-License-Identifier: Apache-2.0 */
/* Tests dataplane/utcp/tcp_out.c: software checksums over odd-length
 * slices, the offload path (pseudo-header sum left in the TCP checksum,
 * no length under TSO), TSO frames of whole MSS multiples, the slice limit
 * per frame, and recovery after the NIC drops a frame (xmit false). */
#include <criterion/criterion.h>

#include "tests/unit/dataplane/utcp/utcp_fake.h"

static uint32_t iss;

FK_SUITE(utcp_tcp_out);

Test(utcp_tcp_out, software_checksum_over_odd_slices)
{
	struct fk_seg seg;

	iss = fk_open(62000, 1, 1460, 7);
	for (uint32_t i = 0; i < 20; i++)
		cr_assert(utcp_send(fk.s, fk.conn, fk_data + i * 7, 1 + (i % 5) * 3, 0));
	fk_poll();
	cr_assert(fk_next(&seg));       /* fk_next() verifies the checksums */
	cr_assert_eq(fk.frames[fk.frame_seen - 1].slice_count, 16, "slice limit");
	cr_assert(fk_next(&seg));
	cr_assert_eq(fk.frames[fk.frame_seen - 1].meta.offloads, 0);
}

Test(utcp_tcp_out, offload_leaves_pseudo_header_sum)
{
	struct fk_seg seg;

	fk.cfg.tx_offloads = UTCP_TX_IP_CSUM | UTCP_TX_TCP_CSUM;
	iss = fk_open(62000, 1, 1460, 7);
	cr_assert(utcp_send(fk.s, fk.conn, fk_data, 1000, 0));
	fk_poll();
	cr_assert(fk_next(&seg));
	const struct fk_frame *f = &fk.frames[fk.frame_seen - 1];
	cr_assert_eq(f->meta.offloads, UTCP_TX_IP_CSUM | UTCP_TX_TCP_CSUM);
	cr_assert_eq(f->meta.l2_len, 14);
	cr_assert_eq(f->meta.l3_len, 20);
	cr_assert_eq(f->meta.l4_len, 20);
	cr_assert_eq(f->buf[24] | f->buf[25], 0, "IP checksum left to the NIC");
	uint8_t ph[12];
	memcpy(ph, f->buf + 26, 8);
	ph[8] = 0;
	ph[9] = 6;
	ph[10] = (uint8_t)(1020 >> 8);
	ph[11] = (uint8_t)1020;
	uint16_t want = (uint16_t)~utcp_csum_fold(utcp_csum_partial(ph, 12, 0)), got;
	memcpy(&got, f->buf + 34 + 16, 2);
	cr_assert_eq(got, want, "pseudo-header sum, folded, not complemented");
}

Test(utcp_tcp_out, tso_frames)
{
	struct fk_seg seg;

	fk.cfg.tx_offloads = UTCP_TX_IP_CSUM | UTCP_TX_TCP_CSUM | UTCP_TX_TCP_TSO;
	fk.cfg.tso_max = 65000;
	iss = fk_open(62000, 1, 1460, 10);
	cr_assert(utcp_send(fk.s, fk.conn, fk_data, FK_DATA_BYTES, 0));
	fk_poll();
	cr_assert(fk_next(&seg));
	const struct fk_frame *f = &fk.frames[fk.frame_seen - 1];
	cr_assert_eq(seg.len, 10 * 1460, "IW10 in one TSO frame, got %u", seg.len);
	cr_assert_eq(f->meta.tso_segsz, 1460);
	uint8_t ph[12];
	memcpy(ph, f->buf + 26, 8);
	memset(ph + 8, 0, 4);
	ph[9] = 6;
	uint16_t want = (uint16_t)~utcp_csum_fold(utcp_csum_partial(ph, 12, 0)), got;
	memcpy(&got, f->buf + 34 + 16, 2);
	cr_assert_eq(got, want, "TSO: pseudo-header sum without the length");
	/* cwnd grows: the next frames are bigger but capped at tso_max. */
	fk_tcp(62000, 2, iss + 1 + 10 * 1460, 0x10, 65535, NULL, 0, NULL, 0);
	fk_poll();
	while (fk_next(&seg)) {
		cr_assert(seg.len <= 65000);
		cr_assert_eq(seg.len % 1460, 0);
	}
}

Test(utcp_tcp_out, xmit_failure_is_retried)
{
	struct fk_seg seg;

	iss = fk_open(62000, 1, 1460, 7);
	fk.xmit_fail = true;
	cr_assert(utcp_send(fk.s, fk.conn, fk_data, 3000, 0));
	fk_poll();
	cr_assert(utcp_stats(fk.s)->frames_dropped_tx >= 1);
	fk.xmit_fail = false;
	fk_poll();
	uint32_t n = 0;
	while (fk_next(&seg)) {
		cr_assert_eq(seg.seq, iss + 1 + n);
		n += seg.len;
	}
	cr_assert_eq(n, 3000, "nothing lost to the dropped frame");
}

Test(utcp_tcp_out, send_queue_bound_and_close_refuses)
{
	fk.cfg.snd_queue_max = 4;
	iss = fk_open(62000, 1, 1460, 7);
	for (int i = 0; i < 4; i++)
		cr_assert(utcp_send(fk.s, fk.conn, fk_data, 10, 0));
	cr_assert(!utcp_send(fk.s, fk.conn, fk_data, 10, 0));
	cr_assert_eq(utcp_send_room(fk.s, fk.conn), 0);
	fk_poll();
	fk_tcp(62000, 2, iss + 41, 0x10, 65535, NULL, 0, NULL, 0);
	cr_assert_eq(utcp_send_room(fk.s, fk.conn), 4);
	cr_assert_eq(fk.acked, 40);
	utcp_close(fk.s, fk.conn);
	cr_assert(!utcp_send(fk.s, fk.conn, fk_data, 10, 0));
}

/* Our ISN just below 2^32 (the clock picked so): data and FIN across it. */
Test(utcp_tcp_out, our_sequence_wraps)
{
	struct fk_seg seg;

	fk.now = 0;
	fk_start();
	/* Find the hash part of the ISN, then move the clock (4 us units). */
	fk_tcp(62001, 1, 0, 0x02, 65535, NULL, 0, NULL, 0);
	cr_assert(fk_next(&seg));
	fk_tcp(62001, 2, 0, 0x04, 0, NULL, 0, NULL, 0);     /* RST: gone */
	fk_tcp(62001, 1, 0, 0x04, 0, NULL, 0, NULL, 0);
	uint32_t f = seg.seq;   /* at now = 0 */
	fk.now = (uint64_t)(uint32_t)(0xffffff00u - f) * 4000u;
	utcp_poll(fk.s, fk.now);
	iss = fk_handshake(62001, 1, 1460, -1);
	cr_assert_eq(iss, 0xffffff00u);
	cr_assert(utcp_send(fk.s, fk.conn, fk_data, 1000, 0));
	utcp_close(fk.s, fk.conn);
	fk_poll();
	uint32_t n = 0;
	bool fin = false;
	while (fk_next(&seg)) {
		n += seg.len;
		fin |= (seg.flags & 0x01) != 0;
		if (seg.flags & 0x01)
			cr_assert_eq(seg.seq + seg.len, iss + 1001u);
	}
	cr_assert_eq(n, 1000);
	cr_assert(fin);
	fk_tcp(62001, 2, iss + 1002u, 0x10, 65535, NULL, 0, NULL, 0);
	cr_assert_eq(fk.acked, 1000);
	fk_tcp(62001, 2, iss + 1002u, 0x11, 65535, NULL, 0, NULL, 0);
	cr_assert_eq(fk.closed, 1);
	cr_assert_eq(utcp_stats(fk.s)->time_wait_open, 1);
}
