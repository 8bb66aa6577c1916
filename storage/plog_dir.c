/* SPDX-License-Identifier: Apache-2.0 */
/* The partition directory's files other than segments: making the
 * directory (moving a stale one aside), listing files by base offset, the
 * two small metadata text files Kafka keeps, and producer-state snapshots
 * written at each roll and deleted with the segments they follow. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/uuid.h"
#include "storage/logdir_int.h"
#include "storage/plog_int.h"
#include "storage/pstate.h"

struct plog_dir_list {
	int64_t *offsets;
	uint32_t count;
	uint32_t cap;
	const char *ext;
	bool cleaner_files;             /* a .cleaned or .swap name was seen */
};

static int
plog_dir_list_name(void *arg, const char *name)
{
	struct plog_dir_list *sc = arg;
	size_t ext_len = strlen(sc->ext);
	int64_t *grown;
	char *end;
	long long v;

	if (strstr(name, ".cleaned") != NULL || strstr(name, ".swap") != NULL)
		sc->cleaner_files = true;
	if (strlen(name) != SEGMENT_NAME_DIGITS + ext_len ||
	    strcmp(name + SEGMENT_NAME_DIGITS, sc->ext) != 0)
		return 0;
	v = strtoll(name, &end, 10);
	if (end != name + SEGMENT_NAME_DIGITS || v < 0)
		return 0;
	if (sc->count == sc->cap) {
		sc->cap = sc->cap ? sc->cap * 2 : 16;
		grown = realloc(sc->offsets, sizeof(*grown) * sc->cap);
		if (grown == NULL)
			return -ENOMEM;
		sc->offsets = grown;
	}
	sc->offsets[sc->count++] = v;
	return 0;
}

static int
plog_dir_offset_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int
plog_dir_scan(struct plog *plog, const char *ext, int64_t **offsets, uint32_t *count)
{
	struct plog_dir_list sc = { .ext = ext };
	int rc;

	rc = sio_list(plog->sio, plog->dir, plog_dir_list_name, &sc);
	if ((rc == -EMFILE || rc == -ENFILE) && sc.count == 0 && fcache_shrink(plog->fc) > 0)
		rc = sio_list(plog->sio, plog->dir, plog_dir_list_name, &sc);
	if (rc == 0 && sc.count > 1)
		qsort(sc.offsets, sc.count, sizeof(int64_t), plog_dir_offset_cmp);
	*offsets = sc.offsets;
	*count = sc.count;
	plog->cleaner_files = sc.cleaner_files;
	return rc;
}

void
plog_dir_snapshots_delete_below(struct plog *plog, int64_t offset)
{
	char path[SEGMENT_PATH_MAX];
	int64_t *offsets;
	uint32_t count, i;

	if (plog_dir_scan(plog, ".snapshot", &offsets, &count) == 0)
		for (i = 0; i < count; i++)
			if (offsets[i] < offset) {
				segment_path(plog->dir, offsets[i], ".snapshot", path,
					     sizeof(path));
				(void)sio_unlink(plog->sio, path);
			}
	free(offsets);
}

int
plog_dir_replace(struct plog *plog, const char *path, const void *buf, size_t len, bool sync)
{
	char tmp[SEGMENT_PATH_MAX + 8];
	ssize_t n;
	int fd, rc;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = plog_open_file(plog, tmp, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fd;
	n = sio_pwrite(plog->sio, fd, buf, len, 0);
	rc = n == (ssize_t)len ? 0 : n < 0 ? (int)n : -EIO;
	if (rc == 0 && sync)
		rc = sio_fsync(plog->sio, fd);
	sio_close(plog->sio, fd);
	if (rc == 0)
		rc = sio_rename(plog->sio, tmp, path);
	if (rc < 0)
		(void)sio_unlink(plog->sio, tmp);
	return rc;
}

/* Write the producer state as of offset (the new active segment's base)
 * to <offset>.snapshot, through a synced temporary file and a rename. */
int
plog_dir_snapshot_write(struct plog *plog, int64_t offset)
{
	char path[SEGMENT_PATH_MAX];
	size_t size = pstate_snapshot_size(plog->ps);
	uint8_t *buf = malloc(size > 0 ? size : 1);
	int rc;

	if (buf == NULL)
		return -ENOMEM;
	pstate_snapshot_write(plog->ps, buf);
	segment_path(plog->dir, offset, ".snapshot", path, sizeof(path));
	rc = plog_dir_replace(plog, path, buf, size, true);
	free(buf);
	return rc;
}

/* Make a small text file hold exactly text, replacing it atomically when
 * it does not. Not synced: it is checked at every open, so a power loss
 * that leaves it empty or torn is repaired then, and creating a partition
 * costs no fsync (two per partition made a 10,000-partition CreateTopics
 * take minutes). */
static int
plog_dir_write_text(struct plog *plog, const char *name, const char *text, bool fresh)
{
	char path[SEGMENT_PATH_MAX], buf[128];
	size_t len = strlen(text);
	ssize_t n;
	int fd;

	ASSERT(len < sizeof(buf));
	snprintf(path, sizeof(path), "%s/%s", plog->dir, name);
	if (fresh) {
		/* A directory just made: no file to check or replace. */
		fd = plog_open_file(plog, path, O_RDWR | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			return fd;
		n = sio_pwrite(plog->sio, fd, text, len, 0);
		sio_close(plog->sio, fd);
		return n == (ssize_t)len ? 0 : n < 0 ? (int)n : -EIO;
	}
	fd = plog_open_file(plog, path, O_RDONLY, 0);
	if (fd >= 0) {
		n = sio_pread(plog->sio, fd, buf, sizeof(buf), 0);
		sio_close(plog->sio, fd);
		if (n == (ssize_t)len && memcmp(buf, text, len) == 0)
			return 0;
	} else if (fd != -ENOENT) {
		return fd;
	}
	return plog_dir_replace(plog, path, text, len, false);
}

int
plog_dir_meta_files(struct plog *plog, bool fresh)
{
	char text[64], id[UUID_TEXT_BYTES];
	int rc;

	uuid_to_text(plog->topic_id, id);
	snprintf(text, sizeof(text), "version: 0\ntopic_id: %s\n", id);
	rc = plog_dir_write_text(plog, "partition.metadata", text, fresh);
	if (rc == 0)
		rc = plog_epochs_load(plog, fresh);
	return rc;
}

/* The partition's directory. A new partition must not inherit files: a
 * directory already there is an earlier incarnation's (a delete that did
 * not finish, a create that failed before this fix) and goes aside. */
int
plog_dir_make(struct plog *plog, bool create, bool *fresh)
{
	int rc = sio_mkdir(plog->sio, plog->dir, 0755);

	if (rc == -EEXIST && create) {
		rc = logdir_trash(plog->sio, plog->reaper, plog->dir);
		if (rc == 0)
			rc = sio_mkdir(plog->sio, plog->dir, 0755);
	}
	*fresh = rc == 0;
	return rc == -EEXIST ? 0 : rc;
}
