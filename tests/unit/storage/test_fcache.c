/* SPDX-License-Identifier: Apache-2.0 */
/* Tests storage/fcache.c with bare entries whose evict callback records
 * what it closed: least recently used goes first, pinned entries never go,
 * both budgets (descriptors and maps) are kept, and shrink empties the
 * unpinned rest. */
#include <criterion/criterion.h>

#include "storage/fcache_int.h"

#define ENTRIES 8

static struct fcache_entry ents[ENTRIES];
static int evicted[64];
static unsigned evicted_count;

static void
on_evict(struct fcache_entry *e)
{
	cr_assert_lt(evicted_count, 64);
	evicted[evicted_count++] = (int)(e - ents);
}

static void
setup(void)
{
	evicted_count = 0;
	for (int i = 0; i < ENTRIES; i++)
		fcache_entry_init(&ents[i], on_evict);
}

TestSuite(fcache, .init = setup);

/* Open entry i (after making room) and unpin it, as an owner does. */
static void
open_unpinned(struct fcache *fc, int i, uint32_t fds, uint32_t maps)
{
	fcache_reserve(fc, fds, maps);
	fcache_opened(fc, &ents[i], fds, maps);
	fcache_unpin(fc, &ents[i]);
}

Test(fcache, lru_order_and_descriptor_budget)
{
	struct fcache fc;

	fcache_init(&fc, 3, 100);
	for (int i = 0; i < 3; i++)
		open_unpinned(&fc, i, 1, 0);
	cr_assert_eq(fc.fds_open, 3);
	cr_assert_eq(evicted_count, 0);
	/* Touch 0: 1 is now the least recently used. */
	fcache_pin(&fc, &ents[0]);
	fcache_unpin(&fc, &ents[0]);
	open_unpinned(&fc, 3, 1, 0);
	cr_assert_eq(evicted_count, 1);
	cr_assert_eq(evicted[0], 1);
	cr_assert_not(ents[1].open);
	cr_assert_eq(fc.fds_open, 3);
	cr_assert_eq(fc.hits, 1);
	cr_assert_eq(fc.misses, 4);
	cr_assert_eq(fc.evictions, 1);
	for (int i = 0; i < 4; i++)
		fcache_closed(&fc, &ents[i]);
	fcache_fini(&fc);
}

Test(fcache, pinned_entries_stay_over_budget)
{
	struct fcache fc;

	fcache_init(&fc, 2, 100);
	for (int i = 0; i < 4; i++) {
		fcache_reserve(&fc, 1, 0);
		fcache_opened(&fc, &ents[i], 1, 0);     /* pinned */
	}
	cr_assert_eq(evicted_count, 0, "nothing unpinned to evict");
	cr_assert_eq(fc.fds_open, 4);
	/* Unpinning brings the cache back to its budget, oldest unpinned first. */
	fcache_unpin(&fc, &ents[2]);
	cr_assert_eq(evicted_count, 1);
	cr_assert_eq(evicted[0], 2);
	fcache_unpin(&fc, &ents[0]);
	cr_assert_eq(evicted_count, 2);
	cr_assert_eq(fc.fds_open, 2);
	fcache_unpin(&fc, &ents[1]);
	fcache_unpin(&fc, &ents[3]);
	cr_assert_eq(fc.fds_open, 2);
	cr_assert_eq(fcache_shrink(&fc), 2);
	cr_assert_eq(fc.fds_open, 0);
	cr_assert_eq(fc.entries_open, 0);
	fcache_fini(&fc);
}

Test(fcache, maps_budget_and_nested_pins)
{
	struct fcache fc;

	fcache_init(&fc, 100, 4);
	open_unpinned(&fc, 0, 0, 2);
	open_unpinned(&fc, 1, 1, 0);
	open_unpinned(&fc, 2, 0, 2);
	cr_assert_eq(fc.maps_open, 4);
	/* Two pins: one unpin keeps it off the list. */
	fcache_pin(&fc, &ents[2]);
	fcache_pin(&fc, &ents[2]);
	fcache_unpin(&fc, &ents[2]);
	cr_assert_eq(ents[2].pins, 1);
	/* Room for 2 maps: 0 (oldest) goes; 1 holds no map but is older than
	 * nothing else, so only as much as needed is evicted. */
	fcache_reserve(&fc, 0, 2);
	cr_assert_eq(evicted_count, 1);
	cr_assert_eq(evicted[0], 0);
	fcache_opened(&fc, &ents[3], 0, 2);
	cr_assert_eq(fc.maps_open, 4);
	fcache_unpin(&fc, &ents[2]);
	fcache_unpin(&fc, &ents[3]);
	fcache_closed(&fc, &ents[1]);
	fcache_closed(&fc, &ents[2]);
	fcache_closed(&fc, &ents[3]);
	fcache_fini(&fc);
}
