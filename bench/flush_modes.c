/* SPDX-License-Identifier: Apache-2.0 */
/* flush-modes: what making N partitions' appends durable costs on this
 * disk, by method: the measurement behind spillway.storage.flush.mode.
 * Each round appends 1 KiB to each of N files, then makes all N durable:
 *   fdatasync-seq  N fdatasyncs one after another
 *   fdatasync-par  N fdatasyncs at once, one thread each (io-wq's shape)
 *   syncfs         one syncfs for the file system (gsync's round)
 *   dsync          O_DSYNC appends (RWF_DSYNC-style write-through)
 *   direct-dsync   O_DIRECT|O_DSYNC 4 KiB block rewrites into pre-written
 *                  files (Seastar/Redpanda-style, no page cache, no size
 *                  change: FUA, or write + flush without FUA)
 * Prints, per method, round latency p50/p99/p99.9/max (us) and CPU us per
 * round (the process's, so kernel work done in the caller counts).
 * usage: flush-modes DIR [FILES(4)] [ROUNDS(2000)] [PAUSE_US(200)] */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FILES_MAX 64
#define BLOCK 4096

enum method { FDATASYNC_SEQ, FDATASYNC_PAR, SYNCFS, DSYNC, DIRECT_DSYNC, METHODS };
static const char *const names[METHODS] = {
	"fdatasync-seq", "fdatasync-par", "syncfs", "dsync", "direct-dsync",
};

static int fds[FILES_MAX];
static int nfiles;

static uint64_t
ns_of(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "flush-modes: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *
sync_one(void *arg)
{
	if (fdatasync(*(int *)arg) < 0)
		die("fdatasync");
	return NULL;
}

static void
open_files(const char *dir, enum method m, void *block)
{
	char path[4096];
	int flags = O_CREAT | O_TRUNC | O_RDWR, i, k;

	if (m == DSYNC)
		flags |= O_DSYNC;
	for (i = 0; i < nfiles; i++) {
		snprintf(path, sizeof(path), "%s/flush-modes-%d", dir, i);
		fds[i] = open(path, flags, 0644);
		if (fds[i] < 0)
			die(path);
		if (m == DIRECT_DSYNC) {
			/* Written and synced first: rewrites change no metadata. */
			for (k = 0; k < 64; k++)
				if (pwrite(fds[i], block, BLOCK, (off_t)k * BLOCK) != BLOCK)
					die("prewrite");
			if (fsync(fds[i]) < 0)
				die("fsync");
			close(fds[i]);
			fds[i] = open(path, O_RDWR | O_DIRECT | O_DSYNC);
			if (fds[i] < 0)
				die("reopen O_DIRECT");
		}
		unlink(path);
	}
}

/* One round: append 1 KiB to every file, then make them durable. */
static void
round_run(enum method m, void *block, int r)
{
	pthread_t t[FILES_MAX];
	int i;

	for (i = 0; i < nfiles; i++) {
		if (m == DIRECT_DSYNC) {
			off_t pos = (off_t)((r / 4) % 64) * BLOCK;

			if (pwrite(fds[i], block, BLOCK, pos) != BLOCK)
				die("pwrite direct");
		} else if (write(fds[i], block, 1024) != 1024) {
			die("write");
		}
	}
	switch (m) {
	case FDATASYNC_SEQ:
		for (i = 0; i < nfiles; i++)
			sync_one(&fds[i]);
		break;
	case FDATASYNC_PAR:
		for (i = 0; i < nfiles; i++)
			pthread_create(&t[i], NULL, sync_one, &fds[i]);
		for (i = 0; i < nfiles; i++)
			pthread_join(t[i], NULL);
		break;
	case SYNCFS:
		if (syncfs(fds[0]) < 0)
			die("syncfs");
		break;
	default:
		break;          /* the writes were durable */
	}
}

int
main(int argc, char **argv)
{
	int rounds = argc > 3 ? atoi(argv[3]) : 2000, pause_us = argc > 4 ? atoi(argv[4]) : 200;
	uint64_t *lat, t0, cpu0, cpu1;
	void *block = NULL;
	int m, r, i;

	if (argc < 2) {
		fprintf(stderr, "usage: flush-modes DIR [FILES] [ROUNDS] [PAUSE_US]\n");
		return 2;
	}
	nfiles = argc > 2 ? atoi(argv[2]) : 4;
	if (nfiles < 1 || nfiles > FILES_MAX || rounds < 10)
		return 2;
	lat = calloc((size_t)rounds, sizeof(*lat));
	if (lat == NULL || posix_memalign(&block, BLOCK, BLOCK) != 0)
		die("alloc");
	memset(block, 'x', BLOCK);
	printf("| method | files | p50 us | p99 us | p99.9 us | max us | CPU us/round |\n");
	printf("|---|---|---|---|---|---|---|\n");
	for (m = 0; m < METHODS; m++) {
		open_files(argv[1], (enum method)m, block);
		cpu0 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
		for (r = 0; r < rounds; r++) {
			t0 = ns_of(CLOCK_MONOTONIC);
			round_run((enum method)m, block, r);
			lat[r] = ns_of(CLOCK_MONOTONIC) - t0;
			usleep((useconds_t)pause_us);
		}
		cpu1 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
		for (i = 0; i < nfiles; i++)
			close(fds[i]);
		qsort(lat, (size_t)rounds, sizeof(*lat), cmp_u64);
		printf("| %s | %d | %lu | %lu | %lu | %lu | %lu |\n", names[m], nfiles,
		       (unsigned long)(lat[rounds / 2] / 1000),
		       (unsigned long)(lat[(size_t)rounds * 99 / 100] / 1000),
		       (unsigned long)(lat[(size_t)rounds * 999 / 1000] / 1000),
		       (unsigned long)(lat[rounds - 1] / 1000),
		       (unsigned long)((cpu1 - cpu0) / (uint64_t)rounds / 1000));
	}
	free(lat);
	free(block);
	return 0;
}
