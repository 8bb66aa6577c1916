/* SPDX-License-Identifier: Apache-2.0 */
/* Tests protocol/kp_records_inflate.c: batches compressed here with zlib,
 * snappy (raw and xerial), lz4 and zstd validate, truncated or damaged
 * streams are refused and never read past, gzip members follow each other;
 * and the decompression bound: bombs cut after bounded work, declared
 * sizes refused before any, compressible client batches passing. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "protocol/kp_error.h"
#include "protocol/kp_records.h"
#include "tests/unit/protocol/test_kp_records.h"
#include "tests/unit/protocol/trecords.h"

static int16_t
check_codec(int i, const uint8_t *raw, size_t n, int32_t count)
{
	const struct trecords_buf r = { (uint8_t *)(uintptr_t)raw, n, n };
	struct trecords_buf b = trecords_batch_codec(i, &r, count);
	int16_t err = check(&b, V_LATEST);

	free(b.p);
	return err;
}

Test(kp_records_inflate, every_codec_built_here)
{
	/* 300 records of 1 KiB: the stream crosses the 64 KiB window. */
	struct trecords_buf r = trecords_records(300, 1024, 'v', true);

	for (int i = 0; i < TRECORDS_CODECS; i++) {
		cr_assert_eq(check_codec(i, r.p, r.len, 300), KP_ERR_NONE, "%s",
			     trecords_codec_name(i));
		cr_assert_eq(check_codec(i, r.p, r.len, 301), KP_ERR_INVALID_RECORD, "%s",
			     trecords_codec_name(i));
		cr_assert_eq(check_codec(i, r.p, r.len - 1, 300), KP_ERR_INVALID_RECORD, "%s",
			     trecords_codec_name(i));
	}
	free(r.p);
	kp_records_thread_release();
}

/* A compressed stream cut anywhere, with the batch length and CRC made to
 * agree, is refused and never read past. */
Test(kp_records_inflate, truncated_compressed_streams)
{
	struct trecords_buf r = trecords_records(40, 50, 'v', true);

	for (int i = 0; i < TRECORDS_CODECS; i++) {
		struct trecords_buf c = trecords_compress(&trecords_codecs[i], r.p, r.len);
		struct trecords_hdr h = trecords_hdr_default(40);

		h.attributes = (int16_t)trecords_codecs[i].codec;
		for (size_t cut = 0; cut < c.len; cut++) {
			uint8_t *body = malloc(cut + 1);
			struct trecords_buf b;

			memcpy(body, c.p, cut);
			b = trecords_batch(&h, body, cut);
			cr_assert_neq(check(&b, V_LATEST), KP_ERR_NONE, "%s cut %zu",
				      trecords_codec_name(i), cut);
			/* Garbage in the stream, with a valid CRC. */
			if (cut > 0 && cut + 61 < b.len) {
				b.p[61 + cut / 2] ^= 0x5a;
				trecords_refresh_crc(b.p, b.len);
				(void)check(&b, V_LATEST);
			}
			free(b.p);
			free(body);
		}
		free(c.p);
	}
	free(r.p);
}

static uint64_t
inflated_now(void)
{
	struct kp_records_stats st;

	kp_records_thread_stats(&st);
	return st.inflated_bytes;
}

/* The bound as kp_records_inflate.c documents it. */
static uint64_t
bound_of(const struct trecords_buf *b, int32_t mmb)
{
	uint64_t body = b->len - 61, by_ratio = body * 4096, cap = (uint64_t)mmb * 64;
	uint64_t bound = by_ratio < cap ? by_ratio : cap;

	return bound > (uint64_t)mmb ? bound : (uint64_t)mmb;
}

/* Bombs of every codec whose records would decompress past the bound are
 * refused with INVALID_RECORD after at most the bound plus one 64 KiB
 * window of decompression, by the work counter. Two shapes: one record
 * too large for the bound (refused at its length), and many small records
 * (refused where they cross it). max.message.bytes is the batch's own
 * size, so the bound is as tight as it gets. */
Test(kp_records_inflate, bombs_cut_after_bounded_work)
{
	struct { int32_t count; size_t vlen; } shapes[] = { { 1, 24u << 20 }, { 384, 64u << 10 } };

	for (size_t si = 0; si < sizeof(shapes) / sizeof(shapes[0]); si++) {
		struct trecords_buf r = trecords_records(shapes[si].count, shapes[si].vlen, 0,
							 false);

		for (int ci = -1; ci < TRECORDS_CODECS; ci++) {
			struct trecords_buf b = trecords_batch_codec(ci, &r, shapes[si].count);
			struct kp_records_stats st0, st1;
			struct rbatch_header h;
			uint64_t before = inflated_now(), work;
			uint64_t bound = bound_of(&b, (int32_t)b.len);
			int16_t err;

			kp_records_thread_stats(&st0);
			err = kp_records_validate(b.p, (int32_t)b.len, V_LATEST, (int32_t)b.len,
						  &h);
			kp_records_thread_stats(&st1);
			work = inflated_now() - before;
			if (trecords_codecs[ci < 0 ? 0 : ci].codec == RBATCH_CODEC_SNAPPY) {
				/* At most ~21:1, snappy cannot reach 64 x its own size. */
				cr_assert_eq(err, KP_ERR_NONE, "%s", trecords_codec_name(ci));
			} else {
				cr_assert_eq(err, KP_ERR_INVALID_RECORD, "%s shape %zu",
					     trecords_codec_name(ci), si);
				cr_assert_eq(st1.limit_rejects, st0.limit_rejects + 1, "%s",
					     trecords_codec_name(ci));
				cr_assert_leq(work, bound + (64u << 10), "%s shape %zu: %lu > %lu",
					      trecords_codec_name(ci), si, (unsigned long)work,
					      (unsigned long)bound);
			}
			free(b.p);
		}
		free(r.p);
	}
	kp_records_thread_release();
}

/* The bombs of issue 11 under the default max.message.bytes: 100 MiB of
 * zeros in one record (gzip ~100 KiB, zstd a few KiB) stop at the 64 MiB
 * cap or earlier, never decompressing the rest. */
Test(kp_records_inflate, default_limit_bombs)
{
	struct trecords_buf r = trecords_records(1, 100u << 20, 0, false);
	int cis[] = { 0, -1, 4 };               /* gzip, zstd stream, zstd */

	for (size_t i = 0; i < sizeof(cis) / sizeof(cis[0]); i++) {
		struct trecords_buf b = trecords_batch_codec(cis[i], &r, 1);
		uint64_t before = inflated_now();
		struct rbatch_header h;

		cr_assert_lt(b.len, MMB_DEFAULT, "%s", trecords_codec_name(cis[i]));
		cr_assert_eq(kp_records_validate(b.p, (int32_t)b.len, V_LATEST, MMB_DEFAULT, &h),
			     KP_ERR_INVALID_RECORD, "%s", trecords_codec_name(cis[i]));
		cr_assert_leq(inflated_now() - before, (64u << 20) + (64u << 10), "%s",
			      trecords_codec_name(cis[i]));
		free(b.p);
	}
	free(r.p);
	kp_records_thread_release();
}

/* Lying sizes are refused before any decompression: a records_count no
 * stream within the bound can hold, a snappy unit claiming 2 GiB, a zstd
 * frame declaring 1 GiB of content. */
Test(kp_records_inflate, declared_sizes_refused_without_work)
{
	struct trecords_buf r = trecords_records(3, 10, 'v', true);
	uint64_t before = inflated_now();
	struct rbatch_header h0;
	struct trecords_buf b, c;
	struct trecords_hdr h;

	for (int ci = 0; ci < TRECORDS_CODECS; ci++) {
		h = trecords_hdr_default(3);
		c = trecords_compress(&trecords_codecs[ci], r.p, r.len);
		h.attributes = (int16_t)trecords_codecs[ci].codec;
		h.records_count = 1 << 30;     /* 7 GiB of records at least */
		h.last_offset_delta = h.records_count - 1;
		b = trecords_batch(&h, c.p, c.len);
		cr_assert_eq(check(&b, V_LATEST), KP_ERR_INVALID_RECORD, "%s",
			     trecords_codec_name(ci));
		free(b.p);
		free(c.p);
	}
	/* Raw snappy: preamble 2^31 - 1, then a literal. */
	{
		uint8_t unit[] = { 0xff, 0xff, 0xff, 0xff, 0x07, 0x00, 'x' };

		h = trecords_hdr_default(1);
		h.attributes = RBATCH_CODEC_SNAPPY;
		b = trecords_batch(&h, unit, sizeof(unit));
		cr_assert_eq(check(&b, V_LATEST), KP_ERR_INVALID_RECORD);
		free(b.p);
	}
	/* zstd with a content size of 1 GiB: only the frame header is real. */
	{
		uint8_t *zeros = calloc(1, 1u << 20);
		size_t cap = ZSTD_compressBound(1u << 20), n;
		uint8_t *z = malloc(cap);

		n = ZSTD_compress(z, cap, zeros, 1u << 20, 1);
		cr_assert_not(ZSTD_isError(n));
		cr_assert_eq(ZSTD_getFrameContentSize(z, n), 1u << 20);
		h = trecords_hdr_default(1);
		h.attributes = RBATCH_CODEC_ZSTD;
		b = trecords_batch(&h, z, n);
		cr_assert_eq(kp_records_validate(b.p, (int32_t)b.len, V_LATEST, 4096, &h0),
			     KP_ERR_INVALID_RECORD);
		free(b.p);
		free(z);
		free(zeros);
	}
	cr_assert_eq(inflated_now(), before, "nothing was decompressed");
	free(r.p);
	kp_records_thread_release();
}

/* Batches real clients send with highly compressible data pass with every
 * codec at the default max.message.bytes: librdkafka-sized (1 MB
 * uncompressed) batches of one repeated byte (rdkafka_performance) and of
 * a repeated JSON document, one 1 MB record of 'x' (a client's "large
 * message" test), and the Java producer's batches, which its ratio
 * estimate lets grow to 16 KiB *compressed*: 33 MB of 10 KiB repeated
 * values in zstd (1,300:1), 16 MB of 100 KiB ones in gzip. */
Test(kp_records_inflate, compressible_client_batches_pass)
{
	static const char json[] = "{\"user\":\"alice\",\"event\":\"page_view\",\"page\":"
				   "\"/products/42\",\"ua\":\"Mozilla/5.0 (X11; Linux)\"}";
	struct { int32_t count; size_t vlen; int fill; int only_ci; const char *what; } cases[] = {
		{ 8558, 100, 'R', -2, "1 MB of 100 B values" },
		{ 962, 1024, 'R', -2, "1 MB of 1 KiB values" },
		{ 98, 10240, 'R', -2, "1 MB of 10 KiB values" },
		{ 10, 102400, 0, -2, "1 MB of 100 KiB zeros" },
		{ 1, 1000000, 'x', -2, "one 1 MB record" },
		{ 3200, 10240, 'R', -1, "Java zstd, 10 KiB values" },
		{ 160, 102400, 'R', 0, "Java gzip, 100 KiB values" },
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct trecords_buf r;

		r = trecords_records(cases[k].count, cases[k].vlen, cases[k].fill, false);

		for (int ci = -1; ci < TRECORDS_CODECS; ci++) {
			struct rbatch_header h;
			struct trecords_buf b;

			if (cases[k].only_ci != -2 && ci != cases[k].only_ci)
				continue;
			b = trecords_batch_codec(ci, &r, cases[k].count);
			cr_assert_lt(b.len, MMB_DEFAULT);
			cr_assert_eq(kp_records_validate(b.p, (int32_t)b.len, V_LATEST, MMB_DEFAULT,
							 &h), KP_ERR_NONE, "%s, %s (%zu -> %zu)",
				     cases[k].what, trecords_codec_name(ci), r.len, b.len);
			free(b.p);
		}
		free(r.p);
	}
	/* The same with a repeated JSON document as every value. */
	{
		struct trecords_buf r = { 0 };
		char v[1024];

		for (size_t i = 0; i < sizeof(v); i++)
			v[i] = json[i % (sizeof(json) - 1)];
		for (int32_t i = 0; i < 900; i++) {
			struct trecords_buf f = { 0 };
			uint8_t zero = 0;

			trecords_put(&f, &zero, 1);
			trecords_put_varint(&f, i);
			trecords_put_varint(&f, i);
			trecords_put_varint(&f, -1);
			trecords_put_varint(&f, sizeof(v));
			trecords_put(&f, v, sizeof(v));
			trecords_put_varint(&f, 0);
			trecords_put_varint(&r, (int64_t)f.len);
			trecords_put(&r, f.p, f.len);
			free(f.p);
		}
		for (int ci = -1; ci < TRECORDS_CODECS; ci++) {
			struct trecords_buf b = trecords_batch_codec(ci, &r, 900);

			cr_assert_eq(kp_records_validate(b.p, (int32_t)b.len, V_LATEST, MMB_DEFAULT,
							 &(struct rbatch_header){ 0 }), KP_ERR_NONE,
				     "json %s", trecords_codec_name(ci));
			free(b.p);
		}
		free(r.p);
	}
	kp_records_thread_release();
}

/* gzip streams of several members (GZIPInputStream reads them all), and a
 * member followed by garbage. */
Test(kp_records_inflate, gzip_members)
{
	struct trecords_buf r = trecords_records(60, 40, 'v', true);
	size_t half = r.len / 2;
	struct trecords_buf a = trecords_compress(&trecords_codecs[0], r.p, half);
	struct trecords_buf z = trecords_compress(&trecords_codecs[0], r.p + half, r.len - half);
	struct trecords_hdr h = trecords_hdr_default(60);
	struct trecords_buf both = { 0 }, b;

	h.attributes = RBATCH_CODEC_GZIP;
	trecords_put(&both, a.p, a.len);
	trecords_put(&both, z.p, z.len);
	b = trecords_batch(&h, both.p, both.len);
	cr_assert_eq(check(&b, V_LATEST), KP_ERR_NONE);
	free(b.p);
	trecords_put(&both, "\x1f\x8b\x08\0junk", 8);
	b = trecords_batch(&h, both.p, both.len);
	cr_assert_eq(check(&b, V_LATEST), KP_ERR_INVALID_RECORD);
	free(b.p);
	free(both.p);
	free(a.p);
	free(z.p);
	free(r.p);
	kp_records_thread_release();
}

