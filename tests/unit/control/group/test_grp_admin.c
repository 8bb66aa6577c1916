/* SPDX-License-Identifier: Apache-2.0 */
/* FindCoordinator, DescribeGroups, ListGroups and DeleteGroups
 * (control/group/grp_find_coordinator.c, grp_describe.c, grp_list.c,
 * grp_delete.c), decoded from the recorded replies. */
#include <criterion/criterion.h>
#include <string.h>

#include "protocol/gen/kp_msg_delete_groups.h"
#include "protocol/gen/kp_msg_describe_groups.h"
#include "protocol/gen/kp_msg_find_coordinator.h"
#include "protocol/gen/kp_msg_list_groups.h"
#include "tests/unit/control/group/grp_harness.h"

static const char *const no_delay[] = { "group.initial.rebalance.delay.ms=0", NULL };

static void
setup(void)
{
	th_setup(no_delay);
}

TestSuite(grp_admin, .init = setup, .fini = th_teardown);

static struct kp_cursor
reply_cursor(int32_t corr)
{
	const struct th_reply *r = th_reply(corr);

	cr_assert_not_null(r);
	cr_assert_not(r->dropped);
	return kp_cursor_make(r->data, r->len);
}

Test(grp_admin, find_coordinator_single_and_batched)
{
	struct kp_find_coordinator_request req;
	struct kp_find_coordinator_response resp;
	struct kp_writer w;

	kp_find_coordinator_request_init(&req);
	req.key = kp_str_c("g");
	kp_writer_init(&w, 64);
	kp_find_coordinator_request_encode(&w, 2, &req);
	struct kp_cursor c = reply_cursor(th_send(KP_API_FIND_COORDINATOR, 2, &w));

	kp_writer_free(&w);
	cr_assert_eq(kp_find_coordinator_response_decode(&c, 2, &resp), 0);
	cr_assert_eq(resp.error_code, KP_ERR_NONE);
	cr_assert_eq(resp.node_id, 7);
	cr_assert_eq(resp.port, 9192);
	cr_assert(kp_str_eq(resp.host, kp_str_c("broker.test")));
	cr_assert_eq(th.log_ensured, 1, "__consumer_offsets created on first use");

	struct kp_str keys[2] = { kp_str_c("g1"), kp_str_c("t1") };

	kp_find_coordinator_request_init(&req);
	req.key_type = 1;
	req.coordinator_keys.count = 1;
	req.coordinator_keys.items = &keys[1];
	kp_writer_init(&w, 64);
	kp_find_coordinator_request_encode(&w, 4, &req);
	c = reply_cursor(th_send(KP_API_FIND_COORDINATOR, 4, &w));
	kp_writer_free(&w);
	cr_assert_eq(kp_find_coordinator_response_decode(&c, 4, &resp), 0);
	cr_assert_eq(resp.coordinators.count, 1);
	struct kp_cursor it = kp_array_cursor(&resp.coordinators);
	struct kp_find_coordinator_response_coordinator e;

	cr_assert_eq(kp_find_coordinator_response_coordinator_decode(&it, 4, &e), 0);
	cr_assert_eq(e.error_code, KP_ERR_COORDINATOR_NOT_AVAILABLE, "no transactions");

	req.key_type = 0;
	req.coordinator_keys.count = 2;
	req.coordinator_keys.items = keys;
	kp_writer_init(&w, 64);
	kp_find_coordinator_request_encode(&w, 5, &req);
	c = reply_cursor(th_send(KP_API_FIND_COORDINATOR, 5, &w));
	kp_writer_free(&w);
	cr_assert_eq(kp_find_coordinator_response_decode(&c, 5, &resp), 0);
	cr_assert_eq(resp.coordinators.count, 2);
	it = kp_array_cursor(&resp.coordinators);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(kp_find_coordinator_response_coordinator_decode(&it, 5, &e), 0);
		cr_assert_eq(e.error_code, KP_ERR_NONE);
		cr_assert(kp_str_eq(e.key, keys[i]));
		cr_assert_eq(e.node_id, 7);
	}
}

/* Cluster mode: the leader of the group's __consumer_offsets partition (the
 * fake hash puts every group on partition 0). */
static const int32_t cl_replicas[] = { 7, 2 };
static struct kp_md_partition cl_offsets[] = {
	{ 2, 1, 1, 2, 2, 0, cl_replicas, cl_replicas, cl_replicas },
	{ 7, 1, 1, 2, 2, 0, cl_replicas, cl_replicas, cl_replicas },
};
static struct kp_md_topic cl_topic = { .name = { "__consumer_offsets", 18 },
				       .partition_count = 2, .internal = true,
				       .partitions = cl_offsets };
static const struct kp_md_topic *cl_by_id[] = { &cl_topic };
static const struct kp_md_broker cl_brokers[] = {
	{ 2, NULL, 1, { { "PLAINTEXT", "h2", 9102, 0 } } },
	{ 7, NULL, 1, { { "PLAINTEXT", "broker.test", 9192, 0 } } },
};
static const struct kp_md cl_md = {
	.broker_id = 7, .controller_id = 2, .cluster = true, .broker_count = 2,
	.brokers = cl_brokers, .endpoint_count = 1,
	.endpoints = { { "PLAINTEXT", "broker.test", 9192, 0 } },
	.topic_count = 1, .topics = &cl_topic, .by_id = cl_by_id,
};

static struct kp_find_coordinator_response
find_v2(const char *group)
{
	struct kp_find_coordinator_request req;
	struct kp_find_coordinator_response resp;
	struct kp_writer w;

	kp_find_coordinator_request_init(&req);
	req.key = kp_str_c(group);
	kp_writer_init(&w, 64);
	kp_find_coordinator_request_encode(&w, 2, &req);
	struct kp_cursor c = reply_cursor(th_send(KP_API_FIND_COORDINATOR, 2, &w));

	kp_writer_free(&w);
	cr_assert_eq(kp_find_coordinator_response_decode(&c, 2, &resp), 0);
	return resp;
}

Test(grp_admin, find_coordinator_cluster_partition_leader)
{
	struct kp_find_coordinator_response resp;

	th_md = &cl_md;
	resp = find_v2("g");
	cr_assert_eq(resp.error_code, KP_ERR_NONE);
	cr_assert_eq(resp.node_id, 2, "the partition's leader, not this broker");
	cr_assert(kp_str_eq(resp.host, kp_str_c("h2")));
	cr_assert_eq(resp.port, 9102);
	cl_offsets[0].leader = 5;       /* not alive */
	resp = find_v2("g");
	cr_assert_eq(resp.error_code, KP_ERR_COORDINATOR_NOT_AVAILABLE);
	cr_assert_eq(resp.node_id, -1);
	cl_offsets[0].leader = -1;      /* offline */
	resp = find_v2("g");
	cr_assert_eq(resp.error_code, KP_ERR_COORDINATOR_NOT_AVAILABLE);
	cl_offsets[0].leader = 7;
	resp = find_v2("g");
	cr_assert_eq(resp.error_code, KP_ERR_NONE);
	cr_assert_eq(resp.node_id, 7);
	cr_assert(kp_str_eq(resp.host, kp_str_c("broker.test")));
	cl_offsets[0].leader = 2;
	th_md = NULL;
}

static struct kp_describe_groups_response_described_group
describe_one(int16_t v, const char *group, bool ops)
{
	struct kp_describe_groups_request req;
	struct kp_describe_groups_response resp;
	struct kp_describe_groups_response_described_group d;
	struct kp_str name = kp_str_c(group);
	struct kp_writer w;

	kp_describe_groups_request_init(&req);
	req.groups.count = 1;
	req.groups.items = &name;
	req.include_authorized_operations = ops;
	kp_writer_init(&w, 64);
	kp_describe_groups_request_encode(&w, v, &req);
	struct kp_cursor c = reply_cursor(th_send(KP_API_DESCRIBE_GROUPS, v, &w));

	kp_writer_free(&w);
	cr_assert_eq(kp_describe_groups_response_decode(&c, v, &resp), 0);
	cr_assert_eq(resp.groups.count, 1);
	struct kp_cursor it = kp_array_cursor(&resp.groups);

	cr_assert_eq(kp_describe_groups_response_described_group_decode(&it, v, &d), 0);
	return d;
}

Test(grp_admin, describe_stable_rebalancing_and_unknown)
{
	struct kp_str ids[2], id;
	int leader;

	th_stable("g", 2, ids, &leader);
	struct kp_describe_groups_response_described_group d = describe_one(5, "g", false);

	cr_assert_eq(d.error_code, KP_ERR_NONE);
	cr_assert(kp_str_eq(d.group_state, kp_str_c("Stable")));
	cr_assert(kp_str_eq(d.protocol_type, kp_str_c("consumer")));
	cr_assert(kp_str_eq(d.protocol_data, kp_str_c("p0")));
	cr_assert_eq(d.authorized_operations, INT32_MIN);
	cr_assert_eq(d.members.count, 2);
	struct kp_cursor it = kp_array_cursor(&d.members);
	struct kp_describe_groups_response_described_group_member m;

	cr_assert_eq(kp_describe_groups_response_described_group_member_decode(&it, 5, &m), 0);
	cr_assert_eq(m.member_assignment.len, 2);
	cr_assert(m.member_metadata.len > 0);
	cr_assert(kp_str_eq(m.client_host, kp_str_c("/127.0.0.1")));

	th_join_new(5, "g", "x", &id);
	d = describe_one(3, "g", true);
	cr_assert(kp_str_eq(d.group_state, kp_str_c("PreparingRebalance")));
	cr_assert(kp_str_eq(d.protocol_data, kp_str_c("")));
	cr_assert_eq(d.authorized_operations, (1 << 3) | (1 << 6) | (1 << 8));
	it = kp_array_cursor(&d.members);
	cr_assert_eq(kp_describe_groups_response_described_group_member_decode(&it, 3, &m), 0);
	cr_assert_eq(m.member_assignment.len, 0, "no assignment unless Stable");
	cr_assert_eq(m.member_metadata.len, 0);

	d = describe_one(0, "unknown", false);
	cr_assert_eq(d.error_code, KP_ERR_NONE);
	cr_assert(kp_str_eq(d.group_state, kp_str_c("Dead")));
	cr_assert_eq(d.members.count, 0);
	th.log_ready_error = KP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
	d = describe_one(5, "g", false);
	cr_assert_eq(d.error_code, KP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
}

static int32_t
list_groups(int16_t v, const char *state, const char *type, const char **names, int max)
{
	struct kp_list_groups_request req;
	struct kp_list_groups_response resp;
	struct kp_str s = kp_str_c(state), t = kp_str_c(type);
	struct kp_writer w;

	kp_list_groups_request_init(&req);
	if (state != NULL) {
		req.states_filter.count = 1;
		req.states_filter.items = &s;
	}
	if (type != NULL) {
		req.types_filter.count = 1;
		req.types_filter.items = &t;
	}
	kp_writer_init(&w, 64);
	kp_list_groups_request_encode(&w, v, &req);
	struct kp_cursor c = reply_cursor(th_send(KP_API_LIST_GROUPS, v, &w));

	kp_writer_free(&w);
	cr_assert_eq(kp_list_groups_response_decode(&c, v, &resp), 0);
	cr_assert_eq(resp.error_code, KP_ERR_NONE);
	struct kp_cursor it = kp_array_cursor(&resp.groups);

	for (int i = 0; i < resp.groups.count && i < max; i++) {
		struct kp_list_groups_response_listed_group g;

		cr_assert_eq(kp_list_groups_response_listed_group_decode(&it, v, &g), 0);
		static char buf[8][32];

		snprintf(buf[i], sizeof(buf[i]), "%.*s", (int)g.group_id.len, g.group_id.ptr);
		names[i] = buf[i];
	}
	return resp.groups.count;
}

Test(grp_admin, list_with_state_and_type_filters)
{
	struct kp_str ids[1];
	int leader;
	const char *names[8];

	th_stable("s", 1, ids, &leader);
	th_stable("e", 1, ids, &leader);
	th_leave(3, "e", ids[0]);
	cr_assert_eq(list_groups(0, NULL, NULL, names, 8), 2);
	cr_assert_eq(list_groups(4, "stable", NULL, names, 8), 1);
	cr_assert_str_eq(names[0], "s");
	cr_assert_eq(list_groups(4, "Empty", NULL, names, 8), 1);
	cr_assert_str_eq(names[0], "e");
	cr_assert_eq(list_groups(5, NULL, "Classic", names, 8), 2);
	cr_assert_eq(list_groups(5, NULL, "consumer", names, 8), 0);
}

static int16_t
delete_one(int16_t v, const char *group, int32_t *corr_out)
{
	struct kp_delete_groups_request req;
	struct kp_delete_groups_response resp;
	struct kp_str name = kp_str_c(group);
	struct kp_writer w;

	kp_delete_groups_request_init(&req);
	req.groups_names.count = 1;
	req.groups_names.items = &name;
	kp_writer_init(&w, 64);
	kp_delete_groups_request_encode(&w, v, &req);
	int32_t corr = th_send(KP_API_DELETE_GROUPS, v, &w);

	kp_writer_free(&w);
	if (corr_out != NULL)
		*corr_out = corr;
	th_log_complete(KP_ERR_NONE);
	struct kp_cursor c = reply_cursor(corr);

	cr_assert_eq(kp_delete_groups_response_decode(&c, v, &resp), 0);
	cr_assert_eq(resp.results.count, 1);
	struct kp_cursor it = kp_array_cursor(&resp.results);
	struct kp_delete_groups_response_deletable_group_result r;

	cr_assert_eq(kp_delete_groups_response_deletable_group_result_decode(&it, v, &r), 0);
	cr_assert(kp_str_eq(r.group_id, name));
	return r.error_code;
}

Test(grp_admin, delete_empty_nonempty_unknown)
{
	struct kp_str ids[1];
	int leader;

	th_stable("busy", 1, ids, &leader);
	th_stable("idle", 1, ids, &leader);
	th_leave(3, "idle", ids[0]);
	cr_assert_eq(delete_one(2, "busy", NULL), KP_ERR_NON_EMPTY_GROUP);
	cr_assert_eq(delete_one(0, "nothere", NULL), KP_ERR_GROUP_ID_NOT_FOUND);
	int before = th.group_rec_count;

	cr_assert_eq(delete_one(1, "idle", NULL), KP_ERR_NONE);
	cr_assert_eq(th.off_deleted, 1);
	cr_assert(th.group_recs[before].tombstone);
	cr_assert_null(grp_find(th.c, kp_str_c("idle")));
	cr_assert_eq(delete_one(1, "idle", NULL), KP_ERR_GROUP_ID_NOT_FOUND);
	cr_assert_eq(th.parked, 0);
}
