/* SPDX-License-Identifier: Apache-2.0 */
/* Fault-injecting in-memory implementation of storage/sio.h for unit tests;
 * the fault model is written at the top of sio_sim.c. Single-threaded. */
#ifndef TESTS_SIM_SIO_SIM_H
#define TESTS_SIM_SIO_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "storage/sio.h"

enum sio_sim_kind {
	SIO_SIM_WRITEV = 0,     /* async writev */
	SIO_SIM_FDATASYNC = 1,  /* async fdatasync */
	SIO_SIM_READ = 2,       /* async read */
	SIO_SIM_PWRITE = 3,     /* sync pwrite */
	SIO_SIM_FSYNC = 4,      /* sync fsync */
	SIO_SIM_OPEN = 5,
	SIO_SIM_FLUSH = 6,      /* async flush: fdatasync (one file) */
	SIO_SIM_SYNCFS = 7,     /* async flush: syncfs (every file) */
	SIO_SIM_KIND_COUNT = 8,
};

struct sio_sim_crash {
	bool power_loss;        /* page cache lost: files revert to their last sync */
	int64_t torn_bytes;     /* writes in flight land only this prefix (<0: all) */
};

struct sio *sio_sim_create(uint64_t seed);
/* The (skip + 1)-th next op of this kind fails with -err, nothing landing. */
void sio_sim_fail(struct sio *sio, enum sio_sim_kind kind, unsigned skip, int err);
/* Bytes all writev-written files may hold together; < 0: unlimited. A write
 * that does not fit lands the prefix that fits (a short write), or fails
 * with -ENOSPC when nothing fits. */
void sio_sim_set_space(struct sio *sio, int64_t bytes);
/* Deliver completions in a random order. */
void sio_sim_set_reorder(struct sio *sio, bool on);
/* Crash: see the model. Every fd open now becomes dead (-EBADF), and ops in
 * flight complete with -EIO at the next reap. */
void sio_sim_crash(struct sio *sio, const struct sio_sim_crash *how);
/* At most n descriptors open at once (opens beyond fail with -EMFILE, as
 * RLIMIT_NOFILE makes them); < 0: no limit. */
void sio_sim_set_fd_limit(struct sio *sio, int n);
/* Counters for assertions. */
uint64_t sio_sim_count(struct sio *sio, enum sio_sim_kind kind);
/* Descriptors and maps open now, and the most open at once so far. */
unsigned sio_sim_fds_open(struct sio *sio);
unsigned sio_sim_maps_open(struct sio *sio);
unsigned sio_sim_fds_peak(struct sio *sio);
/* Current (page cache) size of a file by path, or -1. */
int64_t sio_sim_file_size(struct sio *sio, const char *path);
bool sio_sim_exists(struct sio *sio, const char *path);

#endif
