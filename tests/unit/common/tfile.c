/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: read a whole file (see tfile.h). */
#include "tests/unit/common/tfile.h"

#include <stdio.h>
#include <stdlib.h>

uint8_t *
tfile_read(const char *dir, const char *name, size_t *len)
{
	char path[512];
	uint8_t *buf = NULL;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (f != NULL && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0) {
		rewind(f);
		buf = malloc(n > 0 ? (size_t)n : 1);
		if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	if (f != NULL)
		fclose(f);
	if (buf == NULL) {
		fprintf(stderr, "cannot read %s\n", path);
		abort();
	}
	return buf;
}
