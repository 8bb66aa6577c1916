/* SPDX-License-Identifier: Apache-2.0 */
/* The log dirs of a broker with several (log.dirs, JBOD): start-up
 * validation and scan, placement by partition count, offline marking.
 * See st_dirs_int.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "storage/st_dirs_int.h"

#define ST_DIRS_PATH_MAX 4096

int
st_dirs_init(struct st_dirs *d, const char *const *paths, int count)
{
	memset(d, 0, sizeof(*d));
	if (count < 1 || count > ST_DIRS_MAX)
		return -EINVAL;
	if (pthread_mutex_init(&d->lock, NULL) != 0)
		return -ENOMEM;
	for (int i = 0; i < count; i++) {
		atomic_init(&d->offline[i], false);
		d->paths[i] = strdup(paths[i]);
		d->count = i + 1;
		if (d->paths[i] == NULL)
			return -ENOMEM;
	}
	return 0;
}

void
st_dirs_fini(struct st_dirs *d)
{
	for (int i = 0; i < d->count; i++)
		free(d->paths[i]);
	if (d->count > 0)
		pthread_mutex_destroy(&d->lock);
	d->count = 0;
}

/* 0 when path is a directory that can be listed (made when missing). */
static int
st_dirs_usable(const char *path)
{
	DIR *dir;

	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return -errno;
	dir = opendir(path);
	if (dir == NULL)
		return -errno;
	errno = 0;
	(void)readdir(dir);
	closedir(dir);
	return -errno;
}

int
st_dirs_validate(struct st_dirs *d, char *err, size_t err_size)
{
	int live = 0, rc;

	/* One dir: as before JBOD, whoever uses it first (the metadata store)
	 * makes it and reports its errors. */
	if (d->count == 1)
		return 0;
	for (int i = 0; i < d->count; i++) {
		rc = st_dirs_usable(d->paths[i]);
		if (rc == 0) {
			live++;
			continue;
		}
		if (i == 0) {
			snprintf(err, err_size, "storage: log dir %s (the first, with the "
				 "metadata): %s", d->paths[i], strerror(-rc));
			return rc;
		}
		st_dirs_fail(d, i, rc);
	}
	if (live == 0) {
		snprintf(err, err_size, "storage: no log dir is usable");
		return -EIO;
	}
	return 0;
}

int
st_dirs_pick(const uint32_t *parts, const bool *offline, int count)
{
	int best = -1;

	for (int i = 0; i < count; i++)
		if (!offline[i] && (best < 0 || parts[i] < parts[best]))
			best = i;
	return best;
}

int
st_dirs_place(struct st_dirs *d)
{
	bool offline[ST_DIRS_MAX];
	int i;

	if (d->count == 1)
		return st_dirs_is_offline(d, 0) ? -1 : 0;
	for (i = 0; i < d->count; i++)
		offline[i] = st_dirs_is_offline(d, i);
	pthread_mutex_lock(&d->lock);
	i = st_dirs_pick(d->parts, offline, d->count);
	if (i >= 0)
		d->parts[i]++;
	pthread_mutex_unlock(&d->lock);
	return i;
}

void
st_dirs_unplace(struct st_dirs *d, int i)
{
	pthread_mutex_lock(&d->lock);
	if (d->parts[i] > 0)
		d->parts[i]--;
	pthread_mutex_unlock(&d->lock);
}

void
st_dirs_count(struct st_dirs *d, int i)
{
	pthread_mutex_lock(&d->lock);
	d->parts[i]++;
	pthread_mutex_unlock(&d->lock);
}

int
st_dirs_find(struct st_dirs *d, const char *name, int32_t partition, int dup[2])
{
	char path[ST_DIRS_PATH_MAX];
	struct stat sb;
	int found = -ENOENT;

	for (int i = 0; i < d->count; i++) {
		if (st_dirs_is_offline(d, i))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s-%d", d->paths[i], name,
				     (int)partition) >= sizeof(path))
			return -ENAMETOOLONG;
		if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
			continue;
		if (found >= 0) {
			dup[0] = found;
			dup[1] = i;
			return -EEXIST;
		}
		found = i;
	}
	return found;
}

bool
st_dirs_any_offline(struct st_dirs *d)
{
	for (int i = 0; i < d->count; i++)
		if (st_dirs_is_offline(d, i))
			return true;
	return false;
}

void
st_dirs_fail(struct st_dirs *d, int i, int rc)
{
	if (atomic_exchange(&d->offline[i], true))
		return;
	log_error("storage", "log dir %s is offline: %s; its partitions are offline",
		  d->paths[i], strerror(rc < 0 ? -rc : rc));
}
