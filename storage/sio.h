/* SPDX-License-Identifier: Apache-2.0 */
/* Storage IO interface: everything storage/ does to files goes through one
 * struct sio, so the log code runs unchanged on io_uring (sio_uring.c) and on
 * the fault-injecting simulator (tests/sim/sio_sim.c). Data writes, reads and
 * fdatasync are asynchronous (submit, then reap runs op->done); metadata
 * calls (open, rename, ...) and the small pread/pwrite used by recovery, the
 * indexes and the checkpoints are synchronous. Internal to storage/. */
#ifndef STORAGE_SIO_H
#define STORAGE_SIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct sio;
struct sio_op;

/* res: bytes transferred (writes may be short) or -errno. */
typedef void sio_done_fn(struct sio_op *op, int res);
/* One directory entry name per call; a non-zero return stops the listing. */
typedef int sio_list_fn(void *arg, const char *name);

/* An asynchronous operation, embedded in its owner's struct; it must stay
 * put until done runs. */
struct sio_op {
	sio_done_fn *done;
	void *ctx;              /* for the owner; sio never touches it */
	int res;                /* set just before done runs */
};

struct sio_ops {
	/* Synchronous: fd or 0 on success, -errno on failure. */
	int (*open)(struct sio *sio, const char *path, int flags, int mode);
	int (*close)(struct sio *sio, int fd);
	int (*unlink)(struct sio *sio, const char *path);
	int (*rename)(struct sio *sio, const char *from, const char *to);
	int (*mkdir)(struct sio *sio, const char *path, int mode);
	int (*rmdir)(struct sio *sio, const char *path);
	int (*list)(struct sio *sio, const char *dir, sio_list_fn *fn, void *arg);
	int64_t (*size)(struct sio *sio, int fd);
	ssize_t (*pread)(struct sio *sio, int fd, void *buf, size_t len, int64_t pos);
	ssize_t (*pwrite)(struct sio *sio, int fd, const void *buf, size_t len, int64_t pos);
	int (*ftruncate)(struct sio *sio, int fd, int64_t len);
	int (*fsync)(struct sio *sio, int fd);
	/* Map len bytes of fd shared (writable) or read-only; NULL on failure.
	 * The file must already be at least len bytes long. */
	void *(*map)(struct sio *sio, int fd, size_t len, bool writable);
	void (*unmap)(struct sio *sio, void *addr, size_t len);
	/* Asynchronous: queue, then submit() hands queued ops to the device. */
	void (*writev)(struct sio *sio, struct sio_op *op, int fd, const struct iovec *iov,
		       int iov_count, int64_t pos);
	void (*read)(struct sio *sio, struct sio_op *op, int fd, void *buf, uint32_t len,
		     int64_t pos);
	void (*fdatasync)(struct sio *sio, struct sio_op *op, int fd);
	/* Make durable what has landed so far: fd's data (fdatasync), or with
	 * whole_fs every file of fd's file system (syncfs: one device flush
	 * for every partition with data waiting). Unlike fdatasync it never
	 * runs on io_uring's shared io-wq: one thread per sio does these, one
	 * at a time, so a flush waits for the disk and nothing else. */
	void (*flush)(struct sio *sio, struct sio_op *op, int fd, bool whole_fs);
	int (*submit)(struct sio *sio);
	/* Run done for up to max finished ops; returns how many ran. */
	unsigned (*reap)(struct sio *sio, unsigned max);
	/* Submit, then sleep until an op finishes or timeout_ns passes. */
	int (*wait)(struct sio *sio, uint64_t timeout_ns);
	void (*destroy)(struct sio *sio);
};

/* Every backend's instance starts with this. */
struct sio {
	const struct sio_ops *ops;
	uint32_t inflight;      /* async ops queued or running, kept by the backend */
};

/* io_uring backend with a ring of `entries` SQEs; NULL on failure with
 * -errno in *err. @thread the one worker that will use it */
struct sio *sio_uring_create(unsigned entries, int *err);

/* Thin wrappers so call sites read as plain calls. */
static inline int
sio_open(struct sio *sio, const char *path, int flags, int mode)
{
	return sio->ops->open(sio, path, flags, mode);
}

static inline int
sio_close(struct sio *sio, int fd)
{
	return sio->ops->close(sio, fd);
}

static inline int
sio_unlink(struct sio *sio, const char *path)
{
	return sio->ops->unlink(sio, path);
}

static inline int
sio_rename(struct sio *sio, const char *from, const char *to)
{
	return sio->ops->rename(sio, from, to);
}

static inline int
sio_mkdir(struct sio *sio, const char *path, int mode)
{
	return sio->ops->mkdir(sio, path, mode);
}

static inline int
sio_rmdir(struct sio *sio, const char *path)
{
	return sio->ops->rmdir(sio, path);
}

static inline int
sio_list(struct sio *sio, const char *dir, sio_list_fn *fn, void *arg)
{
	return sio->ops->list(sio, dir, fn, arg);
}

static inline int64_t
sio_size(struct sio *sio, int fd)
{
	return sio->ops->size(sio, fd);
}

static inline ssize_t
sio_pread(struct sio *sio, int fd, void *buf, size_t len, int64_t pos)
{
	return sio->ops->pread(sio, fd, buf, len, pos);
}

static inline ssize_t
sio_pwrite(struct sio *sio, int fd, const void *buf, size_t len, int64_t pos)
{
	return sio->ops->pwrite(sio, fd, buf, len, pos);
}

static inline int
sio_ftruncate(struct sio *sio, int fd, int64_t len)
{
	return sio->ops->ftruncate(sio, fd, len);
}

static inline int
sio_fsync(struct sio *sio, int fd)
{
	return sio->ops->fsync(sio, fd);
}

static inline void *
sio_map(struct sio *sio, int fd, size_t len, bool writable)
{
	return sio->ops->map(sio, fd, len, writable);
}

static inline void
sio_unmap(struct sio *sio, void *addr, size_t len)
{
	sio->ops->unmap(sio, addr, len);
}

static inline void
sio_writev(struct sio *sio, struct sio_op *op, int fd, const struct iovec *iov, int iov_count,
	   int64_t pos)
{
	sio->ops->writev(sio, op, fd, iov, iov_count, pos);
}

static inline void
sio_read(struct sio *sio, struct sio_op *op, int fd, void *buf, uint32_t len, int64_t pos)
{
	sio->ops->read(sio, op, fd, buf, len, pos);
}

static inline void
sio_fdatasync(struct sio *sio, struct sio_op *op, int fd)
{
	sio->ops->fdatasync(sio, op, fd);
}

static inline void
sio_flush(struct sio *sio, struct sio_op *op, int fd, bool whole_fs)
{
	sio->ops->flush(sio, op, fd, whole_fs);
}

static inline int
sio_submit(struct sio *sio)
{
	return sio->ops->submit(sio);
}

static inline unsigned
sio_reap(struct sio *sio, unsigned max)
{
	return sio->ops->reap(sio, max);
}

static inline int
sio_wait(struct sio *sio, uint64_t timeout_ns)
{
	return sio->ops->wait(sio, timeout_ns);
}

static inline void
sio_destroy(struct sio *sio)
{
	sio->ops->destroy(sio);
}

#endif
