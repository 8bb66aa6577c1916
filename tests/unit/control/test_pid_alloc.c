/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/pid_alloc.c in a temp directory: ids are unique within a
 * run and across simulated restarts (clean close and a crash mid-block),
 * the block end is on disk before an id of the block is returned, and a
 * damaged file refuses to start rather than risk repeating ids. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/pid_alloc.h"
#include "tests/unit/control/tdir.h"

static int64_t
file_value(void)
{
	char path[300];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tdir_path, PID_ALLOC_FILE);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	cr_assert_eq(fscanf(f, "%lld", &v), 1);
	fclose(f);
	return v;
}

TestSuite(pid_alloc, .init = tdir_setup, .fini = tdir_teardown);

Test(pid_alloc, never_repeats_across_restarts)
{
	static uint8_t seen[20000];
	struct pid_alloc pa;
	char err[256];
	int64_t pid, prev = -1;

	for (int run = 0; run < 6; run++) {
		cr_assert_eq(pid_alloc_open(&pa, tdir_path, err, sizeof(err)), 0, "%s", err);
		/* Runs of different lengths: some end mid-block, one exactly at it. */
		for (int i = 0; i < 700 + run * 300; i++) {
			cr_assert_eq(pid_alloc_next(&pa, &pid), 0);
			cr_assert_gt(pid, prev);
			cr_assert_lt(pid, (int64_t)sizeof(seen));
			cr_assert_eq(seen[pid], 0, "pid %ld repeated", (long)pid);
			seen[pid] = 1;
			prev = pid;
			/* Durable before use: the file covers every id handed out. */
			cr_assert_gt(file_value(), pid);
		}
		if (run % 2 == 0)
			pid_alloc_close(&pa);   /* odd runs "crash": no close */
	}
}

Test(pid_alloc, blocks_of_1000)
{
	struct pid_alloc pa;
	char err[256];
	int64_t pid;

	cr_assert_eq(pid_alloc_open(&pa, tdir_path, err, sizeof(err)), 0);
	cr_assert_eq(file_value(), -1);         /* nothing reserved until needed */
	cr_assert_eq(pid_alloc_next(&pa, &pid), 0);
	cr_assert_eq(pid, 0);
	cr_assert_eq(file_value(), PID_ALLOC_BLOCK);
	for (int i = 1; i < PID_ALLOC_BLOCK; i++)
		cr_assert_eq(pid_alloc_next(&pa, &pid), 0);
	cr_assert_eq(pid, PID_ALLOC_BLOCK - 1);
	cr_assert_eq(file_value(), PID_ALLOC_BLOCK);
	cr_assert_eq(pid_alloc_next(&pa, &pid), 0);
	cr_assert_eq(pid, PID_ALLOC_BLOCK);
	cr_assert_eq(file_value(), 2 * PID_ALLOC_BLOCK);
	pid_alloc_close(&pa);
	/* A restart skips the rest of the reserved block. */
	cr_assert_eq(pid_alloc_open(&pa, tdir_path, err, sizeof(err)), 0);
	cr_assert_eq(pid_alloc_next(&pa, &pid), 0);
	cr_assert_eq(pid, 2 * PID_ALLOC_BLOCK);
	pid_alloc_close(&pa);
}

Test(pid_alloc, damaged_file_refuses_to_start)
{
	const char *bad[] = { "", "abc\n", "12", "-5\n", "99999999999999999999\n", "12\nx" };
	struct pid_alloc pa;
	char path[300], err[256];

	snprintf(path, sizeof(path), "%s/%s", tdir_path, PID_ALLOC_FILE);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FILE *f = fopen(path, "w");

		fputs(bad[i], f);
		fclose(f);
		err[0] = '\0';
		cr_assert_eq(pid_alloc_open(&pa, tdir_path, err, sizeof(err)), -EINVAL, "'%s'",
			     bad[i]);
		cr_assert_neq(err[0], '\0');
	}
}

Test(pid_alloc, missing_dir_fails_on_first_block)
{
	struct pid_alloc pa;
	char sub[300], err[256];
	int64_t pid;

	snprintf(sub, sizeof(sub), "%s/nope", tdir_path);
	cr_assert_eq(pid_alloc_open(&pa, sub, err, sizeof(err)), 0);
	cr_assert_eq(pid_alloc_next(&pa, &pid), -ENOENT);
}
