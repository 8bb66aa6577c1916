/* SPDX-License-Identifier: Apache-2.0 */
/* A worker's side of several log dirs: where a partition it opens lives
 * (scanned at start, placed when new), its partitions that an offline dir
 * holds, and taking a dir offline on an I/O error. @thread storage */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "storage/st_int.h"

static int
st_worker_offline_add(struct st_worker *w, const uint8_t topic_id[16], int32_t partition)
{
	struct st_offline_part *grown;

	if (st_worker_offline_has(w, topic_id, partition))
		return 0;
	if (w->offline_count == w->offline_cap) {
		uint32_t cap = w->offline_cap != 0 ? w->offline_cap * 2 : 16;

		grown = realloc(w->offline, sizeof(*grown) * cap);
		if (grown == NULL)
			return -ENOMEM;
		w->offline = grown;
		w->offline_cap = cap;
	}
	memcpy(w->offline[w->offline_count].topic_id, topic_id, 16);
	w->offline[w->offline_count++].partition = partition;
	return 0;
}

bool
st_worker_offline_has(const struct st_worker *w, const uint8_t topic_id[16], int32_t partition)
{
	for (uint32_t i = 0; i < w->offline_count; i++)
		if (w->offline[i].partition == partition &&
		    memcmp(w->offline[i].topic_id, topic_id, 16) == 0)
			return true;
	return false;
}

void
st_worker_offline_drop(struct st_worker *w, const uint8_t topic_id[16], int32_t partition)
{
	for (uint32_t i = 0; i < w->offline_count; i++)
		if (w->offline[i].partition == partition &&
		    memcmp(w->offline[i].topic_id, topic_id, 16) == 0) {
			w->offline[i] = w->offline[--w->offline_count];
			return;
		}
}

int
st_worker_dir_of(struct st_worker *w, const struct st_admin *call, int32_t p)
{
	struct st_dirs *d = &w->st->dirs;
	int i, dup[2];

	if (call->create || d->count == 1) {
		i = st_dirs_place(d);
		return i >= 0 ? i : -EIO;
	}
	i = st_dirs_find(d, call->name, p, dup);
	if (i == -EEXIST) {
		/* Kafka refuses to start: which copy is right is unknowable. */
		log_error("storage", "duplicate log directories for %s-%d are found in both %s "
			  "and %s", call->name, (int)p, d->paths[dup[0]], d->paths[dup[1]]);
		return -EEXIST;
	}
	if (i >= 0) {
		st_dirs_count(d, i);
		return i;
	}
	if (i != -ENOENT)
		return i;
	/* In no live dir: an offline dir most likely holds it. Opening it
	 * empty elsewhere would lose its data for good, so it stays offline
	 * (KRaft Kafka knows each partition's dir from its metadata). */
	if (st_dirs_any_offline(d)) {
		int rc = st_worker_offline_add(w, call->topic_id, p);

		return rc < 0 ? rc : -1;
	}
	i = st_dirs_place(d);
	return i >= 0 ? i : -EIO;
}

static bool
st_worker_io_error(int rc)
{
	return rc == -EIO || rc == -EACCES || rc == -EPERM || rc == -EROFS || rc == -ENOSPC ||
	       rc == -ENOTDIR || rc == -EDQUOT || rc == -EUCLEAN;
}

bool
st_worker_dir_open_failed(struct st_worker *w, const struct st_admin *call, int32_t p, int i,
			  int rc)
{
	struct st_dirs *d = &w->st->dirs;

	st_dirs_unplace(d, i);
	if (d->count == 1 || call->create || !st_worker_io_error(rc))
		return false;
	st_dirs_fail(d, i, rc);
	return st_worker_offline_add(w, call->topic_id, p) == 0;
}

void
st_worker_io_failed(struct st_worker *w, const struct plog *plog)
{
	/* One dir: the broker stays up as before and a later request may
	 * succeed (Kafka would halt the broker instead). */
	if (w->st->dirs.count > 1)
		st_dirs_fail(&w->st->dirs, plog->dir_index, -EIO);
}
