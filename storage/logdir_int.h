/* SPDX-License-Identifier: Apache-2.0 */
/* The log directory around the partition logs: moving a partition
 * directory aside under a "-delete" name and deleting it later, off the
 * worker, on the reaper thread (as Kafka does, so a delete costs its caller
 * one rename and an interrupted one is recognisable and finished at the
 * next start), and the start-up sweep that removes those and the
 * directories of partitions that metadata does not know. Never touches an
 * open plog. Internal to storage/. @thread storage (or control before
 * workers start), except the reaper's own thread */
#ifndef STORAGE_LOGDIR_INT_H
#define STORAGE_LOGDIR_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/sio.h"

/* Kafka's suffix for directories being deleted ("<topic>-<p>.<id>-delete"). */
#define LOGDIR_DELETE_SUFFIX "-delete"

struct logdir_job;

/* Threads removing directories: file system metadata calls mostly wait
 * (on the journal), so a few in parallel remove several times faster. */
#define LOGDIR_REAPER_THREADS 4

/* Removes directories queued by logdir_trash() on threads of its own, so
 * that deleting 100,000 partitions (a directory of five files takes 1-2 ms
 * to remove on a busy disk) stalls neither a worker nor control. */
struct logdir_reaper {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct logdir_job *head;        /* under lock */
	struct logdir_job *tail;
	uint32_t queued;                /* under lock: waiting, or being removed */
	bool stop;                      /* under lock */
	int thread_count;               /* running threads (owner's view) */
	pthread_t threads[LOGDIR_REAPER_THREADS];
	struct sio *sios[LOGDIR_REAPER_THREADS];        /* one each: sync calls only */
};

/* Set up (not running: logdir_trash() removes inline). 0 or -errno. */
int logdir_reaper_init(struct logdir_reaper *r);
/* Start up to count threads (at most LOGDIR_REAPER_THREADS), thread i
 * using sios[i]. Returns how many run (0: removal stays inline). */
int logdir_reaper_start(struct logdir_reaper *r, struct sio *const *sios, int count);
/* Stop the threads promptly; directories still queued stay on disk under
 * their "-delete" names for the next start-up sweep. */
void logdir_reaper_stop(struct logdir_reaper *r);
void logdir_reaper_fini(struct logdir_reaper *r);
/* Directories queued or being removed now (tests wait for 0). */
uint32_t logdir_reaper_pending(struct logdir_reaper *r);

/* Delete the files of directory path (not recursing), then the directory.
 * 0 or -errno (-ENOTDIR: not a directory, nothing done). */
int logdir_remove(struct sio *sio, const char *path);
/* The number of entries in directory path into *count; 0, or -errno (a
 * file is no directory: -ENOTDIR). */
int logdir_count(struct sio *sio, const char *path, uint32_t *count);
/* Rename path to "<path>.<32 hex>-delete" and have the reaper remove it
 * (inline when reaper is NULL or not running, or the rename failed). 0 or
 * -errno; -ENOENT when there is no such directory. */
int logdir_trash(struct sio *sio, struct logdir_reaper *reaper, const char *path);

/* Is name "<topic>-<partition>" with a legal Kafka topic name and a
 * decimal partition? Fills topic (NUL-terminated, topic_size bytes) and
 * *partition. */
bool logdir_partition_name(const char *name, char *topic, size_t topic_size,
			   int32_t *partition);

typedef bool logdir_known_fn(void *arg, const char *topic, int32_t partition);

struct logdir_clean_stats {
	uint32_t trashed;       /* partition directories of unknown partitions */
	uint32_t finished;      /* "-delete" directories left by an earlier run */
	uint32_t failed;        /* could not be moved or removed (logged) */
};

/* Start-up sweep of log_dir: finish every "-delete" directory, and move
 * aside then delete every partition directory that known() does not claim
 * (through reaper, when running). Each one is logged. 0 or -errno (the log
 * dir could not be listed). */
int logdir_clean(struct sio *sio, struct logdir_reaper *reaper, const char *log_dir,
		 logdir_known_fn *known, void *arg, struct logdir_clean_stats *stats);

#endif
