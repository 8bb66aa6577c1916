/* SPDX-License-Identifier: Apache-2.0 */
/* Wake the thread that reads an eventfd. A counter that would overflow
 * fails with EAGAIN on a non-blocking eventfd: it is readable already, so
 * the wake-up is delivered. Any other error is a bug (a closed or wrong fd). */
#ifndef COMMON_EFD_H
#define COMMON_EFD_H

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "common/assert.h"

static inline void
efd_kick(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0)
		ASSERT(errno == EAGAIN);
}

#endif
