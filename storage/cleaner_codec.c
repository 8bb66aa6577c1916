/* SPDX-License-Identifier: Apache-2.0 */
/* The cleaner's codecs: whole-body decompression and recompression of a
 * record batch through the packaged libraries the broker already links
 * (ISA-L igzip for gzip, snappy-c, lz4frame, zstd), in the framings Kafka
 * clients use (gzip members, xerial-framed or raw snappy, the lz4 frame
 * format, zstd frames). Runs on the cleaner thread only: it allocates. */
#include <errno.h>
#include <isa-l/igzip_lib.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "common/assert.h"
#include "common/be.h"
#include "storage/cleaner_int.h"

/* xerial snappy-java's stream header: magic, version 1, compatible 1. */
static const uint8_t cleaner_xerial_magic[8] = { 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0 };
#define CLEANER_XERIAL_HEADER_BYTES 16

/* Grow *buf (cap *cap) to hold at least need bytes, at most max. */
static int
cleaner_codec_grow(uint8_t **buf, size_t *cap, size_t need, size_t max)
{
	size_t n = *cap ? *cap : 4096;
	uint8_t *p;

	if (need <= *cap)
		return 0;
	if (need > max)
		return -EFBIG;
	while (n < need)
		n *= 2;
	n = n > max ? max : n;
	p = realloc(*buf, n);
	if (p == NULL)
		return -ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

static int
cleaner_gunzip(const uint8_t *in, size_t n, uint8_t **out, size_t *len, size_t max)
{
	struct inflate_state st;
	size_t cap = 0;
	int rc;

	*len = 0;
	isal_inflate_init(&st);
	st.crc_flag = ISAL_GZIP;
	st.next_in = (uint8_t *)(uintptr_t)in;
	st.avail_in = (uint32_t)n;
	for (;;) {
		if ((rc = cleaner_codec_grow(out, &cap, *len + 65536, max)) < 0)
			return rc;
		st.next_out = *out + *len;
		st.avail_out = (uint32_t)(cap - *len);
		if (isal_inflate(&st) != ISAL_DECOMP_OK)
			return -EINVAL;
		*len = (size_t)(st.next_out - *out);
		if (st.block_state == ISAL_BLOCK_FINISH) {
			if (st.avail_in == 0)
				return 0;
			/* Another gzip member follows. */
			in = st.next_in;
			n = st.avail_in;
			isal_inflate_init(&st);
			st.crc_flag = ISAL_GZIP;
			st.next_in = (uint8_t *)(uintptr_t)in;
			st.avail_in = (uint32_t)n;
		} else if (st.avail_out > 0 && st.avail_in == 0) {
			return -EINVAL;         /* truncated */
		}
	}
}

static int
cleaner_gzip(const uint8_t *in, size_t n, uint8_t **out, size_t *len)
{
	struct isal_zstream zs;
	size_t cap = 0;
	int rc;

	*len = 0;
	isal_deflate_init(&zs);
	zs.gzip_flag = IGZIP_GZIP;
	zs.end_of_stream = 1;
	zs.flush = NO_FLUSH;
	zs.next_in = (uint8_t *)(uintptr_t)in;
	zs.avail_in = (uint32_t)n;
	while (zs.internal_state.state != ZSTATE_END) {
		if ((rc = cleaner_codec_grow(out, &cap, *len + n / 2 + 4096, SIZE_MAX / 2)) < 0)
			return rc;
		zs.next_out = *out + *len;
		zs.avail_out = (uint32_t)(cap - *len);
		if (isal_deflate(&zs) != COMP_OK)
			return -EINVAL;
		*len = (size_t)(zs.next_out - *out);
	}
	return 0;
}

static int
cleaner_snappy_unit(const uint8_t *in, size_t n, uint8_t **out, size_t *len, size_t *cap,
		    size_t max)
{
	size_t unit = 0;
	int rc;

	if (snappy_uncompressed_length((const char *)in, n, &unit) != SNAPPY_OK)
		return -EINVAL;
	if ((rc = cleaner_codec_grow(out, cap, *len + unit, max)) < 0)
		return rc;
	if (snappy_uncompress((const char *)in, n, (char *)*out + *len, &unit) != SNAPPY_OK)
		return -EINVAL;
	*len += unit;
	return 0;
}

static int
cleaner_unsnappy(const uint8_t *in, size_t n, uint8_t **out, size_t *len, size_t max)
{
	size_t cap = 0, pos = CLEANER_XERIAL_HEADER_BYTES;
	uint32_t block;
	int rc;

	*len = 0;
	if (n < CLEANER_XERIAL_HEADER_BYTES || memcmp(in, cleaner_xerial_magic, 8) != 0)
		return cleaner_snappy_unit(in, n, out, len, &cap, max);
	while (pos < n) {
		if (n - pos < 4)
			return -EINVAL;
		block = be_read32(in + pos);
		pos += 4;
		if (block > n - pos)
			return -EINVAL;
		if ((rc = cleaner_snappy_unit(in + pos, block, out, len, &cap, max)) < 0)
			return rc;
		pos += block;
	}
	return 0;
}

static int
cleaner_snappy(const uint8_t *in, size_t n, uint8_t **out, size_t *len)
{
	size_t bound = snappy_max_compressed_length(n), clen = bound;
	uint8_t *p = malloc(CLEANER_XERIAL_HEADER_BYTES + 4 + bound);

	if (p == NULL)
		return -ENOMEM;
	memcpy(p, cleaner_xerial_magic, 8);
	be_write32(p + 8, 1);
	be_write32(p + 12, 1);
	if (snappy_compress((const char *)in, n, (char *)p + 20, &clen) != SNAPPY_OK) {
		free(p);
		return -EINVAL;
	}
	be_write32(p + 16, (uint32_t)clen);
	*out = p;
	*len = 20 + clen;
	return 0;
}

static int
cleaner_unlz4(const uint8_t *in, size_t n, uint8_t **out, size_t *len, size_t max)
{
	LZ4F_dctx *dctx;
	size_t cap = 0, src, dst, r = 1;
	int rc = 0;

	*len = 0;
	if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
		return -ENOMEM;
	while (n > 0 && r != 0) {
		if ((rc = cleaner_codec_grow(out, &cap, *len + 65536, max)) < 0)
			break;
		src = n;
		dst = cap - *len;
		r = LZ4F_decompress(dctx, *out + *len, &dst, in, &src, NULL);
		if (LZ4F_isError(r)) {
			rc = -EINVAL;
			break;
		}
		*len += dst;
		in += src;
		n -= src;
		if (src == 0 && dst == 0 && r != 0) {
			rc = -EINVAL;
			break;
		}
	}
	if (rc == 0 && r != 0)
		rc = -EINVAL;           /* the frame did not end */
	LZ4F_freeDecompressionContext(dctx);
	return rc;
}

static int
cleaner_lz4(const uint8_t *in, size_t n, uint8_t **out, size_t *len)
{
	LZ4F_preferences_t prefs;
	size_t bound, r;

	memset(&prefs, 0, sizeof(prefs));
	prefs.frameInfo.blockMode = LZ4F_blockIndependent;
	bound = LZ4F_compressFrameBound(n, &prefs);
	if ((*out = malloc(bound)) == NULL)
		return -ENOMEM;
	r = LZ4F_compressFrame(*out, bound, in, n, &prefs);
	if (LZ4F_isError(r))
		return -EINVAL;
	*len = r;
	return 0;
}

static int
cleaner_unzstd(const uint8_t *in, size_t n, uint8_t **out, size_t *len, size_t max)
{
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	ZSTD_inBuffer ib = { in, n, 0 };
	ZSTD_outBuffer ob;
	size_t cap = 0, r = 1;
	int rc = 0;

	*len = 0;
	if (dctx == NULL)
		return -ENOMEM;
	while (ib.pos < ib.size) {
		if ((rc = cleaner_codec_grow(out, &cap, *len + 65536, max)) < 0)
			break;
		ob = (ZSTD_outBuffer){ *out + *len, cap - *len, 0 };
		r = ZSTD_decompressStream(dctx, &ob, &ib);
		if (ZSTD_isError(r)) {
			rc = -EINVAL;
			break;
		}
		*len += ob.pos;
	}
	/* Output may still be buffered inside the context. */
	while (rc == 0 && r != 0) {
		if ((rc = cleaner_codec_grow(out, &cap, *len + 65536, max)) < 0)
			break;
		ob = (ZSTD_outBuffer){ *out + *len, cap - *len, 0 };
		r = ZSTD_decompressStream(dctx, &ob, &ib);
		if (ZSTD_isError(r) || (ob.pos == 0 && r != 0)) {
			rc = -EINVAL;
			break;
		}
		*len += ob.pos;
	}
	ZSTD_freeDCtx(dctx);
	return rc;
}

static int
cleaner_zstd(const uint8_t *in, size_t n, uint8_t **out, size_t *len)
{
	size_t bound = ZSTD_compressBound(n), r;

	if ((*out = malloc(bound)) == NULL)
		return -ENOMEM;
	r = ZSTD_compress(*out, bound, in, n, 3);
	if (ZSTD_isError(r))
		return -EINVAL;
	*len = r;
	return 0;
}

int
cleaner_codec_decompress(int codec, const uint8_t *in, size_t n, uint8_t **out,
			 size_t *out_len, size_t out_max)
{
	int rc = -EINVAL;

	*out = NULL;
	*out_len = 0;
	if (codec == RBATCH_CODEC_GZIP)
		rc = cleaner_gunzip(in, n, out, out_len, out_max);
	else if (codec == RBATCH_CODEC_SNAPPY)
		rc = cleaner_unsnappy(in, n, out, out_len, out_max);
	else if (codec == RBATCH_CODEC_LZ4)
		rc = cleaner_unlz4(in, n, out, out_len, out_max);
	else if (codec == RBATCH_CODEC_ZSTD)
		rc = cleaner_unzstd(in, n, out, out_len, out_max);
	if (rc < 0) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

int
cleaner_codec_compress(int codec, const uint8_t *in, size_t n, uint8_t **out, size_t *out_len)
{
	int rc = -EINVAL;

	*out = NULL;
	*out_len = 0;
	if (codec == RBATCH_CODEC_GZIP)
		rc = cleaner_gzip(in, n, out, out_len);
	else if (codec == RBATCH_CODEC_SNAPPY)
		rc = cleaner_snappy(in, n, out, out_len);
	else if (codec == RBATCH_CODEC_LZ4)
		rc = cleaner_lz4(in, n, out, out_len);
	else if (codec == RBATCH_CODEC_ZSTD)
		rc = cleaner_zstd(in, n, out, out_len);
	if (rc < 0) {
		free(*out);
		*out = NULL;
	}
	return rc;
}
