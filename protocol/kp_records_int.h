/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of Produce-side record validation, shared by its files:
 * kp_records.c (header checks, jobs, the per-thread pool), kp_records_walk.c
 * (the record walk) and kp_records_inflate.c (streaming decompression and
 * its bound). Not for use outside them. */
#ifndef PROTOCOL_KP_RECORDS_INT_H
#define PROTOCOL_KP_RECORDS_INT_H

#include <isa-l/igzip_lib.h>
#include <lz4frame.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zstd.h>

#include "protocol/kp_error.h"
#include "protocol/kp_records.h"
#include "protocol/kp_snappy.h"

/* Every record takes at least this many bytes of the stream (length,
 * attributes, timestamp, offset, key and value lengths, header count: one
 * byte each); see "The decompression bound" in kp_records_inflate.c. */
#define KP_RECORD_BYTES_MIN 7u
/* The verdict for a batch refused by the decompression bound (why this
 * code: kp_records_inflate.c), and for want of memory for a decompressor. */
#define KP_RECORDS_LIMIT_ERR KP_ERR_INVALID_RECORD
#define KP_RECORDS_NOMEM_ERR KP_ERR_MESSAGE_TOO_LARGE

/* The record walk: a byte-driven state machine, so a record may span any
 * number of windows and steps. Field order as DefaultRecord.writeTo. */
enum kp_records_walk_state {
	KP_W_LEN, KP_W_ATTR, KP_W_TS, KP_W_OFFSET, KP_W_KEY_LEN, KP_W_VALUE_LEN,
	KP_W_HEADERS, KP_W_HKEY_LEN, KP_W_HVALUE_LEN,
	KP_W_HNEXT,                     /* after a header: another, or the record's end */
	KP_W_SKIP,                      /* inside a key, value or header field */
	KP_W_DONE,                      /* every record seen: no byte may follow */
	KP_W_FAILED,
};

struct kp_records_walk {
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
struct kp_records_inflater {
	uint8_t *window;                /* KP_RECORDS_WINDOW_BYTES (kp_records_inflate.c) */
	struct inflate_state *gzip;
	LZ4F_dctx *lz4;
	ZSTD_DCtx *zstd;
	uint8_t *snappy_buf;            /* one whole snappy unit */
	size_t snappy_buf_bytes;
};

struct kp_records_job {
	struct kp_records_inflater eng;
	struct kp_records_walk walk;
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


/* The calling thread's pool, NULL before its first batch (kp_records.c). */
extern __thread struct kp_records_pool *kp_records_tls;

/* ---- kp_records.c ---- */

/* End the job with verdict, counting a refusal by the bound. */
void kp_records_job_finish(struct kp_records_job *job, int16_t verdict);

/* ---- kp_records_walk.c: the record walk ---- */

/* Start a walk over count records in a stream of which no record may end
 * past limit bytes. */
void kp_records_walk_init(struct kp_records_walk *w, int32_t count, uint64_t limit);
/* Fail the walk on the bytes / on the bound. */
void kp_records_walk_fail(struct kp_records_walk *w);
void kp_records_walk_fail_limit(struct kp_records_walk *w);
/* Walk the stream bytes p[0..n). Returns how many were consumed: all, or
 * fewer when the walk failed or *work_left (bytes parsed; skipped field
 * bytes are free) ran out. */
size_t kp_records_walk_feed(struct kp_records_walk *w, const uint8_t *p, size_t n,
			    size_t *work_left);

/* ---- kp_records_inflate.c: decompression ---- */

/* The decompression bound of a compressed body of body_bytes. */
uint64_t kp_records_inflate_bound(size_t body_bytes, int32_t max_message_bytes);
/* Set the job's decompression of body[0..body_bytes) up (codec and walk
 * already set): KP_ERR_NONE, KP_RECORDS_NOMEM_ERR, or the verdict when a
 * size the stream declares is beyond the bound. */
int16_t kp_records_inflate_begin(struct kp_records_job *job, const uint8_t *body,
				 size_t body_bytes);
/* Up to cap more stream bytes into the job's window (or eof, or the walk
 * failed); returns how many. */
size_t kp_records_inflate_fill(struct kp_records_job *job, size_t cap);
/* Give back what one batch made the inflater grow beyond its keep size. */
void kp_records_inflate_trim(struct kp_records_inflater *eng);
/* Free every decompressor of the inflater. */
void kp_records_inflate_free(struct kp_records_inflater *eng);

#endif
