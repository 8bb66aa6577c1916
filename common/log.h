/* SPDX-License-Identifier: Apache-2.0 */
/* Leveled, structured log lines on stderr ("ts level component: msg").
 * For the control thread and startup only: dataplane cores never format logs
 * on the hot path; they bump counters that control reads. */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_line(enum log_level level, const char *component, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_error(comp, ...) log_line(LOG_ERROR, comp, __VA_ARGS__)
#define log_warn(comp, ...) log_line(LOG_WARN, comp, __VA_ARGS__)
#define log_info(comp, ...) log_line(LOG_INFO, comp, __VA_ARGS__)
#define log_debug(comp, ...) log_line(LOG_DEBUG, comp, __VA_ARGS__)

#endif
