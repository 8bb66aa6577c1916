/* SPDX-License-Identifier: Apache-2.0 */
/* Request header v1/v2 decoding. Hand-written rather than generated because
 * it runs for every request and has one quirk: in v2 the client id stays a
 * classic int16-length string so any broker can read an ApiVersions header. */
#include "protocol/kp_int.h"

int
kp_header_decode(struct kp_cursor *c, bool flexible, struct kp_req_header *hdr)
{
	hdr->api_key = kp_read_i16(c);
	hdr->api_version = kp_read_i16(c);
	hdr->correlation_id = kp_read_i32(c);
	hdr->client_id = kp_read_string(c, false);
	if (flexible)
		kp_skip_tagged_fields(c);
	return c->err == 0 ? 0 : -1;
}
