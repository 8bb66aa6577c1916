/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to protocol/: requests that wait on storage. A handler takes a
 * kp_pending, submits one storage request per partition and returns
 * KP_VERDICT_PENDING; kp_core.c routes completions back by token and calls
 * the handler's ops to fill partition results and, once none is left
 * outstanding, to encode the response (re-reading the request frame, which
 * the dataplane keeps alive until then). @thread dataplane */
#ifndef PROTOCOL_KP_CORE_INT_H
#define PROTOCOL_KP_CORE_INT_H

#include "common/assert.h"
#include "protocol/kp_int.h"
#include "storage/st.h"

/* Requests per core that may wait on storage at once. */
#define KP_PENDING_MAX 1024u
/* Partitions one pending request may name (the token has 16 bits for it). */
#define KP_PENDING_PARTS_MAX 65535u

/* One partition of a pending request, in request order. */
struct kp_part {
	uint8_t topic_id[16];
	int32_t partition;
	int16_t error;
	bool outstanding;       /* a storage request is in flight */
	int64_t log_start_offset;
	int64_t high_watermark;
	int64_t last_stable_offset;
	int64_t offset;         /* base offset / found offset / end offset */
	int64_t timestamp;      /* log-append time / found timestamp */
	int32_t leader_epoch;
	/* READ results: a file region held until released. */
	bool cut;               /* over the request's max_bytes: not sent */
	int fd;
	int32_t len;
	int64_t pos;
	uint32_t ref;
};

struct kp_pending;

struct kp_pending_ops {
	/* All outstanding partitions completed: encode the response into done
	 * (verdict REPLY or NO_REPLY), or start another round of storage
	 * requests and return false (long-poll fetch). */
	bool (*finish)(struct kp_core *kc, struct kp_pending *p, struct kp_done *done);
	/* The long-poll deadline passed while waiting (may be NULL). */
	void (*expire)(struct kp_core *kc, struct kp_pending *p);
};

struct kp_pending {
	const struct kp_pending_ops *ops;
	uint64_t tag;
	uint64_t frame_tag;
	const uint8_t *frame;           /* the request, kept alive by the dataplane */
	uint32_t frame_len;
	struct kp_req_header hdr;
	struct kp_cursor body;          /* where the body starts in frame */
	uint32_t gen;                   /* bumped on reuse: stale tokens drop */
	uint16_t round;                 /* bumped per round of storage requests */
	bool used;
	bool waiting;                   /* long-poll: watches out, deadline set */
	uint32_t part_count;
	uint32_t part_left;             /* outstanding storage requests */
	struct kp_part *parts;
	uint64_t deadline_ns;
	int32_t min_bytes;              /* Fetch */
	int32_t max_bytes;              /* Fetch */
	int8_t isolation;               /* Fetch, ListOffsets */
};

/* Take a free pending record with room for part_count partitions; NULL
 * when the core has none left (the handler answers with an error). */
struct kp_pending *kp_pending_get(struct kp_core *kc, const struct kp_call *call,
				  const struct kp_pending_ops *ops, uint32_t part_count);
/* Give back a record that never submitted anything. */
void kp_pending_put(struct kp_core *kc, struct kp_pending *p);
/* Submit a storage request for partition index `part` (fills topic id,
 * partition and token; queues it if the ring is full). */
void kp_pending_submit(struct kp_core *kc, struct kp_pending *p, uint32_t part,
		       struct st_req *req);
/* The record waits (watches out) until a watch fires or its deadline. */
void kp_pending_wait(struct kp_core *kc, struct kp_pending *p);
/* Start a new round: earlier rounds' completions are ignored from now on. */
void kp_pending_next_round(struct kp_pending *p);
/* Give back every file region the record still holds. */
void kp_pending_release_reads(struct kp_core *kc, struct kp_pending *p);

#endif
