/* SPDX-License-Identifier: Apache-2.0 */
/* The storage double of the kp_dispatch() fuzz runs (fuzz_st.c). */
#ifndef TESTS_FUZZ_FUZZ_ST_H
#define TESTS_FUZZ_FUZZ_ST_H

#include <stdint.h>

struct st;

/* The one storage instance (core 0, one worker). */
struct st *fuzz_st_get(void);
/* File regions handed out by READ completions and not yet released. */
uint32_t fuzz_st_refs_held(void);

#endif
