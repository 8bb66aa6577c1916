/* SPDX-License-Identifier: Apache-2.0 */
/* Test fixture for the control/ tests that write files (metadata store,
 * meta.properties, producer-id blocks): a fresh directory under /tmp per
 * test, removed with everything in it when the test ends. */
#ifndef TESTS_UNIT_CONTROL_TDIR_H
#define TESTS_UNIT_CONTROL_TDIR_H

/* The current test's directory, set by tdir_setup(). */
extern char tdir_path[256];

/* Criterion .init / .fini: create tdir_path; remove it recursively. */
void tdir_setup(void);
void tdir_teardown(void);

#endif
