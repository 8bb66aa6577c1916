/* SPDX-License-Identifier: Apache-2.0 */
/* The Prometheus text exposition (format 0.0.4) into a growing buffer:
 * families, samples and histograms. @thread control */
#ifndef CONTROL_MX_H
#define CONTROL_MX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hist.h"

/* A growing output buffer; after an allocation failure it stays failed
 * (oom) and drops further output. */
struct mx_buf {
	char *data;
	size_t len;
	size_t cap;
	bool oom;
};

void mx_buf_free(struct mx_buf *b);
/* Append len raw bytes. */
void mx_write(struct mx_buf *b, const void *data, size_t len);
void mx_printf(struct mx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A label value escaped as the format asks: backslash, double quote and
 * newline become \\, \" and \n. */
void mx_escape(struct mx_buf *b, const char *value, size_t len);
/* The HELP and TYPE lines that open a family; help must need no escaping. */
void mx_family(struct mx_buf *b, const char *name, const char *type, const char *help);
/* One sample. labels: name/value pairs ending with a NULL name, or NULL for
 * none; values are escaped. */
void mx_sample(struct mx_buf *b, const char *name, const char *const *labels, double value);
/* A histogram's samples (_bucket with cumulative counts and le in seconds,
 * _sum in seconds, _count) under the given labels. */
void mx_histogram(struct mx_buf *b, const char *name, const char *const *labels,
		  const struct hist *h);

#endif
