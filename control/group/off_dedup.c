/* SPDX-License-Identifier: Apache-2.0 */
/* OffsetCommit and OffsetFetch naming a partition twice, or a topic in two
 * entries: Kafka keys both by partition (GroupCoordinator's maps), so each
 * partition is committed and answered once, under one entry per topic.
 * Sorting a copy finds both in O(n log n) for any request the frame
 * allows. @thread control */
#include "control/group/off_int.h"

#include <stdlib.h>
#include <string.h>

struct off_dedup_item {
	struct off_key k;
	int32_t rank;           /* the topic's first listing */
};

static int
off_dedup_name_cmp(struct kp_str a, struct kp_str b)
{
	int32_t n = a.len < b.len ? a.len : b.len;
	int c = n > 0 ? memcmp(a.ptr, b.ptr, (size_t)n) : 0;

	return c != 0 ? c : (a.len > b.len) - (a.len < b.len);
}

static int
off_dedup_by_key(const void *pa, const void *pb)
{
	const struct off_dedup_item *a = pa, *b = pb;
	int c = off_dedup_name_cmp(a->k.topic, b->k.topic);

	if (c != 0)
		return c;
	if (a->k.partition != b->k.partition)
		return a->k.partition < b->k.partition ? -1 : 1;
	return (a->k.index > b->k.index) - (a->k.index < b->k.index);
}

static int
off_dedup_by_rank(const void *pa, const void *pb)
{
	const struct off_dedup_item *a = pa, *b = pb;

	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	return (a->k.index > b->k.index) - (a->k.index < b->k.index);
}

/* Whether sorted item m (its topic's run ends before end) is answered: a
 * listing kept as is, or the last other listing of its partition. */
static bool
off_dedup_keep(const struct off_dedup_item *it, int32_t m, int32_t end)
{
	if (it[m].k.as_listed)
		return true;
	for (int32_t n = m + 1; n < end && it[n].k.partition == it[m].k.partition; n++)
		if (!it[n].k.as_listed)
			return false;
	return true;
}

int32_t
off_dedup(const struct off_key *keys, int32_t n, int32_t *order)
{
	struct off_dedup_item *it = malloc(sizeof(*it) * (size_t)(n > 0 ? n : 1));
	int32_t kept = 0;

	if (it == NULL)
		return -1;
	for (int32_t i = 0; i < n; i++)
		it[i] = (struct off_dedup_item){ keys[i], 0 };
	qsort(it, (size_t)n, sizeof(*it), off_dedup_by_key);
	/* Per topic run: its first listing (rank), then the last listing of
	 * each of its partitions, compacted to the front. */
	for (int32_t i = 0, j; i < n; i = j) {
		int32_t low = it[i].k.index;

		for (j = i; j < n && off_dedup_name_cmp(it[j].k.topic, it[i].k.topic) == 0; j++)
			low = it[j].k.index < low ? it[j].k.index : low;
		for (int32_t m = i; m < j; m++)
			if (off_dedup_keep(it, m, j))
				it[kept++] = (struct off_dedup_item){ it[m].k, low };
	}
	qsort(it, (size_t)kept, sizeof(*it), off_dedup_by_rank);
	for (int32_t i = 0; i < kept; i++)
		order[i] = it[i].k.index;
	free(it);
	return kept;
}
