/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/rf_fetch.c. rf_batches_check(): which bytes of a leader's
 * Fetch answer the replica fetcher hands to storage. Whole batches from the
 * fetch offset on with contiguous offsets and a good CRC-32C; a torn last
 * batch is left for the next fetch; a corrupt or misplaced one refuses the
 * answer; the byte bound stops after a batch but always takes the first.
 * The requests one connection sends (Fetch v12 by name with replica_id,
 * v16 by topic id with ReplicaState; OffsetForLeaderEpoch v4) decoded
 * back, and answers applied: records kept, partition errors, KIP-279
 * divergence from OffsetForLeaderEpoch. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common/kafka_errors.h"
#include "common/rbatch.h"
#include "control/rf_int.h"
#include "protocol/gen/kp_api.h"
#include "protocol/gen/kp_msg_fetch.h"
#include "protocol/gen/kp_msg_list_offsets.h"
#include "protocol/gen/kp_msg_offset_for_leader_epoch.h"
#include "tests/unit/storage/tbatch.h"

/* Three batches of 2, 3 and 1 records at offsets 10, 12, 15. */
static uint8_t *
three(size_t *len, size_t sizes[3])
{
	int recs[3] = { 2, 3, 1 };
	int64_t base = 10;
	uint8_t *out = NULL;
	int i;

	*len = 0;
	for (i = 0; i < 3; i++) {
		struct tbatch_spec spec = tbatch_spec(recs[i], 40, 1000);
		uint32_t bl;
		uint8_t *b = tbatch_build(&spec, &bl);

		rbatch_set_base_offset(b, base);
		rbatch_set_leader_epoch(b, 3);
		base += recs[i];
		out = realloc(out, *len + bl);
		memcpy(out + *len, b, bl);
		*len += bl;
		sizes[i] = bl;
		free(b);
	}
	return out;
}

Test(rf_batches_check, whole_batches_in_order)
{
	size_t len, sz[3];
	uint8_t *b = three(&len, sz);
	int64_t next;

	cr_assert_eq(rf_batches_check(b, len, 10, 1 << 20, &next), (int64_t)len);
	cr_assert_eq(next, 16);
	free(b);
}

Test(rf_batches_check, torn_last_batch_left_for_later)
{
	size_t len, sz[3];
	uint8_t *b = three(&len, sz);
	int64_t next;

	cr_assert_eq(rf_batches_check(b, len - 5, 10, 1 << 20, &next), (int64_t)(sz[0] + sz[1]));
	cr_assert_eq(next, 15);
	cr_assert_eq(rf_batches_check(b, 30, 10, 1 << 20, &next), 0);
	cr_assert_eq(next, 10);
	free(b);
}

Test(rf_batches_check, corrupt_or_misplaced_refused)
{
	size_t len, sz[3];
	uint8_t *b = three(&len, sz);
	int64_t next;

	/* not at the fetch offset */
	cr_assert_eq(rf_batches_check(b, len, 11, 1 << 20, &next), -1);
	/* a record byte flipped in the second batch: its CRC fails */
	b[sz[0] + sz[1] - 1] ^= 0x55;
	cr_assert_eq(rf_batches_check(b, len, 10, 1 << 20, &next), -1);
	b[sz[0] + sz[1] - 1] ^= 0x55;
	/* a gap between batches */
	rbatch_set_base_offset(b + sz[0], 13);
	cr_assert_eq(rf_batches_check(b, len, 10, 1 << 20, &next), -1);
	rbatch_set_base_offset(b + sz[0], 12);
	/* magic 1 */
	b[16] = 1;
	cr_assert_eq(rf_batches_check(b, len, 10, 1 << 20, &next), -1);
	b[16] = 2;
	/* a batch length below the header's */
	b[8] = b[9] = b[10] = 0;
	b[11] = 10;
	cr_assert_eq(rf_batches_check(b, len, 10, 1 << 20, &next), -1);
	free(b);
}

Test(rf_batches_check, bound_stops_after_a_batch_but_takes_the_first)
{
	size_t len, sz[3];
	uint8_t *b = three(&len, sz);
	int64_t next;

	cr_assert_eq(rf_batches_check(b, len, 10, 1, &next), (int64_t)sz[0]);
	cr_assert_eq(next, 12);
	cr_assert_eq(rf_batches_check(b, len, 10, sz[0] + sz[1], &next), (int64_t)(sz[0] + sz[1]));
	free(b);
}

/* ---- requests and answers of one connection (rf_fetch_encode and
 * rf_fetch_answer on a fetcher's state built here; no thread, no socket) ---- */

static const uint8_t id_a[16] = { 0xa, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static const uint8_t id_b[16] = { 0xb, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static struct rf_part parts[4];
static struct rf_ref refs[4];
static struct rf_conn conn;
static struct rf rf;

/* Parts a-0, a-1, b-0 (and a-2 for OffsetForLeaderEpoch) on one leader. */
static void
state_init(int16_t fetch_version, enum rf_state st, uint32_t n)
{
	static char ta[] = "alpha", tb[] = "beta";
	uint32_t i;

	memset(&rf, 0, sizeof(rf));
	memset(parts, 0, sizeof(parts));
	memset(&conn, 0, sizeof(conn));
	rf.cfg = (struct rf_config){ .broker_id = 2, .fetch_max_bytes = 1000000,
				     .partition_max_bytes = 50000, .fetch_wait_max_ms = 400,
				     .fetch_min_bytes = 7, .backoff_ms = 100,
				     .socket_timeout_ms = 1000 };
	rf.parts = parts;
	rf.part_cap = 4;
	rf.conns = &conn;
	rf.conn_cap = 1;
	conn.used = true;
	conn.fd = -1;
	conn.fetch_version = fetch_version;
	conn.ofle_version = 4;
	conn.refs = refs;
	conn.ref_cap = 4;
	conn.inflight_api = -1;
	for (i = 0; i < n; i++) {
		struct rf_part *p = &parts[i];

		p->used = true;
		memcpy(p->topic_id, i == 2 ? id_b : id_a, 16);
		p->topic = i == 2 ? tb : ta;
		p->partition = i == 3 ? 2 : (int32_t)(i == 2 ? 0 : i);
		p->leader_id = 1;
		p->leader_epoch = 4;
		p->conn = &conn;
		p->state = st;
		p->gen = 7;
		p->fetch_offset = 10;
		p->log_start_offset = 0;
		p->local_epoch = 3;
		p->local_leo = 100;
		p->local_hw = 80;
		p->leader_hw = -1;
		p->in_request = true;
		refs[i] = (struct rf_ref){ .slot = i, .gen = 7 };
	}
	conn.ref_count = n;
}

static void
check_request(int16_t v)
{
	struct kp_fetch_request_fetch_partition fp;
	struct kp_fetch_request_fetch_topic ft;
	struct kp_fetch_request req;
	struct kp_cursor c, tc, pc;
	struct kp_writer w;
	int32_t t, i, seen = 0;

	state_init(v, RF_FETCH, 3);
	kp_writer_init(&w, 256);
	rf_fetch_encode(&rf, &conn, KP_API_FETCH, &w);
	cr_assert_eq(w.err, 0);
	c = kp_cursor_make(w.buf, w.len);
	cr_assert_eq(kp_fetch_request_decode(&c, v, &req), 0);
	cr_assert_eq(kp_cursor_left(&c), 0);
	cr_assert_eq(req.replica_id, v < 15 ? 2 : -1);
	cr_assert_eq(req.replica_state.replica_id, v < 15 ? -1 : 2);
	cr_assert_eq(req.replica_state.replica_epoch, -1);
	cr_assert_eq(req.max_wait_ms, 400);
	cr_assert_eq(req.min_bytes, 7);
	cr_assert_eq(req.max_bytes, 1000000);
	cr_assert_eq(req.isolation_level, 0);
	cr_assert_eq(req.session_epoch, -1);
	cr_assert_eq(req.topics.count, 2);
	tc = kp_array_cursor(&req.topics);
	for (t = 0; t < 2; t++) {
		cr_assert_eq(kp_fetch_request_fetch_topic_decode(&tc, v, &ft), 0);
		if (v >= 13)
			cr_assert_eq(memcmp(ft.topic_id.b, t == 0 ? id_a : id_b, 16), 0);
		else
			cr_assert_eq(ft.topic.len, t == 0 ? 5 : 4);
		cr_assert_eq(ft.partitions.count, t == 0 ? 2 : 1);
		pc = kp_array_cursor(&ft.partitions);
		for (i = 0; i < ft.partitions.count; i++, seen++) {
			cr_assert_eq(kp_fetch_request_fetch_partition_decode(&pc, v, &fp), 0);
			cr_assert_eq(fp.partition, t == 0 ? i : 0);
			cr_assert_eq(fp.current_leader_epoch, 4);
			cr_assert_eq(fp.fetch_offset, 10);
			cr_assert_eq(fp.last_fetched_epoch, -1);
			cr_assert_eq(fp.partition_max_bytes, 50000);
		}
	}
	cr_assert_eq(seen, 3);
	kp_writer_free(&w);
}

Test(rf_request, fetch_v12_by_name_with_replica_id)
{
	check_request(12);
}

Test(rf_request, fetch_v16_by_topic_id_with_replica_state)
{
	check_request(16);
}

Test(rf_request, offset_for_leader_epoch_v4)
{
	struct kp_offset_for_leader_epoch_request_offset_for_leader_partition lp;
	struct kp_offset_for_leader_epoch_request_offset_for_leader_topic lt;
	struct kp_offset_for_leader_epoch_request req;
	struct kp_cursor c, tc, pc;
	struct kp_writer w;

	state_init(12, RF_EPOCH_LEADER, 3);
	kp_writer_init(&w, 256);
	rf_fetch_encode(&rf, &conn, KP_API_OFFSET_FOR_LEADER_EPOCH, &w);
	c = kp_cursor_make(w.buf, w.len);
	cr_assert_eq(kp_offset_for_leader_epoch_request_decode(&c, 4, &req), 0);
	cr_assert_eq(req.replica_id, 2);
	cr_assert_eq(req.topics.count, 2);
	tc = kp_array_cursor(&req.topics);
	cr_assert_eq(kp_offset_for_leader_epoch_request_offset_for_leader_topic_decode(&tc, 4, &lt),
		     0);
	cr_assert_eq(lt.partitions.count, 2);
	pc = kp_array_cursor(&lt.partitions);
	cr_assert_eq(kp_offset_for_leader_epoch_request_offset_for_leader_partition_decode(&pc, 4,
										      &lp), 0);
	cr_assert_eq(lp.current_leader_epoch, 4);
	cr_assert_eq(lp.leader_epoch, 3);
	kp_writer_free(&w);
}

static struct kp_fetch_response_partition_data
pdata(int32_t p, int16_t err, int64_t hw, const uint8_t *rec, size_t len)
{
	struct kp_fetch_response_partition_data pd;

	kp_fetch_response_partition_data_init(&pd);
	pd.partition_index = p;
	pd.error_code = err;
	pd.high_watermark = hw;
	pd.records.ptr = rec;
	pd.records.len = rec != NULL ? (int32_t)len : -1;
	return pd;
}

Test(rf_answer, fetch_v16_records_and_partition_errors)
{
	struct kp_fetch_response_fetchable_topic_response t[2];
	struct kp_fetch_response_partition_data pa[2], pb[1];
	struct kp_fetch_response resp;
	size_t len, sz[3];
	uint8_t *b = three(&len, sz);
	struct kp_writer w;

	state_init(16, RF_FETCH, 3);
	conn.inflight_api = KP_API_FETCH;
	conn.inflight_version = 16;
	pa[0] = pdata(0, 0, 50, b, len - 3);    /* the last batch torn */
	pa[1] = pdata(1, KP_ERR_FENCED_LEADER_EPOCH, -1, NULL, 0);
	pb[0] = pdata(0, KP_ERR_NOT_LEADER_OR_FOLLOWER, -1, NULL, 0);
	kp_fetch_response_fetchable_topic_response_init(&t[0]);
	kp_fetch_response_fetchable_topic_response_init(&t[1]);
	memcpy(t[0].topic_id.b, id_a, 16);
	memcpy(t[1].topic_id.b, id_b, 16);
	t[0].partitions = (struct kp_array){ .count = 2, .items = pa };
	t[1].partitions = (struct kp_array){ .count = 1, .items = pb };
	kp_fetch_response_init(&resp);
	resp.responses = (struct kp_array){ .count = 2, .items = t };
	kp_writer_init(&w, 1024);
	kp_fetch_response_encode(&w, 16, &resp);
	cr_assert_eq(w.err, 0);
	cr_assert_eq(rf_fetch_answer(&rf, &conn, w.buf, w.len, 1000), 0);
	cr_assert_eq(conn.inflight_api, -1);
	cr_assert_not_null(parts[0].buf);
	cr_assert_eq(parts[0].buf_len, sz[0] + sz[1]);
	cr_assert_eq(memcmp(parts[0].buf, b, parts[0].buf_len), 0);
	cr_assert_eq(parts[0].fetch_offset, 15);
	cr_assert_eq(parts[0].leader_hw, 50);
	cr_assert(parts[0].hw_due);
	cr_assert_eq(parts[1].state, RF_FENCED);
	cr_assert_eq(parts[2].state, RF_FETCH);
	cr_assert_eq(parts[2].last_error, KP_ERR_NOT_LEADER_OR_FOLLOWER);
	cr_assert_eq(parts[2].retry_ns, 1000 + 100000000ull);
	for (int i = 0; i < 3; i++)
		cr_assert(!parts[i].in_request);
	free(parts[0].buf);
	kp_writer_free(&w);
	free(b);
}

Test(rf_answer, offset_for_leader_epoch_divergence)
{
	struct kp_offset_for_leader_epoch_response_offset_for_leader_topic_result t[2];
	struct kp_offset_for_leader_epoch_response_epoch_end_offset ea[3], eb[1];
	struct kp_offset_for_leader_epoch_response resp;
	struct kp_writer w;

	state_init(12, RF_EPOCH_LEADER, 4);
	conn.inflight_api = KP_API_OFFSET_FOR_LEADER_EPOCH;
	conn.inflight_version = 4;
	/* a-0: our epoch ends earlier at the leader; a-1: past our end;
	 * a-2: an older epoch; b-0: UNDEFINED. */
	ea[0] = (struct kp_offset_for_leader_epoch_response_epoch_end_offset){ 0, 0, 3, 90 };
	ea[1] = (struct kp_offset_for_leader_epoch_response_epoch_end_offset){ 0, 1, 3, 120 };
	ea[2] = (struct kp_offset_for_leader_epoch_response_epoch_end_offset){ 0, 2, 2, 70 };
	eb[0] = (struct kp_offset_for_leader_epoch_response_epoch_end_offset){ 0, 0, -1, -1 };
	t[0] = (struct kp_offset_for_leader_epoch_response_offset_for_leader_topic_result){
		.topic = kp_str_c("alpha"), .partitions = { .count = 3, .items = ea } };
	t[1] = (struct kp_offset_for_leader_epoch_response_offset_for_leader_topic_result){
		.topic = kp_str_c("beta"), .partitions = { .count = 1, .items = eb } };
	kp_offset_for_leader_epoch_response_init(&resp);
	resp.topics = (struct kp_array){ .count = 2, .items = t };
	kp_writer_init(&w, 256);
	kp_offset_for_leader_epoch_response_encode(&w, 4, &resp);
	cr_assert_eq(rf_fetch_answer(&rf, &conn, w.buf, w.len, 1000), 0);
	cr_assert_eq(parts[0].state, RF_TRUNCATE);
	cr_assert_eq(parts[0].trunc_offset, 90);
	cr_assert_eq(parts[1].state, RF_FETCH);
	cr_assert_eq(parts[1].fetch_offset, 100);
	cr_assert_eq(parts[3].state, RF_EPOCH_OWN);
	cr_assert_eq(parts[3].leader_div_epoch, 2);
	cr_assert_eq(parts[3].leader_div_offset, 70);
	cr_assert_eq(parts[2].state, RF_TRUNCATE);
	cr_assert_eq(parts[2].trunc_offset, 80);        /* the high watermark */
	kp_writer_free(&w);
}

/* ---- below the leader's log start: ListOffsets earliest, then full
 * truncation (Kafka's fetchOffsetAndTruncate) ---- */

Test(rf_answer, out_of_range_asks_the_leader_its_log_start)
{
	struct kp_fetch_response_fetchable_topic_response t[1];
	struct kp_fetch_response_partition_data pa[2];
	struct kp_fetch_response resp;
	struct kp_writer w;

	state_init(16, RF_FETCH, 2);
	conn.inflight_api = KP_API_FETCH;
	conn.inflight_version = 16;
	conn.list_version = 7;
	pa[0] = pdata(0, KP_ERR_OFFSET_OUT_OF_RANGE, -1, NULL, 0);
	pa[0].log_start_offset = -1;    /* as Kafka answers it */
	pa[1] = pdata(1, KP_ERR_OFFSET_OUT_OF_RANGE, -1, NULL, 0);
	kp_fetch_response_fetchable_topic_response_init(&t[0]);
	memcpy(t[0].topic_id.b, id_a, 16);
	t[0].partitions = (struct kp_array){ .count = 2, .items = pa };
	kp_fetch_response_init(&resp);
	resp.responses = (struct kp_array){ .count = 1, .items = t };
	kp_writer_init(&w, 1024);
	kp_fetch_response_encode(&w, 16, &resp);
	conn.list_version = 7;
	cr_assert_eq(rf_fetch_answer(&rf, &conn, w.buf, w.len, 1000), 0);
	cr_assert_eq(parts[0].state, RF_LIST_START);
	cr_assert_eq(parts[1].state, RF_LIST_START);
	kp_writer_free(&w);
	/* A leader without ListOffsets v4+: the epoch truncation again. */
	state_init(16, RF_FETCH, 1);
	conn.inflight_api = KP_API_FETCH;
	conn.inflight_version = 16;
	conn.list_version = -1;
	t[0].partitions.count = 1;
	kp_writer_init(&w, 1024);
	kp_fetch_response_encode(&w, 16, &resp);
	cr_assert_eq(rf_fetch_answer(&rf, &conn, w.buf, w.len, 1000), 0);
	cr_assert_eq(parts[0].state, RF_EPOCH_LOCAL);
	kp_writer_free(&w);
}

Test(rf_request, list_offsets_earliest_with_replica_id)
{
	struct kp_list_offsets_request_list_offsets_partition lp;
	struct kp_list_offsets_request_list_offsets_topic lt;
	struct kp_list_offsets_request req;
	struct kp_cursor c, tc, pc;
	struct kp_writer w;

	state_init(16, RF_LIST_START, 3);
	conn.list_version = 7;
	kp_writer_init(&w, 256);
	rf_fetch_encode(&rf, &conn, KP_API_LIST_OFFSETS, &w);
	cr_assert_eq(w.err, 0);
	c = kp_cursor_make(w.buf, w.len);
	cr_assert_eq(kp_list_offsets_request_decode(&c, 7, &req), 0);
	cr_assert_eq(kp_cursor_left(&c), 0);
	cr_assert_eq(req.replica_id, 2);
	cr_assert_eq(req.isolation_level, 0);
	cr_assert_eq(req.topics.count, 2);
	tc = kp_array_cursor(&req.topics);
	cr_assert_eq(kp_list_offsets_request_list_offsets_topic_decode(&tc, 7, &lt), 0);
	cr_assert_eq(lt.name.len, 5);
	cr_assert_eq(lt.partitions.count, 2);
	pc = kp_array_cursor(&lt.partitions);
	cr_assert_eq(kp_list_offsets_request_list_offsets_partition_decode(&pc, 7, &lp), 0);
	cr_assert_eq(lp.partition_index, 0);
	cr_assert_eq(lp.current_leader_epoch, 4);
	cr_assert_eq(lp.timestamp, -2);
	kp_writer_free(&w);
}

Test(rf_answer, list_offsets_truncates_fully_below_the_leader_start)
{
	struct kp_list_offsets_response_list_offsets_partition_response pa[2], pb[1];
	struct kp_list_offsets_response_list_offsets_topic_response t[2];
	struct kp_list_offsets_response resp;
	struct kp_writer w;

	state_init(16, RF_LIST_START, 3);
	conn.list_version = 7;
	conn.inflight_api = KP_API_LIST_OFFSETS;
	conn.inflight_version = 7;
	/* a-0: the leader starts past our end (10); a-1: at or below it (we
	 * are ahead: the epoch truncation); b-0: an error, retried. */
	for (int i = 0; i < 2; i++) {
		kp_list_offsets_response_list_offsets_partition_response_init(&pa[i]);
		pa[i].partition_index = i;
		pa[i].offset = i == 0 ? 500 : 10;
		pa[i].timestamp = -1;
	}
	kp_list_offsets_response_list_offsets_partition_response_init(&pb[0]);
	pb[0].partition_index = 0;
	pb[0].error_code = KP_ERR_NOT_LEADER_OR_FOLLOWER;
	for (int i = 0; i < 2; i++)
		kp_list_offsets_response_list_offsets_topic_response_init(&t[i]);
	t[0].name = kp_str_c("alpha");
	t[0].partitions = (struct kp_array){ .count = 2, .items = pa };
	t[1].name = kp_str_c("beta");
	t[1].partitions = (struct kp_array){ .count = 1, .items = pb };
	kp_list_offsets_response_init(&resp);
	resp.topics = (struct kp_array){ .count = 2, .items = t };
	kp_writer_init(&w, 1024);
	kp_list_offsets_response_encode(&w, 7, &resp);
	cr_assert_eq(w.err, 0);
	cr_assert_eq(rf_fetch_answer(&rf, &conn, w.buf, w.len, 1000), 0);
	cr_assert_eq(conn.inflight_api, -1);
	cr_assert_eq(parts[0].state, RF_TRUNCATE);
	cr_assert(parts[0].trunc_full);
	cr_assert_eq(parts[0].trunc_offset, 500);
	cr_assert_eq(parts[1].state, RF_EPOCH_LOCAL);
	cr_assert_eq(parts[2].state, RF_LIST_START);
	cr_assert_eq(parts[2].retry_ns, 1000 + 100000000ull);
	for (int i = 0; i < 3; i++)
		cr_assert(!parts[i].in_request);
	/* A later truncation to an offset is a normal one again. */
	rf_part_truncate_to(&parts[0], 5, false);
	cr_assert(!parts[0].trunc_full);
	kp_writer_free(&w);
}

/* Kafka's appendRecordsToFollowerOrFutureReplica: just started at the
 * leader's log start 11, which is inside the first batch (10..11): the log
 * starts again at 10 and the batches are appended after that. */
Test(rf_answer, first_batch_straddling_the_new_log_start)
{
	struct kp_fetch_response_fetchable_topic_response t[1];
	struct kp_fetch_response_partition_data pa[1];
	struct kp_fetch_response resp;
	size_t len, sz[3];
	uint8_t *b = three(&len, sz);
	struct kp_writer w;

	state_init(16, RF_FETCH, 1);
	conn.inflight_api = KP_API_FETCH;
	conn.inflight_version = 16;
	parts[0].fetch_offset = parts[0].local_leo = parts[0].log_start_offset = 11;
	pa[0] = pdata(0, 0, 16, b, len);
	pa[0].log_start_offset = 11;
	kp_fetch_response_fetchable_topic_response_init(&t[0]);
	memcpy(t[0].topic_id.b, id_a, 16);
	t[0].partitions = (struct kp_array){ .count = 1, .items = pa };
	kp_fetch_response_init(&resp);
	resp.responses = (struct kp_array){ .count = 1, .items = t };
	kp_writer_init(&w, 1024);
	kp_fetch_response_encode(&w, 16, &resp);
	cr_assert_eq(rf_fetch_answer(&rf, &conn, w.buf, w.len, 1000), 0);
	cr_assert_eq(parts[0].state, RF_TRUNCATE);
	cr_assert(parts[0].trunc_full);
	cr_assert_eq(parts[0].trunc_offset, 10);
	cr_assert_not_null(parts[0].buf);
	cr_assert_eq(parts[0].buf_len, len);
	cr_assert_eq(parts[0].fetch_offset, 16);
	cr_assert_eq(parts[0].leader_start, 11);
	free(parts[0].buf);
	kp_writer_free(&w);

	/* A log with records (or not at its start) takes no such batch. */
	state_init(16, RF_FETCH, 1);
	conn.inflight_api = KP_API_FETCH;
	conn.inflight_version = 16;
	parts[0].fetch_offset = parts[0].local_leo = 11;
	parts[0].log_start_offset = 0;
	kp_writer_init(&w, 1024);
	kp_fetch_response_encode(&w, 16, &resp);
	cr_assert_eq(rf_fetch_answer(&rf, &conn, w.buf, w.len, 1000), 0);
	cr_assert_eq(parts[0].state, RF_FETCH);
	cr_assert_null(parts[0].buf);
	cr_assert_eq(parts[0].last_error, KP_ERR_CORRUPT_MESSAGE);
	kp_writer_free(&w);
	free(b);
}
