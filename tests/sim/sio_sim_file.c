/* SPDX-License-Identifier: Apache-2.0 */
/* The storage simulator's files (see the fault model in sio_sim.c): names
 * and directories, descriptors with a limit, each file's page-cache and
 * durable images, and the synchronous calls of storage/sio.h on them
 * (open, rename, pread, pwrite, ftruncate, fsync, map, ...). Directory
 * operations and ftruncate are durable at once. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/compiler.h"
#include "tests/sim/sio_sim_int.h"

struct sim_name *
sim_lookup(struct sio_sim *sim, const char *path)
{
	unsigned i;

	for (i = 0; i < SIM_FILES_MAX; i++)
		if (sim->names[i].used && strcmp(sim->names[i].path, path) == 0)
			return &sim->names[i];
	return NULL;
}

static struct sim_name *
sim_name_new(struct sio_sim *sim, const char *path)
{
	unsigned i;

	ASSERT(strlen(path) < SIM_PATH_MAX);
	for (i = 0; i < SIM_FILES_MAX; i++) {
		if (!sim->names[i].used) {
			memset(&sim->names[i], 0, sizeof(sim->names[i]));
			strcpy(sim->names[i].path, path);
			sim->names[i].used = true;
			return &sim->names[i];
		}
	}
	PANIC("sio_sim: too many files");
}

void
sim_file_put(struct sim_file *f)
{
	ASSERT(f->refs > 0);
	if (--f->refs > 0)
		return;
	ASSERT(f->maps == 0);
	free(f->data);
	free(f->durable);
	free(f);
}

struct sim_file *
sim_fd(struct sio_sim *sim, int fd)
{
	if (fd < SIM_FD_BASE || fd >= SIM_FD_BASE + SIM_FDS_MAX)
		return NULL;
	return sim->fds[fd - SIM_FD_BASE];
}

static void
sim_reserve(struct sim_file *f, int64_t size)
{
	int64_t cap = f->cap ? f->cap : 4096;

	if (size <= f->cap)
		return;
	ASSERT(f->maps == 0);
	while (cap < size)
		cap *= 2;
	f->data = realloc(f->data, (size_t)cap);
	ASSERT(f->data != NULL);
	memset(f->data + f->cap, 0, (size_t)(cap - f->cap));
	f->cap = cap;
}

void
sim_set_size(struct sim_file *f, int64_t size)
{
	sim_reserve(f, size);
	if (size < f->size)
		memset(f->data + size, 0, (size_t)(f->size - size));
	f->size = size;
}

void
sim_land(struct sim_file *f, int64_t pos, const uint8_t *bytes, int64_t len)
{
	if (pos + len > f->size)
		sim_set_size(f, pos + len);
	memcpy(f->data + pos, bytes, (size_t)len);
}

void
sim_make_durable(struct sim_file *f)
{
	free(f->durable);
	f->durable = malloc((size_t)(f->size > 0 ? f->size : 1));
	ASSERT(f->durable != NULL);
	if (f->size > 0)
		memcpy(f->durable, f->data, (size_t)f->size);
	f->durable_size = f->size;
}

int
sim_open(struct sio *sio, const char *path, int flags, int mode)
{
	struct sio_sim *sim = sim_of(sio);
	struct sim_name *n = sim_lookup(sim, path);
	unsigned i;
	int rc = sim_fault(sim, SIO_SIM_OPEN);

	(void)mode;
	if (rc < 0)
		return rc;
	if (sim->fd_limit >= 0 && sim->fds_open >= (unsigned)sim->fd_limit)
		return -EMFILE;
	if (n != NULL && (flags & O_CREAT) && (flags & O_EXCL))
		return -EEXIST;
	if (n == NULL && !(flags & O_CREAT))
		return -ENOENT;
	if (n != NULL && n->file == NULL)
		return -EISDIR;
	if (n == NULL) {
		n = sim_name_new(sim, path);
		n->file = calloc(1, sizeof(*n->file));
		ASSERT(n->file != NULL);
		n->file->refs = 1;
		sim_make_durable(n->file);
	}
	if (flags & O_TRUNC) {
		sim_set_size(n->file, 0);
		sim_make_durable(n->file);
	}
	for (i = 0; i < SIM_FDS_MAX; i++) {
		if (sim->fds[i] == NULL) {
			sim->fds[i] = n->file;
			n->file->refs++;
			sim->fds_open++;
			sim->fds_peak = MAX(sim->fds_peak, sim->fds_open);
			return SIM_FD_BASE + (int)i;
		}
	}
	return -EMFILE;
}

int
sim_close(struct sio *sio, int fd)
{
	struct sio_sim *sim = sim_of(sio);
	struct sim_file *f = sim_fd(sim, fd);

	if (f == NULL)
		return -EBADF;
	sim->fds[fd - SIM_FD_BASE] = NULL;
	ASSERT(sim->fds_open > 0);
	sim->fds_open--;
	sim_file_put(f);
	return 0;
}

int
sim_unlink(struct sio *sio, const char *path)
{
	struct sim_name *n = sim_lookup(sim_of(sio), path);

	if (n == NULL)
		return -ENOENT;
	if (n->file == NULL)
		return -EISDIR;
	sim_file_put(n->file);
	n->used = false;
	return 0;
}

int
sim_rename(struct sio *sio, const char *from, const char *to)
{
	struct sio_sim *sim = sim_of(sio);
	struct sim_name *n = sim_lookup(sim, from), *old = sim_lookup(sim, to);

	if (n == NULL)
		return -ENOENT;
	if (old != NULL) {
		if (old->file != NULL)
			sim_file_put(old->file);
		old->used = false;
	}
	ASSERT(strlen(to) < SIM_PATH_MAX);
	if (n->file == NULL) {
		/* A directory: everything under it moves along. */
		size_t from_len = strlen(from), to_len = strlen(to);
		unsigned i;

		for (i = 0; i < SIM_FILES_MAX; i++) {
			char *p = sim->names[i].path;

			if (!sim->names[i].used || strncmp(p, from, from_len) != 0 ||
			    p[from_len] != '/')
				continue;
			ASSERT(strlen(p) - from_len + to_len < SIM_PATH_MAX);
			memmove(p + to_len, p + from_len, strlen(p) - from_len + 1);
			memcpy(p, to, to_len);
		}
	}
	strcpy(n->path, to);
	return 0;
}

int
sim_mkdir(struct sio *sio, const char *path, int mode)
{
	struct sio_sim *sim = sim_of(sio);

	(void)mode;
	if (sim_lookup(sim, path) != NULL)
		return -EEXIST;
	sim_name_new(sim, path);
	return 0;
}

int
sim_rmdir(struct sio *sio, const char *path)
{
	struct sio_sim *sim = sim_of(sio);
	struct sim_name *n = sim_lookup(sim, path);
	size_t len = strlen(path);
	unsigned i;

	if (n == NULL)
		return -ENOENT;
	for (i = 0; i < SIM_FILES_MAX; i++)
		if (sim->names[i].used && strncmp(sim->names[i].path, path, len) == 0 &&
		    sim->names[i].path[len] == '/')
			return -ENOTEMPTY;
	n->used = false;
	return 0;
}

int
sim_list(struct sio *sio, const char *dir, sio_list_fn *fn, void *arg)
{
	struct sio_sim *sim = sim_of(sio);
	struct sim_name *n = sim_lookup(sim, dir);
	char (*names)[SIM_PATH_MAX];
	size_t len = strlen(dir);
	unsigned i, count = 0;
	int rc = 0;

	if (n == NULL)
		return -ENOENT;
	if (n->file != NULL)
		return -ENOTDIR;
	names = malloc(sizeof(*names) * SIM_FILES_MAX);
	ASSERT(names != NULL);
	/* Collect first: fn may unlink. */
	for (i = 0; i < SIM_FILES_MAX; i++) {
		const char *p = sim->names[i].path;

		if (sim->names[i].used && strncmp(p, dir, len) == 0 && p[len] == '/' &&
		    strchr(p + len + 1, '/') == NULL)
			strcpy(names[count++], p + len + 1);
	}
	for (i = 0; i < count && rc == 0; i++)
		rc = fn(arg, names[i]);
	free(names);
	return rc;
}

int64_t
sim_size(struct sio *sio, int fd)
{
	struct sim_file *f = sim_fd(sim_of(sio), fd);

	return f == NULL ? -EBADF : f->size;
}

ssize_t
sim_pread(struct sio *sio, int fd, void *buf, size_t len, int64_t pos)
{
	struct sim_file *f = sim_fd(sim_of(sio), fd);
	int64_t n;

	if (f == NULL)
		return -EBADF;
	n = pos >= f->size ? 0 : MIN((int64_t)len, f->size - pos);
	memcpy(buf, f->data + pos, (size_t)n);
	return (ssize_t)n;
}

/* The file behind fd for a synchronous call of kind, in *f: 0, -EBADF, or
 * the error injected for the call (counted, and used up, even when fd is
 * bad). */
static int
sim_sync_call(struct sio *sio, int fd, enum sio_sim_kind kind, struct sim_file **f)
{
	struct sio_sim *sim = sim_of(sio);
	int rc;

	*f = sim_fd(sim, fd);
	rc = sim_fault(sim, kind);
	return *f == NULL ? -EBADF : rc;
}

ssize_t
sim_pwrite(struct sio *sio, int fd, const void *buf, size_t len, int64_t pos)
{
	struct sim_file *f;
	int rc = sim_sync_call(sio, fd, SIO_SIM_PWRITE, &f);

	if (rc < 0)
		return rc;
	sim_land(f, pos, buf, (int64_t)len);
	return (ssize_t)len;
}

int
sim_ftruncate(struct sio *sio, int fd, int64_t len)
{
	struct sim_file *f = sim_fd(sim_of(sio), fd);

	if (f == NULL)
		return -EBADF;
	ASSERT(f->maps == 0 || len <= f->cap);
	sim_set_size(f, len);
	/* Durable at once: resize the durable image the same way. */
	f->durable = realloc(f->durable, (size_t)(len > 0 ? len : 1));
	ASSERT(f->durable != NULL);
	if (len > f->durable_size)
		memset(f->durable + f->durable_size, 0, (size_t)(len - f->durable_size));
	f->durable_size = len;
	return 0;
}

int
sim_fsync(struct sio *sio, int fd)
{
	struct sim_file *f;
	int rc = sim_sync_call(sio, fd, SIO_SIM_FSYNC, &f);

	if (rc < 0)
		return rc;
	sim_make_durable(f);
	return 0;
}

void *
sim_map(struct sio *sio, int fd, size_t len, bool writable)
{
	struct sim_file *f = sim_fd(sim_of(sio), fd);

	struct sio_sim *sim = sim_of(sio);
	unsigned i;

	(void)writable;
	if (f == NULL || (int64_t)len > f->size)
		return NULL;
	for (i = 0; i < SIM_FDS_MAX; i++) {
		if (sim->maps[i].addr == NULL) {
			sim->maps[i].addr = f->data;
			sim->maps[i].file = f;
			sim->maps_open++;
			f->maps++;
			f->refs++;      /* a mapping keeps the file, as in Linux */
			return f->data;
		}
	}
	return NULL;
}

void
sim_unmap(struct sio *sio, void *addr, size_t len)
{
	struct sio_sim *sim = sim_of(sio);
	struct sim_file *f;
	unsigned i;

	(void)len;
	for (i = 0; addr != NULL && i < SIM_FDS_MAX; i++) {
		if (sim->maps[i].addr == addr) {
			f = sim->maps[i].file;
			sim->maps[i].addr = NULL;
			sim->maps_open--;
			f->maps--;
			sim_file_put(f);
			return;
		}
	}
	ASSERT(addr == NULL);
}
