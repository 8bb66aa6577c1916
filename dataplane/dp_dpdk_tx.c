/* SPDX-License-Identifier: Apache-2.0 */
/* Transmit on the dpdk backend: utcp's frames become mbuf chains (header
 * and reply bytes copied into tx_pool mbufs, file-region slices attached in
 * place from hugepage blocks with rte_pktmbuf_attach_extbuf), get their
 * checksum offload fields, and are queued for one tx burst per turn.
 * @thread dataplane */
#include <string.h>

#include <rte_ip.h>
#include <rte_tcp.h>

#include "dataplane/dp_dpdk_int.h"

/* Hand the queued frames to the NIC in one burst; what the TX ring has no
 * room for is dropped and counted (TCP retransmits it). */
void
dp_dpdk_tx_flush(struct dpk_core *kc)
{
	uint16_t sent = 0;

	if (kc->txq_count == 0)
		return;
	sent = rte_eth_tx_burst(kc->port->port_id, kc->queue, kc->txq, (uint16_t)kc->txq_count);
	if (sent < kc->txq_count) {
		rte_pktmbuf_free_bulk(kc->txq + sent, kc->txq_count - sent);
		dp_stat_add(&kc->tx_dropped, kc->txq_count - sent);
	}
	kc->txq_count = 0;
	kc->busy = true;
}

/* Copy len bytes to the end of the chain at *last, adding tx_pool mbufs as
 * they fill. False when out of mbufs or past the segment limit. */
static bool
dp_dpdk_tx_append_copy(struct dpk_core *kc, struct rte_mbuf *head, struct rte_mbuf **last,
		const uint8_t *data, uint32_t len)
{
	while (len > 0) {
		uint16_t room = rte_pktmbuf_tailroom(*last);
		uint32_t n;

		if (room == 0) {
			struct rte_mbuf *m;

			if (head->nb_segs >= kc->port->seg_max)
				return false;
			m = rte_pktmbuf_alloc(kc->tx_pool);
			if (m == NULL)
				return false;
			(*last)->next = m;
			*last = m;
			head->nb_segs++;
			continue;
		}
		n = len < room ? len : room;
		memcpy(rte_pktmbuf_mtod_offset(*last, uint8_t *, (*last)->data_len), data, n);
		(*last)->data_len = (uint16_t)((*last)->data_len + n);
		head->pkt_len += n;
		data += n;
		len -= n;
	}
	return true;
}

/* Attach a slice of a hugepage block: the NIC reads it in place. */
static bool
dp_dpdk_tx_append_block(struct dpk_core *kc, struct rte_mbuf *head, struct rte_mbuf **last,
		 const struct utcp_slice *sl)
{
	struct dpk_block *b = (struct dpk_block *)(uintptr_t)sl->ref;
	struct rte_mbuf *m;

	if (head->nb_segs >= kc->port->seg_max || sl->len > UINT16_MAX)
		return dp_dpdk_tx_append_copy(kc, head, last, sl->base, sl->len);
	m = rte_pktmbuf_alloc(kc->ext_pool);
	if (m == NULL)
		return false;
	ASSERT_HOT(sl->base >= b->va && sl->base + sl->len <= b->va + DPK_BLOCK_BYTES);
	rte_mbuf_ext_refcnt_update(&b->shinfo, 1);
	rte_pktmbuf_attach_extbuf(m, (void *)(uintptr_t)sl->base,
				  b->iova + (rte_iova_t)(sl->base - b->va), (uint16_t)sl->len,
				  &b->shinfo);
	m->data_len = (uint16_t)sl->len;
	(*last)->next = m;
	*last = m;
	head->nb_segs++;
	head->pkt_len += sl->len;
	return true;
}

/* Checksum fields as the PMD expects them for the offloads asked: IPv4
 * header checksum zero, TCP checksum the pseudo-header sum (without the
 * length under TSO), which rte_ipv4_phdr_cksum() computes for the flags. */
static void
dp_dpdk_tx_offload(struct dpk_core *kc, struct rte_mbuf *m, const struct utcp_tx_meta *meta)
{
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *tcp;

	if (meta->offloads == 0 && meta->tso_segsz == 0)
		return;
	m->l2_len = meta->l2_len;
	m->l3_len = meta->l3_len;
	m->l4_len = meta->l4_len;
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, meta->l2_len);
	m->ol_flags |= RTE_MBUF_F_TX_IPV4;
	if (meta->offloads & UTCP_TX_IP_CSUM) {
		m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
		ip->hdr_checksum = 0;
	}
	if (meta->l4_len == 0)
		return;
	if (meta->tso_segsz > 0) {
		uint32_t segsz = meta->tso_segsz;

		/* net_tap drops TSO segments whose size plus all headers
		 * (L2 included) exceeds the MTU. */
		if (kc->port->tso_clamp &&
		    segsz + meta->l2_len + meta->l3_len + meta->l4_len > kc->port->mtu)
			segsz = kc->port->mtu - meta->l2_len - meta->l3_len - meta->l4_len;
		m->tso_segsz = (uint16_t)segsz;
		m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM;
	} else if (meta->offloads & UTCP_TX_TCP_CSUM) {
		m->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
	} else {
		return;
	}
	tcp = rte_pktmbuf_mtod_offset(m, struct rte_tcp_hdr *, meta->l2_len + meta->l3_len);
	tcp->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
}

/* utcp_ops.xmit: header copied into a tx mbuf, payload slices copied
 * (reply bytes) or attached (hugepage blocks), queued for the burst. */
bool
dp_dpdk_tx_xmit(void *arg, const uint8_t *hdr, uint32_t hdr_len, const struct utcp_slice *slices,
	 uint32_t slice_count, const struct utcp_tx_meta *meta)
{
	struct dpk_core *kc = arg;
	struct rte_mbuf *m, *last;
	bool ok = true;

	m = rte_pktmbuf_alloc(kc->tx_pool);
	if (unlikely(m == NULL || hdr_len > rte_pktmbuf_tailroom(m))) {
		rte_pktmbuf_free(m);
		dp_stat_add(&kc->tx_dropped, 1);
		return false;
	}
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), hdr, hdr_len);
	m->data_len = (uint16_t)hdr_len;
	m->pkt_len = hdr_len;
	last = m;
	for (uint32_t i = 0; i < slice_count && ok; i++) {
		if (slices[i].ref != 0 && kc->port->multi_seg)
			ok = dp_dpdk_tx_append_block(kc, m, &last, &slices[i]);
		else
			ok = dp_dpdk_tx_append_copy(kc, m, &last, slices[i].base, slices[i].len);
	}
	if (unlikely(!ok)) {
		rte_pktmbuf_free(m);
		dp_stat_add(&kc->tx_dropped, 1);
		return false;
	}
	dp_dpdk_tx_offload(kc, m, meta);
	if (kc->txq_count == DPK_TXQ_MAX)
		dp_dpdk_tx_flush(kc);
	kc->txq[kc->txq_count++] = m;
	return true;
}
