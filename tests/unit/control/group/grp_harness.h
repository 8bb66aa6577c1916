/* SPDX-License-Identifier: Apache-2.0 */
/* The group coordinator under test with its doubles (fake_park.c,
 * fake_off_log.c): a fake clock, requests encoded with the generated
 * codec, and every reply recorded for decoding. */
#ifndef TESTS_UNIT_CONTROL_GROUP_GRP_HARNESS_H
#define TESTS_UNIT_CONTROL_GROUP_GRP_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/config.h"
#include "control/group/grp_coord.h"
#include "protocol/gen/kp_api.h"
#include "protocol/gen/kp_msg_join_group.h"
#include "protocol/gen/kp_msg_sync_group.h"

#define TH_REPLIES_MAX 512
#define TH_BATCHES_MAX 64
#define TH_RECS_MAX 64

struct th_reply {
	int16_t api;
	int16_t version;
	int32_t corr;
	bool dropped;           /* ctl_park_drop, or KP_VERDICT_CLOSE */
	uint8_t *data;
	size_t len;
	int err;
};

struct th_group_rec {
	bool tombstone;
	int32_t generation;
	int32_t member_count;
	int32_t assign_len0;
};

struct th_state {
	struct config cfg;
	struct grp_coord *c;
	uint64_t now_ns;
	int32_t next_corr;
	bool park_refuse;
	int16_t cur_api;
	int16_t cur_version;
	int32_t cur_corr;
	int parked;
	int reply_count;
	struct th_reply replies[TH_REPLIES_MAX];
	int batch_count;
	struct grp_log_batch *batches[TH_BATCHES_MAX];
	int group_rec_count;
	struct th_group_rec group_recs[TH_RECS_MAX];
	bool log_started;
	int log_ensured;
	int16_t log_ensure_error;
	int16_t log_ready_error;
	bool log_cluster;               /* grp_log_set_cluster() ran */
	int log_leads;                  /* grp_log_partition_lead() calls */
	int32_t log_resign_count;       /* what grp_log_partition_resign() returns */
	int off_calls;
	int off_deleted;
	/* th_join() overrides (0/NULL: the defaults). */
	const char *join_protocol_type;
	int32_t join_session_ms;
	bool sync_null_protocol;        /* th_sync() sends null type and name */
	const char *client;             /* header client_id of the next call */
	char client_names[8][16];
};

extern struct th_state th;
/* What ctl_md() answers when set (fake_off_log.c; else a single broker 7). */
extern const struct kp_md *th_md;

void th_record(int16_t api, int16_t version, int32_t corr, const struct kp_writer *w,
	       bool dropped);
/* Run every held log completion with error. */
void th_log_complete(int16_t error);

/* overrides: "key=value" config overrides (NULL-terminated list). */
void th_setup(const char *const *overrides);
void th_teardown(void);
void th_advance_ms(uint64_t ms);
/* Send an encoded request body; returns its correlation id. */
int32_t th_send(int16_t api, int16_t version, const struct kp_writer *body);
const struct th_reply *th_reply(int32_t corr);

/* JoinGroup with protocols "p0".."p<n-1>" (metadata "<client>:<name>"). */
int32_t th_join(int16_t v, const char *group, const char *member, const char *instance,
		const char *client, int32_t protos);
/* Decode the JoinGroup answer to corr; false when not answered yet. */
bool th_join_resp(int32_t corr, struct kp_join_group_response *out);
/* v4+ new member: join, get MEMBER_ID_REQUIRED, rejoin; returns the
 * parked rejoin's corr and the member id in id (owned by the reply). */
int32_t th_join_new(int16_t v, const char *group, const char *client, struct kp_str *id);
int32_t th_sync(int16_t v, const char *group, int32_t gen, struct kp_str member,
		int32_t n, const struct kp_str *members, const char *const *assign);
bool th_sync_resp(int32_t corr, struct kp_sync_group_response *out);
int16_t th_heartbeat(int16_t v, const char *group, int32_t gen, struct kp_str member,
		     const char *instance);
/* n (<= 8) members of group joined (v5, clients "c0".."c<n-1>") and
 * synced with assignments "a0".."a<n-1>": ids[i] is member i's id (owned
 * by the replies), *leader its index; returns the generation. Needs
 * group.initial.rebalance.delay.ms=0. */
int32_t th_stable(const char *group, int n, struct kp_str *ids, int *leader);
int16_t th_leave(int16_t v, const char *group, struct kp_str member);

#endif
