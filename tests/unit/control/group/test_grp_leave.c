/* SPDX-License-Identifier: Apache-2.0 */
/* LeaveGroup (control/group/grp_leave.c): by member id (v0-2), in batches
 * with per-member errors and by group.instance.id (v3+). */
#include <criterion/criterion.h>
#include <stdio.h>

#include "protocol/gen/kp_msg_leave_group.h"
#include "tests/unit/control/group/grp_harness.h"

static const char *const no_delay[] = { "group.initial.rebalance.delay.ms=0", NULL };

static void
setup(void)
{
	th_setup(no_delay);
}

TestSuite(grp_leave, .init = setup, .fini = th_teardown);

Test(grp_leave, leave_triggers_rebalance)
{
	struct kp_str ids[2];
	struct kp_join_group_response r;
	int leader;
	char buf[128];
	int32_t gen = th_stable("g", 2, ids, &leader);

	cr_assert_eq(th_leave(3, "g", ids[1]), KP_ERR_NONE);
	cr_assert_eq(th_heartbeat(3, "g", gen, ids[0], NULL), KP_ERR_REBALANCE_IN_PROGRESS);
	snprintf(buf, sizeof(buf), "%.*s", (int)ids[0].len, ids[0].ptr);
	cr_assert(th_join_resp(th_join(5, "g", buf, NULL, th.client_names[0], 1), &r));
	cr_assert_eq(r.generation_id, gen + 1);
	cr_assert_eq(r.members.count, 1);
	cr_assert(kp_str_eq(r.leader, ids[0]));
}

Test(grp_leave, last_member_leaves_group_empty_and_stored)
{
	struct kp_str ids[1];
	int leader;

	th_stable("g", 1, ids, &leader);
	int recs = th.group_rec_count;

	cr_assert_eq(th_leave(0, "g", ids[0]), KP_ERR_NONE);
	struct grp *g = grp_find(th.c, kp_str_c("g"));

	cr_assert_eq(g->state, GRP_EMPTY);
	cr_assert_eq(th.group_rec_count, recs + 1, "Empty group persisted");
	cr_assert_eq(th.group_recs[recs].member_count, 0);
}

Test(grp_leave, unknown_members_and_groups)
{
	struct kp_str ids[1];
	int leader;

	th_stable("g", 1, ids, &leader);
	cr_assert_eq(th_leave(1, "g", kp_str_c("nobody")), KP_ERR_UNKNOWN_MEMBER_ID);
	cr_assert_eq(th_leave(4, "g", kp_str_c("nobody")), KP_ERR_UNKNOWN_MEMBER_ID);
	cr_assert_eq(th_leave(4, "nogroup", ids[0]), KP_ERR_UNKNOWN_MEMBER_ID);
	cr_assert_eq(th_leave(2, "", ids[0]), KP_ERR_INVALID_GROUP_ID);
}

Test(grp_leave, batch_by_instance_id_with_fencing)
{
	struct kp_join_group_response r;
	struct kp_leave_group_request req;
	struct kp_leave_group_request_member_identity mi[3];
	struct kp_leave_group_response resp;
	struct kp_writer w;
	int32_t corr = th_join(5, "g", "", "inst", "s", 1);

	th_advance_ms(1);
	cr_assert(th_join_resp(corr, &r));
	kp_leave_group_request_init(&req);
	req.group_id = kp_str_c("g");
	for (int i = 0; i < 3; i++)
		kp_leave_group_request_member_identity_init(&mi[i]);
	mi[0].member_id = kp_str_c("stale-id");
	mi[0].group_instance_id = kp_str_c("inst");
	mi[1].member_id = kp_str_c("");
	mi[1].group_instance_id = kp_str_c("unknown-inst");
	mi[2].member_id = kp_str_c("");
	mi[2].group_instance_id = kp_str_c("inst");
	req.members.count = 3;
	req.members.items = mi;
	kp_writer_init(&w, 64);
	kp_leave_group_request_encode(&w, 5, &req);
	const struct th_reply *rep = th_reply(th_send(KP_API_LEAVE_GROUP, 5, &w));

	kp_writer_free(&w);
	struct kp_cursor c = kp_cursor_make(rep->data, rep->len);

	cr_assert_eq(kp_leave_group_response_decode(&c, 5, &resp), 0);
	cr_assert_eq(resp.error_code, KP_ERR_NONE);
	cr_assert_eq(resp.members.count, 3);
	struct kp_cursor it = kp_array_cursor(&resp.members);
	int16_t want[3] = { KP_ERR_FENCED_INSTANCE_ID, KP_ERR_UNKNOWN_MEMBER_ID, KP_ERR_NONE };

	for (int i = 0; i < 3; i++) {
		struct kp_leave_group_response_member_response mr;

		cr_assert_eq(kp_leave_group_response_member_response_decode(&it, 5, &mr), 0);
		cr_assert_eq(mr.error_code, want[i], "member %d", i);
	}
	cr_assert_eq(grp_find(th.c, kp_str_c("g"))->member_count, 0);
}
