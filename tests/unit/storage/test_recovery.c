/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder. */
#include <criterion/criterion.h>
Test(test_recovery, todo) {}
