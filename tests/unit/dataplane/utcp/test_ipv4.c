/* SPDX-License-Identifier: Apache-2.0 */
/* Tests dataplane/utcp/ipv4.c, arp.c and icmp.c with hand-built frames:
 * truncated (GSO) frames, bad versions and header lengths, header
 * checksums with and without NIC flags, fragments, foreign addresses,
 * options skipped; ARP request/reply and gratuitous ARP; ICMP echo. */
#include <criterion/criterion.h>

#include "tests/unit/dataplane/utcp/utcp_fake.h"

FK_SUITE(utcp_ipv4);

static uint32_t
syn(uint8_t *f)
{
	return fk_build_tcp(f, 63000, 1, 0, 0x02, 1000, NULL, 0, NULL, 0);
}

static void
fix_ip_csum(uint8_t *f)
{
	uint32_t ihl = (f[14] & 15u) * 4u;
	f[24] = f[25] = 0;
	uint16_t c = utcp_csum_fold(utcp_csum_partial(f + 14, ihl, 0));
	memcpy(f + 24, &c, 2);
}

Test(utcp_ipv4, truncated_and_malformed_dropped)
{
	uint8_t f[256];
	uint32_t n;

	fk_start();
	n = syn(f);
	fk_input(f, n - 1, 0);                  /* tot_len > frame: truncated GSO */
	fk_input(f, 20, 0);                     /* no IP header */
	f[14] = 0x65;                           /* version 6 */
	fk_input(f, n, 0);
	f[14] = 0x44;                           /* IHL 4 */
	fix_ip_csum(f);
	fk_input(f, n, 0);
	cr_assert_eq(fk.frame_count, 0);
	cr_assert_eq(utcp_stats(fk.s)->ip_bad, 4);
	n = syn(f);
	f[20] = 0x20;                           /* MF: a fragment */
	fix_ip_csum(f);
	fk_input(f, n, 0);
	cr_assert_eq(utcp_stats(fk.s)->ip_bad, 5);
	n = syn(f);
	f[33] = 3;                              /* not our address */
	fix_ip_csum(f);
	fk_input(f, n, 0);
	cr_assert_eq(utcp_stats(fk.s)->not_ours, 1);
	cr_assert_eq(fk.frame_count, 0);
	/* Ethernet padding past tot_len is fine. */
	n = syn(f);
	memset(f + n, 0xee, 10);
	fk_input(f, n + 10, 0);
	cr_assert_eq(fk.frame_count, 1);
}

Test(utcp_ipv4, header_checksum_and_flags)
{
	uint8_t f[256];
	uint32_t n;

	fk_start();
	n = syn(f);
	f[24] ^= 1;
	fk_input(f, n, 0);
	cr_assert_eq(utcp_stats(fk.s)->csum_bad, 1);
	fk_input(f, n, UTCP_RX_IP_CSUM_GOOD);
	cr_assert_eq(fk.frame_count, 1, "the NIC said good");
	f[24] ^= 1;
	fk_input(f, n, UTCP_RX_IP_CSUM_BAD);
	cr_assert_eq(utcp_stats(fk.s)->csum_bad, 2);
}

Test(utcp_ipv4, options_skipped)
{
	uint8_t f[256], g[256];
	uint32_t n;

	fk_start();
	n = syn(f);
	/* Insert 4 bytes of NOP options after the IP header. */
	memcpy(g, f, 34);
	memset(g + 34, 1, 4);
	memcpy(g + 38, f + 34, n - 34);
	g[14] = 0x46;
	g[17] = (uint8_t)(g[17] + 4);
	fix_ip_csum(g);
	fk_input(g, n + 4, 0);
	cr_assert_eq(fk.frame_count, 1);
	cr_assert_eq(utcp_stats(fk.s)->syn_rcvd_open, 1);
}

static uint32_t
arp(uint8_t *f, uint16_t op, uint32_t tpa)
{
	static const uint8_t pm[6] = { 2, 0, 0, 0, 0, 1 };
	memset(f, 0xff, 6);
	memcpy(f + 6, pm, 6);
	f[12] = 8;
	f[13] = 6;
	uint8_t hdr[8] = { 0, 1, 8, 0, 6, 4, 0, (uint8_t)op };
	memcpy(f + 14, hdr, 8);
	memcpy(f + 22, pm, 6);
	f[28] = 10; f[29] = 0; f[30] = 0; f[31] = 1;
	memset(f + 32, 0, 6);
	f[38] = (uint8_t)(tpa >> 24); f[39] = (uint8_t)(tpa >> 16);
	f[40] = (uint8_t)(tpa >> 8); f[41] = (uint8_t)tpa;
	return 42;
}

Test(utcp_ipv4, arp_request_reply_and_announce)
{
	uint8_t f[64];

	fk_start();
	fk_input(f, arp(f, 1, FK_OUR_IP), 0);
	cr_assert_eq(fk.frame_count, 1);
	const uint8_t *r = fk.frames[0].buf;
	cr_assert_eq(fk.frames[0].len, 42);
	cr_assert_eq(r[21], 2, "a reply");
	cr_assert_eq(r[0], 2, "to the asker");
	cr_assert_eq(r[31], 2, "our IP as sender");
	cr_assert_eq(r[41], 1);
	fk_input(f, arp(f, 1, FK_OUR_IP + 5), 0);
	cr_assert_eq(fk.frame_count, 1, "not for us: no reply");
	fk_input(f, arp(f, 2, FK_OUR_IP), 0);
	cr_assert_eq(fk.frame_count, 1);
	fk_input(f, 30, 0);
	cr_assert_eq(utcp_stats(fk.s)->arp_in, 4);
	utcp_announce(fk.s, fk.now);
	cr_assert_eq(fk.frame_count, 2);
	r = fk.frames[1].buf;
	cr_assert_eq(r[0], 0xff);
	cr_assert(memcmp(r + 28, r + 38, 4) == 0, "gratuitous: sender = target");
	/* Rate limit: a flood is answered only up to the burst. */
	for (int i = 0; i < 500; i++)
		fk_input(f, arp(f, 1, FK_OUR_IP), 0);
	cr_assert(fk.frame_count < 200);
}

Test(utcp_ipv4, icmp_echo)
{
	uint8_t f[128];

	fk_start();
	static const uint8_t pm[6] = { 2, 0, 0, 0, 0, 1 }, om[6] = { 2, 0, 0, 0, 0, 2 };
	memcpy(f, om, 6);
	memcpy(f + 6, pm, 6);
	f[12] = 8;
	f[13] = 0;
	uint8_t ip[20] = { 0x45, 0, 0, 20 + 8 + 5, 0, 0, 0x40, 0, 64, 1, 0, 0, 10, 0, 0, 1,
			   10, 0, 0, 2 };
	memcpy(f + 14, ip, 20);
	fix_ip_csum(f);
	uint8_t icmp[13] = { 8, 0, 0, 0, 0x12, 0x34, 0, 1, 'h', 'e', 'l', 'l', 'o' };
	uint16_t c = utcp_csum_fold(utcp_csum_partial(icmp, 13, 0));
	memcpy(icmp + 2, &c, 2);
	memcpy(f + 34, icmp, 13);
	fk_input(f, 47, 0);
	cr_assert_eq(fk.frame_count, 1);
	const struct fk_frame *r = &fk.frames[0];
	cr_assert_eq(r->len, 47);
	cr_assert_eq(r->buf[34], 0, "echo reply");
	cr_assert(memcmp(r->buf + 38, icmp + 4, 9) == 0, "id, seq and data echoed");
	cr_assert(fk_csum_ok(r));
	cr_assert_eq(utcp_stats(fk.s)->icmp_echo, 1);
	f[40] ^= 0xff;                          /* bad ICMP checksum */
	fk_input(f, 47, 0);
	cr_assert_eq(fk.frame_count, 1);
}
