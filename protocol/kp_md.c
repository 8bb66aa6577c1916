/* SPDX-License-Identifier: Apache-2.0 */
/* Look-ups in an immutable metadata snapshot (struct kp_md). Safe on any
 * thread that holds the snapshot. */
#include <string.h>

#include "common/assert.h"
#include "protocol/kp.h"

static int
kp_md_name_cmp(struct kp_str a, struct kp_str b)
{
	int32_t n = a.len < b.len ? a.len : b.len;
	int r = memcmp(a.ptr, b.ptr, (size_t)n);

	if (r != 0)
		return r;
	return (a.len > b.len) - (a.len < b.len);
}

const struct kp_md_topic *
kp_md_topic_by_name(const struct kp_md *md, struct kp_str name)
{
	int32_t lo = 0;
	int32_t hi = md->topic_count;

	if (name.len < 0)
		return NULL;
	while (lo < hi) {
		int32_t mid = lo + (hi - lo) / 2;
		int r = kp_md_name_cmp(md->topics[mid].name, name);

		if (r == 0)
			return &md->topics[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct kp_md_topic *
kp_md_topic_by_id(const struct kp_md *md, const struct kp_uuid *id)
{
	int32_t lo = 0;
	int32_t hi = md->topic_count;

	while (lo < hi) {
		int32_t mid = lo + (hi - lo) / 2;
		int r = memcmp(md->by_id[mid]->id.b, id->b, sizeof(id->b));

		if (r == 0)
			return md->by_id[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct kp_md_endpoint *
kp_md_endpoint(const struct kp_md *md, const struct kp_session *session)
{
	int32_t i = session != NULL ? session->listener : 0;

	/* A session's listener always has an endpoint: the snapshot lists
	 * every listener the dataplane accepts on. */
	ASSERT(i < md->endpoint_count);
	return &md->endpoints[i < md->endpoint_count ? i : 0];
}

const struct kp_md_broker *
kp_md_broker(const struct kp_md *md, int32_t id)
{
	int32_t lo = 0;
	int32_t hi = md->broker_count;

	while (lo < hi) {
		int32_t mid = lo + (hi - lo) / 2;

		if (md->brokers[mid].id == id)
			return &md->brokers[mid];
		if (md->brokers[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct kp_md_endpoint *
kp_md_broker_endpoint(const struct kp_md *md, const struct kp_md_broker *b,
		      const struct kp_session *session)
{
	const struct kp_md_endpoint *own = kp_md_endpoint(md, session);

	for (int32_t i = 0; i < b->endpoint_count; i++)
		if (strcmp(b->endpoints[i].listener, own->listener) == 0)
			return &b->endpoints[i];
	return NULL;
}

const struct kp_md_partition *
kp_md_partition(const struct kp_md_topic *t, int32_t p)
{
	if (p < 0 || p >= t->partition_count || t->partitions == NULL)
		return NULL;
	return &t->partitions[p];
}

bool
kp_md_is_leader(const struct kp_md *md, const struct kp_md_topic *t, int32_t p)
{
	const struct kp_md_partition *mp = kp_md_partition(t, p);

	return mp != NULL && mp->leader == md->broker_id;
}
