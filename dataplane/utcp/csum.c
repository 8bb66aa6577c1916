/* SPDX-License-Identifier: Apache-2.0 */
/* The Internet checksum (RFC 1071) in memory order, as DPDK's rte_raw_cksum:
 * 16-bit words are added as loaded on this CPU, so a folded, complemented
 * result is stored into a header with memcpy, no byte swap. Also the IPv4
 * pseudo-header and a sum over payload slices of any lengths. */
#include "dataplane/utcp/utcp_int.h"

uint32_t
utcp_csum_partial(const void *data, uint32_t len, uint32_t sum)
{
	const uint8_t *p = data;
	uint64_t acc = sum;

	while (len >= 8) {
		uint32_t a, b;

		memcpy(&a, p, 4);
		memcpy(&b, p + 4, 4);
		acc += (uint64_t)a + b;
		p += 8;
		len -= 8;
	}
	while (len >= 2) {
		uint16_t w;

		memcpy(&w, p, 2);
		acc += w;
		p += 2;
		len -= 2;
	}
	if (len == 1) {
		uint16_t w = 0;

		memcpy(&w, p, 1);       /* the byte first in memory, zero after */
		acc += w;
	}
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

/* Fold to 16 bits without complementing (what a NIC expects in the TCP
 * checksum field when it is to finish the sum). */
uint16_t
csum_fold16(uint32_t sum)
{
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)sum;
}

uint16_t
utcp_csum_fold(uint32_t sum)
{
	return (uint16_t)~csum_fold16(sum);
}

/* The IPv4 pseudo-header; addresses in host order, l4_len 0 for TSO. */
uint32_t
csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint32_t l4_len)
{
	uint8_t ph[12];

	be_write32(ph, src);
	be_write32(ph + 4, dst);
	ph[8] = 0;
	ph[9] = proto;
	be_write16(ph + 10, (uint16_t)l4_len);
	return utcp_csum_partial(ph, sizeof(ph), 0);
}

/* Add slices that start at byte offset `offset` of the summed area. A
 * slice starting at an odd offset has its folded sum byte-swapped, which is
 * what summing it one byte further along yields (RFC 1071 2(B)). */
uint32_t
csum_add_slices(uint32_t sum, uint32_t offset, const struct utcp_slice *slices,
		uint32_t slice_count)
{
	uint64_t acc = sum;

	for (uint32_t i = 0; i < slice_count; i++) {
		uint16_t part = csum_fold16(utcp_csum_partial(slices[i].base, slices[i].len, 0));

		if (offset & 1u)
			part = (uint16_t)(part << 8 | part >> 8);
		acc += part;
		offset += slices[i].len;
	}
	acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}
