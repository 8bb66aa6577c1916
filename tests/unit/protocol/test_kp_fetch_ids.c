/* SPDX-License-Identifier: Apache-2.0 */
/* Tests Fetch v13-17 through the protocol core against the fake storage,
 * with a cluster-mode snapshot of six topics and fifteen partitions: topics
 * named by id in request and response (UNKNOWN_TOPIC_ID for ids the
 * snapshot does not know, answered after the partitions read, a consumer's
 * before its other refused partitions), partitions listed twice merged, one
 * topic entry per run of one id, records in several partitions of one
 * response (spliced back from the pieces), and from v16 KIP-951's
 * current_leader on NOT_LEADER_OR_FOLLOWER and FENCED_LEADER_EPOCH with the
 * leaders' node_endpoints in id order. v12 (by name) is answered as before:
 * no ids, no hints. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/gen/kp_api.h"
#include "protocol/gen/kp_msg_fetch.h"
#include "protocol/gen/kp_msg_header.h"
#include "protocol/kp_acl.h"
#include "protocol/kp_core_int.h"
#include "tests/unit/protocol/core_harness.h"

/* ---- the snapshot: brokers 1 (self), 2 (rack rb) and 4 alive ---- */

#define F_TOPICS 6
#define F_PARTS_MAX 4

static const char *const f_names[F_TOPICS] = { "t0", "t1", "t2", "t3", "t4", "t5" };
static const int32_t f_counts[F_TOPICS] = { 3, 1, 4, 1, 2, 4 };
static struct kp_md_topic f_tops[F_TOPICS];
static const struct kp_md_topic *f_by_id[F_TOPICS];
static struct kp_md_partition f_parts[F_TOPICS][F_PARTS_MAX];

static const int32_t r_self[] = { 1, 2 };       /* led here, 2 follows */
static const int32_t r_two[] = { 2, 1 };        /* led by 2, this broker follows */
static const int32_t r_four[] = { 4, 2 };       /* led by 4, not a replica here */
static const int32_t r_dead[] = { 3 };          /* no leader: 3 is dead */

static const struct kp_md_broker f_brokers[] = {
	{ 1, NULL, 1, { { "PLAINTEXT", "127.0.0.1", 9092, 0 } } },
	{ 2, "rb", 1, { { "PLAINTEXT", "h2", 9102, 0 } } },
	{ 4, NULL, 1, { { "PLAINTEXT", "h4", 9104, 0 } } },
};

/* Partition (t, p): led here at epoch 10t + p, except t2-1 and t5-2 (led
 * by 2), t2-3 (led by 4) and t3-0 (no leader). */
static struct kp_md_partition
f_state(int t, int p)
{
	struct kp_md_partition mp = { 1, 10 * t + p, 1, 2, 2, 0, r_self, r_self, r_self };

	if ((t == 2 && p == 1) || (t == 5 && p == 2)) {
		mp.leader = 2;
		mp.replicas = mp.isr = r_two;
	} else if (t == 2 && p == 3) {
		mp.leader = 4;
		mp.replicas = mp.isr = r_four;
	} else if (t == 3) {
		mp.leader = -1;
		mp.replica_count = mp.isr_count = mp.offline_count = 1;
		mp.replicas = mp.isr = mp.offline = r_dead;
	}
	return mp;
}

/* The request's isolation level and session (f_setup: 0, 0, -1). */
static int8_t f_isolation;
static int32_t f_session_id;
static int32_t f_session_epoch;

static void
f_setup(void)
{
	h_setup();
	for (int t = 0; t < F_TOPICS; t++) {
		memset(&f_tops[t], 0, sizeof(f_tops[t]));
		f_tops[t].name = kp_str_c(f_names[t]);
		f_tops[t].id.b[0] = 0x40;
		f_tops[t].id.b[15] = (uint8_t)(t + 1);
		f_tops[t].partition_count = f_counts[t];
		f_tops[t].max_message_bytes = 1 << 20;
		for (int p = 0; p < f_counts[t]; p++)
			f_parts[t][p] = f_state(t, p);
		f_tops[t].partitions = f_parts[t];
		f_by_id[t] = &f_tops[t];
	}
	h_md.topic_count = F_TOPICS;
	h_md.topics = f_tops;
	h_md.by_id = f_by_id;
	h_md.cluster = true;
	h_md.brokers = f_brokers;
	h_md.broker_count = 3;
	fake_st.error_p1 = KP_ERR_NONE;
	fake_st.read_len = 30;          /* partition 0 reads find records */
	f_isolation = 0;
	f_session_id = 0;
	f_session_epoch = -1;
}

TestSuite(fetch_ids, .init = f_setup, .fini = h_teardown);

/* ---- requests: topic entries by index (t >= 0) or unknown id (t < 0) ---- */

struct f_entry {
	int t;                  /* topic index; -1, -2: unknown ids */
	int n;
	int32_t parts[6];
	int32_t epochs[6];      /* current_leader_epoch; 0 means -1 here */
};

static struct kp_uuid
f_id(int t)
{
	struct kp_uuid id = { { 0 } };

	if (t >= 0)
		return f_tops[t].id;
	id.b[0] = 0x7f;
	id.b[15] = (uint8_t)-t;
	return id;
}

/* The whole frame of a Fetch at version over entries. */
static struct kp_writer
f_request(int16_t version, const struct f_entry *e, int n, int32_t replica_id)
{
	struct kp_fetch_request_fetch_partition fp[16][6];
	struct kp_fetch_request_fetch_topic ft[16];
	struct kp_request_header hdr = { KP_API_FETCH, version, 7, kp_str_c("t") };
	struct kp_fetch_request req;
	struct kp_writer w;

	cr_assert_leq(n, 16);
	for (int i = 0; i < n; i++) {
		kp_fetch_request_fetch_topic_init(&ft[i]);
		if (version >= 13)
			ft[i].topic_id = f_id(e[i].t);
		else
			ft[i].topic = kp_str_c(e[i].t >= 0 ? f_names[e[i].t] : "nosuch");
		for (int k = 0; k < e[i].n; k++) {
			kp_fetch_request_fetch_partition_init(&fp[i][k]);
			fp[i][k].partition = e[i].parts[k];
			fp[i][k].current_leader_epoch = e[i].epochs[k] != 0 ? e[i].epochs[k] : -1;
			fp[i][k].fetch_offset = 3;
			fp[i][k].partition_max_bytes = 1 << 20;
		}
		ft[i].partitions = (struct kp_array){ .count = e[i].n, .items = fp[i] };
	}
	kp_fetch_request_init(&req);
	if (version >= 15)
		req.replica_state.replica_id = replica_id;
	else
		req.replica_id = replica_id;
	req.max_bytes = 1 << 20;
	req.isolation_level = f_isolation;
	req.session_id = f_session_id;
	req.session_epoch = f_session_epoch;
	req.topics = (struct kp_array){ .count = n, .items = ft };
	kp_writer_init(&w, 512);
	kp_request_header_encode(&w, kp_request_header_version(KP_API_FETCH, version), &hdr);
	kp_fetch_request_encode(&w, version, &req);
	return w;
}

/* ---- answers ---- */

/* One partition of a decoded answer. */
struct f_got {
	struct kp_uuid id;
	struct kp_str name;
	int32_t partition;
	int16_t error;
	int32_t leader_id;
	int32_t leader_epoch;
	int32_t records;        /* length, -1: null */
	int topic_entry;        /* which topic entry it came in */
};

struct f_answer {
	uint8_t *buf;           /* the response with the pieces' bytes in place */
	int16_t error;
	int32_t session_id;
	int n;
	struct f_got got[32];
	int topic_entries;
	int endpoint_count;
	struct kp_fetch_response_node_endpoint endpoints[8];
};

/* The response with each piece's bytes (0xab) where it belongs: the
 * records Kafka's client would read there. */
static uint8_t *
f_splice(const struct kp_done *done, size_t *len)
{
	size_t total = done->resp.len, from = 0, to = 0;
	uint8_t *out;

	for (uint32_t i = 0; i < done->piece_count; i++)
		total += done->pieces[i].len;
	out = malloc(total);
	cr_assert_not_null(out);
	for (uint32_t i = 0; i < done->piece_count; i++) {
		const struct kp_piece *pc = &done->pieces[i];

		cr_assert_geq(pc->at, from);
		memcpy(out + to, done->resp.data + from, pc->at - from);
		to += pc->at - from;
		from = pc->at;
		memset(out + to, 0xab, pc->len);
		to += pc->len;
	}
	memcpy(out + to, done->resp.data + from, done->resp.len - from);
	*len = total;
	return out;
}

static void
f_decode_topic(struct f_answer *a, struct kp_cursor *it, int16_t version)
{
	struct kp_fetch_response_fetchable_topic_response tr;
	struct kp_cursor pit;

	cr_assert_eq(kp_fetch_response_fetchable_topic_response_decode(it, version, &tr), 0);
	pit = kp_array_cursor(&tr.partitions);
	cr_assert_gt(tr.partitions.count, 0, "no empty topic entry");
	for (int32_t p = 0; p < tr.partitions.count; p++) {
		struct kp_fetch_response_partition_data pd;
		struct f_got *g = &a->got[a->n++];

		cr_assert_lt(a->n, 32);
		cr_assert_eq(kp_fetch_response_partition_data_decode(&pit, version, &pd), 0);
		*g = (struct f_got){ tr.topic_id, tr.topic, pd.partition_index, pd.error_code,
				     pd.current_leader.leader_id, pd.current_leader.leader_epoch,
				     pd.records.len, a->topic_entries };
		if (pd.records.len > 0)
			cr_assert_eq(pd.records.ptr[0], 0xab, "a piece's bytes");
	}
	a->topic_entries++;
}

/* Dispatch the frame, answer it (storage at once), decode the spliced
 * response at version into a. */
static void
f_run(struct kp_writer *w, int16_t version, struct f_answer *a)
{
	struct kp_done done = { 0 };
	struct kp_fetch_response resp;
	struct kp_out out;
	struct kp_cursor c, it;
	size_t len;
	enum kp_verdict v = h_dispatch(w, 0, &out);

	memset(a, 0, sizeof(*a));
	if (v == KP_VERDICT_REPLY) {
		done.resp = out.resp;
	} else {
		cr_assert_eq(v, KP_VERDICT_PENDING);
		cr_assert_eq(h_poll(H_NOW, &done, 1), 1);
		cr_assert_eq(done.verdict, KP_VERDICT_REPLY);
	}
	a->buf = f_splice(&done, &len);
	c = kp_cursor_make(a->buf, len);
	cr_assert_eq(kp_read_i32(&c), (int32_t)len - 4, "the size counts the pieces");
	cr_assert_eq(kp_read_i32(&c), 7);
	if (kp_response_header_version(KP_API_FETCH, version) == 1)
		cr_assert_eq(kp_read_uvarint(&c), 0, "no header tags");
	cr_assert_eq(kp_fetch_response_decode(&c, version, &resp), 0);
	cr_assert_eq(c.pos, c.end, "nothing after the response");
	a->error = resp.error_code;
	a->session_id = resp.session_id;
	it = kp_array_cursor(&resp.responses);
	for (int32_t t = 0; t < resp.responses.count; t++)
		f_decode_topic(a, &it, version);
	it = kp_array_cursor(&resp.node_endpoints);
	a->endpoint_count = resp.node_endpoints.count;
	cr_assert_leq(a->endpoint_count, 8);
	for (int32_t i = 0; i < resp.node_endpoints.count; i++)
		kp_fetch_response_node_endpoint_decode(&it, version, &a->endpoints[i]);
	h_done_free(&done);
	kp_core_flush(h_kc);
	cr_assert_eq(fake_st.refs_held, 0);
}

/* ---- the multi-topic request and what Kafka answers it ---- */

static const struct f_entry f_req[] = {
	{ 0, 3, { 0, 1, 2 }, { 0, 0, 1 } },             /* t0-2 at epoch 1 < 2: fenced */
	{ -1, 2, { 0, 1 }, { 0 } },                     /* an unknown id */
	{ 2, 5, { 0, 1, 2, 3, 7 }, { 0 } },             /* t2-7 does not exist */
	{ 3, 1, { 0 }, { 0 } },
	{ 5, 2, { 2, 0 }, { 0 } },
	{ 0, 1, { 1 }, { 0 } },                         /* t0-1 again: merged */
	{ -2, 1, { 0 }, { 0 } },                        /* another unknown id */
	{ 1, 1, { 0 }, { 0 } },
	{ 4, 2, { 1, 0 }, { 0 } },
};

/* One expected partition: topic (index or unknown id), partition, error,
 * current leader (v16+), records expected (partition 0 reads). */
struct f_want {
	int t;
	int32_t partition;
	int16_t error;
	int32_t leader_id;
	int32_t leader_epoch;
};

#define NL KP_ERR_NOT_LEADER_OR_FOLLOWER

/* Read partitions in request order (led elsewhere or fenced included:
 * Kafka's readFromLog answers those), then the consumer's unknown ids,
 * then the unknown partition. */
static const struct f_want f_consumer[] = {
	{ 0, 0, 0, -1, -1 }, { 0, 1, 0, -1, -1 }, { 0, 2, KP_ERR_FENCED_LEADER_EPOCH, 1, 2 },
	{ 2, 0, 0, -1, -1 }, { 2, 1, NL, 2, 21 }, { 2, 2, 0, -1, -1 }, { 2, 3, NL, 4, 23 },
	{ 3, 0, NL, -1, 30 }, { 5, 2, NL, 2, 52 }, { 5, 0, 0, -1, -1 }, { 1, 0, 0, -1, -1 },
	{ 4, 1, 0, -1, -1 }, { 4, 0, 0, -1, -1 },
	{ -1, 0, KP_ERR_UNKNOWN_TOPIC_ID, -1, -1 }, { -1, 1, KP_ERR_UNKNOWN_TOPIC_ID, -1, -1 },
	{ -2, 0, KP_ERR_UNKNOWN_TOPIC_ID, -1, -1 },
	{ 2, 7, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION, -1, -1 },
};
#define F_CONSUMER_N ((int)(sizeof(f_consumer) / sizeof(f_consumer[0])))
/* Topic entries: t0, t2, t3, t5, t1, t4, id -1, id -2, t2 (its unknown 7). */
#define F_CONSUMER_ENTRIES 9

static void
f_check(const struct f_answer *a, int16_t version, const struct f_want *want, int n)
{
	cr_assert_eq(a->n, n, "v%d: %d partitions", version, a->n);
	for (int i = 0; i < n; i++) {
		const struct f_got *g = &a->got[i];
		const struct f_want *e = &want[i];
		bool hint = version >= 16 && e->leader_epoch != -1;
		struct kp_uuid id = f_id(e->t);
		const char *name = e->t >= 0 ? f_names[e->t] : "nosuch";

		if (version >= 13)
			cr_assert_eq(memcmp(g->id.b, id.b, 16), 0, "v%d part %d: id", version, i);
		else
			cr_assert(kp_str_eq(g->name, kp_str_c(name)));
		cr_assert_eq(g->partition, e->partition, "v%d part %d", version, i);
		cr_assert_eq(g->error, e->error, "v%d part %d: %d", version, i, g->error);
		cr_assert_eq(g->leader_id, hint ? e->leader_id : -1, "v%d part %d", version, i);
		cr_assert_eq(g->leader_epoch, hint ? e->leader_epoch : -1, "v%d part %d", version,
			     i);
		cr_assert_eq(g->records, e->error == 0 && e->partition == 0 ? 30 : 0,
			     "v%d part %d: records", version, i);
	}
}

/* node_endpoints: brokers 1, 2 and 4 (every named leader alive), by id. */
static void
f_check_endpoints(const struct f_answer *a, int16_t version)
{
	static const int32_t ids[] = { 1, 2, 4 }, ports[] = { 9092, 9102, 9104 };
	static const char *const hosts[] = { "127.0.0.1", "h2", "h4" };

	if (version < 16) {
		cr_assert_eq(a->endpoint_count, 0);
		return;
	}
	cr_assert_eq(a->endpoint_count, 3, "v%d: each live leader once", version);
	for (int i = 0; i < 3; i++) {
		const struct kp_fetch_response_node_endpoint *e = &a->endpoints[i];

		cr_assert_eq(e->node_id, ids[i]);
		cr_assert_eq(e->port, ports[i]);
		cr_assert(kp_str_eq(e->host, kp_str_c(hosts[i])));
		if (i == 1)
			cr_assert(kp_str_eq(e->rack, kp_str_c("rb")));
		else
			cr_assert_null(e->rack.ptr);
	}
}

static void
f_consumer_check(int16_t version)
{
	struct f_answer a;
	struct kp_writer w = f_request(version, f_req, 9, -1);

	f_run(&w, version, &a);
	cr_assert_eq(a.error, 0);
	cr_assert_eq(a.session_id, 0, "sessions declined");
	f_check(&a, version, f_consumer, F_CONSUMER_N);
	cr_assert_eq(a.topic_entries, F_CONSUMER_ENTRIES, "v%d: %d topic entries", version,
		     a.topic_entries);
	f_check_endpoints(&a, version);
	free(a.buf);
}

Test(fetch_ids, v13_topics_by_id)
{
	f_consumer_check(13);
	cr_assert_eq(fake_st_count(ST_REQ_READ), 8, "only the partitions led here are read");
}

Test(fetch_ids, v14_v15_by_id_without_hints)
{
	f_consumer_check(14);
	f_consumer_check(15);
}

Test(fetch_ids, v16_current_leader_and_node_endpoints)
{
	f_consumer_check(16);
}

Test(fetch_ids, v17_current_leader_and_node_endpoints)
{
	f_consumer_check(17);
}

/* v12 names topics: the same request by name (unknown ids become the
 * unknown name "nosuch", UNKNOWN_TOPIC_OR_PARTITION, merged into one
 * part per partition) and no hints. */
Test(fetch_ids, v12_by_name_unchanged)
{
	static const struct f_want want[] = {
		{ 0, 0, 0, -1, -1 }, { 0, 1, 0, -1, -1 },
		{ 0, 2, KP_ERR_FENCED_LEADER_EPOCH, -1, -1 },
		{ 2, 0, 0, -1, -1 }, { 2, 1, NL, -1, -1 }, { 2, 2, 0, -1, -1 },
		{ 2, 3, NL, -1, -1 }, { 3, 0, NL, -1, -1 }, { 5, 2, NL, -1, -1 },
		{ 5, 0, 0, -1, -1 }, { 1, 0, 0, -1, -1 }, { 4, 1, 0, -1, -1 }, { 4, 0, 0, -1, -1 },
		{ -1, 0, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION, -1, -1 },
		{ -1, 1, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION, -1, -1 },
		{ 2, 7, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION, -1, -1 },
	};
	struct f_answer a;
	struct kp_writer w = f_request(12, f_req, 9, -1);

	f_run(&w, 12, &a);
	f_check(&a, 12, want, (int)(sizeof(want) / sizeof(want[0])));
	cr_assert_eq(a.endpoint_count, 0);
	free(a.buf);
}

/* A follower's fetch (ReplicaState, v15+): Kafka refuses its unknown ids
 * and unknown partitions in one pass, in request order. */
Test(fetch_ids, follower_unknown_ids_in_request_order)
{
	struct f_want want[F_CONSUMER_N];
	struct f_answer a;
	struct kp_writer w;

	memcpy(want, f_consumer, sizeof(want));
	want[F_CONSUMER_N - 4] = f_consumer[F_CONSUMER_N - 4];  /* id -1, 0 */
	want[F_CONSUMER_N - 3] = f_consumer[F_CONSUMER_N - 3];  /* id -1, 1 */
	want[F_CONSUMER_N - 2] = f_consumer[F_CONSUMER_N - 1];  /* t2-7 */
	want[F_CONSUMER_N - 1] = f_consumer[F_CONSUMER_N - 2];  /* id -2, 0 */
	for (int16_t v = 15; v <= 17; v++) {
		w = f_request(v, f_req, 9, 2);
		f_run(&w, v, &a);
		f_check(&a, v, want, F_CONSUMER_N);
		f_check_endpoints(&a, v);
		free(a.buf);
	}
}

/* With an authorizer and no ACLs: an unknown id is UNKNOWN_TOPIC_ID (found
 * before any authorization), every known topic TOPIC_AUTHORIZATION_FAILED;
 * nothing is read, and the unknown ids come first. */
Test(fetch_ids, unknown_ids_before_authorization)
{
	struct kp_acl_index *ix = kp_acl_index_build(NULL, 0, NULL, 0, false);
	static const struct f_entry req[] = {
		{ 0, 2, { 0, 1 }, { 0 } }, { -1, 1, { 0 }, { 0 } }, { 5, 1, { 3 }, { 0 } },
	};
	static const struct f_want want[] = {
		{ -1, 0, KP_ERR_UNKNOWN_TOPIC_ID, -1, -1 },
		{ 0, 0, KP_ERR_TOPIC_AUTHORIZATION_FAILED, -1, -1 },
		{ 0, 1, KP_ERR_TOPIC_AUTHORIZATION_FAILED, -1, -1 },
		{ 5, 3, KP_ERR_TOPIC_AUTHORIZATION_FAILED, -1, -1 },
	};
	struct f_answer a;
	struct kp_writer w;

	cr_assert_not_null(ix);
	h_md.acl = ix;
	w = f_request(16, req, 3, -1);
	f_run(&w, 16, &a);
	f_check(&a, 16, want, 4);
	cr_assert_eq(a.endpoint_count, 0);
	cr_assert_eq(fake_st_count(ST_REQ_READ), 0);
	free(a.buf);
	h_md.acl = NULL;
	kp_acl_index_unref(ix);
}

/* A negative current_leader_epoch other than -1 is "not set" to Kafka
 * (FetchRequest.optionalEpoch), not a fenced epoch. */
Test(fetch_ids, negative_leader_epoch_is_unset)
{
	static const struct f_entry req[] = { { 0, 2, { 0, 1 }, { -2, 5 } } };
	static const struct f_want want[] = {
		{ 0, 0, 0, -1, -1 }, { 0, 1, KP_ERR_UNKNOWN_LEADER_EPOCH, -1, -1 },
	};
	struct f_answer a;
	struct kp_writer w = f_request(17, req, 1, -1);

	f_run(&w, 17, &a);
	f_check(&a, 17, want, 2);
	cr_assert_eq(a.endpoint_count, 0, "UNKNOWN_LEADER_EPOCH names no leader");
	free(a.buf);
}

/* An unknown isolation level from v13: the top-level error alone, with the
 * request's session id (Kafka's getErrorResponse); a session we never
 * granted: FETCH_SESSION_ID_NOT_FOUND, no partitions. */
Test(fetch_ids, top_level_errors_list_no_partitions)
{
	struct f_answer a;
	struct kp_writer w;

	f_isolation = 3;
	w = f_request(13, f_req, 9, -1);
	f_run(&w, 13, &a);
	cr_assert_eq(a.error, KP_ERR_UNKNOWN_SERVER_ERROR);
	cr_assert_eq(a.n, 0);
	free(a.buf);
	f_isolation = 0;
	f_session_id = 77;
	f_session_epoch = 4;
	w = f_request(17, f_req, 9, -1);
	f_run(&w, 17, &a);
	cr_assert_eq(a.error, KP_ERR_FETCH_SESSION_ID_NOT_FOUND);
	cr_assert_eq(a.n, 0);
	cr_assert_eq(a.session_id, 0);
	free(a.buf);
	cr_assert_eq(fake_st_count(ST_REQ_READ), 0);
}
