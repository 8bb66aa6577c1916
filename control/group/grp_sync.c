/* SPDX-License-Identifier: Apache-2.0 */
/* SyncGroup v0-5 (Kafka's GroupCoordinator.handleSyncGroup): members park
 * in CompletingRebalance until the leader's assignment is durable in
 * __consumer_offsets, then all get theirs and the group is Stable. A
 * member of a Stable group gets its assignment at once. Assignments are
 * bounded (GRP_ASSIGNMENT_BYTES_MAX). @thread control */
#include "control/group/grp_coord.h"

#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "control/ctl_park.h"
#include "protocol/gen/kp_msg_sync_group.h"

enum kp_verdict grp_sync_handle(struct grp_coord *c, struct kp_group_call *call);

static enum kp_verdict
grp_sync_now(struct kp_group_call *call, int16_t error, const struct grp *g,
	     const struct grp_member *m)
{
	struct kp_sync_group_response r;

	kp_sync_group_response_init(&r);
	r.error_code = error;
	r.assignment = (struct kp_bytes){ (const uint8_t *)"", 0 };
	if (g != NULL) {
		r.protocol_type = grp_kstr(g->protocol_type);
		r.protocol_name = grp_kstr(g->protocol);
	}
	if (error == KP_ERR_NONE && m != NULL && m->assign != NULL)
		r.assignment = (struct kp_bytes){ m->assign, m->assign_len };
	kp_sync_group_response_encode(call->w, call->api_version, &r);
	return KP_VERDICT_REPLY;
}

struct grp_sync_done {
	struct grp_coord *c;
	char *group_id;
	int32_t generation;
};

/* Kafka's storeGroup callback in doSyncGroup. */
static void
grp_sync_stored(void *arg, int16_t error)
{
	struct grp_sync_done *d = arg;
	struct grp_coord *c = d->c;
	struct grp *g = grp_find(c, kp_str_c(d->group_id));

	if (g != NULL && g->state == GRP_COMPLETING_REBALANCE && g->generation == d->generation) {
		if (error != KP_ERR_NONE) {
			/* Kafka maps storage errors to what a client retries. */
			int16_t e = error == KP_ERR_NOT_COORDINATOR ? error
				  : KP_ERR_COORDINATOR_NOT_AVAILABLE;

			for (struct grp_member *m = g->members; m != NULL; m = m->next) {
				free(m->assign);
				m->assign = NULL;
				m->assign_len = 0;
				if (m->sync_park != NULL) {
					grp_sync_reply(c, m->sync_park, e, g, m);
					m->sync_park = NULL;
					grp_heartbeat_member(c, g, m);
				}
			}
			grp_maybe_prepare_rebalance(c, g);
		} else {
			g->state = GRP_STABLE;
			g->state_ts_ms = clock_wall_ms();
			for (struct grp_member *m = g->members; m != NULL; m = m->next) {
				if (m->sync_park == NULL)
					continue;
				grp_sync_reply(c, m->sync_park, KP_ERR_NONE, g, m);
				m->sync_park = NULL;
				m->sync_pending = false;
				grp_heartbeat_member(c, g, m);
			}
		}
	}
	free(d->group_id);
	free(d);
}

/* The leader's assignments into the members (absent: empty, as Kafka). */
static int16_t
grp_sync_assign(struct grp *g, const struct kp_sync_group_request *r, int16_t version)
{
	struct kp_cursor it = kp_array_cursor(&r->assignments);

	for (struct grp_member *m = g->members; m != NULL; m = m->next) {
		free(m->assign);
		m->assign = NULL;
		m->assign_len = 0;
	}
	for (int32_t i = 0; i < r->assignments.count; i++) {
		struct kp_sync_group_request_sync_group_request_assignment a;

		if (kp_sync_group_request_sync_group_request_assignment_decode(&it, version,
									       &a) != 0)
			return KP_ERR_INVALID_REQUEST;
		struct grp_member *m = grp_member_find(g, a.member_id);

		if (m == NULL || a.assignment.len <= 0)
			continue;
		free(m->assign);
		m->assign = malloc((size_t)a.assignment.len);
		if (m->assign == NULL)
			return KP_ERR_COORDINATOR_NOT_AVAILABLE;
		memcpy(m->assign, a.assignment.ptr, (size_t)a.assignment.len);
		m->assign_len = a.assignment.len;
	}
	return KP_ERR_NONE;
}

/* Kafka has no bound of its own below the request size: an assignment
 * over GRP_ASSIGNMENT_BYTES_MAX is refused as the append of a too large
 * group record would be (Kafka maps RECORD_TOO_LARGE to UNKNOWN_SERVER_ERROR
 * when storing the group). */
static bool
grp_sync_bounded(const struct kp_sync_group_request *r, int16_t version)
{
	struct kp_cursor it = kp_array_cursor(&r->assignments);

	for (int32_t i = 0; i < r->assignments.count; i++) {
		struct kp_sync_group_request_sync_group_request_assignment a;

		if (kp_sync_group_request_sync_group_request_assignment_decode(&it, version,
									       &a) != 0)
			return false;
		if (a.assignment.len > GRP_ASSIGNMENT_BYTES_MAX)
			return false;
	}
	return true;
}

static enum kp_verdict
grp_sync_completing(struct grp_coord *c, struct grp *g, struct grp_member *m,
		    struct kp_group_call *call, const struct kp_sync_group_request *r)
{
	bool leader = g->leader != NULL && strcmp(g->leader, m->id) == 0;
	struct ctl_park *p;

	if (leader && !grp_sync_bounded(r, call->api_version))
		return grp_sync_now(call, KP_ERR_UNKNOWN_SERVER_ERROR, g, NULL);
	p = ctl_park_take(c->ctl);
	if (p == NULL)
		return grp_sync_now(call, KP_ERR_COORDINATOR_NOT_AVAILABLE, g, NULL);
	if (m->sync_park != NULL)
		grp_park_error(c, m->sync_park, KP_ERR_REBALANCE_IN_PROGRESS);
	m->sync_park = p;
	m->sync_pending = false;
	if (!leader)
		return KP_VERDICT_PARKED;
	int16_t err = grp_sync_assign(g, r, call->api_version);
	struct grp_sync_done *d = calloc(1, sizeof(*d));

	if (err != KP_ERR_NONE || d == NULL) {
		free(d);
		m->sync_park = NULL;
		grp_park_error(c, p, err != KP_ERR_NONE ? err : KP_ERR_COORDINATOR_NOT_AVAILABLE);
		return KP_VERDICT_PARKED;
	}
	d->c = c;
	d->group_id = strdup(g->id);
	d->generation = g->generation;
	if (d->group_id == NULL) {
		free(d);
		m->sync_park = NULL;
		grp_park_error(c, p, KP_ERR_COORDINATOR_NOT_AVAILABLE);
		return KP_VERDICT_PARKED;
	}
	grp_store(c, g, false, grp_sync_stored, d);
	return KP_VERDICT_PARKED;
}

enum kp_verdict
grp_sync_handle(struct grp_coord *c, struct kp_group_call *call)
{
	struct kp_sync_group_request r;

	if (kp_sync_group_request_decode(&call->body, call->api_version, &r) != 0)
		return KP_VERDICT_CLOSE;
	/* v5+ must name the protocol type and name: Kafka refuses a null one
	 * before it looks at the group (KafkaApis.handleSyncGroupRequest). */
	if (call->api_version >= 5 && (r.protocol_type.len < 0 || r.protocol_name.len < 0))
		return grp_sync_now(call, KP_ERR_INCONSISTENT_GROUP_PROTOCOL, NULL, NULL);
	int16_t err = grp_check_id(c, r.group_id, false);

	if (err != KP_ERR_NONE)
		return grp_sync_now(call, err, NULL, NULL);
	struct grp *g = grp_find(c, r.group_id);

	if (g == NULL)
		return grp_sync_now(call, KP_ERR_UNKNOWN_MEMBER_ID, NULL, NULL);
	if (g->state == GRP_DEAD)
		return grp_sync_now(call, KP_ERR_COORDINATOR_NOT_AVAILABLE, NULL, NULL);
	if (grp_member_fenced(g, r.member_id, r.group_instance_id))
		return grp_sync_now(call, KP_ERR_FENCED_INSTANCE_ID, NULL, NULL);
	struct grp_member *m = grp_member_find(g, r.member_id);

	if (m == NULL)
		return grp_sync_now(call, KP_ERR_UNKNOWN_MEMBER_ID, NULL, NULL);
	if (r.generation_id != g->generation)
		return grp_sync_now(call, KP_ERR_ILLEGAL_GENERATION, NULL, NULL);
	if (r.protocol_type.len >= 0 &&
	    (g->protocol_type == NULL || !grp_str_is(g->protocol_type, r.protocol_type)))
		return grp_sync_now(call, KP_ERR_INCONSISTENT_GROUP_PROTOCOL, NULL, NULL);
	if (r.protocol_name.len >= 0 &&
	    (g->protocol == NULL || !grp_str_is(g->protocol, r.protocol_name)))
		return grp_sync_now(call, KP_ERR_INCONSISTENT_GROUP_PROTOCOL, NULL, NULL);
	switch (g->state) {
	case GRP_EMPTY:
		return grp_sync_now(call, KP_ERR_UNKNOWN_MEMBER_ID, NULL, NULL);
	case GRP_PREPARING_REBALANCE:
		return grp_sync_now(call, KP_ERR_REBALANCE_IN_PROGRESS, NULL, NULL);
	case GRP_COMPLETING_REBALANCE:
		return grp_sync_completing(c, g, m, call, &r);
	case GRP_STABLE:
		m->sync_pending = false;
		grp_heartbeat_member(c, g, m);
		return grp_sync_now(call, KP_ERR_NONE, g, m);
	default:
		return grp_sync_now(call, KP_ERR_COORDINATOR_NOT_AVAILABLE, NULL, NULL);
	}
}
