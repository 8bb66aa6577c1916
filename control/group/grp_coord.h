/* SPDX-License-Identifier: Apache-2.0 */
/* Membership's own state, shared by grp_*.c only (never by offsets or the
 * log, which go through grp_int.h): the coordinator, its groups and their
 * members, the group state machine (Kafka's classic GroupMetadata) and the
 * helpers the one-API-per-file handlers share. @thread control */
#ifndef CONTROL_GROUP_GRP_COORD_H
#define CONTROL_GROUP_GRP_COORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/group/grp_int.h"
#include "protocol/gen/kp_api.h"

struct ctl_park;

/* Bounds on what a client can make us keep (STYLE 15). Kafka bounds these
 * only by socket.request.max.bytes; ours are far above what real assignors
 * send and keep one bad client from holding much memory. */
#define GRP_PROTOCOLS_MAX 64            /* protocols in one JoinGroup */
#define GRP_METADATA_BYTES_MAX (1 << 20) /* one protocol's metadata */
#define GRP_ASSIGNMENT_BYTES_MAX (1 << 20) /* one member's assignment */
#define GRP_GROUPS_MAX 100000           /* groups on this coordinator */
#define GRP_MEMBERS_MAX 10000           /* members of a group, whatever group.max.size */
#define GRP_PENDING_MAX 10000           /* members waiting for their id (v4+) */
#define GRP_ID_BYTES_MAX 32767          /* a group, member or instance id */
#define GRP_NEW_MEMBER_JOIN_TIMEOUT_MS 300000 /* Kafka's NewMemberJoinTimeoutMs */
#define GRP_BATCH_GROUPS_MAX 10000      /* groups in one Describe/DeleteGroups */

enum grp_state {
	GRP_EMPTY = 0,
	GRP_PREPARING_REBALANCE,
	GRP_COMPLETING_REBALANCE,
	GRP_STABLE,
	GRP_DEAD,
};

struct grp_proto {
	char *name;
	uint8_t *meta;
	int32_t meta_len;
};

struct grp_member {
	struct grp_member *next;        /* in join order */
	char *id;
	char *instance_id;              /* NULL: dynamic member */
	char *client_id;
	char *client_host;
	int32_t session_timeout_ms;
	int32_t rebalance_timeout_ms;
	int32_t proto_count;
	struct grp_proto *protos;
	uint8_t *assign;
	int32_t assign_len;
	struct ctl_park *join_park;     /* awaiting the JoinGroup response */
	struct ctl_park *sync_park;     /* awaiting the SyncGroup response */
	uint64_t expire_ns;             /* session (or new-member join) deadline */
	bool is_new;                    /* joined this rebalance, never answered */
	bool sync_pending;              /* joined this generation, not synced yet */
};

struct grp_pending {
	struct grp_pending *next;
	char *id;
	uint64_t expire_ns;
};

struct grp {
	struct grp *hnext;              /* hash chain */
	char *id;
	int32_t id_len;
	enum grp_state state;
	int32_t generation;
	char *protocol_type;            /* NULL: none yet */
	char *protocol;                 /* NULL: none */
	char *leader;                   /* NULL: none */
	int64_t state_ts_ms;            /* wall clock of the last state change */
	struct grp_member *members;
	int32_t member_count;
	int32_t awaiting_join;          /* members with a join_park */
	struct grp_pending *pending;
	int32_t pending_count;
	/* PreparingRebalance: when the join completes; the initial delay
	 * (Kafka's InitialDelayedJoin) is extended while members arrive. */
	uint64_t join_ns;
	bool initial_delay;
	bool new_member_added;
	int32_t join_remaining_ms;
	/* CompletingRebalance/Stable: members that must sync by sync_ns. */
	uint64_t sync_ns;
	int32_t sync_generation;
	/* The earliest timer, or earlier (heartbeats only move timers later,
	 * so the heap key is a lower bound, made exact when it fires). */
	uint64_t timer_ns;
	int32_t heap_idx;               /* -1: not in the heap */
	struct off_group *offsets;
};

struct grp_coord {
	struct ctl *ctl;
	const struct config *cfg;
	struct grp_log *log;
	struct grp **buckets;
	uint32_t bucket_count;          /* a power of two */
	int32_t group_count;
	struct grp **heap;              /* min-heap on timer_ns */
	int32_t heap_len;
	int32_t heap_cap;
	uint64_t (*now_fn)(void);       /* CLOCK_MONOTONIC ns; tests replace it */
	void (*random_fn)(uint8_t *buf, size_t len); /* member ids; fuzzing replaces it */
	/* The request being handled (grp_coord_handle), for ACL checks;
	 * NULL in timers and for parked requests answered later. */
	const struct kp_group_call *cur;
	bool cluster;                   /* grp_coord_set_cluster(): partitions with leadership */
};

/* ---- grp_coord.c ---- */

uint64_t grp_now(const struct grp_coord *c);
/* Tests: a clock of their own. */
void grp_coord_set_clock(struct grp_coord *c, uint64_t (*now_fn)(void));
/* Fuzzing: member ids from a source of its own (predictable ids let an
 * input join, then sync and heartbeat as the member it became). */
void grp_coord_set_random(struct grp_coord *c, void (*random_fn)(uint8_t *buf, size_t len));
/* Timer at t for g (kept if an earlier one is set). */
void grp_timer_arm(struct grp_coord *c, struct grp *g, uint64_t t);
const char *grp_state_name(enum grp_state s);
/* An owned NUL-terminated copy (NULL for a null string or no memory). */
char *grp_strdup(struct kp_str s);
bool grp_str_is(const char *a, struct kp_str b);
struct kp_str grp_kstr(const char *s);          /* NULL -> null */
/* Answer a parked request with an error code only (for the API it is). */
void grp_park_error(struct grp_coord *c, struct ctl_park *p, int16_t error);
/* The same, a JoinGroup answer naming the member (Kafka's
 * JoinGroupResult(memberId, error)); member_id NULL: "". */
void grp_park_error_member(struct grp_coord *c, struct ctl_park *p, int16_t error,
			   const char *member_id);
/* The coordinator-level check every group API makes: first the group ACL
 * of the current API (READ for Join/Sync/Heartbeat/Leave, DESCRIBE for
 * DescribeGroups, DELETE for DeleteGroups: GROUP_AUTHORIZATION_FAILED, as
 * KafkaApis checks before the coordinator), then INVALID_GROUP_ID when
 * allow_empty is false and the id is empty, COORDINATOR_LOAD_IN_PROGRESS. */
int16_t grp_check_id(struct grp_coord *c, struct kp_str group_id, bool allow_empty);

/* ---- grp_member.c: the state machine ---- */

struct grp_member *grp_member_find(const struct grp *g, struct kp_str member_id);
struct grp_member *grp_member_by_instance(const struct grp *g, struct kp_str instance_id);
struct grp_pending *grp_pending_find(const struct grp *g, struct kp_str member_id);
void grp_pending_remove(struct grp *g, struct grp_pending *pm);
void grp_member_free(struct grp_member *m);
/* Kafka's isStaticMemberFenced: the instance is known under another id. */
bool grp_member_fenced(const struct grp *g, struct kp_str member_id, struct kp_str instance_id);
/* Session expiry, LeaveGroup: answer its parked requests (UNKNOWN_MEMBER_ID),
 * drop it, and rebalance (or complete the join under way). */
void grp_member_remove(struct grp_coord *c, struct grp *g, struct grp_member *m);
void grp_heartbeat_member(struct grp_coord *c, struct grp *g, struct grp_member *m);
void grp_maybe_prepare_rebalance(struct grp_coord *c, struct grp *g);
void grp_try_complete_join(struct grp_coord *c, struct grp *g);
/* Whether the members can all speak one of these protocols (Kafka's
 * supportsProtocols). names is an array of count strings. */
bool grp_supports(const struct grp *g, struct kp_str protocol_type, const struct kp_str *names,
		  int32_t count);
const char *grp_select_protocol(const struct grp *g);
/* A member's metadata for protocol (NULL, 0 when none). */
struct kp_bytes grp_member_meta(const struct grp_member *m, const char *protocol);
/* Run g's due timers; may free g. */
void grp_timers_run(struct grp_coord *c, struct grp *g, uint64_t now);
/* The exact earliest timer of g (UINT64_MAX: none). */
uint64_t grp_timer_next(const struct grp *g);
/* Persist g's metadata (a tombstone when tombstone) and run done(arg, err)
 * once durable; done may be NULL. */
void grp_store(struct grp_coord *c, struct grp *g, bool tombstone,
	       void (*done)(void *arg, int16_t error), void *arg);
/* The JoinGroup response of m for the generation in place. */
void grp_join_reply_member(struct grp_coord *c, struct grp *g, struct grp_member *m,
			   int16_t error, bool with_members, bool skip_assignment,
			   const char *leader);
/* A member's JoinGroup or SyncGroup answered: its session runs again. */
void grp_member_unpark_join(struct grp_coord *c, struct grp *g, struct grp_member *m);
int32_t grp_rebalance_timeout_ms(const struct grp *g);
void grp_prepare_rebalance(struct grp_coord *c, struct grp *g);
void grp_sync_reply(struct grp_coord *c, struct ctl_park *p, int16_t error,
		    const struct grp *g, const struct grp_member *m);
/* Free a group (no members may hold parks); removes it from table and heap. */
void grp_free(struct grp_coord *c, struct grp *g);

#endif
