/* SPDX-License-Identifier: Apache-2.0 */
/* Test and bench helper: record batches v2 built byte by byte and
 * compressed with each codec's own library (independent of kp_records*.c),
 * for the kp_records tests, bench/bench_kp_records.c and the bomb seeds of
 * tests/fuzz/make_bomb_seeds.c. Everything aborts on out of memory or a
 * codec error: these are programs' bugs, not results. */
#ifndef TESTS_UNIT_PROTOCOL_TRECORDS_H
#define TESTS_UNIT_PROTOCOL_TRECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/rbatch.h"

/* A growable byte buffer; zero-initialised is empty. */
struct trecords_buf {
	uint8_t *p;
	size_t len, cap;
};

void trecords_put(struct trecords_buf *b, const void *src, size_t n);
/* n bytes of the value byte. */
void trecords_put_fill(struct trecords_buf *b, int byte, size_t n);
void trecords_put_be(struct trecords_buf *b, uint64_t v, int bytes);
/* A zigzag varint (varlong) as records encode them. */
void trecords_put_varint(struct trecords_buf *b, int64_t v);

/* One record (DefaultRecord): attributes 0, the deltas, a key (NULL: null),
 * value_len bytes of value (NULL: of value_fill; value_len -1: null) and,
 * with header, one header "hk" with a null value. */
struct trecords_rec {
	int64_t ts_delta;
	int32_t offset_delta;
	const char *key;
	const void *value;
	int64_t value_len;
	int value_fill;
	bool header;
};
void trecords_put_record(struct trecords_buf *b, const struct trecords_rec *r);
/* count records: key "k<i>", timestampDelta 3i, offsetDelta i, value of
 * vlen bytes of fill, one header when header. */
struct trecords_buf trecords_records(int32_t count, size_t vlen, int fill, bool header);

/* The batch header fields a test varies. */
struct trecords_hdr {
	int64_t base_offset;
	int16_t attributes;
	int32_t last_offset_delta, records_count;
	int64_t producer_id;
	int32_t base_sequence;
	int8_t magic;
};
/* n records, no producer, magic 2, no codec. */
struct trecords_hdr trecords_hdr_default(int32_t n);
/* A whole batch around an already encoded (maybe compressed) body, with
 * its CRC-32C. */
struct trecords_buf trecords_batch(const struct trecords_hdr *h, const uint8_t *body,
				   size_t body_len);
/* Recompute the CRC of a batch whose bytes were changed. */
void trecords_refresh_crc(uint8_t *p, size_t len);

/* How to compress: xerial frames snappy as snappy-java does (32 KiB
 * units); zstd_stream leaves out the frame content size, as a streaming
 * compressor (Java's ZstdOutputStream, librdkafka) does; best uses gzip's
 * level 9 and largest memory. Default levels: gzip 6, zstd 3. */
struct trecords_codec {
	int codec;
	bool xerial;
	bool zstd_stream;
	bool best;
};
/* src[0..n) compressed as c says (RBATCH_CODEC_NONE: copied). */
struct trecords_buf trecords_compress(const struct trecords_codec *c, const uint8_t *src,
				      size_t n);

/* The codecs as clients use them, by index ci: gzip, raw snappy, xerial
 * snappy, lz4, zstd (with its content size); ci -1 is zstd as a stream
 * (no content size). */
#define TRECORDS_CODECS 5
extern const struct trecords_codec trecords_codecs[TRECORDS_CODECS];
const char *trecords_codec_name(int ci);
/* A batch of count records around r compressed by codec ci. */
struct trecords_buf trecords_batch_codec(int ci, const struct trecords_buf *r, int32_t count);

#endif
