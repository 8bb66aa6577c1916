/* SPDX-License-Identifier: Apache-2.0 */
/* Produce-side validation of one partition's records: the batch header
 * checks Kafka makes (ProduceRequest.validateRecords,
 * UnifiedLog.analyzeAndValidateRecords, LogValidator.validateBatch) and a walk
 * of every record, through a bounded streaming decompressor for gzip, snappy
 * (raw and xerial-framed), lz4 (frame format) and zstd. It never rewrites the
 * batch and never sizes an allocation from a length the client sent. */
#include "protocol/kp_records.h"

#include <lz4frame.h>
#include <snappy-c.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "common/assert.h"
#include "protocol/kp_error.h"

/*
 * Error codes, case by case, and where Kafka (3.9) decides them. The checks
 * run in Kafka's order, so a batch with two faults gets Kafka's answer.
 *
 *   no complete batch (len < 12, or the batch runs past the data)
 *       INVALID_RECORD (87): the batch iterator yields nothing and
 *       ProduceRequest.validateRecords throws InvalidRecordException.
 *   batchLength < 14 (LegacyRecord.RECORD_OVERHEAD_V0)
 *       CORRUPT_MESSAGE (2): ByteBufferLogInputStream.nextBatchSize throws
 *       CorruptRecordException before the magic is even read.
 *   magic < 0 or > 2   CORRUPT_MESSAGE (2), same place ("Invalid magic").
 *   magic 0 or 1       INVALID_RECORD (87), validateRecords (v3+ needs v2).
 *   codec zstd below Produce v7
 *       UNSUPPORTED_COMPRESSION_TYPE (76), validateRecords.
 *   codec 5..7         UNSUPPORTED_COMPRESSION_TYPE (76). Kafka's
 *       CompressionType.forId throws IllegalArgumentException, which is no
 *       ApiException and ends as UNKNOWN_SERVER_ERROR; 76 says what is wrong.
 *   bytes after the batch
 *       INVALID_RECORD (87). Kafka rejects a second complete batch with 87
 *       and silently trims a partial one (UnifiedLog.trimInvalidBytes); we
 *       reject both, since no client sends either.
 *   baseOffset != 0    INVALID_RECORD (87), analyzeAndValidateRecords.
 *   batch bytes > max_message_bytes
 *       MESSAGE_TOO_LARGE (10), analyzeAndValidateRecords
 *       (RecordTooLargeException).
 *   batch shorter than the 61-byte header, or CRC-32C mismatch
 *       CORRUPT_MESSAGE (2): DefaultRecordBatch.isValid() is false.
 *   lastOffsetDelta + 1 <= 0, recordsCount <= 0, or the two disagree
 *       INVALID_RECORD (87), LogValidator.validateBatch.
 *   control batch from a client   INVALID_RECORD (87), validateBatch.
 *   producerId >= 0 with baseSequence < 0   INVALID_RECORD (87), validateBatch.
 *   a record that does not parse (varint over 5/10 bytes, negative length,
 *       key or value length < -1, negative header count or header key
 *       length, a record whose fields do not end exactly at its length,
 *       fewer records than recordsCount, bytes left after the last one)
 *       INVALID_RECORD (87): DefaultRecord.readFrom throws
 *       InvalidRecordException. Kafka reads a key/value length below -1 as
 *       null; we reject it, as no client writes one.
 *   offsetDelta != record index
 *       INVALID_RECORD (87). Kafka does not reject this: it rebuilds the
 *       batch with fresh offsets (LogValidator, inPlaceAssignment = false).
 *       We never rewrite a batch, so we must refuse it.
 *   a compressed stream that does not decode
 *       INVALID_RECORD (87). Kafka wraps the codec's IOException in a
 *       KafkaException, which ends as UNKNOWN_SERVER_ERROR (-1); a premature
 *       end of stream is InvalidRecordException (87) there too.
 *   decompressed records beyond KP_RECORDS_INFLATED_BYTES_MAX
 *       MESSAGE_TOO_LARGE (10). Kafka has no such bound; ours keeps a
 *       compression bomb from costing more than a bounded amount of work.
 *
 * Left to the caller: timestamps against log.message.timestamp.*.max.ms
 * (INVALID_TIMESTAMP), null keys on compacted topics, transactional state
 * and the producer's epoch and sequence (storage/pstate.c).
 */

/* Decompressed bytes one batch may expand to. Generous against the 1 MiB
 * default max.message.bytes (a 64x ratio), yet a hard bound on the work and
 * memory one batch can cost. */
#define KP_RECORDS_INFLATED_BYTES_MAX (64u << 20)
/* Streaming decompressors write into this window and the walker reads it. */
#define KP_RECORDS_WINDOW_BYTES (64u << 10)
/* zstd window the decoder accepts: 2^24 = 16 MiB (default limit is 2^27). */
#define KP_RECORDS_ZSTD_WINDOW_LOG_MAX 24
/* xerial snappy stream header: magic (8), version (4), compatible (4). */
#define KP_SNAPPY_XERIAL_HEADER_BYTES 16
#define KP_SNAPPY_XERIAL_MAGIC "\x82SNAPPY\0"
/* Varint byte limits (Kafka ByteUtils.readVarint/readVarlong). */
#define KP_VARINT_BYTES_MAX 5
#define KP_VARLONG_BYTES_MAX 10
/* Offsets of the few fields read before the header is known complete. */
#define KP_OFF_LENGTH 8
#define KP_OFF_MAGIC 16
#define KP_OFF_ATTRIBUTES 21
#define KP_BATCH_LENGTH_MIN 14          /* LegacyRecord.RECORD_OVERHEAD_V0 */
#define KP_PRODUCE_ZSTD_VERSION_MIN 7

STATIC_ASSERT(KP_RECORDS_INFLATED_BYTES_MAX % KP_RECORDS_WINDOW_BYTES == 0,
	      "window divides the inflate cap");

/* Per-thread decoder state: created on the first compressed batch a thread
 * sees and reused, so the steady state allocates nothing. */
struct kp_records_ctx {
	uint8_t *window;                /* KP_RECORDS_WINDOW_BYTES */
	uint8_t *snappy_buf;            /* grown up to the inflate cap, kept */
	size_t snappy_buf_bytes;
	z_stream zs;
	bool zs_ready;
	LZ4F_dctx *lz4;
	ZSTD_DCtx *zstd;
};

static __thread struct kp_records_ctx *kp_records_tls;

/* A byte source for the record walk: the window [pos, end) is refilled from
 * the codec until the stream ends. err is sticky; consumed counts bytes
 * handed out before the current window. */
struct kp_rstream {
	const uint8_t *start;
	const uint8_t *pos;
	const uint8_t *end;
	uint64_t consumed;
	uint64_t produced;              /* decompressed bytes so far (cap check) */
	int16_t err;
	bool eof;
	int codec;
	const uint8_t *in;              /* compressed input left */
	size_t in_bytes;
	bool xerial;
	bool mid_frame;                 /* inside a gzip member / lz4 / zstd frame */
	struct kp_records_ctx *ctx;
};

static void
kp_rs_fail(struct kp_rstream *s, int16_t err)
{
	if (s->err == KP_ERR_NONE)
		s->err = err;
	s->eof = true;
	s->pos = s->end;
}

static uint64_t
kp_rs_offset(const struct kp_rstream *s)
{
	return s->consumed + (uint64_t)(s->pos - s->start);
}

/* Account for n new bytes in ctx->window and expose them. */
static void
kp_rs_expose(struct kp_rstream *s, const uint8_t *buf, size_t n)
{
	s->consumed += (uint64_t)(s->pos - s->start);
	s->start = buf;
	s->pos = buf;
	s->end = buf + n;
	s->produced += n;
	if (s->produced > KP_RECORDS_INFLATED_BYTES_MAX)
		kp_rs_fail(s, KP_ERR_MESSAGE_TOO_LARGE);
}

/* The streaming decoders: each call exposes at least one new byte, or
 * ends the stream. Input may be used up while a frame still holds output,
 * so a decoder is called with no input until it makes no progress; no
 * progress inside a frame means the stream was truncated. */
static void
kp_rs_fill_gzip(struct kp_rstream *s)
{
	z_stream *zs = &s->ctx->zs;
	int rc;

	zs->next_out = s->ctx->window;
	zs->avail_out = KP_RECORDS_WINDOW_BYTES;
	while (zs->avail_out == KP_RECORDS_WINDOW_BYTES) {
		if (s->in_bytes == 0 && !s->mid_frame) {
			s->eof = true;
			return;
		}
		/* Another gzip member may follow, as GZIPInputStream reads. */
		if (!s->mid_frame && inflateReset(zs) != Z_OK)
			return kp_rs_fail(s, KP_ERR_INVALID_RECORD);
		s->mid_frame = true;
		zs->next_in = (Bytef *)(uintptr_t)s->in;
		zs->avail_in = (uInt)s->in_bytes;
		rc = inflate(zs, Z_NO_FLUSH);
		s->in += s->in_bytes - zs->avail_in;
		s->in_bytes = zs->avail_in;
		if (rc == Z_STREAM_END)
			s->mid_frame = false;
		else if (rc != Z_OK)            /* Z_BUF_ERROR here: truncated */
			return kp_rs_fail(s, KP_ERR_INVALID_RECORD);
	}
	kp_rs_expose(s, s->ctx->window, KP_RECORDS_WINDOW_BYTES - zs->avail_out);
}

static void
kp_rs_fill_lz4(struct kp_rstream *s)
{
	size_t out_bytes = 0;

	while (out_bytes == 0) {
		size_t dst = KP_RECORDS_WINDOW_BYTES, src = s->in_bytes, hint;

		if (s->in_bytes == 0 && !s->mid_frame) {
			s->eof = true;
			return;
		}
		hint = LZ4F_decompress(s->ctx->lz4, s->ctx->window, &dst, s->in, &src, NULL);
		if (LZ4F_isError(hint) || (src == 0 && dst == 0))
			return kp_rs_fail(s, KP_ERR_INVALID_RECORD);
		s->in += src;
		s->in_bytes -= src;
		s->mid_frame = hint != 0;       /* 0: the frame is complete */
		out_bytes = dst;
	}
	kp_rs_expose(s, s->ctx->window, out_bytes);
}

static void
kp_rs_fill_zstd(struct kp_rstream *s)
{
	ZSTD_outBuffer out = { s->ctx->window, KP_RECORDS_WINDOW_BYTES, 0 };

	while (out.pos == 0) {
		ZSTD_inBuffer in = { s->in, s->in_bytes, 0 };
		size_t hint;

		if (s->in_bytes == 0 && !s->mid_frame) {
			s->eof = true;
			return;
		}
		hint = ZSTD_decompressStream(s->ctx->zstd, &out, &in);
		if (ZSTD_isError(hint) || (in.pos == 0 && out.pos == 0))
			return kp_rs_fail(s, KP_ERR_INVALID_RECORD);
		s->in += in.pos;
		s->in_bytes -= in.pos;
		s->mid_frame = hint != 0;       /* 0: the frame is complete */
	}
	kp_rs_expose(s, s->ctx->window, out.pos);
}

/* Decompress one raw snappy unit of n bytes into ctx->snappy_buf. The
 * declared length is trusted only after snappy has validated the whole unit
 * against it, and only up to the inflate cap. */
static void
kp_rs_snappy_unit(struct kp_rstream *s, const uint8_t *unit, size_t n)
{
	struct kp_records_ctx *ctx = s->ctx;
	size_t out_bytes;

	if (snappy_uncompressed_length((const char *)unit, n, &out_bytes) != SNAPPY_OK ||
	    snappy_validate_compressed_buffer((const char *)unit, n) != SNAPPY_OK) {
		kp_rs_fail(s, KP_ERR_INVALID_RECORD);
		return;
	}
	if (out_bytes == 0)
		return;                         /* an empty unit adds nothing */
	if (out_bytes > KP_RECORDS_INFLATED_BYTES_MAX - s->produced) {
		kp_rs_fail(s, KP_ERR_MESSAGE_TOO_LARGE);
		return;
	}
	if (out_bytes > ctx->snappy_buf_bytes) {
		uint8_t *buf = realloc(ctx->snappy_buf, out_bytes);

		if (buf == NULL) {
			kp_rs_fail(s, KP_ERR_MESSAGE_TOO_LARGE);
			return;
		}
		ctx->snappy_buf = buf;
		ctx->snappy_buf_bytes = out_bytes;
	}
	if (snappy_uncompress((const char *)unit, n, (char *)ctx->snappy_buf, &out_bytes) !=
	    SNAPPY_OK) {
		kp_rs_fail(s, KP_ERR_INVALID_RECORD);
		return;
	}
	kp_rs_expose(s, ctx->snappy_buf, out_bytes);
}

/* Raw snappy is one unit; xerial framing (the Java client's
 * SnappyOutputStream) is a sequence of [u32 big-endian length][raw unit]. */
static void
kp_rs_fill_snappy(struct kp_rstream *s)
{
	uint32_t unit_bytes;

	if (s->in_bytes == 0) {
		s->eof = true;
		return;
	}
	if (!s->xerial) {
		kp_rs_snappy_unit(s, s->in, s->in_bytes);
		s->in_bytes = 0;
		return;
	}
	if (s->in_bytes < 4) {
		kp_rs_fail(s, KP_ERR_INVALID_RECORD);
		return;
	}
	unit_bytes = (uint32_t)s->in[0] << 24 | (uint32_t)s->in[1] << 16 |
		     (uint32_t)s->in[2] << 8 | s->in[3];
	if (unit_bytes > s->in_bytes - 4) {
		kp_rs_fail(s, KP_ERR_INVALID_RECORD);
		return;
	}
	kp_rs_snappy_unit(s, s->in + 4, unit_bytes);
	s->in += 4 + (size_t)unit_bytes;
	s->in_bytes -= 4 + (size_t)unit_bytes;
}

/* Refill until at least one byte is readable or the stream has ended. */
static bool
kp_rs_more(struct kp_rstream *s)
{
	while (s->pos == s->end && !s->eof) {
		switch (s->codec) {
		case RBATCH_CODEC_GZIP: kp_rs_fill_gzip(s); break;
		case RBATCH_CODEC_SNAPPY: kp_rs_fill_snappy(s); break;
		case RBATCH_CODEC_LZ4: kp_rs_fill_lz4(s); break;
		case RBATCH_CODEC_ZSTD: kp_rs_fill_zstd(s); break;
		default: s->eof = true; break;
		}
	}
	return s->pos < s->end;
}

static uint8_t
kp_rs_byte(struct kp_rstream *s)
{
	if (!kp_rs_more(s)) {
		kp_rs_fail(s, KP_ERR_INVALID_RECORD);
		return 0;
	}
	return *s->pos++;
}

static void
kp_rs_skip(struct kp_rstream *s, uint64_t n)
{
	while (n > 0) {
		size_t step;

		if (!kp_rs_more(s)) {
			kp_rs_fail(s, KP_ERR_INVALID_RECORD);
			return;
		}
		step = (size_t)(s->end - s->pos);
		if (step > n)
			step = (size_t)n;
		s->pos += step;
		n -= step;
	}
}

/* Zig-zag varint of at most bytes_max bytes (5: int32, 10: int64). */
static int64_t
kp_rs_varint(struct kp_rstream *s, int bytes_max)
{
	uint64_t raw = 0;

	for (int i = 0; i < bytes_max; i++) {
		uint8_t b = kp_rs_byte(s);

		raw |= (uint64_t)(b & 0x7f) << (7 * i);
		if ((b & 0x80) == 0) {
			int64_t v = (int64_t)(raw >> 1) ^ -(int64_t)(raw & 1);

			if (bytes_max == KP_VARINT_BYTES_MAX && (v < INT32_MIN || v > INT32_MAX))
				break;
			return v;
		}
	}
	kp_rs_fail(s, KP_ERR_INVALID_RECORD);
	return 0;
}

/* Skip a length-prefixed field of the record that started at rec_start and
 * is rec_bytes long; the field may not reach past the record. */
static void
kp_rs_skip_field(struct kp_rstream *s, int64_t n, uint64_t rec_end)
{
	uint64_t at = kp_rs_offset(s);

	if (n <= 0)
		return;
	if (at > rec_end || (uint64_t)n > rec_end - at) {
		kp_rs_fail(s, KP_ERR_INVALID_RECORD);
		return;
	}
	kp_rs_skip(s, (uint64_t)n);
}

/* One record (DefaultRecord.readFrom): lengths, offsetDelta == index,
 * headers, and its fields ending exactly at its declared length. */
static void
kp_rs_record(struct kp_rstream *s, int32_t index)
{
	int64_t rec_bytes = kp_rs_varint(s, KP_VARINT_BYTES_MAX);
	uint64_t rec_end = kp_rs_offset(s) + (uint64_t)(rec_bytes > 0 ? rec_bytes : 0);
	int64_t n, headers;

	if (rec_bytes <= 0)
		return kp_rs_fail(s, KP_ERR_INVALID_RECORD);
	(void)kp_rs_byte(s);                            /* attributes */
	(void)kp_rs_varint(s, KP_VARLONG_BYTES_MAX);    /* timestampDelta */
	if (kp_rs_varint(s, KP_VARINT_BYTES_MAX) != index)
		return kp_rs_fail(s, KP_ERR_INVALID_RECORD);
	for (int i = 0; i < 2; i++) {                   /* key, value */
		n = kp_rs_varint(s, KP_VARINT_BYTES_MAX);
		if (n < -1)
			return kp_rs_fail(s, KP_ERR_INVALID_RECORD);
		kp_rs_skip_field(s, n, rec_end);
	}
	headers = kp_rs_varint(s, KP_VARINT_BYTES_MAX);
	if (headers < 0)
		return kp_rs_fail(s, KP_ERR_INVALID_RECORD);
	/* Each header takes at least two bytes, so the record length bounds
	 * the loop; the offset check ends it early on a lying count. */
	for (int64_t h = 0; h < headers && s->err == KP_ERR_NONE; h++) {
		n = kp_rs_varint(s, KP_VARINT_BYTES_MAX);
		if (n < 0)
			return kp_rs_fail(s, KP_ERR_INVALID_RECORD);
		kp_rs_skip_field(s, n, rec_end);
		n = kp_rs_varint(s, KP_VARINT_BYTES_MAX);
		if (n < -1)
			return kp_rs_fail(s, KP_ERR_INVALID_RECORD);
		kp_rs_skip_field(s, n, rec_end);
		if (kp_rs_offset(s) > rec_end)
			return kp_rs_fail(s, KP_ERR_INVALID_RECORD);
	}
	if (s->err == KP_ERR_NONE && kp_rs_offset(s) != rec_end)
		kp_rs_fail(s, KP_ERR_INVALID_RECORD);
}

static struct kp_records_ctx *
kp_records_ctx_get(void)
{
	struct kp_records_ctx *ctx = kp_records_tls;

	if (ctx != NULL)
		return ctx;
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return NULL;
	ctx->window = malloc(KP_RECORDS_WINDOW_BYTES);
	if (ctx->window == NULL) {
		free(ctx);
		return NULL;
	}
	kp_records_tls = ctx;
	return ctx;
}

void
kp_records_thread_release(void)
{
	struct kp_records_ctx *ctx = kp_records_tls;

	if (ctx == NULL)
		return;
	if (ctx->zs_ready)
		inflateEnd(&ctx->zs);
	if (ctx->lz4 != NULL)
		LZ4F_freeDecompressionContext(ctx->lz4);
	ZSTD_freeDCtx(ctx->zstd);
	free(ctx->snappy_buf);
	free(ctx->window);
	free(ctx);
	kp_records_tls = NULL;
}

/* Make the codec's decoder ready for a new stream; -1 when out of memory. */
static int
kp_records_codec_reset(struct kp_records_ctx *ctx, int codec)
{
	switch (codec) {
	case RBATCH_CODEC_GZIP:
		if (!ctx->zs_ready) {
			memset(&ctx->zs, 0, sizeof(ctx->zs));
			if (inflateInit2(&ctx->zs, 16 + MAX_WBITS) != Z_OK)
				return -1;
			ctx->zs_ready = true;
			return 0;
		}
		return inflateReset(&ctx->zs) == Z_OK ? 0 : -1;
	case RBATCH_CODEC_LZ4:
		if (ctx->lz4 == NULL &&
		    LZ4F_isError(LZ4F_createDecompressionContext(&ctx->lz4, LZ4F_VERSION)))
			return -1;
		LZ4F_resetDecompressionContext(ctx->lz4);
		return 0;
	case RBATCH_CODEC_ZSTD:
		if (ctx->zstd == NULL) {
			ctx->zstd = ZSTD_createDCtx();
			if (ctx->zstd == NULL)
				return -1;
		}
		ZSTD_DCtx_reset(ctx->zstd, ZSTD_reset_session_and_parameters);
		ZSTD_DCtx_setParameter(ctx->zstd, ZSTD_d_windowLogMax,
				       KP_RECORDS_ZSTD_WINDOW_LOG_MAX);
		return 0;
	default:
		return 0;
	}
}

/* Walk records_count records from the batch body (bytes after the
 * header), decompressing it first when codec says so. */
static int16_t
kp_records_walk(const uint8_t *body, size_t body_bytes, int codec, int32_t records_count)
{
	struct kp_rstream s = { 0 };

	s.codec = codec;
	if (codec == RBATCH_CODEC_NONE) {
		s.start = s.pos = body;
		s.end = body + body_bytes;
		s.eof = true;
	} else {
		s.ctx = kp_records_ctx_get();
		if (s.ctx == NULL || kp_records_codec_reset(s.ctx, codec) != 0)
			return KP_ERR_MESSAGE_TOO_LARGE;     /* no memory: refuse, no crash */
		s.in = body;
		s.in_bytes = body_bytes;
		/* A compressed body holds at least one whole frame. */
		s.mid_frame = codec != RBATCH_CODEC_SNAPPY;
		s.xerial = codec == RBATCH_CODEC_SNAPPY &&
			   body_bytes >= KP_SNAPPY_XERIAL_HEADER_BYTES &&
			   memcmp(body, KP_SNAPPY_XERIAL_MAGIC, 8) == 0;
		if (s.xerial) {
			s.in += KP_SNAPPY_XERIAL_HEADER_BYTES;
			s.in_bytes -= KP_SNAPPY_XERIAL_HEADER_BYTES;
		}
	}
	for (int32_t i = 0; i < records_count && s.err == KP_ERR_NONE; i++)
		kp_rs_record(&s, i);
	if (s.err == KP_ERR_NONE && kp_rs_more(&s))
		kp_rs_fail(&s, KP_ERR_INVALID_RECORD);  /* bytes after the last record */
	return s.err;
}

/* The checks before the CRC, in the order Kafka makes them. */
static int16_t
kp_records_check_frame(const uint8_t *data, int32_t len, int16_t produce_version,
		       int32_t max_message_bytes)
{
	int32_t batch_length;
	int64_t total;
	int codec;

	if (data == NULL || len < RBATCH_LOG_OVERHEAD)
		return KP_ERR_INVALID_RECORD;
	batch_length = (int32_t)((uint32_t)data[KP_OFF_LENGTH] << 24 |
				 (uint32_t)data[KP_OFF_LENGTH + 1] << 16 |
				 (uint32_t)data[KP_OFF_LENGTH + 2] << 8 | data[KP_OFF_LENGTH + 3]);
	if (batch_length < KP_BATCH_LENGTH_MIN)
		return KP_ERR_CORRUPT_MESSAGE;
	if (len <= KP_OFF_MAGIC)
		return KP_ERR_INVALID_RECORD;
	if ((int8_t)data[KP_OFF_MAGIC] < 0 || (int8_t)data[KP_OFF_MAGIC] > RBATCH_MAGIC_V2)
		return KP_ERR_CORRUPT_MESSAGE;
	total = (int64_t)batch_length + RBATCH_LOG_OVERHEAD;
	if (total > len)
		return KP_ERR_INVALID_RECORD;
	if (data[KP_OFF_MAGIC] != RBATCH_MAGIC_V2)
		return KP_ERR_INVALID_RECORD;
	codec = data[KP_OFF_ATTRIBUTES + 1] & RBATCH_ATTR_CODEC_MASK;
	if (codec > RBATCH_CODEC_ZSTD ||
	    (codec == RBATCH_CODEC_ZSTD && produce_version < KP_PRODUCE_ZSTD_VERSION_MIN))
		return KP_ERR_UNSUPPORTED_COMPRESSION_TYPE;
	if (total < len)
		return KP_ERR_INVALID_RECORD;
	if (data[0] | data[1] | data[2] | data[3] | data[4] | data[5] | data[6] | data[7])
		return KP_ERR_INVALID_RECORD;           /* baseOffset != 0 */
	if (total > max_message_bytes)
		return KP_ERR_MESSAGE_TOO_LARGE;
	if (total < RBATCH_HEADER_BYTES || !rbatch_crc_ok(data, (size_t)total))
		return KP_ERR_CORRUPT_MESSAGE;
	return KP_ERR_NONE;
}

int16_t
kp_records_validate(const uint8_t *data, int32_t len, int16_t produce_version,
		    int32_t max_message_bytes, struct rbatch_header *h)
{
	int16_t err = kp_records_check_frame(data, len, produce_version, max_message_bytes);

	if (err != KP_ERR_NONE)
		return err;
	ASSERT(len >= RBATCH_HEADER_BYTES);
	rbatch_header_parse(data, (size_t)len, h);
	/* LogValidator.validateBatch. */
	if (h->last_offset_delta < 0 || h->last_offset_delta == INT32_MAX ||
	    h->records_count <= 0 || h->records_count != h->last_offset_delta + 1)
		return KP_ERR_INVALID_RECORD;
	if (h->attributes & RBATCH_ATTR_CONTROL)
		return KP_ERR_INVALID_RECORD;
	if (h->producer_id >= 0 && h->base_sequence < 0)
		return KP_ERR_INVALID_RECORD;
	return kp_records_walk(data + RBATCH_HEADER_BYTES, (size_t)len - RBATCH_HEADER_BYTES,
			       h->attributes & RBATCH_ATTR_CODEC_MASK, h->records_count);
}
