/* SPDX-License-Identifier: Apache-2.0 */
/* librdkafka configuration setters shared by the bench and test clients
 * (see bench_rdk.h). */
#include "bench_rdk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int
bench_rdk_set(rd_kafka_conf_t *conf, const char *key, const char *value)
{
	char errstr[512];

	if (rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "%s: %s=%s: %s\n", program_invocation_short_name, key, value,
			errstr);
		return -1;
	}
	return 0;
}

rd_kafka_conf_t *
bench_rdk_conf_new(const char *const kv[][2], size_t n)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		rc |= bench_rdk_set(conf, kv[i][0], kv[i][1]);
	if (rc != 0) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	return conf;
}

void
bench_rdk_must_set(rd_kafka_conf_t *conf, const char *key, const char *value)
{
	if (bench_rdk_set(conf, key, value) != 0)
		exit(2);
}
