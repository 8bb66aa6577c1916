/* SPDX-License-Identifier: Apache-2.0 */
/* Produce-side validation of one partition's records: the batch header
 * checks Kafka makes (ProduceRequest.validateRecords,
 * UnifiedLog.analyzeAndValidateRecords, LogValidator.validateBatch) and a walk
 * of every record, through a streaming decompressor for gzip (ISA-L igzip),
 * snappy (raw and xerial-framed, kp_snappy.c), lz4 (frame format) and zstd.
 * The walk is resumable in slices of bounded work and the decompressed size
 * is bounded; it never rewrites the batch. */
#include "protocol/kp_records.h"

#include <isa-l/igzip_lib.h>
#include <lz4frame.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "common/assert.h"
#include "common/be.h"
#include "protocol/kp_error.h"
#include "protocol/kp_snappy.h"

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
 *   decompressed records beyond the bound below
 *       INVALID_RECORD (87), as soon as the walk knows the bound will be
 *       crossed. Kafka has no such bound. Not CORRUPT_MESSAGE: that one is
 *       retriable (CorruptRecordException), so every client would resend
 *       the batch until delivery.timeout.ms, and it means bytes damaged in
 *       transit, which the CRC already rules out. INVALID_RECORD is what
 *       Kafka answers for a decompressed stream that does not hold the
 *       records it claims, is not retried, and keeps the verdict of every
 *       walk NONE or 87 whichever check fires first, which lets the bound
 *       reject early on sizes a stream declares. (MESSAGE_TOO_LARGE would
 *       make the Java producer split the batch and resend it in pieces that
 *       pass; KP_RECORDS_LIMIT_ERR switches to it.)
 *   no memory for a decompressor
 *       MESSAGE_TOO_LARGE (10): refused rather than crashing the core.
 *
 * Left to the caller: timestamps against log.message.timestamp.*.max.ms
 * (INVALID_TIMESTAMP), null keys on compacted topics, transactional state
 * and the producer's epoch and sequence (storage/pstate.c).
 */

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
#define KP_RECORD_BYTES_MIN 7u
#define KP_RECORDS_LIMIT_ERR KP_ERR_INVALID_RECORD
#define KP_RECORDS_NOMEM_ERR KP_ERR_MESSAGE_TOO_LARGE

/*
 * Slice budget (KP_RECORDS_STEP_BYTES in kp_records.h). Work is counted in
 * decompressed bytes plus record bytes parsed (the bytes of a key, value or
 * header are jumped over, not parsed). Measured on the reference machine
 * (AMD EPYC, 2 vCPUs shared, gcc -O2, thread CPU time per step, 3-60 MB
 * batches; bench/bench_kp_records.c): a 256 KiB step takes on average
 * 0.11 ms (lz4 bomb of zeros), 0.15 ms (igzip bomb, ~1.8 GB/s), 0.17 ms
 * (snappy bomb); 0.14 to 0.47 ms for JSON events by codec; 0.49 to 0.62 ms
 * for 7-byte records, the costliest walk (~400 MB/s uncompressed, ~220
 * MB/s through snappy). The longest step seen was 1.15 ms: a step costs
 * about 1 ms at most (a few with ASan), and a 64 MiB bound is 256 steps.
 * begin() also computes the CRC of the whole batch (~6 GB/s: 0.2 ms for a
 * 1 MiB batch; a topic allowing 100 MB batches would need it sliced too).
 *
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
/* Varint byte limits (Kafka ByteUtils.readVarint/readVarlong). */
#define KP_VARINT_BYTES_MAX 5
#define KP_VARLONG_BYTES_MAX 10
/* Offsets of the few fields read before the header is known complete. */
#define KP_OFF_LENGTH 8
#define KP_OFF_MAGIC 16
#define KP_OFF_ATTRIBUTES 21
#define KP_BATCH_LENGTH_MIN 14          /* LegacyRecord.RECORD_OVERHEAD_V0 */
#define KP_PRODUCE_ZSTD_VERSION_MIN 7

STATIC_ASSERT(KP_RECORDS_MORE > INT16_MAX / 4 && KP_RECORDS_MORE < INT16_MAX,
	      "MORE is no Kafka error code and fits an int16_t");
STATIC_ASSERT(KP_RECORDS_BUSY > INT16_MAX / 4 && KP_RECORDS_BUSY < INT16_MAX,
	      "BUSY is no Kafka error code and fits an int16_t");
STATIC_ASSERT(KP_RECORDS_STEP_BYTES >= KP_RECORDS_WINDOW_BYTES, "a step fills a window");
STATIC_ASSERT(KP_RECORDS_KEEP_BYTES >= (3u << 20), "a level-3 zstd context is kept");
STATIC_ASSERT(KP_RECORDS_INFLATED_BYTES_ABS_MAX * KP_RECORDS_INFLATE_RATIO_MAX < UINT64_MAX / 2,
	      "bound arithmetic fits in 64 bits");

/* The record walk: a byte-driven state machine, so a record may span any
 * number of windows and steps. Field order as DefaultRecord.writeTo. */
enum kp_walk_state {
	KP_W_LEN, KP_W_ATTR, KP_W_TS, KP_W_OFFSET, KP_W_KEY_LEN, KP_W_VALUE_LEN,
	KP_W_HEADERS, KP_W_HKEY_LEN, KP_W_HVALUE_LEN,
	KP_W_HNEXT,                     /* after a header: another, or the record's end */
	KP_W_SKIP,                      /* inside a key, value or header field */
	KP_W_DONE,                      /* every record seen: no byte may follow */
	KP_W_FAILED,
};

struct kp_walk {
	uint64_t at;                    /* stream bytes consumed */
	uint64_t rec_end;               /* stream offset where this record ends */
	uint64_t limit;                 /* no record may end past this offset */
	uint64_t skip_left;             /* in KP_W_SKIP */
	uint64_t vraw;                  /* varint so far */
	int64_t headers_left;
	int32_t index;                  /* record being walked */
	int32_t count;                  /* records_count */
	uint8_t state;
	uint8_t after_skip;             /* state once skip_left reaches 0 */
	uint8_t vbytes;                 /* varint bytes so far */
	bool limit_hit;                 /* failed on the bound, not on the bytes */
};

/* Decompressor state, owned by a job, created per codec on first use. */
struct kp_records_engine {
	uint8_t *window;                /* KP_RECORDS_WINDOW_BYTES */
	struct inflate_state *gzip;
	LZ4F_dctx *lz4;
	ZSTD_DCtx *zstd;
	uint8_t *snappy_buf;            /* one whole snappy unit */
	size_t snappy_buf_bytes;
};

struct kp_records_job {
	struct kp_records_engine eng;
	struct kp_walk walk;
	struct kp_snappy sn;
	const uint8_t *in;              /* compressed bytes not yet given to the codec */
	size_t in_bytes;
	const uint8_t *win;             /* stream bytes exposed, not yet walked */
	const uint8_t *win_end;
	uint64_t produced;              /* decompressed bytes so far */
	int codec;
	int16_t verdict;
	bool done;
	bool eof;                       /* the codec has no more output */
	bool mid_frame;                 /* inside a gzip member / lz4 / zstd frame */
	bool xerial;
	bool in_unit;                   /* a snappy unit is being decoded */
	bool handed_out;
};

/* A thread's jobs: one more than may be handed out, so begin always has
 * one to try a batch inline. */
struct kp_records_pool {
	struct kp_records_job jobs[KP_RECORDS_JOBS_MAX + 1];
	struct kp_records_stats stats;
};

static __thread struct kp_records_pool *kp_records_tls;
/* Frees a thread's pool when it exits (pthread key destructor), so threads
 * that never call kp_records_thread_release() leak nothing. */
static pthread_key_t kp_records_key;
static pthread_once_t kp_records_key_once = PTHREAD_ONCE_INIT;
static bool kp_records_key_ok;

static void
kp_walk_init(struct kp_walk *w, int32_t count, uint64_t limit)
{
	memset(w, 0, sizeof(*w));
	w->count = count;
	w->limit = limit;
	w->state = KP_W_LEN;
}

static void
kp_walk_fail(struct kp_walk *w)
{
	w->state = KP_W_FAILED;
}

static void
kp_walk_fail_limit(struct kp_walk *w)
{
	w->limit_hit = true;
	w->state = KP_W_FAILED;
}

/* A key, value or header field of n bytes (-1: null) follows, then next. */
static void
kp_walk_field_bytes(struct kp_walk *w, int64_t n, uint8_t next)
{
	if (n > 0 && (uint64_t)n > w->rec_end - w->at)
		return kp_walk_fail(w);         /* runs past its record */
	if (n > 0) {
		w->skip_left = (uint64_t)n;
		w->after_skip = next;
		w->state = KP_W_SKIP;
	} else {
		w->state = next;
	}
}

/* Zero-byte transitions: after a header, another header or the record's
 * end, where the fields must end exactly at the record's length. */
static void
kp_walk_settle(struct kp_walk *w)
{
	if (w->state != KP_W_HNEXT)
		return;
	if (w->headers_left > 0) {
		w->state = KP_W_HKEY_LEN;
		return;
	}
	if (w->at != w->rec_end)
		return kp_walk_fail(w);
	w->index++;
	w->state = w->index == w->count ? KP_W_DONE : KP_W_LEN;
}

/* The record length: its end must leave room for the records after it
 * within the bound. */
static void
kp_walk_record_start(struct kp_walk *w, int64_t rec_bytes)
{
	uint64_t after = (uint64_t)(w->count - w->index - 1) * KP_RECORD_BYTES_MIN;

	if (rec_bytes <= 0)
		return kp_walk_fail(w);
	w->rec_end = w->at + (uint64_t)rec_bytes;
	if (w->rec_end > w->limit || after > w->limit - w->rec_end)
		return kp_walk_fail_limit(w);
	w->state = KP_W_ATTR;
}

/* The field of the current state ended with value v (DefaultRecord.readFrom). */
static void
kp_walk_field(struct kp_walk *w, int64_t v)
{
	switch (w->state) {
	case KP_W_LEN: return kp_walk_record_start(w, v);
	case KP_W_ATTR: w->state = KP_W_TS; break;
	case KP_W_TS: w->state = KP_W_OFFSET; break;
	case KP_W_OFFSET:
		if (v != w->index)
			return kp_walk_fail(w);
		w->state = KP_W_KEY_LEN;
		break;
	case KP_W_KEY_LEN:
		if (v < -1)
			return kp_walk_fail(w);
		kp_walk_field_bytes(w, v, KP_W_VALUE_LEN);
		break;
	case KP_W_VALUE_LEN:
		if (v < -1)
			return kp_walk_fail(w);
		kp_walk_field_bytes(w, v, KP_W_HEADERS);
		break;
	case KP_W_HEADERS:
		if (v < 0)
			return kp_walk_fail(w);
		w->headers_left = v;
		w->state = KP_W_HNEXT;
		break;
	case KP_W_HKEY_LEN:
		if (v < 0)
			return kp_walk_fail(w);
		kp_walk_field_bytes(w, v, KP_W_HVALUE_LEN);
		break;
	default:
		ASSERT_HOT(w->state == KP_W_HVALUE_LEN);
		if (v < -1)
			return kp_walk_fail(w);
		w->headers_left--;
		kp_walk_field_bytes(w, v, KP_W_HNEXT);
		break;
	}
	/* A field that ends past its record fails now, not at the record's end. */
	if (w->state != KP_W_FAILED && w->at > w->rec_end)
		return kp_walk_fail(w);
	kp_walk_settle(w);
}

/* One more byte of the varint of this state; at its end, the field. */
static void
kp_walk_varint_byte(struct kp_walk *w, uint8_t b)
{
	int bytes_max = w->state == KP_W_TS ? KP_VARLONG_BYTES_MAX : KP_VARINT_BYTES_MAX;
	int64_t v;

	w->vraw |= (uint64_t)(b & 0x7f) << (7 * w->vbytes);
	w->vbytes++;
	if (b & 0x80) {
		if (w->vbytes == bytes_max)
			kp_walk_fail(w);        /* too long (ByteUtils "Varint is too long") */
		return;
	}
	v = (int64_t)(w->vraw >> 1) ^ -(int64_t)(w->vraw & 1);
	w->vraw = 0;
	w->vbytes = 0;
	if (bytes_max == KP_VARINT_BYTES_MAX && (v < INT32_MIN || v > INT32_MAX))
		return kp_walk_fail(w);
	kp_walk_field(w, v);
}

/* A cursor over one record lying whole in the window; bad is sticky. */
struct kp_rcur {
	const uint8_t *p;
	const uint8_t *end;
	uint64_t skipped;               /* key, value and header bytes jumped over */
	bool bad;
};

static inline int64_t
kp_rcur_varint(struct kp_rcur *c, int bytes_max)
{
	uint64_t raw = 0;

	/* Most fields of most records are one byte. */
	if (c->p < c->end && *c->p < 0x80) {
		raw = *c->p++;
		return (int64_t)(raw >> 1) ^ -(int64_t)(raw & 1);
	}

	for (int i = 0; i < bytes_max && c->p < c->end; i++) {
		uint8_t b = *c->p++;

		raw |= (uint64_t)(b & 0x7f) << (7 * i);
		if ((b & 0x80) == 0) {
			int64_t v = (int64_t)(raw >> 1) ^ -(int64_t)(raw & 1);

			if (bytes_max == KP_VARINT_BYTES_MAX && (v < INT32_MIN || v > INT32_MAX))
				break;
			return v;
		}
	}
	c->bad = true;
	return 0;
}

/* Jump over a field of n bytes (n <= 0: none), which must end in the record. */
static void
kp_rcur_skip(struct kp_rcur *c, int64_t n)
{
	if (n <= 0)
		return;
	if ((uint64_t)n > (uint64_t)(c->end - c->p)) {
		c->bad = true;
		return;
	}
	c->p += n;
	c->skipped += (uint64_t)n;
}

/* The fast path of the walk, for the usual case: at the start of a record
 * that lies whole in p[0..n), check it with a plain parser, the same checks
 * as the state machine (DefaultRecord.readFrom). Returns the bytes consumed,
 * or 0 to leave the record to the state machine (it does not fit, or its
 * length is one the state machine refuses) unless the walk failed. */
static size_t
kp_walk_record_fast(struct kp_walk *w, const uint8_t *p, size_t n, size_t *work_left)
{
	struct kp_rcur c = { p, p + (n < KP_VARINT_BYTES_MAX ? n : KP_VARINT_BYTES_MAX), 0, false };
	int64_t rec_bytes = kp_rcur_varint(&c, KP_VARINT_BYTES_MAX), v, headers;
	uint64_t after = (uint64_t)(w->count - w->index - 1) * KP_RECORD_BYTES_MIN;
	size_t hdr = (size_t)(c.p - p), total, parsed;

	if (c.bad || rec_bytes <= 0 || (uint64_t)rec_bytes > n - hdr)
		return 0;
	if (w->at + hdr + (uint64_t)rec_bytes > w->limit ||
	    after > w->limit - (w->at + hdr + (uint64_t)rec_bytes))
		return 0;
	c.end = c.p + rec_bytes;
	c.p++;                                          /* attributes */
	(void)kp_rcur_varint(&c, KP_VARLONG_BYTES_MAX); /* timestampDelta */
	if (kp_rcur_varint(&c, KP_VARINT_BYTES_MAX) != w->index)
		c.bad = true;
	for (int i = 0; i < 2 && !c.bad; i++) {         /* key, value */
		v = kp_rcur_varint(&c, KP_VARINT_BYTES_MAX);
		c.bad |= v < -1;
		kp_rcur_skip(&c, v);
	}
	headers = kp_rcur_varint(&c, KP_VARINT_BYTES_MAX);
	c.bad |= headers < 0;
	/* Each header takes two bytes at least: the record ends the loop. */
	for (int64_t h = 0; h < headers && !c.bad; h++) {
		v = kp_rcur_varint(&c, KP_VARINT_BYTES_MAX);
		c.bad |= v < 0;
		kp_rcur_skip(&c, v);
		v = kp_rcur_varint(&c, KP_VARINT_BYTES_MAX);
		c.bad |= v < -1;
		kp_rcur_skip(&c, v);
	}
	if (c.bad || c.p != c.end) {
		kp_walk_fail(w);
		return 0;
	}
	total = hdr + (size_t)rec_bytes;
	parsed = total - (size_t)c.skipped;
	*work_left -= parsed < *work_left ? parsed : *work_left;
	w->at += total;
	w->index++;
	w->state = w->index == w->count ? KP_W_DONE : KP_W_LEN;
	return total;
}

/* Walk the stream bytes p[0..n). Returns how many were consumed: all, or
 * fewer when the walk failed or *work_left (bytes parsed; skipped field
 * bytes are free) ran out. */
static size_t
kp_walk_feed(struct kp_walk *w, const uint8_t *p, size_t n, size_t *work_left)
{
	size_t i = 0;

	while (i < n) {
		if (w->state == KP_W_SKIP) {
			size_t step = n - i < w->skip_left ? n - i : (size_t)w->skip_left;

			i += step;
			w->at += step;
			w->skip_left -= step;
			if (w->skip_left == 0) {
				w->state = w->after_skip;
				kp_walk_settle(w);
			}
			continue;
		}
		if (w->state == KP_W_DONE)
			kp_walk_fail(w);        /* bytes after the last record */
		if (w->state == KP_W_FAILED || *work_left == 0)
			break;
		if (w->state == KP_W_LEN && w->vbytes == 0) {
			size_t used = kp_walk_record_fast(w, p + i, n - i, work_left);

			i += used;
			if (used > 0 || w->state == KP_W_FAILED)
				continue;
		}
		(*work_left)--;
		w->at++;
		if (w->state == KP_W_ATTR)
			kp_walk_field(w, 0);
		else
			kp_walk_varint_byte(w, p[i]);
		i++;
	}
	return i;
}

static void
kp_job_finish(struct kp_records_job *job, int16_t verdict)
{
	struct kp_records_pool *pool = kp_records_tls;

	job->done = true;
	job->verdict = verdict;
	if (job->walk.limit_hit && pool != NULL)
		pool->stats.limit_rejects++;
}

/* The walk failed: on the bound, or on the bytes. */
static void
kp_job_finish_failed(struct kp_records_job *job)
{
	kp_job_finish(job, job->walk.limit_hit ? KP_RECORDS_LIMIT_ERR : KP_ERR_INVALID_RECORD);
}

static void
kp_job_fail(struct kp_records_job *job)
{
	kp_walk_fail(&job->walk);
}

static void
kp_job_fail_limit(struct kp_records_job *job)
{
	kp_walk_fail_limit(&job->walk);
}

/* Expose n new stream bytes at buf to the walk. */
static void
kp_job_expose(struct kp_records_job *job, const uint8_t *buf, size_t n)
{
	job->win = buf;
	job->win_end = buf + n;
	job->produced += n;
	kp_records_tls->stats.inflated_bytes += n;
	/* The walk stops at the bound by itself; a codec that ran further
	 * ahead has a stream longer than the bound. */
	if (job->produced > job->walk.limit)
		kp_job_fail_limit(job);
}

/* The codec fills: each produces 1..cap bytes, or sets eof, or fails the
 * walk. Input may be used up while a frame still holds output, so a codec
 * is called with no input until it makes no progress; no progress inside a
 * frame means the stream was truncated. */
static size_t
kp_fill_gzip(struct kp_records_job *job, size_t cap)
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
			kp_job_fail(job);
			return 0;
		}
		if (st->block_state == ISAL_BLOCK_FINISH) {
			job->mid_frame = false;
		} else if (job->in == in_before && out_bytes == 0) {
			kp_job_fail(job);       /* truncated */
			return 0;
		}
	}
	kp_job_expose(job, job->eng.window, out_bytes);
	return out_bytes;
}

static size_t
kp_fill_lz4(struct kp_records_job *job, size_t cap)
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
			kp_job_fail(job);
			return 0;
		}
		job->in += src;
		job->in_bytes -= src;
		job->mid_frame = hint != 0;     /* 0: the frame is complete */
		out_bytes = dst;
	}
	kp_job_expose(job, job->eng.window, out_bytes);
	return out_bytes;
}

static size_t
kp_fill_zstd(struct kp_records_job *job, size_t cap)
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
			kp_job_fail(job);
			return 0;
		}
		job->in += in.pos;
		job->in_bytes -= in.pos;
		job->mid_frame = hint != 0;     /* 0: the frame is complete */
	}
	kp_job_expose(job, job->eng.window, out.pos);
	return out.pos;
}

/* Start the next snappy unit: raw snappy is one unit; xerial framing (the
 * Java client's SnappyOutputStream) is a sequence of [u32 big-endian
 * length][raw unit]. The declared length is checked against the bound and
 * against what the unit's bytes can decode to before the buffer is sized. */
static void
kp_snappy_unit_begin(struct kp_records_job *job)
{
	struct kp_records_engine *eng = &job->eng;
	const uint8_t *unit = job->in;
	size_t unit_bytes = job->in_bytes, frame_bytes = job->in_bytes, out_bytes, hdr_bytes;

	if (job->xerial) {
		if (job->in_bytes < 4)
			return kp_job_fail(job);
		unit_bytes = be_read32(job->in);
		if (unit_bytes > job->in_bytes - 4)
			return kp_job_fail(job);
		unit += 4;
		frame_bytes = 4 + unit_bytes;
	}
	job->in += frame_bytes;
	job->in_bytes -= frame_bytes;
	if (kp_snappy_length(unit, unit_bytes, &out_bytes, &hdr_bytes) != 0 ||
	    out_bytes / KP_SNAPPY_RATIO_NUM > (unit_bytes - hdr_bytes) / KP_SNAPPY_RATIO_DEN + 1)
		return kp_job_fail(job);        /* more than its bytes can decode to */
	if (out_bytes > job->walk.limit - job->produced)
		return kp_job_fail_limit(job);
	if (out_bytes > eng->snappy_buf_bytes) {
		uint8_t *buf = realloc(eng->snappy_buf, out_bytes);

		if (buf == NULL)
			return kp_job_finish(job, KP_RECORDS_NOMEM_ERR);
		eng->snappy_buf = buf;
		eng->snappy_buf_bytes = out_bytes;
	}
	kp_snappy_start(&job->sn, unit + hdr_bytes, unit_bytes - hdr_bytes, eng->snappy_buf,
			out_bytes);
	job->in_unit = true;
}

static size_t
kp_fill_snappy(struct kp_records_job *job, size_t cap)
{
	for (;;) {
		size_t from;
		int rc;

		if (!job->in_unit) {
			if (job->in_bytes == 0) {
				job->eof = true;
				return 0;
			}
			kp_snappy_unit_begin(job);
			if (!job->in_unit)
				return 0;
		}
		from = job->sn.out_pos;
		rc = kp_snappy_decode(&job->sn, cap);
		if (rc == KP_SNAPPY_ERR) {
			kp_job_fail(job);
			return 0;
		}
		if (rc == KP_SNAPPY_DONE)
			job->in_unit = false;
		if (job->sn.out_pos > from) {
			kp_job_expose(job, job->sn.out + from, job->sn.out_pos - from);
			return job->sn.out_pos - from;
		}
	}
}

/* Up to cap more stream bytes into the window. */
static size_t
kp_job_fill(struct kp_records_job *job, size_t cap)
{
	if (cap > KP_RECORDS_WINDOW_BYTES)
		cap = KP_RECORDS_WINDOW_BYTES;
	switch (job->codec) {
	case RBATCH_CODEC_GZIP: return kp_fill_gzip(job, cap);
	case RBATCH_CODEC_SNAPPY: return kp_fill_snappy(job, cap);
	case RBATCH_CODEC_LZ4: return kp_fill_lz4(job, cap);
	case RBATCH_CODEC_ZSTD: return kp_fill_zstd(job, cap);
	default:
		job->eof = true;
		return 0;
	}
}

/* Make the codec's decoder ready for a new stream; -1 when out of memory. */
static int
kp_engine_reset(struct kp_records_engine *eng, int codec)
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
static void
kp_engine_trim(struct kp_records_engine *eng)
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

static void
kp_engine_free(struct kp_records_engine *eng)
{
	free(eng->gzip);
	if (eng->lz4 != NULL)
		LZ4F_freeDecompressionContext(eng->lz4);
	ZSTD_freeDCtx(eng->zstd);
	free(eng->snappy_buf);
	free(eng->window);
	memset(eng, 0, sizeof(*eng));
}

static void
kp_records_pool_free(struct kp_records_pool *pool)
{
	for (int i = 0; i <= KP_RECORDS_JOBS_MAX; i++)
		kp_engine_free(&pool->jobs[i].eng);
	free(pool);
}

/* pthread key destructor: the thread is exiting. */
static void
kp_records_pool_exit(void *arg)
{
	kp_records_pool_free(arg);
	kp_records_tls = NULL;
}

static void
kp_records_key_create(void)
{
	kp_records_key_ok = pthread_key_create(&kp_records_key, kp_records_pool_exit) == 0;
}

static struct kp_records_pool *
kp_records_pool_get(void)
{
	struct kp_records_pool *pool = kp_records_tls;

	if (pool != NULL)
		return pool;
	pthread_once(&kp_records_key_once, kp_records_key_create);
	pool = calloc(1, sizeof(*pool));
	if (pool == NULL)
		return NULL;
	if (kp_records_key_ok && pthread_setspecific(kp_records_key, pool) != 0) {
		free(pool);
		return NULL;
	}
	kp_records_tls = pool;
	return pool;
}

void
kp_records_thread_release(void)
{
	struct kp_records_pool *pool = kp_records_tls;

	if (pool == NULL)
		return;
	ASSERT(pool->stats.jobs_out == 0);
	if (kp_records_key_ok)
		pthread_setspecific(kp_records_key, NULL);
	kp_records_pool_free(pool);
	kp_records_tls = NULL;
}

void
kp_records_thread_stats(struct kp_records_stats *out)
{
	struct kp_records_pool *pool = kp_records_tls;

	if (pool == NULL)
		memset(out, 0, sizeof(*out));
	else
		*out = pool->stats;
}

/* Early refusals on sizes a compressed stream declares: a valid stream
 * decodes to at least them, so beyond the bound it must fail anyway. */
static bool
kp_job_declared_too_large(const struct kp_records_job *job)
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

/* The decompression bound of a compressed body (see the top of the file). */
static uint64_t
kp_records_inflated_max(size_t body_bytes, int32_t max_message_bytes)
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

/* Set a job up for the body of a batch whose header passed. KP_ERR_NONE,
 * or the verdict when the batch is refused before any decompression. */
static int16_t
kp_job_init(struct kp_records_job *job, const uint8_t *body, size_t body_bytes, int codec,
	    int32_t records_count, int32_t max_message_bytes)
{
	uint64_t limit = codec == RBATCH_CODEC_NONE
			 ? body_bytes : kp_records_inflated_max(body_bytes, max_message_bytes);

	job->codec = codec;
	job->done = false;
	job->verdict = KP_ERR_NONE;
	job->produced = 0;
	job->in_unit = false;
	job->xerial = false;
	kp_walk_init(&job->walk, records_count, limit);
	if ((uint64_t)records_count * KP_RECORD_BYTES_MIN > limit) {
		kp_job_fail_limit(job);
		kp_job_finish(job, KP_RECORDS_LIMIT_ERR);
		return job->verdict;
	}
	if (codec == RBATCH_CODEC_NONE) {
		job->in = NULL;
		job->in_bytes = 0;
		job->win = body;
		job->win_end = body + body_bytes;
		job->eof = true;
		job->mid_frame = false;
		return KP_ERR_NONE;
	}
	if (kp_engine_reset(&job->eng, codec) != 0)
		return KP_RECORDS_NOMEM_ERR;
	job->in = body;
	job->in_bytes = body_bytes;
	job->win = job->win_end = NULL;
	job->eof = false;
	/* A compressed body holds at least one whole frame. */
	job->mid_frame = codec != RBATCH_CODEC_SNAPPY;
	job->xerial = codec == RBATCH_CODEC_SNAPPY &&
		      body_bytes >= KP_SNAPPY_XERIAL_HEADER_BYTES &&
		      memcmp(body, KP_SNAPPY_XERIAL_MAGIC, 8) == 0;
	if (job->xerial) {
		job->in += KP_SNAPPY_XERIAL_HEADER_BYTES;
		job->in_bytes -= KP_SNAPPY_XERIAL_HEADER_BYTES;
	}
	if (kp_job_declared_too_large(job)) {
		kp_job_fail_limit(job);
		kp_job_finish(job, KP_RECORDS_LIMIT_ERR);
		return job->verdict;
	}
	return KP_ERR_NONE;
}

int
kp_records_job_step(struct kp_records_job *job, size_t budget_bytes)
{
	size_t work_left = budget_bytes > 0 ? budget_bytes : 1;

	ASSERT(job != NULL);
	while (!job->done && work_left > 0) {
		if (job->walk.state == KP_W_FAILED) {
			kp_job_finish_failed(job);
		} else if (job->win < job->win_end) {
			job->win += kp_walk_feed(&job->walk, job->win,
						 (size_t)(job->win_end - job->win), &work_left);
		} else if (job->eof) {
			kp_job_finish(job, job->walk.state == KP_W_DONE ? KP_ERR_NONE
									 : KP_ERR_INVALID_RECORD);
		} else {
			size_t got = kp_job_fill(job, work_left);

			work_left -= got < work_left ? got : work_left;
		}
	}
	if (!job->done && job->walk.state == KP_W_FAILED)
		kp_job_finish_failed(job);
	return job->done ? job->verdict : KP_RECORDS_MORE;
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
	batch_length = (int32_t)be_read32(data + KP_OFF_LENGTH);
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

/* The header checks after the frame's (LogValidator.validateBatch). */
static int16_t
kp_records_check_header(const uint8_t *data, int32_t len, int16_t produce_version,
			int32_t max_message_bytes, struct rbatch_header *h)
{
	int16_t err = kp_records_check_frame(data, len, produce_version, max_message_bytes);

	if (err != KP_ERR_NONE)
		return err;
	ASSERT(len >= RBATCH_HEADER_BYTES);
	rbatch_header_parse(data, (size_t)len, h);
	if (h->last_offset_delta < 0 || h->last_offset_delta == INT32_MAX ||
	    h->records_count <= 0 || h->records_count != h->last_offset_delta + 1)
		return KP_ERR_INVALID_RECORD;
	if (h->attributes & RBATCH_ATTR_CONTROL)
		return KP_ERR_INVALID_RECORD;
	if (h->producer_id >= 0 && h->base_sequence < 0)
		return KP_ERR_INVALID_RECORD;
	return KP_ERR_NONE;
}

/* Begin with a first step of first_budget on the pool's spare job, which
 * is handed out only if work is left and handing out is allowed. */
static int16_t
kp_records_begin(const uint8_t *data, int32_t len, int16_t produce_version,
		 int32_t max_message_bytes, struct rbatch_header *h, size_t first_budget,
		 struct kp_records_job **jobp)
{
	struct kp_records_pool *pool;
	struct kp_records_job *job = NULL;
	int16_t err;
	int rc;

	*jobp = NULL;
	err = kp_records_check_header(data, len, produce_version, max_message_bytes, h);
	if (err != KP_ERR_NONE)
		return err;
	pool = kp_records_pool_get();
	if (pool == NULL)
		return KP_RECORDS_NOMEM_ERR;
	for (int i = 0; i <= KP_RECORDS_JOBS_MAX && job == NULL; i++)
		if (!pool->jobs[i].handed_out)
			job = &pool->jobs[i];
	ASSERT(job != NULL);            /* at most JOBS_MAX are out */
	err = kp_job_init(job, data + RBATCH_HEADER_BYTES, (size_t)len - RBATCH_HEADER_BYTES,
			  h->attributes & RBATCH_ATTR_CODEC_MASK, h->records_count,
			  max_message_bytes);
	rc = err != KP_ERR_NONE ? err : kp_records_job_step(job, first_budget);
	if (rc != KP_RECORDS_MORE) {
		kp_engine_trim(&job->eng);
		return (int16_t)rc;
	}
	if (pool->stats.jobs_out == KP_RECORDS_JOBS_MAX) {
		pool->stats.busy++;
		kp_engine_trim(&job->eng);
		return KP_RECORDS_BUSY;
	}
	job->handed_out = true;
	pool->stats.jobs_out++;
	*jobp = job;
	return KP_ERR_NONE;
}

int16_t
kp_records_validate_begin(const uint8_t *data, int32_t len, int16_t produce_version,
			  int32_t max_message_bytes, struct rbatch_header *h,
			  struct kp_records_job **job)
{
	return kp_records_begin(data, len, produce_version, max_message_bytes, h,
				KP_RECORDS_STEP_BYTES, job);
}

int16_t
kp_records_validate_begin_budget(const uint8_t *data, int32_t len, int16_t produce_version,
				 int32_t max_message_bytes, struct rbatch_header *h,
				 size_t first_budget_bytes, struct kp_records_job **job)
{
	return kp_records_begin(data, len, produce_version, max_message_bytes, h,
				first_budget_bytes, job);
}

void
kp_records_job_free(struct kp_records_job *job)
{
	struct kp_records_pool *pool = kp_records_tls;

	if (job == NULL)
		return;
	ASSERT(pool != NULL);
	ASSERT(job >= pool->jobs && job <= &pool->jobs[KP_RECORDS_JOBS_MAX]);
	ASSERT(job->handed_out);
	job->handed_out = false;
	pool->stats.jobs_out--;
	kp_engine_trim(&job->eng);
}

int16_t
kp_records_validate(const uint8_t *data, int32_t len, int16_t produce_version,
		    int32_t max_message_bytes, struct rbatch_header *h)
{
	struct kp_records_job *job;
	int16_t err = kp_records_begin(data, len, produce_version, max_message_bytes, h,
				       SIZE_MAX, &job);

	ASSERT(job == NULL);            /* an unlimited step always finishes */
	return err;
}
