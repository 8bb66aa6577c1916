/* SPDX-License-Identifier: Apache-2.0 */
/* Tests storage/cleaner_batch.c, cleaner_codec.c and cleaner_map.c: the
 * codecs round-trip each of Kafka's four; one batch filtered against an
 * offset map keeps the latest record per key with offsets, lastOffsetDelta,
 * producer fields and codec unchanged and a valid CRC; tombstones get a
 * delete horizon on the first clean and go after it; emptied batches go
 * unless they are their producer's last. Batches are hand-built
 * (tkeyed.c) and read back through the record walk. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/cleaner_int.h"
#include "tests/unit/storage/tkeyed.h"

static const int codecs[] = { RBATCH_CODEC_NONE, RBATCH_CODEC_GZIP, RBATCH_CODEC_SNAPPY,
			      RBATCH_CODEC_LZ4, RBATCH_CODEC_ZSTD };

Test(cleaner_codec, round_trips_every_codec)
{
	uint8_t in[20000], *packed, *out;
	size_t plen, olen;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i % 251 < 100 ? 'a' : i * 7);
	for (int c = 1; c <= 4; c++) {
		cr_assert_eq(cleaner_codec_compress(c, in, sizeof(in), &packed, &plen), 0);
		cr_assert_eq(cleaner_codec_decompress(c, packed, plen, &out, &olen, 1 << 20), 0,
			     "codec %d", c);
		cr_assert_eq(olen, sizeof(in));
		cr_assert_eq(memcmp(in, out, olen), 0);
		free(out);
		/* A truncated stream is an error, not a crash. */
		cr_assert_lt(cleaner_codec_decompress(c, packed, plen / 2, &out, &olen, 1 << 20), 0,
			     "codec %d", c);
		free(packed);
	}
}

Test(cleaner_codec, bounds_the_output)
{
	uint8_t in[100000] = { 0 }, *packed, *out;
	size_t plen, olen;

	cr_assert_eq(cleaner_codec_compress(RBATCH_CODEC_ZSTD, in, sizeof(in), &packed, &plen), 0);
	cr_assert_lt(cleaner_codec_decompress(RBATCH_CODEC_ZSTD, packed, plen, &out, &olen, 4096),
		     0);
	free(packed);
}

Test(cleaner_map, latest_offset_per_key)
{
	struct cleaner_map m;

	cr_assert_eq(cleaner_map_init(&m, 1024), 0);
	cleaner_map_put(&m, (const uint8_t *)"a", 1, 3);
	cleaner_map_put(&m, (const uint8_t *)"b", 1, 4);
	cleaner_map_put(&m, (const uint8_t *)"a", 1, 7);
	cr_assert_eq(cleaner_map_get(&m, (const uint8_t *)"a", 1), 7);
	cr_assert_eq(cleaner_map_get(&m, (const uint8_t *)"b", 1), 4);
	cr_assert_eq(cleaner_map_get(&m, (const uint8_t *)"c", 1), -1);
	cr_assert_eq(m.latest_offset, 7);
	for (int i = 0; !cleaner_map_full(&m); i++)
		cleaner_map_put(&m, (const uint8_t *)&i, sizeof(i), 100 + i);
	cr_assert_eq(m.used, m.used_max);
	cleaner_map_clear(&m);
	cr_assert_eq(cleaner_map_get(&m, (const uint8_t *)"a", 1), -1);
	cleaner_map_fini(&m);
}

/* Distinct keys never share an entry (a shared one would drop a key's
 * latest record): the 128-bit key hash, as Kafka's MD5 digest, over many
 * keys like test_compaction's "key-<n>" and short binary ones. */
Test(cleaner_map, distinct_keys_keep_their_own_offsets)
{
	struct cleaner_map m;
	char key[32];
	int n, len;

	cr_assert_eq(cleaner_map_init(&m, 1u << 19), 0);
	for (n = 0; n < 200000; n++) {
		len = snprintf(key, sizeof(key), n % 2 ? "key-%d" : "%d", n);
		cleaner_map_put(&m, (const uint8_t *)key, (size_t)len, n);
	}
	for (n = 0; n < 200000; n++)
		cleaner_map_put(&m, (const uint8_t *)&n, sizeof(n), 200000 + n);
	cr_assert(!cleaner_map_full(&m));
	cr_assert_eq(m.used, 400000u);
	for (n = 0; n < 200000; n++) {
		len = snprintf(key, sizeof(key), n % 2 ? "key-%d" : "%d", n);
		cr_assert_eq(cleaner_map_get(&m, (const uint8_t *)key, (size_t)len), n);
		cr_assert_eq(cleaner_map_get(&m, (const uint8_t *)&n, sizeof(n)), 200000 + n);
	}
	cleaner_map_fini(&m);
}

/* Map every keyed record of recs (offset base + i). */
static void
map_records(struct cleaner_map *m, const struct tk_rec *recs, int n, int64_t base)
{
	char key[16];

	for (int i = 0; i < n; i++) {
		if (recs[i].key < 0)
			continue;
		snprintf(key, sizeof(key), "k%d", recs[i].key);
		cleaner_map_put(m, (const uint8_t *)key, strlen(key), base + i);
	}
}

static void
filter_one(int codec)
{
	/* offsets 100..107: k1 twice, k2 twice, k3 tombstone last, keyless. */
	static const struct tk_rec recs[] = {
		{ 1, 0 }, { 2, 0 }, { 1, 1 }, { 3, 0 }, { -1, 5 }, { 2, 1 }, { 3, -1 }, { 4, 0 },
	};
	struct tk_batch b = { recs, 8, codec, 100, 5000, 77, 3, 40 };
	struct cleaner_filter f = { .now_ms = 10000, .delete_retention_ms = 1000 };
	struct cleaner_batch_result res;
	struct cleaner_buf out = { 0 };
	struct cleaner_map m;
	struct rbatch_header h;
	struct tk_log *log = calloc(1, sizeof(*log));
	uint32_t len;
	uint8_t *batch = tk_build(&b, &len);

	cr_assert_eq(cleaner_map_init(&m, 1024), 0);
	map_records(&m, recs, 8, 100);
	f.map = &m;
	cr_assert_eq(cleaner_batch_filter(&f, batch, len, &out, &res), 0);
	cr_assert(res.kept && !res.original);
	cr_assert_eq(res.records_read, 8);
	cr_assert_eq(res.records_kept, 4);
	cr_assert_eq(rbatch_header_parse(out.data, out.len, &h), 0);
	cr_assert_eq(h.base_offset, 100);
	cr_assert_eq(h.last_offset_delta, 7, "lastOffsetDelta kept");
	cr_assert_eq(h.producer_id, 77);
	cr_assert_eq(h.producer_epoch, 3);
	cr_assert_eq(h.base_sequence, 40);
	cr_assert_eq(h.attributes & RBATCH_ATTR_CODEC_MASK, codec);
	cr_assert(h.attributes & RBATCH_ATTR_DELETE_HORIZON, "a tombstone starts the horizon");
	cr_assert_eq(h.base_timestamp, 11000);
	tk_parse(out.data, out.len, log);
	cr_assert_eq(log->count, 4);
	/* k1@102, k2@105, the k3 tombstone @106, k4@107; keyless @104 gone. */
	cr_assert_eq(log->recs[0].offset, 102);
	cr_assert_eq(log->recs[0].key, 1);
	cr_assert_eq(log->recs[0].value, 1);
	cr_assert_eq(log->recs[0].ts, 5002, "timestamps survive the new base");
	cr_assert_eq(log->recs[1].offset, 105);
	cr_assert_eq(log->recs[2].offset, 106);
	cr_assert_eq(log->recs[2].value, -1);
	cr_assert_eq(log->recs[3].offset, 107);
	cr_assert_eq(log->recs[3].key, 4);
	free(batch);

	/* Past the horizon the tombstone goes; the rest stays as it is. */
	batch = out.data;
	len = (uint32_t)out.len;
	memset(&out, 0, sizeof(out));
	f.now_ms = 11000;
	cr_assert_eq(cleaner_batch_filter(&f, batch, len, &out, &res), 0);
	memset(log, 0, sizeof(*log));
	tk_parse(out.data, out.len, log);
	for (int i = 0; i < log->count; i++)
		cr_assert_neq(log->recs[i].value, -1);
	cr_assert_eq(log->last_offsets[0], 107);
	free(batch);
	cleaner_buf_free(&out);
	cleaner_map_fini(&m);
	free(log);
}

Test(cleaner_batch, keeps_latest_per_key_uncompressed) { filter_one(RBATCH_CODEC_NONE); }
Test(cleaner_batch, keeps_latest_per_key_gzip) { filter_one(RBATCH_CODEC_GZIP); }
Test(cleaner_batch, keeps_latest_per_key_snappy) { filter_one(RBATCH_CODEC_SNAPPY); }
Test(cleaner_batch, keeps_latest_per_key_lz4) { filter_one(RBATCH_CODEC_LZ4); }
Test(cleaner_batch, keeps_latest_per_key_zstd) { filter_one(RBATCH_CODEC_ZSTD); }

Test(cleaner_batch, unchanged_batch_is_copied)
{
	static const struct tk_rec recs[] = { { 1, 0 }, { 2, 0 } };
	struct cleaner_filter f = { .now_ms = 1 };
	struct cleaner_batch_result res;
	struct cleaner_buf out = { 0 };
	struct cleaner_map m;

	for (size_t c = 0; c < sizeof(codecs) / sizeof(codecs[0]); c++) {
		struct tk_batch b = { recs, 2, codecs[c], 10, 5000, -1, -1, -1 };
		uint32_t len;
		uint8_t *batch = tk_build(&b, &len);

		cr_assert_eq(cleaner_map_init(&m, 64), 0);
		map_records(&m, recs, 2, 10);
		f.map = &m;
		out.len = 0;
		cr_assert_eq(cleaner_batch_filter(&f, batch, len, &out, &res), 0);
		cr_assert(res.original);
		cr_assert_eq(out.len, len);
		cr_assert_eq(memcmp(out.data, batch, len), 0);
		free(batch);
		cleaner_map_fini(&m);
	}
	cleaner_buf_free(&out);
}

Test(cleaner_batch, emptied_batch_kept_only_as_producers_last)
{
	static const struct tk_rec recs[] = { { 1, 0 }, { 2, 0 } };
	struct tk_batch b = { recs, 2, RBATCH_CODEC_LZ4, 10, 5000, 9, 1, 7 };
	struct cleaner_filter f = { .now_ms = 1 };
	struct cleaner_batch_result res;
	struct cleaner_buf out = { 0 };
	struct rbatch_header h;
	struct cleaner_map m;
	uint32_t len;
	uint8_t *batch = tk_build(&b, &len);

	cr_assert_eq(cleaner_map_init(&m, 64), 0);
	map_records(&m, recs, 2, 20);           /* both keys superseded later */
	f.map = &m;
	cr_assert_eq(cleaner_batch_filter(&f, batch, len, &out, &res), 0);
	cr_assert(!res.kept);
	cr_assert_eq(out.len, 0);
	f.retain_empty = true;
	cr_assert_eq(cleaner_batch_filter(&f, batch, len, &out, &res), 0);
	cr_assert(res.kept);
	cr_assert_eq(out.len, RBATCH_HEADER_BYTES);
	cr_assert_eq(rbatch_header_parse(out.data, out.len, &h), 0);
	cr_assert(rbatch_crc_ok(out.data, out.len));
	cr_assert_eq(h.base_offset, 10);
	cr_assert_eq(h.last_offset_delta, 1);
	cr_assert_eq(h.records_count, 0);
	cr_assert_eq(h.producer_id, 9);
	cr_assert_eq(h.base_sequence, 7);
	cr_assert_eq(h.attributes & RBATCH_ATTR_CODEC_MASK, 0);
	cr_assert_eq(h.base_timestamp, -1);
	cr_assert_eq(h.max_timestamp, 5001);
	free(batch);
	cleaner_buf_free(&out);
	cleaner_map_fini(&m);
}

Test(cleaner_batch, refuses_corrupt_batches)
{
	static const struct tk_rec recs[] = { { 1, 0 }, { 2, 0 } };
	struct tk_batch b = { recs, 2, RBATCH_CODEC_GZIP, 10, 5000, -1, -1, -1 };
	struct cleaner_filter f = { .now_ms = 1 };
	struct cleaner_batch_result res;
	struct cleaner_buf out = { 0 };
	struct cleaner_map m;
	uint32_t len;
	uint8_t *batch = tk_build(&b, &len);

	cr_assert_eq(cleaner_map_init(&m, 64), 0);
	map_records(&m, recs, 2, 20);
	f.map = &m;
	batch[len - 3] ^= 0xff;                 /* inside the gzip trailer/body */
	cr_assert_lt(cleaner_batch_filter(&f, batch, len, &out, &res), 0);
	cr_assert_lt(cleaner_batch_filter(&f, batch, len - 1, &out, &res), 0);
	free(batch);
	cleaner_buf_free(&out);
	cleaner_map_fini(&m);
}
