/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to the replica fetcher (replica_fetcher.c, rf_conn.c,
 * rf_fetch.c): the followed partitions, the connections to their leaders,
 * and the state machine each partition runs through on a new leader epoch
 * (KIP-279 truncation) before it fetches. One thread owns all of it; control
 * only touches the update queue under rf.lock. */
#ifndef CONTROL_RF_INT_H
#define CONTROL_RF_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "control/replica_fetcher.h"
#include "protocol/kp_wire.h"
#include "storage/st.h"

/* Fetch and OffsetForLeaderEpoch versions this fetcher speaks (Kafka's
 * follower: Fetch 12..16, v13+ by topic id; OffsetForLeaderEpoch 3..4). */
#define RF_FETCH_VERSION_MIN 12
#define RF_FETCH_VERSION_MAX 16
#define RF_OFLE_VERSION_MIN 3
#define RF_OFLE_VERSION_MAX 4
/* ListOffsets earliest, for a follower below the leader's log start
 * (v4+: current leader epoch). */
#define RF_LIST_VERSION_MIN 4
#define RF_LIST_VERSION_MAX 7
/* A response frame may exceed replica.fetch.response.max.bytes by one
 * oversized first batch (KIP-74) and the protocol's own fields. */
#define RF_FRAME_SLACK_BYTES (16u << 20)
#define RF_HOST_MAX 256
#define RF_CONNS_MAX 64         /* leader brokers one fetcher follows at once */

/* A partition's step (see replica_fetcher.c for the transitions). */
enum rf_state {
	RF_EPOCH_LOCAL = 0,     /* ask storage for its latest epoch and log end */
	RF_EPOCH_LEADER,        /* ask the leader where that epoch ends */
	RF_EPOCH_OWN,           /* ask storage where the leader's epoch ends here */
	RF_LIST_START,          /* out of range: ask the leader its log start */
	RF_TRUNCATE,            /* truncate locally to the divergence point */
	RF_FETCH,               /* fetch from fetch_offset */
	RF_FENCED,              /* the leader fenced our epoch: wait for control */
	RF_GONE,                /* removed: the slot is freed once nothing is pending */
};

/* Kinds of storage requests, in the token (see rf_token). */
enum rf_kind { RF_K_APPEND = 1, RF_K_HW, RF_K_EPOCH, RF_K_TRUNCATE, RF_K_START };

struct rf_conn;

struct rf_part {
	bool used;
	uint8_t topic_id[16];
	char *topic;
	int32_t partition;
	int32_t leader_id;
	int32_t leader_epoch;
	struct rf_conn *conn;
	enum rf_state state;
	uint32_t gen;                   /* bumped by every change control makes */
	bool in_request;                /* named in its connection's request in flight */
	uint32_t pending;               /* storage requests in flight */
	uint64_t retry_ns;              /* CLOCK_MONOTONIC; 0: now */
	int64_t fetch_offset;           /* the local log end */
	int64_t local_hw;
	int32_t local_epoch;            /* latest epoch in the local cache; -1 none */
	int64_t local_leo;
	int32_t leader_div_epoch;       /* the leader's OffsetForLeaderEpoch answer */
	int64_t leader_div_offset;
	int64_t trunc_offset;           /* RF_TRUNCATE: remove from here on */
	bool trunc_again;               /* then ask the leader again (KIP-279) */
	/* RF_TRUNCATE: remove everything, start at trunc_offset (below the
	 * leader's log start: ST_REQ_TRUNCATE_FULL). */
	bool trunc_full;
	int64_t leader_hw;              /* from the last fetch answer; -1 none */
	/* The leader's log start from its last fetch answer; -1 none. The
	 * local start follows it up (Kafka's follower
	 * maybeIncrementLogStartOffset) with ST_REQ_DELETE_RECORDS. */
	int64_t leader_start;
	int64_t log_start_offset;       /* the local log's, from completions */
	int16_t last_error;
	bool append_failed;
	/* Validated batches of the last answer, appended in order. */
	uint8_t *buf;
	uint32_t buf_len;
	uint32_t buf_pos;               /* next batch to submit */
	bool hw_due;                    /* REPLICA_HW after the appends complete */
};

enum rf_conn_state { RF_C_DOWN = 0, RF_C_CONNECTING, RF_C_VERSIONS, RF_C_READY };

/* One partition named in a request in flight. */
struct rf_ref {
	uint32_t slot;
	uint32_t gen;
	bool answered;
};

struct rf_conn {
	bool used;
	int32_t leader_id;
	char host[RF_HOST_MAX];
	int32_t port;
	int fd;
	enum rf_conn_state state;
	uint64_t retry_ns;              /* reconnect not before */
	uint32_t failures;              /* in a row: the first is logged at WARN */
	int16_t fetch_version;
	int16_t ofle_version;
	int16_t list_version;           /* ListOffsets; -1: the leader has none we speak */
	int32_t corr;
	int16_t inflight_api;           /* -1: none */
	int16_t inflight_version;
	uint64_t deadline_ns;
	struct rf_ref *refs;
	uint32_t ref_count;
	uint32_t ref_cap;
	uint32_t ref_hint;              /* where the next answer part likely is */
	uint8_t *rx;
	uint32_t rx_len;
	uint32_t rx_cap;
	uint32_t users;                 /* partitions following through it */
};

/* A pending change from control. */
struct rf_change {
	struct rf_partition p;          /* topic and host point at the copies */
	char *topic;
	char *host;
};

/* rf_remove_sync's waiter: done once the partition is forgotten and has no
 * storage request in flight. */
struct rf_waiter {
	uint8_t topic_id[16];
	int32_t partition;
	bool taken;                     /* the thread applied the removal */
	bool done;
	struct rf_waiter *next;
};

struct rf {
	struct st *st;
	struct rf_config cfg;
	char *client_id;
	int wake_fd;                    /* control -> fetcher: changes queued */
	int st_fd;                      /* storage -> fetcher: completions */
	pthread_t thread;
	bool running;

	pthread_mutex_t lock;           /* guards the fields below up to stats */
	pthread_cond_t cond;
	bool stop;
	struct rf_change *changes;
	uint32_t change_count;
	uint32_t change_cap;
	struct rf_waiter *waiters;
	struct rf_partition_stats *stats;       /* published copy */
	uint32_t stats_count;

	/* fetcher thread only (or control while the thread is not running) */
	struct rf_part *parts;
	uint32_t part_cap;
	struct rf_conn *conns;
	uint32_t conn_cap;
	bool st_dirty;                  /* submitted since the last st_flush */
};

static inline uint64_t
rf_token(uint32_t slot, enum rf_kind kind, uint32_t gen)
{
	return ((uint64_t)slot << 32) | ((uint64_t)kind << 24) | (gen & 0xffffffu);
}

/* replica_fetcher.c */
struct rf_part *rf_part_find(struct rf *rf, const uint8_t topic_id[16], int32_t partition);
bool rf_submit(struct rf *rf, struct rf_part *p, uint32_t slot, struct st_req *req,
	       enum rf_kind kind);
void rf_part_restart(struct rf *rf, struct rf_part *p, uint64_t delay_ns);
/* The divergence point is known: truncate there when below the log end,
 * else fetch from the log end. again: an intermediate point (the follower
 * lacks the leader's epoch): truncate (dropping the epoch cache entries
 * there) and ask the leader again with the then latest local epoch. */
void rf_part_truncate_to(struct rf_part *p, int64_t offset, bool again);
/* The local log end is below the leader's log start (OFFSET_OUT_OF_RANGE
 * on fetch): truncate fully and start at the leader's log start (Kafka's
 * truncateFullyAndStartAt), then fetch from there. */
void rf_part_truncate_full(struct rf_part *p, int64_t leader_start);
uint64_t rf_backoff_ns(const struct rf *rf);

/* rf_conn.c: the connection to one leader. */
struct rf_conn *rf_conn_get(struct rf *rf, int32_t leader_id, const char *host, int32_t port);
void rf_conn_put(struct rf *rf, struct rf_conn *conn);
/* Start connecting when down and its backoff is over (non-blocking: the
 * thread polls for POLLOUT until conn->deadline_ns). */
void rf_conn_open(struct rf *rf, struct rf_conn *conn, uint64_t now_ns);
/* The socket of a connecting conn became writable: connected (ApiVersions
 * sent) or failed. */
void rf_conn_connected(struct rf *rf, struct rf_conn *conn);
/* Send one request: header (api, version, next correlation id) and body w.
 * 0, or -1 (the connection is closed with backoff). */
int rf_conn_send(struct rf *rf, struct rf_conn *conn, int16_t api, int16_t version,
		 const uint8_t *body, size_t body_len);
/* Read what arrived; 1 when a whole response frame is in conn->rx (body
 * after the response header at *body, *body_len), 0 when more is needed,
 * -1 on error (closed). */
int rf_conn_read(struct rf *rf, struct rf_conn *conn, const uint8_t **body, size_t *body_len);
/* The response in rx has been handled: ready for the next request. */
void rf_conn_done(struct rf_conn *conn);
/* Close with backoff; partitions named in the request in flight are free
 * to be asked again. */
void rf_conn_fail(struct rf *rf, struct rf_conn *conn, const char *why);
/* Handle the ApiVersions answer (conn->inflight_api is ApiVersions). */
int rf_conn_versions(struct rf *rf, struct rf_conn *conn, const uint8_t *body, size_t len);

/* rf_fetch.c: requests to a ready idle connection and their answers. */
/* Send OffsetForLeaderEpoch for its partitions in RF_EPOCH_LEADER, else a
 * Fetch for its partitions ready to fetch; nothing when none. */
void rf_fetch_send(struct rf *rf, struct rf_conn *conn, uint64_t now_ns);
/* Encode the body of a Fetch or OffsetForLeaderEpoch request at the
 * connection's version for the partitions in conn->refs (sorted by topic). */
void rf_fetch_encode(struct rf *rf, struct rf_conn *conn, int16_t api, struct kp_writer *w);
/* Apply a Fetch or OffsetForLeaderEpoch answer. 0, or -1 (malformed). */
int rf_fetch_answer(struct rf *rf, struct rf_conn *conn, const uint8_t *body, size_t len,
		    uint64_t now_ns);
/* Check and keep the batches of one partition's answer: whole batches
 * from fetch_offset on, magic 2, CRC-32C, contiguous offsets, at most
 * max_bytes in all. Returns the bytes of valid batches at the start of
 * records (a torn last batch is dropped, as Kafka's follower does), or -1
 * when a batch is corrupt. *next is the offset after them. */
/* Is conn->refs[i] of another topic than conn->refs[i - 1]? */
bool rf_topic_differs(const struct rf *rf, const struct rf_conn *conn, uint32_t i);
/* Topics in conn->refs (sorted): count of distinct topics. */
uint32_t rf_topic_count(const struct rf *rf, const struct rf_conn *conn);
/* The partition of the request in flight that an answer names (by topic
 * name, or id when id is not NULL), still as it was asked; NULL otherwise.
 * Leaders answer in request order: the search starts after the last one
 * found. */
struct rf_part *rf_answer_part(struct rf *rf, struct rf_conn *conn, struct kp_str topic,
			       const uint8_t *id, int32_t partition);
/* Kafka's AbstractFetcherThread: FENCED_LEADER_EPOCH stops the partition
 * until control gives a new epoch; other errors (NOT_LEADER_OR_FOLLOWER,
 * UNKNOWN_LEADER_EPOCH: the leader has not caught up with the controller
 * yet; unknown topic) retry after replica.fetch.backoff.ms, and a new
 * leader or epoch from control retries at once. */
void rf_part_error(struct rf *rf, struct rf_part *p, int16_t err, uint64_t now_ns);
int64_t rf_batches_check(const uint8_t *records, size_t len, int64_t fetch_offset,
			 size_t max_bytes, int64_t *next);

/* rf_list.c: ListOffsets earliest (replica id self) for the partitions in
 * RF_LIST_START, and its answers: below the leader's log start, truncate
 * fully and start there; else restart (the epoch truncation). */
void rf_list_encode(struct rf *rf, struct rf_conn *conn, struct kp_writer *w);
int rf_list_apply(struct rf *rf, struct rf_conn *conn, const uint8_t *body, size_t len,
		  uint64_t now_ns);

#endif
