/* SPDX-License-Identifier: Apache-2.0 */
/* Producer-id allocation for InitProducerId: ids are handed out from blocks
 * of PID_ALLOC_BLOCK, and the end of the current block is made durable in
 * <log_dir>/__spillway_producer_ids before any id of it is returned, so no id
 * is ever returned twice, across restarts and crashes. @thread control */
#ifndef CONTROL_PID_ALLOC_H
#define CONTROL_PID_ALLOC_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define PID_ALLOC_BLOCK 1000
#define PID_ALLOC_FILE "__spillway_producer_ids"

struct pid_alloc {
	char path[PATH_MAX];    /* <log_dir>/__spillway_producer_ids */
	char dir[PATH_MAX];     /* log_dir, fsynced after the rename */
	int64_t next;           /* the next id to hand out */
	int64_t block_end;      /* durable: ids below it are reserved */
};

/* Read the persisted block end (0 when the file does not exist yet). 0, or
 * -errno with a message in err (a file that does not parse is -EINVAL:
 * starting over from 0 could repeat ids). */
int pid_alloc_open(struct pid_alloc *pa, const char *log_dir, char *err, size_t n);
/* The next producer id. When the block is used up, the next block's end is
 * written durably first (temp file, fdatasync, rename, fsync of the
 * directory). 0, or -errno (nothing handed out). */
int pid_alloc_next(struct pid_alloc *pa, int64_t *pid_out);
void pid_alloc_close(struct pid_alloc *pa);

#endif
