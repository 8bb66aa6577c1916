/* SPDX-License-Identifier: Apache-2.0 */
/* What the load generators and test clients (bench/spillway-bench,
 * bench/idle-fetchers, tests/hostile's bystander, tests/integration's
 * rdkafka drivers) share: clocks in microseconds, an absolute sleep and
 * dying with the program's name. The librdkafka parts are in bench_rdk.h. */
#ifndef BENCH_CLIENT_H
#define BENCH_CLIENT_H

#include <stdint.h>

/* CLOCK_MONOTONIC in microseconds. @thread any */
uint64_t bench_client_mono_us(void);

/* CLOCK_REALTIME in microseconds (what payload stamps and reports carry).
 * @thread any */
uint64_t bench_client_real_us(void);

/* Sleeps until CLOCK_MONOTONIC reaches when_us (bench_client_mono_us()
 * time), through signals. @thread any */
void bench_client_sleep_until_us(uint64_t when_us);

/* Prints "<program>: what: why" to stderr and exits with status 2 (the
 * clients' "could not run" status); why may be NULL. @thread any */
__attribute__((noreturn)) void bench_client_die(const char *what, const char *why);

#endif
