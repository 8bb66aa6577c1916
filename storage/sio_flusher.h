/* SPDX-License-Identifier: Apache-2.0 */
/* The flush thread of an io_uring sio (sio_uring.c): fdatasync and syncfs
 * run here, one at a time, instead of on io_uring's io-wq, whose workers are
 * shared with every blocking op of the ring, come and go with the load and
 * let N partitions' syncs become N concurrent device flushes. Requests and
 * replies travel as IORING_OP_MSG_RING messages between the worker's ring
 * and the flusher's own ring: asking costs the worker an SQE in the submit
 * it makes anyway, and the answer arrives as an ordinary CQE carrying the
 * sio_op. Internal to storage/. */
#ifndef STORAGE_SIO_FLUSHER_H
#define STORAGE_SIO_FLUSHER_H

#include <liburing.h>
#include <stdbool.h>

#include "storage/sio.h"

struct sio_flusher;

/* Start the thread; replies go to the ring whose fd is reply_ring_fd. NULL
 * with -errno in *err. @thread the sio's owner */
struct sio_flusher *sio_flusher_start(int reply_ring_fd, int *err);
/* Ask for a flush of fd (whole_fs: its file system) on sqe, an SQE of the
 * reply ring. The op completes on that ring with the result; if the
 * message cannot be delivered, the SQE's own CQE carries the error with
 * sio_flusher_undelivered() true for its user_data. */
void sio_flusher_prep(struct sio_flusher *fl, struct io_uring_sqe *sqe, struct sio_op *op,
		      int fd, bool whole_fs);
/* A CQE's user_data: whether it is a request that never reached the
 * flusher, and the op it was for. */
bool sio_flusher_undelivered(uint64_t user_data);
struct sio_op *sio_flusher_op(uint64_t user_data);
/* Stop and join the thread (nothing may be in flight). */
void sio_flusher_stop(struct sio_flusher *fl);

#endif
