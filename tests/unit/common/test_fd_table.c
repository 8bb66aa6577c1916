/* SPDX-License-Identifier: Apache-2.0 */
/* fd_table_reserve(): the table covers what was asked, within RLIMIT_NOFILE
 * and FD_TABLE_RESERVE_MAX, and descriptors opened afterwards do not grow
 * it. Criterion runs each test in its own process. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/fd_table.h"

static void
soft_limit(rlim_t n)
{
	struct rlimit rl;

	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < n)
		cr_skip_test("RLIMIT_NOFILE hard limit %llu below %llu",
			     (unsigned long long)rl.rlim_max, (unsigned long long)n);
	rl.rlim_cur = n;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

Test(fd_table, grows_to_what_is_asked)
{
	int64_t before, after;
	int fds[600];

	soft_limit(8192);
	before = fd_table_size();
	cr_assert_gt(before, 0);
	cr_assert_lt(before, 4000, "a fresh process starts with a small table (%lld)",
		     (long long)before);
	cr_assert_eq(fd_table_reserve(4000), 4000);
	after = fd_table_size();
	cr_assert_geq(after, 4000);
	for (int i = 0; i < 600; i++)
		cr_assert_geq(fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC), 0);
	cr_assert_eq(fd_table_size(), after, "opening descriptors grew the table again");
	for (int i = 0; i < 600; i++)
		close(fds[i]);
}

Test(fd_table, bounded_by_the_soft_limit)
{
	soft_limit(700);
	cr_assert_eq(fd_table_reserve(1u << 30), 700);
	cr_assert_geq(fd_table_size(), 700);
}

Test(fd_table, bounded_by_its_maximum)
{
	soft_limit(FD_TABLE_RESERVE_MAX + 4096);
	cr_assert_eq(fd_table_reserve(UINT64_MAX), FD_TABLE_RESERVE_MAX);
}

Test(fd_table, nothing_asked)
{
	cr_assert_eq(fd_table_reserve(0), 0);
}
