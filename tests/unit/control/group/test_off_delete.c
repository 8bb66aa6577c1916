/* SPDX-License-Identifier: Apache-2.0 */
/* OffsetDelete and DeleteGroups' offsets part (control/group/off_delete.c)
 * with the real membership over a fake log: deleted offsets read back -1
 * and get tombstones, a consumer group's subscribed topics are refused,
 * unknown groups and topics, a commit in flight for a deleted partition
 * stays deleted, and a group emptied of offsets goes. */
#include <criterion/criterion.h>

#include "control/group/off_int.h"
#include "protocol/gen/kp_msg_delete_groups.h"
#include "tests/unit/control/group/fake_log.h"

static const char *const cfg[] = { "group.initial.rebalance.delay.ms=0", NULL };

static void
setup(void)
{
	ot_setup(cfg);
}

TestSuite(off_delete, .init = setup, .fini = th_teardown);

static const struct ot_part parts[] = {
	{ "t0", 0, 10, "" }, { "t0", 1, 11, "" }, { "t1", 0, 12, "" },
};

Test(off_delete, delete_simple_group_offsets)
{
	int16_t perr, err;

	ot_commit(9, "g", -1, NULL, 3, parts);
	th_log_complete(KP_ERR_NONE);
	cr_assert_eq(ot_delete("g", "t0", 0, &perr), KP_ERR_NONE);
	cr_assert_eq(perr, KP_ERR_NONE);
	cr_assert_eq(ot_fetch(9, "g", "t0", 0, false, &err), -1);
	cr_assert_eq(ot_fetch(9, "g", "t0", 1, false, &err), 11);
	cr_assert_eq(ot.tombstones, 1);
	cr_assert(ot.recs[3].tombstone && ot.recs[3].partition == 0);
	cr_assert_eq(ot_delete("g", "nosuch", 0, &perr), KP_ERR_NONE);
	cr_assert_eq(perr, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	cr_assert_eq(ot_delete("none", "t0", 0, &perr), KP_ERR_GROUP_ID_NOT_FOUND);
	cr_assert_eq(ot_delete("", "t0", 0, &perr), KP_ERR_INVALID_GROUP_ID);
	/* The last offsets of a simple group: the group goes, tombstoned. */
	cr_assert_eq(ot_delete("g", "t0", 1, &perr), KP_ERR_NONE);
	cr_assert_eq(ot_delete("g", "t1", 0, &perr), KP_ERR_NONE);
	cr_assert_null(grp_find(th.c, kp_str_c("g")));
	cr_assert_eq(ot.group_tombstones, 1);
	cr_assert_eq(off_total_count(), 0);
}

Test(off_delete, subscribed_topic_refused)
{
	struct kp_str id;
	int16_t perr, err;
	char mid[128];
	int32_t gen = ot_consumer_group("cg", "t0", &id);

	snprintf(mid, sizeof(mid), "%.*s", (int)id.len, id.ptr);
	ot_commit(9, "cg", gen, mid, 3, parts);
	th_log_complete(KP_ERR_NONE);
	cr_assert_eq(ot_delete("cg", "t0", 0, &perr), KP_ERR_NONE);
	cr_assert_eq(perr, KP_ERR_GROUP_SUBSCRIBED_TO_TOPIC);
	cr_assert_eq(ot_delete("cg", "t1", 0, &perr), KP_ERR_NONE);
	cr_assert_eq(perr, KP_ERR_NONE);
	cr_assert_eq(ot_fetch(9, "cg", "t0", 0, false, &err), 10);
	cr_assert_eq(ot_fetch(9, "cg", "t1", 0, false, &err), -1);
	cr_assert(grp_subscribes_to(grp_find(th.c, kp_str_c("cg")), kp_str_c("t0")));
	cr_assert_not(grp_subscribes_to(grp_find(th.c, kp_str_c("cg")), kp_str_c("t1")));
}

Test(off_delete, pending_commit_of_deleted_partition_stays_deleted)
{
	int16_t perr, err;

	ot_commit(9, "g", -1, NULL, 3, parts);
	th_log_complete(KP_ERR_NONE);
	struct ot_part p = { "t0", 0, 99, "" };

	ot_commit(9, "g", -1, NULL, 1, &p);     /* held by the log */
	/* ot_delete completes every held batch: the commit's first. Hold it
	 * differently: delete while it is pending by hand. */
	struct grp *g = grp_find(th.c, kp_str_c("g"));
	struct off_group *o = off_group_of(g, false);
	struct off_entry *e = off_entry_find(o, kp_str_c("t0"), 0);

	cr_assert_eq(e->pending, 1);
	off_entry_remove(o, e);                 /* as OffsetDelete does */
	th_log_complete(KP_ERR_NONE);
	cr_assert_eq(ot_fetch(9, "g", "t0", 0, false, &err), -1);
	cr_assert_eq(ot_delete("g", "t0", 1, &perr), KP_ERR_NONE);
}

Test(off_delete, delete_groups_tombstones_offsets)
{
	struct kp_delete_groups_request r;
	struct kp_str names[1] = { kp_str_c("g") };
	struct kp_writer w;
	int16_t err;

	ot_commit(9, "g", -1, NULL, 3, parts);
	th_log_complete(KP_ERR_NONE);
	kp_delete_groups_request_init(&r);
	r.groups_names = (struct kp_array){ 1, NULL, NULL, names };
	kp_writer_init(&w, 64);
	kp_delete_groups_request_encode(&w, 2, &r);
	int32_t corr = th_send(KP_API_DELETE_GROUPS, 2, &w);

	kp_writer_free(&w);
	cr_assert_null(th_reply(corr));
	cr_assert_eq(ot_fetch(9, "g", "t0", 0, false, &err), -1);   /* gone at once */
	th_log_complete(KP_ERR_NONE);
	th_log_complete(KP_ERR_NONE);
	cr_assert_not_null(th_reply(corr));
	cr_assert_eq(ot.tombstones, 3);
	cr_assert_null(grp_find(th.c, kp_str_c("g")));
	cr_assert_eq(off_total_count(), 0);
}

/* Members whose metadata is no ConsumerProtocolSubscription: Kafka cannot
 * tell what they consume, so every topic counts as subscribed. */
Test(off_delete, unparsable_subscription_counts_as_subscribed)
{
	struct kp_str ids[1];
	int leader;
	int16_t perr;

	th_stable("bad", 1, ids, &leader);
	struct grp *g = grp_find(th.c, kp_str_c("bad"));

	cr_assert_eq(grp_subscription_of(g, kp_str_c("t1")), GRP_SUB_UNKNOWN);
	cr_assert_not(grp_subscribes_to(g, kp_str_c("t1")));
	cr_assert_eq(ot_delete("bad", "t1", 0, &perr), KP_ERR_NONE);
	cr_assert_eq(perr, KP_ERR_GROUP_SUBSCRIBED_TO_TOPIC);
	cr_assert(kp_str_eq(grp_protocol_type(g), kp_str_c("consumer")));
	cr_assert(grp_is_stable(g));
	cr_assert_geq(grp_state_timestamp_ms(g), 0);
}
