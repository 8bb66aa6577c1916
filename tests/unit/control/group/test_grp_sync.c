/* SPDX-License-Identifier: Apache-2.0 */
/* SyncGroup (control/group/grp_sync.c): the leader's assignment reaches
 * every member only once the group record is durable (the fake log holds
 * completions until th_log_complete), and the checks Kafka makes first. */
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

TestSuite(grp_sync, .init = setup, .fini = th_teardown);

/* Two members through the join; returns the generation. */
static int32_t
joined(struct kp_str *ids, int *leader)
{
	struct kp_join_group_response r;
	int32_t c[2];
	struct kp_str tmp;

	c[0] = th_join_new(5, "g", "a", &tmp);
	c[1] = th_join_new(5, "g", "b", &tmp);
	th_advance_ms(1);
	th_advance_ms(1);
	for (int i = 0; i < 2; i++) {
		cr_assert(th_join_resp(c[i], &r));
		ids[i] = r.member_id;
		if (kp_str_eq(r.leader, r.member_id))
			*leader = i;
	}
	return r.generation_id;
}

Test(grp_sync, distributes_assignments_after_the_group_is_stored)
{
	struct kp_str ids[2];
	int leader = -1;
	int32_t gen = joined(ids, &leader);
	const char *assign[2] = { "to-0", "to-1!" };
	struct kp_sync_group_response s;

	int32_t cf = th_sync(5, "g", gen, ids[1 - leader], 0, NULL, NULL);

	cr_assert_null(th_reply(cf), "follower waits for the leader");
	int32_t cl = th_sync(5, "g", gen, ids[leader], 2, ids, assign);

	cr_assert_null(th_reply(cl), "nobody answered before the record is durable");
	cr_assert_eq(th.group_rec_count, 1);
	cr_assert_eq(th.group_recs[0].generation, gen);
	cr_assert_eq(th.group_recs[0].member_count, 2);
	th_log_complete(KP_ERR_NONE);
	cr_assert(th_sync_resp(cl, &s));
	cr_assert_eq(s.error_code, KP_ERR_NONE);
	cr_assert(s.assignment.len == (int32_t)strlen(assign[leader]) &&
		  memcmp(s.assignment.ptr, assign[leader], (size_t)s.assignment.len) == 0);
	cr_assert(kp_str_eq(s.protocol_name, kp_str_c("p0")));
	cr_assert(th_sync_resp(cf, &s));
	cr_assert_eq(s.error_code, KP_ERR_NONE);
	cr_assert(s.assignment.len == (int32_t)strlen(assign[1 - leader]) &&
		  memcmp(s.assignment.ptr, assign[1 - leader], (size_t)s.assignment.len) == 0);
	cr_assert_eq(grp_find(th.c, kp_str_c("g"))->state, GRP_STABLE);
	/* Stable: answered at once with the same assignment. */
	cr_assert(th_sync_resp(th_sync(3, "g", gen, ids[1 - leader], 0, NULL, NULL), &s));
	cr_assert_eq(s.error_code, KP_ERR_NONE);
	cr_assert_eq(s.assignment.len, (int32_t)strlen(assign[1 - leader]));
}

Test(grp_sync, stale_generation_and_unknown_member)
{
	struct kp_str ids[2];
	int leader = -1;
	int32_t gen = joined(ids, &leader);
	struct kp_sync_group_response s;

	cr_assert(th_sync_resp(th_sync(5, "g", gen - 1, ids[0], 0, NULL, NULL), &s));
	cr_assert_eq(s.error_code, KP_ERR_ILLEGAL_GENERATION);
	cr_assert(th_sync_resp(th_sync(5, "g", gen, kp_str_c("nobody"), 0, NULL, NULL), &s));
	cr_assert_eq(s.error_code, KP_ERR_UNKNOWN_MEMBER_ID);
	cr_assert(th_sync_resp(th_sync(5, "other", gen, ids[0], 0, NULL, NULL), &s));
	cr_assert_eq(s.error_code, KP_ERR_UNKNOWN_MEMBER_ID);
	cr_assert_eq(th_heartbeat(3, "g", gen + 1, ids[0], NULL), KP_ERR_ILLEGAL_GENERATION);
}

/* v5 made ProtocolType and ProtocolName mandatory: Kafka refuses a null
 * one with INCONSISTENT_GROUP_PROTOCOL before looking at the group (even
 * an unknown one); v4 has neither field. */
Test(grp_sync, v5_needs_protocol_type_and_name)
{
	struct kp_str ids[2];
	int leader = -1;
	int32_t gen = joined(ids, &leader);
	struct kp_sync_group_response s;

	th.sync_null_protocol = true;
	cr_assert(th_sync_resp(th_sync(5, "other", gen, ids[0], 0, NULL, NULL), &s));
	cr_assert_eq(s.error_code, KP_ERR_INCONSISTENT_GROUP_PROTOCOL);
	cr_assert(th_sync_resp(th_sync(5, "g", gen, ids[0], 0, NULL, NULL), &s));
	cr_assert_eq(s.error_code, KP_ERR_INCONSISTENT_GROUP_PROTOCOL);
	cr_assert(th_sync_resp(th_sync(4, "other", gen, ids[0], 0, NULL, NULL), &s));
	cr_assert_eq(s.error_code, KP_ERR_UNKNOWN_MEMBER_ID);
}

Test(grp_sync, store_failure_answers_everyone_and_rebalances)
{
	struct kp_str ids[2];
	int leader = -1;
	int32_t gen = joined(ids, &leader);
	const char *assign[2] = { "x", "y" };
	struct kp_sync_group_response s;
	int32_t cf = th_sync(5, "g", gen, ids[1 - leader], 0, NULL, NULL);
	int32_t cl = th_sync(5, "g", gen, ids[leader], 2, ids, assign);

	th_log_complete(KP_ERR_NOT_ENOUGH_REPLICAS);
	cr_assert(th_sync_resp(cl, &s));
	cr_assert_eq(s.error_code, KP_ERR_COORDINATOR_NOT_AVAILABLE);
	cr_assert(th_sync_resp(cf, &s));
	cr_assert_eq(s.error_code, KP_ERR_COORDINATOR_NOT_AVAILABLE);
	cr_assert_eq(th_heartbeat(3, "g", gen, ids[0], NULL), KP_ERR_REBALANCE_IN_PROGRESS);
}

Test(grp_sync, member_that_never_syncs_is_removed)
{
	struct kp_str ids[2];
	int leader = -1;
	int32_t gen = joined(ids, &leader);
	const char *assign[2] = { "x", "y" };

	th_sync(5, "g", gen, ids[leader], 2, ids, assign);
	th_log_complete(KP_ERR_NONE);
	/* The follower keeps heartbeating but never syncs (rebalance timeout
	 * 30 s): Kafka 3.x removes it and rebalances. */
	for (int i = 0; i < 7; i++) {
		th_advance_ms(5000);
		th_heartbeat(3, "g", gen, ids[1 - leader], NULL);
		th_heartbeat(3, "g", gen, ids[leader], NULL);
	}
	struct grp *g = grp_find(th.c, kp_str_c("g"));

	cr_assert_eq(g->member_count, 1);
	cr_assert_eq(g->state, GRP_PREPARING_REBALANCE);
}

Test(grp_sync, oversized_assignment_refused)
{
	struct kp_str ids[2];
	int leader = -1;
	int32_t gen = joined(ids, &leader);
	static char big[GRP_ASSIGNMENT_BYTES_MAX + 2];
	const char *assign[2] = { big, "y" };
	struct kp_sync_group_response s;

	memset(big, 'z', sizeof(big) - 1);
	cr_assert(th_sync_resp(th_sync(5, "g", gen, ids[leader], 2, ids, assign), &s));
	cr_assert_eq(s.error_code, KP_ERR_UNKNOWN_SERVER_ERROR);
	cr_assert_eq(th.group_rec_count, 0);
}
