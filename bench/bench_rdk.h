/* SPDX-License-Identifier: Apache-2.0 */
/* librdkafka configuration for the bench and test clients: one setter that
 * reports the key, value and librdkafka's reason, a new conf from a table of
 * settings, and a dying form for the test
 * drivers. */
#ifndef BENCH_RDK_H
#define BENCH_RDK_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>

/* Sets key=value on conf; on failure prints "<program>: key=value: reason"
 * and returns -1, else 0. @thread any (conf: the caller's) */
int bench_rdk_set(rd_kafka_conf_t *conf, const char *key, const char *value);

/* A new conf holding each {key, value} of kv[0..n), or NULL when one is
 * refused (all are tried, so every bad key is reported). @thread any */
rd_kafka_conf_t *bench_rdk_conf_new(const char *const kv[][2], size_t n);

/* bench_rdk_set(), exiting with status 2 on failure. @thread any */
void bench_rdk_must_set(rd_kafka_conf_t *conf, const char *key, const char *value);

#endif
