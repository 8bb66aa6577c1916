/* SPDX-License-Identifier: Apache-2.0 */
/* Grow the process's descriptor table once, at startup, to what the broker
 * may use, so that an accept or an open on a hot path never grows it.
 * Linux grows the table by doubling, and in a process with several threads
 * each growth waits for an RCU grace period (expand_files ->
 * synchronize_rcu): 10 ms on a quiet machine, 60 ms on a busy one, during
 * which the thread that accepted a connection (a dataplane core) is stuck in
 * the kernel and every other connection on it waits. The table never
 * shrinks. */
#ifndef COMMON_FD_TABLE_H
#define COMMON_FD_TABLE_H

#include <stdint.h>

/* The largest table fd_table_reserve() asks for: 8 bytes of kernel memory
 * per descriptor (2 MiB here); a process allowed more grows past it only
 * if it really opens that many. */
#define FD_TABLE_RESERVE_MAX (1u << 18)

/* Make room for descriptors up to MIN(want, RLIMIT_NOFILE soft limit,
 * FD_TABLE_RESERVE_MAX) without growing the table again; returns that
 * count, or -errno when the table could not be grown. */
int64_t fd_table_reserve(uint64_t want);

/* The table's current size (FDSize in /proc/self/status), or -1. */
int64_t fd_table_size(void);

#endif
