/* SPDX-License-Identifier: Apache-2.0 */
/* The admin op behind DescribeLogDirs: one of the broker's log dirs (its
 * absolute path, as Kafka's Paths.toAbsolutePath, and its volume's space,
 * as Java's FileStore total and usable space, or KAFKA_STORAGE_ERROR when
 * it is offline) and the size of every partition log in it, taken from
 * the storage workers' statistics. @thread control */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/log.h"
#include "control/config.h"
#include "control/ctl_int.h"
#include "storage/st.h"

struct log_dirs_walk {
	int dir;
	const struct kp_md *md;
	kp_log_dir_part_fn *fn;
	void *arg;
};

static void
log_dirs_part(void *arg, const struct st_partition_stats *ps)
{
	struct log_dirs_walk *lw = arg;
	const struct kp_md_topic *topic;
	struct kp_uuid id;

	memcpy(id.b, ps->topic_id, sizeof(id.b));
	topic = kp_md_topic_by_id(lw->md, &id);
	/* A topic deleted since the snapshot is not shown, nor a partition
	 * the snapshot does not have yet. */
	if (topic == NULL || ps->partition >= topic->partition_count || ps->dir != lw->dir)
		return;
	lw->fn(lw->arg, topic, ps->partition, ps->size_bytes, 0);
}

static void
log_dirs_worker(void *arg, const struct st_worker_stats *ws)
{
	(void)arg;
	(void)ws;
}

/* Kafka's adjustForLargeFileSystems: a size over INT64_MAX is INT64_MAX. */
static int64_t
log_dirs_bytes(unsigned long long blocks, unsigned long long frsize)
{
	if (frsize != 0 && blocks > (unsigned long long)INT64_MAX / frsize)
		return INT64_MAX;
	return (int64_t)(blocks * frsize);
}

static int
log_dirs_path(const char *log_dir, char *out, size_t size)
{
	char cwd[4096];
	int n;

	if (log_dir[0] == '/') {
		n = snprintf(out, size, "%s", log_dir);
	} else {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return -errno;
		n = snprintf(out, size, "%s/%s", cwd, log_dir);
	}
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int16_t
ctl_log_dir_describe(void *ctx, struct kp_log_dir *dir, kp_log_dir_part_fn *fn, void *arg)
{
	struct ctl *ctl = ctx;
	struct log_dirs_walk lw = { .dir = dir->index, .md = ctl_md(ctl), .fn = fn, .arg = arg };
	const char *path = ctl->cfg->log_dir;
	struct statvfs vfs;
	int rc;

	dir->total_bytes = dir->usable_bytes = -1;
	dir->count = ctl->cfg->log_dir_count > 0 ? ctl->cfg->log_dir_count : 1;
	if (dir->index > 0 && dir->index < ctl->cfg->log_dir_count)
		path = ctl->cfg->log_dirs[dir->index];
	if (log_dirs_path(path, dir->path, sizeof(dir->path)) < 0)
		snprintf(dir->path, sizeof(dir->path), "%s", path);
	if (ctl->st != NULL && dir->index < st_log_dir_count(ctl->st) &&
	    st_log_dir_offline(ctl->st, dir->index)) {
		log_warn("control", "describing log dir %s: it is offline", dir->path);
		return KP_ERR_KAFKA_STORAGE_ERROR;
	}
	if (statvfs(path, &vfs) != 0) {
		log_warn("control", "describing log dir %s: %s", dir->path, strerror(errno));
		return KP_ERR_KAFKA_STORAGE_ERROR;
	}
	dir->total_bytes = log_dirs_bytes(vfs.f_blocks, vfs.f_frsize);
	dir->usable_bytes = log_dirs_bytes(vfs.f_bavail, vfs.f_frsize);
	if (ctl->st == NULL)
		return KP_ERR_NONE;
	rc = st_stats_collect(ctl->st, log_dirs_part, log_dirs_worker, &lw);
	if (rc != 0) {
		log_warn("control", "describing log dir %s: %s", dir->path, strerror(-rc));
		return KP_ERR_KAFKA_STORAGE_ERROR;
	}
	return KP_ERR_NONE;
}
