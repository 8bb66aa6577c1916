/* SPDX-License-Identifier: Apache-2.0 */
/* The cleaner's offset map: a fixed-size open-addressing table from a
 * 128-bit hash of a record key to the key's latest offset, as Kafka's
 * SkimpyOffsetMap keeps an MD5 per key. Allocated once per cleaner; a full
 * map ends the dirty section a run cleans (the rest waits for the next). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "storage/cleaner_int.h"

/* Kafka's log.cleaner.io.buffer.load.factor default. */
#define CLEANER_MAP_LOAD_PERCENT 90

static uint64_t
cleaner_map_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/* One 64-bit hash of key under seed: 8 bytes at a time, each mixed in. */
static uint64_t
cleaner_map_hash(const uint8_t *key, size_t len, uint64_t seed)
{
	uint64_t h = seed ^ ((uint64_t)len * 0x9e3779b97f4a7c15ull), v;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&v, key + i, 8);
		h = (h ^ cleaner_map_mix(v + seed)) * 0x87c37b91114253d5ull;
		h = (h << 27) | (h >> 37);
	}
	v = 0;
	memcpy(&v, key + i, len - i);
	h = (h ^ cleaner_map_mix(v ^ (uint64_t)(len - i) ^ seed)) * 0x4cf5ad432745937full;
	return cleaner_map_mix(h);
}

static void
cleaner_map_hashes(const uint8_t *key, size_t len, uint64_t *h1, uint64_t *h2)
{
	*h1 = cleaner_map_hash(key, len, 0x243f6a8885a308d3ull);
	*h2 = cleaner_map_hash(key, len, 0x13198a2e03707344ull);
	if (*h1 == 0 && *h2 == 0)
		*h2 = 1;        /* (0, 0) marks an empty slot */
}

int
cleaner_map_init(struct cleaner_map *m, uint32_t slot_count)
{
	ASSERT(slot_count >= 16 && (slot_count & (slot_count - 1)) == 0);
	memset(m, 0, sizeof(*m));
	m->slots = calloc(slot_count, sizeof(*m->slots));
	if (m->slots == NULL)
		return -ENOMEM;
	m->slot_count = slot_count;
	m->slot_alloc = slot_count;
	m->used_max = (uint32_t)((uint64_t)slot_count * CLEANER_MAP_LOAD_PERCENT / 100);
	m->latest_offset = -1;
	return 0;
}

void
cleaner_map_fini(struct cleaner_map *m)
{
	free(m->slots);
	m->slots = NULL;
}

void
cleaner_map_clear(struct cleaner_map *m)
{
	memset(m->slots, 0, sizeof(*m->slots) * m->slot_count);
	m->used = 0;
	m->latest_offset = -1;
}

void
cleaner_map_reset(struct cleaner_map *m, uint64_t keys_max)
{
	uint64_t want = 16;

	while (want < m->slot_alloc && want * CLEANER_MAP_LOAD_PERCENT / 100 < keys_max + 1)
		want *= 2;
	m->slot_count = (uint32_t)(want < m->slot_alloc ? want : m->slot_alloc);
	m->used_max = (uint32_t)((uint64_t)m->slot_count * CLEANER_MAP_LOAD_PERCENT / 100);
	cleaner_map_clear(m);
}

bool
cleaner_map_full(const struct cleaner_map *m)
{
	return m->used >= m->used_max;
}

static struct cleaner_map_slot *
cleaner_map_find(const struct cleaner_map *m, uint64_t h1, uint64_t h2)
{
	uint32_t mask = m->slot_count - 1, i = (uint32_t)h1 & mask;
	struct cleaner_map_slot *s;

	for (;;) {
		s = &m->slots[i];
		if ((s->h1 == 0 && s->h2 == 0) || (s->h1 == h1 && s->h2 == h2))
			return s;
		i = (i + 1) & mask;
	}
}

void
cleaner_map_put(struct cleaner_map *m, const uint8_t *key, size_t key_len, int64_t offset)
{
	struct cleaner_map_slot *s;
	uint64_t h1, h2;

	ASSERT(m->used < m->slot_count - 1);    /* callers stop at cleaner_map_full() */
	cleaner_map_hashes(key, key_len, &h1, &h2);
	s = cleaner_map_find(m, h1, h2);
	if (s->h1 == 0 && s->h2 == 0) {
		s->h1 = h1;
		s->h2 = h2;
		m->used++;
	}
	s->offset = offset;
	if (offset > m->latest_offset)
		m->latest_offset = offset;
}

int64_t
cleaner_map_get(const struct cleaner_map *m, const uint8_t *key, size_t key_len)
{
	const struct cleaner_map_slot *s;
	uint64_t h1, h2;

	cleaner_map_hashes(key, key_len, &h1, &h2);
	s = cleaner_map_find(m, h1, h2);
	return s->h1 == 0 && s->h2 == 0 ? -1 : s->offset;
}
