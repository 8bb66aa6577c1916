/* SPDX-License-Identifier: Apache-2.0 */
/* The log start offset of a partition above its first segment's base:
 * DeleteRecords moves it, a small file in the partition's directory keeps
 * it across restarts (Kafka keeps one log-start-offset-checkpoint per log
 * dir, written every minute; ours is per partition and written before the
 * answer, so an acknowledged deletion is never undone by a crash), and the
 * segments wholly below it are deleted by the owning worker. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "storage/plog_int.h"

/* "<version>\n<offset>\n": version 0. */
#define PLOG_START_TEXT_MAX 48

int
plog_start_trim(struct plog *plog)
{
	uint32_t drop = 0, i;

	/* Kafka's deleteLogStartOffsetBreachedSegments: a segment goes when
	 * the next one starts at or below the start offset. */
	while (drop + 1 < plog->seg_count &&
	       plog->segs[drop + 1]->base_offset <= plog->log_start_offset)
		drop++;
	if (drop == 0)
		return 0;
	for (i = 0; i < drop; i++)
		segment_delete(plog->sio, plog->segs[i]);
	memmove(plog->segs, plog->segs + drop, sizeof(*plog->segs) * (plog->seg_count - drop));
	plog->seg_count -= drop;
	plog_dir_snapshots_delete_below(plog, plog->segs[0]->base_offset);
	return (int)drop;
}

int
plog_start_write(struct plog *plog, int64_t offset)
{
	char path[SEGMENT_PATH_MAX], text[PLOG_START_TEXT_MAX];
	int len, fd, rc;

	snprintf(path, sizeof(path), "%s/%s", plog->dir, PLOG_START_FILE);
	len = snprintf(text, sizeof(text), "0\n%" PRId64 "\n", offset);
	rc = plog_dir_replace(plog, path, text, (size_t)len, true);
	if (rc < 0)
		return rc;
	/* The rename is durable once the directory is: best effort (a
	 * directory that cannot be synced leaves the old start, which only
	 * shows records a later DeleteRecords can remove again). */
	fd = plog_open_file(plog, plog->dir, O_RDONLY | O_DIRECTORY, 0);
	if (fd >= 0) {
		(void)sio_fsync(plog->sio, fd);
		sio_close(plog->sio, fd);
	}
	return 0;
}

int16_t
plog_delete_records(struct plog *plog, int64_t offset, int64_t *low_watermark)
{
	*low_watermark = -1;
	if (!plog->cfg.delete_policy)
		return KP_ERR_POLICY_VIOLATION;
	if (offset == -1)
		offset = plog_hw_visible(plog);
	if (offset < 0 || offset > plog_hw_visible(plog))
		return KP_ERR_OFFSET_OUT_OF_RANGE;
	if (offset > plog->log_start_offset) {
		if (plog_start_write(plog, offset) < 0)
			return KP_ERR_KAFKA_STORAGE_ERROR;
		plog->log_start_offset = offset;
		(void)plog_start_trim(plog);
	}
	*low_watermark = plog->log_start_offset;
	return KP_ERR_NONE;
}

/* The offset the file keeps, or -1 when there is none (or it is torn:
 * it is replaced atomically, so a torn one was never acknowledged). */
static int64_t
plog_start_read(struct plog *plog, int *err)
{
	char path[SEGMENT_PATH_MAX], text[PLOG_START_TEXT_MAX], *end;
	long long v;
	ssize_t n;
	int fd;

	*err = 0;
	snprintf(path, sizeof(path), "%s/%s", plog->dir, PLOG_START_FILE);
	fd = plog_open_file(plog, path, O_RDONLY, 0);
	if (fd < 0) {
		*err = fd == -ENOENT ? 0 : fd;
		return -1;
	}
	n = sio_pread(plog->sio, fd, text, sizeof(text) - 1, 0);
	sio_close(plog->sio, fd);
	if (n < 4 || text[0] != '0' || text[1] != '\n')
		return -1;
	text[n] = '\0';
	v = strtoll(text + 2, &end, 10);
	if (end == text + 2 || *end != '\n' || v < 0)
		return -1;
	return v;
}

int
plog_start_load(struct plog *plog)
{
	int err;
	int64_t kept = plog_start_read(plog, &err);

	if (err < 0)
		return err;
	/* A power loss can take unsynced records back below a start that
	 * was moved over them: everything left is then deleted, the start
	 * stops at the log end. */
	if (kept > plog->next_offset)
		kept = plog->next_offset;
	if (kept > plog->log_start_offset) {
		plog->log_start_offset = kept;
		(void)plog_start_trim(plog);
	}
	return 0;
}
