/* SPDX-License-Identifier: Apache-2.0 */
/* The group coordinator's frame: the group table (hash by group id), the
 * timer heap (one entry per group, keyed by its earliest deadline), routing
 * of each group API to its handler file, metrics, and what grp_int.h
 * promises offsets and the log. It holds no protocol logic of its own.
 * @thread control */
#include "control/group/grp_coord.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/assert.h"
#include "common/clock.h"
#include "common/log.h"
#include "control/config.h"
#include "control/ctl_park.h"
#include "protocol/gen/kp_msg_heartbeat.h"
#include "protocol/gen/kp_msg_join_group.h"
#include "protocol/gen/kp_msg_leave_group.h"
#include "protocol/gen/kp_msg_sync_group.h"

enum kp_verdict grp_find_coordinator_handle(struct grp_coord *c, struct kp_group_call *call);
enum kp_verdict grp_join_handle(struct grp_coord *c, struct kp_group_call *call);
enum kp_verdict grp_sync_handle(struct grp_coord *c, struct kp_group_call *call);
enum kp_verdict grp_heartbeat_handle(struct grp_coord *c, struct kp_group_call *call);
enum kp_verdict grp_leave_handle(struct grp_coord *c, struct kp_group_call *call);
enum kp_verdict grp_describe_handle(struct grp_coord *c, struct kp_group_call *call);
enum kp_verdict grp_list_handle(struct grp_coord *c, struct kp_group_call *call);
enum kp_verdict grp_delete_handle(struct grp_coord *c, struct kp_group_call *call);

#define GRP_BUCKETS_MIN 64u

static uint64_t
grp_clock_default(void)
{
	return clock_mono_ns();
}

static void
grp_random_default(uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(buf + got, len - got, 0);

		if (n <= 0)
			break;  /* not after boot: getrandom(2) blocks only before */
		got += (size_t)n;
	}
}

struct grp_coord *
grp_coord_create(struct ctl *ctl, const struct config *cfg)
{
	struct grp_coord *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->ctl = ctl;
	c->cfg = cfg;
	c->now_fn = grp_clock_default;
	c->random_fn = grp_random_default;
	c->bucket_count = GRP_BUCKETS_MIN;
	c->buckets = calloc(c->bucket_count, sizeof(*c->buckets));
	if (c->buckets == NULL) {
		free(c);
		return NULL;
	}
	c->log = grp_log_create(c);
	if (c->log == NULL) {
		free(c->buckets);
		free(c);
		return NULL;
	}
	return c;
}

static void
grp_drop_parks(struct grp_coord *c, struct grp *g)
{
	for (struct grp_member *m = g->members; m != NULL; m = m->next) {
		if (m->join_park != NULL)
			ctl_park_drop(c->ctl, m->join_park);
		if (m->sync_park != NULL)
			ctl_park_drop(c->ctl, m->sync_park);
		m->join_park = NULL;
		m->sync_park = NULL;
	}
	g->awaiting_join = 0;
}

void
grp_coord_destroy(struct grp_coord *c)
{
	if (c == NULL)
		return;
	/* The log first: its pending appends' callbacks may still name groups. */
	grp_log_destroy(c->log);
	c->log = NULL;
	for (uint32_t b = 0; b < c->bucket_count; b++) {
		while (c->buckets[b] != NULL) {
			struct grp *g = c->buckets[b];

			grp_drop_parks(c, g);
			grp_free(c, g);
		}
	}
	free(c->buckets);
	free(c->heap);
	free(c);
}

void
grp_coord_start(struct grp_coord *c)
{
	grp_log_start(c->log);
}

void
grp_coord_set_cluster(struct grp_coord *c, bool cluster)
{
	if (!cluster || c->cluster)
		return;
	c->cluster = true;
	grp_log_set_cluster(c->log);
}

/* Kafka's onGroupUnloaded: the group's waiting JoinGroup and SyncGroup
 * requests answer NOT_COORDINATOR (the client looks for the new
 * coordinator), then it goes with its offsets and timers. */
static void
grp_unload(struct grp_coord *c, struct grp *g)
{
	for (struct grp_member *m = g->members; m != NULL; m = m->next) {
		if (m->join_park != NULL)
			grp_park_error_member(c, m->join_park, KP_ERR_NOT_COORDINATOR, m->id);
		if (m->sync_park != NULL)
			grp_park_error(c, m->sync_park, KP_ERR_NOT_COORDINATOR);
		m->join_park = NULL;
		m->sync_park = NULL;
	}
	g->awaiting_join = 0;
	grp_free(c, g);
}

void
grp_coord_partition_role(struct grp_coord *c, int32_t partition, bool leader,
			 int32_t leader_epoch)
{
	int32_t count, groups = 0;

	if (!c->cluster)
		return;
	if (leader) {
		grp_log_partition_lead(c->log, partition, leader_epoch);
		return;
	}
	count = grp_log_partition_resign(c->log, partition, leader_epoch);
	if (count <= 0)
		return;
	for (uint32_t b = 0; b < c->bucket_count; b++) {
		struct grp *g = c->buckets[b];

		while (g != NULL) {
			struct grp *next = g->hnext;    /* grp_free unlinks only g */

			if (grp_log_partition_of((struct kp_str){ g->id, g->id_len }, count) ==
			    partition) {
				grp_unload(c, g);
				groups++;
			}
			g = next;
		}
	}
	log_info("group", "__consumer_offsets-%d unloaded: %d group(s) dropped", partition,
		 groups);
}

uint64_t
grp_now(const struct grp_coord *c)
{
	return c->now_fn();
}

void
grp_coord_set_clock(struct grp_coord *c, uint64_t (*now_fn)(void))
{
	c->now_fn = now_fn;
}

void
grp_coord_set_random(struct grp_coord *c, void (*random_fn)(uint8_t *buf, size_t len))
{
	c->random_fn = random_fn;
}

struct ctl *
grp_coord_ctl(const struct grp_coord *c)
{
	return c->ctl;
}

const struct config *
grp_coord_config(const struct grp_coord *c)
{
	return c->cfg;
}

struct grp_log *
grp_coord_log(const struct grp_coord *c)
{
	return c->log;
}

/* ---- strings ---- */

char *
grp_strdup(struct kp_str s)
{
	if (s.len < 0)
		return NULL;
	char *r = malloc((size_t)s.len + 1);

	if (r == NULL)
		return NULL;
	if (s.len > 0)
		memcpy(r, s.ptr, (size_t)s.len);
	r[s.len] = '\0';
	return r;
}

bool
grp_str_is(const char *a, struct kp_str b)
{
	if (a == NULL || b.len < 0)
		return a == NULL && b.len < 0;
	return strlen(a) == (size_t)b.len && memcmp(a, b.ptr, (size_t)b.len) == 0;
}

struct kp_str
grp_kstr(const char *s)
{
	return kp_str_c(s);
}

const char *
grp_state_name(enum grp_state s)
{
	switch (s) {
	case GRP_EMPTY: return "Empty";
	case GRP_PREPARING_REBALANCE: return "PreparingRebalance";
	case GRP_COMPLETING_REBALANCE: return "CompletingRebalance";
	case GRP_STABLE: return "Stable";
	case GRP_DEAD: return "Dead";
	}
	return "Unknown";
}

/* ---- the group table ---- */

/* FNV-1a: the table is ours, so any good spread will do. */
static uint32_t
grp_hash(struct kp_str id)
{
	uint32_t h = 2166136261u;

	for (int32_t i = 0; i < id.len; i++)
		h = (h ^ (uint8_t)id.ptr[i]) * 16777619u;
	return h;
}

struct grp *
grp_find(struct grp_coord *c, struct kp_str group_id)
{
	if (group_id.len < 0)
		return NULL;
	struct grp *g = c->buckets[grp_hash(group_id) & (c->bucket_count - 1)];

	for (; g != NULL; g = g->hnext)
		if (g->id_len == group_id.len &&
		    memcmp(g->id, group_id.ptr, (size_t)g->id_len) == 0)
			return g;
	return NULL;
}

static void
grp_table_grow(struct grp_coord *c)
{
	uint32_t n = c->bucket_count * 2;
	struct grp **b = calloc(n, sizeof(*b));

	if (b == NULL)
		return;         /* longer chains, still correct */
	for (uint32_t i = 0; i < c->bucket_count; i++) {
		while (c->buckets[i] != NULL) {
			struct grp *g = c->buckets[i];
			struct kp_str id = { g->id, g->id_len };
			uint32_t h = grp_hash(id) & (n - 1);

			c->buckets[i] = g->hnext;
			g->hnext = b[h];
			b[h] = g;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->bucket_count = n;
}

struct grp *
grp_find_or_create(struct grp_coord *c, struct kp_str group_id)
{
	struct grp *g = grp_find(c, group_id);

	if (g != NULL || group_id.len < 0 || group_id.len > GRP_ID_BYTES_MAX)
		return g;
	if (c->group_count >= GRP_GROUPS_MAX)
		return NULL;
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return NULL;
	g->id = grp_strdup(group_id);
	if (g->id == NULL) {
		free(g);
		return NULL;
	}
	g->id_len = group_id.len;
	g->state = GRP_EMPTY;
	g->heap_idx = -1;
	g->timer_ns = UINT64_MAX;
	g->state_ts_ms = clock_wall_ms();
	if ((uint32_t)c->group_count >= c->bucket_count)
		grp_table_grow(c);
	uint32_t h = grp_hash(group_id) & (c->bucket_count - 1);

	g->hnext = c->buckets[h];
	c->buckets[h] = g;
	c->group_count++;
	return g;
}

const char *
grp_id(const struct grp *g)
{
	return g->id;
}

struct off_group **
grp_offsets_slot(struct grp *g)
{
	return &g->offsets;
}

bool
grp_is_empty(const struct grp *g)
{
	return g->member_count == 0 && (g->state == GRP_EMPTY || g->state == GRP_DEAD);
}

/* ---- the timer heap ---- */

static void
grp_heap_set(struct grp_coord *c, int32_t i, struct grp *g)
{
	c->heap[i] = g;
	g->heap_idx = i;
}

static void
grp_heap_up(struct grp_coord *c, int32_t i)
{
	struct grp *g = c->heap[i];

	while (i > 0) {
		int32_t p = (i - 1) / 2;

		if (c->heap[p]->timer_ns <= g->timer_ns)
			break;
		grp_heap_set(c, i, c->heap[p]);
		i = p;
	}
	grp_heap_set(c, i, g);
}

static void
grp_heap_down(struct grp_coord *c, int32_t i)
{
	struct grp *g = c->heap[i];

	for (;;) {
		int32_t l = 2 * i + 1, r = l + 1, m = i;
		uint64_t t = g->timer_ns;

		if (l < c->heap_len && c->heap[l]->timer_ns < t) {
			m = l;
			t = c->heap[l]->timer_ns;
		}
		if (r < c->heap_len && c->heap[r]->timer_ns < t)
			m = r;
		if (m == i)
			break;
		grp_heap_set(c, i, c->heap[m]);
		i = m;
	}
	grp_heap_set(c, i, g);
}

static void
grp_heap_remove(struct grp_coord *c, struct grp *g)
{
	int32_t i = g->heap_idx;

	if (i < 0)
		return;
	ASSERT(c->heap[i] == g);
	g->heap_idx = -1;
	c->heap_len--;
	if (i == c->heap_len)
		return;
	struct grp *x = c->heap[c->heap_len];

	grp_heap_set(c, i, x);
	grp_heap_up(c, i);
	grp_heap_down(c, x->heap_idx);
}

/* Set g's heap key to t (UINT64_MAX: leave the heap). */
static void
grp_heap_update(struct grp_coord *c, struct grp *g, uint64_t t)
{
	if (t == UINT64_MAX) {
		grp_heap_remove(c, g);
		g->timer_ns = UINT64_MAX;
		return;
	}
	if (g->heap_idx < 0) {
		if (c->heap_len == c->heap_cap) {
			int32_t cap = c->heap_cap == 0 ? 64 : c->heap_cap * 2;
			struct grp **h = realloc(c->heap, (size_t)cap * sizeof(*h));

			/* Groups are bounded by GRP_GROUPS_MAX, so the heap is
			 * too; failing here would lose a session timeout. */
			ASSERT(h != NULL);
			c->heap = h;
			c->heap_cap = cap;
		}
		g->timer_ns = t;
		grp_heap_set(c, c->heap_len++, g);
		grp_heap_up(c, g->heap_idx);
		return;
	}
	g->timer_ns = t;
	grp_heap_up(c, g->heap_idx);
	grp_heap_down(c, g->heap_idx);
}

void
grp_timer_arm(struct grp_coord *c, struct grp *g, uint64_t t)
{
	if (t < g->timer_ns)
		grp_heap_update(c, g, t);
}

uint64_t
grp_coord_deadline(const struct grp_coord *c)
{
	return c->heap_len > 0 ? c->heap[0]->timer_ns : UINT64_MAX;
}

void
grp_coord_tick(struct grp_coord *c, uint64_t now_ns)
{
	/* Each group runs at most once per tick: a timer it re-arms at or
	 * before now waits for the next tick instead of looping here. */
	int32_t budget = c->heap_len;

	while (c->heap_len > 0 && c->heap[0]->timer_ns <= now_ns && budget-- > 0) {
		struct grp *g = c->heap[0];

		/* Exact from here on: drop the lower bound first so that what
		 * the timers arm lands in the heap. */
		grp_heap_update(c, g, UINT64_MAX);
		grp_timers_run(c, g, now_ns);
	}
	off_expire(c, now_ns);
}

/* ---- freeing ---- */

void
grp_free(struct grp_coord *c, struct grp *g)
{
	struct kp_str id = { g->id, g->id_len };
	struct grp **pp = &c->buckets[grp_hash(id) & (c->bucket_count - 1)];

	while (*pp != g)
		pp = &(*pp)->hnext;
	*pp = g->hnext;
	c->group_count--;
	grp_heap_remove(c, g);
	while (g->members != NULL) {
		struct grp_member *m = g->members;

		g->members = m->next;
		ASSERT(m->join_park == NULL);
		ASSERT(m->sync_park == NULL);
		grp_member_free(m);
	}
	while (g->pending != NULL)
		grp_pending_remove(g, g->pending);
	if (g->offsets != NULL)
		off_group_free(g->offsets);
	free(g->protocol_type);
	free(g->protocol);
	free(g->leader);
	free(g->id);
	free(g);
}

void
grp_maybe_remove(struct grp_coord *c, struct grp *g)
{
	if (!grp_is_empty(g) || g->pending_count > 0)
		return;
	if (g->offsets != NULL && off_group_has_offsets(g->offsets))
		return;
	grp_free(c, g);
}

/* ---- requests ---- */

bool
grp_allowed(const struct grp_coord *c, int op, int rtype, struct kp_str name)
{
	if (c->cur == NULL || c->cur->env == NULL)
		return true;
	return kp_authorize(c->cur->env, op, rtype, name);
}

bool
grp_allowed_quiet(const struct grp_coord *c, int op, int rtype, struct kp_str name)
{
	const struct kp_env *env = c->cur != NULL ? c->cur->env : NULL;

	return env == NULL || kp_acl_allowed(env->md->acl, env->session, op, rtype, name);
}

/* The group operation the current API needs (KafkaApis), or 0. */
static int
grp_acl_op(const struct grp_coord *c)
{
	switch (c->cur != NULL ? c->cur->api_key : -1) {
	case KP_API_JOIN_GROUP:
	case KP_API_SYNC_GROUP:
	case KP_API_HEARTBEAT:
	case KP_API_LEAVE_GROUP:
	case KP_API_OFFSET_COMMIT:
		return KP_ACL_READ;
	case KP_API_DESCRIBE_GROUPS:
		return KP_ACL_DESCRIBE;
	case KP_API_DELETE_GROUPS:
	case KP_API_OFFSET_DELETE:
		return KP_ACL_DELETE;
	case KP_API_OFFSET_FETCH:
		return KP_ACL_DESCRIBE;
	default:
		return 0;
	}
}

int16_t
grp_check_acl(const struct grp_coord *c, struct kp_str group_id)
{
	int op = grp_acl_op(c);

	if (op != 0 && !grp_allowed(c, op, KP_RES_GROUP, group_id.len < 0 ? kp_str_c("")
										 : group_id))
		return KP_ERR_GROUP_AUTHORIZATION_FAILED;
	return KP_ERR_NONE;
}

int16_t
grp_check_id(struct grp_coord *c, struct kp_str group_id, bool allow_empty)
{
	int16_t err = grp_check_acl(c, group_id);

	if (err != KP_ERR_NONE)
		return err;
	if (group_id.len < 0 || (group_id.len == 0 && !allow_empty))
		return KP_ERR_INVALID_GROUP_ID;
	return grp_log_ready(c->log, group_id);
}

static enum kp_verdict
grp_coord_dispatch(struct grp_coord *c, struct kp_group_call *call)
{
	switch (call->api_key) {
	case KP_API_FIND_COORDINATOR: return grp_find_coordinator_handle(c, call);
	case KP_API_JOIN_GROUP: return grp_join_handle(c, call);
	case KP_API_SYNC_GROUP: return grp_sync_handle(c, call);
	case KP_API_HEARTBEAT: return grp_heartbeat_handle(c, call);
	case KP_API_LEAVE_GROUP: return grp_leave_handle(c, call);
	case KP_API_DESCRIBE_GROUPS: return grp_describe_handle(c, call);
	case KP_API_LIST_GROUPS: return grp_list_handle(c, call);
	case KP_API_DELETE_GROUPS: return grp_delete_handle(c, call);
	case KP_API_OFFSET_COMMIT: return off_commit_handle(c, call);
	case KP_API_OFFSET_FETCH: return off_fetch_handle(c, call);
	case KP_API_OFFSET_DELETE: return off_delete_handle(c, call);
	default: return KP_VERDICT_CLOSE;
	}
}

enum kp_verdict
grp_coord_handle(struct grp_coord *c, struct kp_group_call *call)
{
	enum kp_verdict v;

	c->cur = call;
	v = grp_coord_dispatch(c, call);
	c->cur = NULL;
	return v;
}

void
grp_park_error(struct grp_coord *c, struct ctl_park *p, int16_t error)
{
	grp_park_error_member(c, p, error, NULL);
}

void
grp_park_error_member(struct grp_coord *c, struct ctl_park *p, int16_t error,
		      const char *member_id)
{
	struct kp_writer w;

	ctl_park_begin(p, &w);
	switch (p->api_key) {
	case KP_API_JOIN_GROUP: {
		struct kp_join_group_response r;

		kp_join_group_response_init(&r);
		r.error_code = error;
		r.generation_id = -1;
		r.leader = kp_str_c("");
		r.member_id = kp_str_c(member_id != NULL ? member_id : "");
		if (p->api_version < 7)
			r.protocol_name = kp_str_c("");
		kp_join_group_response_encode(&w, p->api_version, &r);
		break;
	}
	case KP_API_SYNC_GROUP: {
		struct kp_sync_group_response r;

		kp_sync_group_response_init(&r);
		r.error_code = error;
		r.assignment = (struct kp_bytes){ (const uint8_t *)"", 0 };
		kp_sync_group_response_encode(&w, p->api_version, &r);
		break;
	}
	default:
		/* Only JoinGroup and SyncGroup park on membership; the rest
		 * (DeleteGroups) answer through their own encoders. */
		PANIC("grp_park_error: unexpected api");
	}
	ctl_park_send(c->ctl, p, &w);
}

/* ---- metrics ---- */

void
grp_coord_metrics(const struct grp_coord *c,
		  void (*group_fn)(void *arg, const struct grp_metrics_group *g),
		  void (*offset_fn)(void *arg, const struct grp_metrics_offset *o), void *arg)
{
	for (uint32_t b = 0; b < c->bucket_count; b++) {
		for (const struct grp *g = c->buckets[b]; g != NULL; g = g->hnext) {
			struct grp_metrics_group m = {
				.group_id = g->id,
				.state = grp_state_name(g->state),
				.members = g->member_count,
				.generation = g->generation,
			};
			if (group_fn != NULL)
				group_fn(arg, &m);
		}
	}
	if (offset_fn == NULL)
		return;
	for (uint32_t b = 0; b < c->bucket_count; b++)
		for (const struct grp *g = c->buckets[b]; g != NULL; g = g->hnext)
			if (g->offsets != NULL)
				off_group_metrics(g, g->offsets, offset_fn, arg);
}
