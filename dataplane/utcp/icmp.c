/* SPDX-License-Identifier: Apache-2.0 */
/* ICMP: echo reply only (health checks and ping), rate limited. The reply
 * references the request's payload in place; xmit copies it before the
 * packet is freed. Other ICMP messages are dropped (PMTU is phase 2). */
#include "dataplane/utcp/utcp_int.h"

#define ICMP_ECHO_REPLY 0u
#define ICMP_ECHO_REQUEST 8u
#define ICMP_HDR_LEN 8u

void
icmp_input(struct utcp *s, struct rx_ctx *rx)
{
	const uint8_t *req = rx->l4;
	uint8_t hdr[ETH_HDR_LEN + IP_HDR_LEN + ICMP_HDR_LEN];
	struct utcp_tx_meta meta = { 0 };
	struct utcp_slice slice;
	uint32_t off, sum;
	uint16_t c;

	if (rx->l4_len < ICMP_HDR_LEN || req[0] != ICMP_ECHO_REQUEST || req[1] != 0)
		goto drop;
	if (utcp_csum_fold(utcp_csum_partial(req, rx->l4_len, 0)) != 0) {
		s->stats.csum_bad++;
		goto drop;
	}
	if (!utcp_rl_take(&s->rl_icmp, rx->now))
		goto drop;
	off = ipv4_build(s, hdr, rx->src_mac, rx->src_ip, IPPROTO_ICMP_, rx->l4_len, &meta);
	hdr[off] = ICMP_ECHO_REPLY;
	hdr[off + 1] = 0;
	hdr[off + 2] = 0;
	hdr[off + 3] = 0;
	memcpy(hdr + off + 4, req + 4, 4);      /* identifier and sequence */
	slice.base = req + ICMP_HDR_LEN;
	slice.len = rx->l4_len - ICMP_HDR_LEN;
	slice.ref = 0;
	sum = utcp_csum_partial(hdr + off, ICMP_HDR_LEN, 0);
	sum = csum_add_slices(sum, ICMP_HDR_LEN, &slice, 1);
	c = utcp_csum_fold(sum);
	memcpy(hdr + off + 2, &c, 2);
	if (utcp_xmit(s, hdr, sizeof(hdr), &slice, slice.len > 0 ? 1 : 0, &meta))
		s->stats.icmp_echo++;
drop:
	utcp_pkt_free(s, rx->pkt);
}
