/* SPDX-License-Identifier: Apache-2.0 */
/* Replica assignment for new topics and partitions, with the semantics of
 * Kafka's AdminUtils.assignReplicasToBrokers: the first replica of each
 * partition round robin from a random start, the others shifted by an
 * amount that grows every broker_count partitions; with racks, over the
 * rack-alternating broker list, skipping brokers whose rack (or who)
 * already holds a replica while a rack (or broker) without one remains. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/assert.h"
#include "control/cluster_int.h"

static int32_t
replica_index(int32_t first, int32_t shift, int32_t j, int32_t n)
{
	int32_t s = 1 + (shift + j) % (n - 1);

	return (first + s) % n;
}

static void
assign_plain(const int32_t *ids, int32_t n, int32_t count, int16_t rf, int32_t start,
	     int32_t shift, int32_t first_partition, int32_t *replicas)
{
	for (int32_t p = first_partition; p < first_partition + count; p++) {
		int32_t *out = replicas + (size_t)p * KP_REPLICAS_MAX;
		int32_t first;

		if (p > 0 && p % n == 0)
			shift++;
		first = (p + start) % n;
		out[0] = ids[first];
		for (int32_t j = 0; j < rf - 1; j++)
			out[j + 1] = ids[replica_index(first, shift, j, n)];
	}
}

static int
rack_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Kafka's getRackAlternatedBrokerList: racks sorted, brokers of each rack
 * sorted by id, one of each rack in turn. Returns the rack count. */
static int32_t
rack_alternate(const int32_t *ids, const char *const *racks, int32_t n, int32_t *out,
	       const char **out_racks)
{
	const char *names[KP_BROKERS_ASSIGN_MAX];
	int32_t used[KP_BROKERS_ASSIGN_MAX] = { 0 };
	int32_t rack_count = 0, k = 0, r = 0;

	for (int32_t i = 0; i < n; i++) {
		bool seen = false;

		for (int32_t j = 0; j < rack_count; j++)
			seen = seen || strcmp(names[j], racks[i]) == 0;
		if (!seen)
			names[rack_count++] = racks[i];
	}
	qsort(names, (size_t)rack_count, sizeof(names[0]), rack_cmp);
	while (k < n) {
		/* The next unused broker (ids ascend) of rack r. */
		for (int32_t i = 0; i < n; i++) {
			if (!used[i] && strcmp(racks[i], names[r]) == 0) {
				used[i] = 1;
				out_racks[k] = racks[i];
				out[k++] = ids[i];
				break;
			}
		}
		r = (r + 1) % rack_count;
	}
	return rack_count;
}

static bool
contains_str(const char *const *set, int32_t n, const char *s)
{
	for (int32_t i = 0; i < n; i++)
		if (strcmp(set[i], s) == 0)
			return true;
	return false;
}

static bool
contains_id(const int32_t *set, int32_t n, int32_t id)
{
	for (int32_t i = 0; i < n; i++)
		if (set[i] == id)
			return true;
	return false;
}

static void
assign_racks(const int32_t *ids, const char *const *racks, int32_t n, int32_t count,
	     int16_t rf, int32_t start, int32_t shift, int32_t first_partition,
	     int32_t *replicas)
{
	int32_t list[KP_BROKERS_ASSIGN_MAX];
	const char *list_racks[KP_BROKERS_ASSIGN_MAX];
	int32_t rack_count = rack_alternate(ids, racks, n, list, list_racks);

	for (int32_t p = first_partition; p < first_partition + count; p++) {
		int32_t *out = replicas + (size_t)p * KP_REPLICAS_MAX;
		const char *with_racks[KP_REPLICAS_MAX];
		int32_t first, nr = 1, k = 0;

		if (p > 0 && p % n == 0)
			shift++;
		first = (p + start) % n;
		out[0] = list[first];
		with_racks[0] = list_racks[first];
		for (int32_t j = 0; j < rf - 1; j++) {
			for (;;) {
				int32_t i = replica_index(first, shift * rack_count, k++, n);
				bool rack_ok = !contains_str(with_racks, nr, list_racks[i]) ||
					       nr >= rack_count;
				bool broker_ok = !contains_id(out, nr, list[i]) || nr >= n;

				if (rack_ok && broker_ok) {
					with_racks[nr] = list_racks[i];
					out[nr++] = list[i];
					break;
				}
			}
		}
	}
}

static int32_t
random_below(int32_t n)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (uint32_t)cluster_now_ms();
	return (int32_t)(r % (uint32_t)n);
}

void
cluster_assign(const int32_t *ids, const char *const *racks, int32_t broker_count,
	       int32_t count, int16_t replication_factor, int32_t start_index,
	       int32_t first_partition, int32_t *replicas)
{
	bool all_racks = true;
	int32_t start, shift;

	ASSERT(broker_count > 0 && broker_count <= KP_BROKERS_ASSIGN_MAX);
	ASSERT(replication_factor >= 1 && replication_factor <= broker_count);
	ASSERT(replication_factor <= KP_REPLICAS_MAX);
	for (int32_t i = 0; i < broker_count; i++)
		all_racks = all_racks && racks != NULL && racks[i] != NULL;
	start = start_index >= 0 ? start_index : random_below(broker_count);
	shift = start_index >= 0 ? start_index : random_below(broker_count);
	if (broker_count == 1) {
		for (int32_t p = first_partition; p < first_partition + count; p++)
			replicas[(size_t)p * KP_REPLICAS_MAX] = ids[0];
		return;
	}
	if (all_racks)
		assign_racks(ids, racks, broker_count, count, replication_factor, start, shift,
			     first_partition, replicas);
	else
		assign_plain(ids, broker_count, count, replication_factor, start, shift,
			     first_partition, replicas);
}
