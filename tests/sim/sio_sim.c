/* SPDX-License-Identifier: Apache-2.0 */
/* Simulated storage for unit tests (after TigerBeetle testing/storage.zig).
 *
 * Fault model:
 *  - Files live in memory, each with a "page cache" image (what reads see)
 *    and a "durable" image (what survives a power loss). fdatasync/fsync copy
 *    the page cache to the durable image. Directory operations (create,
 *    rename, unlink, mkdir) and ftruncate are durable at once.
 *  - Async writes are queued, handed over at submit(), and applied to the
 *    page cache only when they complete (at reap); until then nothing of
 *    them is visible. Completions may be delivered in a random order
 *    (set_reorder), so a fdatasync issued before a write completes does not
 *    cover it.
 *  - Crash: ops in flight are torn: only their first torn_bytes land (all,
 *    or none); with power_loss the page cache is then thrown away and every
 *    file reverts to its durable image (unsynced writes are lost, including
 *    memory-mapped index pages). All fds die; the dead ops complete with -EIO
 *    so the old owner can be closed.
 *  - Injected errors: the n-th op of a kind fails with a chosen errno (EIO,
 *    ENOSPC) and nothing lands; a space limit makes writes short, then
 *    -ENOSPC, and space comes back when the limit is raised; a descriptor
 *    limit makes opens fail with -EMFILE (maps do not count, as in Linux).
 * Mapped files must not grow while mapped (asserted). */
#include "tests/sim/sio_sim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/compiler.h"

#define SIM_FILES_MAX 4096
#define SIM_FDS_MAX 4096
#define SIM_FD_BASE 1000
#define SIM_OPS_MAX 4096
#define SIM_FAULTS_MAX 16
#define SIM_PATH_MAX 512

struct sim_file {
	uint8_t *data;
	int64_t size;
	int64_t cap;
	uint8_t *durable;
	int64_t durable_size;
	int refs;               /* names + open fds */
	int maps;
	bool counts_space;
};

struct sim_name {
	char path[SIM_PATH_MAX];
	struct sim_file *file;  /* NULL: a directory */
	bool used;
};

enum sim_op_kind { SIM_OP_WRITEV, SIM_OP_READ, SIM_OP_SYNC };

struct sim_op {
	struct sio_op *op;
	enum sim_op_kind kind;
	struct sim_file *file;
	int fd;
	int64_t pos;
	uint8_t *bytes;         /* writev: a copy of the data; read: the target */
	int64_t len;
	int err;                /* injected */
	bool dead;
};

struct sim_fault {
	enum sio_sim_kind kind;
	unsigned skip;
	int err;
	bool used;
};

struct sio_sim {
	struct sio sio;
	struct sim_name names[SIM_FILES_MAX];
	struct sim_file *fds[SIM_FDS_MAX];
	struct sim_op queued[SIM_OPS_MAX];
	unsigned queued_count;
	struct sim_op flight[SIM_OPS_MAX];
	unsigned flight_count;
	struct sim_fault faults[SIM_FAULTS_MAX];
	uint64_t counts[SIO_SIM_KIND_COUNT];
	int64_t space;
	int fd_limit;
	unsigned fds_open;
	unsigned fds_peak;
	unsigned maps_open;
	bool reorder;
	uint64_t rng;
	struct { void *addr; struct sim_file *file; } maps[SIM_FDS_MAX];
};

static struct sio_sim *
sim_of(struct sio *sio)
{
	return container_of(sio, struct sio_sim, sio);
}

static uint64_t
sim_rand(struct sio_sim *sim)
{
	sim->rng ^= sim->rng << 13;
	sim->rng ^= sim->rng >> 7;
	sim->rng ^= sim->rng << 17;
	return sim->rng;
}

/* 0, or the injected -errno for this op. */
static int
sim_fault(struct sio_sim *sim, enum sio_sim_kind kind)
{
	unsigned i;

	sim->counts[kind]++;
	for (i = 0; i < SIM_FAULTS_MAX; i++) {
		struct sim_fault *f = &sim->faults[i];

		if (!f->used || f->kind != kind)
			continue;
		if (f->skip > 0) {
			f->skip--;
			continue;
		}
		f->used = false;
		return -f->err;
	}
	return 0;
}

static struct sim_name *
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

static void
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

static struct sim_file *
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

static void
sim_set_size(struct sim_file *f, int64_t size)
{
	sim_reserve(f, size);
	if (size < f->size)
		memset(f->data + size, 0, (size_t)(f->size - size));
	f->size = size;
}

static void
sim_land(struct sim_file *f, int64_t pos, const uint8_t *bytes, int64_t len)
{
	if (pos + len > f->size)
		sim_set_size(f, pos + len);
	memcpy(f->data + pos, bytes, (size_t)len);
}

static void
sim_make_durable(struct sim_file *f)
{
	free(f->durable);
	f->durable = malloc((size_t)(f->size > 0 ? f->size : 1));
	ASSERT(f->durable != NULL);
	if (f->size > 0)
		memcpy(f->durable, f->data, (size_t)f->size);
	f->durable_size = f->size;
}

static int
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

static int
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

static int
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

static int
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

static int
sim_mkdir(struct sio *sio, const char *path, int mode)
{
	struct sio_sim *sim = sim_of(sio);

	(void)mode;
	if (sim_lookup(sim, path) != NULL)
		return -EEXIST;
	sim_name_new(sim, path);
	return 0;
}

static int
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

static int
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

static int64_t
sim_size(struct sio *sio, int fd)
{
	struct sim_file *f = sim_fd(sim_of(sio), fd);

	return f == NULL ? -EBADF : f->size;
}

static ssize_t
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

static ssize_t
sim_pwrite(struct sio *sio, int fd, const void *buf, size_t len, int64_t pos)
{
	struct sio_sim *sim = sim_of(sio);
	struct sim_file *f = sim_fd(sim, fd);
	int rc = sim_fault(sim, SIO_SIM_PWRITE);

	if (f == NULL)
		return -EBADF;
	if (rc < 0)
		return rc;
	sim_land(f, pos, buf, (int64_t)len);
	return (ssize_t)len;
}

static int
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

static int
sim_fsync(struct sio *sio, int fd)
{
	struct sio_sim *sim = sim_of(sio);
	struct sim_file *f = sim_fd(sim, fd);
	int rc = sim_fault(sim, SIO_SIM_FSYNC);

	if (f == NULL)
		return -EBADF;
	if (rc < 0)
		return rc;
	sim_make_durable(f);
	return 0;
}

static void *
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

static void
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

static struct sim_op *
sim_queue(struct sio_sim *sim, struct sio_op *op, enum sim_op_kind kind, int fd)
{
	struct sim_op *q;

	ASSERT(sim->queued_count < SIM_OPS_MAX);
	q = &sim->queued[sim->queued_count++];
	memset(q, 0, sizeof(*q));
	q->op = op;
	q->kind = kind;
	q->fd = fd;
	q->file = sim_fd(sim, fd);
	if (q->file != NULL)
		q->file->refs++;
	sim->sio.inflight++;
	return q;
}

static void
sim_writev(struct sio *sio, struct sio_op *op, int fd, const struct iovec *iov, int iov_count,
	   int64_t pos)
{
	struct sio_sim *sim = sim_of(sio);
	struct sim_op *q = sim_queue(sim, op, SIM_OP_WRITEV, fd);
	int64_t len = 0;
	int i;

	q->err = sim_fault(sim, SIO_SIM_WRITEV);
	for (i = 0; i < iov_count; i++)
		len += (int64_t)iov[i].iov_len;
	q->bytes = malloc((size_t)(len > 0 ? len : 1));
	ASSERT(q->bytes != NULL);
	len = 0;
	for (i = 0; i < iov_count; i++) {
		memcpy(q->bytes + len, iov[i].iov_base, iov[i].iov_len);
		len += (int64_t)iov[i].iov_len;
	}
	q->len = len;
	q->pos = pos;
}

static void
sim_read(struct sio *sio, struct sio_op *op, int fd, void *buf, uint32_t len, int64_t pos)
{
	struct sio_sim *sim = sim_of(sio);
	struct sim_op *q = sim_queue(sim, op, SIM_OP_READ, fd);

	q->err = sim_fault(sim, SIO_SIM_READ);
	q->bytes = buf;
	q->len = len;
	q->pos = pos;
}

static void
sim_fdatasync(struct sio *sio, struct sio_op *op, int fd)
{
	struct sio_sim *sim = sim_of(sio);
	struct sim_op *q = sim_queue(sim, op, SIM_OP_SYNC, fd);

	q->err = sim_fault(sim, SIO_SIM_FDATASYNC);
}

static int
sim_submit(struct sio *sio)
{
	struct sio_sim *sim = sim_of(sio);

	ASSERT(sim->flight_count + sim->queued_count <= SIM_OPS_MAX);
	memcpy(&sim->flight[sim->flight_count], sim->queued,
	       sizeof(struct sim_op) * sim->queued_count);
	sim->flight_count += sim->queued_count;
	sim->queued_count = 0;
	return 0;
}

static int64_t
sim_space_used(struct sio_sim *sim)
{
	int64_t used = 0;
	unsigned i;

	for (i = 0; i < SIM_FILES_MAX; i++)
		if (sim->names[i].used && sim->names[i].file != NULL &&
		    sim->names[i].file->counts_space)
			used += sim->names[i].file->size;
	return used;
}

/* Run one op against the page cache; its result. */
static int
sim_execute(struct sio_sim *sim, struct sim_op *q)
{
	int64_t len = q->len, room, n;

	if (q->dead)
		return -EIO;
	if (q->file == NULL || sim_fd(sim, q->fd) != q->file)
		return -EBADF;
	if (q->err < 0)
		return q->err;
	switch (q->kind) {
	case SIM_OP_WRITEV:
		if (sim->space >= 0 && q->pos + len > q->file->size) {
			room = sim->space - sim_space_used(sim) + (q->file->size - q->pos);
			len = MAX(MIN(len, room), 0);
			if (len == 0)
				return -ENOSPC;
		}
		q->file->counts_space = true;
		sim_land(q->file, q->pos, q->bytes, len);
		return (int)len;
	case SIM_OP_READ:
		n = q->pos >= q->file->size ? 0 : MIN(len, q->file->size - q->pos);
		memcpy(q->bytes, q->file->data + q->pos, (size_t)n);
		return (int)n;
	case SIM_OP_SYNC:
		sim_make_durable(q->file);
		return 0;
	}
	return -EINVAL;
}

static unsigned
sim_reap(struct sio *sio, unsigned max)
{
	struct sio_sim *sim = sim_of(sio);
	struct sim_op q;
	unsigned n = 0, i;
	int res;

	while (n < max && sim->flight_count > 0) {
		i = sim->reorder ? (unsigned)(sim_rand(sim) % sim->flight_count) : 0;
		q = sim->flight[i];
		memmove(&sim->flight[i], &sim->flight[i + 1],
			sizeof(q) * (sim->flight_count - i - 1));
		sim->flight_count--;
		res = sim_execute(sim, &q);
		if (q.kind == SIM_OP_WRITEV)
			free(q.bytes);
		if (q.file != NULL)
			sim_file_put(q.file);
		sio->inflight--;
		q.op->res = res;
		q.op->done(q.op, res);
		n++;
	}
	return n;
}

static int
sim_wait(struct sio *sio, uint64_t timeout_ns)
{
	(void)timeout_ns;
	return sim_submit(sio);
}

static void
sim_destroy(struct sio *sio)
{
	struct sio_sim *sim = sim_of(sio);
	unsigned i;

	ASSERT(sim->flight_count == 0 && sim->queued_count == 0);
	for (i = 0; i < SIM_FDS_MAX; i++)
		if (sim->maps[i].addr != NULL)
			sim_unmap(sio, sim->maps[i].addr, 0);
	for (i = 0; i < SIM_FDS_MAX; i++)
		if (sim->fds[i] != NULL)
			sim_close(sio, SIM_FD_BASE + (int)i);
	for (i = 0; i < SIM_FILES_MAX; i++) {
		if (sim->names[i].used && sim->names[i].file != NULL)
			sim_file_put(sim->names[i].file);
	}
	free(sim);
}

static const struct sio_ops sim_ops = {
	.open = sim_open, .close = sim_close, .unlink = sim_unlink, .rename = sim_rename,
	.mkdir = sim_mkdir, .rmdir = sim_rmdir, .list = sim_list, .size = sim_size,
	.pread = sim_pread, .pwrite = sim_pwrite, .ftruncate = sim_ftruncate,
	.fsync = sim_fsync, .map = sim_map, .unmap = sim_unmap, .writev = sim_writev,
	.read = sim_read, .fdatasync = sim_fdatasync, .submit = sim_submit, .reap = sim_reap,
	.wait = sim_wait, .destroy = sim_destroy,
};

struct sio *
sio_sim_create(uint64_t seed)
{
	struct sio_sim *sim = calloc(1, sizeof(*sim));

	ASSERT(sim != NULL);
	sim->sio.ops = &sim_ops;
	sim->space = -1;
	sim->fd_limit = -1;
	sim->rng = seed | 1;
	return &sim->sio;
}

void
sio_sim_fail(struct sio *sio, enum sio_sim_kind kind, unsigned skip, int err)
{
	struct sio_sim *sim = sim_of(sio);
	unsigned i;

	for (i = 0; i < SIM_FAULTS_MAX; i++) {
		if (!sim->faults[i].used) {
			sim->faults[i] = (struct sim_fault){ kind, skip, err, true };
			return;
		}
	}
	PANIC("sio_sim: too many faults");
}

void
sio_sim_set_space(struct sio *sio, int64_t bytes)
{
	sim_of(sio)->space = bytes;
}

void
sio_sim_set_reorder(struct sio *sio, bool on)
{
	sim_of(sio)->reorder = on;
}

void
sio_sim_crash(struct sio *sio, const struct sio_sim_crash *how)
{
	struct sio_sim *sim = sim_of(sio);
	struct sim_op *q;
	struct sim_file *f;
	unsigned i;

	sim_submit(sio);
	for (i = 0; i < sim->flight_count; i++) {
		q = &sim->flight[i];
		if (q->kind == SIM_OP_WRITEV && q->file != NULL && q->err == 0 &&
		    sim_fd(sim, q->fd) == q->file) {
			int64_t len = how->torn_bytes < 0 ? q->len : MIN(q->len, how->torn_bytes);

			sim_land(q->file, q->pos, q->bytes, len);
			if (how->power_loss) {
				/* The torn prefix reached the platter. */
				if (q->pos + len > q->file->durable_size) {
					q->file->durable = realloc(q->file->durable,
								   (size_t)(q->pos + len));
					memset(q->file->durable + q->file->durable_size, 0,
					       (size_t)(q->pos + len - q->file->durable_size));
					q->file->durable_size = q->pos + len;
				}
				memcpy(q->file->durable + q->pos, q->bytes, (size_t)len);
			}
		}
		q->dead = true;
	}
	if (how->power_loss) {
		for (i = 0; i < SIM_FILES_MAX; i++) {
			f = sim->names[i].used ? sim->names[i].file : NULL;
			if (f == NULL)
				continue;
			sim_set_size(f, f->durable_size);
			memcpy(f->data, f->durable, (size_t)f->durable_size);
		}
	}
	for (i = 0; i < SIM_FDS_MAX; i++)
		if (sim->fds[i] != NULL)
			sim_close(sio, SIM_FD_BASE + (int)i);
}

void
sio_sim_set_fd_limit(struct sio *sio, int n)
{
	sim_of(sio)->fd_limit = n;
}

unsigned
sio_sim_fds_open(struct sio *sio)
{
	return sim_of(sio)->fds_open;
}

unsigned
sio_sim_maps_open(struct sio *sio)
{
	return sim_of(sio)->maps_open;
}

unsigned
sio_sim_fds_peak(struct sio *sio)
{
	return sim_of(sio)->fds_peak;
}

uint64_t
sio_sim_count(struct sio *sio, enum sio_sim_kind kind)
{
	return sim_of(sio)->counts[kind];
}

int64_t
sio_sim_file_size(struct sio *sio, const char *path)
{
	struct sim_name *n = sim_lookup(sim_of(sio), path);

	return n == NULL || n->file == NULL ? -1 : n->file->size;
}

bool
sio_sim_exists(struct sio *sio, const char *path)
{
	return sim_lookup(sim_of(sio), path) != NULL;
}
