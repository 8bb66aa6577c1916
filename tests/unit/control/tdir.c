/* SPDX-License-Identifier: Apache-2.0 */
/* The per-test temp directory of the control/ tests (see tdir.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/unit/control/tdir.h"

char tdir_path[256];

void
tdir_setup(void)
{
	snprintf(tdir_path, sizeof(tdir_path), "/tmp/spillway-test-XXXXXX");
	cr_assert_not_null(mkdtemp(tdir_path));
}

void
tdir_teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir_path);
	cr_assert_eq(system(cmd), 0);
}
