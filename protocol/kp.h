/* SPDX-License-Identifier: Apache-2.0 */
/* Public interface of protocol/: frame -> request header -> handler -> response.
 * protocol/ never calls into dataplane/ or control/: requests come in through
 * kp_dispatch() (on a dataplane core) or kp_dispatch_control() (on the control
 * thread), and everything a handler needs from outside arrives in struct
 * kp_env, which the caller fills in. */
#ifndef PROTOCOL_KP_H
#define PROTOCOL_KP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/kp_acl.h"
#include "protocol/kp_error.h"
#include "protocol/kp_session.h"
#include "protocol/kp_wire.h"

/* ---- Client quotas: set by AlterClientQuotas, enforced on the cores ---- */

/* Quota keys, in the order Kafka's describe lists them (its HashMap order). */
enum kp_quota_key {
	KP_QUOTA_CONNECTION_CREATION_RATE = 0,  /* ip entities only */
	KP_QUOTA_REQUEST_PERCENTAGE,
	KP_QUOTA_PRODUCER_BYTE_RATE,
	KP_QUOTA_CONSUMER_BYTE_RATE,
	KP_QUOTA_CONTROLLER_MUTATION_RATE,
	KP_QUOTA_KEYS,
};

/* Entity types, in the order Kafka lists an entity's parts. */
enum kp_quota_type {
	KP_QUOTA_CLIENT_ID = 0,
	KP_QUOTA_USER,
	KP_QUOTA_IP,
	KP_QUOTA_TYPES,
};

/* A quota entity: which types it has (bit 1 << type) and, for each, a name
 * or the default entity (len -1, Kafka's null / <default>). */
struct kp_quota_entity {
	uint8_t present;
	struct kp_str name[KP_QUOTA_TYPES];
};

/* One entity's quotas: value[k] is set when bit 1 << k of set is. */
struct kp_quota_values {
	uint8_t set;
	double value[KP_QUOTA_KEYS];
};

/* The wire names: "producer_byte_rate", ...; "client-id", "user", "ip". */
const char *kp_quota_key_name(enum kp_quota_key key);
const char *kp_quota_type_name(enum kp_quota_type type);
/* Kafka's ClientQuotaEntity.toString(): "ClientQuotaEntity(entries={...})". */
void kp_quota_entity_format(const struct kp_quota_entity *entity, char *out, size_t out_size);

/* ---- Metadata snapshot: built by control, immutable once published ---- */

/* Replicas a partition may have (replication factor bound). */
#define KP_REPLICAS_MAX 16

/* One partition's replication state as the cluster recorded it (in
 * ZooKeeper, written by the controller or the leader). On a single broker
 * every partition has leader = broker_id, leader_epoch 0, replicas and isr
 * {broker_id}, offline none. Arrays point into the snapshot's storage. */
struct kp_md_partition {
	int32_t leader;             /* broker id, -1: no leader (offline) */
	int32_t leader_epoch;
	int32_t partition_epoch;    /* ZooKeeper state version (KRaft's partition epoch) */
	int32_t replica_count;      /* 1..KP_REPLICAS_MAX, assignment order */
	int32_t isr_count;
	int32_t offline_count;      /* replicas on brokers that are not alive */
	const int32_t *replicas;
	const int32_t *isr;
	const int32_t *offline;
};

struct kp_md_topic {
	struct kp_str name;         /* points into the snapshot's own storage */
	struct kp_uuid id;
	int32_t partition_count;
	int32_t max_message_bytes;  /* max.message.bytes, resolved */
	int32_t min_insync_replicas; /* min.insync.replicas, resolved */
	bool internal;
	/* partition_count entries, by partition index; never NULL. */
	const struct kp_md_partition *partitions;
};


struct kp_md_quota {
	struct kp_quota_entity entity;
	struct kp_quota_values values;
};

struct kp_acl_index;

/* Client listeners at most (kp_session.listener indexes them). */
#define KP_LISTENERS_MAX 8

/* A listener's advertised endpoint: what a client connected to that
 * listener is told to connect to (Metadata, DescribeCluster,
 * FindCoordinator), as Kafka answers each listener with its own endpoints. */
struct kp_md_endpoint {
	const char *listener;       /* its name, e.g. "PLAINTEXT" */
	const char *host;           /* advertised host */
	int32_t port;               /* advertised port (the bound one for port 0) */
	uint8_t protocol;           /* enum kp_sec_protocol */
};

/* A live broker of the cluster (the snapshot's broker_id among them). */
struct kp_md_broker {
	int32_t id;
	const char *rack;           /* NULL when unset */
	int32_t endpoint_count;
	/* Its advertised endpoints, by listener name: clients are told the
	 * endpoint of the listener they came in on (same name). */
	struct kp_md_endpoint endpoints[KP_LISTENERS_MAX];
};

struct kp_md {
	int32_t broker_id;
	/* The active controller (cluster mode: whoever holds ZooKeeper's
	 * /controller, -1 while none does; single broker: broker_id). */
	int32_t controller_id;
	/* Cluster mode (zookeeper.connect set): partitions may have other
	 * leaders and replicas. */
	bool cluster;
	/* Live brokers, sorted by id; a single broker lists itself. */
	int32_t broker_count;
	const struct kp_md_broker *brokers;
	const char *cluster_id;     /* 22-char base64 Kafka cluster id */
	int32_t endpoint_count;     /* 1..KP_LISTENERS_MAX */
	struct kp_md_endpoint endpoints[KP_LISTENERS_MAX];  /* by listener index */
	const char *rack;           /* NULL when unset */
	bool auto_create_topics;    /* auto.create.topics.enable */
	int32_t num_partitions;     /* num.partitions: default for auto-create */
	int16_t default_replication_factor; /* default.replication.factor */
	int32_t topic_count;
	const struct kp_md_topic *topics;          /* sorted by name */
	const struct kp_md_topic *const *by_id;    /* same topics, sorted by id */
	uint64_t epoch;             /* bumped on every change */
	/* Client quotas with a user or client-id part that can apply to a
	 * connection (names in the snapshot's storage), for the cores to
	 * enforce; sorted by kp_md_quota_cmp(). */
	int32_t quota_count;
	const struct kp_md_quota *quotas;
	/* The authorizer's ACLs and settings (kp_acl.h); NULL: no authorizer
	 * configured, everything is allowed. */
	const struct kp_acl_index *acl;
};

/* The order of kp_md.quotas: entities without a client-id name first, then
 * by client-id name. */
int kp_md_quota_cmp(const struct kp_md_quota *a, const struct kp_md_quota *b);

const struct kp_md_topic *kp_md_topic_by_name(const struct kp_md *md, struct kp_str name);
/* A live broker by id, NULL when it is not alive. */
const struct kp_md_broker *kp_md_broker(const struct kp_md *md, int32_t id);
/* Broker b's endpoint for the listener session came in on (same listener
 * name), NULL when b has no such listener. */
const struct kp_md_endpoint *kp_md_broker_endpoint(const struct kp_md *md,
						   const struct kp_md_broker *b,
						   const struct kp_session *session);
/* Partition p of topic t (NULL when out of range). */
const struct kp_md_partition *kp_md_partition(const struct kp_md_topic *t, int32_t p);
/* Is this broker partition p's leader? */
bool kp_md_is_leader(const struct kp_md *md, const struct kp_md_topic *t, int32_t p);
/* The advertised endpoint of the listener session came in on (listener 0
 * when session is NULL). */
const struct kp_md_endpoint *kp_md_endpoint(const struct kp_md *md,
					    const struct kp_session *session);
const struct kp_md_topic *kp_md_topic_by_id(const struct kp_md *md, const struct kp_uuid *id);

/* ---- Admin operations: implemented by control, called @thread control ---- */

/* ElectLeaders' election types (ElectionType). */
#define KP_ELECT_PREFERRED 0
#define KP_ELECT_UNCLEAN 1

/* One partition of an ElectLeaders request. */
struct kp_elect {
	const struct kp_md_topic *topic;
	int32_t partition;
	int16_t error;                  /* the answer (kp_admin_ops.leaders_elect) */
};

/* One partition of an AlterPartitionReassignments request. */
struct kp_reassign {
	struct kp_str topic;
	int32_t partition;
	int32_t replica_count;          /* -1: null (cancel) */
	const int32_t *replicas;        /* the target, host order */
	int16_t error;                  /* the answer (kp_admin_ops.reassign) */
	char message[400];              /* its message; "": null */
};

/* One ongoing reassignment (ListPartitionReassignments). */
struct kp_reassign_state {
	char topic[256];
	int32_t partition;
	int32_t replica_count;
	int32_t adding_count;
	int32_t removing_count;
	int32_t replicas[KP_REPLICAS_MAX];
	int32_t adding[KP_REPLICAS_MAX];
	int32_t removing[KP_REPLICAS_MAX];
};

struct kp_topic_config {
	struct kp_str name;
	struct kp_str value;        /* len -1: null */
};

struct kp_topic_spec {
	struct kp_str name;
	int32_t partition_count;    /* already resolved from -1 to the default */
	int16_t replication_factor; /* already resolved from -1 to the default */
	int32_t config_count;
	const struct kp_topic_config *configs;
	/* Cluster mode, a replica assignment in the request: partition_count
	 * rows of KP_REPLICAS_MAX broker ids, replication_factor of them used.
	 * NULL: assigned over the live brokers. */
	const int32_t *replicas;
};

/* A synonym group of 3 in each of the 4 broker sources. */
#define KP_CONFIG_SYNONYMS_MAX 12

/* One config entry as DescribeConfigs reports it. Synonyms are listed from
 * the most to the least specific, the entry's own source first. */
struct kp_config_entry {
	const char *name;
	const char *value;          /* NULL: null (a sensitive or unset value) */
	int8_t source;              /* KP_CONFIG_SOURCE_* */
	int8_t type;                /* KP_CONFIG_TYPE_* (DescribeConfigs v3+) */
	bool read_only;
	bool is_default;
	bool sensitive;
	const char *documentation;  /* may be NULL */
	int32_t synonym_count;
	struct {
		const char *name;
		const char *value;
		int8_t source;
	} synonyms[KP_CONFIG_SYNONYMS_MAX];
};

enum {
	KP_CONFIG_SOURCE_UNKNOWN = 0,
	KP_CONFIG_SOURCE_DYNAMIC_TOPIC = 1,
	KP_CONFIG_SOURCE_DYNAMIC_BROKER = 2,
	KP_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER = 3,
	KP_CONFIG_SOURCE_STATIC_BROKER = 4,
	KP_CONFIG_SOURCE_DEFAULT = 5,
};

enum {
	KP_CONFIG_TYPE_UNKNOWN = 0, KP_CONFIG_TYPE_BOOLEAN = 1, KP_CONFIG_TYPE_STRING = 2,
	KP_CONFIG_TYPE_INT = 3, KP_CONFIG_TYPE_SHORT = 4, KP_CONFIG_TYPE_LONG = 5,
	KP_CONFIG_TYPE_DOUBLE = 6, KP_CONFIG_TYPE_LIST = 7, KP_CONFIG_TYPE_CLASS = 8,
	KP_CONFIG_TYPE_PASSWORD = 9,
};

typedef void kp_config_entry_fn(void *arg, const struct kp_config_entry *entry);

/* One change of AlterConfigs (always SET) or IncrementalAlterConfigs. */
struct kp_config_op {
	struct kp_str name;
	int8_t op;                  /* KP_CONFIG_OP_*, or any other byte from the wire */
	struct kp_str value;        /* len -1: null */
};

enum {
	KP_CONFIG_OP_SET = 0, KP_CONFIG_OP_DELETE = 1, KP_CONFIG_OP_APPEND = 2,
	KP_CONFIG_OP_SUBTRACT = 3,
};

/* A DescribeClientQuotas filter component, as decoded. */
struct kp_quota_filter {
	struct kp_str entity_type;
	int8_t match_type;          /* 0 exact, 1 default, 2 specified */
	struct kp_str match;        /* len -1: null */
};

/* One AlterClientQuotas op, as decoded. */
struct kp_quota_op {
	struct kp_str key;
	double value;
	bool remove;
};

typedef void kp_quota_entry_fn(void *arg, const struct kp_quota_entity *entity,
			       const struct kp_quota_values *values);

/* What the caller of kp_dispatch() must do with the request. */
enum kp_verdict {
	KP_VERDICT_REPLY = 0,   /* out->resp holds the response: queue it in order */
	KP_VERDICT_NO_REPLY,    /* no response (Produce acks=0): release the slot */
	KP_VERDICT_FORWARD,     /* run it on control: out->fwd holds a copy of the frame */
	KP_VERDICT_CLOSE,       /* protocol error: close this connection */
	KP_VERDICT_PENDING,     /* waiting on storage: the outcome comes back from
				 * kp_core_poll() under env->tag; out->frame_kept
				 * says whether the frame memory (env->frame_tag)
				 * must stay alive until then */
	KP_VERDICT_PARKED,      /* only on control: the group coordinator keeps the
				 * request and answers later (control/ctl_park.h) */
};

/* A group coordinator request (FindCoordinator, JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, OffsetDelete,
 * DescribeGroups, ListGroups, DeleteGroups) as control's coordinator gets
 * it: the body to decode at api_version with the generated codec, and the
 * writer its response body goes into (after the header dispatch already
 * wrote) when it answers at once. Everything points into the request frame,
 * which is freed when the call returns: copy what a parked request keeps. */
struct kp_group_call {
	int16_t api_key;
	int16_t api_version;
	int32_t correlation_id;
	struct kp_str client_id;        /* header client_id ("" when null) */
	struct kp_str client_host;      /* the peer as Kafka shows it: "/127.0.0.1" */
	const struct kp_session *session;       /* the connection's (NULL: listener 0) */
	struct kp_cursor body;
	struct kp_writer *w;
	/* The request's snapshot and session, for the coordinator's ACL checks
	 * (kp_acl_allowed(env->md->acl, env->session, ...)). */
	const struct kp_env *env;
};

/* A log dir as DescribeLogDirs shows it. */
struct kp_log_dir {
	int32_t index;                  /* in: which of the broker's log dirs, from 0 */
	int32_t count;                  /* out: how many log dirs it has (0: one) */
	char path[4096];                /* absolute */
	int64_t total_bytes;            /* of its volume, -1 unknown */
	int64_t usable_bytes;
};

/* One partition log of a log dir: its segments' bytes, and how far its log
 * end is behind the high watermark (0 on a single broker). */
typedef void kp_log_dir_part_fn(void *arg, const struct kp_md_topic *topic, int32_t partition,
				int64_t size_bytes, int64_t offset_lag);

/* ---- SASL and SCRAM credentials (control/ctl_sasl.c) ---- */

/* Mechanisms a listener offers (SaslHandshake's answer). */
#define KP_SASL_MECHS_MAX 4
struct kp_sasl_mechs {
	int32_t count;
	const char *names[KP_SASL_MECHS_MAX];
};

/* A server token and what SaslAuthenticate answers besides. */
#define KP_SASL_TOKEN_BYTES_MAX 1024
struct kp_sasl_reply {
	uint8_t token[KP_SASL_TOKEN_BYTES_MAX];
	uint32_t token_len;
	int64_t session_lifetime_ms;    /* v1+: 0 when no re-authentication */
	bool raw;                       /* legacy v0 framing: answer the bare token */
};

/* One user's SCRAM credentials as DescribeUserScramCredentials lists them. */
struct kp_scram_user {
	struct kp_str name;
	int32_t count;
	struct {
		int8_t mechanism;       /* 1 SCRAM-SHA-256, 2 SCRAM-SHA-512 */
		int32_t iterations;
	} info[2];
};

/* One AlterUserScramCredentials change, as decoded. */
struct kp_scram_op {
	struct kp_str name;
	bool remove;
	int8_t mechanism;
	int32_t iterations;
	struct kp_bytes salt;
	struct kp_bytes salted_password;
};

/* Every function returns a Kafka error code (KP_ERR_NONE on success) and may
 * write a human-readable message (NUL-terminated) into msg. */
struct kp_admin_ops {
	int16_t (*topic_create)(void *ctx, const struct kp_topic_spec *spec,
				bool validate_only, struct kp_uuid *id_out,
				char *msg, size_t msg_size);
	int16_t (*topic_delete)(void *ctx, const struct kp_md_topic *topic,
				char *msg, size_t msg_size);
	int16_t (*partitions_create)(void *ctx, const struct kp_md_topic *topic,
				     int32_t count, bool validate_only,
				     char *msg, size_t msg_size);
	/* Calls fn for each config of the broker (broker_id matching) or topic;
	 * names NULL: all of them, else only those named (unknown names are
	 * skipped, as Kafka does). */
	int16_t (*configs_describe)(void *ctx, int8_t resource_type, struct kp_str resource,
				    const struct kp_str *names, int32_t name_count,
				    bool include_synonyms, bool include_docs,
				    kp_config_entry_fn *fn, void *arg,
				    char *msg, size_t msg_size);
	/* Change one resource's configs: IncrementalAlterConfigs (incremental),
	 * or AlterConfigs, whose SETs replace the resource's whole set. Checks
	 * everything first; applies (durably, then live) unless validate_only.
	 * A resource named twice in a request is the handler's to refuse. */
	int16_t (*configs_alter)(void *ctx, int8_t resource_type, struct kp_str resource,
				 const struct kp_config_op *ops, int32_t op_count, bool incremental,
				 bool validate_only, char *msg, size_t msg_size);
	/* Calls fn for every config a topic created from spec would have (its
	 * overrides, then broker values and Kafka defaults), synonyms off. */
	void (*topic_spec_configs)(void *ctx, const struct kp_topic_spec *spec,
				   kp_config_entry_fn *fn, void *arg);
	/* Auto-create a topic a Metadata request named (auto-creation on and
	 * allowed): num.partitions, or an internal topic's own partition count
	 * and configs, as Kafka's AutoTopicCreationManager; a name that must
	 * never be auto-created (__cluster_metadata) is refused. */
	int16_t (*topic_auto_create)(void *ctx, struct kp_str name, char *msg, size_t msg_size);
	/* A producer id that was never handed out before, also across
	 * restarts. KP_ERR_NONE or an error code. */
	int16_t (*producer_id_next)(void *ctx, int64_t *pid_out);
	/* The snapshot the request started with: stable for the whole request
	 * (changes made meanwhile are not in it). */
	const struct kp_md *(*md)(void *ctx);
	/* A snapshot that includes the changes this request made so far. Costs
	 * a rebuild: call once, after the changes (Metadata auto-creation). */
	const struct kp_md *(*md_fresh)(void *ctx);
	/* The group coordinator: KP_VERDICT_REPLY (body written to call->w),
	 * KP_VERDICT_CLOSE (undecodable), or KP_VERDICT_PARKED (the request was
	 * parked with ctl_park_take() and is answered later). */
	enum kp_verdict (*group)(void *ctx, struct kp_group_call *call);
	/* DescribeLogDirs: log dir dir->index (its absolute path, its
	 * volume's total and usable bytes, and the number of dirs in *dir)
	 * and fn for every open partition log in it, topics as in md()'s
	 * snapshot. KP_ERR_NONE, or the error of the log dir
	 * (KAFKA_STORAGE_ERROR: offline). */
	int16_t (*log_dir_describe)(void *ctx, struct kp_log_dir *dir,
				    kp_log_dir_part_fn *fn, void *arg);
	/* DescribeClientQuotas: calls fn for every entity the filter matches,
	 * or fails the request (INVALID_REQUEST, UNSUPPORTED_VERSION). */
	int16_t (*quotas_describe)(void *ctx, const struct kp_quota_filter *filters,
				   int32_t filter_count, bool strict, kp_quota_entry_fn *fn,
				   void *arg, char *msg, size_t msg_size);
	/* AlterClientQuotas for one entity (bad_type: the first entity type
	 * the request named that Kafka does not know, len -1 when none):
	 * validates every op, then applies them all unless validate_only. */
	int16_t (*quota_alter)(void *ctx, const struct kp_quota_entity *entity,
			       struct kp_str bad_type, const struct kp_quota_op *ops,
			       int32_t op_count, bool validate_only, char *msg, size_t msg_size);
	/* CreateAcls: add the bindings (each already validated), durably, then
	 * live. KP_ERR_NONE, or the error all of them fail with. */
	int16_t (*acls_create)(void *ctx, const struct kp_acl *acls, int32_t count,
			       char *msg, size_t msg_size);
	/* DescribeAcls: fn for every binding the filter matches. */
	void (*acls_describe)(void *ctx, const struct kp_acl_filter *filter, kp_acl_fn *fn,
			      void *arg);
	/* DeleteAcls: remove what the filters (but those skip[] marks) match,
	 * durably, then live; fn for each removed binding under each filter it
	 * matched. KP_ERR_NONE, or the error every filter fails with. */
	int16_t (*acls_delete)(void *ctx, const struct kp_acl_filter *filters, const bool *skip,
			       int32_t count, kp_acl_removed_fn *fn, void *arg,
			       char *msg, size_t msg_size);
	/* SaslHandshake on the request's connection (session: its listener):
	 * the listener's mechanisms into mechs; KP_ERR_NONE,
	 * UNSUPPORTED_SASL_MECHANISM or ILLEGAL_SASL_STATE. */
	int16_t (*sasl_handshake)(void *ctx, const struct kp_session *session, int16_t version,
				  struct kp_str mechanism, struct kp_sasl_mechs *mechs);
	/* SaslAuthenticate: one token of the connection's exchange; KP_ERR_NONE
	 * (reply->token to send), SASL_AUTHENTICATION_FAILED or
	 * ILLEGAL_SASL_STATE with msg. Control tells the core the outcome. */
	int16_t (*sasl_authenticate)(void *ctx, const struct kp_session *session,
				     int16_t version, struct kp_bytes token,
				     struct kp_sasl_reply *reply, char *msg, size_t msg_size);
	/* The SCRAM credentials of user name (false: none), or of the index-th
	 * user (false past the last). */
	bool (*scram_user)(void *ctx, struct kp_str name, struct kp_scram_user *user);
	bool (*scram_user_at)(void *ctx, int32_t index, struct kp_scram_user *user);
	/* AlterUserScramCredentials: one op, validated as Kafka does, applied
	 * unless check_only. KP_ERR_NONE or the error with msg. */
	int16_t (*scram_alter)(void *ctx, const struct kp_scram_op *op, bool check_only,
			       char *msg, size_t msg_size);
	/* ElectLeaders (type KP_ELECT_PREFERRED or KP_ELECT_UNCLEAN) for
	 * count partitions of topics in md()'s snapshot: sets each one's
	 * error (KP_ERR_NONE once this broker's view shows the new leader,
	 * ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE,
	 * ELIGIBLE_LEADERS_NOT_AVAILABLE, REQUEST_TIMED_OUT after timeout_ms). */
	void (*leaders_elect)(void *ctx, int8_t type, struct kp_elect *parts, int32_t count,
			      int32_t timeout_ms);
	/* AlterPartitionReassignments: each part's error and message, or a
	 * top-level error (NOT_CONTROLLER on a broker that is not the
	 * controller). */
	int16_t (*reassign)(void *ctx, struct kp_reassign *parts, int32_t count,
			    int32_t timeout_ms);
	/* ListPartitionReassignments: every ongoing reassignment, by topic
	 * then partition (*out malloc'ed, the caller frees it), or a
	 * top-level error (NOT_CONTROLLER). */
	int16_t (*reassign_list)(void *ctx, struct kp_reassign_state **out, int32_t *count);
};

/* ---- Dispatch ---- */


/* A response: a complete frame including its 4-byte size prefix, allocated
 * with malloc(); whoever receives it frees it once sent. */
struct kp_buf {
	uint8_t *data;
	uint32_t len;
};

struct kp_core;
struct stage_hists;

struct kp_env {
	const struct kp_md *md;                 /* current snapshot, never NULL */
	uint32_t request_bytes_max;             /* socket.request.max.bytes */
	/* The connection's listener and principal (kp_session.h); NULL:
	 * User:ANONYMOUS on PLAINTEXT listener 0 (tests, fuzzers). */
	const struct kp_session *session;
	/* Only on a dataplane core: */
	struct kp_core *kc;                     /* the core's pending requests */
	uint64_t tag;                           /* names this request's reply slot */
	uint64_t frame_tag;                     /* names the frame's memory */
	uint32_t slot;                          /* the reply slot's index on the core
						 * (< the slot count given to
						 * kp_core_create) */
	/* A request that waits may keep the frame memory by reference (false:
	 * it copies what it needs, so the receive buffer goes back at once). */
	bool frame_keep;
	uint32_t conn;                          /* the connection's id on this core:
						 * its Produces stay in order */
	uint64_t t0_ns;                         /* CLOCK_MONOTONIC ns the frame was
						 * complete (0: not timed) */
	struct stage_hists *stages;             /* the core's produce stages, or NULL */
	/* Only on the control thread: */
	const struct kp_admin_ops *admin;
	void *admin_ctx;
	struct kp_str client_host;              /* the peer as Kafka shows it
						 * ("/127.0.0.1"); len 0 when unknown */
};

struct kp_out {
	struct kp_buf resp;     /* KP_VERDICT_REPLY */
	struct kp_buf fwd;      /* KP_VERDICT_FORWARD: frame copy, without size prefix */
	/* KP_VERDICT_PENDING: */
	bool frame_kept;        /* the frame (env->frame_tag) must stay alive */
	uint64_t held_bytes;    /* memory the waiting request holds meanwhile */
	/* A client quota's throttle (KIP-219): the reply is sent at once, then
	 * the connection is not read for this long. PENDING: not read from
	 * now on already; kp_done.throttle_ms restarts it when answered. */
	int32_t throttle_ms;
	/* FORWARD with throttle_ms: where control's reply has throttle_time_ms
	 * (kp_throttle_site), to raise with kp_throttle_raise() on arrival. */
	int32_t throttle_site;
};

/* Where an encoded response (from its size prefix) of api_key at version
 * has throttle_time_ms: a byte offset, minus the bytes from its end, or 0
 * when it has none. */
int32_t kp_throttle_site(int16_t api_key, int16_t version);
/* Raise resp's throttle_time_ms at site to ms when it is lower. */
void kp_throttle_raise(struct kp_buf *resp, int32_t site, int32_t ms);

/* ---- Requests that wait on storage (Produce, Fetch, ListOffsets, ...) ---- */

/* A file region to send at byte offset `at` of a reply's encoded bytes
 * (Fetch records, spliced from the segment file without a copy). Whoever
 * holds a reply with pieces calls kp_core_pieces_release() once they are
 * sent or dropped: storage keeps the file open until then. */
struct kp_piece {
	uint32_t at;
	uint32_t len;
	int fd;
	int32_t partition;
	int64_t pos;
	uint32_t ref;
	uint8_t topic_id[16];
};

/* A finished pending request. */
struct kp_done {
	uint64_t tag;                   /* env->tag at dispatch */
	uint64_t frame_tag;             /* env->frame_tag: release it now if kept */
	bool frame_kept;                /* out->frame_kept at dispatch */
	enum kp_verdict verdict;        /* REPLY, NO_REPLY or CLOSE */
	struct kp_buf resp;             /* REPLY: encoded bytes incl. the size
					 * prefix, which counts the pieces too */
	uint32_t piece_count;
	struct kp_piece *pieces;        /* malloc()ed, NULL when none */
	/* Produce stage samples still to record when the response is sent
	 * (send, total): one per partition append timed by storage. */
	uint32_t stage_count;
	int16_t stage_acks;
	uint64_t stage_done_ns;         /* when the request completed on the core */
	int32_t throttle_ms;            /* as kp_out.throttle_ms (REPLY, NO_REPLY) */
};

struct st;

/* Per-core protocol state for requests that wait on storage, one record
 * per reply slot (slot_count <= 2^24). NULL on error.
 * @thread dataplane (after creation) */
#define KP_CORE_SLOTS_MAX (1u << 24)
struct kp_core *kp_core_create(struct st *st, int core, uint32_t slot_count);
void kp_core_destroy(struct kp_core *kc);
/* The connection of slot's request closed: stop waiting and drop the
 * answer. Returns true and fills done (verdict CLOSE, tag and frame_tag to
 * release) when the record is free now; otherwise storage still works from
 * its memory and the done comes out of kp_core_poll() once it finishes. */
bool kp_core_cancel(struct kp_core *kc, uint32_t slot, struct kp_done *done);
/* Reap storage completions, finish requests and expire long-poll fetches;
 * fills up to max entries of done. @thread dataplane */
unsigned kp_core_poll(struct kp_core *kc, const struct kp_env *env, uint64_t now_ns,
		      struct kp_done *done, unsigned max);
/* Nanoseconds (CLOCK_MONOTONIC) of the earliest long-poll deadline, or
 * UINT64_MAX when none. */
uint64_t kp_core_deadline(const struct kp_core *kc);
/* Give storage back the file regions of a reply (sent or dropped). */
void kp_core_pieces_release(struct kp_core *kc, struct kp_piece *pieces, uint32_t count);
/* Hand queued storage requests to the workers (once per loop turn). */
void kp_core_flush(struct kp_core *kc);

/* Handle one complete request frame (the bytes after the 4-byte size
 * prefix), on a dataplane core. The frame may be released when this returns.
 * @thread dataplane */
enum kp_verdict kp_dispatch(const struct kp_env *env, const uint8_t *frame, uint32_t len,
			    struct kp_out *out);

/* Handle a frame forwarded by kp_dispatch() (KP_VERDICT_FORWARD).
 * Returns KP_VERDICT_REPLY, KP_VERDICT_NO_REPLY, KP_VERDICT_CLOSE or
 * KP_VERDICT_PARKED (answered later by control).
 * @thread control */
enum kp_verdict kp_dispatch_control(const struct kp_env *env, const uint8_t *frame,
				    uint32_t len, struct kp_out *out);

/* Frame a response built later (a parked request): kp_reply_begin() writes
 * the size placeholder, correlation id and, for flexible versions, the
 * header's empty tagged fields; the body follows; kp_reply_end() patches the
 * size and hands the buffer to out (false: the encoder failed; w is freed).
 * @thread control */
void kp_reply_begin(struct kp_writer *w, int16_t api_key, int16_t api_version,
		    int32_t correlation_id);
bool kp_reply_end(struct kp_writer *w, struct kp_buf *out);

#endif
