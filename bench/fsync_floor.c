/* SPDX-License-Identifier: Apache-2.0 */
/* fsync-floor: the disk's own append+fdatasync latency, the physical floor
 * under any broker that syncs before it acknowledges. In a given directory
 * (put it on the brokers' data file system) it appends --record-size bytes
 * to a new file and calls fdatasync(), --count times with --pause-us between
 * rounds, times each write+fdatasync pair on CLOCK_MONOTONIC and reports
 * p50/p90/p99/p99.9/max in microseconds (exact: every sample is kept and
 * sorted). The file grows as a log segment does, so each fdatasync also
 * commits the new size. bench/compare runs it once per run. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_client.h"

#define FLOOR_COUNT_MAX 1000000
#define FLOOR_RECORD_BYTES_MAX (1 << 20)
#define FLOOR_PAUSE_US_MAX 1000000
#define FLOOR_PATH_BYTES 4096

struct floor_opts {
	const char *dir;
	const char *json_path;
	long count;
	long record_bytes;
	long pause_us;
};

static uint64_t
floor_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int
floor_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted samples, in microseconds. */
static double
floor_pct_us(const uint64_t *sorted_ns, long count, double pct)
{
	long rank = (long)((pct / 100.0) * (double)count + 0.999999);

	if (rank < 1)
		rank = 1;
	if (rank > count)
		rank = count;
	return (double)sorted_ns[rank - 1] / 1000.0;
}

/* A JSON string's characters (no quotes around them). */
static void
floor_json_chars(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc((unsigned char)*s >= 0x20 ? *s : ' ', f);
	}
}

static long
floor_parse_long(const char *arg, const char *name, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		bench_client_die(name, "out of range");
	return v;
}

static void
floor_usage(void)
{
	printf("usage: fsync-floor --dir DIR [--count N] [--record-size BYTES]\n"
	       "                   [--pause-us US] [--json PATH]\n"
	       "  append BYTES (1024) to a new file in DIR then fdatasync(), N (3000)\n"
	       "  times with US (200) microseconds between rounds; print p50/p99/p99.9/max\n");
}

static void
floor_opts_parse(int argc, char **argv, struct floor_opts *o)
{
	static const struct option longopts[] = {
		{ "dir", 1, NULL, 'd' }, { "count", 1, NULL, 'n' },
		{ "record-size", 1, NULL, 's' }, { "pause-us", 1, NULL, 'p' },
		{ "json", 1, NULL, 'j' }, { "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o->dir = optarg; break;
		case 'n': o->count = floor_parse_long(optarg, "--count", 1, FLOOR_COUNT_MAX); break;
		case 's':
			o->record_bytes = floor_parse_long(optarg, "--record-size", 1,
							   FLOOR_RECORD_BYTES_MAX);
			break;
		case 'p':
			o->pause_us = floor_parse_long(optarg, "--pause-us", 0, FLOOR_PAUSE_US_MAX);
			break;
		case 'j': o->json_path = optarg; break;
		case 'h': floor_usage(); exit(0);
		default: floor_usage(); exit(2);
		}
	}
	if (!o->dir) {
		floor_usage();
		exit(2);
	}
}

/* Runs the rounds into samples_ns; returns 0 or -errno. */
static int
floor_measure(const struct floor_opts *o, uint64_t *samples_ns)
{
	char path[FLOOR_PATH_BYTES];
	char *buf;
	long i;
	int fd, rc = 0;

	if (snprintf(path, sizeof(path), "%s/fsync-floor.XXXXXX", o->dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	unlink(path);	/* gone when we exit, whatever happens */
	buf = malloc((size_t)o->record_bytes);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	memset(buf, 'x', (size_t)o->record_bytes);
	for (i = 0; i < o->count; i++) {
		uint64_t t0 = floor_now_ns();

		if (write(fd, buf, (size_t)o->record_bytes) != o->record_bytes ||
		    fdatasync(fd) != 0) {
			rc = errno ? -errno : -EIO;
			break;
		}
		samples_ns[i] = floor_now_ns() - t0;
		if (o->pause_us > 0)
			bench_client_sleep_until_us(bench_client_mono_us() + (uint64_t)o->pause_us);
	}
	free(buf);
	close(fd);
	return rc;
}

int
main(int argc, char **argv)
{
	struct floor_opts o = { .count = 3000, .record_bytes = 1024, .pause_us = 200 };
	static const double pcts[] = { 50, 90, 99, 99.9 };
	static const char *const names[] = { "p50", "p90", "p99", "p99_9" };
	uint64_t *samples_ns;
	double sum_us = 0;
	FILE *f;
	long i;
	int rc;
	size_t k;

	floor_opts_parse(argc, argv, &o);
	samples_ns = calloc((size_t)o.count, sizeof(*samples_ns));
	if (!samples_ns)
		bench_client_die("calloc", strerror(ENOMEM));
	rc = floor_measure(&o, samples_ns);
	if (rc != 0)
		bench_client_die(o.dir, strerror(-rc));
	qsort(samples_ns, (size_t)o.count, sizeof(*samples_ns), floor_cmp_u64);
	for (i = 0; i < o.count; i++)
		sum_us += (double)samples_ns[i] / 1000.0;
	printf("fsync-floor: %s, %ld x (%ld B write + fdatasync), us:", o.dir, o.count,
	       o.record_bytes);
	for (k = 0; k < sizeof(pcts) / sizeof(pcts[0]); k++)
		printf(" %s %.1f", names[k], floor_pct_us(samples_ns, o.count, pcts[k]));
	printf(" max %.1f mean %.1f\n", (double)samples_ns[o.count - 1] / 1000.0,
	       sum_us / (double)o.count);
	if (o.json_path) {
		f = fopen(o.json_path, "w");
		if (!f)
			bench_client_die(o.json_path, strerror(errno));
		fprintf(f, "{\"dir\": \"");
		floor_json_chars(f, o.dir);
		fprintf(f, "\", \"count\": %ld, \"record_size\": %ld, \"pause_us\": %ld,\n"
			" \"fdatasync_us\": {", o.count, o.record_bytes, o.pause_us);
		for (k = 0; k < sizeof(pcts) / sizeof(pcts[0]); k++)
			fprintf(f, "\"%s\": %.1f, ", names[k],
				floor_pct_us(samples_ns, o.count, pcts[k]));
		fprintf(f, "\"min\": %.1f, \"max\": %.1f, \"mean\": %.1f}}\n",
			(double)samples_ns[0] / 1000.0,
			(double)samples_ns[o.count - 1] / 1000.0, sum_us / (double)o.count);
		if (fclose(f) != 0)
			bench_client_die(o.json_path, strerror(errno));
	}
	free(samples_ns);
	return 0;
}
