/* SPDX-License-Identifier: Apache-2.0 */
/* Descriptor table sizing at startup: fd_table.h says why. */
#include "common/fd_table.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/compiler.h"

int64_t
fd_table_reserve(uint64_t want)
{
	struct rlimit rl;
	uint64_t n = MIN(want, (uint64_t)FD_TABLE_RESERVE_MAX);
	int fd;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -errno;
	if (rl.rlim_cur != RLIM_INFINITY)
		n = MIN(n, (uint64_t)rl.rlim_cur);
	if (n == 0)
		return 0;
	/* The lowest free descriptor at or above n - 1 is n - 1 itself unless
	 * it is taken; either way the table now covers n descriptors. */
	fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, (int)(n - 1));
	if (fd < 0) {
		int err = errno;
		int tmp = open("/dev/null", O_RDONLY | O_CLOEXEC);

		/* stderr may be closed: any descriptor will do. */
		if (tmp < 0)
			return -err;
		fd = fcntl(tmp, F_DUPFD_CLOEXEC, (int)(n - 1));
		err = errno;
		close(tmp);
		if (fd < 0)
			return -err;
	}
	close(fd);
	return (int64_t)n;
}

int64_t
fd_table_size(void)
{
	char line[128];
	long long v = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "FDSize:", 7) == 0) {
			if (sscanf(line + 7, "%lld", &v) != 1)
				v = -1;
			break;
		}
	}
	fclose(f);
	return v;
}
