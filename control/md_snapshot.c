/* SPDX-License-Identifier: Apache-2.0 */
/* Builds the immutable kp_md snapshots that cores read: one allocation
 * holding the header, the topics sorted by name, an index sorted by id and
 * every string, so publishing and retiring a snapshot is one pointer. */
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/compiler.h"
#include "control/ctl_int.h"
#include "control/metadata.h"
#include "control/quota.h"
#include "control/topic_config.h"

static int
snapshot_cmp_name(const void *a, const void *b)
{
	const struct kp_md_topic *x = a;
	const struct kp_md_topic *y = b;
	int32_t n = x->name.len < y->name.len ? x->name.len : y->name.len;
	int r = memcmp(x->name.ptr, y->name.ptr, (size_t)n);

	return r != 0 ? r : (x->name.len > y->name.len) - (x->name.len < y->name.len);
}

static int
snapshot_cmp_id(const void *a, const void *b)
{
	const struct kp_md_topic *const *x = a;
	const struct kp_md_topic *const *y = b;

	return memcmp((*x)->id.b, (*y)->id.b, 16);
}

static char *
snapshot_put_str(char **pos, const char *s)
{
	size_t n = strlen(s) + 1;
	char *r = *pos;

	memcpy(r, s, n);
	*pos += n;
	return r;
}

/* Quotas the cores enforce: those with a user or client-id part (ip
 * entities only limit connection creation) that can apply to a connection:
 * with no SASL yet every connection's user is ANONYMOUS, so other named
 * users' quotas are left out (with SASL they stay, looked up by
 * principal). */
static bool
snapshot_quota_applies(const struct kp_quota_entity *e)
{
	struct kp_str user = e->name[KP_QUOTA_USER];

	if (e->present & (1u << KP_QUOTA_IP))
		return false;
	return !(e->present & (1u << KP_QUOTA_USER)) || user.len < 0 ||
	       kp_str_eq(user, kp_str_c("ANONYMOUS"));
}

static int
snapshot_cmp_quota(const void *a, const void *b)
{
	return kp_md_quota_cmp(a, b);
}

/* Adds the names' bytes of the quotas that go in. */
static size_t
snapshot_quota_count(const struct quota_store *qs, size_t *strings)
{
	size_t n = 0;

	for (int32_t i = 0; qs != NULL && i < qs->count; i++) {
		const struct kp_quota_entity *e = &qs->entries[i].entity;

		if (!snapshot_quota_applies(e))
			continue;
		for (int t = 0; t < KP_QUOTA_TYPES; t++)
			*strings += e->name[t].len > 0 ? (size_t)e->name[t].len + 1 : 0;
		n++;
	}
	return n;
}

static void
snapshot_quotas(struct kp_md *md, struct kp_md_quota *out, const struct quota_store *qs,
		char **pos)
{
	int32_t n = 0;

	for (int32_t i = 0; qs != NULL && i < qs->count; i++) {
		const struct quota_entry *q = &qs->entries[i];

		if (!snapshot_quota_applies(&q->entity))
			continue;
		out[n] = (struct kp_md_quota){ q->entity, q->values };
		for (int t = 0; t < KP_QUOTA_TYPES; t++) {
			if (q->entity.name[t].len <= 0)
				continue;
			memcpy(*pos, q->entity.name[t].ptr, (size_t)q->entity.name[t].len);
			out[n].entity.name[t].ptr = *pos;
			*pos += q->entity.name[t].len + 1;
		}
		n++;
	}
	qsort(out, (size_t)n, sizeof(*out), snapshot_cmp_quota);
	md->quota_count = n;
	md->quotas = out;
}

/* The ACL index a snapshot shares with the others: one more reference,
 * dropped by md_snapshot_free(). NULL: no authorizer. */
static const struct kp_acl_index *
snapshot_acl_ref(struct kp_acl_index *ix)
{
	if (ix != NULL)
		kp_acl_index_ref(ix);
	return ix;
}

/* Kafka's default max.message.bytes when no config resolves it. */
#define SNAPSHOT_MAX_MESSAGE_BYTES 1048588

/* A topic's integer setting from its overrides and the broker config (def
 * when there is no config). */
static int32_t
snapshot_topic_i32(const struct md_broker *broker, const struct md_topic *t, const char *key,
		   int32_t def)
{
	struct kp_topic_config *o;
	int32_t v;

	if (broker->cfg == NULL)
		return def;
	o = calloc((size_t)t->config_count + 1, sizeof(*o));
	if (o == NULL)
		return def;
	for (int32_t i = 0; i < t->config_count; i++) {
		o[i].name = kp_str_c(t->configs[i].name);
		o[i].value = kp_str_c(t->configs[i].value);
	}
	v = (int32_t)topic_config_get_i64(broker->cfg, o, t->config_count, key);
	free(o);
	return v;
}

const struct md_cluster_topic *
md_cluster_topic(const struct md_cluster *cl, struct kp_str name)
{
	int32_t lo = 0;
	int32_t hi = cl != NULL ? cl->topic_count : 0;

	while (lo < hi) {
		int32_t mid = lo + (hi - lo) / 2;
		const char *n = cl->topics[mid].name;
		size_t len = strlen(n);
		size_t m = len < (size_t)name.len ? len : (size_t)name.len;
		int r = memcmp(n, name.ptr, m);

		if (r == 0)
			r = (len > (size_t)name.len) - (len < (size_t)name.len);
		if (r == 0)
			return &cl->topics[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* What the snapshot's storage holds besides the topics (first pass). */
struct snapshot_size {
	size_t brokers;         /* kp_md_broker entries */
	size_t partitions;      /* kp_md_partition entries */
	size_t ints;            /* replica, isr and offline ids */
	size_t strings;         /* bytes */
};

/* Partition p of ct (the topic's cluster state, NULL when it has none). */
static const struct md_cluster_partition *
snapshot_cluster_part(const struct md_cluster_topic *ct, int32_t p)
{
	if (ct == NULL || p >= ct->partition_count || ct->partitions == NULL)
		return NULL;
	return &ct->partitions[p];
}

/* Whether the cluster lists broker id among the live ones. */
static bool
snapshot_cluster_alive(const struct md_cluster *cl, int32_t self, int32_t id)
{
	if (id == self)
		return true;
	for (int32_t i = 0; i < cl->broker_count; i++)
		if (cl->brokers[i].id == id)
			return true;
	return false;
}

static void
snapshot_size_cluster(const struct md_store *st, const struct md_cluster *cl,
		      struct snapshot_size *sz)
{
	for (int32_t i = 0; i < cl->broker_count; i++) {
		const struct md_cluster_broker *b = &cl->brokers[i];

		if (b->id == st->node_id)
			continue;       /* self: from its own endpoints */
		sz->brokers++;
		sz->strings += b->rack != NULL ? strlen(b->rack) + 1 : 0;
		for (int32_t e = 0; e < b->endpoint_count && e < KP_LISTENERS_MAX; e++)
			sz->strings += strlen(b->endpoints[e].listener) +
				       strlen(b->endpoints[e].host) + 2;
	}
	sz->brokers++;          /* self */
	for (int32_t i = 0; i < st->topic_count; i++) {
		const struct md_topic *t = &st->topics[i];
		const struct md_cluster_topic *ct = md_cluster_topic(cl, kp_str_c(t->name));

		sz->partitions += (size_t)t->partition_count;
		for (int32_t p = 0; p < t->partition_count; p++) {
			const struct md_cluster_partition *cp = snapshot_cluster_part(ct, p);

			if (cp == NULL)
				continue;
			/* replicas, isr, and offline at most the replicas */
			sz->ints += 2 * (size_t)MIN(cp->replica_count, KP_REPLICAS_MAX);
			sz->ints += cp->has_state ? (size_t)MIN(cp->isr_count, KP_REPLICAS_MAX) : 0;
		}
	}
}

static void
snapshot_size(const struct md_store *st, const struct md_broker *broker,
	      struct snapshot_size *sz)
{
	sz->strings += broker->rack != NULL ? strlen(broker->rack) + 1 : 0;
	if (broker->cluster != NULL) {
		snapshot_size_cluster(st, broker->cluster, sz);
		return;
	}
	sz->brokers = 1;
	sz->ints = 1;           /* {self}, shared by every partition */
	for (int32_t i = 0; i < st->topic_count; i++)
		sz->partitions += (size_t)st->topics[i].partition_count;
}

/* Where the first pass's entries go, filled in order. */
struct snapshot_fill {
	struct kp_md_broker *brokers;
	struct kp_md_partition *partitions;
	int32_t *ints;
	char *pos;
};

static void
snapshot_broker_cluster(struct kp_md_broker *out, const struct md_cluster_broker *b,
			char **pos)
{
	out->id = b->id;
	out->rack = b->rack != NULL ? snapshot_put_str(pos, b->rack) : NULL;
	out->endpoint_count = MIN(b->endpoint_count, KP_LISTENERS_MAX);
	for (int32_t e = 0; e < out->endpoint_count; e++) {
		const struct md_cluster_endpoint *from = &b->endpoints[e];

		out->endpoints[e] = (struct kp_md_endpoint){
			.listener = snapshot_put_str(pos, from->listener),
			.host = snapshot_put_str(pos, from->host),
			.port = from->port,
			.protocol = from->protocol,
		};
	}
}

/* The live brokers sorted by id: self with its own endpoints (listed or not
 * yet), the others as registered. */
static void
snapshot_brokers(struct kp_md *md, const struct md_broker *broker, struct snapshot_fill *f)
{
	const struct md_cluster *cl = broker->cluster;
	struct kp_md_broker self = { .id = md->broker_id, .rack = md->rack,
				     .endpoint_count = md->endpoint_count };
	int32_t n = 0;
	bool self_done = false;

	memcpy(self.endpoints, md->endpoints, sizeof(self.endpoints));
	for (int32_t i = 0; cl != NULL && i < cl->broker_count; i++) {
		const struct md_cluster_broker *b = &cl->brokers[i];

		if (b->id == md->broker_id)
			continue;
		if (!self_done && b->id > md->broker_id) {
			f->brokers[n++] = self;
			self_done = true;
		}
		snapshot_broker_cluster(&f->brokers[n++], b, &f->pos);
	}
	if (!self_done)
		f->brokers[n++] = self;
	md->brokers = f->brokers;
	md->broker_count = n;
}

/* Partition p of t in cluster mode: ZooKeeper's state, or with none yet
 * no leader and the assignment's replicas (when known). */
static void
snapshot_part_cluster(struct kp_md_partition *out, const struct md_cluster *cl,
		      int32_t self, const struct md_cluster_partition *cp, int32_t **ints)
{
	int32_t *replicas = *ints;
	int32_t rc = cp != NULL ? MIN(cp->replica_count, KP_REPLICAS_MAX) : 0;
	int32_t ic = cp != NULL && cp->has_state ? MIN(cp->isr_count, KP_REPLICAS_MAX) : 0;
	int32_t *isr = replicas + rc;
	int32_t *offline = isr + ic;

	*out = (struct kp_md_partition){ .leader = -1 };
	for (int32_t i = 0; i < rc; i++)
		replicas[i] = cp->replicas[i];
	for (int32_t i = 0; i < ic; i++)
		isr[i] = cp->isr[i];
	for (int32_t i = 0; i < rc; i++)
		if (!snapshot_cluster_alive(cl, self, replicas[i]))
			offline[out->offline_count++] = replicas[i];
	if (cp != NULL && cp->has_state) {
		out->leader = cp->leader;
		out->leader_epoch = cp->leader_epoch;
		out->partition_epoch = cp->partition_epoch;
	}
	out->replica_count = rc;
	out->isr_count = ic;
	out->replicas = replicas;
	out->isr = isr;
	out->offline = offline;
	*ints = offline + out->offline_count;
}

/* Every partition of topic t (its partitions go at f->partitions). */
static const struct kp_md_partition *
snapshot_parts(const struct kp_md *md, const struct md_broker *broker,
	       const struct md_topic *t, struct snapshot_fill *f, const int32_t *self)
{
	struct kp_md_partition *parts = f->partitions;
	const struct md_cluster_topic *ct = md_cluster_topic(broker->cluster, kp_str_c(t->name));

	for (int32_t p = 0; p < t->partition_count; p++) {
		if (broker->cluster != NULL) {
			snapshot_part_cluster(&parts[p], broker->cluster, md->broker_id,
					      snapshot_cluster_part(ct, p),
					      &f->ints);
			continue;
		}
		parts[p] = (struct kp_md_partition){
			.leader = md->broker_id, .replica_count = 1, .isr_count = 1,
			.replicas = self, .isr = self, .offline = self,
		};
	}
	f->partitions += t->partition_count;
	return parts;
}

static void
snapshot_topics(struct kp_md *md, struct kp_md_topic *topics, const struct md_store *st,
		const struct md_broker *broker, struct snapshot_fill *f)
{
	const int32_t *self = f->ints;

	if (broker->cluster == NULL)
		*f->ints++ = md->broker_id;
	for (int32_t i = 0; i < st->topic_count; i++) {
		const struct md_topic *t = &st->topics[i];

		topics[i].name.ptr = snapshot_put_str(&f->pos, t->name);
		topics[i].name.len = (int32_t)strlen(t->name);
		topics[i].id = t->id;
		topics[i].partition_count = t->partition_count;
		topics[i].max_message_bytes = snapshot_topic_i32(broker, t, "max.message.bytes",
								 SNAPSHOT_MAX_MESSAGE_BYTES);
		topics[i].min_insync_replicas = snapshot_topic_i32(broker, t,
								   "min.insync.replicas", 1);
		/* Kafka 3.9's internal topics (Topic.isInternal); other "__"
		 * names are ordinary. */
		topics[i].internal = strcmp(t->name, "__consumer_offsets") == 0 ||
				     strcmp(t->name, "__transaction_state") == 0 ||
				     strcmp(t->name, "__share_group_state") == 0;
		topics[i].partitions = snapshot_parts(md, broker, t, f, self);
	}
}

static void
snapshot_header(struct kp_md *md, const struct md_store *st, const struct md_broker *broker,
		uint64_t epoch, char **pos)
{
	md->broker_id = st->node_id;
	md->cluster = broker->cluster != NULL;
	md->controller_id = broker->cluster != NULL ? broker->cluster->controller_id
						    : st->node_id;
	md->cluster_id = snapshot_put_str(pos, st->cluster_id);
	md->endpoint_count = broker->endpoint_count;
	for (int32_t i = 0; i < broker->endpoint_count; i++) {
		const struct kp_md_endpoint *from = &broker->endpoints[i];

		md->endpoints[i] = (struct kp_md_endpoint){
			.listener = snapshot_put_str(pos, from->listener),
			.host = snapshot_put_str(pos, from->host),
			.port = from->port,
			.protocol = from->protocol,
		};
	}
	md->rack = broker->rack != NULL ? snapshot_put_str(pos, broker->rack) : NULL;
	md->auto_create_topics = broker->auto_create_topics;
	md->num_partitions = broker->num_partitions;
	md->default_replication_factor = broker->default_replication_factor;
	md->epoch = epoch;
	md->acl = snapshot_acl_ref(broker->acl);
}

/* One allocation: header, quotas, topics, the id index, partitions,
 * brokers, replica ids, then every string. */
struct kp_md *
md_snapshot_build(const struct md_store *st, const struct md_broker *broker, uint64_t epoch)
{
	size_t n = (size_t)st->topic_count;
	struct snapshot_size sz = { .strings = strlen(st->cluster_id) + 1 };
	struct snapshot_fill f;
	struct kp_md_topic *topics;
	const struct kp_md_topic **by_id;
	struct kp_md *md;
	struct kp_md_quota *quotas;
	size_t nq = snapshot_quota_count(broker->quotas, &sz.strings);

	ASSERT(broker->endpoint_count >= 1 && broker->endpoint_count <= KP_LISTENERS_MAX);
	for (int32_t i = 0; i < broker->endpoint_count; i++)
		sz.strings += strlen(broker->endpoints[i].listener) +
			      strlen(broker->endpoints[i].host) + 2;
	for (size_t i = 0; i < n; i++)
		sz.strings += strlen(st->topics[i].name) + 1;
	snapshot_size(st, broker, &sz);
	md = calloc(1, sizeof(*md) + nq * sizeof(*quotas) + n * sizeof(*topics) +
			       n * sizeof(*by_id) + sz.partitions * sizeof(*f.partitions) +
			       sz.brokers * sizeof(*f.brokers) + sz.ints * sizeof(*f.ints) +
			       sz.strings);
	if (md == NULL)
		return NULL;
	quotas = (struct kp_md_quota *)(md + 1);
	topics = (struct kp_md_topic *)(quotas + nq);
	by_id = (const struct kp_md_topic **)(topics + n);
	f.partitions = (struct kp_md_partition *)(by_id + n);
	f.brokers = (struct kp_md_broker *)(f.partitions + sz.partitions);
	f.ints = (int32_t *)(f.brokers + sz.brokers);
	f.pos = (char *)(f.ints + sz.ints);
	snapshot_quotas(md, quotas, broker->quotas, &f.pos);
	snapshot_header(md, st, broker, epoch, &f.pos);
	snapshot_brokers(md, broker, &f);
	snapshot_topics(md, topics, st, broker, &f);
	ASSERT(f.partitions == (struct kp_md_partition *)(by_id + n) + sz.partitions);
	ASSERT(f.ints <= (int32_t *)(f.brokers + sz.brokers) + sz.ints);
	ASSERT((size_t)md->broker_count <= sz.brokers);
	qsort(topics, n, sizeof(*topics), snapshot_cmp_name);
	for (size_t i = 0; i < n; i++)
		by_id[i] = &topics[i];
	qsort(by_id, n, sizeof(*by_id), snapshot_cmp_id);
	md->topic_count = (int32_t)n;
	md->topics = topics;
	md->by_id = by_id;
	ASSERT(f.pos <= (char *)(f.ints + sz.ints) + sz.strings);
	return md;
}

void
md_snapshot_free(struct kp_md *md)
{
	if (md != NULL)
		kp_acl_index_unref((struct kp_acl_index *)(uintptr_t)md->acl);
	free(md);
}
