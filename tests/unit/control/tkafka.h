/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: a real spillway broker process (the built binary, started
 * like tests/integration/conftest.py does) and a blocking Kafka client on
 * the generated codec: create topics, read topic ids from Metadata,
 * produce batches, and read a partition's batches back with Fetch. */
#ifndef TESTS_UNIT_CONTROL_TKAFKA_H
#define TESTS_UNIT_CONTROL_TKAFKA_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tk_broker {
	pid_t pid;
	int port;
	char dir[64];                   /* its log dir */
};

/* Start the broker at $SPILLWAY_BIN on port (0: a free one) with log dir
 * b->dir (created when empty); 0 once it accepts connections. */
int tk_broker_start(struct tk_broker *b);
/* SIGKILL and reap (a crash: the next start recovers the logs). */
void tk_broker_kill(struct tk_broker *b);

/* A blocking connection; -1 on failure. */
int tk_connect(int port);
/* One request (body encoded at version) and its answer's body, malloc'd
 * in *resp (the whole frame; *body points past the response header). */
int tk_call(int fd, int16_t api, int16_t version, const uint8_t *body, size_t len,
	    uint8_t **resp, const uint8_t **rbody, size_t *rlen);

/* CreateTopics v5 (replication factor 1); 0 or the Kafka error. */
int tk_create_topic(int fd, const char *name, int32_t partitions);
/* The topic id from Metadata v12; 0 when found. */
int tk_topic_id(int fd, const char *name, uint8_t id[16]);
/* Produce v9 acks=1 of one batch of `records` records; its base offset or
 * -1. */
int64_t tk_produce(int fd, const char *topic, int32_t partition, int records, uint8_t fill);
/* Every batch of the partition from offset 0 to the end (Fetch v12 as a
 * consumer), concatenated, malloc'd; its length in *len. */
uint8_t *tk_read_all(int fd, const char *topic, int32_t partition, size_t *len);

#endif
