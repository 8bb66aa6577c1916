/* SPDX-License-Identifier: Apache-2.0 */
/* The leader-epoch cache of a partition log, as Kafka's
 * LeaderEpochFileCache and its leader-epoch-checkpoint file ("0" version
 * line, entry count, "epoch start_offset" lines): loaded at open, fixed
 * against the log end after recovery, raised when this broker becomes
 * leader at a new epoch or a replicated batch carries a newer one, trimmed
 * by truncation, persisted atomically (synced temporary file, rename). A
 * partition that never had a role keeps the single entry (0, 0). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "storage/plog_int.h"

#define PLOG_EPOCHS_MAX 65536           /* entries a checkpoint may hold */
#define PLOG_EPOCH_FILE_MAX (1 << 20)   /* bytes read from it */

static const char plog_epochs_default[] = "0\n1\n0 0\n";

static int
plog_epochs_push(struct plog_epochs *ec, int32_t epoch, int64_t start)
{
	struct plog_epoch_entry *grown;

	if (ec->count == ec->cap) {
		uint32_t cap = ec->cap ? ec->cap * 2 : 4;

		grown = realloc(ec->e, sizeof(*grown) * cap);
		if (grown == NULL)
			return -ENOMEM;
		ec->e = grown;
		ec->cap = cap;
	}
	ec->e[ec->count].epoch = epoch;
	ec->e[ec->count].start_offset = start;
	ec->count++;
	return 0;
}

/* Parse a checkpoint into ec (emptied first). 0 or -EINVAL. */
static int
plog_epochs_parse(struct plog_epochs *ec, const char *text)
{
	const char *p = text;
	long long version, count, epoch, start, prev_epoch = -1, prev_start = -1;
	int n;

	ec->count = 0;
	if (sscanf(p, "%lld\n%lld\n%n", &version, &count, &n) != 2 || version != 0 ||
	    count < 0 || count > PLOG_EPOCHS_MAX)
		return -EINVAL;
	p += n;
	for (long long i = 0; i < count; i++) {
		if (sscanf(p, "%lld %lld%n", &epoch, &start, &n) != 2 || p[n] != '\n' ||
		    epoch < 0 || epoch > INT32_MAX || start < 0 || epoch <= prev_epoch ||
		    start < prev_start)
			return -EINVAL;
		if (plog_epochs_push(ec, (int32_t)epoch, start) < 0)
			return -ENOMEM;
		prev_epoch = epoch;
		prev_start = start;
		p += n + 1;
	}
	return *p == '\0' ? 0 : -EINVAL;
}

static char *
plog_epochs_format(const struct plog_epochs *ec, size_t *len)
{
	size_t cap = 32 + (size_t)ec->count * 32, off;
	char *buf = malloc(cap);

	if (buf == NULL)
		return NULL;
	off = (size_t)snprintf(buf, cap, "0\n%u\n", ec->count);
	for (uint32_t i = 0; i < ec->count; i++)
		off += (size_t)snprintf(buf + off, cap - off, "%d %lld\n", ec->e[i].epoch,
					(long long)ec->e[i].start_offset);
	*len = off;
	return buf;
}

int
plog_epochs_persist(struct plog *plog)
{
	char path[SEGMENT_PATH_MAX];
	size_t len;
	char *buf = plog_epochs_format(&plog->epochs, &len);
	int rc;

	if (buf == NULL)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%s", plog->dir, PLOG_EPOCH_FILE);
	rc = plog_dir_replace(plog, path, buf, len, true);
	free(buf);
	return rc;
}

/* The file's text, NUL-terminated, in a malloc'd buffer; NULL with -errno. */
static char *
plog_epochs_read(struct plog *plog, int *err)
{
	char path[SEGMENT_PATH_MAX];
	int64_t size;
	char *buf = NULL;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", plog->dir, PLOG_EPOCH_FILE);
	fd = plog_open_file(plog, path, O_RDONLY, 0);
	if (fd < 0) {
		*err = fd;
		return NULL;
	}
	size = sio_size(plog->sio, fd);
	*err = size < 0 ? (int)size : size > PLOG_EPOCH_FILE_MAX ? -EFBIG : 0;
	if (*err == 0 && (buf = malloc((size_t)size + 1)) == NULL)
		*err = -ENOMEM;
	if (*err == 0 && sio_pread(plog->sio, fd, buf, (size_t)size, 0) != size)
		*err = -EIO;
	sio_close(plog->sio, fd);
	if (*err != 0) {
		free(buf);
		return NULL;
	}
	buf[size] = '\0';
	return buf;
}

int
plog_epochs_load(struct plog *plog, bool fresh)
{
	char path[SEGMENT_PATH_MAX];
	char *text = NULL;
	int rc = 0;

	plog->epochs.count = 0;
	if (!fresh)
		text = plog_epochs_read(plog, &rc);
	if (text != NULL && plog_epochs_parse(&plog->epochs, text) == 0) {
		free(text);
		return 0;
	}
	free(text);
	if (rc != 0 && rc != -ENOENT && rc != -EFBIG)
		return rc;
	/* Missing, torn or corrupt (it is checked at every open): a single
	 * broker's (0, 0), unsynced as it always was. */
	plog->epochs.count = 0;
	rc = plog_epochs_push(&plog->epochs, 0, 0);
	if (rc < 0)
		return rc;
	snprintf(path, sizeof(path), "%s/%s", plog->dir, PLOG_EPOCH_FILE);
	if (fresh) {
		int fd = plog_open_file(plog, path, O_RDWR | O_CREAT | O_EXCL, 0644);
		ssize_t n;

		if (fd < 0)
			return fd;
		n = sio_pwrite(plog->sio, fd, plog_epochs_default, sizeof(plog_epochs_default) - 1,
			       0);
		sio_close(plog->sio, fd);
		return n == (ssize_t)sizeof(plog_epochs_default) - 1 ? 0 : n < 0 ? (int)n : -EIO;
	}
	return plog_dir_replace(plog, path, plog_epochs_default, sizeof(plog_epochs_default) - 1,
				false);
}

void
plog_epochs_fix(struct plog *plog)
{
	struct plog_epochs *ec = &plog->epochs;
	uint32_t n = ec->count;

	/* A truncation or a torn tail left the log shorter than the cache
	 * knew: entries starting past the end are gone (Kafka's
	 * truncateFromEnd at load; an epoch begun at the end stays). */
	while (ec->count > 0 && ec->e[ec->count - 1].start_offset > plog->next_offset)
		ec->count--;
	if (ec->count != n)
		(void)plog_epochs_persist(plog);
}

int32_t
plog_epochs_latest(const struct plog *plog)
{
	const struct plog_epochs *ec = &plog->epochs;

	return ec->count > 0 ? ec->e[ec->count - 1].epoch : -1;
}

int32_t
plog_epochs_for_offset(const struct plog *plog, int64_t offset)
{
	const struct plog_epochs *ec = &plog->epochs;
	int32_t epoch = -1;

	if (offset < 0)
		return -1;
	for (uint32_t i = 0; i < ec->count && ec->e[i].start_offset <= offset; i++)
		epoch = ec->e[i].epoch;
	return epoch;
}

int
plog_epochs_assign(struct plog *plog, int32_t epoch, int64_t start_offset)
{
	struct plog_epochs *ec = &plog->epochs;
	uint32_t n = ec->count;
	int rc;

	if (n > 0 && ec->e[n - 1].epoch == epoch)
		return 0;
	if (n > 0 && ec->e[n - 1].epoch > epoch && ec->e[n - 1].start_offset <= start_offset)
		return 0;       /* an older epoch than the cache's: ignored */
	while (ec->count > 0 && (ec->e[ec->count - 1].epoch >= epoch ||
				 ec->e[ec->count - 1].start_offset >= start_offset))
		ec->count--;
	rc = plog_epochs_push(ec, epoch, start_offset);
	if (rc == 0)
		rc = plog_epochs_persist(plog);
	return rc;
}

int
plog_epochs_truncate(struct plog *plog, int64_t end)
{
	struct plog_epochs *ec = &plog->epochs;
	uint32_t n = ec->count;

	while (ec->count > 0 && ec->e[ec->count - 1].start_offset >= end)
		ec->count--;
	return ec->count != n ? plog_epochs_persist(plog) : 0;
}

void
plog_read_epoch_end(const struct plog *plog, int32_t epoch, int32_t *epoch_out,
		    int64_t *end_offset)
{
	const struct plog_epochs *ec = &plog->epochs;
	int32_t latest = plog_epochs_latest(plog);
	uint32_t i;

	if (epoch == -1 || (ec->count > 0 && epoch == latest)) {
		*epoch_out = latest;
		*end_offset = plog->next_offset;
		return;
	}
	/* The first entry with a larger epoch ends the asked one. */
	for (i = 0; i < ec->count && ec->e[i].epoch <= epoch; i++)
		;
	if (i == ec->count) {
		*epoch_out = -1;        /* newer than any known: UNDEFINED */
		*end_offset = -1;
		return;
	}
	/* Older than the first: Kafka answers the asked epoch with the first
	 * entry's start; else the largest epoch <= it. */
	*epoch_out = i == 0 ? epoch : ec->e[i - 1].epoch;
	*end_offset = ec->e[i].start_offset;
}
