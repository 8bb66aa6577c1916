/* SPDX-License-Identifier: Apache-2.0 */
/* Hand-made Ethernet/IPv4/TCP frames from the peer (FK_PEER_IP, port sport)
 * to the stack under test (FK_OUR_IP:FK_PORT), with correct checksums,
 * written from the RFCs apart from the stack's own code; and the counted
 * packet handles they are input in. Free of Criterion, so the utcp fuzz
 * target (tests/fuzz/fuzz_utcp.c) uses it as the unit tests' double
 * (utcp_fake.c) does. */
#ifndef TESTS_UTCP_FK_BUILD_H
#define TESTS_UTCP_FK_BUILD_H

#include <stdbool.h>
#include <stdint.h>

#define FK_OUR_IP 0x0a000002u           /* 10.0.0.2 */
#define FK_PEER_IP 0x0a000001u          /* 10.0.0.1 */
#define FK_PORT 9092
#define FK_BUILD_HDR_MAX (14 + 20 + 60) /* Ethernet + IPv4 + TCP with options */

extern const uint8_t fk_build_our_mac[6];
extern const uint8_t fk_build_peer_mac[6];

/* Write the frame into f (room for FK_BUILD_HDR_MAX + len bytes): IPv4 with
 * DF and TTL 64, TCP with opt_len (a multiple of 4, at most 40) option
 * bytes, then len data bytes. Returns the frame's length. */
uint32_t fk_build_tcp(uint8_t *f, uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags,
		      uint16_t wnd, const uint8_t *opt, uint32_t opt_len, const void *data,
		      uint32_t len);

/* A packet handle for utcp_input(): a heap copy of the len bytes at frame,
 * of exactly that size so ASan flags any over-read; counted in *outstanding.
 * NULL when out of memory. */
void *fk_build_pkt(const uint8_t *frame, uint32_t len, long *outstanding);

/* ops.pkt_free's work: free a handle from fk_build_pkt() and count it back.
 * False, freeing nothing, for NULL or when more come back than went out. */
bool fk_build_pkt_free(void *pkt, long *outstanding);

#endif
