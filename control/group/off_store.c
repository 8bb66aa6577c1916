/* SPDX-License-Identifier: Apache-2.0 */
/* One group's committed offsets in memory: a hash of (topic, partition)
 * entries and a hash of topics, each topic listing its entries so a
 * fetch of all offsets answers topic by topic. Bounded per group and in
 * total (off_int.h). It never writes the log: the handler files do.
 * @thread control */
#include "control/group/off_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/clock.h"

#define OFF_BUCKETS_MIN 16u

static int64_t off_total;       /* entries of every group (one coordinator) */
static uint64_t off_seq;

static int64_t
off_clock_default(void)
{
	return clock_wall_ms();
}

static int64_t (*off_clock)(void) = off_clock_default;

int64_t
off_now_ms(void)
{
	return off_clock();
}

void
off_set_clock_ms(int64_t (*now_fn)(void))
{
	off_clock = now_fn != NULL ? now_fn : off_clock_default;
}

int16_t
off_check_id(struct grp_coord *c, struct kp_str group_id, bool allow_empty)
{
	int16_t err = grp_check_acl(c, group_id);

	if (err != KP_ERR_NONE)
		return err;
	if (group_id.len < 0 || (group_id.len == 0 && !allow_empty))
		return KP_ERR_INVALID_GROUP_ID;
	return grp_log_ready(grp_coord_log(c), group_id);
}

uint64_t
off_seq_next(void)
{
	return ++off_seq;
}

int64_t
off_total_count(void)
{
	return off_total;
}

/* FNV-1a over the topic name. */
static uint32_t
off_hash_topic(struct kp_str topic)
{
	uint32_t h = 2166136261u;

	for (int32_t i = 0; i < topic.len; i++)
		h = (h ^ (uint8_t)topic.ptr[i]) * 16777619u;
	return h;
}

static uint32_t
off_hash_entry(uint32_t topic_hash, int32_t partition)
{
	return (topic_hash ^ (uint32_t)partition) * 2654435761u;
}

struct off_group *
off_group_of(struct grp *g, bool create)
{
	struct off_group **slot = grp_offsets_slot(g);

	if (*slot != NULL || !create)
		return *slot;
	struct off_group *o = calloc(1, sizeof(*o));

	if (o == NULL)
		return NULL;
	o->topic_buckets = OFF_BUCKETS_MIN;
	o->entry_buckets = OFF_BUCKETS_MIN;
	o->topics = calloc(o->topic_buckets, sizeof(*o->topics));
	o->entries = calloc(o->entry_buckets, sizeof(*o->entries));
	if (o->topics == NULL || o->entries == NULL) {
		free(o->topics);
		free(o->entries);
		free(o);
		return NULL;
	}
	*slot = o;
	return o;
}

static struct off_topic *
off_topic_find(const struct off_group *o, struct kp_str topic, uint32_t h)
{
	for (struct off_topic *t = o->topics[h & (o->topic_buckets - 1)]; t != NULL; t = t->hnext)
		if (t->hash == h && t->name_len == topic.len &&
		    memcmp(t->name, topic.ptr, (size_t)topic.len) == 0)
			return t;
	return NULL;
}

struct off_entry *
off_entry_find(const struct off_group *o, struct kp_str topic, int32_t partition)
{
	if (o == NULL || topic.len < 0)
		return NULL;
	uint32_t h = off_hash_topic(topic);
	const struct off_topic *t = off_topic_find(o, topic, h);

	if (t == NULL)
		return NULL;
	uint32_t eh = off_hash_entry(h, partition) & (o->entry_buckets - 1);

	for (struct off_entry *e = o->entries[eh]; e != NULL; e = e->hnext)
		if (e->topic == t && e->partition == partition)
			return e;
	return NULL;
}

/* Double a table when it is fuller than one per bucket (a failed grow
 * only makes chains longer). */
static void
off_grow_entries(struct off_group *o)
{
	uint32_t n = o->entry_buckets * 2;
	struct off_entry **b = calloc(n, sizeof(*b));

	if (b == NULL)
		return;
	for (uint32_t i = 0; i < o->entry_buckets; i++) {
		while (o->entries[i] != NULL) {
			struct off_entry *e = o->entries[i];
			uint32_t h = off_hash_entry(e->topic->hash, e->partition) & (n - 1);

			o->entries[i] = e->hnext;
			e->hnext = b[h];
			b[h] = e;
		}
	}
	free(o->entries);
	o->entries = b;
	o->entry_buckets = n;
}

static void
off_grow_topics(struct off_group *o)
{
	uint32_t n = o->topic_buckets * 2;
	struct off_topic **b = calloc(n, sizeof(*b));

	if (b == NULL)
		return;
	for (uint32_t i = 0; i < o->topic_buckets; i++) {
		while (o->topics[i] != NULL) {
			struct off_topic *t = o->topics[i];

			o->topics[i] = t->hnext;
			t->hnext = b[t->hash & (n - 1)];
			b[t->hash & (n - 1)] = t;
		}
	}
	free(o->topics);
	o->topics = b;
	o->topic_buckets = n;
}

static struct off_topic *
off_topic_get(struct off_group *o, struct kp_str topic, uint32_t h)
{
	struct off_topic *t = off_topic_find(o, topic, h);

	if (t != NULL)
		return t;
	t = calloc(1, sizeof(*t) + (size_t)topic.len + 1);
	if (t == NULL)
		return NULL;
	t->hash = h;
	t->name_len = topic.len;
	if (topic.len > 0)
		memcpy(t->name, topic.ptr, (size_t)topic.len);
	t->name[topic.len] = '\0';
	if ((uint32_t)o->topic_count >= o->topic_buckets)
		off_grow_topics(o);
	t->hnext = o->topics[h & (o->topic_buckets - 1)];
	o->topics[h & (o->topic_buckets - 1)] = t;
	o->topic_count++;
	return t;
}

static void
off_topic_remove(struct off_group *o, struct off_topic *t)
{
	struct off_topic **pp = &o->topics[t->hash & (o->topic_buckets - 1)];

	ASSERT(t->parts == NULL);
	while (*pp != t)
		pp = &(*pp)->hnext;
	*pp = t->hnext;
	o->topic_count--;
	free(t);
}

struct off_entry *
off_entry_get(struct off_group *o, struct kp_str topic, int32_t partition, int16_t *error)
{
	struct off_entry *e = off_entry_find(o, topic, partition);

	if (e != NULL)
		return e;
	if (topic.len < 0) {
		*error = KP_ERR_INVALID_REQUEST;
		return NULL;
	}
	if (o->entry_count >= OFF_GROUP_OFFSETS_MAX || off_total >= OFF_TOTAL_OFFSETS_MAX) {
		*error = KP_ERR_INVALID_COMMIT_OFFSET_SIZE;
		return NULL;
	}
	uint32_t h = off_hash_topic(topic);
	struct off_topic *t = off_topic_get(o, topic, h);

	e = t != NULL ? calloc(1, sizeof(*e)) : NULL;
	if (e == NULL) {
		if (t != NULL && t->parts == NULL)
			off_topic_remove(o, t);
		*error = KP_ERR_COORDINATOR_NOT_AVAILABLE;
		return NULL;
	}
	e->topic = t;
	e->partition = partition;
	e->born_seq = off_seq_next();
	e->v.leader_epoch = -1;
	e->v.expire_ts_ms = -1;
	e->tnext = t->parts;
	if (t->parts != NULL)
		t->parts->tprev = &e->tnext;
	e->tprev = &t->parts;
	t->parts = e;
	t->part_count++;
	if ((uint32_t)o->entry_count >= o->entry_buckets)
		off_grow_entries(o);
	uint32_t eh = off_hash_entry(h, partition) & (o->entry_buckets - 1);

	e->hnext = o->entries[eh];
	o->entries[eh] = e;
	o->entry_count++;
	off_total++;
	return e;
}

bool
off_entry_set(struct off_entry *e, const struct grp_rec_offset *v)
{
	char *meta = NULL;
	int32_t len = v->metadata.len > 0 ? v->metadata.len : 0;

	if (len > 0) {
		meta = malloc((size_t)len);
		if (meta == NULL)
			return false;
		memcpy(meta, v->metadata.ptr, (size_t)len);
	}
	free(e->v.metadata);
	e->v.metadata = meta;
	e->v.metadata_len = len;
	e->v.offset = v->offset;
	e->v.leader_epoch = v->leader_epoch;
	e->v.commit_ts_ms = v->commit_timestamp_ms;
	e->v.expire_ts_ms = v->expire_timestamp_ms;
	e->committed = true;
	return true;
}

void
off_entry_remove(struct off_group *o, struct off_entry *e)
{
	struct off_topic *t = e->topic;
	uint32_t eh = off_hash_entry(t->hash, e->partition) & (o->entry_buckets - 1);
	struct off_entry **pp = &o->entries[eh];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	*e->tprev = e->tnext;
	if (e->tnext != NULL)
		e->tnext->tprev = e->tprev;
	t->part_count--;
	o->entry_count--;
	ASSERT(o->entry_count >= 0);
	ASSERT(off_total > 0);
	off_total--;
	free(e->v.metadata);
	free(e);
	if (t->parts == NULL)
		off_topic_remove(o, t);
}

void
off_entry_maybe_remove(struct off_group *o, struct off_entry *e)
{
	if (!e->committed && e->pending == 0)
		off_entry_remove(o, e);
}

struct grp_rec_offset
off_entry_rec(const struct off_entry *e)
{
	struct grp_rec_offset r = {
		.offset = e->v.offset,
		.leader_epoch = e->v.leader_epoch,
		.metadata = { e->v.metadata != NULL ? e->v.metadata : "", e->v.metadata_len },
		.commit_timestamp_ms = e->v.commit_ts_ms,
		.expire_timestamp_ms = e->v.expire_ts_ms,
	};
	return r;
}

bool
off_group_has_offsets(const struct off_group *o)
{
	return o != NULL && o->entry_count > 0;
}

void
off_group_free(struct off_group *o)
{
	if (o == NULL)
		return;
	for (uint32_t b = 0; b < o->entry_buckets; b++) {
		while (o->entries[b] != NULL) {
			struct off_entry *e = o->entries[b];

			o->entries[b] = e->hnext;
			free(e->v.metadata);
			free(e);
			off_total--;
		}
	}
	for (uint32_t b = 0; b < o->topic_buckets; b++) {
		while (o->topics[b] != NULL) {
			struct off_topic *t = o->topics[b];

			o->topics[b] = t->hnext;
			free(t);
		}
	}
	ASSERT(off_total >= 0);
	free(o->entries);
	free(o->topics);
	free(o);
}

void
off_group_drop_if_unused(struct grp *g)
{
	struct off_group **slot = grp_offsets_slot(g);

	if (*slot != NULL && (*slot)->entry_count == 0) {
		off_group_free(*slot);
		*slot = NULL;
	}
}

void
off_group_metrics(const struct grp *g, const struct off_group *o,
		  void (*offset_fn)(void *arg, const struct grp_metrics_offset *m), void *arg)
{
	if (o == NULL)
		return;
	for (uint32_t b = 0; b < o->topic_buckets; b++) {
		for (const struct off_topic *t = o->topics[b]; t != NULL; t = t->hnext) {
			for (const struct off_entry *e = t->parts; e != NULL; e = e->tnext) {
				if (!e->committed)
					continue;
				struct grp_metrics_offset m = {
					.group_id = grp_id(g),
					.topic = t->name,
					.partition = e->partition,
					.offset = e->v.offset,
				};
				offset_fn(arg, &m);
			}
		}
	}
}
