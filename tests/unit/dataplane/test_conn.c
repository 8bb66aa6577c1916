/* SPDX-License-Identifier: Apache-2.0 */
/* Tests dataplane/conn.c, the in-order reply queue: replies completed out of
 * order are sent strictly in request order, partial sends resume at the right
 * byte, no-reply slots release without sending, and the in-flight limit
 * counts requests until their reply is fully sent. No sockets involved. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "dataplane/conn.h"

static uint32_t released_pieces;

static void
no_release(void *arg, struct kp_piece *pieces, uint32_t count)
{
	(void)arg;
	released_pieces += count;
	free(pieces);
}

/* Memory iovecs conn_tx_prepare() offers (0 when a file region is next). */
static uint32_t
prep(const struct conn *conn, struct iovec *iov, uint32_t max)
{
	struct conn_tx tx;

	conn_tx_prepare(conn, iov, max, &tx);
	return tx.iov_count;
}

#define INFLIGHT 4u

static struct conn conn;
static struct conn_slot slots[8];
static struct iovec iov[CONN_IOV_MAX];

static void
setup(void)
{
	cr_assert_geq(8u, conn_slot_count(INFLIGHT));
	conn_init(&conn, 0, slots, INFLIGHT, 1024);
	conn_open(&conn, 100);  /* a number only: no I/O happens here */
}

static void
teardown(void)
{
	conn_reset(&conn, no_release, NULL);
}

static uint8_t *
reply(uint8_t tag, uint32_t len)
{
	uint8_t *p = malloc(len);

	cr_assert_not_null(p);
	memset(p, tag, len);
	return p;
}

TestSuite(conn, .init = setup, .fini = teardown);

/* Request seq's reply is len bytes of tag. */
static void
done(uint32_t seq, uint8_t tag, uint32_t len)
{
	conn_slot_done(&conn, seq, reply(tag, len), len, NULL, 0);
}

/* bytes went out; returns how many replies were finished. */
static uint32_t
sent(uint32_t bytes)
{
	return conn_tx_done(&conn, bytes, no_release, NULL);
}

/* What conn_tx_prepare() offers with room for every iovec. */
static uint32_t
prep_all(void)
{
	return prep(&conn, iov, CONN_IOV_MAX);
}

/* bytes more go out, finishing the last replies: nothing is left in flight. */
static void
expect_all_sent(uint32_t bytes, uint32_t replies)
{
	cr_assert_eq(sent(bytes), replies);
	cr_assert_eq(conn_inflight(&conn), 0);
}

/* Dispatch n requests in order; their sequence numbers go to seq. */
static void
open_slots(uint32_t *seq, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		seq[i] = conn_slot_open(&conn);
}

Test(conn, out_of_order_completion_sends_in_order)
{
	static const uint32_t reply_len[3] = { 5, 20, 10 };
	uint32_t s[3];

	open_slots(s, 3);
	done(s[2], 2, 10);
	done(s[1], 1, 20);
	cr_assert_eq(prep_all(), 0, "nothing may go out before request 0's reply");
	done(s[0], 0, 5);
	cr_assert_eq(prep_all(), 3);
	for (uint32_t i = 0; i < 3; i++) {     /* reply i: tag i, in request order */
		cr_assert_eq(iov[i].iov_len, reply_len[i], "reply %u", i);
		cr_assert_eq(((uint8_t *)iov[i].iov_base)[0], i, "reply %u", i);
	}
	expect_all_sent(35, 3);
}

Test(conn, prefix_stops_at_pending_slot)
{
	uint32_t s[3];

	open_slots(s, 3);
	done(s[0], 0, 4);
	done(s[2], 2, 4);
	cr_assert_eq(prep_all(), 1);
	cr_assert_eq(sent(4), 1);
	cr_assert(conn_slot_pending(&conn, s[1]));
	cr_assert_not(conn_slot_pending(&conn, s[2]));
	cr_assert_not(conn_slot_pending(&conn, s[0]), "already sent");
	cr_assert_not(conn_slot_pending(&conn, s[2] + 1), "not dispatched yet");
	done(s[1], 1, 4);
	cr_assert_eq(prep_all(), 2);
	cr_assert_eq(sent(8), 2);
}

Test(conn, short_write_resumes_mid_reply)
{
	uint8_t *r0 = reply(7, 10);
	uint32_t s[2];

	open_slots(s, 2);
	conn_slot_done(&conn, s[0], r0, 10, NULL, 0);
	done(s[1], 8, 6);
	cr_assert_eq(prep_all(), 2);
	cr_assert_eq(sent(3), 0, "nothing finished yet");
	cr_assert_eq(prep_all(), 2);
	cr_assert_eq(iov[0].iov_base, r0 + 3);
	cr_assert_eq(iov[0].iov_len, 7);
	cr_assert_eq(sent(9), 1, "first done, second has 2 left");
	cr_assert_eq(prep_all(), 1);
	cr_assert_eq(iov[0].iov_len, 4);
	expect_all_sent(4, 1);
}

Test(conn, no_reply_slots_release_in_order)
{
	uint32_t s[3];

	open_slots(s, 3);
	conn_slot_done(&conn, s[1], NULL, 0, NULL, 0);     /* acks=0 style: nothing to send */
	cr_assert_eq(sent(0), 0, "s0 still pending ahead of it");
	conn_slot_done(&conn, s[0], NULL, 0, NULL, 0);
	cr_assert_eq(sent(0), 2);
	done(s[2], 3, 8);
	cr_assert_eq(prep_all(), 1);
	cr_assert_eq(sent(8), 1);
}

Test(conn, inflight_limit_counts_until_sent)
{
	uint32_t seq[INFLIGHT];
	uint32_t i;

	for (i = 0; i < INFLIGHT; i++) {
		cr_assert(conn_can_dispatch(&conn));
		seq[i] = conn_slot_open(&conn);
	}
	cr_assert_not(conn_can_dispatch(&conn), "limit reached");
	done(seq[0], 0, 4);
	cr_assert_not(conn_can_dispatch(&conn), "a ready but unsent reply still counts");
	cr_assert_eq(prep_all(), 1);
	sent(4);
	cr_assert(conn_can_dispatch(&conn));
	cr_assert_eq(conn_inflight(&conn), INFLIGHT - 1);
}

Test(conn, seqs_wrap_around)
{
	uint32_t i;

	conn.seq_next = conn.seq_head = UINT32_MAX - 5;
	for (i = 0; i < 20; i++) {
		uint32_t a = conn_slot_open(&conn);
		uint32_t b = conn_slot_open(&conn);

		done(b, 2, 3);
		done(a, 1, 2);
		cr_assert_eq(prep_all(), 2);
		cr_assert_eq(iov[0].iov_len, 2);
		cr_assert_eq(sent(5), 2);
	}
}

Test(conn, iov_max_bounds_one_send)
{
	struct iovec iov2[2];
	uint32_t i;

	for (i = 0; i < INFLIGHT; i++)
		conn_slot_done(&conn, conn_slot_open(&conn), reply((uint8_t)i, 4), 4, NULL, 0);
	cr_assert_eq(prep(&conn, iov2, 2), 2);
	cr_assert_eq(sent(8), 2);
	cr_assert_eq(prep(&conn, iov2, 2), 2);
	cr_assert_eq(((uint8_t *)iov2[0].iov_base)[0], 2);
	/* teardown frees the last two unsent replies */
}

/* A Fetch-style reply: bytes, a file region at offset 6, more bytes. The
 * sender gets the 6 bytes, then the region (partly sent twice), then the
 * tail; the pieces are released once the reply is fully out. */
Test(conn, reply_with_a_file_piece)
{
	struct kp_piece *pieces = calloc(1, sizeof(*pieces));
	uint8_t *data = reply(7, 10);
	struct conn_tx tx;
	uint32_t s0;

	s0 = conn_slot_open(&conn);
	pieces[0].at = 6;
	pieces[0].len = 100;
	pieces[0].fd = 42;
	pieces[0].pos = 1000;
	conn_slot_done(&conn, s0, data, 10, pieces, 1);
	released_pieces = 0;
	conn_tx_prepare(&conn, iov, CONN_IOV_MAX, &tx);
	cr_assert_eq(tx.iov_count, 1);
	cr_assert_eq(iov[0].iov_len, 6);
	cr_assert_eq(sent(6), 0);
	conn_tx_prepare(&conn, iov, CONN_IOV_MAX, &tx);
	cr_assert_eq(tx.iov_count, 0);
	cr_assert_eq(tx.file_fd, 42);
	cr_assert_eq(tx.file_pos, 1000);
	cr_assert_eq(tx.file_len, 100);
	cr_assert_eq(sent(30), 0);
	conn_tx_prepare(&conn, iov, CONN_IOV_MAX, &tx);
	cr_assert_eq(tx.file_pos, 1030);
	cr_assert_eq(tx.file_len, 70);
	cr_assert_eq(sent(70), 0);
	conn_tx_prepare(&conn, iov, CONN_IOV_MAX, &tx);
	cr_assert_eq(tx.iov_count, 1);
	cr_assert_eq(iov[0].iov_len, 4);
	cr_assert_eq(released_pieces, 0);
	cr_assert_eq(sent(4), 1);
	cr_assert_eq(released_pieces, 1);
}

/* dpdk: bytes handed to TCP (tx_queued) are skipped by the next prepare,
 * across replies and no-reply slots, and released only when acked. */
Test(conn, queued_bytes_skipped_until_acked)
{
	struct iovec iov8[8];
	uint32_t s[3];

	open_slots(s, 3);
	done(s[0], 0xa, 6);
	conn_slot_done(&conn, s[1], NULL, 0, NULL, 0);
	done(s[2], 0xc, 5);
	cr_assert_eq(prep(&conn, iov8, 8), 2);
	conn.tx_queued = 6 + 2;         /* all of s0 and 2 bytes of s2 queued */
	cr_assert_eq(prep(&conn, iov8, 8), 1);
	cr_assert_eq(iov8[0].iov_len, 3, "the unqueued tail of s2");
	cr_assert_eq(((uint8_t *)iov8[0].iov_base)[0], 0xc);
	conn.tx_queued += 3;
	cr_assert_eq(prep(&conn, iov8, 8), 0, "everything is queued");
	cr_assert_eq(sent(4), 0, "s0 not acked in full");
	cr_assert_eq(conn.tx_queued, 7);
	cr_assert_eq(sent(7), 3);
	cr_assert_eq(conn.tx_queued, 0);
	cr_assert_eq(conn_inflight(&conn), 0);
}

/* A Metadata request set aside until earlier replies are out (dp_core.c)
 * stops every later dispatch, and a reset connection frees it. */
Test(conn, held_request_stops_dispatch_until_taken)
{
	cr_assert(conn_can_dispatch(&conn));
	conn.held = malloc(8);
	cr_assert_not_null(conn.held);
	conn.held_len = 8;
	cr_assert_not(conn_can_dispatch(&conn), "nothing parsed past a held request");
	conn_reset(&conn, no_release, NULL);
	cr_assert_null(conn.held);
	cr_assert_eq(conn.held_len, 0);
	conn_open(&conn, 100);
	cr_assert(conn_can_dispatch(&conn));
}
