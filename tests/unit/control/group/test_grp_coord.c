/* SPDX-License-Identifier: Apache-2.0 */
/* The coordinator frame (control/group/grp_coord.c): routing, loading a
 * stored group (grp_load_group), what offsets asks (grp_commit_check),
 * metrics, and the group count bound. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/control/group/grp_harness.h"

static const char *const no_delay[] = { "group.initial.rebalance.delay.ms=0", NULL };

static void
setup(void)
{
	th_setup(no_delay);
}

TestSuite(grp_coord, .init = setup, .fini = th_teardown);

Test(grp_coord, start_loads_and_offsets_apis_route_to_offsets)
{
	struct kp_writer w;

	cr_assert(th.log_started);
	kp_writer_init(&w, 8);
	th_send(KP_API_OFFSET_COMMIT, 8, &w);
	th_send(KP_API_OFFSET_FETCH, 8, &w);
	th_send(KP_API_OFFSET_DELETE, 0, &w);
	kp_writer_free(&w);
	cr_assert_eq(th.off_calls, 3);
}

Test(grp_coord, load_restores_members_with_fresh_sessions)
{
	struct grp_rec_member m[2] = {
		{ kp_str_c("m1"), { NULL, -1 }, kp_str_c("c1"), kp_str_c("/h"), 30000, 10000,
		  { (const uint8_t *)"sub", 3 }, { (const uint8_t *)"as1", 3 } },
		{ kp_str_c("m2"), kp_str_c("inst"), kp_str_c("c2"), kp_str_c("/h"), 30000, 10000,
		  { (const uint8_t *)"sub", 3 }, { (const uint8_t *)"as2", 3 } },
	};
	struct grp_rec_group v = { kp_str_c("consumer"), 4, kp_str_c("range"), kp_str_c("m2"),
				   123, 2, m };
	struct kp_sync_group_response s;

	grp_load_group(th.c, kp_str_c("g"), &v);
	struct grp *g = grp_find(th.c, kp_str_c("g"));

	cr_assert_eq(g->state, GRP_STABLE);
	cr_assert_eq(g->generation, 4);
	cr_assert_str_eq(g->leader, "m2");
	cr_assert_eq(th_heartbeat(3, "g", 4, kp_str_c("m1"), NULL), KP_ERR_NONE);
	cr_assert_eq(th_heartbeat(3, "g", 4, kp_str_c("other"), "inst"),
		     KP_ERR_FENCED_INSTANCE_ID);
	cr_assert(th_sync_resp(th_sync(3, "g", 4, kp_str_c("m1"), 0, NULL, NULL), &s));
	cr_assert_eq(s.assignment.len, 3);
	cr_assert_eq(memcmp(s.assignment.ptr, "as1", 3), 0);
	/* m2 never heartbeats: its restored session expires. */
	th_advance_ms(6000);
	th_heartbeat(3, "g", 4, kp_str_c("m1"), NULL);
	th_advance_ms(4001);
	cr_assert_eq(g->member_count, 1);
	cr_assert_eq(g->state, GRP_PREPARING_REBALANCE);
	/* A tombstone removes it. */
	th_advance_ms(40000);
	grp_load_group(th.c, kp_str_c("g"), NULL);
	cr_assert_null(grp_find(th.c, kp_str_c("g")));
}

Test(grp_coord, commit_check_as_kafka)
{
	struct kp_str ids[1];
	int leader;
	struct kp_str none = { NULL, -1 };
	struct grp *fresh = grp_find_or_create(th.c, kp_str_c("fresh"));

	cr_assert_eq(grp_commit_check(th.c, fresh, -1, kp_str_c(""), none), KP_ERR_NONE);
	cr_assert_eq(grp_commit_check(th.c, fresh, 1, kp_str_c("m"), none),
		     KP_ERR_ILLEGAL_GENERATION);
	int32_t gen = th_stable("g", 1, ids, &leader);
	struct grp *g = grp_find(th.c, kp_str_c("g"));

	cr_assert_eq(grp_commit_check(th.c, g, gen, ids[0], none), KP_ERR_NONE);
	cr_assert_eq(grp_commit_check(th.c, g, gen + 1, ids[0], none),
		     KP_ERR_ILLEGAL_GENERATION);
	cr_assert_eq(grp_commit_check(th.c, g, gen, kp_str_c("x"), none),
		     KP_ERR_UNKNOWN_MEMBER_ID);
	cr_assert_eq(grp_commit_check(th.c, g, -1, kp_str_c(""), none),
		     KP_ERR_UNKNOWN_MEMBER_ID);
	cr_assert(!grp_is_empty(g));
	cr_assert_str_eq(grp_id(g), "g");
	cr_assert_null(*grp_offsets_slot(g));
}

static int metric_groups;

static void
count_group(void *arg, const struct grp_metrics_group *m)
{
	(void)arg;
	if (strcmp(m->group_id, "g") == 0) {
		cr_assert_str_eq(m->state, "Stable");
		cr_assert_eq(m->members, 2);
	}
	metric_groups++;
}

Test(grp_coord, metrics_one_call_per_group)
{
	struct kp_str ids[2];
	int leader;

	th_stable("g", 2, ids, &leader);
	grp_find_or_create(th.c, kp_str_c("other"));
	grp_coord_metrics(th.c, count_group, NULL, NULL);
	cr_assert_eq(metric_groups, 2);
}

Test(grp_coord, group_count_bounded)
{
	char id[32];
	int made = 0;

	for (int i = 0; i < GRP_GROUPS_MAX + 10; i++) {
		snprintf(id, sizeof(id), "g%d", i);
		if (grp_find_or_create(th.c, kp_str_c(id)) != NULL)
			made++;
	}
	cr_assert_eq(made, GRP_GROUPS_MAX);
	/* An empty group without offsets goes away when asked. */
	struct grp *g = grp_find(th.c, kp_str_c("g0"));

	grp_maybe_remove(th.c, g);
	cr_assert_null(grp_find(th.c, kp_str_c("g0")));
	cr_assert_not_null(grp_find_or_create(th.c, kp_str_c("again")));
}

Test(grp_coord, destroy_drops_parked_requests)
{
	struct kp_str id;

	th_join_new(5, "g", "a", &id);
	cr_assert_eq(th.parked, 1);
	grp_coord_destroy(th.c);
	th.c = grp_coord_create(NULL, &th.cfg);
	cr_assert_eq(th.parked, 0);
	cr_assert(th.replies[th.reply_count - 1].dropped);
}
