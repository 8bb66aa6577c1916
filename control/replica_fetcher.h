/* SPDX-License-Identifier: Apache-2.0 */
/* Cluster mode: the replica fetcher, one thread that keeps this broker's
 * follower partitions in step with their leaders the way Kafka's
 * ReplicaFetcherThread does: a kernel TCP connection per leader broker on
 * the inter-broker listener, Fetch requests with this broker's replica id
 * for every partition it follows there, appends of the leader's batches
 * through storage ring core_count (ST_APPEND_REPLICA, offsets kept), the
 * leader's high watermark passed on (ST_REQ_REPLICA_HW), and on every new
 * leader epoch a truncation first (OffsetForLeaderEpoch to the leader,
 * ST_REQ_TRUNCATE locally, KIP-101/279) so a divergent tail is never kept.
 * Control tells it what to follow; it never blocks control. */
#ifndef CONTROL_REPLICA_FETCHER_H
#define CONTROL_REPLICA_FETCHER_H

#include <stdbool.h>
#include <stdint.h>

struct st;

struct rf_config {
	int32_t broker_id;              /* replica id in its Fetch requests */
	int ring;                       /* its storage ring index (core_count) */
	int32_t fetch_max_bytes;        /* replica.fetch.response.max.bytes */
	int32_t partition_max_bytes;    /* replica.fetch.max.bytes */
	int32_t fetch_wait_max_ms;      /* replica.fetch.wait.max.ms */
	int32_t fetch_min_bytes;        /* replica.fetch.min.bytes */
	int32_t backoff_ms;             /* replica.fetch.backoff.ms */
	int32_t socket_timeout_ms;      /* replica.socket.timeout.ms */
	const char *client_id;          /* e.g. "broker-2-fetcher-0" */
};

/* One partition to follow (or stop following: leader_id -1). */
struct rf_partition {
	uint8_t topic_id[16];
	const char *topic;              /* copied */
	int32_t partition;
	int32_t leader_id;              /* -1: stop following it */
	int32_t leader_epoch;           /* the epoch this broker follows at */
	const char *host;               /* leader's inter-broker endpoint (copied) */
	int32_t port;
};

/* What the fetcher knows of one followed partition (metrics). */
struct rf_partition_stats {
	uint8_t topic_id[16];
	int32_t partition;
	int32_t leader_id;
	int32_t leader_epoch;
	int64_t fetch_offset;           /* this broker's log end */
	int64_t leader_high_watermark;  /* from the last answer; -1 none yet */
	bool truncating;                /* still finding its divergence point */
	int16_t last_error;             /* the leader's last partition error */
};

struct rf;

/* Create (not started); NULL with err. st must have been created with
 * replica_ring and not be started yet: this attaches the fetcher's
 * completion eventfd to ring cfg->ring (st_attach_core). @thread control */
struct rf *rf_create(struct st *st, const struct rf_config *cfg, char *err, size_t err_size);
int rf_start(struct rf *rf);
/* Stop the thread and close its connections (what it follows is forgotten).
 * Waits (up to 10 s) for its storage requests in flight: call it before
 * st_stop(). */
void rf_stop(struct rf *rf);
void rf_destroy(struct rf *rf);

/* Change what is followed: each entry adds, moves (new leader or epoch:
 * truncation first) or, with leader_id -1, removes one partition. Returns
 * at once; the thread picks the change up on its next turn. @thread control */
void rf_update(struct rf *rf, const struct rf_partition *parts, int32_t count);
/* Forget a partition whose log is about to be closed or deleted, and wait
 * until no append of the fetcher is in flight for it. @thread control */
void rf_remove_sync(struct rf *rf, const uint8_t topic_id[16], int32_t partition);

/* Call fn for every followed partition (a consistent copy). @thread any */
void rf_stats(struct rf *rf, void (*fn)(void *arg, const struct rf_partition_stats *ps),
	      void *arg);

#endif
