/* SPDX-License-Identifier: Apache-2.0 */
/* Tests storage/sio_flusher.c through the real io_uring sio: flushes of a
 * file and of its file system complete on the worker's ring with their
 * result, many at once complete once each, a bad descriptor comes back as
 * -EBADF, no flush lands on io_uring's io-wq, and destroy joins the thread. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/sio.h"

#define OPS 40

static int results[OPS];
static int done_count;

static void
op_done(struct sio_op *op, int res)
{
	results[(intptr_t)op->ctx] = res;
	done_count++;
}

static void
run_until(struct sio *sio, int want)
{
	int guard = 0;

	while (done_count < want) {
		sio_wait(sio, 100000000);
		sio_reap(sio, 64);
		cr_assert_lt(++guard, 1000, "flushes never completed");
	}
	cr_assert_eq(sio->inflight, 0u);
}

/* Threads of this process whose name starts with prefix. */
static int
threads_named(const char *prefix)
{
	char path[300], name[64];
	struct dirent *de;
	DIR *d = opendir("/proc/self/task");
	int n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(name, sizeof(name), f) != NULL &&
		    strncmp(name, prefix, strlen(prefix)) == 0)
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

Test(sio_flusher, file_and_fs_flushes_complete_with_their_result)
{
	char dir[] = "/tmp/spillway-flush-XXXXXX", path[64];
	struct sio_op ops[OPS];
	struct sio *sio;
	int err, fd, i;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	sio = sio_uring_create(64, &err);
	cr_assert_not_null(sio, "%d", err);
	cr_assert_eq(threads_named("st-flush"), 0, "started on the first flush only");
	fd = open(path, O_CREAT | O_RDWR, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "durable", 7), 7);
	for (i = 0; i < OPS; i++) {
		ops[i] = (struct sio_op){ .done = op_done, .ctx = (void *)(intptr_t)i };
		results[i] = 1;
		/* Every third: a descriptor that is not open. */
		sio_flush(sio, &ops[i], i % 3 == 2 ? 999 : fd, i % 2 == 0);
	}
	cr_assert_eq(sio->inflight, (unsigned)OPS);
	sio_submit(sio);
	run_until(sio, OPS);
	for (i = 0; i < OPS; i++)
		cr_assert_eq(results[i], i % 3 == 2 ? -EBADF : 0, "op %d: %d", i, results[i]);
	cr_assert_eq(threads_named("st-flush"), 1);
	cr_assert_eq(threads_named("iou-wrk"), 0, "no flush went to io-wq");
	sio_destroy(sio);
	cr_assert_eq(threads_named("st-flush"), 0, "joined");
	close(fd);
	unlink(path);
	rmdir(dir);
}
