/* SPDX-License-Identifier: Apache-2.0 */
/* Writes compression-bomb seeds for fuzz_records into the directory given:
 * batches whose records decompress past the bound of kp_records_inflate.c (or lie
 * about their sizes), per codec and shape, each under the fuzzer's 1 MiB.
 * First byte as fuzz_records.c reads it. Run by hand:
 * make_bomb_seeds tests/fuzz/corpus/records */
#include <stdio.h>
#include <stdlib.h>

#include "tests/unit/protocol/trecords.h"

/* Write [first][batch around body] to dir/name. */
static int
seed_write(const char *dir, const char *name, uint8_t first, int codec, int32_t count,
	   const uint8_t *body, size_t body_len)
{
	struct trecords_hdr h = trecords_hdr_default(count);
	struct trecords_buf b;
	char path[512];
	FILE *f;

	h.attributes = (int16_t)codec;
	b = trecords_batch(&h, body, body_len);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(&first, 1, 1, f) != 1 || fwrite(b.p, 1, b.len, f) != b.len ||
	    fclose(f) != 0) {
		fprintf(stderr, "make_bomb_seeds: cannot write %s\n", path);
		return -1;
	}
	printf("%s: %zu bytes\n", path, b.len + 1);
	free(b.p);
	return 0;
}

int
main(int argc, char **argv)
{
	/* Produce v9; bits 4-6 pick the fuzzer's step budget, varied here. */
	static const struct { const char *name; int codec; bool xerial; int32_t count;
			      size_t vlen; uint8_t first; } seeds[] = {
		{ "bomb-gzip-one", RBATCH_CODEC_GZIP, false, 1, 70u << 20, 0x79 },
		{ "bomb-gzip-many", RBATCH_CODEC_GZIP, false, 70, 1u << 20, 0x69 },
		{ "bomb-zstd-one", RBATCH_CODEC_ZSTD, false, 1, 200u << 20, 0x59 },
		{ "bomb-zstd-many", RBATCH_CODEC_ZSTD, false, 100, 1u << 20, 0x79 },
		/* lz4 (255:1) and snappy (21:1) cannot pass 64 x 1 MiB in 1 MiB:
		 * large streams, for the fuzzer to mutate. */
		{ "big-lz4", RBATCH_CODEC_LZ4, false, 8, 1u << 20, 0x69 },
		{ "big-snappy", RBATCH_CODEC_SNAPPY, false, 4, 256u << 10, 0x79 },
		{ "big-xerial", RBATCH_CODEC_SNAPPY, true, 4, 256u << 10, 0x69 },
	};

	if (argc != 2) {
		fprintf(stderr, "usage: make_bomb_seeds DIR\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		/* Records of vlen zero bytes, compressed as hard as the codec goes,
		 * zstd without a content size as a streaming producer writes it. */
		struct trecords_buf r = trecords_records(seeds[i].count, seeds[i].vlen, 0, false);
		struct trecords_codec how = { .codec = seeds[i].codec, .xerial = seeds[i].xerial,
					      .zstd_stream = true, .best = true };
		struct trecords_buf c = trecords_compress(&how, r.p, r.len);

		if (seed_write(argv[1], seeds[i].name, seeds[i].first, seeds[i].codec,
			       seeds[i].count, c.p, c.len) != 0)
			return 1;
		free(r.p);
		free(c.p);
	}
	/* Raw snappy whose preamble claims 2^32 - 1 bytes, then one literal. */
	{
		static const uint8_t unit[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 'x' };

		if (seed_write(argv[1], "bomb-snappy-lying", 0x19, RBATCH_CODEC_SNAPPY, true, unit,
			       sizeof(unit)) != 0)
			return 1;
	}
	return 0;
}
