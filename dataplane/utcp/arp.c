/* SPDX-License-Identifier: Apache-2.0 */
/* ARP (RFC 826) for our one IPv4 address: answer requests for it (rate
 * limited), send gratuitous ARP, and keep a small neighbour cache learnt
 * from ARP traffic. TCP replies go to the MAC a connection's SYN came from,
 * so nothing waits on resolution here; the cache is for lookups only. */
#include "dataplane/utcp/utcp_int.h"

#define ARP_HTYPE_ETH 1u
#define ARP_OP_REQUEST 1u
#define ARP_OP_REPLY 2u

static void
arp_learn(struct utcp *s, uint32_t ip, const uint8_t *mac, bool create, uint64_t now)
{
	struct neigh *oldest = &s->neigh[0];

	if (ip == 0 || ip == s->cfg.ipv4 || (mac[0] & 1u))
		return;
	for (uint32_t i = 0; i < NEIGH_MAX; i++) {
		struct neigh *n = &s->neigh[i];

		if (n->ip == ip) {
			memcpy(n->mac, mac, 6);
			n->seen_ns = now;
			return;
		}
		if (n->seen_ns < oldest->seen_ns || (n->ip == 0 && oldest->ip != 0))
			oldest = n;
	}
	if (!create)
		return;
	oldest->ip = ip;
	memcpy(oldest->mac, mac, 6);
	oldest->seen_ns = now;
}

const uint8_t *
arp_lookup(const struct utcp *s, uint32_t ip)
{
	for (uint32_t i = 0; i < NEIGH_MAX; i++)
		if (s->neigh[i].ip == ip && ip != 0)
			return s->neigh[i].mac;
	return NULL;
}

/* An ARP packet: op, sender and target; dst_mac the Ethernet destination. */
static void
arp_send(struct utcp *s, uint16_t op, const uint8_t *dst_mac, const uint8_t *tha,
	 uint32_t tpa)
{
	uint8_t f[ETH_HDR_LEN + ARP_LEN];
	struct utcp_tx_meta meta = { .l2_len = ETH_HDR_LEN };

	memcpy(f, dst_mac, 6);
	memcpy(f + 6, s->cfg.mac, 6);
	be_write16(f + 12, ETHERTYPE_ARP);
	be_write16(f + 14, ARP_HTYPE_ETH);
	be_write16(f + 16, ETHERTYPE_IPV4);
	f[18] = 6;
	f[19] = 4;
	be_write16(f + 20, op);
	memcpy(f + 22, s->cfg.mac, 6);
	be_write32(f + 28, s->cfg.ipv4);
	memcpy(f + 32, tha, 6);
	be_write32(f + 38, tpa);
	if (utcp_xmit(s, f, sizeof(f), NULL, 0, &meta))
		s->stats.arp_out++;
}

void
arp_announce(struct utcp *s, uint64_t now)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[6] = { 0 };

	(void)now;
	/* Gratuitous ARP as a request: sender and target both our address. */
	arp_send(s, ARP_OP_REQUEST, bcast, zero, s->cfg.ipv4);
}

void
arp_input(struct utcp *s, struct rx_ctx *rx)
{
	const uint8_t *a = rx->frame + ETH_HDR_LEN;
	uint32_t spa, tpa;
	uint16_t op;
	bool for_us;

	s->stats.arp_in++;
	if (rx->len < ETH_HDR_LEN + ARP_LEN || be_read16(a) != ARP_HTYPE_ETH ||
	    be_read16(a + 2) != ETHERTYPE_IPV4 || a[4] != 6 || a[5] != 4) {
		s->stats.ip_bad++;
		utcp_pkt_free(s, rx->pkt);
		return;
	}
	op = be_read16(a + 6);
	spa = be_read32(a + 14);
	tpa = be_read32(a + 24);
	for_us = tpa == s->cfg.ipv4;
	if (op == ARP_OP_REQUEST || op == ARP_OP_REPLY)
		arp_learn(s, spa, a + 8, for_us, rx->now);
	if (op == ARP_OP_REQUEST && for_us && spa != s->cfg.ipv4 &&
	    utcp_rl_take(&s->rl_arp, rx->now)) {
		uint8_t sha[6];

		memcpy(sha, a + 8, 6);
		arp_send(s, ARP_OP_REPLY, sha, sha, spa);
	} else if (!for_us) {
		s->stats.not_ours++;
	}
	utcp_pkt_free(s, rx->pkt);
}
