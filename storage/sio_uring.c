/* SPDX-License-Identifier: Apache-2.0 */
/* io_uring backend of sio.h: one ring per storage worker. Data writes, reads
 * and fdatasync become SQEs submitted once per loop turn; flushes go to the
 * ring's flush thread (sio_flusher.c, started on the first flush) as ring
 * messages; metadata calls are plain syscalls (cold paths). Nothing here
 * knows about logs or Kafka. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <liburing.h>

#include "common/assert.h"
#include "common/compiler.h"
#include "common/log.h"
#include "storage/sio.h"
#include "storage/sio_flusher.h"

struct sio_uring {
	struct sio sio;         /* first: sio_uring is a struct sio */
	struct io_uring ring;
	struct sio_flusher *fl; /* NULL until the first flush */
	int fl_err;             /* the flush thread could not start */
};

static struct sio_uring *
su_of(struct sio *sio)
{
	return container_of(sio, struct sio_uring, sio);
}

static int
su_open(struct sio *sio, const char *path, int flags, int mode)
{
	int fd = open(path, flags | O_CLOEXEC, mode);

	(void)sio;
	return fd < 0 ? -errno : fd;
}

static int
su_close(struct sio *sio, int fd)
{
	(void)sio;
	return close(fd) < 0 ? -errno : 0;
}

static int
su_unlink(struct sio *sio, const char *path)
{
	(void)sio;
	return unlink(path) < 0 ? -errno : 0;
}

static int
su_rename(struct sio *sio, const char *from, const char *to)
{
	(void)sio;
	return rename(from, to) < 0 ? -errno : 0;
}

static int
su_mkdir(struct sio *sio, const char *path, int mode)
{
	(void)sio;
	return mkdir(path, (mode_t)mode) < 0 ? -errno : 0;
}

static int
su_rmdir(struct sio *sio, const char *path)
{
	(void)sio;
	return rmdir(path) < 0 ? -errno : 0;
}

static int
su_list(struct sio *sio, const char *dir, sio_list_fn *fn, void *arg)
{
	struct dirent *de;
	DIR *d;
	int rc = 0;

	(void)sio;
	d = opendir(dir);
	if (d == NULL)
		return -errno;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		rc = fn(arg, de->d_name);
	}
	closedir(d);
	return rc;
}

static int64_t
su_size(struct sio *sio, int fd)
{
	struct stat st;

	(void)sio;
	if (fstat(fd, &st) < 0)
		return -errno;
	return (int64_t)st.st_size;
}

static ssize_t
su_pread(struct sio *sio, int fd, void *buf, size_t len, int64_t pos)
{
	size_t done = 0;
	ssize_t n;

	(void)sio;
	while (done < len) {
		n = pread(fd, (uint8_t *)buf + done, len - done, (off_t)pos + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static ssize_t
su_pwrite(struct sio *sio, int fd, const void *buf, size_t len, int64_t pos)
{
	size_t done = 0;
	ssize_t n;

	(void)sio;
	while (done < len) {
		n = pwrite(fd, (const uint8_t *)buf + done, len - done, (off_t)pos + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int
su_ftruncate(struct sio *sio, int fd, int64_t len)
{
	(void)sio;
	return ftruncate(fd, (off_t)len) < 0 ? -errno : 0;
}

static int
su_fsync(struct sio *sio, int fd)
{
	(void)sio;
	return fsync(fd) < 0 ? -errno : 0;
}

static void *
su_map(struct sio *sio, int fd, size_t len, bool writable)
{
	void *p;

	(void)sio;
	ASSERT(len > 0);
	p = mmap(NULL, len, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* Indexes are binary-searched a few entries at a time: readahead
	 * around a fault would read (or, in a preallocated hole, zero)
	 * megabytes to use one page. */
	(void)madvise(p, len, MADV_RANDOM);
	return p;
}

static void
su_unmap(struct sio *sio, void *addr, size_t len)
{
	(void)sio;
	if (addr != NULL)
		munmap(addr, len);
}

/* An SQE, submitting what is queued when the SQ is full. Never NULL: after
 * a submit the kernel has taken every queued entry. Full policy: wait for
 * the kernel (submit again); the worker's operations in flight are bounded
 * by its pools (appends, reads, refs), so the SQ drains. */
static struct io_uring_sqe *
su_sqe(struct sio_uring *su)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&su->ring);

	while (sqe == NULL) {
		io_uring_submit(&su->ring);
		sqe = io_uring_get_sqe(&su->ring);
	}
	return sqe;
}

static void
su_writev(struct sio *sio, struct sio_op *op, int fd, const struct iovec *iov, int iov_count,
	  int64_t pos)
{
	struct sio_uring *su = su_of(sio);
	struct io_uring_sqe *sqe = su_sqe(su);

	ASSERT_HOT(op->done != NULL);
	io_uring_prep_writev(sqe, fd, iov, (unsigned)iov_count, (uint64_t)pos);
	io_uring_sqe_set_data(sqe, op);
	sio->inflight++;
}

static void
su_read(struct sio *sio, struct sio_op *op, int fd, void *buf, uint32_t len, int64_t pos)
{
	struct sio_uring *su = su_of(sio);
	struct io_uring_sqe *sqe = su_sqe(su);

	ASSERT_HOT(op->done != NULL);
	io_uring_prep_read(sqe, fd, buf, len, (uint64_t)pos);
	io_uring_sqe_set_data(sqe, op);
	sio->inflight++;
}

static void
su_fdatasync(struct sio *sio, struct sio_op *op, int fd)
{
	struct sio_uring *su = su_of(sio);
	struct io_uring_sqe *sqe = su_sqe(su);

	ASSERT_HOT(op->done != NULL);
	io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
	io_uring_sqe_set_data(sqe, op);
	sio->inflight++;
}

/* A flush on the flush thread. If the thread cannot start, the op fails
 * (a NOP carries it back as undelivered): never a silent partial flush. */
static void
su_flush(struct sio *sio, struct sio_op *op, int fd, bool whole_fs)
{
	struct sio_uring *su = su_of(sio);
	struct io_uring_sqe *sqe;
	int rc;

	ASSERT(op->done != NULL);
	if (unlikely(su->fl == NULL && su->fl_err == 0)) {
		su->fl = sio_flusher_start(su->ring.ring_fd, &rc);
		if (su->fl == NULL) {
			su->fl_err = rc;
			log_error("storage", "cannot start the flush thread: %s", strerror(-rc));
		}
	}
	sqe = su_sqe(su);
	if (unlikely(su->fl == NULL)) {
		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)op | 1u);
	} else {
		sio_flusher_prep(su->fl, sqe, op, fd, whole_fs);
	}
	sio->inflight++;
}

static int
su_submit(struct sio *sio)
{
	int rc = io_uring_submit(&su_of(sio)->ring);

	return rc < 0 ? rc : 0;
}

static unsigned
su_reap(struct sio *sio, unsigned max)
{
	struct sio_uring *su = su_of(sio);
	struct io_uring_cqe *cqe;
	struct sio_op *op;
	unsigned n = 0;

	while (n < max && io_uring_peek_cqe(&su->ring, &cqe) == 0) {
		op = sio_flusher_op(cqe->user_data);
		op->res = cqe->res;
		/* A flush request the flush thread never got. */
		if (unlikely(sio_flusher_undelivered(cqe->user_data)))
			op->res = su->fl_err < 0 ? su->fl_err : (cqe->res < 0 ? cqe->res : -EIO);
		io_uring_cqe_seen(&su->ring, cqe);
		ASSERT_HOT(sio->inflight > 0);
		sio->inflight--;
		op->done(op, op->res);
		n++;
	}
	return n;
}

static int
su_wait(struct sio *sio, uint64_t timeout_ns)
{
	struct sio_uring *su = su_of(sio);
	struct __kernel_timespec ts = {
		.tv_sec = (long long)(timeout_ns / 1000000000u),
		.tv_nsec = (long long)(timeout_ns % 1000000000u),
	};
	struct io_uring_cqe *cqe;
	int rc;

	rc = io_uring_submit_and_wait_timeout(&su->ring, &cqe, 1, &ts, NULL);
	if (rc == -ETIME || rc == -EINTR)
		return 0;
	return rc < 0 ? rc : 0;
}

static void
su_destroy(struct sio *sio)
{
	struct sio_uring *su = su_of(sio);

	sio_flusher_stop(su->fl);
	io_uring_queue_exit(&su->ring);
	free(su);
}

static const struct sio_ops su_ops = {
	.open = su_open, .close = su_close, .unlink = su_unlink, .rename = su_rename,
	.mkdir = su_mkdir, .rmdir = su_rmdir, .list = su_list, .size = su_size,
	.pread = su_pread, .pwrite = su_pwrite, .ftruncate = su_ftruncate,
	.fsync = su_fsync, .map = su_map, .unmap = su_unmap, .writev = su_writev,
	.read = su_read, .fdatasync = su_fdatasync, .flush = su_flush, .submit = su_submit,
	.reap = su_reap,
	.wait = su_wait, .destroy = su_destroy,
};

struct sio *
sio_uring_create(unsigned entries, int *err)
{
	struct sio_uring *su = calloc(1, sizeof(*su));
	int rc;

	if (su == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	rc = io_uring_queue_init(entries, &su->ring, 0);
	if (rc < 0) {
		free(su);
		*err = rc;
		return NULL;
	}
	su->sio.ops = &su_ops;
	*err = 0;
	return &su->sio;
}
