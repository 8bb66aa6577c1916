/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka wire primitives: a bounded read cursor with a sticky error and a
 * growable writer with a sticky error. Decoding is zero-copy (strings and
 * bytes are slices of the input) and allocates nothing. */
#ifndef PROTOCOL_KP_WIRE_H
#define PROTOCOL_KP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A string or bytes slice into the decoded buffer. len == -1 means null. */
struct kp_str {
	const char *ptr;
	int32_t len;
};

struct kp_bytes {
	const uint8_t *ptr;
	int32_t len;
};

struct kp_uuid {
	uint8_t b[16];
};

/* A decoded array is a validated slice of wire bytes holding count elements
 * (count == -1: null). Handlers walk it with kp_array_cursor() and the element
 * type's decode function. An array to encode sets items (a C array of count
 * elements of the element type); if items is NULL and wire is set, the
 * encoder copies the wire bytes as they are: they must be count elements
 * encoded at the same version (decoded input, or built by a handler into a
 * scratch writer one element at a time, so no array is sized by a count).
 * Arrays of primitives (int32 broker ids, string topic names, ...) have no
 * generated element decoder: read each element from kp_array_cursor() with
 * the matching kp_read_*(), e.g. kp_read_i32(&it) or kp_read_string(&it,
 * flexible) with flexible as for the message version; to encode, items
 * points to a C array of int32_t, struct kp_str, etc. */
struct kp_array {
	int32_t count;
	const uint8_t *wire;
	const uint8_t *wire_end;
	const void *items;
};

/* Decode errors, sticky in kp_cursor.err. */
enum {
	KP_WIRE_OK = 0,
	KP_WIRE_TRUNCATED = 1,      /* ran past the end */
	KP_WIRE_INVALID = 2,        /* bad varint, negative length, bad count */
	KP_WIRE_LIMIT = 3,          /* a count or length above its bound */
	KP_WIRE_VERSION = 4,        /* version outside the message's valid range */
};

/* Added for the generated codec. KP_WIRE_NOMEM is a writer-only error. */
enum {
	KP_WIRE_NOMEM = 5,          /* writer: realloc failed */
};

/* Every array count read from the wire is bounded by this (and by the bytes
 * left) unless a message names a tighter bound. */
#define KP_ARRAY_COUNT_MAX (1 << 20)

struct kp_cursor {
	const uint8_t *pos;
	const uint8_t *end;
	int err;
};

static inline struct kp_cursor
kp_cursor_make(const void *buf, size_t len)
{
	const uint8_t *p = (const uint8_t *)buf;
	/* len 0 may come with buf NULL (an empty writer); NULL + 0 is undefined. */
	struct kp_cursor c = { p, len > 0 ? p + len : p, 0 };
	return c;
}

static inline size_t
kp_cursor_left(const struct kp_cursor *c)
{
	return (size_t)(c->end - c->pos);
}

static inline struct kp_cursor
kp_array_cursor(const struct kp_array *a)
{
	struct kp_cursor c = { a->wire, a->wire_end, 0 };
	return c;
}

/* Readers: on error they set c->err once and return 0 / a null slice; every
 * later read returns 0, so loops over decoded counts do not run. */
int8_t kp_read_i8(struct kp_cursor *c);
int16_t kp_read_i16(struct kp_cursor *c);
uint16_t kp_read_u16(struct kp_cursor *c);
int32_t kp_read_i32(struct kp_cursor *c);
uint32_t kp_read_u32(struct kp_cursor *c);
int64_t kp_read_i64(struct kp_cursor *c);
double kp_read_f64(struct kp_cursor *c);
bool kp_read_bool(struct kp_cursor *c);
uint32_t kp_read_uvarint(struct kp_cursor *c);
int32_t kp_read_varint(struct kp_cursor *c);
int64_t kp_read_varlong(struct kp_cursor *c);
struct kp_uuid kp_read_uuid(struct kp_cursor *c);
struct kp_str kp_read_string(struct kp_cursor *c, bool flexible);   /* nullable */
struct kp_bytes kp_read_bytes(struct kp_cursor *c, bool flexible);  /* nullable */
/* Array length: -1 for null; error if above count_max or above the bytes
 * left (every element takes at least one byte). */
int32_t kp_read_array_len(struct kp_cursor *c, bool flexible, int32_t count_max);
void kp_skip(struct kp_cursor *c, size_t n);
void kp_skip_tagged_fields(struct kp_cursor *c);
/* Sets c->err to err unless an error is already recorded. */
void kp_cursor_fail(struct kp_cursor *c, int err);
/* Tagged-field section, for generated decoders: kp_read_tag_count() reads
 * the field count (bounded by the bytes left); kp_read_tagged_field() reads
 * one tag and size, checks tags strictly increase (*tag_prev starts at -1),
 * advances c past the field and returns a cursor over its bytes;
 * kp_tagged_field_end() copies an error from that sub-cursor into c and
 * fails with KP_WIRE_INVALID if the field was not consumed exactly. */
uint32_t kp_read_tag_count(struct kp_cursor *c);
struct kp_cursor kp_read_tagged_field(struct kp_cursor *c, int64_t *tag_prev, uint32_t *tag);
void kp_tagged_field_end(struct kp_cursor *c, const struct kp_cursor *sub);

/* Writer: grows with realloc (or fails with err set when fixed). */
/* A hole in an encoded message: len bytes that belong at offset at of the
 * writer's output but were not copied into it (Fetch records that go from a
 * file straight to the socket). */
struct kp_hole {
	size_t at;
	uint32_t len;
};

struct kp_writer {
	uint8_t *buf;
	size_t len;
	size_t cap;
	int err;        /* nonzero: out of memory or fixed buffer full */
	bool fixed;     /* buf is caller-owned and must not grow */
	/* Holes recorded by kp_write_bytes() for kp_bytes_external values; a
	 * writer without room for holes (hole_cap 0) fails on one. */
	struct kp_hole *holes;
	uint32_t hole_cap;
	uint32_t hole_count;
};

/* Pass {kp_bytes_external, len} as a bytes value to make the encoder write
 * the length prefix and record a hole of len bytes instead of copying. */
extern const uint8_t kp_bytes_external[1];

void kp_writer_init(struct kp_writer *w, size_t cap_hint);
void kp_writer_init_fixed(struct kp_writer *w, void *buf, size_t cap);
void kp_writer_free(struct kp_writer *w);
uint8_t *kp_write_reserve(struct kp_writer *w, size_t n);   /* NULL on error */
void kp_write_raw(struct kp_writer *w, const void *p, size_t n);
void kp_write_i8(struct kp_writer *w, int8_t v);
void kp_write_i16(struct kp_writer *w, int16_t v);
void kp_write_u16(struct kp_writer *w, uint16_t v);
void kp_write_i32(struct kp_writer *w, int32_t v);
void kp_write_u32(struct kp_writer *w, uint32_t v);
void kp_write_i64(struct kp_writer *w, int64_t v);
void kp_write_f64(struct kp_writer *w, double v);
void kp_write_bool(struct kp_writer *w, bool v);
void kp_write_uvarint(struct kp_writer *w, uint32_t v);
void kp_write_varint(struct kp_writer *w, int32_t v);
void kp_write_varlong(struct kp_writer *w, int64_t v);
void kp_write_uuid(struct kp_writer *w, const struct kp_uuid *v);
void kp_write_string(struct kp_writer *w, struct kp_str s, bool flexible);
void kp_write_bytes(struct kp_writer *w, struct kp_bytes b, bool flexible);
void kp_write_array_len(struct kp_writer *w, int32_t count, bool flexible);
void kp_write_put_i32(struct kp_writer *w, size_t at, int32_t v);  /* patch in place */
/* Sets w->err to err unless an error is already recorded. Writer errors:
 * KP_WIRE_LIMIT (fixed buffer full, or a length the encoding cannot carry),
 * KP_WIRE_NOMEM, KP_WIRE_VERSION (a non-ignorable field set to a non-default
 * value in a version that lacks it, as Kafka's own encoder refuses). */
void kp_writer_fail(struct kp_writer *w, int err);
/* Bytes kp_write_uvarint() takes for v. */
size_t kp_uvarint_size(uint32_t v);
/* One tagged field: kp_write_tagged_begin() writes the tag and returns where
 * the body starts; the caller writes the body; kp_write_tagged_end() inserts
 * the body's size (uvarint) in front of it. */
size_t kp_write_tagged_begin(struct kp_writer *w, uint32_t tag);
void kp_write_tagged_end(struct kp_writer *w, size_t body_at);

/* An array to encode from count elements a handler wrote into a scratch
 * writer. A scratch writer that failed gives no wire bytes, which the
 * encoder refuses (KP_WIRE_INVALID), so an error in a nested writer fails
 * the response instead of truncating it. */
static inline struct kp_array
kp_array_wire(int32_t count, const struct kp_writer *sub)
{
	struct kp_array a = { count, NULL, NULL, NULL };

	if (sub->err == 0 && sub->len > 0) {
		a.wire = sub->buf;
		a.wire_end = sub->buf + sub->len;
	}
	return a;
}

static inline struct kp_str
kp_str_c(const char *s)
{
	struct kp_str r = { s, -1 };
	if (s != NULL) {
		size_t n = 0;
		while (s[n] != '\0')
			n++;
		r.len = (int32_t)n;
	}
	return r;
}

static inline bool
kp_str_eq(struct kp_str a, struct kp_str b)
{
	if (a.len != b.len)
		return false;
	for (int32_t i = 0; i < a.len; i++)
		if (a.ptr[i] != b.ptr[i])
			return false;
	return true;
}

static inline bool
kp_uuid_is_zero(const struct kp_uuid *u)
{
	for (int i = 0; i < 16; i++)
		if (u->b[i] != 0)
			return false;
	return true;
}

#endif
