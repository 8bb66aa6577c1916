/* SPDX-License-Identifier: Apache-2.0 */
/* The peer's frame builder and packet accounting shared by the utcp unit
 * tests and the utcp fuzz target (see fk_build.h); only utcp_csum_* is
 * taken from the stack. */
#include <stdlib.h>
#include <string.h>

#include "common/be.h"
#include "dataplane/utcp.h"
#include "tests/unit/dataplane/utcp/fk_build.h"

const uint8_t fk_build_our_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
const uint8_t fk_build_peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

uint32_t
fk_build_tcp(uint8_t *f, uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags,
	     uint16_t wnd, const uint8_t *opt, uint32_t opt_len, const void *data, uint32_t len)
{
	uint8_t *ip = f + 14, *th = f + 34;
	uint32_t thl = 20 + opt_len, sum;
	uint8_t ph[12];
	uint16_t c;

	memcpy(f, fk_build_our_mac, 6);
	memcpy(f + 6, fk_build_peer_mac, 6);
	be_write16(f + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	be_write16(ip + 2, (uint16_t)(20 + thl + len));
	be_write16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 6;
	be_write32(ip + 12, FK_PEER_IP);
	be_write32(ip + 16, FK_OUR_IP);
	c = utcp_csum_fold(utcp_csum_partial(ip, 20, 0));
	memcpy(ip + 10, &c, 2);
	memset(th, 0, 20);
	be_write16(th, sport);
	be_write16(th + 2, FK_PORT);
	be_write32(th + 4, seq);
	be_write32(th + 8, ack);
	th[12] = (uint8_t)((thl / 4) << 4);
	th[13] = flags;
	be_write16(th + 14, wnd);
	if (opt_len)
		memcpy(th + 20, opt, opt_len);
	if (len)
		memcpy(th + thl, data, len);
	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = 6;
	be_write16(ph + 10, (uint16_t)(thl + len));
	sum = utcp_csum_partial(ph, 12, 0);
	c = utcp_csum_fold(utcp_csum_partial(th, thl + len, sum));
	memcpy(th + 16, &c, 2);
	return 34 + thl + len;
}

void *
fk_build_pkt(const uint8_t *frame, uint32_t len, long *outstanding)
{
	uint8_t *pkt = malloc(len ? len : 1);

	if (pkt == NULL)
		return NULL;
	memcpy(pkt, frame, len);
	(*outstanding)++;
	return pkt;
}

bool
fk_build_pkt_free(void *pkt, long *outstanding)
{
	if (pkt == NULL || *outstanding <= 0)
		return false;
	(*outstanding)--;
	free(pkt);
	return true;
}
