/* SPDX-License-Identifier: Apache-2.0 */
/* Duplicate partitions in a request (Fetch merges them, ListOffsets
 * refuses them), found in linear time: an open-addressing table of part
 * indexes keyed by (topic name, partition), sized by the request's part
 * count (which the frame bounds). @thread dataplane */
#include <stdlib.h>
#include <string.h>

#include "protocol/kp_core_int.h"

int
kp_part_map_init(struct kp_part_map *m, uint32_t count)
{
	uint32_t size = 16;

	while (size < 2 * (uint64_t)count)
		size *= 2;
	m->slots = malloc(sizeof(*m->slots) * size);
	if (m->slots == NULL)
		return -1;
	memset(m->slots, 0xff, sizeof(*m->slots) * size);
	m->mask = size - 1;
	return 0;
}

void
kp_part_map_free(struct kp_part_map *m)
{
	free(m->slots);
	m->slots = NULL;
}

static uint32_t
kp_part_map_hash(const struct kp_part *pt)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (int32_t i = 0; i < pt->topic.len; i++)
		h = (h ^ (uint8_t)pt->topic.ptr[i]) * 0x100000001b3ull;
	h = (h ^ (uint32_t)pt->partition) * 0x100000001b3ull;
	return (uint32_t)(h ^ (h >> 31));
}

uint32_t
kp_part_map_put(struct kp_part_map *m, const struct kp_part *parts, uint32_t index)
{
	const struct kp_part *pt = &parts[index];
	uint32_t i = kp_part_map_hash(pt) & m->mask;

	while (m->slots[i] != UINT32_MAX) {
		const struct kp_part *o = &parts[m->slots[i]];

		if (o->partition == pt->partition && kp_str_eq(o->topic, pt->topic))
			return m->slots[i];
		i = (i + 1) & m->mask;
	}
	m->slots[i] = index;
	return index;
}
