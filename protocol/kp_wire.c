/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka wire primitives: big-endian fixed integers, (zigzag) varints, classic
 * and compact strings/bytes/arrays, tagged-field sections. The reader never
 * reads past c->end and never allocates; after the first error every read
 * returns 0 or a null slice. The writer owns its buffer unless it is fixed. */
#include "protocol/kp_wire.h"

#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/be.h"

#define KP_UVARINT_BYTES_MAX 5
#define KP_UVARLONG_BYTES_MAX 10

/* ---- reader ---- */

void
kp_cursor_fail(struct kp_cursor *c, int err)
{
	ASSERT_HOT(err != KP_WIRE_OK);
	if (c->err == KP_WIRE_OK)
		c->err = err;
}

/* Returns a pointer to n readable bytes and advances, or NULL (error set). */
static const uint8_t *
cursor_take(struct kp_cursor *c, size_t n)
{
	const uint8_t *p;

	if (c->err != KP_WIRE_OK)
		return NULL;
	if (kp_cursor_left(c) < n) {
		kp_cursor_fail(c, KP_WIRE_TRUNCATED);
		return NULL;
	}
	if (n == 0)     /* an empty slice of an empty (possibly NULL) buffer */
		return c->pos != NULL ? c->pos : (const uint8_t *)"";
	p = c->pos;
	c->pos += n;
	return p;
}

/* A fixed-width big-endian field of n bytes; 0 past the end. */
static uint64_t
read_be(struct kp_cursor *c, size_t n)
{
	const uint8_t *p = cursor_take(c, n);

	if (p == NULL)
		return 0;
	switch (n) {
	case 1:
		return p[0];
	case 2:
		return be_read16(p);
	case 4:
		return be_read32(p);
	default:
		ASSERT_HOT(n == 8);
		return be_read64(p);
	}
}

int8_t kp_read_i8(struct kp_cursor *c) { return (int8_t)read_be(c, 1); }
int16_t kp_read_i16(struct kp_cursor *c) { return (int16_t)read_be(c, 2); }
uint16_t kp_read_u16(struct kp_cursor *c) { return (uint16_t)read_be(c, 2); }
int32_t kp_read_i32(struct kp_cursor *c) { return (int32_t)read_be(c, 4); }
uint32_t kp_read_u32(struct kp_cursor *c) { return (uint32_t)read_be(c, 4); }
int64_t kp_read_i64(struct kp_cursor *c) { return (int64_t)read_be(c, 8); }

double
kp_read_f64(struct kp_cursor *c)
{
	uint64_t bits = read_be(c, 8);  /* 0 past the end: 0.0 */
	double v;

	memcpy(&v, &bits, sizeof(v));
	return v;
}

/* Kafka reads any nonzero byte as true; so do we. */
bool
kp_read_bool(struct kp_cursor *c)
{
	return read_be(c, 1) != 0;
}

/* Reads up to bytes_max 7-bit groups. A continuation bit on the last allowed
 * byte is malformed, as in Kafka's ByteUtils; bits above 64 are dropped. */
static uint64_t
read_uvar(struct kp_cursor *c, int bytes_max)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes_max; i++) {
		const uint8_t *p = cursor_take(c, 1);
		if (p == NULL)
			return 0;
		v |= (uint64_t)(p[0] & 0x7f) << (7 * i);
		if ((p[0] & 0x80) == 0)
			return v;
	}
	kp_cursor_fail(c, KP_WIRE_INVALID);
	return 0;
}

uint32_t
kp_read_uvarint(struct kp_cursor *c)
{
	return (uint32_t)read_uvar(c, KP_UVARINT_BYTES_MAX);
}

int32_t
kp_read_varint(struct kp_cursor *c)
{
	uint32_t u = kp_read_uvarint(c);
	return (int32_t)((u >> 1) ^ (0u - (u & 1)));
}

int64_t
kp_read_varlong(struct kp_cursor *c)
{
	uint64_t u = read_uvar(c, KP_UVARLONG_BYTES_MAX);
	return (int64_t)((u >> 1) ^ (0ull - (u & 1)));
}

struct kp_uuid
kp_read_uuid(struct kp_cursor *c)
{
	struct kp_uuid u;
	const uint8_t *p = cursor_take(c, sizeof(u.b));

	if (p == NULL)
		memset(u.b, 0, sizeof(u.b));
	else
		memcpy(u.b, p, sizeof(u.b));
	return u;
}

/* Length prefix of a string, bytes or array: -1 for null, else >= 0. With
 * flexible, a uvarint N+1 (0 = null); else a signed int16 or int32. */
static int64_t
read_len(struct kp_cursor *c, bool flexible, bool wide)
{
	int64_t n;

	if (flexible)
		n = (int64_t)kp_read_uvarint(c) - 1;
	else if (wide)
		n = kp_read_i32(c);
	else
		n = kp_read_i16(c);
	if (c->err != KP_WIRE_OK)
		return -1;
	if (n < -1) {
		kp_cursor_fail(c, KP_WIRE_INVALID);
		return -1;
	}
	if (n > INT32_MAX) {
		kp_cursor_fail(c, KP_WIRE_LIMIT);
		return -1;
	}
	return n;
}

/* A length-prefixed string or bytes field: its bytes, or NULL with
 * length -1 when null or past the end. */
static struct kp_bytes
read_slice(struct kp_cursor *c, bool flexible, bool wide)
{
	struct kp_bytes b = { NULL, -1 };
	int64_t n = read_len(c, flexible, wide);

	if (n < 0)
		return b;
	b.ptr = cursor_take(c, (size_t)n);
	if (b.ptr != NULL)
		b.len = (int32_t)n;
	return b;
}

struct kp_str
kp_read_string(struct kp_cursor *c, bool flexible)
{
	struct kp_bytes b = read_slice(c, flexible, false);

	return (struct kp_str){ (const char *)b.ptr, b.len };
}

struct kp_bytes
kp_read_bytes(struct kp_cursor *c, bool flexible)
{
	return read_slice(c, flexible, true);
}

int32_t
kp_read_array_len(struct kp_cursor *c, bool flexible, int32_t count_max)
{
	int64_t n = read_len(c, flexible, true);

	if (n < 0)
		return c->err != KP_WIRE_OK ? 0 : -1;
	if (n > count_max || (uint64_t)n > kp_cursor_left(c)) {
		kp_cursor_fail(c, KP_WIRE_LIMIT);
		return 0;
	}
	return (int32_t)n;
}

void
kp_skip(struct kp_cursor *c, size_t n)
{
	(void)cursor_take(c, n);
}

uint32_t
kp_read_tag_count(struct kp_cursor *c)
{
	uint32_t n = kp_read_uvarint(c);

	/* Each tagged field takes at least two bytes (tag and size). */
	if (n > kp_cursor_left(c) / 2) {
		kp_cursor_fail(c, KP_WIRE_LIMIT);
		return 0;
	}
	return n;
}

struct kp_cursor
kp_read_tagged_field(struct kp_cursor *c, int64_t *tag_prev, uint32_t *tag)
{
	struct kp_cursor sub = { c->pos, c->pos, c->err };
	uint32_t size;
	const uint8_t *p;

	*tag = kp_read_uvarint(c);
	size = kp_read_uvarint(c);
	if (c->err != KP_WIRE_OK) {
		sub.err = c->err;
		return sub;
	}
	if ((int64_t)*tag <= *tag_prev) {
		kp_cursor_fail(c, KP_WIRE_INVALID);
		sub.err = c->err;
		return sub;
	}
	*tag_prev = *tag;
	p = cursor_take(c, size);
	if (p == NULL) {
		sub.err = c->err;
		return sub;
	}
	sub.pos = p;
	sub.end = p + size;
	return sub;
}

void
kp_tagged_field_end(struct kp_cursor *c, const struct kp_cursor *sub)
{
	if (sub->err != KP_WIRE_OK)
		kp_cursor_fail(c, sub->err);
	else if (sub->pos != sub->end)
		kp_cursor_fail(c, KP_WIRE_INVALID);
}

void
kp_skip_tagged_fields(struct kp_cursor *c)
{
	uint32_t n = kp_read_tag_count(c);
	int64_t tag_prev = -1;

	for (uint32_t i = 0; i < n && c->err == KP_WIRE_OK; i++) {
		uint32_t tag;
		(void)kp_read_tagged_field(c, &tag_prev, &tag);
	}
}

/* ---- writer ---- */

void
kp_writer_fail(struct kp_writer *w, int err)
{
	ASSERT_HOT(err != KP_WIRE_OK);
	if (w->err == KP_WIRE_OK)
		w->err = err;
}

void
kp_writer_init_fixed(struct kp_writer *w, void *buf, size_t cap)
{
	w->buf = buf;
	w->len = 0;
	w->cap = cap;
	w->err = KP_WIRE_OK;
	w->fixed = true;
	w->holes = NULL;
	w->hole_cap = 0;
	w->hole_count = 0;
}

void
kp_writer_init(struct kp_writer *w, size_t cap_hint)
{
	kp_writer_init_fixed(w, NULL, 0);
	w->fixed = false;
	if (cap_hint > 0) {
		w->buf = malloc(cap_hint);
		if (w->buf == NULL)
			w->err = KP_WIRE_NOMEM;
		else
			w->cap = cap_hint;
	}
}

void
kp_writer_free(struct kp_writer *w)
{
	if (!w->fixed)
		free(w->buf);
	w->buf = NULL;
	w->len = 0;
	w->cap = 0;
}

uint8_t *
kp_write_reserve(struct kp_writer *w, size_t n)
{
	uint8_t *p;

	if (w->err != KP_WIRE_OK)
		return NULL;
	/* A NULL buffer grows even for n == 0, so p below is never NULL + 0. */
	if (w->cap - w->len < n || w->buf == NULL) {
		size_t cap = w->cap < 64 ? 64 : w->cap;
		uint8_t *buf;

		if (w->fixed || n > SIZE_MAX / 2 - w->len) {
			kp_writer_fail(w, KP_WIRE_LIMIT);
			return NULL;
		}
		while (cap - w->len < n)
			cap *= 2;
		buf = realloc(w->buf, cap);
		if (buf == NULL) {
			kp_writer_fail(w, KP_WIRE_NOMEM);
			return NULL;
		}
		w->buf = buf;
		w->cap = cap;
	}
	p = w->buf + w->len;
	w->len += n;
	return p;
}

void
kp_write_raw(struct kp_writer *w, const void *p, size_t n)
{
	uint8_t *d = kp_write_reserve(w, n);

	if (d != NULL && n > 0)
		memcpy(d, p, n);
}

static void
write_be(struct kp_writer *w, uint64_t v, size_t n)
{
	uint8_t *p = kp_write_reserve(w, n);

	if (p == NULL)
		return;
	switch (n) {
	case 1:
		p[0] = (uint8_t)v;
		break;
	case 2:
		be_write16(p, (uint16_t)v);
		break;
	case 4:
		be_write32(p, (uint32_t)v);
		break;
	default:
		ASSERT_HOT(n == 8);
		be_write64(p, v);
		break;
	}
}

void kp_write_i8(struct kp_writer *w, int8_t v) { write_be(w, (uint8_t)v, 1); }
void kp_write_i16(struct kp_writer *w, int16_t v) { write_be(w, (uint16_t)v, 2); }
void kp_write_u16(struct kp_writer *w, uint16_t v) { write_be(w, v, 2); }
void kp_write_i32(struct kp_writer *w, int32_t v) { write_be(w, (uint32_t)v, 4); }
void kp_write_u32(struct kp_writer *w, uint32_t v) { write_be(w, v, 4); }
void kp_write_i64(struct kp_writer *w, int64_t v) { write_be(w, (uint64_t)v, 8); }
void kp_write_bool(struct kp_writer *w, bool v) { write_be(w, v ? 1 : 0, 1); }

void
kp_write_f64(struct kp_writer *w, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	write_be(w, bits, 8);
}

static size_t
uvar_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

size_t
kp_uvarint_size(uint32_t v)
{
	return uvar_size(v);
}

static void
store_uvar(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p = (uint8_t)v;
}

static void
write_uvar(struct kp_writer *w, uint64_t v)
{
	uint8_t *p = kp_write_reserve(w, uvar_size(v));

	if (p != NULL)
		store_uvar(p, v);
}

void
kp_write_uvarint(struct kp_writer *w, uint32_t v)
{
	write_uvar(w, v);
}

void
kp_write_varint(struct kp_writer *w, int32_t v)
{
	uint32_t u = (uint32_t)v;
	write_uvar(w, (u << 1) ^ (0u - (u >> 31)));
}

void
kp_write_varlong(struct kp_writer *w, int64_t v)
{
	uint64_t u = (uint64_t)v;
	write_uvar(w, (u << 1) ^ (0ull - (u >> 63)));
}

void
kp_write_uuid(struct kp_writer *w, const struct kp_uuid *v)
{
	kp_write_raw(w, v->b, sizeof(v->b));
}

/* Writes a length prefix; len < 0 means null. */
static void
write_len(struct kp_writer *w, int32_t len, bool flexible, bool wide)
{
	if (len < 0)
		len = -1;
	if (flexible)
		kp_write_uvarint(w, (uint32_t)len + 1u);
	else if (wide)
		kp_write_i32(w, len);
	else if (len > INT16_MAX)
		kp_writer_fail(w, KP_WIRE_LIMIT);
	else
		kp_write_i16(w, (int16_t)len);
}

void
kp_write_string(struct kp_writer *w, struct kp_str s, bool flexible)
{
	write_len(w, s.len, flexible, false);
	if (s.len > 0)
		kp_write_raw(w, s.ptr, (size_t)s.len);
}

const uint8_t kp_bytes_external[1];

void
kp_write_bytes(struct kp_writer *w, struct kp_bytes b, bool flexible)
{
	write_len(w, b.len, flexible, true);
	if (b.len <= 0)
		return;
	if (b.ptr != kp_bytes_external) {
		kp_write_raw(w, b.ptr, (size_t)b.len);
		return;
	}
	if (w->hole_count == w->hole_cap) {
		kp_writer_fail(w, KP_WIRE_LIMIT);
		return;
	}
	w->holes[w->hole_count].at = w->len;
	w->holes[w->hole_count].len = (uint32_t)b.len;
	w->hole_count++;
}

void
kp_write_array_len(struct kp_writer *w, int32_t count, bool flexible)
{
	write_len(w, count, flexible, true);
}

void
kp_write_put_i32(struct kp_writer *w, size_t at, int32_t v)
{
	if (w->err != KP_WIRE_OK)
		return;
	ASSERT(at <= w->len && w->len - at >= 4);
	be_write32(w->buf + at, (uint32_t)v);
}

size_t
kp_write_tagged_begin(struct kp_writer *w, uint32_t tag)
{
	kp_write_uvarint(w, tag);
	return w->len;
}

void
kp_write_tagged_end(struct kp_writer *w, size_t body_at)
{
	size_t body_len, n;

	if (w->err != KP_WIRE_OK)
		return;
	ASSERT(body_at <= w->len);
	body_len = w->len - body_at;
	if (body_len > UINT32_MAX) {
		kp_writer_fail(w, KP_WIRE_LIMIT);
		return;
	}
	n = uvar_size(body_len);
	if (kp_write_reserve(w, n) == NULL)
		return;
	memmove(w->buf + body_at + n, w->buf + body_at, body_len);
	store_uvar(w->buf + body_at, body_len);
}
