/* SPDX-License-Identifier: Apache-2.0 */
/* JoinGroup (control/group/grp_join.c with grp_member.c): requests go
 * through grp_coord_handle() encoded with the generated codec; parked
 * answers are recorded by fake_park.c and decoded. Time is a fake clock
 * advanced by the tests, which tick the coordinator. */
#include <criterion/criterion.h>
#include <string.h>

#include "tests/unit/control/group/grp_harness.h"

static const char *const no_delay[] = { "group.initial.rebalance.delay.ms=0", NULL };

static void
setup(void)
{
	th_setup(no_delay);
}

TestSuite(grp_join, .init = setup, .fini = th_teardown);

Test(grp_join, three_members_one_leader_generation_one)
{
	struct kp_str id[3];
	int32_t corr[3];
	struct kp_join_group_response r[3];

	for (int i = 0; i < 3; i++)
		corr[i] = th_join_new(5, "g", i == 0 ? "a" : i == 1 ? "b" : "c", &id[i]);
	for (int i = 0; i < 3; i++)
		cr_assert_not(th_join_resp(corr[i], &r[i]), "answered before the rebalance");
	th_advance_ms(1);
	th_advance_ms(1);
	int leaders = 0;

	for (int i = 0; i < 3; i++) {
		cr_assert(th_join_resp(corr[i], &r[i]));
		cr_assert_eq(r[i].error_code, KP_ERR_NONE);
		cr_assert_eq(r[i].generation_id, 1);
		cr_assert(kp_str_eq(r[i].protocol_name, kp_str_c("p0")));
		cr_assert(kp_str_eq(r[i].leader, r[0].leader));
		if (kp_str_eq(r[i].leader, r[i].member_id)) {
			leaders++;
			cr_assert_eq(r[i].members.count, 3);
		} else {
			cr_assert_eq(r[i].members.count, 0);
		}
	}
	cr_assert_eq(leaders, 1);
	cr_assert_eq(th.parked, 0);
}

Test(grp_join, member_id_required_from_v4)
{
	struct kp_join_group_response r;
	int32_t corr = th_join(4, "g", "", NULL, "cli", 1);

	cr_assert(th_join_resp(corr, &r));
	cr_assert_eq(r.error_code, KP_ERR_MEMBER_ID_REQUIRED);
	cr_assert_eq(r.generation_id, -1);
	cr_assert(r.member_id.len > 4 && memcmp(r.member_id.ptr, "cli-", 4) == 0);
	/* Version 3 has no such step: the join parks at once. */
	corr = th_join(3, "g3", "", NULL, "cli", 1);
	cr_assert_null(th_reply(corr));
	th_advance_ms(1);
	cr_assert(th_join_resp(corr, &r));
	cr_assert_eq(r.error_code, KP_ERR_NONE);
	cr_assert_eq(r.generation_id, 1);
}

Test(grp_join, pending_member_holds_the_rebalance_until_it_expires)
{
	struct kp_join_group_response r;
	struct kp_str ids[1];
	int leader;
	char buf[128];
	int32_t gen = th_stable("g", 1, ids, &leader);

	/* A new member gets its id but never comes back with it. */
	cr_assert(th_join_resp(th_join(5, "g", "", NULL, "x", 1), &r));
	cr_assert_eq(r.error_code, KP_ERR_MEMBER_ID_REQUIRED);
	snprintf(buf, sizeof(buf), "%.*s", (int)ids[0].len, ids[0].ptr);
	int32_t corr = th_join(5, "g", buf, NULL, "c0", 1);

	th_advance_ms(1);
	cr_assert_not(th_join_resp(corr, &r), "pending member ignored");
	th_advance_ms(10000);
	cr_assert(th_join_resp(corr, &r));
	cr_assert_eq(r.error_code, KP_ERR_NONE);
	cr_assert_eq(r.generation_id, gen + 1);
	cr_assert_eq(r.members.count, 1);
}

Test(grp_join, errors_before_membership)
{
	struct kp_join_group_response r;

	cr_assert(th_join_resp(th_join(5, "nogroup", "someone", NULL, "c", 1), &r));
	cr_assert_eq(r.error_code, KP_ERR_UNKNOWN_MEMBER_ID);
	cr_assert(th_join_resp(th_join(5, "", "", NULL, "c", 1), &r));
	cr_assert_eq(r.error_code, KP_ERR_INVALID_GROUP_ID);
	th.join_session_ms = 1000;      /* below group.min.session.timeout.ms */
	cr_assert(th_join_resp(th_join(5, "g", "", NULL, "c", 1), &r));
	cr_assert_eq(r.error_code, KP_ERR_INVALID_SESSION_TIMEOUT);
	th.join_session_ms = 0;
	th.log_ready_error = KP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
	cr_assert(th_join_resp(th_join(5, "g", "", NULL, "c", 1), &r));
	cr_assert_eq(r.error_code, KP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
}

Test(grp_join, inconsistent_protocol_type)
{
	struct kp_join_group_response r;
	struct kp_str id;

	th_join_new(5, "g", "a", &id);
	th.join_protocol_type = "connect";
	cr_assert(th_join_resp(th_join(5, "g", "", NULL, "b", 1), &r));
	cr_assert_eq(r.error_code, KP_ERR_INCONSISTENT_GROUP_PROTOCOL);
}

Test(grp_join, protocol_chosen_by_vote)
{
	struct kp_str ids[2];
	int leader;

	/* Both support p0 and p1, both prefer p0 (th_join's order). */
	(void)th_stable("g", 2, ids, &leader);
	struct grp *g = grp_find(th.c, kp_str_c("g"));

	cr_assert_str_eq(g->protocol, "p0");
	cr_assert_eq(g->state, GRP_STABLE);
}

Test(grp_join, initial_rebalance_delay)
{
	static const char *const delay[] = { "group.initial.rebalance.delay.ms=3000", NULL };
	struct kp_join_group_response r;
	struct kp_str a, b;

	th_teardown();
	th_setup(delay);
	int32_t ca = th_join_new(5, "g", "a", &a);

	th_advance_ms(2000);
	cr_assert_not(th_join_resp(ca, &r));
	int32_t cb = th_join_new(5, "g", "b", &b);

	th_advance_ms(1000);    /* the delay ends, but b arrived: extended */
	cr_assert_not(th_join_resp(ca, &r));
	th_advance_ms(2999);
	cr_assert_not(th_join_resp(ca, &r));
	th_advance_ms(1);
	cr_assert(th_join_resp(ca, &r));
	cr_assert_eq(r.generation_id, 1);
	cr_assert(th_join_resp(cb, &r));
	cr_assert_eq(r.error_code, KP_ERR_NONE);
}

Test(grp_join, group_max_size)
{
	static const char *const small[] = { "group.initial.rebalance.delay.ms=0",
					     "group.max.size=2", NULL };
	struct kp_join_group_response r;
	struct kp_str a, b, c;

	th_teardown();
	th_setup(small);
	th_join_new(5, "g", "a", &a);
	th_join_new(5, "g", "b", &b);
	/* Kafka checks the size before handing out a member id. */
	cr_assert(th_join_resp(th_join(5, "g", "", NULL, "c", 1), &r));
	cr_assert_eq(r.error_code, KP_ERR_GROUP_MAX_SIZE_REACHED);
	cr_assert_eq(grp_find(th.c, kp_str_c("g"))->member_count, 2);
	(void)c;
}

static int32_t
join_raw(int32_t protos, int32_t meta_bytes)
{
	struct kp_join_group_request r;
	static struct kp_join_group_request_join_group_request_protocol p[80];
	static char names[80][8];
	uint8_t *meta = calloc(1, (size_t)meta_bytes + 1);
	struct kp_writer w;

	kp_join_group_request_init(&r);
	r.group_id = kp_str_c("g");
	r.session_timeout_ms = 10000;
	r.rebalance_timeout_ms = 10000;
	r.member_id = kp_str_c("");
	r.protocol_type = kp_str_c("consumer");
	for (int32_t i = 0; i < protos; i++) {
		kp_join_group_request_join_group_request_protocol_init(&p[i]);
		snprintf(names[i], sizeof(names[i]), "p%d", (int)i);
		p[i].name = kp_str_c(names[i]);
		p[i].metadata = (struct kp_bytes){ meta, meta_bytes };
	}
	r.protocols.count = protos;
	r.protocols.items = p;
	kp_writer_init(&w, 128);
	kp_join_group_request_encode(&w, 3, &r);
	int32_t corr = th_send(KP_API_JOIN_GROUP, 3, &w);

	kp_writer_free(&w);
	free(meta);
	return corr;
}

Test(grp_join, bounds_on_protocols_and_metadata)
{
	struct kp_join_group_response r;

	cr_assert(th_join_resp(join_raw(GRP_PROTOCOLS_MAX + 1, 1), &r));
	cr_assert_eq(r.error_code, KP_ERR_INCONSISTENT_GROUP_PROTOCOL);
	cr_assert(th_join_resp(join_raw(1, GRP_METADATA_BYTES_MAX + 1), &r));
	cr_assert_eq(r.error_code, KP_ERR_INCONSISTENT_GROUP_PROTOCOL);
	/* At the bounds: accepted (parked for the rebalance). */
	cr_assert_null(th_reply(join_raw(GRP_PROTOCOLS_MAX, 1)));
	cr_assert_eq(th.parked, 1);
}

Test(grp_join, static_member_rejoins_without_rebalance_and_fences_old_id)
{
	struct kp_join_group_response r;
	struct kp_sync_group_response s;
	const char *assign[1] = { "a0" };

	/* A static member needs no MEMBER_ID_REQUIRED round. */
	int32_t corr = th_join(5, "g", "", "inst-1", "s", 1);

	cr_assert_null(th_reply(corr));
	th_advance_ms(1);
	cr_assert(th_join_resp(corr, &r));
	cr_assert_eq(r.error_code, KP_ERR_NONE);
	struct kp_str old = r.member_id;

	th_sync(5, "g", 1, old, 1, &old, assign);
	th_log_complete(KP_ERR_NONE);
	int recs = th.group_rec_count;

	/* Restarted: same instance, no member id. */
	corr = th_join(5, "g", "", "inst-1", "s", 1);
	cr_assert_null(th_reply(corr), "answered before the group was stored");
	cr_assert_eq(th.group_rec_count, recs + 1);
	th_log_complete(KP_ERR_NONE);
	cr_assert(th_join_resp(corr, &r));
	cr_assert_eq(r.error_code, KP_ERR_NONE);
	cr_assert_eq(r.generation_id, 1, "no rebalance");
	cr_assert_not(kp_str_eq(r.member_id, old));
	cr_assert(kp_str_eq(r.leader, old), "v5: the old leader id, so it does not assign");
	struct grp *g = grp_find(th.c, kp_str_c("g"));

	cr_assert_eq(g->state, GRP_STABLE);
	cr_assert_eq(th_heartbeat(3, "g", 1, old, "inst-1"), KP_ERR_FENCED_INSTANCE_ID);
	cr_assert_eq(th_heartbeat(3, "g", 1, r.member_id, "inst-1"), KP_ERR_NONE);
	cr_assert(th_sync_resp(th_sync(5, "g", 1, r.member_id, 0, NULL, NULL), &s));
	cr_assert_eq(s.error_code, KP_ERR_NONE);
	cr_assert_eq(s.assignment.len, 2, "kept its assignment");
}

Test(grp_join, static_leader_v9_told_to_skip_assignment)
{
	struct kp_join_group_response r;
	int32_t corr = th_join(9, "g", "", "inst-1", "s", 1);

	th_advance_ms(1);
	cr_assert(th_join_resp(corr, &r));
	struct kp_str old = r.member_id;

	th_sync(5, "g", 1, old, 1, &old, (const char *const[]){ "a0" });
	th_log_complete(KP_ERR_NONE);
	corr = th_join(9, "g", "", "inst-1", "s", 1);
	th_log_complete(KP_ERR_NONE);
	cr_assert(th_join_resp(corr, &r));
	cr_assert_eq(r.generation_id, 1);
	cr_assert(r.skip_assignment);
	cr_assert(kp_str_eq(r.leader, r.member_id));
	cr_assert_eq(r.members.count, 1);
}

Test(grp_join, leader_rejoin_in_stable_rebalances)
{
	struct kp_str ids[2];
	struct kp_join_group_response r;
	int leader;
	char buf[128];
	int32_t gen = th_stable("g", 2, ids, &leader);

	snprintf(buf, sizeof(buf), "%.*s", (int)ids[leader].len, ids[leader].ptr);
	int32_t corr = th_join(5, "g", buf, NULL, th.client_names[leader], 1);

	cr_assert_null(th_reply(corr));
	cr_assert_eq(th_heartbeat(3, "g", gen, ids[1 - leader], NULL),
		     KP_ERR_REBALANCE_IN_PROGRESS);
	snprintf(buf, sizeof(buf), "%.*s", (int)ids[1 - leader].len, ids[1 - leader].ptr);
	int32_t c2 = th_join(5, "g", buf, NULL, th.client_names[1 - leader], 1);

	cr_assert(th_join_resp(corr, &r), "all rejoined: completes at once");
	cr_assert_eq(r.generation_id, gen + 1);
	cr_assert(th_join_resp(c2, &r));
	cr_assert_eq(r.generation_id, gen + 1);
}
