/* SPDX-License-Identifier: Apache-2.0 */
/* Response framing for requests answered after their dispatch call (those
 * that wait on storage): the size placeholder, correlation id and header
 * tags, then the size patched over the bytes and the holes. Its own file so
 * that the protocol core links without the dispatch table (the dataplane's
 * tests put their own kp_dispatch() in its place). @thread dataplane */
#include "protocol/gen/kp_api.h"
#include "common/assert.h"
#include "protocol/kp_int.h"

/* ApiVersions responses always carry header v0 (KIP-511): clients read the
 * header before they know which versions the broker speaks. */
bool
kp_response_header_flexible(int16_t api_key, int16_t version)
{
	const struct kp_api_info *info = kp_api_info_get(api_key);

	if (api_key == KP_API_API_VERSIONS)
		return false;
	ASSERT(info != NULL);
	return info->response_flexible_min >= 0 && version >= info->response_flexible_min;
}

void
kp_response_begin(struct kp_writer *w, const struct kp_request_header *hdr)
{
	kp_write_i32(w, 0);     /* size, patched by kp_response_end() */
	kp_write_i32(w, hdr->correlation_id);
	if (kp_response_header_flexible(hdr->request_api_key, hdr->request_api_version))
		kp_write_uvarint(w, 0);         /* no tagged fields */
}

bool
kp_response_end(struct kp_writer *w, struct kp_buf *out)
{
	uint64_t size = w->len - 4;

	for (uint32_t i = 0; i < w->hole_count; i++)
		size += w->holes[i].len;
	if (w->err != 0 || w->len < 8 || size > INT32_MAX)
		return false;
	kp_write_put_i32(w, 0, (int32_t)size);
	out->data = w->buf;
	out->len = (uint32_t)w->len;
	return true;
}

void
kp_reply_begin(struct kp_writer *w, int16_t api_key, int16_t api_version,
	       int32_t correlation_id)
{
	kp_write_i32(w, 0);     /* size, patched by kp_reply_end() */
	kp_write_i32(w, correlation_id);
	if (kp_response_header_flexible(api_key, api_version))
		kp_write_uvarint(w, 0);         /* no tagged fields */
}

bool
kp_reply_end(struct kp_writer *w, struct kp_buf *out)
{
	if (kp_response_end(w, out))
		return true;
	kp_writer_free(w);
	return false;
}
