/* SPDX-License-Identifier: Apache-2.0 */
/* Partition directories as wholes: removal, the move aside under a
 * "-delete" name that makes a removal restartable, and the start-up sweep.
 * Which partitions exist is the caller's knowledge (a callback), never
 * guessed here; only names shaped like partition or "-delete" directories
 * are ever touched. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/clock.h"
#include "common/log.h"
#include "storage/logdir_int.h"

#define LOGDIR_PATH_MAX 4096
#define LOGDIR_TOPIC_BYTES_MAX 249      /* Kafka's topic name limit */
#define LOGDIR_LOGGED_MAX 100           /* removals logged one by one per sweep */

struct logdir_path {
	struct sio *sio;
	const char *dir;
	int err;
};

static int
logdir_unlink_one(void *arg, const char *name)
{
	struct logdir_path *lp = arg;
	char path[LOGDIR_PATH_MAX];
	int rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", lp->dir, name) >= sizeof(path)) {
		lp->err = -ENAMETOOLONG;
		return 0;
	}
	rc = sio_unlink(lp->sio, path);
	if (rc < 0 && rc != -ENOENT && lp->err == 0)
		lp->err = rc;
	return 0;
}

int
logdir_remove(struct sio *sio, const char *path)
{
	struct logdir_path lp = { .sio = sio, .dir = path };
	int rc = sio_list(sio, path, logdir_unlink_one, &lp);

	if (rc < 0)
		return rc;
	rc = sio_rmdir(sio, path);
	return rc < 0 ? rc : lp.err;
}

struct logdir_job {
	struct logdir_job *next;
	char path[];
};

struct logdir_reaper_arg {
	struct logdir_reaper *r;
	struct sio *sio;
};

static void *
logdir_reaper_main(void *arg)
{
	struct logdir_reaper *r = ((struct logdir_reaper_arg *)arg)->r;
	struct sio *sio = ((struct logdir_reaper_arg *)arg)->sio;
	struct logdir_job *job;

	free(arg);
	pthread_setname_np(pthread_self(), "st-reaper");
	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (r->head == NULL && !r->stop)
			pthread_cond_wait(&r->cond, &r->lock);
		if (r->stop)
			break;
		job = r->head;
		r->head = job->next;
		if (r->head == NULL)
			r->tail = NULL;
		pthread_mutex_unlock(&r->lock);
		(void)logdir_remove(sio, job->path);
		free(job);
		pthread_mutex_lock(&r->lock);
		r->queued--;
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int
logdir_reaper_init(struct logdir_reaper *r)
{
	memset(r, 0, sizeof(*r));
	if (pthread_mutex_init(&r->lock, NULL) != 0)
		return -ENOMEM;
	if (pthread_cond_init(&r->cond, NULL) != 0) {
		pthread_mutex_destroy(&r->lock);
		return -ENOMEM;
	}
	return 0;
}

int
logdir_reaper_start(struct logdir_reaper *r, struct sio *const *sios, int count)
{
	struct logdir_reaper_arg *arg;

	ASSERT(r->thread_count == 0);
	r->stop = false;
	for (int i = 0; i < count && i < LOGDIR_REAPER_THREADS; i++) {
		arg = malloc(sizeof(*arg));
		if (arg == NULL)
			break;
		arg->r = r;
		arg->sio = sios[i];
		if (pthread_create(&r->threads[r->thread_count], NULL, logdir_reaper_main,
				   arg) != 0) {
			free(arg);
			break;
		}
		r->thread_count++;
	}
	return r->thread_count;
}

void
logdir_reaper_stop(struct logdir_reaper *r)
{
	struct logdir_job *job;

	if (r->thread_count == 0)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	for (int i = 0; i < r->thread_count; i++)
		pthread_join(r->threads[i], NULL);
	r->thread_count = 0;
	while ((job = r->head) != NULL) {
		r->head = job->next;
		free(job);
	}
	r->tail = NULL;
	r->queued = 0;
}

void
logdir_reaper_fini(struct logdir_reaper *r)
{
	logdir_reaper_stop(r);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
}

uint32_t
logdir_reaper_pending(struct logdir_reaper *r)
{
	uint32_t n;

	pthread_mutex_lock(&r->lock);
	n = r->queued;
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* Hand path to the reaper; false when it does not run (or no memory). */
static bool
logdir_reaper_queue(struct logdir_reaper *r, const char *path)
{
	size_t len = strlen(path) + 1;
	struct logdir_job *job;

	if (r == NULL || r->thread_count == 0 || (job = malloc(sizeof(*job) + len)) == NULL)
		return false;
	job->next = NULL;
	memcpy(job->path, path, len);
	pthread_mutex_lock(&r->lock);
	if (r->tail != NULL)
		r->tail->next = job;
	else
		r->head = job;
	r->tail = job;
	r->queued++;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	return true;
}

int
logdir_trash(struct sio *sio, struct logdir_reaper *reaper, const char *path)
{
	static _Atomic uint64_t seq;
	char aside[LOGDIR_PATH_MAX];
	uint64_t a = clock_mono_ns(), b = ++seq;
	int rc;

	/* Unique per process and run: Kafka puts a random UUID here; a
	 * name that exists already would be replaced by rename(). */
	if ((size_t)snprintf(aside, sizeof(aside), "%s.%016" PRIx64 "%016" PRIx64 "%s", path, a, b,
			     LOGDIR_DELETE_SUFFIX) >= sizeof(aside))
		return logdir_remove(sio, path);
	rc = sio_rename(sio, path, aside);
	if (rc == -ENOENT)
		return rc;
	if (rc < 0)
		return logdir_remove(sio, path);
	if (logdir_reaper_queue(reaper, aside))
		return 0;
	return logdir_remove(sio, aside);
}

static bool
logdir_topic_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

bool
logdir_partition_name(const char *name, char *topic, size_t topic_size, int32_t *partition)
{
	const char *dash = strrchr(name, '-'), *p;
	size_t len;
	int64_t v = 0;

	if (dash == NULL || dash == name || dash[1] == '\0')
		return false;
	for (p = dash + 1; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || v > INT32_MAX)
			return false;
		v = v * 10 + (*p - '0');
	}
	if (v > INT32_MAX || (dash[1] == '0' && dash[2] != '\0'))
		return false;           /* "t-01" is not a directory we make */
	len = (size_t)(dash - name);
	if (len > LOGDIR_TOPIC_BYTES_MAX || len + 1 > topic_size)
		return false;
	for (p = name; p < dash; p++)
		if (!logdir_topic_char(*p))
			return false;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return false;
	memcpy(topic, name, len);
	topic[len] = '\0';
	*partition = (int32_t)v;
	return true;
}

static bool
logdir_is_delete_name(const char *name)
{
	size_t len = strlen(name), suffix = strlen(LOGDIR_DELETE_SUFFIX);

	return len > suffix && strcmp(name + len - suffix, LOGDIR_DELETE_SUFFIX) == 0;
}

/* Names collected before acting: renaming while listing would confuse
 * readdir. */
struct logdir_names {
	char **names;
	uint32_t count;
	uint32_t cap;
};

static int
logdir_collect(void *arg, const char *name)
{
	struct logdir_names *ln = arg;
	char **grown;

	if (ln->count == ln->cap) {
		ln->cap = ln->cap != 0 ? ln->cap * 2 : 64;
		grown = realloc(ln->names, sizeof(*grown) * ln->cap);
		if (grown == NULL)
			return -ENOMEM;
		ln->names = grown;
	}
	ln->names[ln->count] = strdup(name);
	if (ln->names[ln->count] == NULL)
		return -ENOMEM;
	ln->count++;
	return 0;
}

static int
logdir_count_one(void *arg, const char *name)
{
	(void)name;
	(*(uint32_t *)arg)++;
	return 0;
}

int
logdir_count(struct sio *sio, const char *path, uint32_t *count)
{
	*count = 0;
	return sio_list(sio, path, logdir_count_one, count);
}

static void
logdir_clean_one(struct sio *sio, struct logdir_reaper *reaper, const char *log_dir,
		 const char *name, bool finish, struct logdir_clean_stats *stats)
{
	char path[LOGDIR_PATH_MAX];
	uint32_t files = 0, done = stats->trashed + stats->finished;
	int rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", log_dir, name) >= sizeof(path))
		return;
	/* Only directories: a file with such a name is not ours to judge. */
	if (logdir_count(sio, path, &files) < 0)
		return;
	if (finish)
		rc = logdir_reaper_queue(reaper, path) ? 0 : logdir_remove(sio, path);
	else
		rc = logdir_trash(sio, reaper, path);
	if (rc < 0) {
		stats->failed++;
		log_warn("storage", "log dir: cannot remove %s: %s", path, strerror(-rc));
		return;
	}
	if (finish)
		stats->finished++;
	else
		stats->trashed++;
	if (done < LOGDIR_LOGGED_MAX)
		log_info("storage", "log dir: removing %s (%u file(s)): %s", path, files,
			 finish ? "an interrupted delete" : "a partition metadata does not know");
}

int
logdir_clean(struct sio *sio, struct logdir_reaper *reaper, const char *log_dir,
	     logdir_known_fn *known, void *arg, struct logdir_clean_stats *stats)
{
	struct logdir_names ln = { 0 };
	char topic[LOGDIR_TOPIC_BYTES_MAX + 1];
	int32_t partition;
	uint32_t i;
	int rc;

	memset(stats, 0, sizeof(*stats));
	rc = sio_list(sio, log_dir, logdir_collect, &ln);
	for (i = 0; rc == 0 && i < ln.count; i++) {
		if (logdir_is_delete_name(ln.names[i]))
			logdir_clean_one(sio, reaper, log_dir, ln.names[i], true, stats);
		else if (logdir_partition_name(ln.names[i], topic, sizeof(topic), &partition) &&
			 !known(arg, topic, partition))
			logdir_clean_one(sio, reaper, log_dir, ln.names[i], false, stats);
	}
	for (i = 0; i < ln.count; i++)
		free(ln.names[i]);
	free(ln.names);
	if (stats->trashed + stats->finished > LOGDIR_LOGGED_MAX)
		log_info("storage", "log dir: removing %u unknown partition and %u interrupted "
			 "delete director%s in all", stats->trashed, stats->finished,
			 stats->trashed + stats->finished == 1 ? "y" : "ies");
	return rc;
}
