/* SPDX-License-Identifier: Apache-2.0 */
/* Clocks, absolute sleep and die() for the bench and test clients (see
 * bench_client.h); one copy instead of one per client. */
#include "bench_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t
clock_us(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t
bench_client_mono_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

uint64_t
bench_client_real_us(void)
{
	return clock_us(CLOCK_REALTIME);
}

void
bench_client_sleep_until_us(uint64_t when_us)
{
	struct timespec ts = { .tv_sec = (time_t)(when_us / 1000000u),
			       .tv_nsec = (long)(when_us % 1000000u) * 1000 };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

void
bench_client_die(const char *what, const char *why)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what, why ? why : "");
	exit(2);
}
