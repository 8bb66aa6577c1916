/* SPDX-License-Identifier: Apache-2.0 */
/* Applying ZooKeeper's view to this broker, in one pass per change: the
 * topic store follows the cluster's topics (ids, partition counts,
 * overrides); each partition whose replicas name this broker gets an open
 * log and its role in storage, and followers are handed to the replica
 * fetcher with their leader's inter-broker endpoint; replicas moved away
 * and topics deleted lose their logs; the snapshot is rebuilt. @thread
 * control */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/compiler.h"
#include "common/log.h"
#include "control/cluster.h"
#include "control/config.h"
#include "control/ctl_cluster.h"
#include "control/ctl_cluster_int.h"
#include "control/ctl_int.h"
#include "control/group/grp.h"
#include "control/replica_fetcher.h"
#include "control/topic_config.h"
#include "storage/st.h"

/* Followers handed to the fetcher per rf_update() call. */
#define CTL_CLUSTER_RF_BATCH 64

struct ctl_cluster_part *
ctl_cluster_part_find(struct ctl_cluster *cc, const uint8_t id[16], int32_t partition)
{
	for (int32_t i = 0; i < cc->part_count; i++)
		if (cc->parts[i].partition == partition &&
		    memcmp(cc->parts[i].topic_id, id, 16) == 0)
			return &cc->parts[i];
	return NULL;
}

void
ctl_cluster_parts_free(struct ctl_cluster *cc)
{
	for (int32_t i = 0; i < cc->part_count; i++)
		free(cc->parts[i].topic);
	free(cc->parts);
	cc->parts = NULL;
	cc->part_count = cc->part_cap = 0;
}

static bool
ctl_cluster_has(const int32_t *ids, int32_t n, int32_t id)
{
	for (int32_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* A __consumer_offsets partition's groups live with its leadership. */
static void
ctl_cluster_groups(struct ctl *ctl, const struct ctl_cluster_part *pt)
{
	bool leader = pt->role_set && pt->role.leader;

	if (strcmp(pt->topic, "__consumer_offsets") != 0 || ctl->groups == NULL)
		return;
	grp_coord_partition_role(ctl->groups, pt->partition, leader,
				 pt->role_set ? pt->role.leader_epoch : -1);
}

/* ---- topics: the store follows the view ---- */

/* The cluster's overrides of a topic as kp_topic_config views (free()). */
static struct kp_topic_config *
ctl_cluster_overrides(struct ctl_cluster *cc, const char *name, int32_t *count)
{
	int32_t n = cluster_topic_config_count(cc->cl, name);
	const struct md_config *c = cluster_topic_configs(cc->cl, name);
	struct kp_topic_config *o = calloc((size_t)n + 1, sizeof(*o));

	for (int32_t i = 0; o != NULL && i < n; i++) {
		o[i].name = kp_str_c(c[i].name);
		o[i].value = c[i].value != NULL ? kp_str_c(c[i].value)
						: (struct kp_str){ NULL, -1 };
	}
	*count = n;
	return o;
}

static bool
ctl_cluster_configs_equal(const struct md_topic *t, const struct kp_topic_config *o, int32_t n)
{
	if (t->config_count != n)
		return false;
	for (int32_t i = 0; i < n; i++) {
		bool found = false;

		for (int32_t j = 0; j < t->config_count && !found; j++)
			found = kp_str_eq(kp_str_c(t->configs[j].name), o[i].name) &&
				t->configs[j].value != NULL && o[i].value.len >= 0 &&
				kp_str_eq(kp_str_c(t->configs[j].value), o[i].value);
		if (!found)
			return false;
	}
	return true;
}

/* Close and delete the logs this broker holds of a topic's partitions
 * [from, to). */
static void
ctl_cluster_drop_range(struct ctl *ctl, const uint8_t id[16], int32_t from, int32_t to)
{
	struct ctl_cluster *cc = ctl->cluster;

	for (int32_t i = 0; i < cc->part_count;) {
		struct ctl_cluster_part *pt = &cc->parts[i];

		if (memcmp(pt->topic_id, id, 16) != 0 || pt->partition < from ||
		    pt->partition >= to) {
			i++;
			continue;
		}
		rf_remove_sync(cc->rf, pt->topic_id, pt->partition);
		pt->role_set = false;
		ctl_cluster_groups(ctl, pt);    /* unloads its groups */
		if (ctl->st != NULL) {
			int rc = st_partitions_delete(ctl->st, pt->topic_id, pt->topic,
						      pt->partition, pt->partition + 1);

			if (rc != 0)
				log_warn("cluster", "%s-%d: deleting the replica failed: %s",
					 pt->topic, pt->partition, strerror(-rc));
		}
		log_info("cluster", "%s-%d: replica removed from this broker", pt->topic,
			 pt->partition);
		free(pt->topic);
		cc->parts[i] = cc->parts[--cc->part_count];
	}
}

/* ... of a topic (or of every partition from `from` on). */
static void
ctl_cluster_drop_replicas(struct ctl *ctl, const uint8_t id[16], int32_t from)
{
	ctl_cluster_drop_range(ctl, id, from, INT32_MAX);
}

static void
ctl_cluster_topic_drop(struct ctl *ctl, const struct md_topic *t)
{
	struct kp_uuid id = t->id;
	char *name = strdup(t->name);

	ctl_cluster_drop_replicas(ctl, id.b, 0);
	if (md_store_topic_remove(&ctl->store, &id) != 0)
		log_warn("cluster", "topic %s: could not remove it from the store",
			 name != NULL ? name : "?");
	else
		log_info("cluster", "topic %s deleted", name != NULL ? name : "?");
	free(name);
}

/* One topic of the view into the store. */
static void
ctl_cluster_topic_sync(struct ctl *ctl, const struct md_cluster_topic *vt)
{
	struct kp_str name = kp_str_c(vt->name);
	struct md_topic *t = md_store_find(&ctl->store, name);
	struct kp_topic_config *o;
	int32_t n = 0;
	int rc = 0;

	if (t != NULL && memcmp(t->id.b, vt->id.b, 16) != 0) {
		ctl_cluster_topic_drop(ctl, t);         /* deleted and created again */
		t = NULL;
	}
	o = ctl_cluster_overrides(ctl->cluster, vt->name, &n);
	if (o == NULL) {
		log_error("cluster", "topic %s: out of memory", vt->name);
		return;
	}
	if (t == NULL) {
		rc = md_store_topic_add(&ctl->store, name, &vt->id, vt->partition_count, o, n);
		if (rc == 0)
			log_info("cluster", "topic %s: %d partition(s)", vt->name,
				 vt->partition_count);
	} else {
		if (vt->partition_count > t->partition_count)
			rc = md_store_partitions_set(&ctl->store, &t->id, vt->partition_count);
		if (rc == 0 && !ctl_cluster_configs_equal(t, o, n)) {
			rc = md_store_topic_configs_set(&ctl->store, &t->id, o, n);
			if (rc == 0)
				ctl_storage_reconfigure(ctl, t);
		}
	}
	if (rc != 0)
		log_error("cluster", "topic %s: could not persist it: %s", vt->name,
			  strerror(-rc));
	free(o);
}

static void
ctl_cluster_topics(struct ctl *ctl, const struct md_cluster *v)
{
	for (int32_t i = 0; i < v->topic_count; i++)
		ctl_cluster_topic_sync(ctl, &v->topics[i]);
	for (int32_t i = 0; i < ctl->store.topic_count;) {
		struct md_topic *t = &ctl->store.topics[i];

		if (md_cluster_topic(v, kp_str_c(t->name)) == NULL)
			ctl_cluster_topic_drop(ctl, t); /* the store moved its last topic here */
		else
			i++;
	}
}

/* ---- replicas: logs, roles, following ---- */

static struct ctl_cluster_part *
ctl_cluster_part_add(struct ctl_cluster *cc, const struct md_cluster_topic *vt, int32_t p)
{
	struct ctl_cluster_part *pt;

	if (cc->part_count == cc->part_cap) {
		int32_t cap = cc->part_cap == 0 ? 64 : cc->part_cap * 2;
		struct ctl_cluster_part *grown = realloc(cc->parts, (size_t)cap * sizeof(*grown));

		if (grown == NULL)
			return NULL;
		cc->parts = grown;
		cc->part_cap = cap;
	}
	pt = &cc->parts[cc->part_count];
	memset(pt, 0, sizeof(*pt));
	pt->topic = strdup(vt->name);
	if (pt->topic == NULL)
		return NULL;
	memcpy(pt->topic_id, vt->id.b, 16);
	pt->partition = p;
	pt->follow_leader = -1;
	pt->follow_epoch = -1;
	cc->part_count++;
	return pt;
}

/* Open (creating or recovering) a replica's log with its topic's settings. */
static int
ctl_cluster_open(struct ctl *ctl, const struct md_cluster_topic *vt, int32_t p)
{
	const struct md_topic *t = md_store_find(&ctl->store, kp_str_c(vt->name));
	struct kp_topic_config *o;
	struct st_log_config lc;
	int rc;

	if (ctl->st == NULL)
		return 0;
	if (t == NULL)
		return -ENOENT;
	o = calloc((size_t)t->config_count + 1, sizeof(*o));
	if (o == NULL)
		return -ENOMEM;
	for (int32_t i = 0; i < t->config_count; i++) {
		o[i].name = kp_str_c(t->configs[i].name);
		o[i].value = kp_str_c(t->configs[i].value);
	}
	ctl_storage_log_config(ctl->cfg, o, t->config_count, &lc);
	free(o);
	rc = st_partitions_open(ctl->st, vt->id.b, vt->name, p, p + 1, &lc);
	if (rc != 0)
		log_error("cluster", "%s-%d: cannot open the replica's log: %s", vt->name, p,
			  strerror(-rc));
	return rc;
}

static int32_t
ctl_cluster_min_isr(struct ctl *ctl, const char *topic)
{
	const struct md_topic *t = md_store_find(&ctl->store, kp_str_c(topic));
	struct kp_topic_config o[64];
	int32_t n = 0;

	for (int32_t i = 0; t != NULL && i < t->config_count && n < 64; i++) {
		o[n].name = kp_str_c(t->configs[i].name);
		o[n++].value = kp_str_c(t->configs[i].value);
	}
	return (int32_t)topic_config_get_i64(ctl->cfg, o, n, "min.insync.replicas");
}

static void
ctl_cluster_role_of(struct ctl *ctl, const struct md_cluster_partition *ps, const char *topic,
		    struct st_role *r)
{
	memset(r, 0, sizeof(*r));
	r->self_id = ctl->cfg->node_id;
	r->leader = ps->has_state && ps->leader == ctl->cfg->node_id;
	r->leader_epoch = ps->has_state ? ps->leader_epoch : -1;
	r->min_insync_replicas = ctl_cluster_min_isr(ctl, topic);
	r->replica_count = MIN(ps->replica_count, ST_REPLICAS_MAX);
	memcpy(r->replicas, ps->replicas, (size_t)r->replica_count * sizeof(int32_t));
	r->isr_count = ps->has_state ? MIN(ps->isr_count, ST_REPLICAS_MAX) : 0;
	memcpy(r->isr, ps->isr, (size_t)r->isr_count * sizeof(int32_t));
}

/* The leader's endpoint on the inter-broker listener (by name). */
static const struct md_cluster_endpoint *
ctl_cluster_leader_endpoint(struct ctl *ctl, const struct md_cluster *v, int32_t leader)
{
	const char *name = ctl->cfg->listeners[ctl->cluster->inter_listener].name;

	for (int32_t i = 0; i < v->broker_count; i++) {
		const struct md_cluster_broker *b = &v->brokers[i];

		if (b->id != leader)
			continue;
		for (int32_t e = 0; e < b->endpoint_count; e++)
			if (strcmp(b->endpoints[e].listener, name) == 0)
				return &b->endpoints[e];
	}
	return NULL;
}

struct ctl_cluster_follow {
	struct rf_partition parts[CTL_CLUSTER_RF_BATCH];
	int32_t count;
};

static void
ctl_cluster_follow_flush(struct ctl_cluster *cc, struct ctl_cluster_follow *f)
{
	if (f->count > 0)
		rf_update(cc->rf, f->parts, f->count);
	f->count = 0;
}

/* What the fetcher must do for one replica: follow its leader at the
 * state's epoch, or nothing (leader here, or none reachable). */
static void
ctl_cluster_follow(struct ctl *ctl, const struct md_cluster *v, struct ctl_cluster_part *pt,
		   struct ctl_cluster_follow *f)
{
	struct ctl_cluster *cc = ctl->cluster;
	const struct md_cluster_endpoint *ep = NULL;
	int32_t leader = -1;

	if (!pt->role.leader && pt->role.leader_epoch >= 0) {
		const struct md_cluster_topic *vt = md_cluster_topic(v, kp_str_c(pt->topic));
		int32_t l = vt->partitions[pt->partition].leader;

		ep = l >= 0 ? ctl_cluster_leader_endpoint(ctl, v, l) : NULL;
		leader = ep != NULL ? l : -1;
	}
	if (leader == pt->follow_leader &&
	    (leader < 0 || pt->role.leader_epoch == pt->follow_epoch))
		return;
	if (f->count == CTL_CLUSTER_RF_BATCH)
		ctl_cluster_follow_flush(cc, f);
	f->parts[f->count++] = (struct rf_partition){
		.topic = pt->topic, .partition = pt->partition, .leader_id = leader,
		.leader_epoch = pt->role.leader_epoch, .host = ep != NULL ? ep->host : NULL,
		.port = ep != NULL ? ep->port : 0,
	};
	memcpy(f->parts[f->count - 1].topic_id, pt->topic_id, 16);
	pt->follow_leader = leader;
	pt->follow_epoch = pt->role.leader_epoch;
	if (leader >= 0)
		log_info("cluster", "%s-%d: following broker %d at leader epoch %d", pt->topic,
			 pt->partition, leader, pt->role.leader_epoch);
}

/* One partition of the view that names this broker a replica. */
static void
ctl_cluster_replica(struct ctl *ctl, const struct md_cluster *v,
		    const struct md_cluster_topic *vt, int32_t p, struct ctl_cluster_follow *f)
{
	struct ctl_cluster *cc = ctl->cluster;
	struct ctl_cluster_part *pt = ctl_cluster_part_find(cc, vt->id.b, p);
	struct st_role role;

	if (pt == NULL) {
		if (ctl_cluster_open(ctl, vt, p) != 0)
			return;
		pt = ctl_cluster_part_add(cc, vt, p);
		if (pt == NULL) {
			log_error("cluster", "%s-%d: out of memory", vt->name, p);
			return;
		}
	}
	pt->seen = true;
	if (!vt->partitions[p].has_state)
		return;         /* the controller has not elected its leader yet */
	ctl_cluster_role_of(ctl, &vt->partitions[p], vt->name, &role);
	if (!pt->role_set || memcmp(&role, &pt->role, sizeof(role)) != 0) {
		int rc;

		if (role.leader && (!pt->role_set || !pt->role.leader ||
				    pt->role.leader_epoch != role.leader_epoch)) {
			pt->leader_since_ms = clock_wall_ms();
			log_info("cluster", "%s-%d: leader at epoch %d", vt->name, p,
				 role.leader_epoch);
		}
		/* Leaving leadership: stop following first is not needed; the
		 * fetcher learns below. Storage first, so appends that arrive
		 * meanwhile meet the new role. */
		rc = ctl->st != NULL ? st_partition_role(ctl->st, vt->id.b, p, &role) : 0;
		if (rc != 0) {
			log_error("cluster", "%s-%d: storage refused the role: %s", vt->name, p,
				  strerror(-rc));
			return;
		}
		pt->role = role;
		pt->role_set = true;
		ctl_cluster_groups(ctl, pt);
	}
	ctl_cluster_follow(ctl, v, pt, f);
}

static void
ctl_cluster_replicas(struct ctl *ctl, const struct md_cluster *v)
{
	struct ctl_cluster *cc = ctl->cluster;
	struct ctl_cluster_follow f = { .count = 0 };
	int32_t self = ctl->cfg->node_id;

	for (int32_t i = 0; i < cc->part_count; i++)
		cc->parts[i].seen = false;
	for (int32_t i = 0; i < v->topic_count; i++) {
		const struct md_cluster_topic *vt = &v->topics[i];

		for (int32_t p = 0; p < vt->partition_count; p++)
			if (ctl_cluster_has(vt->partitions[p].replicas,
					    vt->partitions[p].replica_count, self))
				ctl_cluster_replica(ctl, v, vt, p, &f);
	}
	ctl_cluster_follow_flush(cc, &f);
	/* Replicas moved off this broker (their topics are still there). */
	for (int32_t i = 0; i < cc->part_count;) {
		struct ctl_cluster_part *pt = &cc->parts[i];
		uint8_t id[16];
		int32_t p = pt->partition;

		if (pt->seen) {
			i++;
			continue;
		}
		memcpy(id, pt->topic_id, 16);
		/* Only this one: its topic's other partitions may stay here. */
		ctl_cluster_drop_range(ctl, id, p, p + 1);  /* moves the array: look again */
	}
}

/* ---- start-up sweep ---- */

struct ctl_cluster_known {
	const struct md_cluster *v;
	int32_t self;
};

static bool
ctl_cluster_known(void *arg, const char *topic, int32_t partition)
{
	const struct ctl_cluster_known *k = arg;
	const struct md_cluster_topic *vt = md_cluster_topic(k->v, kp_str_c(topic));

	return vt != NULL && partition >= 0 && partition < vt->partition_count &&
	       ctl_cluster_has(vt->partitions[partition].replicas,
			       vt->partitions[partition].replica_count, k->self);
}

int
ctl_cluster_apply(struct ctl *ctl, bool first)
{
	struct ctl_cluster *cc = ctl->cluster;
	const struct md_cluster *v = cluster_view(cc->cl);

	ctl->broker.cluster = v;
	if (v->controller_id != cc->controller_seen) {
		cc->controller_changes += !first;
		cc->controller_seen = v->controller_id;
		log_info("cluster", "controller: broker %d", v->controller_id);
	}
	ctl_cluster_topics(ctl, v);
	if (first && ctl->st != NULL) {
		struct ctl_cluster_known k = { .v = v, .self = ctl->cfg->node_id };
		int rc = st_log_dir_clean(ctl->st, ctl_cluster_known, &k);

		if (rc != 0)
			log_warn("cluster", "log dir sweep failed: %s", strerror(-rc));
	}
	ctl_cluster_replicas(ctl, v);
	ctl->md_dirty = true;
	return 0;
}
