/* SPDX-License-Identifier: Apache-2.0 */
/* Producer-id blocks made durable before use (control/pid_alloc.h). The file
 * holds one decimal number and a newline: the end (exclusive) of the last
 * reserved block. A crash loses at most the unused rest of a block, never
 * repeats an id. */
#include "control/pid_alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/assert.h"
#include "common/atomic_file.h"

#define PID_ALLOC_FILE_BYTES_MAX 32     /* 19 digits and a newline, with room */

static int
pid_alloc_parse(const char *text, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\n' || end[1] != '\0' || v < 0)
		return -EINVAL;
	*out = (int64_t)v;
	return 0;
}

static int
pid_alloc_read(const char *path, int64_t *block_end)
{
	char buf[PID_ALLOC_FILE_BYTES_MAX + 1];
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		if (errno != ENOENT)
			return -errno;
		*block_end = 0;
		return 0;
	}
	got = read(fd, buf, PID_ALLOC_FILE_BYTES_MAX);
	close(fd);
	if (got < 0)
		return -errno;
	buf[got] = '\0';
	return pid_alloc_parse(buf, block_end);
}

int
pid_alloc_open(struct pid_alloc *pa, const char *log_dir, char *err, size_t n)
{
	int rc;

	memset(pa, 0, sizeof(*pa));
	if ((size_t)snprintf(pa->dir, sizeof(pa->dir), "%s", log_dir) >= sizeof(pa->dir) ||
	    (size_t)snprintf(pa->path, sizeof(pa->path), "%s/%s", log_dir, PID_ALLOC_FILE) >=
		    sizeof(pa->path)) {
		snprintf(err, n, "pid_alloc: log dir path too long: %s", log_dir);
		return -ENAMETOOLONG;
	}
	rc = pid_alloc_read(pa->path, &pa->block_end);
	if (rc != 0) {
		snprintf(err, n, "pid_alloc: cannot read %s: %s", pa->path, strerror(-rc));
		return rc;
	}
	/* Ids below the persisted end may have been handed out before a crash. */
	pa->next = pa->block_end;
	return 0;
}

/* Write block_end durably: temp file, fdatasync, rename over, fsync dir. */
static int
pid_alloc_persist(const struct pid_alloc *pa, int64_t block_end)
{
	char text[PID_ALLOC_FILE_BYTES_MAX];
	int len;

	len = snprintf(text, sizeof(text), "%" PRId64 "\n", block_end);
	ASSERT(len > 0 && len < (int)sizeof(text));
	return atomic_file_write(pa->dir, PID_ALLOC_FILE, text, (size_t)len);
}

int
pid_alloc_next(struct pid_alloc *pa, int64_t *pid_out)
{
	ASSERT(pa->next <= pa->block_end);
	if (pa->next == pa->block_end) {
		int rc;

		if (pa->block_end > INT64_MAX - PID_ALLOC_BLOCK)
			return -EOVERFLOW;
		errno = 0;
		rc = pid_alloc_persist(pa, pa->block_end + PID_ALLOC_BLOCK);
		if (rc != 0)
			return rc;
		pa->block_end += PID_ALLOC_BLOCK;
	}
	*pid_out = pa->next++;
	ASSERT(*pid_out >= 0);
	return 0;
}

void
pid_alloc_close(struct pid_alloc *pa)
{
	/* Nothing is held open; the unused rest of the block is given up. */
	memset(pa, 0, sizeof(*pa));
}
