/* SPDX-License-Identifier: Apache-2.0 */
/* The flush thread of an io_uring sio; see sio_flusher.h. Messages: a
 * request's data is the sio_op pointer with FL_TAG_FS set for syncfs, its
 * len the fd; a reply's data is the bare op pointer, its len the result
 * (0 or -errno), which MSG_RING delivers as the CQE's res. Data 0 asks the
 * thread to stop. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/assert.h"
#include "common/log.h"
#include "storage/sio_flusher.h"

#define FL_RING_ENTRIES 64
#define FL_TAG_UNDELIVERED 1ull /* on the requesting SQE's own user_data */
#define FL_TAG_FS 2ull          /* on a request: syncfs, not fdatasync */
#define FL_TAGS 3ull
#define FL_REPLY 1ull           /* user_data of the flusher's own reply SQEs */
#define FL_QUEUE_MAX 256        /* requests arrived while a reply was out */

STATIC_ASSERT(_Alignof(struct sio_op) >= 4, "two tag bits in an op pointer");

struct fl_req {
	uint64_t data;
	int fd;
};

struct sio_flusher {
	struct io_uring ring;   /* requests arrive here */
	int reply_fd;
	pthread_t thread;
	struct fl_req queue[FL_QUEUE_MAX];
	unsigned head;
	unsigned queued;
};

bool
sio_flusher_undelivered(uint64_t user_data)
{
	return (user_data & FL_TAG_UNDELIVERED) != 0;
}

struct sio_op *
sio_flusher_op(uint64_t user_data)
{
	return (struct sio_op *)(uintptr_t)(user_data & ~FL_TAGS);
}

void
sio_flusher_prep(struct sio_flusher *fl, struct io_uring_sqe *sqe, struct sio_op *op, int fd,
		 bool whole_fs)
{
	uint64_t data = (uint64_t)(uintptr_t)op | (whole_fs ? FL_TAG_FS : 0);

	ASSERT(fd >= 0);
	io_uring_prep_msg_ring(sqe, fl->ring.ring_fd, (unsigned)fd, data, 0);
	/* Delivered: no CQE on the worker's ring until the reply. */
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)op | FL_TAG_UNDELIVERED);
}

static void
fl_queue_push(struct sio_flusher *fl, uint64_t data, int fd)
{
	ASSERT(fl->queued < FL_QUEUE_MAX);      /* callers keep a few in flight */
	fl->queue[(fl->head + fl->queued++) % FL_QUEUE_MAX] = (struct fl_req){ data, fd };
}

/* Next message: a request queued while a reply was out, else the next CQE. */
static struct fl_req
fl_next(struct sio_flusher *fl)
{
	struct io_uring_cqe *cqe;
	struct fl_req r;
	int rc;

	if (fl->queued > 0) {
		r = fl->queue[fl->head];
		fl->head = (fl->head + 1) % FL_QUEUE_MAX;
		fl->queued--;
		return r;
	}
	while ((rc = io_uring_wait_cqe(&fl->ring, &cqe)) == -EINTR)
		;
	ASSERT(rc == 0);
	r.data = cqe->user_data;
	r.fd = cqe->res;
	io_uring_cqe_seen(&fl->ring, cqe);
	ASSERT(r.data != FL_REPLY);
	return r;
}

/* Post the reply and wait for its own completion, queueing the requests
 * that arrive meanwhile. A full reply ring (-EOVERFLOW, -EAGAIN) is
 * retried: the worker drains its completions every turn. */
static void
fl_reply(struct sio_flusher *fl, uint64_t op, int res)
{
	const struct timespec pause = { .tv_nsec = 50000 };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	uint64_t data;
	int rc;

	for (;;) {
		sqe = io_uring_get_sqe(&fl->ring);
		ASSERT(sqe != NULL);    /* one SQE at a time */
		io_uring_prep_msg_ring(sqe, fl->reply_fd, (unsigned)res, op, 0);
		io_uring_sqe_set_data64(sqe, FL_REPLY);
		io_uring_submit(&fl->ring);
		for (;;) {
			while ((rc = io_uring_wait_cqe(&fl->ring, &cqe)) == -EINTR)
				;
			ASSERT(rc == 0);
			data = cqe->user_data;
			rc = cqe->res;
			io_uring_cqe_seen(&fl->ring, cqe);
			if (data == FL_REPLY)
				break;
			fl_queue_push(fl, data, rc);
		}
		if (rc >= 0)
			return;
		if (rc != -EOVERFLOW && rc != -EAGAIN && rc != -EBUSY) {
			log_error("storage", "flush thread cannot reply: %s", strerror(-rc));
			abort();        /* the worker would wait for ever */
		}
		nanosleep(&pause, NULL);
	}
}

static void *
fl_main(void *arg)
{
	struct sio_flusher *fl = arg;
	struct fl_req r;
	int rc;

	for (;;) {
		r = fl_next(fl);
		if (r.data == 0)
			return NULL;
		if (r.data & FL_TAG_FS)
			rc = syncfs(r.fd) < 0 ? -errno : 0;
		else
			rc = fdatasync(r.fd) < 0 ? -errno : 0;
		fl_reply(fl, r.data & ~FL_TAGS, rc);
	}
}

struct sio_flusher *
sio_flusher_start(int reply_ring_fd, int *err)
{
	struct sio_flusher *fl = calloc(1, sizeof(*fl));
	int rc;

	if (fl == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	rc = io_uring_queue_init(FL_RING_ENTRIES, &fl->ring, 0);
	if (rc < 0) {
		free(fl);
		*err = rc;
		return NULL;
	}
	fl->reply_fd = reply_ring_fd;
	rc = pthread_create(&fl->thread, NULL, fl_main, fl);
	if (rc != 0) {
		io_uring_queue_exit(&fl->ring);
		free(fl);
		*err = -rc;
		return NULL;
	}
	(void)pthread_setname_np(fl->thread, "st-flush");
	*err = 0;
	return fl;
}

void
sio_flusher_stop(struct sio_flusher *fl)
{
	struct io_uring stop;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;

	if (fl == NULL)
		return;
	/* A message from a throwaway ring: the flusher's own ring is its
	 * thread's alone. */
	if (io_uring_queue_init(2, &stop, 0) == 0) {
		sqe = io_uring_get_sqe(&stop);
		io_uring_prep_msg_ring(sqe, fl->ring.ring_fd, 0, 0, 0);
		if (io_uring_submit_and_wait(&stop, 1) >= 0 && io_uring_peek_cqe(&stop, &cqe) == 0)
			io_uring_cqe_seen(&stop, cqe);
		io_uring_queue_exit(&stop);
	} else {
		pthread_cancel(fl->thread);
	}
	pthread_join(fl->thread, NULL);
	io_uring_queue_exit(&fl->ring);
	free(fl);
}
