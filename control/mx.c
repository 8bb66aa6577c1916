/* SPDX-License-Identifier: Apache-2.0 */
/* The Prometheus text exposition (format 0.0.4): a growing output buffer,
 * HELP/TYPE lines, samples with escaped labels, and histograms. Pure text;
 * no sockets and no statistics here. */
#include "control/mx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"

void
mx_buf_free(struct mx_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static bool
mx_reserve(struct mx_buf *b, size_t more)
{
	size_t cap = b->cap == 0 ? 4096 : b->cap;
	char *data;

	if (b->oom)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	while (cap < b->len + more + 1)
		cap *= 2;
	data = realloc(b->data, cap);
	if (data == NULL) {
		b->oom = true;
		return false;
	}
	b->data = data;
	b->cap = cap;
	return true;
}

void
mx_write(struct mx_buf *b, const void *data, size_t len)
{
	if (len == 0 || !mx_reserve(b, len))
		return;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
mx_printf(struct mx_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	ASSERT(n >= 0);
	if (!mx_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
mx_escape(struct mx_buf *b, const char *value, size_t len)
{
	if (!mx_reserve(b, len * 2))
		return;
	for (size_t i = 0; i < len; i++) {
		char c = value[i];

		if (c == '\\' || c == '"') {
			b->data[b->len++] = '\\';
			b->data[b->len++] = c;
		} else if (c == '\n') {
			b->data[b->len++] = '\\';
			b->data[b->len++] = 'n';
		} else {
			b->data[b->len++] = c;
		}
	}
	b->data[b->len] = '\0';
}

void
mx_family(struct mx_buf *b, const char *name, const char *type, const char *help)
{
	mx_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* {k="v",...} with an optional extra pair (le) at the end. */
static void
mx_labels(struct mx_buf *b, const char *const *labels, const char *extra_k, const char *extra_v)
{
	bool any = false;

	for (int i = 0; labels != NULL && labels[i] != NULL; i += 2) {
		mx_printf(b, "%s%s=\"", any ? "," : "{", labels[i]);
		mx_escape(b, labels[i + 1], strlen(labels[i + 1]));
		mx_printf(b, "\"");
		any = true;
	}
	if (extra_k != NULL) {
		mx_printf(b, "%s%s=\"%s\"", any ? "," : "{", extra_k, extra_v);
		any = true;
	}
	if (any)
		mx_printf(b, "}");
}

/* Integers print exactly (counters up to 2^53), others with 9 digits. */
static void
mx_value(struct mx_buf *b, double v)
{
	if (v >= -9007199254740992.0 && v <= 9007199254740992.0 && v == (double)(int64_t)v)
		mx_printf(b, " %lld\n", (long long)v);
	else
		mx_printf(b, " %.9g\n", v);
}

void
mx_sample(struct mx_buf *b, const char *name, const char *const *labels, double value)
{
	mx_printf(b, "%s", name);
	mx_labels(b, labels, NULL, NULL);
	mx_value(b, value);
}

void
mx_histogram(struct mx_buf *b, const char *name, const char *const *labels,
	     const struct hist *h)
{
	uint64_t cum = 0;
	char le[32];

	for (unsigned i = 0; i <= HIST_BOUNDS; i++) {
		cum += h->count[i];
		if (i < HIST_BOUNDS)
			snprintf(le, sizeof(le), "%g", (double)hist_bounds_ns[i] / 1e9);
		else
			snprintf(le, sizeof(le), "+Inf");
		mx_printf(b, "%s_bucket", name);
		mx_labels(b, labels, "le", le);
		mx_value(b, (double)cum);
	}
	mx_printf(b, "%s_sum", name);
	mx_labels(b, labels, NULL, NULL);
	mx_value(b, (double)h->sum_ns / 1e9);
	mx_printf(b, "%s_count", name);
	mx_labels(b, labels, NULL, NULL);
	mx_value(b, (double)cum);
}
