/* SPDX-License-Identifier: Apache-2.0 */
/* The stage timestamps the sync path gives an acks=all append (see
 * common/stage.h): when the fsync covering it was submitted and when that
 * fsync's completion was reaped. One clock read per sync event, shared by
 * every append the sync covers; stamping is two stores. Internal to
 * storage/. @thread storage (owner) */
#ifndef STORAGE_PLOG_STAGE_H
#define STORAGE_PLOG_STAGE_H

#include <stdint.h>

#include "storage/plog_int.h"

/* Stamp app before plog_append_complete() hands it back: submit_ns when the
 * fsync (or syncfs) that made it durable went to the kernel, done_ns when its
 * completion was reaped (CLOCK_MONOTONIC ns). An acks=all append completed
 * without this stamp gets the fallback in plog_append_complete(). */
static inline void
plog_append_sync_stamp(struct plog_append *app, uint64_t submit_ns, uint64_t done_ns)
{
	app->t_sync_submit_ns = submit_ns;
	app->t_sync_done_ns = done_ns;
}

#endif
