/* SPDX-License-Identifier: Apache-2.0 */
/* Tests protocol/kp_wire.c: every primitive in both encodings against
 * hand-written bytes, boundary values, null strings/bytes/arrays, malformed
 * varints and lengths, limits, sticky errors, and a buffer of every
 * primitive truncated at every length (each prefix in an exactly-sized heap
 * buffer, so ASan flags any over-read). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/kp_wire.h"

#define BYTES(...) ((const uint8_t[]){ __VA_ARGS__ })
#define CUR(...) kp_cursor_make(BYTES(__VA_ARGS__), sizeof(BYTES(__VA_ARGS__)))

static void
assert_written(const struct kp_writer *w, const uint8_t *want, size_t n)
{
	cr_assert_eq(w->err, KP_WIRE_OK);
	cr_assert_eq(w->len, n, "wrote %zu bytes, want %zu", w->len, n);
	cr_assert_eq(memcmp(w->buf, want, n), 0);
}

#define WRITES(call, ...) do { \
	struct kp_writer w_; \
	kp_writer_init(&w_, 0); \
	call; \
	assert_written(&w_, BYTES(__VA_ARGS__), sizeof(BYTES(__VA_ARGS__))); \
	kp_writer_free(&w_); \
} while (0)

Test(wire, fixed_ints)
{
	struct kp_cursor c = CUR(0x80, 0x7f, 0x80, 0x00, 0xff, 0xfe, 0x80, 0, 0, 0,
				 0xff, 0xff, 0xff, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0,
				 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08);
	cr_assert_eq(kp_read_i8(&c), INT8_MIN);
	cr_assert_eq(kp_read_i8(&c), INT8_MAX);
	cr_assert_eq(kp_read_i16(&c), INT16_MIN);
	cr_assert_eq(kp_read_u16(&c), 0xfffe);
	cr_assert_eq(kp_read_i32(&c), INT32_MIN);
	cr_assert_eq(kp_read_u32(&c), UINT32_MAX);
	cr_assert_eq(kp_read_i64(&c), INT64_MIN);
	cr_assert_eq(kp_read_i64(&c), 0x0102030405060708);
	cr_assert_eq(kp_cursor_left(&c), 0);
	cr_assert_eq(c.err, KP_WIRE_OK);

	WRITES(kp_write_i8(&w_, -1), 0xff);
	WRITES(kp_write_i16(&w_, INT16_MIN), 0x80, 0x00);
	WRITES(kp_write_u16(&w_, 0xabcd), 0xab, 0xcd);
	WRITES(kp_write_i32(&w_, -2), 0xff, 0xff, 0xff, 0xfe);
	WRITES(kp_write_u32(&w_, 0x01020304), 1, 2, 3, 4);
	WRITES(kp_write_i64(&w_, INT64_MAX), 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
	WRITES(kp_write_bool(&w_, true), 1);
}

Test(wire, bool_f64_uuid)
{
	struct kp_cursor c = CUR(0, 1, 2, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0);
	struct kp_writer w;
	struct kp_uuid u, v;

	cr_assert(!kp_read_bool(&c));
	cr_assert(kp_read_bool(&c));
	cr_assert(kp_read_bool(&c));        /* any nonzero byte, as Kafka */
	cr_assert_eq(kp_read_f64(&c), 1.5);
	WRITES(kp_write_f64(&w_, -2.0), 0xc0, 0, 0, 0, 0, 0, 0, 0);

	for (int i = 0; i < 16; i++)
		u.b[i] = (uint8_t)(0xf0 + i);
	kp_writer_init(&w, 0);
	kp_write_uuid(&w, &u);
	cr_assert_eq(w.len, 16);
	c = kp_cursor_make(w.buf, w.len);
	v = kp_read_uuid(&c);
	cr_assert_eq(memcmp(&u, &v, sizeof(u)), 0);
	cr_assert(!kp_uuid_is_zero(&v));
	kp_writer_free(&w);
}

Test(wire, uvarint_boundaries)
{
	static const uint32_t vals[] = { 0, 1, 127, 128, 16383, 16384, 2097151, 2097152,
					 268435455, 268435456, UINT32_MAX };
	static const size_t sizes[] = { 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5 };

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		struct kp_writer w;
		struct kp_cursor c;

		kp_writer_init(&w, 0);
		kp_write_uvarint(&w, vals[i]);
		cr_assert_eq(w.len, sizes[i]);
		cr_assert_eq(kp_uvarint_size(vals[i]), sizes[i]);
		c = kp_cursor_make(w.buf, w.len);
		cr_assert_eq(kp_read_uvarint(&c), vals[i]);
		cr_assert_eq(c.err, KP_WIRE_OK);
		cr_assert_eq(kp_cursor_left(&c), 0);
		kp_writer_free(&w);
	}
	WRITES(kp_write_uvarint(&w_, 300), 0xac, 0x02);
	WRITES(kp_write_uvarint(&w_, UINT32_MAX), 0xff, 0xff, 0xff, 0xff, 0x0f);
}

/* v written as a varint (int32) or a varlong reads back whole: the same
 * value, no error, nothing left over. */
static void
assert_zigzag_roundtrip(int64_t v, bool varlong)
{
	struct kp_writer w;
	struct kp_cursor c;

	kp_writer_init(&w, 0);
	if (varlong)
		kp_write_varlong(&w, v);
	else
		kp_write_varint(&w, (int32_t)v);
	c = kp_cursor_make(w.buf, w.len);
	cr_assert_eq(varlong ? kp_read_varlong(&c) : kp_read_varint(&c), v, "%s %lld",
		     varlong ? "varlong" : "varint", (long long)v);
	cr_assert_eq(c.err, KP_WIRE_OK, "%s %lld", varlong ? "varlong" : "varint", (long long)v);
	cr_assert_eq(kp_cursor_left(&c), 0, "%s %lld", varlong ? "varlong" : "varint",
		     (long long)v);
	kp_writer_free(&w);
}

Test(wire, varint_zigzag)
{
	static const int32_t vals[] = { 0, -1, 1, -64, 64, INT32_MIN, INT32_MAX };
	static const int64_t lvals[] = { 0, -1, 1, INT32_MIN, (int64_t)INT32_MAX + 1,
					 INT64_MIN, INT64_MAX };

	WRITES(kp_write_varint(&w_, 0), 0);
	WRITES(kp_write_varint(&w_, -1), 1);
	WRITES(kp_write_varint(&w_, 1), 2);
	WRITES(kp_write_varint(&w_, -64), 0x7f);
	WRITES(kp_write_varint(&w_, 64), 0x80, 0x01);
	WRITES(kp_write_varint(&w_, INT32_MIN), 0xff, 0xff, 0xff, 0xff, 0x0f);
	WRITES(kp_write_varlong(&w_, INT64_MIN),
	       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		assert_zigzag_roundtrip(vals[i], false);
	for (size_t i = 0; i < sizeof(lvals) / sizeof(lvals[0]); i++)
		assert_zigzag_roundtrip(lvals[i], true);
}

Test(wire, bad_varints)
{
	struct kp_cursor c = CUR(0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
	cr_assert_eq(kp_read_uvarint(&c), 0);
	cr_assert_eq(c.err, KP_WIRE_INVALID);

	c = CUR(0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
	cr_assert_eq(kp_read_varint(&c), 0);
	cr_assert_eq(c.err, KP_WIRE_INVALID);

	c = CUR(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
	cr_assert_eq(kp_read_varlong(&c), 0);
	cr_assert_eq(c.err, KP_WIRE_INVALID);

	/* Ten bytes is still a valid varlong; five a valid varint. */
	c = CUR(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
	cr_assert_eq(kp_read_varlong(&c), 0);
	cr_assert_eq(c.err, KP_WIRE_OK);

	c = CUR(0x80, 0x80);        /* continuation, then the end */
	cr_assert_eq(kp_read_uvarint(&c), 0);
	cr_assert_eq(c.err, KP_WIRE_TRUNCATED);
}

Test(wire, strings_classic)
{
	struct kp_cursor c = CUR(0, 3, 'a', 'b', 'c', 0, 0, 0xff, 0xff);
	struct kp_str s;

	s = kp_read_string(&c, false);
	cr_assert(kp_str_eq(s, kp_str_c("abc")));
	s = kp_read_string(&c, false);
	cr_assert_eq(s.len, 0);
	cr_assert_not_null(s.ptr);
	s = kp_read_string(&c, false);
	cr_assert_eq(s.len, -1);
	cr_assert_eq(c.err, KP_WIRE_OK);

	c = CUR(0xff, 0xfe);        /* -2 */
	s = kp_read_string(&c, false);
	cr_assert_eq(s.len, -1);
	cr_assert_eq(c.err, KP_WIRE_INVALID);

	c = CUR(0, 4, 'a', 'b', 'c');
	s = kp_read_string(&c, false);
	cr_assert_eq(s.len, -1);
	cr_assert_eq(c.err, KP_WIRE_TRUNCATED);

	WRITES(kp_write_string(&w_, kp_str_c("hi"), false), 0, 2, 'h', 'i');
	WRITES(kp_write_string(&w_, kp_str_c(NULL), false), 0xff, 0xff);
	WRITES(kp_write_string(&w_, kp_str_c(""), false), 0, 0);

	/* Longer than an int16 can say. */
	struct kp_writer w;
	char *big = calloc(1, 40000);
	struct kp_str bs = { big, 40000 };
	kp_writer_init(&w, 0);
	kp_write_string(&w, bs, false);
	cr_assert_eq(w.err, KP_WIRE_LIMIT);
	kp_writer_free(&w);
	kp_writer_init(&w, 0);
	kp_write_string(&w, bs, true);
	cr_assert_eq(w.err, KP_WIRE_OK);
	cr_assert_eq(w.len, 3 + 40000);
	kp_writer_free(&w);
	free(big);
}

Test(wire, strings_compact)
{
	struct kp_cursor c = CUR(4, 'a', 'b', 'c', 1, 0);
	struct kp_str s;

	s = kp_read_string(&c, true);
	cr_assert(kp_str_eq(s, kp_str_c("abc")));
	s = kp_read_string(&c, true);
	cr_assert_eq(s.len, 0);
	s = kp_read_string(&c, true);
	cr_assert_eq(s.len, -1);
	cr_assert_eq(c.err, KP_WIRE_OK);

	c = CUR(0x05, 'a');
	s = kp_read_string(&c, true);
	cr_assert_eq(c.err, KP_WIRE_TRUNCATED);

	WRITES(kp_write_string(&w_, kp_str_c("hi"), true), 3, 'h', 'i');
	WRITES(kp_write_string(&w_, kp_str_c(NULL), true), 0);
}

Test(wire, bytes_both)
{
	struct kp_cursor c = CUR(0, 0, 0, 2, 9, 8, 0xff, 0xff, 0xff, 0xff, 3, 7, 6, 0);
	struct kp_bytes b;

	b = kp_read_bytes(&c, false);
	cr_assert_eq(b.len, 2);
	cr_assert_eq(b.ptr[0], 9);
	b = kp_read_bytes(&c, false);
	cr_assert_eq(b.len, -1);
	b = kp_read_bytes(&c, true);
	cr_assert_eq(b.len, 2);
	cr_assert_eq(b.ptr[1], 6);
	b = kp_read_bytes(&c, true);
	cr_assert_eq(b.len, -1);
	cr_assert_eq(c.err, KP_WIRE_OK);

	c = CUR(0x80, 0, 0, 0);     /* INT32_MIN */
	b = kp_read_bytes(&c, false);
	cr_assert_eq(c.err, KP_WIRE_INVALID);

	c = CUR(0x7f, 0xff, 0xff, 0xff, 1);
	b = kp_read_bytes(&c, false);
	cr_assert_eq(c.err, KP_WIRE_TRUNCATED);

	struct kp_bytes nb = { NULL, -1 };
	WRITES(kp_write_bytes(&w_, nb, false), 0xff, 0xff, 0xff, 0xff);
	WRITES(kp_write_bytes(&w_, nb, true), 0);
	struct kp_bytes one = { BYTES(0xaa), 1 };
	WRITES(kp_write_bytes(&w_, one, false), 0, 0, 0, 1, 0xaa);
	WRITES(kp_write_bytes(&w_, one, true), 2, 0xaa);
}

Test(wire, array_len)
{
	struct kp_cursor c = CUR(0, 0, 0, 2, 1, 2);
	cr_assert_eq(kp_read_array_len(&c, false, 10), 2);
	cr_assert_eq(c.err, KP_WIRE_OK);

	c = CUR(0xff, 0xff, 0xff, 0xff);
	cr_assert_eq(kp_read_array_len(&c, false, 10), -1);
	cr_assert_eq(c.err, KP_WIRE_OK);
	c = CUR(0);
	cr_assert_eq(kp_read_array_len(&c, true, 10), -1);
	c = CUR(1);
	cr_assert_eq(kp_read_array_len(&c, true, 10), 0);

	c = CUR(0xff, 0xff, 0xff, 0xfe);
	cr_assert_eq(kp_read_array_len(&c, false, 10), 0);
	cr_assert_eq(c.err, KP_WIRE_INVALID);

	c = CUR(0, 0, 0, 3, 1, 2, 3);       /* above count_max */
	cr_assert_eq(kp_read_array_len(&c, false, 2), 0);
	cr_assert_eq(c.err, KP_WIRE_LIMIT);

	c = CUR(0, 0, 0, 3, 1, 2);          /* above the bytes left */
	cr_assert_eq(kp_read_array_len(&c, false, 10), 0);
	cr_assert_eq(c.err, KP_WIRE_LIMIT);

	c = CUR(0xff, 0xff, 0xff, 0xff, 0x0f);   /* compact UINT32_MAX - 1 */
	cr_assert_eq(kp_read_array_len(&c, true, KP_ARRAY_COUNT_MAX), 0);
	cr_assert_eq(c.err, KP_WIRE_LIMIT);

	WRITES(kp_write_array_len(&w_, 2, false), 0, 0, 0, 2);
	WRITES(kp_write_array_len(&w_, -1, false), 0xff, 0xff, 0xff, 0xff);
	WRITES(kp_write_array_len(&w_, 2, true), 3);
	WRITES(kp_write_array_len(&w_, -1, true), 0);
}

Test(wire, sticky_error)
{
	struct kp_cursor c = CUR(0, 1, 2, 3, 4, 5, 6, 7);

	(void)kp_read_i64(&c);
	cr_assert_eq(kp_read_i8(&c), 0);
	cr_assert_eq(c.err, KP_WIRE_TRUNCATED);
	c = CUR(0xff, 0xfe, 1, 2, 3, 4);
	(void)kp_read_string(&c, false);
	cr_assert_eq(c.err, KP_WIRE_INVALID);
	cr_assert_eq(kp_read_i32(&c), 0);           /* bytes remain, still 0 */
	cr_assert_eq(kp_read_array_len(&c, false, 10), 0);
	cr_assert_eq(c.err, KP_WIRE_INVALID);       /* first error kept */
	kp_skip(&c, 1);
	cr_assert_eq(kp_cursor_left(&c), 4);
}

Test(wire, tagged_fields)
{
	/* Two fields: tag 0 (2 bytes), tag 5 (0 bytes). */
	struct kp_cursor c = CUR(2, 0, 2, 0xaa, 0xbb, 5, 0, 0x42);
	kp_skip_tagged_fields(&c);
	cr_assert_eq(c.err, KP_WIRE_OK);
	cr_assert_eq(kp_read_i8(&c), 0x42);

	c = CUR(2, 5, 0, 5, 0);                     /* duplicate */
	kp_skip_tagged_fields(&c);
	cr_assert_eq(c.err, KP_WIRE_INVALID);
	c = CUR(2, 5, 0, 1, 0);                     /* out of order */
	kp_skip_tagged_fields(&c);
	cr_assert_eq(c.err, KP_WIRE_INVALID);
	c = CUR(1, 0, 9, 1);                        /* size past the end */
	kp_skip_tagged_fields(&c);
	cr_assert_eq(c.err, KP_WIRE_TRUNCATED);
	c = CUR(0x7f, 0, 0);                        /* count above what fits */
	kp_skip_tagged_fields(&c);
	cr_assert_eq(c.err, KP_WIRE_LIMIT);

	/* A body longer than 127 bytes needs a two-byte size. */
	struct kp_writer w;
	uint8_t body[200];
	memset(body, 0x5a, sizeof(body));
	kp_writer_init(&w, 0);
	kp_write_uvarint(&w, 1);
	size_t at = kp_write_tagged_begin(&w, 3);
	kp_write_raw(&w, body, sizeof(body));
	kp_write_tagged_end(&w, at);
	cr_assert_eq(w.len, 1 + 1 + 2 + sizeof(body));
	cr_assert_eq(w.buf[2], 0xc8);
	cr_assert_eq(w.buf[3], 0x01);
	c = kp_cursor_make(w.buf, w.len);
	cr_assert_eq(kp_read_tag_count(&c), 1);
	int64_t prev = -1;
	uint32_t tag;
	struct kp_cursor sub = kp_read_tagged_field(&c, &prev, &tag);
	cr_assert_eq(tag, 3);
	cr_assert_eq(kp_cursor_left(&sub), sizeof(body));
	cr_assert_eq(kp_cursor_left(&c), 0);
	kp_skip(&sub, sizeof(body) - 1);
	kp_tagged_field_end(&c, &sub);
	cr_assert_eq(c.err, KP_WIRE_INVALID);       /* one byte not consumed */
	kp_writer_free(&w);
}

Test(wire, writer_fixed_and_patch)
{
	uint8_t buf[6];
	struct kp_writer w;

	kp_writer_init_fixed(&w, buf, sizeof(buf));
	kp_write_i32(&w, 0);
	kp_write_i16(&w, 0x0102);
	cr_assert_eq(w.err, KP_WIRE_OK);
	kp_write_put_i32(&w, 0, 0x0a0b0c0d);
	cr_assert_eq(memcmp(buf, BYTES(0x0a, 0x0b, 0x0c, 0x0d, 1, 2), 6), 0);
	kp_write_i8(&w, 1);
	cr_assert_eq(w.err, KP_WIRE_LIMIT);
	cr_assert_eq(w.len, 6);
	kp_write_i8(&w, 1);                         /* sticky, nothing written */
	cr_assert_eq(w.len, 6);
	cr_assert_null(kp_write_reserve(&w, 1));
	kp_writer_free(&w);

	/* Growth keeps what was written. */
	kp_writer_init(&w, 1);
	for (int i = 0; i < 1000; i++)
		kp_write_i32(&w, i);
	cr_assert_eq(w.err, KP_WIRE_OK);
	cr_assert_eq(w.len, 4000);
	struct kp_cursor c = kp_cursor_make(w.buf, w.len);
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(kp_read_i32(&c), i);
	kp_writer_free(&w);
}

/* One of every primitive, both encodings: every strict prefix fails with
 * TRUNCATED (or LIMIT at a count) and the full buffer decodes to the
 * written values. */
static void
write_all(struct kp_writer *w, bool flex)
{
	struct kp_uuid u = { { 1, 2, 3 } };
	struct kp_bytes b = { BYTES(1, 2, 3), 3 };

	kp_write_i8(w, -5);
	kp_write_i16(w, -300);
	kp_write_u16(w, 65000);
	kp_write_i32(w, -70000);
	kp_write_u32(w, 4000000000u);
	kp_write_i64(w, -(1ll << 40));
	kp_write_f64(w, 0.25);
	kp_write_bool(w, true);
	kp_write_uvarint(w, 1u << 30);
	kp_write_varint(w, -1000000);
	kp_write_varlong(w, -(1ll << 50));
	kp_write_uuid(w, &u);
	kp_write_string(w, kp_str_c("kafka"), flex);
	kp_write_bytes(w, b, flex);
	kp_write_array_len(w, 1, flex);
	kp_write_i8(w, 9);
	kp_write_uvarint(w, 1);                     /* one tagged field */
	size_t at = kp_write_tagged_begin(w, 7);
	kp_write_i16(w, 77);
	kp_write_tagged_end(w, at);
}

static int
read_all(struct kp_cursor *c, bool flex)
{
	int ok = 1;

	ok &= kp_read_i8(c) == -5;
	ok &= kp_read_i16(c) == -300;
	ok &= kp_read_u16(c) == 65000;
	ok &= kp_read_i32(c) == -70000;
	ok &= kp_read_u32(c) == 4000000000u;
	ok &= kp_read_i64(c) == -(1ll << 40);
	ok &= kp_read_f64(c) == 0.25;
	ok &= kp_read_bool(c);
	ok &= kp_read_uvarint(c) == 1u << 30;
	ok &= kp_read_varint(c) == -1000000;
	ok &= kp_read_varlong(c) == -(1ll << 50);
	ok &= kp_read_uuid(c).b[2] == 3;
	ok &= kp_str_eq(kp_read_string(c, flex), kp_str_c("kafka"));
	ok &= kp_read_bytes(c, flex).len == 3;
	ok &= kp_read_array_len(c, flex, 10) == 1;
	ok &= kp_read_i8(c) == 9;
	kp_skip_tagged_fields(c);
	return ok && c->err == KP_WIRE_OK;
}

Test(wire, truncated_at_every_length)
{
	for (int flex = 0; flex < 2; flex++) {
		struct kp_writer w;
		kp_writer_init(&w, 0);
		write_all(&w, flex);
		cr_assert_eq(w.err, KP_WIRE_OK);

		struct kp_cursor c = kp_cursor_make(w.buf, w.len);
		cr_assert(read_all(&c, flex));
		cr_assert_eq(kp_cursor_left(&c), 0);
		for (size_t len = 0; len < w.len; len++) {
			uint8_t *p = malloc(len > 0 ? len : 1);
			memcpy(p, w.buf, len);
			c = kp_cursor_make(p, len);
			cr_assert(!read_all(&c, flex));
			/* Counts (array, tags) are checked against the bytes
			 * left first, so a cut there reads as LIMIT. */
			cr_assert(c.err == KP_WIRE_TRUNCATED || c.err == KP_WIRE_LIMIT,
				  "prefix %zu: err %d", len, c.err);
			cr_assert(c.pos <= c.end);
			free(p);
		}
		kp_writer_free(&w);
	}
}
