/* SPDX-License-Identifier: Apache-2.0 */
/* Tests storage/st_dirs.c and st_worker_dirs.c: placement on the live dir
 * with the fewest partitions (Kafka's LogManager.nextLogDirs), the
 * start-up scan that reopens every partition in the dir it is in (and
 * refuses one found in two), and a dir unusable at start: offline, its
 * partitions not recreated elsewhere. Workers are not started: admin calls
 * run inline on real files in temp dirs. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/st.h"
#include "storage/st_int.h"

#define DIRS 3

static const uint8_t topic_a[16] = { 0xa1, 1, 2, 3 };
static const uint8_t topic_b[16] = { 0xb2, 4, 5, 6 };
static char root[64];
static char paths[DIRS][96];
static const char *path_list[DIRS];

static struct st_log_config
cfg(void)
{
	struct st_log_config c = {
		.segment_bytes = 1 << 20, .segment_ms = 86400000, .retention_ms = -1,
		.retention_bytes = -1, .max_message_bytes = 1 << 20,
		.index_interval_bytes = 4096, .segment_index_bytes = 1 << 16,
		.flush_messages = INT64_MAX, .flush_ms = INT64_MAX,
		.producer_id_expiration_ms = 86400000, .delete_policy = true,
	};

	return c;
}

static struct st *
make(char *err, size_t err_size)
{
	struct st_config sc = { .log_dir = path_list[0], .log_dirs = path_list,
				.log_dir_count = DIRS, .worker_count = 2, .core_count = 1,
				.ring_slots = 64 };

	return st_create(&sc, err, err_size);
}

static int
holds(int d, const char *name, int p)
{
	char path[512];     /* a dir, a topic name of up to 249, a partition */
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s-%d", paths[d], name, p);
	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* The dir of every partition of name, and how many each dir holds. */
static void
where(const char *name, int parts, int *dir_of, int *per_dir)
{
	memset(per_dir, 0, sizeof(int) * DIRS);
	for (int p = 0; p < parts; p++) {
		int n = 0;

		dir_of[p] = -1;
		for (int d = 0; d < DIRS; d++)
			if (holds(d, name, p)) {
				dir_of[p] = d;
				per_dir[d]++;
				n++;
			}
		cr_assert_eq(n, 1, "%s-%d is in %d dirs", name, p, n);
	}
}

static void
setup(void)
{
	snprintf(root, sizeof(root), "/tmp/st-dirs-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	for (int d = 0; d < DIRS; d++) {
		snprintf(paths[d], sizeof(paths[d]), "%s/d%d", root, d);
		path_list[d] = paths[d];
	}
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	cr_assert_eq(system(cmd), 0);
}

Test(st_dirs, pick_fewest_live_first_on_tie)
{
	uint32_t parts[4] = { 3, 1, 1, 0 };
	bool off[4] = { false, false, false, true };

	cr_assert_eq(st_dirs_pick(parts, off, 4), 1, "fewest; the first of a tie");
	off[3] = false;
	cr_assert_eq(st_dirs_pick(parts, off, 4), 3);
	off[1] = off[3] = true;
	cr_assert_eq(st_dirs_pick(parts, off, 4), 2, "offline dirs are never picked");
	off[0] = off[2] = true;
	cr_assert_eq(st_dirs_pick(parts, off, 4), -1);
}

TestSuite(st_dirs_disk, .init = setup, .fini = teardown);

Test(st_dirs_disk, spread_by_count_and_reopened_in_place)
{
	struct st_log_config lc = cfg();
	int dir_of[16], dir_again[16], per_dir[DIRS];
	char err[256];
	struct st *st = make(err, sizeof(err));

	cr_assert_not_null(st, "%s", err);
	cr_assert_eq(st_log_dir_count(st), DIRS);
	cr_assert_eq(st_partitions_create(st, topic_a, "a", 0, 9, &lc), 0);
	where("a", 9, dir_of, per_dir);
	for (int d = 0; d < DIRS; d++)
		cr_assert_eq(per_dir[d], 3, "dir %d holds %d of 9", d, per_dir[d]);
	/* Counts span topics: 4 more go 2, 1, 1 (the first dir wins ties). */
	cr_assert_eq(st_partitions_create(st, topic_b, "b", 0, 4, &lc), 0);
	where("b", 4, dir_of + 9, per_dir);
	cr_assert_eq(per_dir[0], 2);
	cr_assert_eq(per_dir[1], 1);
	cr_assert_eq(per_dir[2], 1);
	/* A deleted partition frees its place: the next goes there. */
	cr_assert_eq(st_partitions_delete(st, topic_a, "a", 8, 9), 0);
	cr_assert_eq(st_partitions_create(st, topic_a, "a", 8, 9, &lc), 0);
	cr_assert(holds(dir_of[8], "a", 8));
	st_destroy(st);

	/* Restart: every partition opens in the dir it is in, nothing new. */
	st = make(err, sizeof(err));
	cr_assert_not_null(st, "%s", err);
	cr_assert_eq(st_partitions_open(st, topic_a, "a", 0, 9, &lc), 0);
	cr_assert_eq(st_partitions_open(st, topic_b, "b", 0, 4, &lc), 0);
	where("a", 9, dir_again, per_dir);
	where("b", 4, dir_again + 9, per_dir);
	cr_assert_arr_eq(dir_of, dir_again, sizeof(int) * 13);
	/* The counts were rebuilt from the scan: 5, 4, 4 -> the next goes to d1. */
	cr_assert_eq(st_partitions_create(st, topic_b, "b", 4, 5, &lc), 0);
	cr_assert(holds(1, "b", 4));
	st_destroy(st);
}

Test(st_dirs_disk, partition_in_two_dirs_is_refused)
{
	struct st_log_config lc = cfg();
	int dir_of[2], per_dir[DIRS];
	char err[256], copy[160];
	struct st *st = make(err, sizeof(err));

	cr_assert_not_null(st, "%s", err);
	cr_assert_eq(st_partitions_create(st, topic_a, "a", 0, 2, &lc), 0);
	st_destroy(st);
	where("a", 2, dir_of, per_dir);
	snprintf(copy, sizeof(copy), "%s/a-0", paths[(dir_of[0] + 1) % DIRS]);
	cr_assert_eq(mkdir(copy, 0755), 0);
	st = make(err, sizeof(err));
	cr_assert_not_null(st, "%s", err);
	cr_assert_eq(st_partitions_open(st, topic_a, "a", 0, 2, &lc), -EEXIST);
	st_destroy(st);
}

Test(st_dirs_disk, unusable_dir_goes_offline_with_its_partitions)
{
	struct st_log_config lc = cfg();
	int dir_of[6], per_dir[DIRS], off = -1;
	char err[256], cmd[256];
	struct st *st = make(err, sizeof(err));

	cr_assert_not_null(st, "%s", err);
	cr_assert_eq(st_partitions_create(st, topic_a, "a", 0, 6, &lc), 0);
	st_destroy(st);
	where("a", 6, dir_of, per_dir);
	/* The last dir becomes a file: it cannot be listed at start. */
	snprintf(cmd, sizeof(cmd), "rm -rf %s && touch %s", paths[2], paths[2]);
	cr_assert_eq(system(cmd), 0);
	st = make(err, sizeof(err));
	cr_assert_not_null(st, "%s", err);
	cr_assert(st_log_dir_offline(st, 2));
	cr_assert_not(st_log_dir_offline(st, 0));
	cr_assert_eq(st_partitions_open(st, topic_a, "a", 0, 6, &lc), 0);
	for (int p = 0; p < 6; p++) {
		int w = st_worker_of(st, topic_a, p);
		bool offline = st_worker_offline_has(&st->workers[w], topic_a, p);

		cr_assert_eq(offline, dir_of[p] == 2, "a-%d (dir %d) offline %d", p, dir_of[p],
			     offline);
		if (dir_of[p] == 2)
			off = p;
		else
			cr_assert(holds(dir_of[p], "a", p));
	}
	cr_assert_geq(off, 0);
	/* Not recreated empty in a live dir: its data is on the offline one. */
	cr_assert_not(holds(0, "a", off) || holds(1, "a", off));
	/* New partitions go to live dirs only. */
	cr_assert_eq(st_partitions_create(st, topic_b, "b", 0, 4, &lc), 0);
	st_destroy(st);
}

Test(st_dirs_disk, first_dir_unusable_fails_the_start)
{
	char err[256] = "", cmd[160];
	struct st *st;

	snprintf(cmd, sizeof(cmd), "touch %s", paths[0]);
	cr_assert_eq(system(cmd), 0);
	st = make(err, sizeof(err));
	cr_assert_null(st);
	cr_assert(strstr(err, paths[0]) != NULL, "%s", err);
}

/* An I/O error on a partition log takes its dir offline (several dirs),
 * and only that dir; new partitions then skip it. With one dir the broker
 * keeps it (a later request may succeed, as before JBOD). */
Test(st_dirs_disk, io_error_takes_only_its_dir_offline)
{
	struct st_log_config lc = cfg();
	struct st_config one = { .log_dir = path_list[0], .worker_count = 1, .core_count = 1,
				 .ring_slots = 64 };
	int dir_of[3], per_dir[DIRS], w;
	char err[256];
	struct st *st = make(err, sizeof(err));
	struct plog *plog;

	cr_assert_not_null(st, "%s", err);
	cr_assert_eq(st_partitions_create(st, topic_a, "a", 0, 3, &lc), 0);
	where("a", 3, dir_of, per_dir);
	w = st_worker_of(st, topic_a, 1);
	plog = st_worker_find(&st->workers[w], topic_a, 1);
	cr_assert_not_null(plog);
	cr_assert_eq(plog->dir_index, dir_of[1]);
	st_worker_io_failed(&st->workers[w], plog);
	for (int d = 0; d < DIRS; d++)
		cr_assert_eq(st_log_dir_offline(st, d), d == dir_of[1]);
	cr_assert_eq(st_partitions_create(st, topic_b, "b", 0, 4, &lc), 0);
	for (int p = 0; p < 4; p++)
		cr_assert_not(holds(dir_of[1], "b", p), "b-%d placed on the offline dir", p);
	st_destroy(st);

	st = st_create(&one, err, sizeof(err));
	cr_assert_not_null(st, "%s", err);
	cr_assert_eq(st_partitions_create(st, topic_b, "c", 0, 1, &lc), 0);
	plog = st_worker_find(&st->workers[0], topic_b, 0);
	cr_assert_not_null(plog);
	st_worker_io_failed(&st->workers[0], plog);
	cr_assert_not(st_log_dir_offline(st, 0));
	st_destroy(st);
}
