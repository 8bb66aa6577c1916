/* SPDX-License-Identifier: Apache-2.0 */
/* The whole coordinator in cluster mode (membership, offsets and the log
 * of control/group/) inside a real ctl over real storage workers in a temp
 * dir: requests go through grp_coord_handle as control's loop hands them
 * over, parked replies reach a recording core ring. A group of a partition
 * not led here answers NOT_COORDINATOR; led, it loads
 * (COORDINATOR_LOAD_IN_PROGRESS meanwhile) and serves; an OffsetCommit is
 * answered once appended (acks=all); losing the partition answers the
 * parked JoinGroup NOT_COORDINATOR and drops the groups; led again, the
 * partition loads from the log and the commit made before is back. */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "control/config.h"
#include "control/ctl_int.h"
#include "control/ctl_log.h"
#include "control/group/grp_int.h"
#include "protocol/gen/kp_api.h"
#include "protocol/gen/kp_msg_join_group.h"
#include "protocol/gen/kp_msg_offset_commit.h"
#include "protocol/gen/kp_msg_offset_fetch.h"
#include "storage/st.h"
#include "tests/unit/control/tdir.h"

#define PARTS 3
#define REPLIES_MAX 64

struct reply {
	int32_t corr;
	uint8_t *data;          /* the body (non-flexible versions: past size and corr) */
	size_t len;
	uint8_t *frame;
};

static struct reply replies[REPLIES_MAX];
static int reply_count;
static int32_t next_corr = 1;

static void
record(int32_t corr, uint8_t *frame, uint8_t *data, size_t len)
{
	cr_assert_lt(reply_count, REPLIES_MAX);
	replies[reply_count++] = (struct reply){ corr, data, len, frame };
}

/* The core ring: parked replies, framed (size, correlation id, body). */
static bool
ring_send(void *arg, int core, const struct dp_msg *msg)
{
	const uint8_t *f = msg->buf.data;

	(void)arg;
	cr_assert_eq(core, 0);
	cr_assert_geq(msg->buf.len, 8);
	record((int32_t)((uint32_t)f[4] << 24 | (uint32_t)f[5] << 16 | (uint32_t)f[6] << 8 |
			 f[7]),
	       msg->buf.data, msg->buf.data + 8, msg->buf.len - 8);
	return true;
}

static const struct reply *
reply_of(int32_t corr)
{
	for (int i = reply_count - 1; i >= 0; i--)
		if (replies[i].corr == corr)
			return &replies[i];
	return NULL;
}

/* ---- a broker ---- */

static struct config cfg;
static struct ctl *ctl;
static struct st *st;

static void
boot(void)
{
	char dirs[300], err[256];
	const char *ov[3] = { dirs, "spillway.dataplane.cores=1",
			      "offsets.topic.num.partitions=3" };
	struct st_config sc = { .worker_count = 1, .core_count = 2, .ring_slots = 64 };

	snprintf(dirs, sizeof(dirs), "log.dirs=%s", tdir_path);
	cr_assert_eq(config_load(&cfg, NULL, 3, ov, err, sizeof(err)), 0, "%s", err);
	ctl = ctl_create(&cfg, err, sizeof(err));
	cr_assert_not_null(ctl, "%s", err);
	ctl->send = ring_send;
	ctl->send_arg = NULL;
	grp_coord_set_cluster(ctl->groups, true);
	sc.log_dir = tdir_path;
	st = st_create(&sc, err, sizeof(err));
	cr_assert_not_null(st, "%s", err);
	cr_assert_eq(ctl_attach_storage_ring(ctl, st, NULL, 0), 0);
	cr_assert_eq(st_start(st), 0);
	cr_assert_eq(ctl_attach_storage(ctl, st), 0);
}

static void
setup(void)
{
	tdir_setup();
	reply_count = 0;
}

static void
teardown(void)
{
	if (ctl != NULL) {
		ctl_destroy(ctl);
		st_stop(st);
		st_destroy(st);
		config_free(&cfg);
		ctl = NULL;
	}
	for (int i = 0; i < reply_count; i++)
		free(replies[i].frame);
	tdir_teardown();
}

TestSuite(grp_cluster_store, .init = setup, .fini = teardown);

/* Run control's storage completions until nothing is in flight. */
static void
run(void)
{
	uint64_t until = clock_mono_ns() + 10000000000ull;

	while (ctl_log_inflight(ctl) > 0) {
		struct pollfd pfd = { .fd = ctl_log_eventfd(ctl->log), .events = POLLIN };
		uint64_t v;

		cr_assert_lt(clock_mono_ns(), until, "storage never answered");
		if (ctl_log_poll(ctl))
			continue;
		if (poll(&pfd, 1, 10) > 0)
			cr_assert_eq(read(pfd.fd, &v, sizeof(v)), (ssize_t)sizeof(v));
	}
}

/* Hand one request to the coordinator as control's loop does. */
static int32_t
send_req(int16_t api, int16_t version, const struct kp_writer *body)
{
	struct kp_writer w;
	struct kp_group_call call = {
		.api_key = api, .api_version = version, .correlation_id = next_corr++,
		.client_id = kp_str_c("client"), .client_host = kp_str_c("/127.0.0.1"),
		.body = kp_cursor_make(body->buf, body->len), .w = &w,
	};
	enum kp_verdict v;

	(void)ctl_md_rebuild(ctl);
	kp_writer_init(&w, 64);
	ctl->cur = (struct ctl_park){ .core = 0, .conn_id = 1, .conn_gen = 1, .seq = 0,
				      .api_key = api, .api_version = version,
				      .correlation_id = call.correlation_id };
	ctl->cur_parked = false;
	ctl->in_request = true;
	v = grp_coord_handle(ctl->groups, &call);
	ctl->in_request = false;
	cr_assert_neq(v, KP_VERDICT_CLOSE);
	if (v == KP_VERDICT_REPLY) {
		uint8_t *copy = malloc(w.len + 1);

		memcpy(copy, w.buf, w.len);
		record(call.correlation_id, copy, copy, w.len);
	}
	kp_writer_free(&w);
	return call.correlation_id;
}

static void
create_topics(void)
{
	char msg[256];

	cr_assert_eq(grp_log_ensure(grp_coord_log(ctl->groups)),
		     KP_ERR_COORDINATOR_NOT_AVAILABLE);
	cr_assert_eq(grp_log_ensure(grp_coord_log(ctl->groups)), KP_ERR_NONE);
	cr_assert_eq(ctl_admin_ops.topic_auto_create(ctl, kp_str_c("t"), msg, sizeof(msg)),
		     KP_ERR_NONE, "%s", msg);
}

/* OffsetCommit v7 of t-0 for a group not using group management. */
static int32_t
commit(const char *group, int64_t offset)
{
	struct kp_offset_commit_request r;
	struct kp_offset_commit_request_offset_commit_request_topic t;
	struct kp_offset_commit_request_offset_commit_request_partition p;
	struct kp_writer w, ts, ps;

	kp_writer_init(&w, 128);
	kp_writer_init(&ts, 128);
	kp_writer_init(&ps, 128);
	kp_offset_commit_request_offset_commit_request_partition_init(&p);
	p.partition_index = 0;
	p.committed_offset = offset;
	p.committed_metadata = kp_str_c("m");
	kp_offset_commit_request_offset_commit_request_partition_encode(&ps, 7, &p);
	kp_offset_commit_request_offset_commit_request_topic_init(&t);
	t.name = kp_str_c("t");
	t.partitions = kp_array_wire(1, &ps);
	kp_offset_commit_request_offset_commit_request_topic_encode(&ts, 7, &t);
	kp_offset_commit_request_init(&r);
	r.group_id = kp_str_c(group);
	r.generation_id_or_member_epoch = -1;
	r.member_id = kp_str_c("");
	r.topics = kp_array_wire(1, &ts);
	kp_offset_commit_request_encode(&w, 7, &r);
	int32_t corr = send_req(KP_API_OFFSET_COMMIT, 7, &w);

	kp_writer_free(&ps);
	kp_writer_free(&ts);
	kp_writer_free(&w);
	return corr;
}

/* The error of the only partition of an OffsetCommit v7 answer. */
static int16_t
commit_err(int32_t corr)
{
	const struct reply *rep = reply_of(corr);
	struct kp_offset_commit_response resp;
	struct kp_offset_commit_response_offset_commit_response_topic t;
	struct kp_offset_commit_response_offset_commit_response_partition p;

	cr_assert_not_null(rep, "OffsetCommit %d not answered", corr);
	struct kp_cursor c = kp_cursor_make(rep->data, rep->len);

	cr_assert_eq(kp_offset_commit_response_decode(&c, 7, &resp), 0);
	cr_assert_eq(resp.topics.count, 1);
	struct kp_cursor tc = kp_array_cursor(&resp.topics);

	cr_assert_eq(kp_offset_commit_response_offset_commit_response_topic_decode(&tc, 7, &t), 0);
	struct kp_cursor pc = kp_array_cursor(&t.partitions);

	cr_assert_eq(kp_offset_commit_response_offset_commit_response_partition_decode(&pc, 7,
										       &p), 0);
	return p.error_code;
}

/* OffsetFetch v5 of t-0: the offset (-1: none; -2: no partition answered),
 * the group's error (else the partition's) in *err. */
static int64_t
fetch(const char *group, int16_t *err)
{
	struct kp_offset_fetch_request r;
	struct kp_offset_fetch_request_offset_fetch_request_topic t;
	struct kp_offset_fetch_response resp;
	struct kp_offset_fetch_response_offset_fetch_response_topic rt;
	struct kp_offset_fetch_response_offset_fetch_response_partition rp;
	int32_t parts[1] = { 0 };
	struct kp_writer w, ts;

	kp_writer_init(&w, 128);
	kp_writer_init(&ts, 128);
	kp_offset_fetch_request_offset_fetch_request_topic_init(&t);
	t.name = kp_str_c("t");
	t.partition_indexes = (struct kp_array){ 1, NULL, NULL, parts };
	kp_offset_fetch_request_offset_fetch_request_topic_encode(&ts, 5, &t);
	kp_offset_fetch_request_init(&r);
	r.group_id = kp_str_c(group);
	r.topics = kp_array_wire(1, &ts);
	kp_offset_fetch_request_encode(&w, 5, &r);
	const struct reply *rep = reply_of(send_req(KP_API_OFFSET_FETCH, 5, &w));

	kp_writer_free(&ts);
	kp_writer_free(&w);
	cr_assert_not_null(rep);
	struct kp_cursor c = kp_cursor_make(rep->data, rep->len);

	cr_assert_eq(kp_offset_fetch_response_decode(&c, 5, &resp), 0);
	*err = resp.error_code;
	if (resp.topics.count != 1)
		return -2;
	struct kp_cursor tc = kp_array_cursor(&resp.topics);

	cr_assert_eq(kp_offset_fetch_response_offset_fetch_response_topic_decode(&tc, 5, &rt), 0);
	struct kp_cursor pc = kp_array_cursor(&rt.partitions);

	cr_assert_eq(kp_offset_fetch_response_offset_fetch_response_partition_decode(&pc, 5, &rp),
		     0);
	if (*err == KP_ERR_NONE)
		*err = rp.error_code;
	return rp.committed_offset;
}

/* One JoinGroup v5 of member (""): its corr. */
static int32_t
join_once(const char *group, const char *member)
{
	struct kp_join_group_request r;
	struct kp_join_group_request_join_group_request_protocol p;
	struct kp_writer w;

	kp_join_group_request_join_group_request_protocol_init(&p);
	p.name = kp_str_c("range");
	p.metadata = (struct kp_bytes){ (const uint8_t *)"x", 1 };
	kp_join_group_request_init(&r);
	r.group_id = kp_str_c(group);
	r.session_timeout_ms = 10000;
	r.rebalance_timeout_ms = 30000;
	r.member_id = kp_str_c(member);
	r.group_instance_id = (struct kp_str){ NULL, -1 };
	r.protocol_type = kp_str_c("consumer");
	r.protocols.count = 1;
	r.protocols.items = &p;
	kp_writer_init(&w, 128);
	kp_join_group_request_encode(&w, 5, &r);
	int32_t corr = send_req(KP_API_JOIN_GROUP, 5, &w);

	kp_writer_free(&w);
	return corr;
}

/* A new member (v4+: the first join gets its id, the rejoin parks for the
 * initial rebalance delay): the rejoin's corr, the member id in id. */
static int32_t
join(const char *group, char *id, size_t id_size)
{
	struct kp_join_group_response resp;
	const struct reply *rep = reply_of(join_once(group, ""));

	cr_assert_not_null(rep);
	struct kp_cursor c = kp_cursor_make(rep->data, rep->len);

	cr_assert_eq(kp_join_group_response_decode(&c, 5, &resp), 0);
	cr_assert_eq(resp.error_code, KP_ERR_MEMBER_ID_REQUIRED);
	snprintf(id, id_size, "%.*s", (int)resp.member_id.len, resp.member_id.ptr);
	return join_once(group, id);
}

/* A group other than base in base's partition. */
static const char *
same_partition(const char *base)
{
	static char name[16];
	int32_t p = grp_log_partition_of(kp_str_c(base), PARTS);

	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "j%d", i);
		if (grp_log_partition_of(kp_str_c(name), PARTS) == p)
			return name;
	}
	cr_assert_fail("no group in partition %d", p);
	return NULL;
}

Test(grp_cluster_store, partitions_follow_leadership_end_to_end)
{
	const char *g = "g";
	const char *j = same_partition(g);
	int32_t pg = grp_log_partition_of(kp_str_c(g), PARTS);
	char member[128] = "";
	struct kp_join_group_response jr;
	int16_t err;

	boot();
	create_topics();
	/* Not led here: NOT_COORDINATOR, in each API's error field. */
	cr_assert_eq(fetch(g, &err), -2, "a group error answers no partitions");
	cr_assert_eq(err, KP_ERR_NOT_COORDINATOR);
	cr_assert_eq(commit_err(commit(g, 1)), KP_ERR_NOT_COORDINATOR);
	/* Led: loading, then served. */
	grp_coord_partition_role(ctl->groups, pg, true, 0);
	fetch(g, &err);
	cr_assert_eq(err, KP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
	run();
	cr_assert_eq(fetch(g, &err), -1);
	cr_assert_eq(err, KP_ERR_NONE);
	int32_t c = commit(g, 42);

	cr_assert_null(reply_of(c), "answered only once appended");
	run();
	cr_assert_eq(commit_err(c), KP_ERR_NONE);
	cr_assert_eq(fetch(g, &err), 42);
	/* A member waits in JoinGroup (the initial rebalance delay). */
	c = join(j, member, sizeof(member));
	cr_assert_null(reply_of(c));
	/* The partition moves away. */
	grp_coord_partition_role(ctl->groups, pg, false, 1);
	const struct reply *rep = reply_of(c);

	cr_assert_not_null(rep, "the parked JoinGroup is answered");
	struct kp_cursor cur = kp_cursor_make(rep->data, rep->len);

	cr_assert_eq(kp_join_group_response_decode(&cur, 5, &jr), 0);
	cr_assert_eq(jr.error_code, KP_ERR_NOT_COORDINATOR);
	cr_assert(kp_str_eq(jr.member_id, kp_str_c(member)));
	cr_assert_null(grp_find(ctl->groups, kp_str_c(g)));
	cr_assert_null(grp_find(ctl->groups, kp_str_c(j)));
	cr_assert_eq(grp_coord_deadline(ctl->groups), UINT64_MAX);
	fetch(g, &err);
	cr_assert_eq(err, KP_ERR_NOT_COORDINATOR);
	/* Led again: loaded from the log, the commit made before is back. */
	grp_coord_partition_role(ctl->groups, pg, true, 2);
	run();
	cr_assert_eq(fetch(g, &err), 42);
	cr_assert_eq(err, KP_ERR_NONE);
}
