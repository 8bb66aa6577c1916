/* SPDX-License-Identifier: Apache-2.0 */
/* Tests common/efd.h: a kick adds one to the counter and wakes a reader, and
 * a saturated non-blocking counter (the write fails with EAGAIN) is taken
 * as already woken, not as an error. */
#include <criterion/criterion.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/efd.h"

Test(efd, kick_counts_and_wakes)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t v = 0;

	cr_assert_geq(fd, 0);
	cr_assert_eq(poll(&pfd, 1, 0), 0);
	efd_kick(fd);
	cr_assert_eq(poll(&pfd, 1, 0), 1);
	efd_kick(fd);
	cr_assert_eq(read(fd, &v, sizeof(v)), (ssize_t)sizeof(v));
	cr_assert_eq(v, 2);
	cr_assert_eq(poll(&pfd, 1, 0), 0);
	close(fd);
}

Test(efd, saturated_counter_is_already_readable)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	uint64_t max = UINT64_MAX - 1, v = 0;

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, &max, sizeof(max)), (ssize_t)sizeof(max));
	efd_kick(fd);   /* EAGAIN: must not abort */
	cr_assert_eq(read(fd, &v, sizeof(v)), (ssize_t)sizeof(v));
	cr_assert_eq(v, max);
	close(fd);
}
