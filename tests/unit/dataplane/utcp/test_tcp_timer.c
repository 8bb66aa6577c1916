/* SPDX-License-Identifier: Apache-2.0 */
/* Tests dataplane/utcp/tcp_timer.c on the fake clock: RFC 6298 RTO with
 * exponential backoff, the RTT estimator and Karn's rule, giving up after
 * retries_max (ops.closed TIMEOUT), zero-window persist probes with backoff
 * and their bound while closing, and utcp_next_deadline(). */
#include <criterion/criterion.h>

#include "tests/unit/dataplane/utcp/utcp_fake.h"

#define A 0x10
#define F 0x01

static uint32_t iss;

FK_SUITE(utcp_tcp_timer);

static void
ack(uint32_t a, uint16_t wnd)
{
	fk_tcp(60000, 1001, a, A, wnd, NULL, 0, NULL, 0);
}

/* Times (ms from now) of the next n data retransmissions of seq. */
static uint32_t
watch(uint32_t seq, uint64_t *at, uint32_t n, uint32_t horizon_ms)
{
	uint64_t start = fk.now;
	uint32_t got = 0;
	struct fk_seg seg;

	for (uint32_t ms = 0; ms < horizon_ms && got < n; ms++) {
		fk_advance_ms(1);
		while (fk_next(&seg))
			if (seg.seq == seq && seg.len > 0 && got < n)
				at[got++] = (fk.now - start) / FK_MS;
	}
	return got;
}

Test(utcp_tcp_timer, rto_backoff_and_give_up)
{
	uint64_t at[8];

	fk.cfg.retries_max = 4;
	iss = fk_open(60000, 1000, 1460, -1);
	cr_assert(utcp_send(fk.s, fk.conn, fk_data, 100, 1));
	fk_poll();
	fk_skip_all();
	/* The handshake RTT on the fake clock is 0: RTO = rto_min (200 ms). */
	cr_assert_eq(watch(iss + 1, at, 4, 10000), 4);
	cr_assert(at[0] >= 199 && at[0] <= 202, "first RTO %lu", (unsigned long)at[0]);
	cr_assert(at[1] - at[0] >= 399 && at[1] - at[0] <= 402, "backoff x2");
	cr_assert(at[2] - at[1] >= 799 && at[2] - at[1] <= 802, "backoff x4");
	cr_assert_eq(utcp_stats(fk.s)->rto_expired, 4);
	fk_expect_closed_after(3300, UTCP_CLOSE_TIMEOUT);
	cr_assert_eq(utcp_stats(fk.s)->conns_timeout, 1);
}

Test(utcp_tcp_timer, rtt_estimate_and_karn)
{
	uint64_t at[2];
	struct fk_seg seg;

	iss = fk_open(60000, 1000, 1460, -1);
	/* The handshake's sample on the fake clock is 0 (srtt 1 us); then a
	 * 300 ms sample: rttvar 75 ms, srtt 37.5 ms, RTO 337.5 ms. */
	cr_assert(utcp_send(fk.s, fk.conn, fk_data, 100, 1));
	fk_poll();
	fk_skip_all();
	fk.now += 300 * FK_MS;
	ack(iss + 101, 1000);
	cr_assert(utcp_send(fk.s, fk.conn, fk_data, 100, 1));
	fk_poll();
	fk_skip_all();
	cr_assert_eq(watch(iss + 101, at, 1, 5000), 1);
	cr_assert(at[0] >= 336 && at[0] <= 340, "RTO from the sample, got %lu",
		  (unsigned long)at[0]);
	/* Karn: the ACK of the retransmitted segment gives no sample, and the
	 * backed-off RTO is kept until new data is acked. */
	fk.now += 5000 * FK_MS;
	ack(iss + 201, 1000);
	cr_assert(utcp_send(fk.s, fk.conn, fk_data, 100, 1));
	fk_poll();
	cr_assert(fk_next(&seg));
	cr_assert_eq(watch(iss + 201, at, 1, 5000), 1);
	cr_assert(at[0] >= 336 && at[0] <= 340, "no 5 s sample taken, got %lu",
		  (unsigned long)at[0]);
}

Test(utcp_tcp_timer, persist_probes_back_off)
{
	struct fk_seg seg;
	uint64_t start;
	uint64_t at[4];
	uint32_t n = 0;

	iss = fk_open(60000, 1000, 1460, -1);
	ack(iss + 1, 0);                /* the peer's window is shut */
	cr_assert(utcp_send(fk.s, fk.conn, fk_data, 5000, 1));
	fk_poll();
	cr_assert(!fk_next(&seg), "nothing fits a zero window");
	start = fk.now;
	for (uint32_t ms = 0; ms < 8000 && n < 4; ms++) {
		fk_advance_ms(1);
		while (fk_next(&seg)) {
			cr_assert_eq(seg.len, 1, "a one-byte probe");
			cr_assert_eq(seg.seq, iss + 1);
			at[n++] = (fk.now - start) / FK_MS;
			ack(iss + 1, 0);        /* still shut */
		}
	}
	cr_assert_eq(n, 4);
	cr_assert(at[1] - at[0] > at[0] - 0 && at[2] - at[1] > at[1] - at[0], "backoff");
	cr_assert_eq(fk.closed, 0, "a peer that answers is never timed out");
	cr_assert(utcp_stats(fk.s)->zero_window_probes >= 4);
	/* The window opens: data flows. */
	ack(iss + 1, 4000);
	fk_poll();
	uint32_t sent = 0;
	while (fk_next(&seg))
		sent += seg.len;
	/* Two full segments; the 1080-byte runt waits for their ACK (SWS). */
	cr_assert_eq(sent, 2920);
}

Test(utcp_tcp_timer, persist_while_closing_times_out)
{
	fk.cfg.fin_wait2_ms = 3000;
	iss = fk_open(60000, 1000, 1460, -1);
	ack(iss + 1, 0);
	cr_assert(utcp_send(fk.s, fk.conn, fk_data, 5000, 1));
	utcp_close(fk.s, fk.conn);
	for (uint32_t i = 0; i < 40 && fk.closed == 0; i++) {
		fk_advance_ms(100);
		fk_skip_all();
		ack(iss + 1, 0);
	}
	fk_expect_closed(1, UTCP_CLOSE_TIMEOUT);
}

Test(utcp_tcp_timer, next_deadline)
{
	fk_start();
	cr_assert_eq(utcp_next_deadline(fk.s), UINT64_MAX);
	iss = fk_handshake(60000, 1000, 1460, -1);
	cr_assert_eq(utcp_next_deadline(fk.s), UINT64_MAX, "idle established conn");
	cr_assert(utcp_send(fk.s, fk.conn, fk_data, 10, 1));
	cr_assert(utcp_next_deadline(fk.s) <= fk.now, "queued data: poll now");
	fk_poll();
	uint64_t d = utcp_next_deadline(fk.s);
	cr_assert(d > fk.now && d <= fk.now + 200 * FK_MS, "RTO bound");
}
