/* SPDX-License-Identifier: Apache-2.0 */
/* Simulated storage for unit tests (after TigerBeetle testing/storage.zig).
 * This file: the asynchronous queue, crashes, fault injection and the test
 * controls; the files themselves and the synchronous calls are in
 * sio_sim_file.c, the shared state in sio_sim_int.h.
 *
 * Fault model:
 *  - Files live in memory, each with a "page cache" image (what reads see)
 *    and a "durable" image (what survives a power loss). fdatasync/fsync copy
 *    the page cache to the durable image; a whole-fs flush (syncfs) does so
 *    for every file. Directory operations (create,
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
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/compiler.h"
#include "tests/sim/sio_sim_int.h"

static uint64_t
sim_rand(struct sio_sim *sim)
{
	sim->rng ^= sim->rng << 13;
	sim->rng ^= sim->rng >> 7;
	sim->rng ^= sim->rng << 17;
	return sim->rng;
}

/* 0, or the injected -errno for this op. */
int
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

static void
sim_flush(struct sio *sio, struct sio_op *op, int fd, bool whole_fs)
{
	struct sio_sim *sim = sim_of(sio);
	struct sim_op *q = sim_queue(sim, op, whole_fs ? SIM_OP_SYNCFS : SIM_OP_SYNC, fd);

	q->err = sim_fault(sim, whole_fs ? SIO_SIM_SYNCFS : SIO_SIM_FLUSH);
}

/* Every file, named or only open, made durable. */
static void
sim_make_all_durable(struct sio_sim *sim)
{
	unsigned i;

	for (i = 0; i < SIM_FILES_MAX; i++)
		if (sim->names[i].used && sim->names[i].file != NULL)
			sim_make_durable(sim->names[i].file);
	for (i = 0; i < SIM_FDS_MAX; i++)
		if (sim->fds[i] != NULL)
			sim_make_durable(sim->fds[i]);
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
	case SIM_OP_SYNCFS:
		sim_make_all_durable(sim);
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
	.read = sim_read, .fdatasync = sim_fdatasync, .flush = sim_flush, .submit = sim_submit,
	.reap = sim_reap,
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
