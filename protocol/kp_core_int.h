/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to protocol/: requests that wait on storage. A handler takes the
 * kp_pending record of its reply slot (kp_pending_begin), fills one kp_part
 * per partition (what to ask storage, in part->op) and runs it; kp_pending.c
 * submits the parts as ring room allows, kp_core.c routes completions back
 * by token, and the response is encoded by the handler's ops once no part
 * is outstanding (the shape is described below, before kp_shape). A record
 * never holds the receive buffer its request arrived in unless the dataplane
 * allowed it (env->frame_keep): otherwise it keeps its own copy of the
 * frame. Long-poll waits are subscriptions per partition on this core (one
 * storage WATCH per partition, however many requests wait on it) and a
 * deadline heap. @thread dataplane */
#ifndef PROTOCOL_KP_CORE_INT_H
#define PROTOCOL_KP_CORE_INT_H

#include "common/assert.h"
#include "protocol/kp_int.h"
#include "storage/st.h"

/* Records are indexed by the dataplane's reply slot (env->slot), so each
 * connection owns inflight_max of them and no client can drain another's.
 * A storage token packs [63..48] generation, [47..24] slot, [23..0] part. */
#define KP_SLOT_BITS 24
#define KP_PART_BITS 24
#define KP_SLOTS_MAX (1u << KP_SLOT_BITS)
STATIC_ASSERT(KP_SLOTS_MAX == KP_CORE_SLOTS_MAX, "the public bound is the token's");
/* Partitions one request may name: more closes the connection (a frame
 * that large is far beyond any real client's request). */
#define KP_PARTS_MAX ((1u << KP_PART_BITS) - 1)

#define KP_SUB_NONE UINT32_MAX

struct kp_pending;

/* One partition of a pending request, in response order. */
struct kp_part {
	uint8_t topic_id[16];
	struct kp_str topic;    /* name, pointing into the record's frame */
	int32_t partition;
	int16_t error;
	uint8_t op;             /* ST_REQ_* to submit this round, 0: none */
	bool outstanding;       /* submitted, completion not yet in */
	/* What to ask storage. */
	int64_t in_offset;      /* READ: fetch offset; OFFSET: timestamp */
	int32_t in_limit;       /* READ: bytes to read; EPOCH: leader epoch */
	int32_t part_max;       /* Fetch: the partition's max bytes as asked */
	uint8_t *batch;         /* APPEND: the validated batch, in the frame */
	uint32_t batch_len;
	bool validating;        /* Produce: the batch is not validated yet */
	uint64_t t_done_ns;     /* APPEND: st_cpl.append.t_done_ns (0: not timed) */
	bool unchanged;         /* long poll: woken with no new data here */
	/* What storage answered. */
	int64_t log_start_offset;
	int64_t high_watermark;
	int64_t last_stable_offset;
	int64_t offset;         /* base offset / found offset / end offset */
	int64_t timestamp;      /* log-append time / found timestamp */
	int32_t leader_epoch;
	int32_t leader_id;      /* NOT_LEADER_OR_FOLLOWER: the leader (KIP-951),
				 * with leader_epoch its epoch */
	/* PRODUCERS: storage's list, freed with the record (kp_pending_put). */
	struct st_producer *producers;
	uint32_t producer_count;
	/* READ results: a file region held until released. */
	bool cut;               /* not sent (over max_bytes) */
	bool over_limit;        /* longer than in_limit (a whole first batch) */
	int fd;
	int32_t len;
	int64_t pos;
	uint32_t ref;
	/* READ, read_committed: storage's aborted transactions in the data,
	 * freed with the record (kp_pending_put) or the next READ. */
	struct st_aborted_txn *aborted;
	uint32_t aborted_count;
	/* Long poll: this partition's place in its subscription's list. */
	struct kp_pending *owner;
	struct kp_part *wnext;
	struct kp_part *wprev;
	uint32_t sub;
};

/* ---- One shape for a request that waits on storage ----
 *
 * Decode once, keep the parts. A handler's request is decoded in full once,
 * from the record's own memory (kp_pending_begin: the frame kept or copied
 * first, so every name and batch the parts point at outlives the call);
 * that decode is the request's validation. What later stages need per
 * partition (what to ask storage, what it answered) is then kept decoded,
 * in p->parts, in response order, and no stage decodes a partition entry
 * again. The request's topic array is kept as the wire slice p->topics;
 * walking it again (kp_pending_visit) costs a pass of cursor reads and
 * no allocation, so the few stages that need the request's own topic
 * structure rather than the parts (counting the parts before they are
 * allocated, filling them, and the responses that mirror the request's
 * topic list entry by entry: ListOffsets, OffsetForLeaderEpoch) walk it
 * instead of keeping a second decoded copy of it. Produce and Fetch answer
 * per run of parts of one topic, from the parts alone.
 *
 * Every storage-backed API is one kp_pending_ops: its request shape (for
 * kp_pending_begin and kp_pending_visit), the encoder of its response body
 * from the parts, and the optional hooks below. The core does the rest the
 * same way for all of them: submit, route completions, then kp_pending_reply
 * (framing, file regions as pieces, NO_REPLY for acks=0) or, when nothing
 * had to go to storage, kp_pending_run answers in the dispatch call. */

/* Decode the whole request into req; its topic array into *topics. */
typedef int kp_shape_request_fn(struct kp_cursor *c, int16_t version, void *req,
				struct kp_array *topics);
/* Decode the next topic entry: its name, and its partitions into *parts. */
typedef struct kp_str kp_shape_topic_fn(struct kp_cursor *it, int16_t version,
					struct kp_array *parts);
/* Decode the next partition entry into entry (the API's generated type). */
typedef void kp_shape_part_fn(struct kp_cursor *it, int16_t version, void *entry);

/* A request whose body is topics, each with a name and partitions. */
struct kp_shape {
	kp_shape_request_fn *request;
	kp_shape_topic_fn *topic;
	kp_shape_part_fn *part;
};

/* Defines the const struct kp_shape `shape` from an API's generated types:
 * req: the request struct (its `topics` field the topic array), topic: the
 * topic entry struct with fields `name` and `parts`, part: the partition
 * entry struct. Generated decoders differ only in their types, so their
 * thunks are written once, here. */
#define KP_SHAPE_DEFINE(shape, req, topics, topic, name, parts, part)                  \
	static int shape##_request(struct kp_cursor *c, int16_t v, void *r,           \
				   struct kp_array *out)                              \
	{                                                                              \
		int rc = req##_decode(c, v, r);                                        \
		*out = ((struct req *)r)->topics;                                      \
		return rc;                                                             \
	}                                                                              \
	static struct kp_str shape##_topic(struct kp_cursor *it, int16_t v,            \
					   struct kp_array *out)                       \
	{                                                                              \
		struct topic t;                                                        \
		(void)topic##_decode(it, v, &t);                                       \
		*out = t.parts;                                                        \
		return t.name;                                                         \
	}                                                                              \
	static void shape##_part(struct kp_cursor *it, int16_t v, void *e)             \
	{                                                                              \
		(void)part##_decode(it, v, e);                                         \
	}                                                                              \
	static const struct kp_shape shape = { shape##_request, shape##_topic, shape##_part }

struct kp_pending_ops {
	const struct kp_shape *shape;
	/* Encode the response body from the parts (nothing outstanding). A
	 * part with a file region (len > 0, no error, not cut) is written as
	 * a kp_bytes_external hole, in part order. */
	void (*encode)(const struct kp_pending *p, struct kp_writer *w);
	/* Optional, before answering from storage's results: start another
	 * round or a wait (kp_pending_wait) and return true, or return false
	 * to answer now. */
	bool (*again)(struct kp_core *kc, struct kp_pending *p);
	/* A wait ended (data arrived or the deadline passed): start the next
	 * round (may be NULL for requests that never wait). */
	void (*wake)(struct kp_core *kc, struct kp_pending *p);
	/* On the validation queue: do about *budget bytes of work, lowering
	 * it; true when done (the record's parts are then started). May be
	 * NULL for requests that never queue. */
	bool (*step)(struct kp_core *kc, struct kp_pending *p, size_t *budget);
};

struct kp_records_job;

/* The core's lists of records (kp_pending_list_*): a record is on each at
 * most once, so none holds more than the core's slot_count records, and
 * none ever refuses one (see the policies in kp_pending.c). */
enum kp_list {
	KP_LIST_SUBMIT,         /* parts not yet submitted (a ring was full) */
	KP_LIST_VALIDATE,       /* Produce batches validated in slices */
	KP_LIST_READY,          /* settled in the next poll */
	KP_LISTS,
};

struct kp_link {
	struct kp_pending *prev;
	struct kp_pending *next;
	bool on;
};

enum kp_pending_state {
	KP_PENDING_FREE = 0,
	KP_PENDING_ACTIVE,      /* parts queued or outstanding in storage */
	KP_PENDING_WAITING,     /* long poll: subscribed, deadline in the heap */
};

struct kp_pending {
	const struct kp_pending_ops *ops;
	uint64_t tag;                   /* env->tag: the dataplane's reply identity */
	uint64_t frame_tag;             /* env->frame_tag when the frame is kept by
					 * reference (frame_kept), else unused */
	uint8_t *copy;                  /* our copy of the frame, or NULL */
	struct kp_request_header hdr;   /* client_id points into the frame */
	struct kp_cursor body;          /* the request body in the frame */
	struct kp_array topics;         /* the request's topic array, in the frame */
	uint64_t t_frame_ns;            /* env->t0_ns (0: not timed) */
	uint64_t t_valid_ns;            /* Produce: validated (0: not yet) */
	double quota_bound;             /* Fetch: consumer_byte_rate (0: none) */
	bool quota_tags_user;           /* and its metric (kp_quota_resolve) */
	bool quota_tags_client;
	int32_t throttle_ms;            /* client quota: the response's
					 * throttle_time_ms, and how long the
					 * connection is muted after it */
	int32_t req_throttle_ms;        /* request_percentage's throttle, set
					 * after dispatch (kp_req_quota.c) */
	bool quota_empty;               /* Fetch: throttled, answered empty */
	uint16_t gen;                   /* bumped per use: stale tokens assert */
	uint8_t state;                  /* enum kp_pending_state */
	bool cancelled;                 /* the connection closed: drop the answer */
	/* Waits in a row that were ready at once (kp_pending_wait): a
	 * subscription armed past what the reads keep seeing (a high
	 * watermark that moved back, as after a leader change) must not
	 * make a long poll spin; Fetch answers after KP_WAKES_AT_ONCE_MAX. */
	uint8_t wakes_at_once;
#define KP_WAKES_AT_ONCE_MAX 8
	bool frame_kept;                /* the dataplane's frame memory is ours */
	uint32_t next_submit;           /* parts before it submitted this round */
	uint32_t part_count;
	uint32_t part_left;             /* parts with an op not yet completed */
	struct kp_part *parts;
	struct kp_link link[KP_LISTS];  /* on the core's lists (enum kp_list) */
	uint32_t conn;                  /* env->conn: order is kept per connection */
	uint32_t vpart;                 /* parts before it validated */
	struct kp_records_job *job;     /* the part at vpart's, if begun */
	uint64_t deadline_ns;           /* long poll; 0: the next answer is final */
	uint32_t heap_index;            /* in the deadline heap while WAITING */
	uint64_t held_bytes;            /* memory this record holds (frame copy, parts) */
	/* Per-API request fields the finish step needs. */
	int32_t min_bytes;              /* Fetch */
	int32_t max_bytes;              /* Fetch */
	int8_t isolation;               /* Fetch, ListOffsets */
	bool replica;                   /* Fetch from a follower (cluster mode) */
	int32_t replica_id;             /* its broker id, when replica */
	int16_t acks;                   /* Produce */
	int32_t timeout_ms;             /* Produce: the acks=all wait for the ISR */
	bool no_reply;                  /* Produce acks=0: answer nothing */
	bool producer_lists;            /* a part holds a storage PRODUCERS list */
	bool aborted_lists;             /* a part holds a READ's aborted list */
	void *api;                      /* handler-owned state (NULL when none),
					 * free()d by kp_pending_put */
};

/* Take the record of this call's reply slot for an API of ops: keep or
 * copy the frame, decode the request from that memory into req (the API's
 * request struct, ops->shape) and give it one zeroed part per partition
 * (the frame and parts are the record's held_bytes). NULL when there is no
 * storage, the request does not decode, memory runs out or it names more
 * than KP_PARTS_MAX partitions: the handler closes the connection. */
struct kp_pending *kp_pending_begin(struct kp_call *call, const struct kp_pending_ops *ops,
				    void *req);
/* One partition entry of the request, as kp_pending_visit passes it. */
struct kp_visit_part {
	uint32_t index;                 /* in request order: its part */
	struct kp_str name;             /* its topic's name, in the record */
	const struct kp_md_topic *topic; /* by name in v->md; NULL: unknown */
	const void *entry;              /* decoded, of the API's generated type */
	bool denied;                    /* v->acl_op on its topic is not authorized */
};
/* What to call for each topic and partition entry of a request. */
struct kp_visit {
	const struct kp_md *md;         /* for kp_visit_part.topic (may be NULL) */
	void *entry;                    /* room for one partition entry */
	/* Each topic entry, before its partitions [first, first + count). */
	void (*topic)(void *arg, struct kp_str name, uint32_t first, uint32_t count);
	void (*part)(void *arg, const struct kp_visit_part *vp);  /* NULL: skip */
	void *arg;
	/* The operation each topic needs (KP_ACL_*, checked once per topic
	 * entry against env's session; kp_visit_part.denied), or 0. */
	int acl_op;
	const struct kp_env *env;
};
/* Walk p's request (p->topics, in request order) with v: one metadata
 * lookup per topic entry, the partitions decoded into v->entry only when
 * v->part is set. @thread dataplane */
void kp_pending_visit(const struct kp_pending *p, const struct kp_visit *v);
/* Whether partition exists in topic (NULL: an unknown topic). */
static inline bool
kp_visit_known(const struct kp_md_topic *topic, int32_t partition)
{
	return topic != NULL && partition >= 0 && partition < topic->partition_count;
}
/* The generated encoders of a response shaped topics -> partitions. */
struct kp_encoders {
	void (*part)(struct kp_writer *w, int16_t version, const struct kp_part *pt);
	void (*topic)(struct kp_writer *w, int16_t version, struct kp_str name,
		      struct kp_array parts);
	void (*response)(struct kp_writer *w, int16_t version, struct kp_array topics,
			 int32_t throttle_ms);
};
/* Defines the const struct kp_encoders `encoders` from an API's generated
 * response types (resp with field `topics`, the topic entry type with
 * fields `name` and `parts`) and its partition encoder part_fn. */
#define KP_ENCODERS_DEFINE(encoders, resp, topics, topic, name, parts, part_fn)        \
	static void encoders##_topic(struct kp_writer *w, int16_t v, struct kp_str n,  \
				     struct kp_array a)                                \
	{                                                                              \
		struct topic t;                                                        \
		topic##_init(&t);                                                      \
		t.name = n;                                                            \
		t.parts = a;                                                           \
		topic##_encode(w, v, &t);                                              \
	}                                                                              \
	static void encoders##_response(struct kp_writer *w, int16_t v, struct kp_array a, \
					int32_t throttle_ms)                           \
	{                                                                              \
		struct resp r;                                                         \
		resp##_init(&r);                                                       \
		r.topics = a;                                                          \
		r.throttle_time_ms = throttle_ms;                                      \
		resp##_encode(w, v, &r);                                               \
	}                                                                              \
	static const struct kp_encoders encoders = { part_fn, encoders##_topic,        \
						     encoders##_response }
/* How the response groups the parts under topic entries. */
enum kp_grouping {
	KP_GROUP_RUNS,          /* a topic entry per run of parts of one name */
	KP_GROUP_REQUEST,       /* a topic entry per request topic entry */
};
/* Encode p's response body with e, one partition response per part. */
void kp_pending_encode(const struct kp_pending *p, struct kp_writer *w,
		       const struct kp_encoders *e, enum kp_grouping grouping);
/* The end of the run of parts from i on that share parts[i]'s topic. */
uint32_t kp_pending_topic_run(const struct kp_pending *p, uint32_t i);
/* Start p's parts and return PENDING; or, when nothing had to go to
 * storage, answer in the dispatch call (ops->encode into call->w), give
 * the record back and return REPLY (NO_REPLY for acks=0). */
enum kp_verdict kp_pending_run(struct kp_core *kc, struct kp_pending *p, struct kp_call *call);
/* Fill done's verdict, response and pieces for a record with nothing
 * outstanding: the one reply step of every storage-backed API. File regions
 * in the response move to done->pieces; every other one is released. */
void kp_pending_reply(struct kp_core *kc, struct kp_pending *p, struct kp_done *done);
/* Give back a record that has nothing outstanding (answered at dispatch). */
void kp_pending_put(struct kp_core *kc, struct kp_pending *p);
/* Queue every part with an op for submission; returns true when something
 * is outstanding (the handler returns KP_VERDICT_PENDING), false when there
 * was nothing to ask (the handler answers now). */
bool kp_pending_start(struct kp_core *kc, struct kp_pending *p);
/* Whether the validation queue holds a request of this connection (its
 * next Produces queue behind it, to stay in order; other connections'
 * go ahead). */
bool kp_pending_validating(const struct kp_core *kc, uint32_t conn);

/* Count bytes against the client's quota of key (kp_quota.c, this core's
 * rates) and return the throttle time Kafka would answer; 0 when no
 * quota applies. */
int32_t kp_core_quota_record(struct kp_core *kc, const struct kp_md *md, enum kp_quota_key key,
			     struct kp_str client_id, double bytes);
/* The same for a quota resolved earlier (the request's snapshot may be
 * gone when it is answered); v < 0 takes bytes back (Kafka's unrecord). */
struct kp_quota_hit;
int32_t kp_core_quota_record_hit(struct kp_core *kc, enum kp_quota_key key,
				 const struct kp_quota_hit *hit, struct kp_str client_id, double v);
/* Queue p to be validated in slices (ops->step) and started after. */
void kp_pending_validate(struct kp_core *kc, struct kp_pending *p);
/* From finish: wait for data on every part without an error until
 * p->deadline_ns (data already there: wakes at once). */
void kp_pending_wait(struct kp_core *kc, struct kp_pending *p);
/* Give back every file region the record still holds. */
void kp_pending_release_reads(struct kp_core *kc, struct kp_pending *p);
/* Bytes of kp_part for n parts (the record's held_bytes). */
uint64_t kp_pending_parts_bytes(uint32_t n);

/* A cache of one Metadata response body per core, for the all-topics
 * request clients repeat (key: the snapshot's epoch and the request's
 * version and flags): a flood of them costs a copy each, not an encoding.
 * The cached bytes, or NULL. */
const uint8_t *kp_core_md_cached(const struct kp_core *kc, uint64_t epoch, uint32_t key,
				 size_t *len);
void kp_core_md_store(struct kp_core *kc, uint64_t epoch, uint32_t key, const uint8_t *body,
		      size_t len);

/* Duplicate detection over a request's parts by (topic name, partition), in
 * linear time: an open-addressing table of part indexes. */
struct kp_part_map {
	uint32_t *slots;
	uint32_t mask;
};

/* Room for count parts; -1 when out of memory. */
int kp_part_map_init(struct kp_part_map *m, uint32_t count);
void kp_part_map_free(struct kp_part_map *m);
/* parts[index] has its topic and partition set: the index of an earlier
 * part with the same ones, or index itself (now recorded). */
uint32_t kp_part_map_put(struct kp_part_map *m, const struct kp_part *parts, uint32_t index);

/* The error to answer for a client's current_leader_epoch (-1: not set):
 * Kafka fences an older epoch and does not know a newer one. This broker's
 * partitions are always at leader epoch KP_LEADER_EPOCH. */
#define KP_LEADER_EPOCH 0
static inline int16_t
kp_leader_epoch_check(int32_t current_leader_epoch)
{
	if (current_leader_epoch == -1 || current_leader_epoch == KP_LEADER_EPOCH)
		return KP_ERR_NONE;
	return current_leader_epoch < KP_LEADER_EPOCH ? KP_ERR_FENCED_LEADER_EPOCH
						      : KP_ERR_UNKNOWN_LEADER_EPOCH;
}

/* A partition's answer for a request that needs it here (cluster mode,
 * as Kafka's Partition.getLocalLog): not a replica of it,
 * NOT_LEADER_OR_FOLLOWER; current_leader_epoch (-1: not set) older than the
 * partition's, FENCED_LEADER_EPOCH, newer, UNKNOWN_LEADER_EPOCH; then, when
 * require_leader, NOT_LEADER_OR_FOLLOWER unless this broker leads it. On a
 * single broker the same as kp_leader_epoch_check(). t and p are known. */
static inline int16_t
kp_leader_check(const struct kp_md *md, const struct kp_md_topic *t, int32_t p,
		int32_t current_leader_epoch, bool require_leader)
{
	const struct kp_md_partition *mp = kp_md_partition(t, p);
	bool replica = false;

	if (mp == NULL)
		return KP_ERR_NOT_LEADER_OR_FOLLOWER;
	for (int32_t i = 0; i < mp->replica_count && !replica; i++)
		replica = mp->replicas[i] == md->broker_id;
	if (!replica && mp->leader != md->broker_id)
		return KP_ERR_NOT_LEADER_OR_FOLLOWER;
	if (current_leader_epoch != -1 && current_leader_epoch != mp->leader_epoch)
		return current_leader_epoch < mp->leader_epoch ? KP_ERR_FENCED_LEADER_EPOCH
							       : KP_ERR_UNKNOWN_LEADER_EPOCH;
	if (require_leader && mp->leader != md->broker_id)
		return KP_ERR_NOT_LEADER_OR_FOLLOWER;
	return KP_ERR_NONE;
}

#endif
