/* SPDX-License-Identifier: Apache-2.0 */
/* Replacing a closed segment by its cleaned copy, crash-atomically, after
 * Kafka's .cleaned/.swap protocol (LocalLog.replaceSegments): the cleaner
 * writes and syncs X.log.cleaned, X.index.cleaned and X.timeindex.cleaned;
 * the owning worker renames X.log.cleaned to X.log.swap (the commit point),
 * the indexes into place, then X.log.swap over X.log, and swaps the segment
 * struct. Recovery at open finishes a committed swap and deletes any other
 * .cleaned file, so a crash anywhere leaves the old files or the new. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/log.h"
#include "storage/cleaner_int.h"
#include "storage/plog_int.h"

static void
cleaner_swap_path(const char *dir, int64_t base, const char *ext, char *buf, size_t size)
{
	segment_path(dir, base, ext, buf, size);
}

/* Rename from -> to when from exists. 0, or -errno other than ENOENT. */
static int
cleaner_swap_rename(struct sio *sio, const char *dir, int64_t base, const char *from_ext,
		    const char *to_ext)
{
	char from[SEGMENT_PATH_MAX], to[SEGMENT_PATH_MAX];
	int rc;

	cleaner_swap_path(dir, base, from_ext, from, sizeof(from));
	cleaner_swap_path(dir, base, to_ext, to, sizeof(to));
	rc = sio_rename(sio, from, to);
	return rc == -ENOENT ? 0 : rc;
}

/* Steps after the commit, from..last (each skips files already moved). */
static int
cleaner_swap_after_commit(struct sio *sio, const char *dir, int64_t base, int last)
{
	int rc = 0;

	if (last >= CLEANER_SWAP_INDEXES) {
		rc = cleaner_swap_rename(sio, dir, base, ".index.cleaned", ".index");
		if (rc == 0)
			rc = cleaner_swap_rename(sio, dir, base, ".timeindex.cleaned",
						 ".timeindex");
	}
	if (rc == 0 && last >= CLEANER_SWAP_LOG)
		rc = cleaner_swap_rename(sio, dir, base, ".log.swap", ".log");
	return rc;
}

int
cleaner_swap_files(struct sio *sio, const char *dir, int64_t base, int last)
{
	char from[SEGMENT_PATH_MAX], to[SEGMENT_PATH_MAX];
	int rc = 0;

	if (last >= CLEANER_SWAP_COMMIT) {
		/* The commit: must happen (a missing .cleaned is an error). */
		cleaner_swap_path(dir, base, ".log.cleaned", from, sizeof(from));
		cleaner_swap_path(dir, base, ".log.swap", to, sizeof(to));
		rc = sio_rename(sio, from, to);
	}
	if (rc == 0)
		rc = cleaner_swap_after_commit(sio, dir, base, last);
	return rc;
}

void
cleaner_swap_discard(struct sio *sio, const char *dir, int64_t base)
{
	static const char *const exts[] = { ".log.cleaned", ".index.cleaned",
					    ".timeindex.cleaned" };
	char path[SEGMENT_PATH_MAX];

	for (unsigned i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		cleaner_swap_path(dir, base, exts[i], path, sizeof(path));
		(void)sio_unlink(sio, path);
	}
}

/* Files of the directory by suffix after the 20-digit base offset. */
struct cleaner_scan {
	int64_t swaps[64];              /* bases with a .log.swap (per pass) */
	uint32_t swap_count;
	bool more;                      /* swaps did not fit: another pass */
	int64_t cleaned[64];            /* bases with some .cleaned file */
	uint32_t cleaned_count;
};

static int
cleaner_scan_name(void *arg, const char *name)
{
	struct cleaner_scan *sc = arg;
	size_t len = strlen(name);
	const char *sfx = name + SEGMENT_NAME_DIGITS;
	char *end;
	long long v;

	if (len <= SEGMENT_NAME_DIGITS)
		return 0;
	v = strtoll(name, &end, 10);
	if (end != sfx || v < 0)
		return 0;
	if (strcmp(sfx, ".log.swap") == 0) {
		if (sc->swap_count < 64)
			sc->swaps[sc->swap_count++] = v;
		else
			sc->more = true;
	} else if (strcmp(sfx, ".log.cleaned") == 0 || strcmp(sfx, ".index.cleaned") == 0 ||
		   strcmp(sfx, ".timeindex.cleaned") == 0) {
		if (sc->cleaned_count < 64)
			sc->cleaned[sc->cleaned_count++] = v;
		else
			sc->more = true;
	}
	return 0;
}

int
cleaner_recover(struct sio *sio, const char *dir)
{
	struct cleaner_scan sc;
	uint32_t i;
	int rc;

	do {
		memset(&sc, 0, sizeof(sc));
		rc = sio_list(sio, dir, cleaner_scan_name, &sc);
		if (rc < 0)
			return rc == -ENOENT ? 0 : rc;
		/* Committed: complete the swap with the .cleaned indexes that
		 * belong to it (roll forward). */
		for (i = 0; i < sc.swap_count; i++) {
			int64_t base = sc.swaps[i];

			log_info("storage", "%s: completing the swap of cleaned segment %lld",
				 dir, (long long)base);
			rc = cleaner_swap_after_commit(sio, dir, base, CLEANER_SWAP_LOG);
			if (rc < 0)
				return rc;
		}
		/* Not committed: roll back. */
		for (i = 0; i < sc.cleaned_count; i++)
			cleaner_swap_discard(sio, dir, sc.cleaned[i]);
	} while (sc.more);
	return 0;
}

static int32_t
cleaner_swap_find(const struct plog *plog, int64_t base)
{
	for (uint32_t i = 0; i + 1 < plog->seg_count; i++)
		if (plog->segs[i]->base_offset == base)
			return (int32_t)i;
	return -1;
}

int
cleaner_swap_plog(struct plog *plog, int64_t base, int64_t max_timestamp, int64_t now_ms)
{
	struct segment *old, *seg;
	bool created;
	int32_t i = cleaner_swap_find(plog, base);
	int rc;

	if (i < 0) {
		/* Retention took it, or it never was closed: the copy is stale. */
		cleaner_swap_discard(plog->sio, plog->dir, base);
		return -ENOENT;
	}
	old = plog->segs[i];
	rc = cleaner_swap_files(plog->sio, plog->dir, base, CLEANER_SWAP_COMMIT);
	if (rc < 0) {
		cleaner_swap_discard(plog->sio, plog->dir, base);
		return rc;
	}
	rc = cleaner_swap_after_commit(plog->sio, plog->dir, base, CLEANER_SWAP_LOG);
	if (rc == 0) {
		/* The old struct keeps the old inodes (fd, maps) for READs in
		 * flight; deleted, it never reopens a path that is now the
		 * new file's. */
		seg = segment_open(plog->sio, plog->fc, plog->dir, base,
				   plog->cfg.segment_index_bytes, false, now_ms, &rc, &created);
	} else {
		seg = NULL;
	}
	if (seg == NULL) {
		/* Committed on disk; the next open completes it. Until then the
		 * old struct must not reopen the new files. */
		log_error("storage", "%s: swapping cleaned segment %lld: %s", plog->dir,
			  (long long)base, strerror(-rc));
		return rc;
	}
	seg->owner = plog;
	seg->next_offset = old->next_offset;
	if (max_timestamp > seg->max_timestamp) {
		seg->max_timestamp = max_timestamp;
		seg->max_timestamp_offset = seg->next_offset - 1;
	}
	segment_unpin(seg);
	if (created)
		(void)recovery_reindex(plog, seg);
	plog->segs[i] = seg;
	segment_drop(old);
	return 0;
}
