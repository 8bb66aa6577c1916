/* SPDX-License-Identifier: Apache-2.0 */
/* IPv4: receive checks (version, header length, total length against the
 * frame, which drops truncated GSO frames, header checksum, destination,
 * fragments, source sanity) and dispatch to ICMP and TCP; and the Ethernet +
 * IPv4 header of every frame we send (DF, TTL 64, ID 0 as RFC 6864 allows
 * with DF). Options are skipped, never interpreted. */
#include "dataplane/utcp/utcp_int.h"

#define IP_DF 0x4000u
#define IP_FRAG_MASK 0x3fffu    /* MF + offset */
#define IP_TTL 64u

static bool
ipv4_src_bad(const struct utcp *s, uint32_t src)
{
	uint32_t mask = s->cfg.prefix_len ? ~0u << (32 - s->cfg.prefix_len) : 0;

	if (src == 0 || src == 0xffffffffu || (src >> 28) == 0xeu || (src >> 24) == 127u)
		return true;
	if (src == s->cfg.ipv4)
		return true;
	/* The subnet's broadcast address (prefixes up to /30). */
	return s->cfg.prefix_len <= 30 && (src & ~mask) == ~mask;
}

void
ipv4_input(struct utcp *s, struct rx_ctx *rx)
{
	const uint8_t *ip = rx->frame + ETH_HDR_LEN;
	uint32_t avail = rx->len - ETH_HDR_LEN;
	uint32_t ihl, tot_len;

	if (unlikely(avail < IP_HDR_LEN || (ip[0] >> 4) != 4)) {
		s->stats.ip_bad++;
		goto drop;
	}
	ihl = (ip[0] & 0x0fu) * 4u;
	tot_len = be_read16(ip + 2);
	/* tot_len beyond the frame: a truncated (GSO) frame, never parse it. */
	if (unlikely(ihl < IP_HDR_LEN || tot_len < ihl || tot_len > avail)) {
		s->stats.ip_bad++;
		goto drop;
	}
	if (unlikely(rx->rx_flags & UTCP_RX_IP_CSUM_BAD)) {
		s->stats.csum_bad++;
		goto drop;
	}
	if (!(rx->rx_flags & UTCP_RX_IP_CSUM_GOOD) &&
	    unlikely(utcp_csum_fold(utcp_csum_partial(ip, ihl, 0)) != 0)) {
		s->stats.csum_bad++;
		goto drop;
	}
	rx->src_ip = be_read32(ip + 12);
	rx->dst_ip = be_read32(ip + 16);
	if (rx->dst_ip != s->cfg.ipv4) {
		s->stats.not_ours++;
		goto drop;
	}
	if (unlikely((be_read16(ip + 6) & IP_FRAG_MASK) != 0 || ipv4_src_bad(s, rx->src_ip))) {
		s->stats.ip_bad++;
		goto drop;
	}
	rx->l4 = ip + ihl;
	rx->l4_len = tot_len - ihl;     /* Ethernet padding past tot_len is ignored */
	if (likely(ip[9] == IPPROTO_TCP_)) {
		tcp_in_input(s, rx);
		return;
	}
	if (ip[9] == IPPROTO_ICMP_) {
		icmp_input(s, rx);
		return;
	}
	s->stats.not_ours++;
drop:
	utcp_pkt_free(s, rx->pkt);
}

/* Ethernet and IPv4 headers into hdr[0, 34) for an l4_len-byte payload;
 * returns 34. The IPv4 checksum is left to the NIC when it can. */
uint32_t
ipv4_build(struct utcp *s, uint8_t *hdr, const uint8_t *dst_mac, uint32_t dst_ip,
	   uint8_t proto, uint32_t l4_len, struct utcp_tx_meta *meta)
{
	uint8_t *ip = hdr + ETH_HDR_LEN;

	ASSERT_HOT(l4_len + IP_HDR_LEN <= 65535u);
	memcpy(hdr, dst_mac, 6);
	memcpy(hdr + 6, s->cfg.mac, 6);
	be_write16(hdr + 12, ETHERTYPE_IPV4);
	ip[0] = 0x45;
	ip[1] = 0;
	be_write16(ip + 2, (uint16_t)(IP_HDR_LEN + l4_len));
	be_write16(ip + 4, 0);
	be_write16(ip + 6, IP_DF);
	ip[8] = IP_TTL;
	ip[9] = proto;
	be_write16(ip + 10, 0);
	be_write32(ip + 12, s->cfg.ipv4);
	be_write32(ip + 16, dst_ip);
	meta->l2_len = ETH_HDR_LEN;
	meta->l3_len = IP_HDR_LEN;
	if (s->cfg.tx_offloads & UTCP_TX_IP_CSUM) {
		meta->offloads |= UTCP_TX_IP_CSUM;
	} else {
		uint16_t c = utcp_csum_fold(utcp_csum_partial(ip, IP_HDR_LEN, 0));

		memcpy(ip + 10, &c, 2);
	}
	return ETH_HDR_LEN + IP_HDR_LEN;
}
