/* SPDX-License-Identifier: Apache-2.0 */
/* JoinGroup v0-9 (Kafka's GroupCoordinator.handleJoinGroup): new members
 * (MEMBER_ID_REQUIRED from v4), known members, static members (v5+,
 * group.instance.id) replacing their old member id. The response waits,
 * parked, until the rebalance completes (grp_member.c). Protocol lists and
 * metadata are bounded (grp_coord.h) before anything is copied.
 * @thread control */
#include "control/group/grp_coord.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "control/config.h"
#include "control/ctl_park.h"
#include "protocol/gen/kp_msg_join_group.h"

#define NS_PER_MS 1000000ull

enum kp_verdict grp_join_handle(struct grp_coord *c, struct kp_group_call *call);

/* One decoded JoinGroup with its protocols, bounded. */
struct grp_join_req {
	struct kp_join_group_request r;
	int32_t proto_count;
	struct kp_str names[GRP_PROTOCOLS_MAX];
	struct kp_bytes metas[GRP_PROTOCOLS_MAX];
};

static enum kp_verdict
grp_join_error(struct kp_group_call *call, int16_t error, struct kp_str member_id)
{
	struct kp_join_group_response r;

	kp_join_group_response_init(&r);
	r.error_code = error;
	r.generation_id = -1;
	r.leader = kp_str_c("");
	r.member_id = member_id.len >= 0 ? member_id : kp_str_c("");
	if (call->api_version >= 7)
		r.protocol_name.len = -1;       /* null from v7, as Kafka answers */
	kp_join_group_response_encode(call->w, call->api_version, &r);
	return KP_VERDICT_REPLY;
}

/* The generation in place, answered at once (a known member rejoining
 * without change: Kafka answers it without a rebalance). */
static enum kp_verdict
grp_join_current(struct grp *g, struct grp_member *m, struct kp_group_call *call)
{
	struct kp_join_group_response r;
	struct kp_join_group_response_join_group_response_member *items = NULL;
	bool leader = g->leader != NULL && strcmp(g->leader, m->id) == 0;

	kp_join_group_response_init(&r);
	r.generation_id = g->generation;
	r.protocol_type = grp_kstr(g->protocol_type);
	r.protocol_name = grp_kstr(g->protocol);
	if (call->api_version < 7 && r.protocol_name.len < 0)
		r.protocol_name = kp_str_c("");
	r.leader = kp_str_c(g->leader != NULL ? g->leader : "");
	r.member_id = kp_str_c(m->id);
	if (leader) {
		items = calloc((size_t)g->member_count, sizeof(*items));
		if (items == NULL)
			return grp_join_error(call, KP_ERR_UNKNOWN_SERVER_ERROR, kp_str_c(m->id));
		int32_t n = 0;

		for (const struct grp_member *o = g->members; o != NULL; o = o->next, n++) {
			kp_join_group_response_join_group_response_member_init(&items[n]);
			items[n].member_id = kp_str_c(o->id);
			items[n].group_instance_id = grp_kstr(o->instance_id);
			items[n].metadata = grp_member_meta(o, g->protocol);
		}
		r.members.count = n;
		r.members.items = items;
	}
	kp_join_group_response_encode(call->w, call->api_version, &r);
	free(items);
	return KP_VERDICT_REPLY;
}

/* Kafka's member id: clientId-UUID (java.util.UUID.randomUUID()). */
static char *
grp_member_id_new(struct grp_coord *c, struct kp_str client_id)
{
	uint8_t u[16] = { 0 };

	c->random_fn(u, sizeof(u));
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	size_t cap = (size_t)(client_id.len > 0 ? client_id.len : 0) + 38;
	char *id = malloc(cap);

	if (id == NULL)
		return NULL;
	int off = snprintf(id, cap, "%.*s-", client_id.len > 0 ? (int)client_id.len : 0,
			   client_id.len > 0 ? client_id.ptr : "");
	for (int i = 0; i < 16; i++) {
		off += snprintf(id + off, cap - (size_t)off, "%02x", u[i]);
		if (i == 3 || i == 5 || i == 7 || i == 9)
			id[off++] = '-';
	}
	id[off] = '\0';
	return id;
}

static struct grp_proto *
grp_protos_copy(const struct grp_join_req *jr)
{
	struct grp_proto *p = calloc((size_t)jr->proto_count, sizeof(*p));

	if (p == NULL)
		return NULL;
	for (int32_t i = 0; i < jr->proto_count; i++) {
		p[i].name = grp_strdup(jr->names[i]);
		p[i].meta_len = jr->metas[i].len > 0 ? jr->metas[i].len : 0;
		p[i].meta = malloc((size_t)p[i].meta_len + 1);
		if (p[i].name == NULL || p[i].meta == NULL) {
			for (int32_t j = 0; j <= i; j++) {
				free(p[j].name);
				free(p[j].meta);
			}
			free(p);
			return NULL;
		}
		if (p[i].meta_len > 0)
			memcpy(p[i].meta, jr->metas[i].ptr, (size_t)p[i].meta_len);
	}
	return p;
}

static void
grp_protos_free(struct grp_proto *p, int32_t n)
{
	for (int32_t i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].meta);
	}
	free(p);
}

/* Kafka's MemberMetadata.matches: the same protocols, same metadata. */
static bool
grp_member_matches(const struct grp_member *m, const struct grp_join_req *jr)
{
	if (m->proto_count != jr->proto_count)
		return false;
	for (int32_t i = 0; i < jr->proto_count; i++) {
		const struct grp_proto *p = &m->protos[i];
		int32_t len = jr->metas[i].len > 0 ? jr->metas[i].len : 0;

		if (!grp_str_is(p->name, jr->names[i]) || p->meta_len != len)
			return false;
		if (len > 0 && memcmp(p->meta, jr->metas[i].ptr, (size_t)len) != 0)
			return false;
	}
	return true;
}

static int32_t
grp_join_rebalance_ms(const struct grp_join_req *jr, int16_t version)
{
	return version >= 1 ? jr->r.rebalance_timeout_ms : jr->r.session_timeout_ms;
}

/* Replace m's protocols and timeouts with the request's; false: no memory. */
static bool
grp_member_update(struct grp_member *m, const struct grp_join_req *jr, int16_t version)
{
	struct grp_proto *p = grp_protos_copy(jr);

	if (p == NULL)
		return false;
	grp_protos_free(m->protos, m->proto_count);
	m->protos = p;
	m->proto_count = jr->proto_count;
	m->session_timeout_ms = jr->r.session_timeout_ms;
	m->rebalance_timeout_ms = grp_join_rebalance_ms(jr, version);
	return true;
}

/* Park the request as m's JoinGroup (an older one still parked is told to
 * rejoin: Kafka replaces its callback and never answers it). */
static void
grp_join_park(struct grp_coord *c, struct grp *g, struct grp_member *m, struct ctl_park *p)
{
	if (m->join_park != NULL) {
		grp_park_error(c, m->join_park, KP_ERR_REBALANCE_IN_PROGRESS);
		grp_member_unpark_join(c, g, m);
	}
	m->join_park = p;
	g->awaiting_join++;
}

static void
grp_rebalance_now(struct grp_coord *c, struct grp *g)
{
	grp_maybe_prepare_rebalance(c, g);
	grp_try_complete_join(c, g);
}

/* Kafka's addMemberAndRebalance; takes id. */
static enum kp_verdict
grp_join_add(struct grp_coord *c, struct grp *g, struct kp_group_call *call,
	     const struct grp_join_req *jr, char *id)
{
	struct grp_member *m = calloc(1, sizeof(*m));
	struct ctl_park *p;

	if (m == NULL) {
		free(id);
		return grp_join_error(call, KP_ERR_COORDINATOR_NOT_AVAILABLE, jr->r.member_id);
	}
	m->id = id;
	m->instance_id = grp_strdup(jr->r.group_instance_id);
	m->client_id = grp_strdup(call->client_id.len >= 0 ? call->client_id : kp_str_c(""));
	m->client_host = grp_strdup(call->client_host.len >= 0 ? call->client_host : kp_str_c(""));
	if (m->id == NULL || m->client_id == NULL || m->client_host == NULL ||
	    (jr->r.group_instance_id.len >= 0 && m->instance_id == NULL) ||
	    !grp_member_update(m, jr, call->api_version) ||
	    (p = ctl_park_take(c->ctl)) == NULL) {
		grp_member_free(m);
		return grp_join_error(call, KP_ERR_COORDINATOR_NOT_AVAILABLE, jr->r.member_id);
	}
	if (g->member_count == 0) {
		free(g->protocol_type);
		g->protocol_type = grp_strdup(jr->r.protocol_type);
	}
	if (g->leader == NULL)
		g->leader = grp_strdup(kp_str_c(m->id));
	if (g->state == GRP_PREPARING_REBALANCE && g->generation == 0)
		g->new_member_added = true;
	struct grp_member **tail = &g->members;

	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail = m;
	g->member_count++;
	m->is_new = true;
	grp_join_park(c, g, m, p);
	/* New members cannot heartbeat; their join times out instead. */
	m->expire_ns = grp_now(c) + (uint64_t)GRP_NEW_MEMBER_JOIN_TIMEOUT_MS * NS_PER_MS;
	grp_timer_arm(c, g, m->expire_ns);
	grp_rebalance_now(c, g);
	return KP_VERDICT_PARKED;
}

/* Kafka's updateMemberAndRebalance. */
static enum kp_verdict
grp_join_update(struct grp_coord *c, struct grp *g, struct grp_member *m,
		struct kp_group_call *call, const struct grp_join_req *jr)
{
	struct ctl_park *p = ctl_park_take(c->ctl);

	if (p == NULL)
		return grp_join_error(call, KP_ERR_COORDINATOR_NOT_AVAILABLE, jr->r.member_id);
	if (!grp_member_update(m, jr, call->api_version)) {
		grp_park_error(c, p, KP_ERR_COORDINATOR_NOT_AVAILABLE);
		return KP_VERDICT_PARKED;
	}
	grp_join_park(c, g, m, p);
	grp_rebalance_now(c, g);
	return KP_VERDICT_PARKED;
}

/* A static member rejoining unchanged in a Stable group: answered once the
 * group with its new member id is durable (Kafka's storeGroup). */
struct grp_static_done {
	struct grp_coord *c;
	char *group_id;
	char *member_id;
	char *old_leader;
};

static void
grp_static_stored(void *arg, int16_t error)
{
	struct grp_static_done *d = arg;
	struct grp *g = grp_find(d->c, kp_str_c(d->group_id));
	struct grp_member *m = g != NULL ? grp_member_find(g, kp_str_c(d->member_id)) : NULL;

	if (m != NULL && m->join_park != NULL) {
		int16_t v = m->join_park->api_version;
		bool leader = g->leader != NULL && strcmp(g->leader, m->id) == 0;

		if (error != KP_ERR_NONE)
			grp_join_reply_member(d->c, g, m, KP_ERR_COORDINATOR_NOT_AVAILABLE, false,
					      false, d->old_leader);
		else if (v >= 9)
			grp_join_reply_member(d->c, g, m, KP_ERR_NONE, leader, leader, g->leader);
		else    /* the old leader id: the member does not assign */
			grp_join_reply_member(d->c, g, m, KP_ERR_NONE, false, false,
					      d->old_leader);
		grp_heartbeat_member(d->c, g, m);
	}
	free(d->group_id);
	free(d->member_id);
	free(d->old_leader);
	free(d);
}

/* Kafka's updateStaticMemberAndRebalance: the instance's old member id is
 * fenced, the new one takes its place. Takes new_id. */
static enum kp_verdict
grp_join_static_replace(struct grp_coord *c, struct grp *g, struct grp_member *m,
			struct kp_group_call *call, const struct grp_join_req *jr, char *new_id)
{
	struct ctl_park *p = ctl_park_take(c->ctl);
	struct grp_static_done *d = calloc(1, sizeof(*d));

	if (p == NULL || d == NULL || !grp_member_update(m, jr, call->api_version)) {
		free(new_id);
		free(d);
		if (p == NULL)
			return grp_join_error(call, KP_ERR_COORDINATOR_NOT_AVAILABLE,
					      jr->r.member_id);
		grp_park_error(c, p, KP_ERR_COORDINATOR_NOT_AVAILABLE);
		return KP_VERDICT_PARKED;
	}
	if (m->join_park != NULL) {
		grp_park_error(c, m->join_park, KP_ERR_FENCED_INSTANCE_ID);
		grp_member_unpark_join(c, g, m);
	}
	if (m->sync_park != NULL) {
		grp_park_error(c, m->sync_park, KP_ERR_FENCED_INSTANCE_ID);
		m->sync_park = NULL;
	}
	d->old_leader = g->leader != NULL ? grp_strdup(kp_str_c(g->leader)) : NULL;
	if (g->leader != NULL && strcmp(g->leader, m->id) == 0) {
		free(g->leader);
		g->leader = grp_strdup(kp_str_c(new_id));
	}
	free(m->id);
	m->id = new_id;
	m->client_id = (free(m->client_id), grp_strdup(call->client_id));
	m->client_host = (free(m->client_host), grp_strdup(call->client_host));
	grp_join_park(c, g, m, p);
	const char *sel = grp_select_protocol(g);

	if (g->state == GRP_STABLE && g->protocol != NULL && sel != NULL &&
	    strcmp(g->protocol, sel) == 0) {
		d->c = c;
		d->group_id = grp_strdup(kp_str_c(g->id));
		d->member_id = grp_strdup(kp_str_c(m->id));
		grp_store(c, g, false, grp_static_stored, d);
		return KP_VERDICT_PARKED;
	}
	free(d->old_leader);
	free(d);
	grp_rebalance_now(c, g);
	return KP_VERDICT_PARKED;
}

static enum kp_verdict
grp_join_new(struct grp_coord *c, struct grp *g, struct kp_group_call *call,
	     const struct grp_join_req *jr)
{
	if (g->state == GRP_DEAD)
		return grp_join_error(call, KP_ERR_COORDINATOR_NOT_AVAILABLE, jr->r.member_id);
	if (!grp_supports(g, jr->r.protocol_type, jr->names, jr->proto_count))
		return grp_join_error(call, KP_ERR_INCONSISTENT_GROUP_PROTOCOL, jr->r.member_id);
	char *id = grp_member_id_new(c, call->client_id);

	if (id == NULL)
		return grp_join_error(call, KP_ERR_COORDINATOR_NOT_AVAILABLE, jr->r.member_id);
	if (jr->r.group_instance_id.len >= 0) {
		struct grp_member *old = grp_member_by_instance(g, jr->r.group_instance_id);

		if (old == NULL)
			return grp_join_add(c, g, call, jr, id);
		return grp_join_static_replace(c, g, old, call, jr, id);
	}
	if (call->api_version >= 4) {
		struct grp_pending *pm = calloc(1, sizeof(*pm));

		if (pm == NULL || g->pending_count >= GRP_PENDING_MAX) {
			free(pm);
			free(id);
			return grp_join_error(call, KP_ERR_COORDINATOR_NOT_AVAILABLE,
					      jr->r.member_id);
		}
		pm->id = id;
		pm->expire_ns = grp_now(c) + (uint64_t)jr->r.session_timeout_ms * NS_PER_MS;
		pm->next = g->pending;
		g->pending = pm;
		g->pending_count++;
		grp_timer_arm(c, g, pm->expire_ns);
		return grp_join_error(call, KP_ERR_MEMBER_ID_REQUIRED, kp_str_c(id));
	}
	return grp_join_add(c, g, call, jr, id);
}

static enum kp_verdict
grp_join_known(struct grp_coord *c, struct grp *g, struct kp_group_call *call,
	       const struct grp_join_req *jr)
{
	struct kp_str mid = jr->r.member_id;

	if (g->state == GRP_DEAD)
		return grp_join_error(call, KP_ERR_COORDINATOR_NOT_AVAILABLE, mid);
	if (!grp_supports(g, jr->r.protocol_type, jr->names, jr->proto_count))
		return grp_join_error(call, KP_ERR_INCONSISTENT_GROUP_PROTOCOL, mid);
	struct grp_pending *pm = grp_pending_find(g, mid);

	if (pm != NULL) {
		if (jr->r.group_instance_id.len >= 0)
			return grp_join_error(call, KP_ERR_UNKNOWN_SERVER_ERROR, mid);
		char *id = grp_strdup(mid);

		grp_pending_remove(g, pm);
		if (id == NULL)
			return grp_join_error(call, KP_ERR_COORDINATOR_NOT_AVAILABLE, mid);
		return grp_join_add(c, g, call, jr, id);
	}
	if (grp_member_fenced(g, mid, jr->r.group_instance_id))
		return grp_join_error(call, KP_ERR_FENCED_INSTANCE_ID, mid);
	struct grp_member *m = grp_member_find(g, mid);

	if (m == NULL)
		return grp_join_error(call, KP_ERR_UNKNOWN_MEMBER_ID, mid);
	bool leader = g->leader != NULL && strcmp(g->leader, m->id) == 0;

	switch (g->state) {
	case GRP_PREPARING_REBALANCE:
		return grp_join_update(c, g, m, call, jr);
	case GRP_COMPLETING_REBALANCE:
		if (grp_member_matches(m, jr))
			return grp_join_current(g, m, call);
		return grp_join_update(c, g, m, call, jr);
	case GRP_STABLE:
		if (leader || !grp_member_matches(m, jr))
			return grp_join_update(c, g, m, call, jr);
		return grp_join_current(g, m, call);
	default:
		return grp_join_error(call, KP_ERR_UNKNOWN_MEMBER_ID, mid);
	}
}

/* Kafka's acceptJoiningMember against group.max.size (and our own cap). */
static bool
grp_join_accept(const struct grp_coord *c, const struct grp *g, struct kp_str member_id)
{
	int32_t max = c->cfg->group_max_size;
	const struct grp_member *m = member_id.len > 0 ? grp_member_find(g, member_id) : NULL;

	if (max > GRP_MEMBERS_MAX)
		max = GRP_MEMBERS_MAX;
	switch (g->state) {
	case GRP_EMPTY:
	case GRP_DEAD:
		return true;
	case GRP_PREPARING_REBALANCE:
		return (m != NULL && m->join_park != NULL) || g->awaiting_join < max;
	default:
		return m != NULL || g->member_count < max;
	}
}

/* Decode and bound the protocols. Over GRP_PROTOCOLS_MAX protocols or
 * GRP_METADATA_BYTES_MAX bytes of one protocol's metadata: false (answered
 * INCONSISTENT_GROUP_PROTOCOL, the error Kafka gives a member whose
 * protocols the group cannot use; Kafka itself bounds only the request). */
static bool
grp_join_protocols(struct grp_join_req *jr, int16_t version, bool *bad)
{
	struct kp_cursor it = kp_array_cursor(&jr->r.protocols);

	*bad = false;
	jr->proto_count = 0;
	if (jr->r.protocols.count > GRP_PROTOCOLS_MAX)
		return false;
	for (int32_t i = 0; i < jr->r.protocols.count; i++) {
		struct kp_join_group_request_join_group_request_protocol p;

		int rc = kp_join_group_request_join_group_request_protocol_decode(&it, version, &p);

		if (rc != 0 ||
		    p.name.len < 0) {
			*bad = true;
			return false;
		}
		if (p.metadata.len > GRP_METADATA_BYTES_MAX)
			return false;
		jr->names[i] = p.name;
		jr->metas[i] = p.metadata;
		jr->proto_count++;
	}
	return true;
}

enum kp_verdict
grp_join_handle(struct grp_coord *c, struct kp_group_call *call)
{
	struct grp_join_req *jr = calloc(1, sizeof(*jr));
	enum kp_verdict v;
	bool bad;

	if (jr == NULL)
		return KP_VERDICT_CLOSE;
	if (kp_join_group_request_decode(&call->body, call->api_version, &jr->r) != 0) {
		free(jr);
		return KP_VERDICT_CLOSE;
	}
	struct kp_join_group_request *r = &jr->r;
	int16_t err = grp_check_id(c, r->group_id, false);
	int32_t rebalance_ms = grp_join_rebalance_ms(jr, call->api_version);

	if (err == KP_ERR_NONE && (r->session_timeout_ms < c->cfg->group_min_session_timeout_ms ||
				   r->session_timeout_ms > c->cfg->group_max_session_timeout_ms ||
				   rebalance_ms < 0))
		err = KP_ERR_INVALID_SESSION_TIMEOUT;
	if (err == KP_ERR_NONE && !grp_join_protocols(jr, call->api_version, &bad)) {
		if (bad) {
			free(jr);
			return KP_VERDICT_CLOSE;
		}
		err = KP_ERR_INCONSISTENT_GROUP_PROTOCOL;
	}
	if (err == KP_ERR_NONE && (r->member_id.len > GRP_ID_BYTES_MAX ||
				   r->group_instance_id.len > GRP_ID_BYTES_MAX ||
				   r->group_id.len > GRP_ID_BYTES_MAX))
		err = KP_ERR_INVALID_REQUEST;
	if (err != KP_ERR_NONE) {
		v = grp_join_error(call, err, r->member_id);
		free(jr);
		return v;
	}
	bool unknown = r->member_id.len <= 0;
	struct grp *g = grp_find(c, r->group_id);

	if (g == NULL && !unknown) {
		v = grp_join_error(call, KP_ERR_UNKNOWN_MEMBER_ID, r->member_id);
	} else if (g == NULL && (g = grp_find_or_create(c, r->group_id)) == NULL) {
		/* Out of memory or at GRP_GROUPS_MAX: the client retries. */
		v = grp_join_error(call, KP_ERR_COORDINATOR_NOT_AVAILABLE, r->member_id);
	} else if (!grp_join_accept(c, g, r->member_id)) {
		v = grp_join_error(call, KP_ERR_GROUP_MAX_SIZE_REACHED, r->member_id);
	} else {
		v = unknown ? grp_join_new(c, g, call, jr) : grp_join_known(c, g, call, jr);
	}
	free(jr);
	return v;
}
