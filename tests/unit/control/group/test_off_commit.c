/* SPDX-License-Identifier: Apache-2.0 */
/* OffsetCommit and OffsetFetch (control/group/off_commit.c, off_fetch.c,
 * off_store.c) with the real membership over a fake log that holds each
 * batch until the test completes it: commit then fetch, nothing visible
 * before durable, a failed append keeps the old values, named vs all
 * partitions, multi-group fetch, the group checks, and the bounds. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "control/group/off_int.h"
#include "protocol/gen/kp_msg_offset_fetch.h"
#include "tests/unit/control/group/fake_log.h"

static const char *const cfg[] = { "group.initial.rebalance.delay.ms=0", NULL };

static void
setup(void)
{
	ot_setup(cfg);
}

TestSuite(off_commit, .init = setup, .fini = th_teardown);

static const struct ot_part two[] = {
	{ "t0", 0, 10, "m0" },
	{ "t0", 1, 11, NULL },
};

Test(off_commit, commit_then_fetch_every_version)
{
	int32_t n;
	int16_t err;

	for (int16_t v = 1; v <= 9; v++) {
		char g[16];

		snprintf(g, sizeof(g), "g%d", v);
		int32_t corr = ot_commit(v, g, -1, NULL, 2, two);

		cr_assert_eq(ot_commit_err(corr, "t0", 0, &n), OT_ERR_NONE_YET, "v%d", v);
		th_log_complete(KP_ERR_NONE);
		cr_assert_eq(ot_commit_err(corr, "t0", 0, &n), KP_ERR_NONE, "v%d", v);
		cr_assert_eq(n, 2);
		for (int16_t fv = 1; fv <= 9; fv++) {
			cr_assert_eq(ot_fetch(fv, g, "t0", 0, false, &err), 10);
			cr_assert_eq(err, KP_ERR_NONE);
			cr_assert_eq(ot_fetch(fv, g, "t0", 1, false, &err), 11);
			cr_assert_eq(ot_fetch(fv, g, "t0", 2, false, &err), -1);
			cr_assert_eq(err, KP_ERR_NONE);
			cr_assert_eq(ot_fetch(fv, g, "nosuch", 0, false, &err), -1);
			cr_assert_eq(err, KP_ERR_NONE);
		}
	}
}

Test(off_commit, version_zero_unsupported)
{
	int32_t n;
	int32_t corr = ot_commit(0, "g", -1, NULL, 2, two);

	cr_assert_eq(ot_commit_err(corr, "t0", 1, &n), KP_ERR_UNSUPPORTED_VERSION);
	cr_assert_eq(th.batch_count, 0);
}

Test(off_commit, not_visible_until_durable_and_failure_keeps_old)
{
	int32_t n;
	int16_t err;
	struct ot_part p = { "t0", 0, 5, "" };

	ot_commit(9, "g", -1, NULL, 1, &p);
	th_log_complete(KP_ERR_NONE);
	p.offset = 6;
	int32_t corr = ot_commit(9, "g", -1, NULL, 1, &p);

	cr_assert_eq(ot_fetch(9, "g", "t0", 0, false, &err), 5);
	cr_assert_eq(ot_fetch(9, "g", "t0", 0, true, &err), -1);
	cr_assert_eq(err, KP_ERR_UNSTABLE_OFFSET_COMMIT);
	th_log_complete(KP_ERR_NOT_ENOUGH_REPLICAS);
	cr_assert_eq(ot_commit_err(corr, "t0", 0, &n), KP_ERR_COORDINATOR_NOT_AVAILABLE);
	cr_assert_eq(ot_fetch(9, "g", "t0", 0, true, &err), 5);
	cr_assert_eq(err, KP_ERR_NONE);
	/* A new partition whose first commit fails leaves nothing. */
	p.partition = 3;
	corr = ot_commit(9, "g", -1, NULL, 1, &p);
	th_log_complete(KP_ERR_MESSAGE_TOO_LARGE);
	cr_assert_eq(ot_commit_err(corr, "t0", 3, &n), KP_ERR_INVALID_COMMIT_OFFSET_SIZE);
	int64_t sum;

	cr_assert_eq(ot_fetch_all(9, "g", &err, &sum), 1);
	/* A simple group whose only commit failed is gone. */
	corr = ot_commit(9, "fresh", -1, NULL, 1, &p);
	th_log_complete(KP_ERR_NOT_ENOUGH_REPLICAS);
	cr_assert_null(grp_find(th.c, kp_str_c("fresh")));
}

Test(off_commit, fetch_all_and_multi_group)
{
	static const struct ot_part parts[] = {
		{ "t0", 0, 1, "" }, { "t0", 3, 2, "" }, { "t1", 2, 3, "" },
	};
	int16_t err;
	int64_t sum;

	ot_commit(9, "a", -1, NULL, 3, parts);
	ot_commit(9, "b", -1, NULL, 1, parts);
	th_log_complete(KP_ERR_NONE);
	for (int16_t v = 2; v <= 9; v++) {
		cr_assert_eq(ot_fetch_all(v, "a", &err, &sum), 3, "v%d", v);
		cr_assert_eq(sum, 6);
		cr_assert_eq(ot_fetch_all(v, "b", &err, &sum), 1);
		cr_assert_eq(ot_fetch_all(v, "none", &err, &sum), 0);
		cr_assert_eq(err, KP_ERR_NONE);
	}
}

Test(off_commit, unknown_topics_and_metadata_size)
{
	char *big = malloc(OFF_METADATA_BYTES_MAX + 2);
	int32_t n;
	int16_t err;

	memset(big, 'a', OFF_METADATA_BYTES_MAX + 1);
	big[OFF_METADATA_BYTES_MAX + 1] = '\0';
	struct ot_part parts[] = {
		{ "nosuch", 0, 1, "" }, { "t0", 4, 1, "" }, { "t0", 0, 1, big + 1 },
		{ "t0", 1, 1, big },
	};
	int32_t corr = ot_commit(9, "g", -1, NULL, 4, parts);

	th_log_complete(KP_ERR_NONE);
	cr_assert_eq(ot_commit_err(corr, "nosuch", 0, &n), KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	cr_assert_eq(ot_commit_err(corr, "t0", 4, &n), KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	cr_assert_eq(ot_commit_err(corr, "t0", 0, &n), KP_ERR_NONE);
	cr_assert_eq(ot_commit_err(corr, "t0", 1, &n), KP_ERR_OFFSET_METADATA_TOO_LARGE);
	cr_assert_eq(n, 4);
	cr_assert_eq(ot_fetch(9, "g", "t0", 1, false, &err), -1);
	/* Only oversized metadata: answered at once, nothing appended. */
	corr = ot_commit(9, "g", -1, NULL, 1, &parts[3]);
	cr_assert_eq(ot_commit_err(corr, "t0", 1, &n), KP_ERR_OFFSET_METADATA_TOO_LARGE);
	cr_assert_eq(th.batch_count, 0);
	free(big);
}

Test(off_commit, group_checks)
{
	struct kp_str id;
	int32_t n;
	int32_t corr = ot_commit(9, "ghost", 5, "m", 2, two);

	cr_assert_eq(ot_commit_err(corr, "t0", 0, &n), KP_ERR_ILLEGAL_GENERATION);
	cr_assert_null(grp_find(th.c, kp_str_c("ghost")));
	corr = ot_commit(9, "", -1, NULL, 2, two);
	th_log_complete(KP_ERR_NONE);
	cr_assert_eq(ot_commit_err(corr, "t0", 0, &n), KP_ERR_NONE);

	int32_t gen = ot_consumer_group("cg", "t0", &id);

	corr = ot_commit(9, "cg", -1, NULL, 2, two);
	cr_assert_eq(ot_commit_err(corr, "t0", 0, &n), KP_ERR_UNKNOWN_MEMBER_ID);
	char mid[128];

	snprintf(mid, sizeof(mid), "%.*s", (int)id.len, id.ptr);
	corr = ot_commit(9, "cg", gen + 1, mid, 2, two);
	cr_assert_eq(ot_commit_err(corr, "t0", 0, &n), KP_ERR_ILLEGAL_GENERATION);
	corr = ot_commit(9, "cg", gen, mid, 2, two);
	th_log_complete(KP_ERR_NONE);
	cr_assert_eq(ot_commit_err(corr, "t0", 0, &n), KP_ERR_NONE);
	th.log_ready_error = KP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
	int16_t err;

	corr = ot_commit(9, "cg", gen, mid, 2, two);
	cr_assert_eq(ot_commit_err(corr, "t0", 0, &n), KP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
	ot_fetch(9, "cg", "t0", 0, false, &err);
	cr_assert_eq(err, KP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
	ot_fetch(1, "cg", "t0", 0, false, &err);   /* v1: in the partition */
	cr_assert_eq(err, KP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
}

Test(off_commit, huge_commit_answers_every_entry, .timeout = 60)
{
	enum { N = 100000 };
	struct ot_part *parts = calloc(N, sizeof(*parts));
	int32_t n;
	int16_t err;
	int64_t sum;

	for (int i = 0; i < N; i++)
		parts[i] = (struct ot_part){ "t0", i, i, "" };
	int32_t corr = ot_commit(9, "g", -1, NULL, N, parts);

	th_log_complete(KP_ERR_NONE);
	cr_assert_eq(ot_commit_err(corr, "t0", 3, &n), KP_ERR_NONE);
	cr_assert_eq(n, N);
	cr_assert_eq(ot_commit_err(corr, "t0", 99999, &n), KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	cr_assert_eq(ot.offset_recs, 4);
	/* 100,000 real partitions: every one stored, under the group bound. */
	for (int i = 0; i < N; i++)
		parts[i].topic = "big";
	corr = ot_commit(9, "g2", -1, NULL, N, parts);
	th_log_complete(KP_ERR_NONE);
	cr_assert_eq(ot_commit_err(corr, "big", 99999, &n), KP_ERR_NONE);
	cr_assert_eq(ot_fetch_all(9, "g2", &err, &sum), N);
	cr_assert_eq(off_total_count(), N + 4);
	free(parts);
}

Test(off_commit, group_bound, .timeout = 60)
{
	enum { N = OFF_GROUP_OFFSETS_MAX };
	struct ot_part *parts = calloc(N, sizeof(*parts));
	int32_t n;

	for (int i = 0; i < N; i++)
		parts[i] = (struct ot_part){ "big", i, i, "" };
	ot_commit(9, "g", -1, NULL, N, parts);
	th_log_complete(KP_ERR_NONE);
	cr_assert_eq(off_total_count(), N);
	struct ot_part more[] = { { "t0", 0, 1, "" }, { "big", 5, 7, "" } };
	int32_t corr = ot_commit(9, "g", -1, NULL, 2, more);

	th_log_complete(KP_ERR_NONE);
	cr_assert_eq(ot_commit_err(corr, "t0", 0, &n), KP_ERR_INVALID_COMMIT_OFFSET_SIZE);
	cr_assert_eq(ot_commit_err(corr, "big", 5, &n), KP_ERR_NONE);  /* existing entry */
	free(parts);
}

/* One OffsetFetch v8 naming three groups: each answered on its own. */
Test(off_commit, fetch_v8_several_groups_in_one_request)
{
	static const struct ot_part parts[] = { { "t0", 0, 5, "" }, { "t1", 1, 6, "" } };
	const char *names[3] = { "a", "b", "none" };
	struct kp_writer w, gs;
	struct kp_offset_fetch_request r;
	struct kp_offset_fetch_response resp;

	ot_commit(9, "a", -1, NULL, 1, parts);
	ot_commit(9, "b", -1, NULL, 2, parts);
	th_log_complete(KP_ERR_NONE);
	kp_writer_init(&w, 128);
	kp_writer_init(&gs, 128);
	for (int i = 0; i < 3; i++) {
		struct kp_offset_fetch_request_offset_fetch_request_group g;

		kp_offset_fetch_request_offset_fetch_request_group_init(&g);
		g.group_id = kp_str_c(names[i]);
		g.topics = (struct kp_array){ -1, NULL, NULL, NULL };
		kp_offset_fetch_request_offset_fetch_request_group_encode(&gs, 8, &g);
	}
	kp_offset_fetch_request_init(&r);
	r.groups = kp_array_wire(3, &gs);
	kp_offset_fetch_request_encode(&w, 8, &r);
	int32_t corr = th_send(KP_API_OFFSET_FETCH, 8, &w);
	const struct th_reply *rep = th_reply(corr);
	struct kp_cursor c = kp_cursor_make(rep->data, rep->len);

	cr_assert_eq(kp_offset_fetch_response_decode(&c, 8, &resp), 0);
	cr_assert_eq(resp.groups.count, 3);
	struct kp_cursor gc = kp_array_cursor(&resp.groups);
	int32_t want[3] = { 1, 2, 0 };

	for (int i = 0; i < 3; i++) {
		struct kp_offset_fetch_response_offset_fetch_response_group g;

		kp_offset_fetch_response_offset_fetch_response_group_decode(&gc, 8, &g);
		cr_assert(kp_str_eq(g.group_id, kp_str_c(names[i])));
		cr_assert_eq(g.error_code, KP_ERR_NONE);
		cr_assert_eq(g.topics.count, want[i], "group %s", names[i]);
	}
	kp_writer_free(&gs);
	kp_writer_free(&w);
}

static void
count_metric(void *arg, const struct grp_metrics_offset *m)
{
	int64_t *sum = arg;

	*sum += m->offset;
}

Test(off_commit, metrics_walk_committed_offsets_only)
{
	static const struct ot_part parts[] = { { "t0", 0, 5, "" }, { "t1", 1, 6, "" } };
	int64_t sum = 0;

	ot_commit(9, "a", -1, NULL, 2, parts);
	grp_coord_metrics(th.c, NULL, count_metric, &sum);
	cr_assert_eq(sum, 0);                   /* pending: not committed yet */
	th_log_complete(KP_ERR_NONE);
	grp_coord_metrics(th.c, NULL, count_metric, &sum);
	cr_assert_eq(sum, 11);
}
