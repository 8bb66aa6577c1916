/* SPDX-License-Identifier: Apache-2.0 */
/* Writes fuzz seeds for every generated API x version: a size-prefixed
 * frame (request header + a body with every field filled, from
 * kp_test_fill.c) per file, into the directory given. Run by hand after
 * adding APIs: make_seeds tests/fuzz/corpus/request */
#include <stdio.h>
#include <stdlib.h>

#include "protocol/gen/kp_api.h"
#include "protocol/gen/kp_msg_header.h"
#include "protocol/gen/kp_test_fill.h"
#include "protocol/kp_wire.h"

#define SEED_ARENA_BYTES (4u << 20)

int
main(int argc, char **argv)
{
	size_t count;
	const struct kp_api_info *apis = kp_api_info_list(&count);
	uint8_t *arena_buf = malloc(SEED_ARENA_BYTES);

	if (argc != 2 || arena_buf == NULL) {
		fprintf(stderr, "usage: make_seeds DIR\n");
		return 2;
	}
	for (size_t i = 0; i < count; i++) {
		for (int16_t v = apis[i].min_version; v <= apis[i].max_version; v++) {
			struct kp_test_arena a = { arena_buf, 0, SEED_ARENA_BYTES };
			struct kp_request_header h;
			struct kp_writer w;
			char path[512];
			FILE *f;

			kp_request_header_init(&h);
			h.request_api_key = apis[i].key;
			h.request_api_version = v;
			h.correlation_id = 1;
			h.client_id = kp_str_c("seed");
			kp_writer_init(&w, 0);
			kp_write_i32(&w, 0);
			kp_request_header_encode(&w, kp_request_header_version(apis[i].key, v), &h);
			if (kp_request_encode_test_any(apis[i].key, v, &a, &w) != 0)
				return 1;
			kp_write_put_i32(&w, 0, (int32_t)(w.len - 4));
			snprintf(path, sizeof(path), "%s/fill-%02d-%s-v%d.bin", argv[1],
				 apis[i].key, apis[i].name, v);
			f = fopen(path, "wb");
			if (f == NULL || fwrite(w.buf, 1, w.len, f) != w.len || fclose(f) != 0)
				return 1;
			kp_writer_free(&w);
		}
	}
	free(arena_buf);
	return 0;
}
