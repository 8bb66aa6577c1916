/* SPDX-License-Identifier: Apache-2.0 */
/* The log dirs (log.dirs, JBOD): where a partition's directory is found at
 * start (every dir is scanned; one found in two is an error, as Kafka
 * refuses to start), where a new one goes (the live dir holding the fewest
 * partitions, Kafka's LogManager.nextLogDirs), and which dirs are offline
 * (unusable at start: their partitions have no log and answer
 * NOT_LEADER_OR_FOLLOWER; an I/O error since: KAFKA_STORAGE_ERROR) while
 * the other dirs' partitions keep working. Internal to
 * storage/. @thread any (counts under a lock, flags atomic) */
#ifndef STORAGE_ST_DIRS_INT_H
#define STORAGE_ST_DIRS_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ST_DIRS_MAX 64

struct st_dirs {
	int count;
	char *paths[ST_DIRS_MAX];
	pthread_mutex_t lock;           /* parts: placement reads and bumps them at once */
	uint32_t parts[ST_DIRS_MAX];    /* partition logs placed in or found in each */
	atomic_bool offline[ST_DIRS_MAX];
};

/* Copy paths (count 1..ST_DIRS_MAX). 0 or -errno. */
int st_dirs_init(struct st_dirs *d, const char *const *paths, int count);
void st_dirs_fini(struct st_dirs *d);

/* Several dirs: make every dir that is missing (as Kafka's createAndValidateLogDirs) and
 * mark offline those that cannot be made or listed. The first dir holds
 * the broker-wide files, so it must be usable; so must one dir at least.
 * 0, or -errno with err filled. */
int st_dirs_validate(struct st_dirs *d, char *err, size_t err_size);

/* Index of the live dir with the fewest partitions (the lowest index on a
 * tie), or -1 when none is live. Pure: the unit tests' seam. */
int st_dirs_pick(const uint32_t *parts, const bool *offline, int count);

/* Pick a dir for a new partition and count the partition in it: index, or
 * -1 when every dir is offline. */
int st_dirs_place(struct st_dirs *d);
/* A partition log of dir i went away (deleted, or failed to open). */
void st_dirs_unplace(struct st_dirs *d, int i);
/* Count a partition found in dir i at start. */
void st_dirs_count(struct st_dirs *d, int i);

/* Which dir holds "<name>-<partition>": its index; -ENOENT in no live dir;
 * -EEXIST in two (dup[0] and dup[1] their indexes). */
int st_dirs_find(struct st_dirs *d, const char *name, int32_t partition, int dup[2]);

static inline bool
st_dirs_is_offline(struct st_dirs *d, int i)
{
	return atomic_load_explicit(&d->offline[i], memory_order_relaxed);
}

bool st_dirs_any_offline(struct st_dirs *d);

/* Take dir i offline after an I/O error (rc, a -errno, is logged the first
 * time): Kafka's LogDirFailureChannel. */
void st_dirs_fail(struct st_dirs *d, int i, int rc);

#endif
