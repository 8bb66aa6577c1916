/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: read a whole file (golden data) into memory. */
#ifndef TESTS_UNIT_COMMON_TFILE_H
#define TESTS_UNIT_COMMON_TFILE_H

#include <stddef.h>
#include <stdint.h>

/* The bytes of dir/name in a malloc'ed buffer (the caller frees), their
 * count in *len. Aborts, naming the file, when it cannot be read: missing
 * golden data is a broken checkout, not a test result. */
uint8_t *tfile_read(const char *dir, const char *name, size_t *len);

#endif
