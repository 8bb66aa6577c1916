/* SPDX-License-Identifier: Apache-2.0 */
/* Streaming decompression for Produce-side validation: gzip (ISA-L igzip),
 * snappy (raw and xerial-framed, kp_snappy.c), lz4 (frame format) and zstd
 * decode a batch's body a window at a time into the record walk, within a
 * bound on the decompressed size (below) that a compression bomb meets
 * early; the decompressors live in the job and are reused. */
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/be.h"
#include "protocol/kp_records_int.h"

/*
 * The decompression bound. A batch may decompress to at most
 *
 *     max(max.message.bytes, min(RATIO_MAX x compressed body,
 *                                MMB_MULT x max.message.bytes))
 *
 * bytes (never beyond INFLATED_BYTES_ABS_MAX), and every record takes at
 * least RECORD_BYTES_MIN of them. Why each term, from batches built as the
 * clients build them (1 MB and 16 KiB uncompressed; Java's batch.size of
 * 16 KiB counted *compressed*, with its ratio estimate converged; values of
 * one repeated byte, as rdkafka_performance sends, a repeated JSON document,
 * varied JSON events, text, kafka-producer-perf-test's random letters):
 *
 *   - max.message.bytes: what the client could have sent uncompressed.
 *     librdkafka, franz-go and kafka-python bound a batch *before*
 *     compression by their message.max.bytes (1,000,000 by default), so
 *     their batches always pass, whatever the ratio: 1 MB of 100 KiB
 *     values of one byte reaches 5,722:1 in zstd, 888:1 in gzip.
 *   - RATIO_MAX x body: the Java producer fills batch.size with estimated
 *     compressed bytes, so its batches grow with the ratio: 16 KiB of zstd
 *     holds 4.2 MB of 1 KiB repeated values (242:1) and 33.5 MB of 10 KiB
 *     ones (1,327:1; gzip 16.8 MB at 535:1). 4,096 leaves a 3x margin over
 *     these. Real data is far below: JSON events 9:1, text 6:1.
 *     gzip (at most ~1,032:1), lz4 (~255:1) and snappy (~21:1) cannot reach
 *     it, so it only bounds zstd, whose bombs reach ~32,000:1.
 *   - MMB_MULT x max.message.bytes (32 MiB by default): caps any one batch,
 *     just above the largest Java case above (33.5 MB), and below a gzip
 *     bomb of 60 one-MiB records (60 MiB at ~1,000:1, refused from its
 *     ISIZE before decompressing). A Java producer with values of 40+ KiB
 *     of one byte in zstd (134 MB in 16 KiB at 6,487:1) is refused.
 *   - RECORD_BYTES_MIN (length, attributes, timestamp, offset, key and
 *     value lengths, header count: one byte each at least): records_count
 *     x 7 beyond the bound is refused before any decompression.
 *
 * The walk refuses a record whose declared end lies past the bound, or
 * whose end leaves too little room for the records still to come, and the
 * bytes after the last record; a declared size is believed early where the
 * stream states one (zstd frame content size, gzip ISIZE, snappy unit
 * length) since a valid stream produces at least that much. So a bomb costs
 * at most the bound plus one window of decompression, and usually far less.
 */
#define KP_RECORDS_INFLATE_RATIO_MAX 4096u
#define KP_RECORDS_INFLATE_MMB_MULT 32u
#define KP_RECORDS_INFLATED_BYTES_ABS_MAX (1ull << 30)

/*
 * Memory. A thread keeps KP_RECORDS_JOBS_MAX + 1 jobs, each ~300 bytes
 * until it meets a compressed batch; then, created on first use of each
 * codec and kept: a 64 KiB output window, igzip state 87 KiB, an lz4 context
 * (~1 KiB, plus block buffers of up to 4 MiB + 128 KiB for frames with 4 MiB
 * blocks), a zstd context (~160 KiB plus the frame's window: 2 MiB for the
 * level-3 frames clients send, at most 16 MiB, ZSTD_WINDOW_LOG_MAX) and a
 * snappy unit buffer (the unit's length: at most 21.4 x its compressed size
 * and the bound). When a job ends, a zstd context or snappy buffer above
 * KEEP_BYTES is freed, so the steady state is ~2.5 MiB per job that met
 * every codec and the worst case about 16 + 22 MiB per job held at once.
 */
#define KP_RECORDS_KEEP_BYTES (4u << 20)
/* Streaming decompressors (gzip, lz4, zstd) write into this window. */
#define KP_RECORDS_WINDOW_BYTES (64u << 10)
/* zstd window the decoder accepts: 2^24 = 16 MiB (default limit is 2^27;
 * clients' level 3 uses 2^21, level 19 2^23). */
#define KP_RECORDS_ZSTD_WINDOW_LOG_MAX 24
/* xerial snappy stream header: magic (8), version (4), compatible (4). */
#define KP_SNAPPY_XERIAL_HEADER_BYTES 16
#define KP_SNAPPY_XERIAL_MAGIC "\x82SNAPPY\0"
/* A raw snappy element yields at most 64 bytes from 3 (a 2-byte-offset copy). */
#define KP_SNAPPY_RATIO_NUM 64u
#define KP_SNAPPY_RATIO_DEN 3u
/* gzip member: 10-byte header, deflate data, CRC32 and ISIZE (4 each). */
#define KP_GZIP_MEMBER_BYTES_MIN 18

STATIC_ASSERT(KP_RECORDS_STEP_BYTES >= KP_RECORDS_WINDOW_BYTES, "a step fills a window");
STATIC_ASSERT(KP_RECORDS_KEEP_BYTES >= (3u << 20), "a level-3 zstd context is kept");
STATIC_ASSERT(KP_RECORDS_INFLATED_BYTES_ABS_MAX * KP_RECORDS_INFLATE_RATIO_MAX < UINT64_MAX / 2,
	      "bound arithmetic fits in 64 bits");

static void
kp_records_inflate_fail(struct kp_records_job *job)
{
	kp_records_walk_fail(&job->walk);
}

static void
kp_records_inflate_fail_limit(struct kp_records_job *job)
{
	kp_records_walk_fail_limit(&job->walk);
}

/* Expose n new stream bytes at buf to the walk. */
static void
kp_records_inflate_expose(struct kp_records_job *job, const uint8_t *buf, size_t n)
{
	job->win = buf;
	job->win_end = buf + n;
	job->produced += n;
	kp_records_tls->stats.inflated_bytes += n;
	/* The walk stops at the bound by itself; a codec that ran further
	 * ahead has a stream longer than the bound. */
	if (job->produced > job->walk.limit)
		kp_records_inflate_fail_limit(job);
}

/* The codec fills: each produces 1..cap bytes, or sets eof, or fails the
 * walk. Input may be used up while a frame still holds output, so a codec
 * is called with no input until it makes no progress; no progress inside a
 * frame means the stream was truncated. */
static size_t
kp_records_inflate_gzip(struct kp_records_job *job, size_t cap)
{
	struct inflate_state *st = job->eng.gzip;
	size_t out_bytes = 0;

	while (out_bytes == 0) {
		const uint8_t *in_before = job->in;
		int rc;

		if (job->in_bytes == 0 && !job->mid_frame) {
			job->eof = true;
			return 0;
		}
		/* Another gzip member may follow, as GZIPInputStream reads. */
		if (!job->mid_frame) {
			isal_inflate_reset(st);
			st->crc_flag = ISAL_GZIP;
			job->mid_frame = true;
		}
		st->next_in = (uint8_t *)(uintptr_t)job->in;
		st->avail_in = (uint32_t)job->in_bytes;
		st->next_out = job->eng.window;
		st->avail_out = (uint32_t)cap;
		rc = isal_inflate(st);
		out_bytes = cap - st->avail_out;
		/* Not in_bytes - avail_in: at a member's end igzip gives back the
		 * bytes it had read ahead, also from earlier calls, so next_in may
		 * move back (still inside the body). */
		job->in = st->next_in;
		job->in_bytes = st->avail_in;
		if (rc != ISAL_DECOMP_OK && rc != ISAL_END_INPUT) {
			kp_records_inflate_fail(job);
			return 0;
		}
		if (st->block_state == ISAL_BLOCK_FINISH) {
			job->mid_frame = false;
		} else if (job->in == in_before && out_bytes == 0) {
			kp_records_inflate_fail(job);       /* truncated */
			return 0;
		}
	}
	kp_records_inflate_expose(job, job->eng.window, out_bytes);
	return out_bytes;
}

static size_t
kp_records_inflate_lz4(struct kp_records_job *job, size_t cap)
{
	size_t out_bytes = 0;

	while (out_bytes == 0) {
		size_t dst = cap, src = job->in_bytes, hint;

		if (job->in_bytes == 0 && !job->mid_frame) {
			job->eof = true;
			return 0;
		}
		hint = LZ4F_decompress(job->eng.lz4, job->eng.window, &dst, job->in, &src, NULL);
		if (LZ4F_isError(hint) || (src == 0 && dst == 0)) {
			kp_records_inflate_fail(job);
			return 0;
		}
		job->in += src;
		job->in_bytes -= src;
		job->mid_frame = hint != 0;     /* 0: the frame is complete */
		out_bytes = dst;
	}
	kp_records_inflate_expose(job, job->eng.window, out_bytes);
	return out_bytes;
}

static size_t
kp_records_inflate_zstd(struct kp_records_job *job, size_t cap)
{
	ZSTD_outBuffer out = { job->eng.window, cap, 0 };

	while (out.pos == 0) {
		ZSTD_inBuffer in = { job->in, job->in_bytes, 0 };
		size_t hint;

		if (job->in_bytes == 0 && !job->mid_frame) {
			job->eof = true;
			return 0;
		}
		hint = ZSTD_decompressStream(job->eng.zstd, &out, &in);
		if (ZSTD_isError(hint) || (in.pos == 0 && out.pos == 0)) {
			kp_records_inflate_fail(job);
			return 0;
		}
		job->in += in.pos;
		job->in_bytes -= in.pos;
		job->mid_frame = hint != 0;     /* 0: the frame is complete */
	}
	kp_records_inflate_expose(job, job->eng.window, out.pos);
	return out.pos;
}

/* Start the next snappy unit: raw snappy is one unit; xerial framing (the
 * Java client's SnappyOutputStream) is a sequence of [u32 big-endian
 * length][raw unit]. The declared length is checked against the bound and
 * against what the unit's bytes can decode to before the buffer is sized. */
static void
kp_records_inflate_snappy_unit(struct kp_records_job *job)
{
	struct kp_records_inflater *eng = &job->eng;
	const uint8_t *unit = job->in;
	size_t unit_bytes = job->in_bytes, frame_bytes = job->in_bytes, out_bytes, hdr_bytes;

	if (job->xerial) {
		if (job->in_bytes < 4)
			return kp_records_inflate_fail(job);
		unit_bytes = be_read32(job->in);
		if (unit_bytes > job->in_bytes - 4)
			return kp_records_inflate_fail(job);
		unit += 4;
		frame_bytes = 4 + unit_bytes;
	}
	job->in += frame_bytes;
	job->in_bytes -= frame_bytes;
	if (kp_snappy_length(unit, unit_bytes, &out_bytes, &hdr_bytes) != 0 ||
	    out_bytes / KP_SNAPPY_RATIO_NUM > (unit_bytes - hdr_bytes) / KP_SNAPPY_RATIO_DEN + 1)
		return kp_records_inflate_fail(job);    /* more than its bytes can decode to */
	if (out_bytes > job->walk.limit - job->produced)
		return kp_records_inflate_fail_limit(job);
	if (out_bytes > eng->snappy_buf_bytes) {
		uint8_t *buf = realloc(eng->snappy_buf, out_bytes);

		if (buf == NULL)
			return kp_records_job_finish(job, KP_RECORDS_NOMEM_ERR);
		eng->snappy_buf = buf;
		eng->snappy_buf_bytes = out_bytes;
	}
	kp_snappy_start(&job->sn, unit + hdr_bytes, unit_bytes - hdr_bytes, eng->snappy_buf,
			out_bytes);
	job->in_unit = true;
}

static size_t
kp_records_inflate_snappy(struct kp_records_job *job, size_t cap)
{
	for (;;) {
		size_t from;
		int rc;

		if (!job->in_unit) {
			if (job->in_bytes == 0) {
				job->eof = true;
				return 0;
			}
			kp_records_inflate_snappy_unit(job);
			if (!job->in_unit)
				return 0;
		}
		from = job->sn.out_pos;
		rc = kp_snappy_decode(&job->sn, cap);
		if (rc == KP_SNAPPY_ERR) {
			kp_records_inflate_fail(job);
			return 0;
		}
		if (rc == KP_SNAPPY_DONE)
			job->in_unit = false;
		if (job->sn.out_pos > from) {
			kp_records_inflate_expose(job, job->sn.out + from, job->sn.out_pos - from);
			return job->sn.out_pos - from;
		}
	}
}

/* Up to cap more stream bytes into the window. */
size_t
kp_records_inflate_fill(struct kp_records_job *job, size_t cap)
{
	if (cap > KP_RECORDS_WINDOW_BYTES)
		cap = KP_RECORDS_WINDOW_BYTES;
	switch (job->codec) {
	case RBATCH_CODEC_GZIP: return kp_records_inflate_gzip(job, cap);
	case RBATCH_CODEC_SNAPPY: return kp_records_inflate_snappy(job, cap);
	case RBATCH_CODEC_LZ4: return kp_records_inflate_lz4(job, cap);
	case RBATCH_CODEC_ZSTD: return kp_records_inflate_zstd(job, cap);
	default:
		job->eof = true;
		return 0;
	}
}

/* Make the codec's decoder ready for a new stream; -1 when out of memory. */
static int
kp_records_inflate_reset(struct kp_records_inflater *eng, int codec)
{
	if (codec == RBATCH_CODEC_NONE)
		return 0;
	if (eng->window == NULL && (eng->window = malloc(KP_RECORDS_WINDOW_BYTES)) == NULL)
		return -1;
	switch (codec) {
	case RBATCH_CODEC_GZIP:
		if (eng->gzip == NULL && (eng->gzip = malloc(sizeof(*eng->gzip))) == NULL)
			return -1;
		isal_inflate_init(eng->gzip);
		eng->gzip->crc_flag = ISAL_GZIP;
		return 0;
	case RBATCH_CODEC_LZ4:
		if (eng->lz4 == NULL &&
		    LZ4F_isError(LZ4F_createDecompressionContext(&eng->lz4, LZ4F_VERSION)))
			return -1;
		LZ4F_resetDecompressionContext(eng->lz4);
		return 0;
	case RBATCH_CODEC_ZSTD:
		if (eng->zstd == NULL && (eng->zstd = ZSTD_createDCtx()) == NULL)
			return -1;
		ZSTD_DCtx_reset(eng->zstd, ZSTD_reset_session_and_parameters);
		ZSTD_DCtx_setParameter(eng->zstd, ZSTD_d_windowLogMax,
				       KP_RECORDS_ZSTD_WINDOW_LOG_MAX);
		return 0;
	default:
		return 0;                       /* snappy: the buffer is sized per unit */
	}
}

/* Give back what one batch made an engine grow beyond KP_RECORDS_KEEP_BYTES. */
void
kp_records_inflate_trim(struct kp_records_inflater *eng)
{
	if (eng->zstd != NULL && ZSTD_sizeof_DCtx(eng->zstd) > KP_RECORDS_KEEP_BYTES) {
		ZSTD_freeDCtx(eng->zstd);
		eng->zstd = NULL;
	}
	if (eng->snappy_buf_bytes > KP_RECORDS_KEEP_BYTES) {
		free(eng->snappy_buf);
		eng->snappy_buf = NULL;
		eng->snappy_buf_bytes = 0;
	}
}

void
kp_records_inflate_free(struct kp_records_inflater *eng)
{
	free(eng->gzip);
	if (eng->lz4 != NULL)
		LZ4F_freeDecompressionContext(eng->lz4);
	ZSTD_freeDCtx(eng->zstd);
	free(eng->snappy_buf);
	free(eng->window);
	memset(eng, 0, sizeof(*eng));
}

/* Early refusals on sizes a compressed stream declares: a valid stream
 * decodes to at least them, so beyond the bound it must fail anyway. */
static bool
kp_records_inflate_declared_too_large(const struct kp_records_job *job)
{
	const uint8_t *in = job->in;
	size_t n = job->in_bytes;

	if (job->codec == RBATCH_CODEC_ZSTD) {
		unsigned long long size = ZSTD_getFrameContentSize(in, n);

		return size != ZSTD_CONTENTSIZE_UNKNOWN && size != ZSTD_CONTENTSIZE_ERROR &&
		       size > job->walk.limit;
	}
	if (job->codec == RBATCH_CODEC_GZIP && n >= KP_GZIP_MEMBER_BYTES_MIN) {
		/* ISIZE of the last member: its size mod 2^32, at most its size. */
		uint32_t isize = (uint32_t)in[n - 4] | (uint32_t)in[n - 3] << 8 |
				 (uint32_t)in[n - 2] << 16 | (uint32_t)in[n - 1] << 24;

		return isize > job->walk.limit;
	}
	return false;
}

/* The decompression bound (see the top of the file). */
uint64_t
kp_records_inflate_bound(size_t body_bytes, int32_t max_message_bytes)
{
	uint64_t mmb = max_message_bytes > 0 ? (uint64_t)max_message_bytes : 0;
	uint64_t by_ratio = (uint64_t)body_bytes * KP_RECORDS_INFLATE_RATIO_MAX;
	uint64_t cap = mmb * KP_RECORDS_INFLATE_MMB_MULT;
	uint64_t bound = by_ratio < cap ? by_ratio : cap;

	if (bound < mmb)
		bound = mmb;
	if (bound > KP_RECORDS_INFLATED_BYTES_ABS_MAX)
		bound = KP_RECORDS_INFLATED_BYTES_ABS_MAX;
	return bound;
}

int16_t
kp_records_inflate_begin(struct kp_records_job *job, const uint8_t *body, size_t body_bytes)
{
	if (kp_records_inflate_reset(&job->eng, job->codec) != 0)
		return KP_RECORDS_NOMEM_ERR;
	job->in = body;
	job->in_bytes = body_bytes;
	job->win = job->win_end = NULL;
	job->eof = false;
	/* A compressed body holds at least one whole frame. */
	job->mid_frame = job->codec != RBATCH_CODEC_SNAPPY;
	job->xerial = job->codec == RBATCH_CODEC_SNAPPY &&
		      body_bytes >= KP_SNAPPY_XERIAL_HEADER_BYTES &&
		      memcmp(body, KP_SNAPPY_XERIAL_MAGIC, 8) == 0;
	if (job->xerial) {
		job->in += KP_SNAPPY_XERIAL_HEADER_BYTES;
		job->in_bytes -= KP_SNAPPY_XERIAL_HEADER_BYTES;
	}
	if (kp_records_inflate_declared_too_large(job)) {
		kp_records_inflate_fail_limit(job);
		kp_records_job_finish(job, KP_RECORDS_LIMIT_ERR);
		return job->verdict;
	}
	return KP_ERR_NONE;
}
