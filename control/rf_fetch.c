/* SPDX-License-Identifier: Apache-2.0 */
/* The replica fetcher's requests to one leader and their answers:
 * OffsetForLeaderEpoch for partitions finding their divergence point
 * (KIP-279), Fetch for the others (replica id, current leader epoch, the
 * local log end), and the answers applied: batches checked (header, magic,
 * CRC-32C, contiguous offsets, bounded) and kept for storage, the leader's
 * high watermark noted, partition errors handled as Kafka's
 * AbstractFetcherThread does. */
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/kafka_errors.h"
#include "common/log.h"
#include "common/rbatch.h"
#include "control/rf_int.h"
#include "protocol/gen/kp_api.h"
#include "protocol/gen/kp_msg_fetch.h"
#include "protocol/gen/kp_msg_offset_for_leader_epoch.h"

/* Upper bound on the partitions one request names. */
#define RF_REQUEST_PARTS_MAX 100000u

int64_t
rf_batches_check(const uint8_t *records, size_t len, int64_t fetch_offset, size_t max_bytes,
		 int64_t *next)
{
	size_t pos = 0;

	*next = fetch_offset;
	while (len - pos >= RBATCH_HEADER_BYTES) {
		struct rbatch_header h;
		int64_t total;

		(void)rbatch_header_parse(records + pos, len - pos, &h);
		total = rbatch_total_bytes(&h);
		if (h.batch_length < RBATCH_HEADER_BYTES - RBATCH_LOG_OVERHEAD)
			return -1;
		if ((size_t)total > len - pos)
			break;                  /* torn at the end of the answer */
		if (h.magic != RBATCH_MAGIC_V2 || h.last_offset_delta < 0 ||
		    h.base_offset != *next || !rbatch_crc_ok(records + pos, (size_t)total))
			return -1;
		if (pos + (size_t)total > max_bytes && pos > 0)
			break;
		*next = h.base_offset + h.last_offset_delta + 1;
		pos += (size_t)total;
	}
	return (int64_t)pos;
}

/* ---- choosing the partitions of a request ---- */

static struct rf *rf_sorting;

static int
rf_ref_cmp(const void *a, const void *b)
{
	const struct rf_part *pa = &rf_sorting->parts[((const struct rf_ref *)a)->slot];
	const struct rf_part *pb = &rf_sorting->parts[((const struct rf_ref *)b)->slot];
	int c = memcmp(pa->topic_id, pb->topic_id, 16);

	return c != 0 ? c : (pa->partition > pb->partition) - (pa->partition < pb->partition);
}

static bool
rf_refs_add(struct rf_conn *conn, uint32_t slot, uint32_t gen)
{
	if (conn->ref_count == conn->ref_cap) {
		uint32_t cap = conn->ref_cap == 0 ? 16 : conn->ref_cap * 2;
		struct rf_ref *r = realloc(conn->refs, cap * sizeof(*r));

		if (r == NULL)
			return false;
		conn->refs = r;
		conn->ref_cap = cap;
	}
	conn->refs[conn->ref_count].slot = slot;
	conn->refs[conn->ref_count].gen = gen;
	conn->refs[conn->ref_count].answered = false;
	conn->ref_count++;
	return true;
}

/* Collect into conn->refs the partitions on conn in state, not waiting for
 * anything (storage, backoff, an earlier request); sorted by topic. */
static uint32_t
rf_collect(struct rf *rf, struct rf_conn *conn, enum rf_state state, uint64_t now_ns)
{
	uint32_t i;

	conn->ref_count = 0;
	for (i = 0; i < rf->part_cap && conn->ref_count < RF_REQUEST_PARTS_MAX; i++) {
		struct rf_part *p = &rf->parts[i];

		if (!p->used || p->conn != conn || p->state != state || p->in_request ||
		    p->pending > 0 || p->buf != NULL || p->retry_ns > now_ns)
			continue;
		if (!rf_refs_add(conn, i, p->gen))
			break;
	}
	rf_sorting = rf;
	if (conn->ref_count > 1)        /* refs may be NULL: qsort wants an array */
		qsort(conn->refs, conn->ref_count, sizeof(*conn->refs), rf_ref_cmp);
	rf_sorting = NULL;
	return conn->ref_count;
}

/* Appends of partitions on conn still going: Kafka's follower processes a
 * whole answer before its next fetch; so does this one. */
static bool
rf_conn_appending(const struct rf *rf, const struct rf_conn *conn)
{
	uint32_t i;

	for (i = 0; i < rf->part_cap; i++) {
		const struct rf_part *p = &rf->parts[i];

		if (p->used && p->conn == conn && p->state == RF_FETCH &&
		    (p->pending > 0 || p->buf != NULL))
			return true;
	}
	return false;
}

bool
rf_topic_differs(const struct rf *rf, const struct rf_conn *conn, uint32_t i)
{
	return memcmp(rf->parts[conn->refs[i].slot].topic_id,
		      rf->parts[conn->refs[i - 1].slot].topic_id, 16) != 0;
}

uint32_t
rf_topic_count(const struct rf *rf, const struct rf_conn *conn)
{
	uint32_t i, n = 0;

	for (i = 0; i < conn->ref_count; i++)
		if (i == 0 || rf_topic_differs(rf, conn, i))
			n++;
	return n;
}

static void
rf_send_body(struct rf *rf, struct rf_conn *conn, int16_t api, int16_t version,
	     struct kp_writer *w)
{
	uint32_t i;

	if (w->err != 0) {
		kp_writer_free(w);
		rf_conn_fail(rf, conn, "request encode failed");
		return;
	}
	if (rf_conn_send(rf, conn, api, version, w->buf, w->len) == 0)
		for (i = 0; i < conn->ref_count; i++)
			rf->parts[conn->refs[i].slot].in_request = true;
	kp_writer_free(w);
}

static void
rf_encode_ofle(struct rf *rf, struct rf_conn *conn, struct kp_writer *w)
{
	struct kp_offset_for_leader_epoch_request_offset_for_leader_partition *ps;
	struct kp_offset_for_leader_epoch_request_offset_for_leader_topic *ts;
	struct kp_offset_for_leader_epoch_request req;
	uint32_t nt = rf_topic_count(rf, conn), i, t = 0;

	ps = calloc(conn->ref_count, sizeof(*ps));
	ts = calloc(nt, sizeof(*ts));
	if (ps == NULL || ts == NULL) {
		free(ps);
		free(ts);
		kp_writer_fail(w, KP_WIRE_NOMEM);
		return;
	}
	for (i = 0; i < conn->ref_count; i++) {
		const struct rf_part *p = &rf->parts[conn->refs[i].slot];

		if (i > 0 && rf_topic_differs(rf, conn, i))
			t++;
		if (ts[t].partitions.count == 0) {
			kp_offset_for_leader_epoch_request_offset_for_leader_topic_init(&ts[t]);
			ts[t].topic = kp_str_c(p->topic);
			ts[t].partitions.items = &ps[i];
		}
		ts[t].partitions.count++;
		kp_offset_for_leader_epoch_request_offset_for_leader_partition_init(&ps[i]);
		ps[i].partition = p->partition;
		ps[i].current_leader_epoch = p->leader_epoch;
		ps[i].leader_epoch = p->local_epoch;
	}
	kp_offset_for_leader_epoch_request_init(&req);
	req.replica_id = rf->cfg.broker_id;
	req.topics.count = (int32_t)nt;
	req.topics.items = ts;
	kp_offset_for_leader_epoch_request_encode(w, conn->ofle_version, &req);
	free(ps);
	free(ts);
}

static void
rf_fetch_request_init(struct rf *rf, struct kp_fetch_request *req, int16_t version)
{
	kp_fetch_request_init(req);
	if (version < 15) {
		req->replica_id = rf->cfg.broker_id;
	} else {
		req->replica_state.replica_id = rf->cfg.broker_id;
		req->replica_state.replica_epoch = -1;
	}
	req->max_wait_ms = rf->cfg.fetch_wait_max_ms;
	req->min_bytes = rf->cfg.fetch_min_bytes;
	req->max_bytes = rf->cfg.fetch_max_bytes;
	req->isolation_level = 0;
	req->session_id = 0;
	req->session_epoch = -1;        /* sessionless full fetches */
}

static void
rf_encode_fetch(struct rf *rf, struct rf_conn *conn, struct kp_writer *w)
{
	struct kp_fetch_request_fetch_partition *ps;
	struct kp_fetch_request_fetch_topic *ts;
	struct kp_fetch_request req;
	uint32_t nt = rf_topic_count(rf, conn), i, t = 0;
	int16_t v = conn->fetch_version;

	ps = calloc(conn->ref_count, sizeof(*ps));
	ts = calloc(nt, sizeof(*ts));
	if (ps == NULL || ts == NULL) {
		free(ps);
		free(ts);
		kp_writer_fail(w, KP_WIRE_NOMEM);
		return;
	}
	for (i = 0; i < conn->ref_count; i++) {
		const struct rf_part *p = &rf->parts[conn->refs[i].slot];

		if (i > 0 && rf_topic_differs(rf, conn, i))
			t++;
		if (ts[t].partitions.count == 0) {
			kp_fetch_request_fetch_topic_init(&ts[t]);
			if (v >= 13)
				memcpy(ts[t].topic_id.b, p->topic_id, 16);
			else
				ts[t].topic = kp_str_c(p->topic);
			ts[t].partitions.items = &ps[i];
		}
		ts[t].partitions.count++;
		kp_fetch_request_fetch_partition_init(&ps[i]);
		ps[i].partition = p->partition;
		ps[i].current_leader_epoch = p->leader_epoch;
		ps[i].fetch_offset = p->fetch_offset;
		ps[i].log_start_offset = p->log_start_offset;
		ps[i].partition_max_bytes = rf->cfg.partition_max_bytes;
	}
	rf_fetch_request_init(rf, &req, v);
	req.topics.count = (int32_t)nt;
	req.topics.items = ts;
	kp_fetch_request_encode(w, v, &req);
	free(ps);
	free(ts);
}

void
rf_fetch_encode(struct rf *rf, struct rf_conn *conn, int16_t api, struct kp_writer *w)
{
	ASSERT(api == KP_API_FETCH || api == KP_API_OFFSET_FOR_LEADER_EPOCH ||
	       api == KP_API_LIST_OFFSETS);
	if (api == KP_API_FETCH)
		rf_encode_fetch(rf, conn, w);
	else if (api == KP_API_LIST_OFFSETS)
		rf_list_encode(rf, conn, w);
	else
		rf_encode_ofle(rf, conn, w);
}

void
rf_fetch_send(struct rf *rf, struct rf_conn *conn, uint64_t now_ns)
{
	int16_t api = KP_API_OFFSET_FOR_LEADER_EPOCH;
	struct kp_writer w;

	ASSERT(conn->state == RF_C_READY);
	ASSERT(conn->inflight_api == -1);
	if (rf_collect(rf, conn, RF_EPOCH_LEADER, now_ns) > 0) {
		api = KP_API_OFFSET_FOR_LEADER_EPOCH;
	} else if (rf_collect(rf, conn, RF_LIST_START, now_ns) > 0) {
		api = KP_API_LIST_OFFSETS;
	} else if (!rf_conn_appending(rf, conn) && rf_collect(rf, conn, RF_FETCH, now_ns) > 0) {
		api = KP_API_FETCH;
	} else {
		conn->ref_count = 0;
		return;
	}
	kp_writer_init(&w, 128 + 40u * conn->ref_count);
	rf_fetch_encode(rf, conn, api, &w);
	rf_send_body(rf, conn, api, api == KP_API_FETCH ? conn->fetch_version
			 : api == KP_API_LIST_OFFSETS ? conn->list_version : conn->ofle_version,
		     &w);
}

/* ---- answers ---- */

struct rf_part *
rf_answer_part(struct rf *rf, struct rf_conn *conn, struct kp_str topic, const uint8_t *id,
	       int32_t partition)
{
	uint32_t k, i;

	for (k = 0; k < conn->ref_count; k++) {
		struct rf_part *p;

		i = (conn->ref_hint + k) % conn->ref_count;
		p = &rf->parts[conn->refs[i].slot];

		if (!p->used || p->gen != conn->refs[i].gen || p->partition != partition ||
		    conn->refs[i].answered)
			continue;
		if (id != NULL ? memcmp(p->topic_id, id, 16) == 0
			       : (topic.len >= 0 && strlen(p->topic) == (size_t)topic.len &&
				  memcmp(p->topic, topic.ptr, (size_t)topic.len) == 0)) {
			conn->refs[i].answered = true;
			conn->ref_hint = i + 1;
			return p;
		}
	}
	return NULL;
}

void
rf_part_error(struct rf *rf, struct rf_part *p, int16_t err, uint64_t now_ns)
{
	if (p->last_error != err)
		log_warn("rf", "%s-%d from leader %d at epoch %d: error %d", p->topic,
			 p->partition, p->leader_id, p->leader_epoch, err);
	p->last_error = err;
	if (err == KP_ERR_FENCED_LEADER_EPOCH)
		p->state = RF_FENCED;
	else
		p->retry_ns = now_ns + rf_backoff_ns(rf);
}

/* Kafka's appendRecordsToFollowerOrFutureReplica: an empty log (just
 * started at the leader's log start) whose first fetched batch begins
 * before it (the leader's start is inside that batch: DeleteRecords)
 * starts again at the batch's base offset, and the batches are appended
 * after that truncation. The offset the batches start at. */
static int64_t
rf_fetch_straddle(struct rf_part *p, const struct kp_fetch_response_partition_data *pd)
{
	struct rbatch_header h;

	if ((size_t)pd->records.len < RBATCH_HEADER_BYTES || p->local_leo != p->log_start_offset ||
	    p->fetch_offset != p->local_leo)
		return p->fetch_offset;
	(void)rbatch_header_parse(pd->records.ptr, (size_t)pd->records.len, &h);
	if (h.base_offset >= p->fetch_offset || h.base_offset < 0 ||
	    h.base_offset + h.last_offset_delta < p->fetch_offset)
		return p->fetch_offset;
	log_info("rf", "%s-%d: the first batch starts at %lld, below the log start %lld: "
		 "starting the log there", p->topic, p->partition, (long long)h.base_offset,
		 (long long)p->fetch_offset);
	return h.base_offset;
}

static void
rf_fetch_partition(struct rf *rf, struct rf_part *p,
		   const struct kp_fetch_response_partition_data *pd, uint64_t now_ns)
{
	int64_t next, ok, from;

	if (p->state != RF_FETCH)
		return;
	if (pd->error_code == KP_ERR_OFFSET_OUT_OF_RANGE) {
		/* Kafka's fetchOffsetAndTruncate: ask the leader its log
		 * start (ListOffsets earliest); below it (the leader deleted
		 * records while we were away) start over there, else (ahead
		 * of the leader) the epoch truncation finds where. */
		if (p->last_error != pd->error_code)
			log_warn("rf", "%s-%d: offset %lld out of range on leader %d", p->topic,
				 p->partition, (long long)p->fetch_offset, p->leader_id);
		p->last_error = pd->error_code;
		if (p->conn->list_version >= 0)
			p->state = RF_LIST_START;
		else
			rf_part_restart(rf, p, rf_backoff_ns(rf));
		return;
	}
	if (pd->error_code != KP_ERR_NONE) {
		rf_part_error(rf, p, pd->error_code, now_ns);
		return;
	}
	p->last_error = KP_ERR_NONE;
	p->leader_hw = pd->high_watermark;
	p->leader_start = pd->log_start_offset;
	p->hw_due = pd->high_watermark != p->local_hw;
	if (pd->records.len <= 0)
		return;
	from = rf_fetch_straddle(p, pd);
	ok = rf_batches_check(pd->records.ptr, (size_t)pd->records.len, from,
			      (size_t)rf->cfg.partition_max_bytes + RF_FRAME_SLACK_BYTES, &next);
	if (ok < 0) {
		log_warn("rf", "%s-%d: corrupt batch from leader %d at offset %lld", p->topic,
			 p->partition, p->leader_id, (long long)p->fetch_offset);
		p->last_error = KP_ERR_CORRUPT_MESSAGE;
		p->retry_ns = now_ns + rf_backoff_ns(rf);
		return;
	}
	if (ok == 0)
		return;
	p->buf = malloc((size_t)ok);
	if (p->buf == NULL) {
		p->retry_ns = now_ns + rf_backoff_ns(rf);
		return;
	}
	memcpy(p->buf, pd->records.ptr, (size_t)ok);
	p->buf_len = (uint32_t)ok;
	p->buf_pos = 0;
	p->hw_due = true;
	p->fetch_offset = next;
	if (from < p->local_leo)
		rf_part_truncate_full(p, from);         /* the batches go after it */
}

static int
rf_fetch_apply(struct rf *rf, struct rf_conn *conn, const uint8_t *body, size_t len,
	       uint64_t now_ns)
{
	struct kp_cursor c = kp_cursor_make(body, len), tc, pc;
	struct kp_fetch_response resp;
	int16_t v = conn->inflight_version;
	int32_t i, j;

	if (kp_fetch_response_decode(&c, v, &resp) < 0)
		return -1;
	if (resp.error_code != KP_ERR_NONE) {
		log_warn("rf", "leader %d: Fetch error %d", conn->leader_id, resp.error_code);
		for (i = 0; i < (int32_t)conn->ref_count; i++)
			rf->parts[conn->refs[i].slot].retry_ns = now_ns + rf_backoff_ns(rf);
		return 0;
	}
	tc = kp_array_cursor(&resp.responses);
	for (i = 0; i < resp.responses.count; i++) {
		struct kp_fetch_response_fetchable_topic_response t;

		if (kp_fetch_response_fetchable_topic_response_decode(&tc, v, &t) < 0)
			return -1;
		pc = kp_array_cursor(&t.partitions);
		for (j = 0; j < t.partitions.count; j++) {
			struct kp_fetch_response_partition_data pd;
			struct rf_part *p;

			if (kp_fetch_response_partition_data_decode(&pc, v, &pd) < 0)
				return -1;
			p = rf_answer_part(rf, conn, t.topic, v >= 13 ? t.topic_id.b : NULL,
					   pd.partition_index);
			if (p != NULL)
				rf_fetch_partition(rf, p, &pd, now_ns);
		}
	}
	return 0;
}

/* KIP-279: where the local log diverges from the leader's. */
static void
rf_ofle_partition(struct rf *rf, struct rf_part *p,
		  const struct kp_offset_for_leader_epoch_response_epoch_end_offset *eo,
		  uint64_t now_ns)
{
	if (p->state != RF_EPOCH_LEADER)
		return;
	if (eo->error_code != KP_ERR_NONE) {
		rf_part_error(rf, p, eo->error_code, now_ns);
		return;
	}
	p->last_error = KP_ERR_NONE;
	p->leader_div_epoch = eo->leader_epoch;
	p->leader_div_offset = eo->end_offset;
	if (eo->end_offset < 0)
		rf_part_truncate_to(p, p->local_hw, false);     /* UNDEFINED: Kafka's fallback */
	else if (eo->leader_epoch < 0 || eo->leader_epoch == p->local_epoch)
		rf_part_truncate_to(p, eo->end_offset < p->local_leo ? eo->end_offset
									: p->local_leo, false);
	else
		p->state = RF_EPOCH_OWN;        /* our own end of the leader's epoch */
}

static int
rf_ofle_apply(struct rf *rf, struct rf_conn *conn, const uint8_t *body, size_t len,
	      uint64_t now_ns)
{
	struct kp_cursor c = kp_cursor_make(body, len), tc, pc;
	struct kp_offset_for_leader_epoch_response resp;
	int16_t v = conn->inflight_version;
	int32_t i, j;

	if (kp_offset_for_leader_epoch_response_decode(&c, v, &resp) < 0)
		return -1;
	tc = kp_array_cursor(&resp.topics);
	for (i = 0; i < resp.topics.count; i++) {
		struct kp_offset_for_leader_epoch_response_offset_for_leader_topic_result t;

		if (kp_offset_for_leader_epoch_response_offset_for_leader_topic_result_decode(
			    &tc, v, &t) < 0)
			return -1;
		pc = kp_array_cursor(&t.partitions);
		for (j = 0; j < t.partitions.count; j++) {
			struct kp_offset_for_leader_epoch_response_epoch_end_offset eo;
			struct rf_part *p;

			if (kp_offset_for_leader_epoch_response_epoch_end_offset_decode(&pc, v,
											&eo) < 0)
				return -1;
			p = rf_answer_part(rf, conn, t.topic, NULL, eo.partition);
			if (p != NULL)
				rf_ofle_partition(rf, p, &eo, now_ns);
		}
	}
	return 0;
}

int
rf_fetch_answer(struct rf *rf, struct rf_conn *conn, const uint8_t *body, size_t len,
		uint64_t now_ns)
{
	uint32_t i;
	int rc;

	conn->ref_hint = 0;
	if (conn->inflight_api == KP_API_FETCH)
		rc = rf_fetch_apply(rf, conn, body, len, now_ns);
	else if (conn->inflight_api == KP_API_LIST_OFFSETS)
		rc = rf_list_apply(rf, conn, body, len, now_ns);
	else
		rc = rf_ofle_apply(rf, conn, body, len, now_ns);
	if (rc < 0) {
		rf_conn_fail(rf, conn, "malformed response");
		return -1;
	}
	for (i = 0; i < conn->ref_count; i++) {
		struct rf_part *p = &rf->parts[conn->refs[i].slot];

		if (!p->used || p->gen != conn->refs[i].gen)
			continue;
		p->in_request = false;
		/* Left out of the answer: ask again after the backoff. */
		if (!conn->refs[i].answered)
			p->retry_ns = now_ns + rf_backoff_ns(rf);
	}
	rf_conn_done(conn);
	return 0;
}
