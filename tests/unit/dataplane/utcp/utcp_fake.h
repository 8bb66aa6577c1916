/* SPDX-License-Identifier: Apache-2.0 */
/* Test double for the utcp unit tests: a fake clock, a fake NIC whose
 * xmit() captures every frame (header and slices flattened) and whose
 * packets are counted so leaks show, an application that records what the
 * callbacks deliver, and fk_tcp() to input a frame built by fk_build.h. */
#ifndef TESTS_UTCP_FAKE_H
#define TESTS_UTCP_FAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/utcp.h"
#include "tests/unit/dataplane/utcp/fk_build.h"

#define FK_FRAMES_MAX 4096
#define FK_RX_MAX (8u << 20)
#define FK_MS 1000000ull
#define FK_DATA_BYTES 200000

struct fk_frame {
	uint8_t *buf;           /* header + payload, flattened */
	uint32_t len;
	uint32_t hdr_len;
	uint32_t slice_count;
	struct utcp_tx_meta meta;
};

/* A parsed captured TCP frame. */
struct fk_seg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	uint32_t len;
	const uint8_t *data;
	int mss;                /* -1: none */
	int ws;                 /* -1: none */
	bool sack_ok, ts;
	uint32_t dst_ip;
};

struct fake {
	struct utcp *s;
	struct utcp_config cfg;
	uint64_t now;
	struct fk_frame frames[FK_FRAMES_MAX];
	uint32_t frame_count;
	uint32_t frame_seen;            /* fk_next() cursor */
	long pkts_out;                  /* packet handles not yet freed */
	bool xmit_fail;
	/* application */
	bool refuse_accept, refuse_recv;
	utcp_conn_t conn;               /* the last accepted */
	uint32_t accepts;
	uint8_t *rx;                    /* bytes delivered */
	uint32_t rx_len;
	uint32_t recv_calls;
	bool hold_pkts;                 /* keep recv()'d pkts (released by fk_release) */
	void *held[1024];
	uint32_t held_count;
	uint32_t eofs;
	uint64_t acked;
	uint32_t closed;
	enum utcp_close_reason closed_why;
};

extern struct fake fk;

/* Bytes for the tests to send: a fixed non-repeating-per-segment pattern,
 * (re)filled by fk_init(). */
extern uint8_t fk_data[FK_DATA_BYTES];

/* A config with small numbers; the test may change it before fk_start(). */
void fk_init(void);
void fk_start(void);
void fk_finish(void);           /* destroy and check for leaked pkts */

/* A Criterion suite whose tests start with fk_init() and end with
 * fk_finish() (the file includes criterion.h first). */
#define FK_SUITE(name) TestSuite(name, .init = fk_init, .fini = fk_finish)

/* Input a frame (copied into a counted pkt). */
void fk_input(const uint8_t *frame, uint32_t len, uint32_t rx_flags);
/* Build and input a TCP segment from the peer (port sport). */
void fk_tcp(uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
	    const uint8_t *opt, uint32_t opt_len, const void *data, uint32_t len);
void fk_poll(void);
void fk_advance_ms(uint64_t ms);

/* Captured frames. fk_next() returns the next unseen TCP frame parsed (false
 * if none); fk_skip_all() marks all seen. */
bool fk_next(struct fk_seg *seg);
uint32_t fk_pending(void);
void fk_skip_all(void);
bool fk_parse(const struct fk_frame *f, struct fk_seg *seg);
bool fk_csum_ok(const struct fk_frame *f);
void fk_release(void);          /* recv_done + free all held pkts */

/* Handshake from sport with the given SYN options; returns our ISS. */
uint32_t fk_handshake(uint16_t sport, uint32_t peer_isn, int mss, int ws);
/* fk_start(), then fk_handshake(): a stack with one established connection. */
uint32_t fk_open(uint16_t sport, uint32_t peer_isn, int mss, int ws);

/* ops.closed has run count times in all, the last time for why. */
void fk_expect_closed(uint32_t count, enum utcp_close_reason why);
/* Not closed yet, and closed for why (the first close) ms later. */
void fk_expect_closed_after(uint64_t ms, enum utcp_close_reason why);

#endif
