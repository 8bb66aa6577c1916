/* SPDX-License-Identifier: Apache-2.0 */
/* The open-file cache's bookkeeping: counts against the budgets, the LRU
 * list of unpinned open entries, and eviction from its cold end. It never
 * opens or closes a file itself; owners do, and tell it. */
#include "storage/fcache_int.h"

#include <stddef.h>
#include <string.h>

#include "common/assert.h"

void
fcache_init(struct fcache *fc, uint32_t fds_max, uint32_t maps_max)
{
	memset(fc, 0, sizeof(*fc));
	fc->lru.prev = &fc->lru;
	fc->lru.next = &fc->lru;
	fc->fds_max = fds_max;
	fc->maps_max = maps_max;
}

void
fcache_fini(struct fcache *fc)
{
	ASSERT(fc->entries_open == 0);
	ASSERT(fc->fds_open == 0 && fc->maps_open == 0);
	ASSERT(fc->lru.next == &fc->lru);
}

void
fcache_entry_init(struct fcache_entry *e, fcache_evict_fn *evict)
{
	memset(e, 0, sizeof(*e));
	e->evict = evict;
}

static void
fcache_lru_remove(struct fcache_entry *e)
{
	ASSERT_HOT(e->prev != NULL && e->next != NULL);
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->prev = NULL;
	e->next = NULL;
}

static void
fcache_lru_push(struct fcache *fc, struct fcache_entry *e)
{
	ASSERT_HOT(e->prev == NULL && e->next == NULL);
	e->next = fc->lru.next;
	e->prev = &fc->lru;
	fc->lru.next->prev = e;
	fc->lru.next = e;
}

static void
fcache_uncount(struct fcache *fc, struct fcache_entry *e)
{
	ASSERT(fc->fds_open >= e->fds);
	ASSERT(fc->maps_open >= e->maps);
	ASSERT(fc->entries_open > 0);
	fc->fds_open -= e->fds;
	fc->maps_open -= e->maps;
	fc->entries_open--;
	e->fds = 0;
	e->maps = 0;
	e->open = false;
}

/* Close the least recently used unpinned entry; false when there is none. */
static bool
fcache_evict_one(struct fcache *fc)
{
	struct fcache_entry *e = fc->lru.prev;

	if (e == &fc->lru)
		return false;
	ASSERT(e->open && e->pins == 0);
	fcache_lru_remove(e);
	fcache_uncount(fc, e);
	fc->evictions++;
	e->evict(e);
	return true;
}

void
fcache_reserve(struct fcache *fc, uint32_t fds, uint32_t maps)
{
	while ((fc->fds_open + fds > fc->fds_max || fc->maps_open + maps > fc->maps_max) &&
	       fcache_evict_one(fc))
		;
}

uint32_t
fcache_shrink(struct fcache *fc)
{
	uint32_t n = 0;

	while (fcache_evict_one(fc))
		n++;
	return n;
}

void
fcache_opened(struct fcache *fc, struct fcache_entry *e, uint32_t fds, uint32_t maps)
{
	ASSERT(!e->open && e->pins == 0);
	ASSERT(fds <= UINT16_MAX && maps <= UINT16_MAX);
	e->open = true;
	e->fds = (uint16_t)fds;
	e->maps = (uint16_t)maps;
	e->pins = 1;
	fc->fds_open += fds;
	fc->maps_open += maps;
	fc->entries_open++;
	fc->misses++;
}

void
fcache_pin(struct fcache *fc, struct fcache_entry *e)
{
	ASSERT_HOT(e->open);
	if (e->pins++ == 0)
		fcache_lru_remove(e);
	fc->hits++;
}

void
fcache_unpin(struct fcache *fc, struct fcache_entry *e)
{
	ASSERT(e->open);
	ASSERT(e->pins > 0);
	if (--e->pins > 0)
		return;
	fcache_lru_push(fc, e);
	fcache_reserve(fc, 0, 0);
}

void
fcache_closed(struct fcache *fc, struct fcache_entry *e)
{
	ASSERT(e->pins == 0);
	if (!e->open)
		return;
	fcache_lru_remove(e);
	fcache_uncount(fc, e);
}
