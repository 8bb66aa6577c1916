/* SPDX-License-Identifier: Apache-2.0 */
/* The log directory around the partition logs: moving a partition
 * directory aside under a "-delete" name before deleting it (as Kafka does,
 * so an interrupted delete is recognisable and finished at the next start),
 * and the start-up sweep that removes those and the directories of
 * partitions that metadata does not know. Never touches an open plog.
 * Internal to storage/. @thread storage (or control before workers start) */
#ifndef STORAGE_LOGDIR_INT_H
#define STORAGE_LOGDIR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/sio.h"

/* Kafka's suffix for directories being deleted ("<topic>-<p>.<id>-delete"). */
#define LOGDIR_DELETE_SUFFIX "-delete"

/* Delete the files of directory path (not recursing), then the directory.
 * 0 or -errno (-ENOTDIR: not a directory, nothing done). */
int logdir_remove(struct sio *sio, const char *path);
/* Rename path to "<path>.<32 hex>-delete", then remove it. If the rename
 * fails, remove it in place. 0 or -errno. */
int logdir_trash(struct sio *sio, const char *path);

/* Is name "<topic>-<partition>" with a legal Kafka topic name and a
 * decimal partition? Fills topic (NUL-terminated, topic_size bytes) and
 * *partition. */
bool logdir_partition_name(const char *name, char *topic, size_t topic_size,
			   int32_t *partition);

typedef bool logdir_known_fn(void *arg, const char *topic, int32_t partition);

struct logdir_clean_stats {
	uint32_t trashed;       /* partition directories of unknown partitions */
	uint32_t finished;      /* "-delete" directories left by an earlier run */
	uint32_t failed;        /* could not be removed (logged) */
};

/* Start-up sweep of log_dir: finish every "-delete" directory, and move
 * aside then delete every partition directory that known() does not claim.
 * Each removal is logged. 0 or -errno (the log dir could not be listed). */
int logdir_clean(struct sio *sio, const char *log_dir, logdir_known_fn *known, void *arg,
		 struct logdir_clean_stats *stats);

#endif
