/* SPDX-License-Identifier: Apache-2.0 */
/* Tests storage/segment_index.c on the simulated sio: Kafka's entry layout
 * (big-endian), lookups, preallocation and trim on seal, and that reopening
 * a preallocated file finds exactly the valid entries. */
#include <criterion/criterion.h>
#include <string.h>

#include "storage/segment_index_int.h"
#include "tests/sim/sio_sim.h"

Test(segment_index, offset_layout_lookup_seal_reopen)
{
	struct sio *sio = sio_sim_create(1);
	struct segment_index idx;
	uint8_t raw[16];
	bool created;
	uint32_t i;

	cr_assert_eq(segment_index_open(sio, &idx, "/x.index", 8, 1000, true, &created), 0);
	cr_assert(created);
	cr_assert_eq(idx.entry_max, 125);
	cr_assert_eq(sio_sim_file_size(sio, "/x.index"), 1000, "preallocated");
	for (i = 1; i <= 10; i++)
		segment_index_offset_append(&idx, i * 10, i * 100);
	memcpy(raw, idx.map, 16);
	cr_assert_eq(raw[3], 10);
	cr_assert_eq(raw[6], 0);
	cr_assert_eq(raw[7], 100);
	cr_assert_eq(segment_index_offset_lookup(&idx, 5), 0);
	cr_assert_eq(segment_index_offset_lookup(&idx, 10), 100);
	cr_assert_eq(segment_index_offset_lookup(&idx, 55), 500);
	cr_assert_eq(segment_index_offset_lookup(&idx, 1000), 1000);
	cr_assert_eq(segment_index_position_floor(&idx, 450), 400);
	/* Unmapped and mapped again (the open-file cache): entries are kept. */
	segment_index_unmap(sio, &idx);
	cr_assert_null(idx.map);
	cr_assert_eq(segment_index_map(sio, &idx, "/x.index"), 0);
	cr_assert_eq(segment_index_offset_lookup(&idx, 55), 500);
	segment_index_close(sio, &idx, "/x.index", true);
	cr_assert_eq(sio_sim_file_size(sio, "/x.index"), 80, "trimmed on close");
	/* Reopen writable: the zero fill ends the entries. */
	cr_assert_eq(segment_index_open(sio, &idx, "/x.index", 8, 1000, true, &created), 0);
	cr_assert_eq(sio_sim_file_size(sio, "/x.index"), 1000, "preallocated again");
	cr_assert_eq(idx.entry_count, 10);
	cr_assert_eq(segment_index_seal(sio, &idx, "/x.index"), 0);
	cr_assert_eq(sio_sim_file_size(sio, "/x.index"), 80, "trimmed on seal");
	cr_assert_not(idx.mapped);
	cr_assert_eq(segment_index_map(sio, &idx, "/x.index"), 0);
	cr_assert_eq(segment_index_offset_lookup(&idx, 77), 700);
	segment_index_close(sio, &idx, "/x.index", true);
	cr_assert_eq(segment_index_open(sio, &idx, "/x.index", 8, 1000, false, &created), 0);
	cr_assert_eq(idx.entry_count, 10);
	segment_index_close(sio, &idx, "/x.index", true);
	cr_assert_eq(sio_sim_file_size(sio, "/x.index"), 80);
	sio_destroy(sio);
}

Test(segment_index, time_entries_only_grow)
{
	struct sio *sio = sio_sim_create(1);
	struct segment_index idx;
	bool created;
	uint32_t rel;
	int64_t ts;

	cr_assert_eq(segment_index_open(sio, &idx, "/x.timeindex", 12, 120, true, &created), 0);
	segment_index_time_append(&idx, 100, 0);
	segment_index_time_append(&idx, 100, 3);       /* not larger: skipped */
	segment_index_time_append(&idx, 200, 5);
	segment_index_time_append(&idx, 150, 6);       /* skipped */
	cr_assert_eq(idx.entry_count, 2);
	segment_index_time_at(&idx, 1, &ts, &rel);
	cr_assert_eq(ts, 200);
	cr_assert_eq(rel, 5);
	cr_assert_eq(segment_index_time_lookup(&idx, 199), 0);
	cr_assert_eq(segment_index_time_lookup(&idx, 250), 5);
	segment_index_truncate(&idx, 1);
	cr_assert_eq(idx.entry_count, 1);
	segment_index_close(sio, &idx, "/x.timeindex", true);
	sio_destroy(sio);
}
