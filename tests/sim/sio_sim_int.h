/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the storage simulator (tests/sim/): the state shared by its two
 * files, sio_sim.c (the fault model, the asynchronous queue, crashes and
 * the test controls) and sio_sim_file.c (the in-memory files, names and
 * descriptors, and the synchronous calls of storage/sio.h). Single-threaded. */
#ifndef TESTS_SIM_SIO_SIM_INT_H
#define TESTS_SIM_SIO_SIM_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/compiler.h"
#include "tests/sim/sio_sim.h"

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

enum sim_op_kind { SIM_OP_WRITEV, SIM_OP_READ, SIM_OP_SYNC, SIM_OP_SYNCFS };

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

static inline struct sio_sim *
sim_of(struct sio *sio)
{
	return container_of(sio, struct sio_sim, sio);
}

/* sio_sim.c: counts an op of kind; 0, or the -errno injected for it. */
int sim_fault(struct sio_sim *sim, enum sio_sim_kind kind);

/* sio_sim_file.c: the file model. A name or fd lookup (NULL: none); drop a
 * reference to a file (freed with the last); the page-cache size; land
 * bytes in the page cache (growing it); copy the page cache to the durable
 * image. */
struct sim_name *sim_lookup(struct sio_sim *sim, const char *path);
struct sim_file *sim_fd(struct sio_sim *sim, int fd);
void sim_file_put(struct sim_file *f);
void sim_set_size(struct sim_file *f, int64_t size);
void sim_land(struct sim_file *f, int64_t pos, const uint8_t *bytes, int64_t len);
void sim_make_durable(struct sim_file *f);

/* sio_sim_file.c: the synchronous calls of struct sio_ops. */
int sim_open(struct sio *sio, const char *path, int flags, int mode);
int sim_close(struct sio *sio, int fd);
int sim_unlink(struct sio *sio, const char *path);
int sim_rename(struct sio *sio, const char *from, const char *to);
int sim_mkdir(struct sio *sio, const char *path, int mode);
int sim_rmdir(struct sio *sio, const char *path);
int sim_list(struct sio *sio, const char *dir, sio_list_fn *fn, void *arg);
int64_t sim_size(struct sio *sio, int fd);
ssize_t sim_pread(struct sio *sio, int fd, void *buf, size_t len, int64_t pos);
ssize_t sim_pwrite(struct sio *sio, int fd, const void *buf, size_t len, int64_t pos);
int sim_ftruncate(struct sio *sio, int fd, int64_t len);
int sim_fsync(struct sio *sio, int fd);
void *sim_map(struct sio *sio, int fd, size_t len, bool writable);
void sim_unmap(struct sio *sio, void *addr, size_t len);

#endif
