/* SPDX-License-Identifier: Apache-2.0 */
/* Assertions. ASSERT() is on in every build (assert_level >= 1) and prints
 * file, line and expression before aborting; ASSERT_HOT() is for the hot path
 * and compiles away unless assert_level == 2, as CI builds.
 *
 * A condition is never evaluated where its macro is off, so it must have no
 * side effects: do the work first, then assert on the result
 * (rc = f(...); ASSERT(rc == 0);). scripts/check-asserts.py enforces this in
 * the unit suite, and CI runs that suite at assert_level 0 too. Assert
 * programmer bugs only: an operating error (ENOMEM, EIO, a failed syscall)
 * is returned as -errno and handled. */
#ifndef COMMON_ASSERT_H
#define COMMON_ASSERT_H

#include <stdio.h>
#include <stdlib.h>

#ifndef SPILLWAY_ASSERT_LEVEL
#define SPILLWAY_ASSERT_LEVEL 1
#endif

__attribute__((cold, noreturn)) static inline void
assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "spillway: assertion failed: %s (%s:%d)\n", expr, file, line);
	abort();
}

#define PANIC(msg) assert_fail((msg), __FILE__, __LINE__)

#if SPILLWAY_ASSERT_LEVEL >= 1
#define ASSERT(cond) \
	do { if (__builtin_expect(!(cond), 0)) assert_fail(#cond, __FILE__, __LINE__); } while (0)
#else
#define ASSERT(cond) ((void)sizeof(cond))
#endif

#if SPILLWAY_ASSERT_LEVEL >= 2
#define ASSERT_HOT(cond) ASSERT(cond)
#else
#define ASSERT_HOT(cond) ((void)sizeof(cond))
#endif

#define STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)

#endif
