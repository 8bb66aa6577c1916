/* SPDX-License-Identifier: Apache-2.0 */
/* Offset expiry and loading (control/group/off_expire.c, off_load.c) with
 * the real membership over a fake log and fake clocks: an Empty group's
 * offsets go retention after it became Empty, a simple group's retention
 * after each commit, a Stable consumer group's only for topics no member
 * subscribes to; loading keeps the last value and obeys tombstones; in
 * cluster mode a loading partition's groups wait. */
#include <criterion/criterion.h>

#include "common/clock.h"
#include "control/group/off_int.h"
#include "tests/unit/control/group/fake_log.h"

static const char *const cfg[] = {
	"group.initial.rebalance.delay.ms=0", "offsets.retention.minutes=1",
	"offsets.retention.check.interval.ms=1000", NULL,
};

static void
setup(void)
{
	ot_setup(cfg);
}

TestSuite(off_expire, .init = setup, .fini = th_teardown);

static const struct ot_part parts[] = {
	{ "t0", 0, 10, "" }, { "t1", 0, 12, "" },
};

Test(off_expire, simple_group_after_commit_retention)
{
	int16_t err;

	ot_commit(9, "g", -1, NULL, 2, parts);
	th_log_complete(KP_ERR_NONE);
	ot_advance_ms(30000);
	ot_commit(9, "g", -1, NULL, 1, parts);  /* t0 committed again */
	th_log_complete(KP_ERR_NONE);
	ot_advance_ms(31000);
	cr_assert_eq(ot_fetch(9, "g", "t1", 0, false, &err), -1);
	cr_assert_eq(ot_fetch(9, "g", "t0", 0, false, &err), 10);
	cr_assert_eq(ot.tombstones, 1);
	ot_advance_ms(30000);
	cr_assert_null(grp_find(th.c, kp_str_c("g")));
	cr_assert_eq(ot.group_tombstones, 1);
}

Test(off_expire, empty_consumer_group_after_it_became_empty)
{
	struct kp_str id;
	int16_t err;
	char mid[128];
	int32_t gen = ot_consumer_group("cg", "t0", &id);

	snprintf(mid, sizeof(mid), "%.*s", (int)id.len, id.ptr);
	ot_commit(9, "cg", gen, mid, 2, parts);
	th_log_complete(KP_ERR_NONE);
	/* Stable and subscribed to t0: t1 expires after its commit, t0 not. */
	ot_advance_ms(61000);
	cr_assert_eq(ot_fetch(9, "cg", "t1", 0, false, &err), -1);
	cr_assert_eq(ot_fetch(9, "cg", "t0", 0, false, &err), 10);
	ot_advance_ms(120000);
	cr_assert_eq(ot_fetch(9, "cg", "t0", 0, false, &err), 10);
	cr_assert_eq(th_leave(0, "cg", id), KP_ERR_NONE);
	th_log_complete(KP_ERR_NONE);
	/* Membership stamps the state change with the real wall clock: the
	 * offsets' clock goes back to it. */
	ot.wall_ms = clock_wall_ms();
	/* Empty now: everything goes retention after that, not before. */
	ot_advance_ms(30000);
	cr_assert_eq(ot_fetch(9, "cg", "t0", 0, false, &err), 10);
	ot_advance_ms(31000);
	cr_assert_eq(ot_fetch(9, "cg", "t0", 0, false, &err), -1);
	cr_assert_null(grp_find(th.c, kp_str_c("cg")));
}

Test(off_expire, pending_commit_never_expires)
{
	int16_t err;

	ot_commit(9, "g", -1, NULL, 1, parts);
	th_log_complete(KP_ERR_NONE);
	ot_advance_ms(50000);
	ot_commit(9, "g", -1, NULL, 1, parts);  /* held */
	ot_advance_ms(20000);
	cr_assert_eq(ot_fetch(9, "g", "t0", 0, false, &err), 10);
	th_log_complete(KP_ERR_NONE);
}

Test(off_expire, load_last_wins_and_tombstones)
{
	struct grp_rec_offset v = { .offset = 1, .leader_epoch = 3, .metadata = { "md", 2 },
				    .commit_timestamp_ms = ot.wall_ms, .expire_timestamp_ms = -1 };
	int16_t err;
	int64_t sum;

	off_load_offset(th.c, kp_str_c("g"), kp_str_c("t0"), 0, &v);
	v.offset = 2;
	off_load_offset(th.c, kp_str_c("g"), kp_str_c("t0"), 0, &v);
	off_load_offset(th.c, kp_str_c("g"), kp_str_c("t0"), 1, &v);
	off_load_offset(th.c, kp_str_c("g"), kp_str_c("t0"), 1, NULL);
	cr_assert_eq(ot_fetch(9, "g", "t0", 0, false, &err), 2);
	cr_assert_eq(ot_fetch(9, "g", "t0", 1, false, &err), -1);
	cr_assert_eq(ot_fetch_all(9, "g", &err, &sum), 1);
	off_load_offset(th.c, kp_str_c("g"), kp_str_c("t0"), 0, NULL);
	cr_assert_null(grp_find(th.c, kp_str_c("g")));
	cr_assert_eq(off_total_count(), 0);
	/* An explicit expiry (v1-v4 commits) is obeyed as is. */
	v.expire_timestamp_ms = ot.wall_ms + 5000;
	off_load_offset(th.c, kp_str_c("h"), kp_str_c("t0"), 0, &v);
	ot_advance_ms(6000);
	cr_assert_eq(ot_fetch(9, "h", "t0", 0, false, &err), -1);
}

Test(off_expire, cluster_mode_waits_for_the_partition_to_load)
{
	int16_t err;

	grp_coord_set_cluster(th.c, true);
	ot_commit(9, "g", -1, NULL, 2, parts);
	th_log_complete(KP_ERR_NONE);
	/* Its partition (led again) is loading: not in Kafka's cache yet. */
	th.log_ready_error = KP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
	ot_advance_ms(61000);
	cr_assert_eq(ot.tombstones, 0);
	th.log_ready_error = KP_ERR_NONE;
	ot_advance_ms(1000);
	cr_assert_eq(ot.tombstones, 2);
	cr_assert_eq(ot_fetch(9, "g", "t0", 0, false, &err), -1);
}
