/* SPDX-License-Identifier: Apache-2.0 */
/* The classic group state machine (Kafka's GroupMetadata and the parts of
 * GroupCoordinator that move a group between Empty, PreparingRebalance,
 * CompletingRebalance and Stable): members, the join that completes a
 * rebalance, protocol selection, timers, persisting the group, and what
 * offsets asks of membership. Request decoding lives in the API files.
 * @thread control */
#include "control/group/grp_coord.h"

#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/clock.h"
#include "control/config.h"
#include "control/ctl_park.h"
#include "protocol/gen/kp_msg_join_group.h"
#include "protocol/gen/kp_msg_sync_group.h"

#define NS_PER_MS 1000000ull

struct grp_member *
grp_member_find(const struct grp *g, struct kp_str member_id)
{
	for (struct grp_member *m = g->members; m != NULL; m = m->next)
		if (grp_str_is(m->id, member_id))
			return m;
	return NULL;
}

struct grp_member *
grp_member_by_instance(const struct grp *g, struct kp_str instance_id)
{
	if (instance_id.len < 0)
		return NULL;
	for (struct grp_member *m = g->members; m != NULL; m = m->next)
		if (m->instance_id != NULL && grp_str_is(m->instance_id, instance_id))
			return m;
	return NULL;
}

bool
grp_member_fenced(const struct grp *g, struct kp_str member_id, struct kp_str instance_id)
{
	const struct grp_member *m = grp_member_by_instance(g, instance_id);

	return m != NULL && !grp_str_is(m->id, member_id);
}

struct grp_pending *
grp_pending_find(const struct grp *g, struct kp_str member_id)
{
	for (struct grp_pending *p = g->pending; p != NULL; p = p->next)
		if (grp_str_is(p->id, member_id))
			return p;
	return NULL;
}

void
grp_pending_remove(struct grp *g, struct grp_pending *pm)
{
	struct grp_pending **pp = &g->pending;

	while (*pp != pm)
		pp = &(*pp)->next;
	*pp = pm->next;
	g->pending_count--;
	free(pm->id);
	free(pm);
}

void
grp_member_free(struct grp_member *m)
{
	for (int32_t i = 0; i < m->proto_count; i++) {
		free(m->protos[i].name);
		free(m->protos[i].meta);
	}
	free(m->protos);
	free(m->assign);
	free(m->id);
	free(m->instance_id);
	free(m->client_id);
	free(m->client_host);
	free(m);
}

static void
grp_set_str(char **slot, const char *v)
{
	free(*slot);
	*slot = v == NULL ? NULL : grp_strdup(kp_str_c(v));
}

/* Take m out of g's list; the leader passes to the first member left. */
static void
grp_unlink(struct grp *g, struct grp_member *m)
{
	struct grp_member **pp = &g->members;

	while (*pp != m)
		pp = &(*pp)->next;
	*pp = m->next;
	g->member_count--;
	if (m->join_park != NULL)
		g->awaiting_join--;
	if (g->leader != NULL && strcmp(g->leader, m->id) == 0)
		grp_set_str(&g->leader, g->members != NULL ? g->members->id : NULL);
}

void
grp_member_remove(struct grp_coord *c, struct grp *g, struct grp_member *m)
{
	if (m->join_park != NULL) {
		grp_park_error(c, m->join_park, KP_ERR_UNKNOWN_MEMBER_ID);
		m->join_park = NULL;
		g->awaiting_join--;
	}
	if (m->sync_park != NULL) {
		grp_park_error(c, m->sync_park, KP_ERR_UNKNOWN_MEMBER_ID);
		m->sync_park = NULL;
	}
	grp_unlink(g, m);
	grp_member_free(m);
	switch (g->state) {
	case GRP_STABLE:
	case GRP_COMPLETING_REBALANCE:
		grp_maybe_prepare_rebalance(c, g);
		break;
	case GRP_PREPARING_REBALANCE:
		grp_try_complete_join(c, g);
		break;
	default:
		break;
	}
}

void
grp_heartbeat_member(struct grp_coord *c, struct grp *g, struct grp_member *m)
{
	m->expire_ns = grp_now(c) + (uint64_t)m->session_timeout_ms * NS_PER_MS;
	grp_timer_arm(c, g, m->expire_ns);
}

int32_t
grp_rebalance_timeout_ms(const struct grp *g)
{
	int32_t t = 0;

	for (const struct grp_member *m = g->members; m != NULL; m = m->next)
		if (m->rebalance_timeout_ms > t)
			t = m->rebalance_timeout_ms;
	return t;
}

static void
grp_set_state(struct grp *g, enum grp_state s)
{
	g->state = s;
	g->state_ts_ms = clock_wall_ms();
}

/* Kafka's resetAndPropagateAssignmentError: nobody syncs this generation. */
static void
grp_reset_sync(struct grp_coord *c, struct grp *g, int16_t error)
{
	for (struct grp_member *m = g->members; m != NULL; m = m->next) {
		free(m->assign);
		m->assign = NULL;
		m->assign_len = 0;
		m->sync_pending = false;
		if (m->sync_park != NULL) {
			grp_park_error(c, m->sync_park, error);
			m->sync_park = NULL;
			grp_heartbeat_member(c, g, m);
		}
	}
}

void
grp_prepare_rebalance(struct grp_coord *c, struct grp *g)
{
	const struct config *cfg = c->cfg;
	uint64_t now = grp_now(c);

	if (g->state == GRP_COMPLETING_REBALANCE)
		grp_reset_sync(c, g, KP_ERR_REBALANCE_IN_PROGRESS);
	for (struct grp_member *m = g->members; m != NULL; m = m->next)
		m->sync_pending = false;
	g->new_member_added = false;
	if (g->state == GRP_EMPTY) {
		/* Kafka's InitialDelayedJoin: wait for more members of a new
		 * group, up to the rebalance timeout. */
		int32_t delay = cfg->group_initial_rebalance_delay_ms;
		int32_t rt = grp_rebalance_timeout_ms(g);

		g->initial_delay = true;
		g->join_remaining_ms = rt > delay ? rt - delay : 0;
		g->join_ns = now + (uint64_t)delay * NS_PER_MS;
	} else {
		g->initial_delay = false;
		g->join_ns = now + (uint64_t)grp_rebalance_timeout_ms(g) * NS_PER_MS;
	}
	grp_set_state(g, GRP_PREPARING_REBALANCE);
	grp_timer_arm(c, g, g->join_ns);
	if (!g->initial_delay)
		grp_try_complete_join(c, g);
}

void
grp_maybe_prepare_rebalance(struct grp_coord *c, struct grp *g)
{
	if (g->state == GRP_STABLE || g->state == GRP_COMPLETING_REBALANCE ||
	    g->state == GRP_EMPTY)
		grp_prepare_rebalance(c, g);
}

static bool
grp_member_has_proto(const struct grp_member *m, const char *name)
{
	for (int32_t i = 0; i < m->proto_count; i++)
		if (strcmp(m->protos[i].name, name) == 0)
			return true;
	return false;
}

/* Supported by every member (Kafka's candidateProtocols). */
static bool
grp_candidate(const struct grp *g, const char *name)
{
	for (const struct grp_member *m = g->members; m != NULL; m = m->next)
		if (!grp_member_has_proto(m, name))
			return false;
	return true;
}

bool
grp_supports(const struct grp *g, struct kp_str protocol_type, const struct kp_str *names,
	     int32_t count)
{
	if (g->member_count == 0)
		return protocol_type.len > 0 && count > 0;
	if (g->protocol_type == NULL || !grp_str_is(g->protocol_type, protocol_type))
		return false;
	for (int32_t i = 0; i < count; i++) {
		char *n = grp_strdup(names[i]);
		bool ok = n != NULL && grp_candidate(g, n);

		free(n);
		if (ok)
			return true;
	}
	return false;
}

/* Kafka's selectProtocol: each member votes for the first candidate in its
 * own order of preference; the most votes wins (ties: first member's order). */
const char *
grp_select_protocol(const struct grp *g)
{
	const struct grp_member *first = g->members;
	const char *best = NULL;
	int32_t best_votes = -1;

	if (first == NULL)
		return NULL;
	for (int32_t i = 0; i < first->proto_count; i++) {
		const char *cand = first->protos[i].name;
		int32_t votes = 0;

		if (!grp_candidate(g, cand))
			continue;
		for (const struct grp_member *m = g->members; m != NULL; m = m->next) {
			for (int32_t j = 0; j < m->proto_count; j++) {
				if (!grp_candidate(g, m->protos[j].name))
					continue;
				if (strcmp(m->protos[j].name, cand) == 0)
					votes++;
				break;
			}
		}
		if (votes > best_votes) {
			best = cand;
			best_votes = votes;
		}
	}
	return best;
}

struct kp_bytes
grp_member_meta(const struct grp_member *m, const char *protocol)
{
	if (protocol != NULL)
		for (int32_t i = 0; i < m->proto_count; i++)
			if (strcmp(m->protos[i].name, protocol) == 0)
				return (struct kp_bytes){ m->protos[i].meta,
							  m->protos[i].meta_len };
	return (struct kp_bytes){ (const uint8_t *)"", 0 };
}

void
grp_member_unpark_join(struct grp_coord *c, struct grp *g, struct grp_member *m)
{
	(void)c;
	m->join_park = NULL;
	g->awaiting_join--;
	ASSERT(g->awaiting_join >= 0);
}

void
grp_join_reply_member(struct grp_coord *c, struct grp *g, struct grp_member *m, int16_t error,
		      bool with_members, bool skip_assignment, const char *leader)
{
	struct ctl_park *p = m->join_park;
	struct kp_join_group_response r;
	struct kp_join_group_response_join_group_response_member *items = NULL;
	struct kp_writer w;

	ASSERT(p != NULL);
	kp_join_group_response_init(&r);
	r.error_code = error;
	r.generation_id = g->generation;
	r.protocol_type = grp_kstr(g->protocol_type);
	r.protocol_name = grp_kstr(g->protocol);
	if (p->api_version < 7 && r.protocol_name.len < 0)
		r.protocol_name = kp_str_c("");
	r.leader = kp_str_c(leader != NULL ? leader : "");
	r.skip_assignment = skip_assignment;
	r.member_id = kp_str_c(m->id);
	if (with_members && g->member_count > 0) {
		items = calloc((size_t)g->member_count, sizeof(*items));
		int32_t n = 0;

		for (const struct grp_member *o = g->members; items != NULL && o != NULL;
		     o = o->next, n++) {
			kp_join_group_response_join_group_response_member_init(&items[n]);
			items[n].member_id = kp_str_c(o->id);
			items[n].group_instance_id = grp_kstr(o->instance_id);
			items[n].metadata = grp_member_meta(o, g->protocol);
		}
		if (items == NULL)
			r.error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
		r.members.count = items != NULL ? n : 0;
		r.members.items = items;
	}
	ctl_park_begin(p, &w);
	kp_join_group_response_encode(&w, p->api_version, &r);
	ctl_park_send(c->ctl, p, &w);
	free(items);
	grp_member_unpark_join(c, g, m);
}

void
grp_sync_reply(struct grp_coord *c, struct ctl_park *p, int16_t error, const struct grp *g,
	       const struct grp_member *m)
{
	struct kp_sync_group_response r;
	struct kp_writer w;

	kp_sync_group_response_init(&r);
	r.error_code = error;
	r.protocol_type = grp_kstr(g->protocol_type);
	r.protocol_name = grp_kstr(g->protocol);
	r.assignment = (struct kp_bytes){ (const uint8_t *)"", 0 };
	if (error == KP_ERR_NONE && m->assign != NULL)
		r.assignment = (struct kp_bytes){ m->assign, m->assign_len };
	ctl_park_begin(p, &w);
	kp_sync_group_response_encode(&w, p->api_version, &r);
	ctl_park_send(c->ctl, p, &w);
}

/* Kafka's onCompleteJoin: members that did not rejoin leave, the next
 * generation starts, and everyone waiting gets its JoinGroup response. */
static void
grp_complete_join(struct grp_coord *c, struct grp *g)
{
	struct grp_member *m = g->members;
	uint64_t now = grp_now(c);

	while (m != NULL) {
		struct grp_member *next = m->next;

		if (m->join_park == NULL) {
			if (m->sync_park != NULL) {
				grp_park_error(c, m->sync_park, KP_ERR_REBALANCE_IN_PROGRESS);
				m->sync_park = NULL;
			}
			grp_unlink(g, m);
			grp_member_free(m);
		}
		m = next;
	}
	g->generation++;
	g->initial_delay = false;
	if (g->member_count == 0) {
		grp_set_str(&g->protocol, NULL);
		grp_set_str(&g->leader, NULL);
		grp_set_state(g, GRP_EMPTY);
		grp_store(c, g, false, NULL, NULL);
		return;
	}
	grp_set_str(&g->protocol, grp_select_protocol(g));
	if (g->leader == NULL)
		grp_set_str(&g->leader, g->members->id);
	grp_set_state(g, GRP_COMPLETING_REBALANCE);
	for (m = g->members; m != NULL; m = m->next) {
		bool leader = strcmp(m->id, g->leader) == 0;

		m->is_new = false;
		m->sync_pending = true;
		grp_join_reply_member(c, g, m, KP_ERR_NONE, leader, false, g->leader);
		m->expire_ns = now + (uint64_t)m->session_timeout_ms * NS_PER_MS;
		grp_timer_arm(c, g, m->expire_ns);
	}
	/* Kafka 3.x: members that do not sync within the rebalance timeout
	 * are removed and the group rebalances again. */
	g->sync_generation = g->generation;
	g->sync_ns = now + (uint64_t)grp_rebalance_timeout_ms(g) * NS_PER_MS;
	grp_timer_arm(c, g, g->sync_ns);
}

void
grp_try_complete_join(struct grp_coord *c, struct grp *g)
{
	if (g->state != GRP_PREPARING_REBALANCE || g->initial_delay)
		return;
	if (g->awaiting_join == g->member_count && g->pending_count == 0)
		grp_complete_join(c, g);
}

/* Whether m's session can expire now (Kafka's shouldKeepAlive, inverted):
 * a member waiting in JoinGroup or SyncGroup is kept, except a new member
 * that never got its first response (NewMemberJoinTimeoutMs). */
static bool
grp_member_timed(const struct grp_member *m)
{
	if (m->sync_park != NULL)
		return false;
	return m->join_park == NULL || m->is_new;
}

static bool
grp_sync_timer_on(const struct grp *g)
{
	if (g->state != GRP_COMPLETING_REBALANCE && g->state != GRP_STABLE)
		return false;
	if (g->sync_generation != g->generation)
		return false;
	for (const struct grp_member *m = g->members; m != NULL; m = m->next)
		if (m->sync_pending)
			return true;
	return false;
}

uint64_t
grp_timer_next(const struct grp *g)
{
	uint64_t t = UINT64_MAX;

	for (const struct grp_pending *p = g->pending; p != NULL; p = p->next)
		if (p->expire_ns < t)
			t = p->expire_ns;
	for (const struct grp_member *m = g->members; m != NULL; m = m->next)
		if (grp_member_timed(m) && m->expire_ns < t)
			t = m->expire_ns;
	if (g->state == GRP_PREPARING_REBALANCE && g->join_ns < t)
		t = g->join_ns;
	if (grp_sync_timer_on(g) && g->sync_ns < t)
		t = g->sync_ns;
	return t;
}

static struct grp_member *
grp_first_expired(const struct grp *g, uint64_t now)
{
	for (struct grp_member *m = g->members; m != NULL; m = m->next)
		if (grp_member_timed(m) && m->expire_ns <= now)
			return m;
	return NULL;
}

static void
grp_join_timer(struct grp_coord *c, struct grp *g, uint64_t now)
{
	if (g->initial_delay && g->new_member_added && g->join_remaining_ms > 0) {
		int32_t delay = c->cfg->group_initial_rebalance_delay_ms;

		if (delay > g->join_remaining_ms)
			delay = g->join_remaining_ms;
		g->new_member_added = false;
		g->join_remaining_ms -= delay;
		g->join_ns = now + (uint64_t)delay * NS_PER_MS;
		return;
	}
	grp_complete_join(c, g);
}

void
grp_timers_run(struct grp_coord *c, struct grp *g, uint64_t now)
{
	bool pending_gone = false;
	struct grp_pending *p = g->pending;

	while (p != NULL) {
		struct grp_pending *next = p->next;

		if (p->expire_ns <= now) {
			grp_pending_remove(g, p);
			pending_gone = true;
		}
		p = next;
	}
	if (pending_gone)
		grp_try_complete_join(c, g);
	for (struct grp_member *m; (m = grp_first_expired(g, now)) != NULL;)
		grp_member_remove(c, g, m);
	if (g->state == GRP_PREPARING_REBALANCE && g->join_ns <= now)
		grp_join_timer(c, g, now);
	if (grp_sync_timer_on(g) && g->sync_ns <= now) {
		for (struct grp_member *m = g->members; m != NULL;) {
			struct grp_member *next = m->next;

			if (m->sync_pending && g->state != GRP_PREPARING_REBALANCE) {
				grp_member_remove(c, g, m);
				next = g->members;      /* the list may have changed */
			}
			m = next;
		}
	}
	grp_timer_arm(c, g, grp_timer_next(g));
}

/* ---- persisting ---- */

static void
grp_store_ignore(void *arg, int16_t error)
{
	(void)arg;
	(void)error;
}

void
grp_store(struct grp_coord *c, struct grp *g, bool tombstone,
	  void (*done)(void *arg, int16_t error), void *arg)
{
	struct kp_str id = { g->id, g->id_len };
	struct grp_log_batch *b = grp_log_batch_begin(c->log, id);
	struct grp_rec_member *recs = NULL;

	if (!tombstone && g->member_count > 0)
		recs = calloc((size_t)g->member_count, sizeof(*recs));
	if (tombstone) {
		grp_log_batch_group(b, NULL);
	} else {
		struct grp_rec_group v = {
			.protocol_type = kp_str_c(g->protocol_type != NULL ? g->protocol_type : ""),
			.generation = g->generation,
			.protocol = grp_kstr(g->protocol),
			.leader = grp_kstr(g->leader),
			.current_state_timestamp = g->state_ts_ms,
			.member_count = recs != NULL ? g->member_count : 0,
			.members = recs,
		};
		int32_t n = 0;

		for (const struct grp_member *m = g->members; recs != NULL && m != NULL;
		     m = m->next, n++) {
			recs[n].member_id = kp_str_c(m->id);
			recs[n].instance_id = grp_kstr(m->instance_id);
			recs[n].client_id = kp_str_c(m->client_id);
			recs[n].client_host = kp_str_c(m->client_host);
			recs[n].rebalance_timeout_ms = m->rebalance_timeout_ms;
			recs[n].session_timeout_ms = m->session_timeout_ms;
			recs[n].subscription = grp_member_meta(m, g->protocol);
			recs[n].assignment = m->assign != NULL
				? (struct kp_bytes){ m->assign, m->assign_len }
				: (struct kp_bytes){ (const uint8_t *)"", 0 };
		}
		grp_log_batch_group(b, &v);
	}
	free(recs);
	grp_log_batch_commit(b, done != NULL ? done : grp_store_ignore, arg);
}

/* ---- for offsets ---- */

int16_t
grp_commit_check(struct grp_coord *c, struct grp *g, int32_t generation, struct kp_str member_id,
		 struct kp_str instance_id)
{
	if (g->state == GRP_DEAD)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	if (generation < 0 && g->state == GRP_EMPTY)
		return KP_ERR_NONE;
	if (generation >= 0 || member_id.len > 0 || instance_id.len >= 0) {
		/* A group that never had members or offsets does not exist
		 * for Kafka, which answers a member's commit with this. */
		if (g->generation == 0 && g->member_count == 0 && g->protocol_type == NULL &&
		    (g->offsets == NULL || !off_group_has_offsets(g->offsets)) && generation >= 0)
			return KP_ERR_ILLEGAL_GENERATION;
		if (grp_member_fenced(g, member_id, instance_id))
			return KP_ERR_FENCED_INSTANCE_ID;
		struct grp_member *m = grp_member_find(g, member_id);

		if (m == NULL)
			return KP_ERR_UNKNOWN_MEMBER_ID;
		if (generation != g->generation)
			return KP_ERR_ILLEGAL_GENERATION;
		if (g->state == GRP_COMPLETING_REBALANCE)
			return KP_ERR_REBALANCE_IN_PROGRESS;
		if (m->join_park == NULL && m->sync_park == NULL)
			grp_heartbeat_member(c, g, m);
		return KP_ERR_NONE;
	}
	return g->state == GRP_EMPTY ? KP_ERR_NONE : KP_ERR_UNKNOWN_MEMBER_ID;
}

/* ---- loading ---- */

static struct grp_member *
grp_member_from_rec(const struct grp_rec_member *r, struct kp_str protocol)
{
	struct grp_member *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->id = grp_strdup(r->member_id);
	m->instance_id = grp_strdup(r->instance_id);
	m->client_id = grp_strdup(r->client_id.len >= 0 ? r->client_id : kp_str_c(""));
	m->client_host = grp_strdup(r->client_host.len >= 0 ? r->client_host : kp_str_c(""));
	m->session_timeout_ms = r->session_timeout_ms;
	m->rebalance_timeout_ms = r->rebalance_timeout_ms;
	m->protos = calloc(1, sizeof(*m->protos));
	if (m->protos != NULL && protocol.len >= 0) {
		m->proto_count = 1;
		m->protos[0].name = grp_strdup(protocol);
		if (r->subscription.len > 0) {
			m->protos[0].meta = malloc((size_t)r->subscription.len);
			if (m->protos[0].meta != NULL) {
				memcpy(m->protos[0].meta, r->subscription.ptr,
				       (size_t)r->subscription.len);
				m->protos[0].meta_len = r->subscription.len;
			}
		}
	}
	if (r->assignment.len > 0) {
		m->assign = malloc((size_t)r->assignment.len);
		if (m->assign != NULL) {
			memcpy(m->assign, r->assignment.ptr, (size_t)r->assignment.len);
			m->assign_len = r->assignment.len;
		}
	}
	if (m->id == NULL || m->client_id == NULL || m->client_host == NULL || m->protos == NULL ||
	    (m->proto_count == 1 && m->protos[0].name == NULL)) {
		grp_member_free(m);
		return NULL;
	}
	return m;
}

static void
grp_clear_members(struct grp *g)
{
	while (g->members != NULL) {
		struct grp_member *m = g->members;

		ASSERT(m->join_park == NULL);
		ASSERT(m->sync_park == NULL);
		g->members = m->next;
		grp_member_free(m);
	}
	g->member_count = 0;
	g->awaiting_join = 0;
}

void
grp_load_group(struct grp_coord *c, struct kp_str group_id, const struct grp_rec_group *value)
{
	struct grp *g = value != NULL ? grp_find_or_create(c, group_id) : grp_find(c, group_id);
	uint64_t now = grp_now(c);

	if (g == NULL)
		return;
	grp_clear_members(g);
	grp_set_str(&g->protocol, NULL);
	grp_set_str(&g->leader, NULL);
	grp_set_str(&g->protocol_type, NULL);
	g->state = GRP_EMPTY;
	g->generation = 0;
	if (value == NULL) {
		grp_maybe_remove(c, g);
		return;
	}
	g->protocol_type = grp_strdup(value->protocol_type);
	g->generation = value->generation;
	g->protocol = grp_strdup(value->protocol);
	g->state_ts_ms = value->current_state_timestamp;
	struct grp_member **tail = &g->members;

	for (int32_t i = 0; i < value->member_count && i < GRP_MEMBERS_MAX; i++) {
		struct grp_member *m = grp_member_from_rec(&value->members[i], value->protocol);

		if (m == NULL)
			continue;
		/* Kafka restores the members; each gets a fresh session. */
		m->expire_ns = now + (uint64_t)m->session_timeout_ms * NS_PER_MS;
		grp_timer_arm(c, g, m->expire_ns);
		*tail = m;
		tail = &m->next;
		g->member_count++;
	}
	if (g->member_count > 0) {
		g->leader = grp_strdup(value->leader);
		if (g->leader == NULL || grp_member_find(g, grp_kstr(g->leader)) == NULL)
			grp_set_str(&g->leader, g->members->id);
		g->state = GRP_STABLE;
	}
}
