/* SPDX-License-Identifier: Apache-2.0 */
/* Log line formatting. One fprintf per line so lines from different threads
 * do not interleave (stdio locks the stream per call). Not for the hot path. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

/* Read by every thread, changed at runtime by control (a dynamic
 * spillway.log.level): relaxed atomics, a level is one int. */
static enum log_level log_level_current = LOG_INFO;

static const char *const log_level_names[] = { "ERROR", "WARN", "INFO", "DEBUG" };

void
log_set_level(enum log_level level)
{
	__atomic_store_n(&log_level_current, level, __ATOMIC_RELAXED);
}

enum log_level
log_get_level(void)
{
	return __atomic_load_n(&log_level_current, __ATOMIC_RELAXED);
}

void
log_line(enum log_level level, const char *component, const char *fmt, ...)
{
	char msg[1024];
	char ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;

	if (level > log_get_level())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %s %s: %s\n", ts, now.tv_nsec / 1000000,
		log_level_names[level], component, msg);
}
