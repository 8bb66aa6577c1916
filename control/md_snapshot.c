/* SPDX-License-Identifier: Apache-2.0 */
/* Builds the immutable kp_md snapshots that cores read: one allocation
 * holding the header, the topics sorted by name, an index sorted by id and
 * every string, so publishing and retiring a snapshot is one pointer. */
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "control/ctl_int.h"
#include "control/metadata.h"
#include "control/quota.h"

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

struct kp_md *
md_snapshot_build(const struct md_store *st, const struct md_broker *broker, uint64_t epoch)
{
	size_t n = (size_t)st->topic_count;
	size_t strings = strlen(st->cluster_id) + 1;
	struct kp_md_topic *topics;
	const struct kp_md_topic **by_id;
	struct kp_md *md;
	char *pos;

	size_t nq = snapshot_quota_count(broker->quotas, &strings);
	struct kp_md_quota *quotas;

	ASSERT(broker->endpoint_count >= 1 && broker->endpoint_count <= KP_LISTENERS_MAX);
	for (int32_t i = 0; i < broker->endpoint_count; i++)
		strings += strlen(broker->endpoints[i].listener) +
			   strlen(broker->endpoints[i].host) + 2;

	for (size_t i = 0; i < n; i++)
		strings += strlen(st->topics[i].name) + 1;
	md = calloc(1, sizeof(*md) + nq * sizeof(*quotas) + n * sizeof(*topics) +
			       n * sizeof(*by_id) + strings);
	if (md == NULL)
		return NULL;
	quotas = (struct kp_md_quota *)(md + 1);
	topics = (struct kp_md_topic *)(quotas + nq);
	by_id = (const struct kp_md_topic **)(topics + n);
	pos = (char *)(by_id + n);
	snapshot_quotas(md, quotas, broker->quotas, &pos);
	md->broker_id = st->node_id;
	md->controller_id = st->node_id;
	md->cluster_id = snapshot_put_str(&pos, st->cluster_id);
	md->endpoint_count = broker->endpoint_count;
	for (int32_t i = 0; i < broker->endpoint_count; i++) {
		const struct kp_md_endpoint *from = &broker->endpoints[i];

		md->endpoints[i] = (struct kp_md_endpoint){
			.listener = snapshot_put_str(&pos, from->listener),
			.host = snapshot_put_str(&pos, from->host),
			.port = from->port,
			.protocol = from->protocol,
		};
	}
	md->rack = NULL;
	md->auto_create_topics = broker->auto_create_topics;
	md->num_partitions = broker->num_partitions;
	md->default_replication_factor = broker->default_replication_factor;
	md->epoch = epoch;
	for (size_t i = 0; i < n; i++) {
		const struct md_topic *t = &st->topics[i];

		topics[i].name.ptr = snapshot_put_str(&pos, t->name);
		topics[i].name.len = (int32_t)strlen(t->name);
		topics[i].id = t->id;
		topics[i].partition_count = t->partition_count;
		/* Kafka's default max.message.bytes when no config resolves it. */
		topics[i].max_message_bytes = broker->cfg != NULL
			? ctl_storage_topic_max_message_bytes(broker->cfg, t) : 1048588;
		/* Kafka 3.9's internal topics (Topic.isInternal); other "__"
		 * names are ordinary. */
		topics[i].internal = strcmp(t->name, "__consumer_offsets") == 0 ||
				     strcmp(t->name, "__transaction_state") == 0 ||
				     strcmp(t->name, "__share_group_state") == 0;
	}
	qsort(topics, n, sizeof(*topics), snapshot_cmp_name);
	for (size_t i = 0; i < n; i++)
		by_id[i] = &topics[i];
	qsort(by_id, n, sizeof(*by_id), snapshot_cmp_id);
	md->topic_count = (int32_t)n;
	md->topics = topics;
	md->by_id = by_id;
	ASSERT(pos == (char *)(by_id + n) + strings);
	return md;
}

void
md_snapshot_free(struct kp_md *md)
{
	free(md);
}
