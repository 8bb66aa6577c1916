/* SPDX-License-Identifier: Apache-2.0 */
/* Tests the handlers against a cluster-mode snapshot (the core harness's
 * topics with ZooKeeper-like partition states): this broker (1) leads
 * alpha-0, follows alpha-1, is no replica of alpha-2, and beta-0 has no
 * leader; brokers 1, 2 and 4 are alive, 3 is dead. Partitions led
 * elsewhere are NOT_LEADER_OR_FOLLOWER in Produce, Fetch, ListOffsets,
 * OffsetForLeaderEpoch and DeleteRecords (Produce v10+ with KIP-951's
 * current leader and node endpoints); Metadata lists every broker and
 * every partition's state in every version, over many topics with many
 * partitions; DescribeCluster lists the live brokers. */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/gen/kp_api.h"
#include "protocol/gen/kp_msg_delete_records.h"
#include "protocol/gen/kp_msg_describe_cluster.h"
#include "protocol/gen/kp_msg_describe_producers.h"
#include "protocol/gen/kp_msg_fetch.h"
#include "protocol/gen/kp_msg_header.h"
#include "protocol/gen/kp_msg_list_offsets.h"
#include "protocol/gen/kp_msg_metadata.h"
#include "protocol/gen/kp_msg_offset_for_leader_epoch.h"
#include "protocol/gen/kp_msg_produce.h"
#include "protocol/kp_core_int.h"
#include "tests/unit/protocol/core_harness.h"

/* ---- the cluster: brokers 1 (self), 2, 4 alive; 3 dead ---- */

static const int32_t a0_r[] = { 1, 2, 4 };
static const int32_t a1_r[] = { 2, 1, 3 }, a1_i[] = { 2, 1 }, a1_o[] = { 3 };
static const int32_t a2_r[] = { 4, 2 };
static const int32_t b0_r[] = { 3 };

static const struct kp_md_partition c_alpha[] = {
	{ 1, 3, 7, 3, 3, 0, a0_r, a0_r, a0_r },
	{ 2, 4, 8, 3, 2, 1, a1_r, a1_i, a1_o },
	{ 4, 5, 9, 2, 2, 0, a2_r, a2_r, a2_r },
};
static const struct kp_md_partition c_beta[] = { { -1, 6, 2, 1, 1, 1, b0_r, b0_r, b0_r } };

static const struct kp_md_broker c_brokers[] = {
	{ 1, NULL, 1, { { "PLAINTEXT", "127.0.0.1", 9092, 0 } } },
	{ 2, "rb", 1, { { "PLAINTEXT", "h2", 9102, 0 } } },
	{ 4, NULL, 1, { { "PLAINTEXT", "h4", 9104, 0 } } },
};

static struct kp_md_topic c_tops[2];
static const struct kp_md_topic *c_by_id[2];

static void
c_setup(void)
{
	h_setup();
	for (int i = 0; i < 2; i++) {
		c_tops[i] = h_md.topics[i];
		c_by_id[i] = &c_tops[i];
	}
	c_tops[0].partitions = c_alpha;
	c_tops[1].partitions = c_beta;
	h_md.topics = c_tops;
	h_md.by_id = c_by_id;
	/* Storage answers every partition: the errors are the handlers'. */
	fake_st.error_p1 = KP_ERR_NONE;
	h_md.cluster = true;
	h_md.controller_id = 2;
	h_md.brokers = c_brokers;
	h_md.broker_count = 3;
}

TestSuite(cluster, .init = c_setup, .fini = h_teardown);

/* ---- frames and answers ---- */

static struct kp_writer
c_frame(int16_t key, int16_t version)
{
	struct kp_writer w;
	struct kp_request_header hdr = { key, version, 7, kp_str_c("t") };

	kp_writer_init(&w, 256);
	kp_request_header_encode(&w, kp_request_header_version(key, version), &hdr);
	return w;
}

/* Dispatch, poll once if pending; the response (free data) and a cursor
 * over its body in *c. */
static struct kp_buf
c_run(struct kp_writer *w, int16_t key, int16_t version, struct kp_cursor *c)
{
	struct kp_done done = { 0 };
	struct kp_out out;
	struct kp_buf b;
	enum kp_verdict v = h_dispatch(w, 0, &out);

	b = out.resp;
	if (v != KP_VERDICT_REPLY) {
		cr_assert_eq(v, KP_VERDICT_PENDING);
		cr_assert_eq(h_poll(H_NOW, &done, 1), 1);
		cr_assert_eq(done.verdict, KP_VERDICT_REPLY);
		b = done.resp;
	}
	*c = h_body(&b, 7);
	if (kp_response_header_version(key, version) == 1)
		cr_assert_eq(kp_read_uvarint(c), 0, "no header tags");
	return b;
}

/* alpha-0 (led here), alpha-1 (follower), alpha-2 (not a replica), beta-0
 * (no leader). */
static const char *const c_topics[] = { "alpha", "alpha", "alpha", "beta" };
static const int32_t c_parts[] = { 0, 1, 2, 0 };
static const int16_t c_led_here[] = { KP_ERR_NONE, KP_ERR_NOT_LEADER_OR_FOLLOWER,
				      KP_ERR_NOT_LEADER_OR_FOLLOWER,
				      KP_ERR_NOT_LEADER_OR_FOLLOWER };

/* ---- Produce ---- */

static void
c_produce_req(struct kp_writer *w, int16_t version)
{
	struct kp_produce_request_partition_produce_data pd[4];
	struct kp_produce_request_topic_produce_data td[2];
	struct kp_produce_request req;
	uint32_t len;
	const uint8_t *batch = h_batch(&len);

	for (int i = 0; i < 4; i++) {
		kp_produce_request_partition_produce_data_init(&pd[i]);
		pd[i].index = c_parts[i];
		pd[i].records = (struct kp_bytes){ batch, (int32_t)len };
	}
	for (int i = 0; i < 2; i++)
		kp_produce_request_topic_produce_data_init(&td[i]);
	td[0].name = kp_str_c("alpha");
	td[0].partition_data = (struct kp_array){ .count = 3, .items = pd };
	td[1].name = kp_str_c("beta");
	td[1].partition_data = (struct kp_array){ .count = 1, .items = &pd[3] };
	kp_produce_request_init(&req);
	req.transactional_id = kp_str_c(NULL);
	req.acks = 1;
	req.timeout_ms = 1000;
	req.topic_data = (struct kp_array){ .count = 2, .items = td };
	kp_produce_request_encode(w, version, &req);
}

/* Produce at version: every partition's error, current leader (v10+) and
 * the node endpoints. */
static void
c_produce_check(int16_t version)
{
	static const int32_t leader[] = { -1, 2, 4, -1 }, epoch[] = { -1, 4, 5, -1 };
	struct kp_writer w = c_frame(KP_API_PRODUCE, version);
	struct kp_produce_response resp;
	struct kp_cursor c, it;
	struct kp_buf b;
	int n = 0;

	c_produce_req(&w, version);
	b = c_run(&w, KP_API_PRODUCE, version, &c);
	cr_assert_eq(kp_produce_response_decode(&c, version, &resp), 0);
	it = kp_array_cursor(&resp.responses);
	for (int32_t t = 0; t < resp.responses.count; t++) {
		struct kp_produce_response_topic_produce_response tr;
		struct kp_cursor pit;

		kp_produce_response_topic_produce_response_decode(&it, version, &tr);
		pit = kp_array_cursor(&tr.partition_responses);
		for (int32_t p = 0; p < tr.partition_responses.count; p++, n++) {
			struct kp_produce_response_partition_produce_response pr;

			kp_produce_response_partition_produce_response_decode(&pit, version, &pr);
			cr_assert_eq(pr.index, c_parts[n]);
			cr_assert_eq(pr.error_code, c_led_here[n], "v%d part %d", version, n);
			cr_assert_eq(pr.current_leader.leader_id, version >= 10 ? leader[n] : -1);
			cr_assert_eq(pr.current_leader.leader_epoch, version >= 10 ? epoch[n] : -1);
		}
	}
	cr_assert_eq(n, 4);
	cr_assert_eq(fake_st_count(ST_REQ_APPEND), 1, "only the led partition is appended");
	if (version < 10) {
		cr_assert_eq(resp.node_endpoints.count, 0);
	} else {
		struct kp_produce_response_node_endpoint e;

		cr_assert_eq(resp.node_endpoints.count, 2, "the live leaders, once each");
		it = kp_array_cursor(&resp.node_endpoints);
		kp_produce_response_node_endpoint_decode(&it, version, &e);
		cr_assert_eq(e.node_id, 2);
		cr_assert(kp_str_eq(e.host, kp_str_c("h2")));
		cr_assert_eq(e.port, 9102);
		cr_assert(kp_str_eq(e.rack, kp_str_c("rb")));
		kp_produce_response_node_endpoint_decode(&it, version, &e);
		cr_assert_eq(e.node_id, 4);
		cr_assert(kp_str_eq(e.host, kp_str_c("h4")));
		cr_assert_eq(e.port, 9104);
		cr_assert_null(e.rack.ptr);
		cr_assert_eq(it.err, 0);
	}
	free(b.data);
}

Test(cluster, produce_v3_to_v9_not_leader)
{
	for (int16_t v = 3; v <= 9; v++) {
		fake_st_reset();
		fake_st.error_p1 = KP_ERR_NONE;
		c_produce_check(v);
	}
}

Test(cluster, produce_v10_v11_current_leader_and_node_endpoints)
{
	c_produce_check(10);
	fake_st_reset();
	fake_st.error_p1 = KP_ERR_NONE;
	c_produce_check(11);
}

/* ---- Fetch, ListOffsets, DeleteRecords, DescribeProducers ---- */

/* The error of each partition of a response the request's order mirrors;
 * one int16 at err_at in each decoded partition entry. */
static void
c_errors(struct kp_writer *w, int16_t key, int16_t version, const struct kp_shape *shape,
	 size_t err_at, const int16_t *want, int n)
{
	_Alignas(max_align_t) uint8_t top[512], entry[512];
	struct kp_array topics;
	struct kp_cursor c, it;
	struct kp_buf b = c_run(w, key, version, &c);
	int k = 0;

	cr_assert_eq(shape->request(&c, version, top, &topics), 0);
	it = kp_array_cursor(&topics);
	for (int32_t t = 0; t < topics.count; t++) {
		struct kp_array parts;
		struct kp_cursor pit;

		(void)shape->topic(&it, version, &parts);
		pit = kp_array_cursor(&parts);
		for (int32_t p = 0; p < parts.count; p++, k++) {
			int16_t e;

			shape->part(&pit, version, entry);
			memcpy(&e, entry + err_at, sizeof(e));
			cr_assert_lt(k, n);
			cr_assert_eq(e, want[k], "api %d v%d part %d: %d", key, version, k, e);
		}
	}
	cr_assert_eq(k, n);
	free(b.data);
}

KP_SHAPE_DEFINE(fetch_resp, kp_fetch_response, responses,
		kp_fetch_response_fetchable_topic_response, topic, partitions,
		kp_fetch_response_partition_data);

Test(cluster, fetch_not_leader)
{
	struct kp_writer w = c_frame(KP_API_FETCH, 11);

	h_fetch(&w, 0, 1, 0, 0, c_topics, c_parts, 4);
	c_errors(&w, KP_API_FETCH, 11, &fetch_resp,
		 offsetof(struct kp_fetch_response_partition_data, error_code), c_led_here, 4);
}

KP_SHAPE_DEFINE(lo_resp, kp_list_offsets_response, topics,
		kp_list_offsets_response_list_offsets_topic_response, name, partitions,
		kp_list_offsets_response_list_offsets_partition_response);

Test(cluster, list_offsets_not_leader)
{
	for (int16_t v = 1; v <= 7; v++) {
		struct kp_writer w = c_frame(KP_API_LIST_OFFSETS, v);

		h_list_offsets(&w, v, c_topics, c_parts, 4);
		c_errors(&w, KP_API_LIST_OFFSETS, v, &lo_resp,
			 offsetof(struct kp_list_offsets_response_list_offsets_partition_response,
				  error_code), c_led_here, 4);
	}
}

KP_SHAPE_DEFINE(dr_resp, kp_delete_records_response, topics,
		kp_delete_records_response_delete_records_topic_result, name, partitions,
		kp_delete_records_response_delete_records_partition_result);

Test(cluster, delete_records_not_leader)
{
	struct kp_delete_records_request_delete_records_partition dp[4];
	struct kp_delete_records_request_delete_records_topic dt[2];
	struct kp_delete_records_request req;
	struct kp_writer w = c_frame(KP_API_DELETE_RECORDS, 2);

	for (int i = 0; i < 4; i++)
		dp[i] = (struct kp_delete_records_request_delete_records_partition){
			c_parts[i], 0 };
	kp_delete_records_request_delete_records_topic_init(&dt[0]);
	kp_delete_records_request_delete_records_topic_init(&dt[1]);
	dt[0].name = kp_str_c("alpha");
	dt[0].partitions = (struct kp_array){ .count = 3, .items = dp };
	dt[1].name = kp_str_c("beta");
	dt[1].partitions = (struct kp_array){ .count = 1, .items = &dp[3] };
	kp_delete_records_request_init(&req);
	req.topics = (struct kp_array){ .count = 2, .items = dt };
	req.timeout_ms = 1000;
	kp_delete_records_request_encode(&w, 2, &req);
	c_errors(&w, KP_API_DELETE_RECORDS, 2, &dr_resp,
		 offsetof(struct kp_delete_records_response_delete_records_partition_result,
			  error_code), c_led_here, 4);
	cr_assert_eq(fake_st_count(ST_REQ_DELETE_RECORDS), 1);
}

KP_SHAPE_DEFINE(dp_resp, kp_describe_producers_response, topics,
		kp_describe_producers_response_topic_response, name, partitions,
		kp_describe_producers_response_partition_response);

Test(cluster, describe_producers_any_replica_answers)
{
	static const int16_t want[] = { KP_ERR_NONE, KP_ERR_NONE, KP_ERR_NOT_LEADER_OR_FOLLOWER,
					KP_ERR_NOT_LEADER_OR_FOLLOWER };
	struct kp_describe_producers_request_topic_request dt[2];
	struct kp_describe_producers_request req;
	struct kp_writer w = c_frame(KP_API_DESCRIBE_PRODUCERS, 0);

	for (int i = 0; i < 2; i++)
		kp_describe_producers_request_topic_request_init(&dt[i]);
	dt[0].name = kp_str_c("alpha");
	dt[0].partition_indexes = (struct kp_array){ .count = 3, .items = c_parts };
	dt[1].name = kp_str_c("beta");
	dt[1].partition_indexes = (struct kp_array){ .count = 1, .items = &c_parts[3] };
	kp_describe_producers_request_init(&req);
	req.topics = (struct kp_array){ .count = 2, .items = dt };
	kp_describe_producers_request_encode(&w, 0, &req);
	c_errors(&w, KP_API_DESCRIBE_PRODUCERS, 0, &dp_resp,
		 offsetof(struct kp_describe_producers_response_partition_response, error_code),
		 want, 4);
	cr_assert_eq(fake_st_count(ST_REQ_PRODUCERS), 2, "the leader's and the follower's");
}

/* ---- OffsetForLeaderEpoch ---- */

KP_SHAPE_DEFINE(ep_resp, kp_offset_for_leader_epoch_response, topics,
		kp_offset_for_leader_epoch_response_offset_for_leader_topic_result, topic,
		partitions, kp_offset_for_leader_epoch_response_epoch_end_offset);

static void
c_epoch(int32_t current, const int16_t *want)
{
	struct kp_writer w = c_frame(KP_API_OFFSET_FOR_LEADER_EPOCH, 3);

	h_epoch(&w, current, c_topics, c_parts, 4);
	c_errors(&w, KP_API_OFFSET_FOR_LEADER_EPOCH, 3, &ep_resp,
		 offsetof(struct kp_offset_for_leader_epoch_response_epoch_end_offset, error_code),
		 want, 4);
}

Test(cluster, offset_for_leader_epoch_epochs_then_leader)
{
	/* alpha-0 is at epoch 3 here, alpha-1 (a follower) at 4; alpha-2 is
	 * not hosted (no epoch check), beta-0 at 6 with no leader. */
	c_epoch(-1, c_led_here);
	c_epoch(3, (const int16_t[]){ KP_ERR_NONE, KP_ERR_FENCED_LEADER_EPOCH,
				      KP_ERR_NOT_LEADER_OR_FOLLOWER,
				      KP_ERR_NOT_LEADER_OR_FOLLOWER });
	c_epoch(2, (const int16_t[]){ KP_ERR_FENCED_LEADER_EPOCH, KP_ERR_FENCED_LEADER_EPOCH,
				      KP_ERR_NOT_LEADER_OR_FOLLOWER,
				      KP_ERR_NOT_LEADER_OR_FOLLOWER });
	c_epoch(4, (const int16_t[]){ KP_ERR_UNKNOWN_LEADER_EPOCH, KP_ERR_NOT_LEADER_OR_FOLLOWER,
				      KP_ERR_NOT_LEADER_OR_FOLLOWER,
				      KP_ERR_NOT_LEADER_OR_FOLLOWER });
	c_epoch(9, (const int16_t[]){ KP_ERR_UNKNOWN_LEADER_EPOCH, KP_ERR_UNKNOWN_LEADER_EPOCH,
				      KP_ERR_NOT_LEADER_OR_FOLLOWER,
				      KP_ERR_NOT_LEADER_OR_FOLLOWER });
}

/* ---- Metadata and DescribeCluster over many topics and partitions ---- */

#define M_TOPICS 12
#define M_PARTS_MAX 40

/* Broker 5 is alive without the PLAINTEXT listener (only EXT). */
static const struct kp_md_broker m_brokers[] = {
	{ 1, "ra", 1, { { "PLAINTEXT", "127.0.0.1", 9092, 0 } } },
	{ 2, "rb", 1, { { "PLAINTEXT", "h2", 9102, 0 } } },
	{ 4, NULL, 2, { { "EXT", "x4", 29104, 2 }, { "PLAINTEXT", "h4", 9104, 0 } } },
	{ 5, NULL, 1, { { "EXT", "x5", 29105, 2 } } },
};
static struct kp_md_topic m_topics[M_TOPICS];
static const struct kp_md_topic *m_by_id[M_TOPICS];
static struct kp_md_partition m_parts[M_TOPICS][M_PARTS_MAX];
static int32_t m_ids[M_TOPICS][M_PARTS_MAX][3][4];
static char m_names[M_TOPICS][8];

static bool
m_reachable(int32_t id)
{
	return id == 1 || id == 2 || id == 4;
}

/* Partition p of topic t: 1 to 4 replicas among 1..5 from a rotating
 * start, the leader a rotating choice (a live one, the dead 3, the
 * listener-less 5, none), ISR the replicas but the dead. */
static void
m_partition(int t, int32_t p)
{
	static const int32_t leaders[] = { 1, 2, 4, -1, 3, 5, 2, 1 };
	struct kp_md_partition *mp = &m_parts[t][p];
	int32_t *r = m_ids[t][p][0], *isr = m_ids[t][p][1], *off = m_ids[t][p][2];
	int32_t n = (p + t) % 4 + 1;

	*mp = (struct kp_md_partition){ .leader = leaders[(p + 3 * t) % 8],
					.leader_epoch = p + t, .partition_epoch = p };
	for (int32_t i = 0; i < n; i++) {
		r[i] = (p + i + t) % 5 + 1;
		if (r[i] != 3)
			isr[mp->isr_count++] = r[i];
		if (r[i] == 3)
			off[mp->offline_count++] = r[i];
	}
	mp->replica_count = n;
	mp->replicas = r;
	mp->isr = isr;
	mp->offline = off;
}

static void
m_setup(void)
{
	c_setup();
	for (int t = 0; t < M_TOPICS; t++) {
		snprintf(m_names[t], sizeof(m_names[t]), "t%02d", t);
		m_topics[t] = (struct kp_md_topic){ .name = kp_str_c(m_names[t]),
						    .partition_count = t * 3 + 4,
						    .max_message_bytes = 1 << 20,
						    .partitions = m_parts[t] };
		m_topics[t].id.b[0] = (uint8_t)(t + 1);
		m_by_id[t] = &m_topics[t];
		for (int32_t p = 0; p < m_topics[t].partition_count; p++)
			m_partition(t, p);
	}
	h_md.topics = m_topics;
	h_md.by_id = m_by_id;
	h_md.topic_count = M_TOPICS;
	h_md.brokers = m_brokers;
	h_md.broker_count = 4;
}

static void
m_ids_check(struct kp_array got, const int32_t *want, int32_t n, bool reachable_only,
	    const char *what, int16_t v)
{
	struct kp_cursor it = kp_array_cursor(&got);
	int32_t k = 0;

	for (int32_t i = 0; i < n; i++) {
		if (reachable_only && !m_reachable(want[i]))
			continue;
		cr_assert_lt(k, got.count, "%s v%d", what, v);
		cr_assert_eq(kp_read_i32(&it), want[i], "%s v%d", what, v);
		k++;
	}
	cr_assert_eq(got.count, k, "%s v%d", what, v);
}

/* What Kafka's ZooKeeper-mode metadata cache answers for a partition. */
static void
m_partition_check(int16_t v, const struct kp_md_partition *mp,
		  const struct kp_metadata_response_metadata_response_partition *pr)
{
	bool leader_ok = mp->leader >= 0 && m_reachable(mp->leader);
	bool missing = false;
	int16_t err = KP_ERR_NONE;
	int32_t off[4], noff = 0;

	for (int32_t i = 0; i < mp->replica_count; i++)
		if (!m_reachable(mp->replicas[i]))
			off[noff++] = mp->replicas[i];
	for (int32_t i = 0; i < mp->isr_count; i++)
		missing |= !m_reachable(mp->isr[i]);
	if (!leader_ok)
		err = mp->leader == 5 && v >= 6 ? KP_ERR_LISTENER_NOT_FOUND
						: KP_ERR_LEADER_NOT_AVAILABLE;
	else if (v == 0 && (noff > 0 || missing))
		err = KP_ERR_REPLICA_NOT_AVAILABLE;
	cr_assert_eq(pr->error_code, err, "v%d leader %d", v, mp->leader);
	cr_assert_eq(pr->leader_id, leader_ok ? mp->leader : -1);
	cr_assert_eq(pr->leader_epoch, v >= 7 ? mp->leader_epoch : -1);
	m_ids_check(pr->replica_nodes, mp->replicas, mp->replica_count, v == 0, "replicas", v);
	m_ids_check(pr->isr_nodes, mp->isr, mp->isr_count, v == 0, "isr", v);
	if (v >= 5)
		m_ids_check(pr->offline_replicas, off, noff, false, "offline", v);
}

static void
m_brokers_check(int16_t v, struct kp_array brokers)
{
	static const int32_t ids[] = { 1, 2, 4 }, ports[] = { 9092, 9102, 9104 };
	static const char *const hosts[] = { "127.0.0.1", "h2", "h4" };
	static const char *const racks[] = { "ra", "rb", NULL };
	struct kp_cursor it = kp_array_cursor(&brokers);

	cr_assert_eq(brokers.count, 3, "the brokers with the client's listener");
	for (int i = 0; i < 3; i++) {
		struct kp_metadata_response_metadata_response_broker b;

		kp_metadata_response_metadata_response_broker_decode(&it, v, &b);
		cr_assert_eq(b.node_id, ids[i]);
		cr_assert(kp_str_eq(b.host, kp_str_c(hosts[i])));
		cr_assert_eq(b.port, ports[i]);
		if (v >= 1)
			cr_assert(kp_str_eq(b.rack, kp_str_c(racks[i])), "v%d broker %d", v, i);
	}
}

static void
m_metadata(int16_t v)
{
	struct kp_writer w = c_frame(KP_API_METADATA, v);
	struct kp_metadata_request req;
	struct kp_metadata_response resp;
	struct kp_cursor c, it;
	struct kp_buf b;
	int32_t total = 0;

	kp_metadata_request_init(&req);
	req.topics.count = v == 0 ? 0 : -1;
	kp_metadata_request_encode(&w, v, &req);
	b = c_run(&w, KP_API_METADATA, v, &c);
	cr_assert_eq(kp_metadata_response_decode(&c, v, &resp), 0, "v%d", v);
	cr_assert_eq(c.pos, c.end, "v%d: nothing after the body", v);
	m_brokers_check(v, resp.brokers);
	if (v >= 1)
		cr_assert_eq(resp.controller_id, 2);
	cr_assert_eq(resp.topics.count, M_TOPICS);
	it = kp_array_cursor(&resp.topics);
	for (int t = 0; t < M_TOPICS; t++) {
		struct kp_metadata_response_metadata_response_topic tr;
		struct kp_cursor pit;

		kp_metadata_response_metadata_response_topic_decode(&it, v, &tr);
		cr_assert(kp_str_eq(tr.name, m_topics[t].name));
		cr_assert_eq(tr.partitions.count, m_topics[t].partition_count);
		pit = kp_array_cursor(&tr.partitions);
		for (int32_t p = 0; p < tr.partitions.count; p++, total++) {
			struct kp_metadata_response_metadata_response_partition pr;

			kp_metadata_response_metadata_response_partition_decode(&pit, v, &pr);
			cr_assert_eq(pr.partition_index, p);
			m_partition_check(v, &m_parts[t][p], &pr);
		}
		cr_assert_eq(pit.err, 0);
		cr_assert_eq(pit.pos, pit.end, "v%d %s: every partition decoded", v,
			     m_names[t]);
	}
	cr_assert_eq(it.err, 0);
	cr_assert_gt(total, 200);
	free(b.data);
}

TestSuite(cluster_metadata, .init = m_setup, .fini = h_teardown);

Test(cluster_metadata, every_version_lists_brokers_and_partition_states)
{
	for (int16_t v = 0; v <= 12; v++)
		m_metadata(v);
}

Test(cluster_metadata, describe_cluster_lists_live_brokers)
{
	for (int16_t v = 0; v <= 1; v++) {
		struct kp_writer w = c_frame(KP_API_DESCRIBE_CLUSTER, v);
		struct kp_describe_cluster_request req;
		struct kp_describe_cluster_response resp;
		struct kp_describe_cluster_response_describe_cluster_broker br;
		struct kp_cursor c, it;
		struct kp_buf b;

		kp_describe_cluster_request_init(&req);
		req.endpoint_type = 1;
		kp_describe_cluster_request_encode(&w, v, &req);
		b = c_run(&w, KP_API_DESCRIBE_CLUSTER, v, &c);
		cr_assert_eq(kp_describe_cluster_response_decode(&c, v, &resp), 0);
		cr_assert_eq(resp.error_code, 0);
		cr_assert_eq(resp.controller_id, 2);
		cr_assert_eq(resp.brokers.count, 3);
		it = kp_array_cursor(&resp.brokers);
		kp_describe_cluster_response_describe_cluster_broker_decode(&it, v, &br);
		cr_assert_eq(br.broker_id, 1);
		cr_assert(kp_str_eq(br.rack, kp_str_c("ra")));
		kp_describe_cluster_response_describe_cluster_broker_decode(&it, v, &br);
		cr_assert_eq(br.broker_id, 2);
		kp_describe_cluster_response_describe_cluster_broker_decode(&it, v, &br);
		cr_assert_eq(br.broker_id, 4);
		cr_assert(kp_str_eq(br.host, kp_str_c("h4")));
		cr_assert_eq(br.port, 9104);
		cr_assert_null(br.rack.ptr);
		free(b.data);
	}
}
