/* SPDX-License-Identifier: Apache-2.0 */
/* Heartbeat (control/group/grp_heartbeat.c) and session expiry
 * (grp_member.c timers) on the fake clock. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "tests/unit/control/group/grp_harness.h"

static const char *const no_delay[] = { "group.initial.rebalance.delay.ms=0", NULL };

static void
setup(void)
{
	th_setup(no_delay);
}

TestSuite(grp_heartbeat, .init = setup, .fini = th_teardown);

Test(grp_heartbeat, rebalance_in_progress_while_rebalancing)
{
	struct kp_str ids[2], id;
	int leader;
	int32_t gen = th_stable("g", 2, ids, &leader);

	cr_assert_eq(th_heartbeat(0, "g", gen, ids[0], NULL), KP_ERR_NONE);
	th_join_new(5, "g", "newcomer", &id);
	cr_assert_eq(th_heartbeat(4, "g", gen, ids[0], NULL), KP_ERR_REBALANCE_IN_PROGRESS);
	cr_assert_eq(th_heartbeat(4, "g", gen, kp_str_c("nobody"), NULL),
		     KP_ERR_UNKNOWN_MEMBER_ID);
	cr_assert_eq(th_heartbeat(4, "nogroup", gen, ids[0], NULL), KP_ERR_UNKNOWN_MEMBER_ID);
	cr_assert_eq(th_heartbeat(4, "", gen, ids[0], NULL), KP_ERR_INVALID_GROUP_ID);
}

Test(grp_heartbeat, session_expiry_removes_member_and_rebalances)
{
	struct kp_str ids[2];
	struct kp_join_group_response r;
	int leader;
	char buf[128];
	int32_t gen = th_stable("g", 2, ids, &leader);

	/* Member 0 heartbeats, member 1 goes silent (session 10 s). */
	for (int i = 0; i < 2; i++) {
		th_advance_ms(4000);
		cr_assert_eq(th_heartbeat(3, "g", gen, ids[0], NULL), KP_ERR_NONE);
	}
	cr_assert_eq(grp_find(th.c, kp_str_c("g"))->member_count, 2);
	th_advance_ms(2001);
	struct grp *g = grp_find(th.c, kp_str_c("g"));

	cr_assert_eq(g->member_count, 1);
	cr_assert_eq(th_heartbeat(3, "g", gen, ids[0], NULL), KP_ERR_REBALANCE_IN_PROGRESS);
	snprintf(buf, sizeof(buf), "%.*s", (int)ids[0].len, ids[0].ptr);
	int32_t corr = th_join(5, "g", buf, NULL, th.client_names[0], 1);

	cr_assert(th_join_resp(corr, &r), "the only member rejoined: done");
	cr_assert_eq(r.generation_id, gen + 1);
	cr_assert_eq(r.members.count, 1);
	cr_assert_eq(th_heartbeat(3, "g", gen, ids[1], NULL), KP_ERR_UNKNOWN_MEMBER_ID);
}

Test(grp_heartbeat, rebalance_timeout_drops_members_that_do_not_rejoin)
{
	struct kp_str ids[2];
	struct kp_join_group_response r;
	int leader;
	char buf[128];
	int32_t gen = th_stable("g", 2, ids, &leader);

	snprintf(buf, sizeof(buf), "%.*s", (int)ids[0].len, ids[0].ptr);
	int32_t corr = th_join(5, "g", buf, NULL, "other-metadata", 1);

	/* Member 1 heartbeats (so its session lives) but never rejoins. */
	for (int i = 0; i < 5; i++) {
		th_advance_ms(5000);
		cr_assert_eq(th_heartbeat(3, "g", gen, ids[1], NULL),
			     KP_ERR_REBALANCE_IN_PROGRESS);
		cr_assert_not(th_join_resp(corr, &r));
	}
	th_advance_ms(5000);
	cr_assert(th_join_resp(corr, &r));
	cr_assert_eq(r.error_code, KP_ERR_NONE);
	cr_assert_eq(r.members.count, 1);
	cr_assert_eq(grp_find(th.c, kp_str_c("g"))->member_count, 1);
}

Test(grp_heartbeat, deadline_follows_the_earliest_session)
{
	struct kp_str ids[1];
	int leader;

	cr_assert_eq(grp_coord_deadline(th.c), UINT64_MAX);
	th_stable("g", 1, ids, &leader);
	uint64_t d = grp_coord_deadline(th.c);

	cr_assert(d > th.now_ns && d <= th.now_ns + 30000ull * 1000000ull);
}
