/* SPDX-License-Identifier: Apache-2.0 */
/* The coordinator in cluster mode (grp_coord_set_cluster,
 * grp_coord_partition_role), membership's side: roles reach the log; a
 * partition no longer led drops its groups as Kafka's onGroupUnloaded
 * (parked JoinGroup and SyncGroup answer NOT_COORDINATOR, the JoinGroup
 * naming the member; timers cancelled; an append completing afterwards
 * finds nothing), a stale resignation drops nothing; ListGroups hides the
 * groups of loading partitions and says COORDINATOR_LOAD_IN_PROGRESS;
 * without cluster mode roles change nothing. The log double puts every
 * group in partition 0. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "protocol/gen/kp_msg_list_groups.h"
#include "tests/unit/control/group/grp_harness.h"

static const char *const no_delay[] = { "group.initial.rebalance.delay.ms=0", NULL };

static void
setup(void)
{
	th_setup(no_delay);
}

TestSuite(grp_cluster, .init = setup, .fini = th_teardown);

static void
cluster(void)
{
	grp_coord_set_cluster(th.c, true);
	cr_assert(th.log_cluster);
	th.log_resign_count = 50;       /* __consumer_offsets' partitions */
}

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

Test(grp_cluster, roles_reach_the_log_only_in_cluster_mode)
{
	struct kp_str ids[1];
	int leader;

	th_stable("g", 1, ids, &leader);
	th.log_resign_count = 50;
	/* Single broker: no set_cluster, roles are not for us. */
	grp_coord_partition_role(th.c, 0, true, 1);
	grp_coord_partition_role(th.c, 0, false, 2);
	cr_assert_eq(th.log_leads, 0);
	cr_assert_not_null(grp_find(th.c, kp_str_c("g")));
	cluster();
	grp_coord_partition_role(th.c, 0, true, 3);
	cr_assert_eq(th.log_leads, 1);
	cr_assert_not_null(grp_find(th.c, kp_str_c("g")));
}

Test(grp_cluster, unload_answers_a_parked_join_not_coordinator)
{
	struct kp_join_group_response r;
	struct kp_str ids[1], id;
	int leader;

	cluster();
	th_stable("g", 1, ids, &leader);
	/* A second member starts a rebalance: its join waits for the first. */
	int32_t c = th_join_new(5, "g", "b", &id);

	cr_assert_not(th_join_resp(c, &r));
	cr_assert_neq(grp_coord_deadline(th.c), UINT64_MAX);
	grp_coord_partition_role(th.c, 0, false, 4);
	cr_assert(th_join_resp(c, &r));
	cr_assert_eq(r.error_code, KP_ERR_NOT_COORDINATOR);
	cr_assert(kp_str_eq(r.member_id, id), "Kafka's JoinGroupResult names the member");
	cr_assert_eq(r.generation_id, -1);
	cr_assert_null(grp_find(th.c, kp_str_c("g")));
	cr_assert_eq(grp_coord_deadline(th.c), UINT64_MAX, "its timers went with it");
	th_advance_ms(600000);  /* nothing left to fire */
}

Test(grp_cluster, unload_answers_parked_syncs_and_a_late_store_finds_nothing)
{
	struct kp_sync_group_response s;
	struct kp_str ids[2];
	int leader = -1;
	const char *assign[2] = { "to-0", "to-1" };

	cluster();
	int32_t gen = joined(ids, &leader);
	int32_t cf = th_sync(5, "g", gen, ids[1 - leader], 0, NULL, NULL);
	int32_t cl = th_sync(5, "g", gen, ids[leader], 2, ids, assign);

	cr_assert_eq(th.batch_count, 1, "the group is being stored");
	cr_assert_not(th_sync_resp(cf, &s));
	grp_coord_partition_role(th.c, 0, false, 4);
	cr_assert(th_sync_resp(cf, &s));
	cr_assert_eq(s.error_code, KP_ERR_NOT_COORDINATOR);
	cr_assert(th_sync_resp(cl, &s));
	cr_assert_eq(s.error_code, KP_ERR_NOT_COORDINATOR);
	int replies = th.reply_count;

	/* The append of the unloaded group completes: nobody to answer. */
	th_log_complete(KP_ERR_NOT_COORDINATOR);
	cr_assert_eq(th.reply_count, replies);
	cr_assert_null(grp_find(th.c, kp_str_c("g")));
	/* Requests for it from now on: the log says NOT_COORDINATOR. */
	th.log_ready_error = KP_ERR_NOT_COORDINATOR;
	cr_assert_eq(th_heartbeat(3, "g", gen, ids[0], NULL), KP_ERR_NOT_COORDINATOR);
	cr_assert_null(grp_find(th.c, kp_str_c("g")));
}

Test(grp_cluster, a_stale_or_unowned_resignation_drops_nothing)
{
	struct kp_str ids[1];
	int leader;

	cluster();
	int32_t gen = th_stable("g", 1, ids, &leader);

	th.log_resign_count = -1;       /* the log: not ours, or an old epoch */
	grp_coord_partition_role(th.c, 0, false, 1);
	cr_assert_not_null(grp_find(th.c, kp_str_c("g")));
	cr_assert_eq(th_heartbeat(3, "g", gen, ids[0], NULL), KP_ERR_NONE);
}

static int16_t
list_groups(int32_t *count)
{
	struct kp_list_groups_request req;
	struct kp_list_groups_response resp;
	struct kp_writer w;

	kp_list_groups_request_init(&req);
	kp_writer_init(&w, 64);
	kp_list_groups_request_encode(&w, 4, &req);
	const struct th_reply *r = th_reply(th_send(KP_API_LIST_GROUPS, 4, &w));

	kp_writer_free(&w);
	cr_assert_not_null(r);
	struct kp_cursor c = kp_cursor_make(r->data, r->len);

	cr_assert_eq(kp_list_groups_response_decode(&c, 4, &resp), 0);
	*count = resp.groups.count;
	return resp.error_code;
}

Test(grp_cluster, list_groups_waits_for_loading_partitions)
{
	struct kp_str ids[1];
	int leader;
	int32_t n;

	cluster();
	th_stable("g", 1, ids, &leader);
	cr_assert_eq(list_groups(&n), KP_ERR_NONE);
	cr_assert_eq(n, 1);
	th.log_ready_error = KP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
	cr_assert_eq(list_groups(&n), KP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
	cr_assert_eq(n, 0, "a loading partition's groups are not listed yet");
}
