/* SPDX-License-Identifier: Apache-2.0 */
/* The replica fetcher's ListOffsets earliest, as Kafka's follower asks it
 * in fetchOffsetAndTruncate after OFFSET_OUT_OF_RANGE (replica id self,
 * current leader epoch): a local log end below the leader's log start
 * (records deleted by retention or DeleteRecords while this broker was
 * away) truncates fully and starts at the leader's start
 * (ST_REQ_TRUNCATE_FULL); otherwise the follower is ahead of the leader
 * and the epoch truncation (KIP-279) finds where it diverged. */
#include <stdlib.h>
#include <string.h>

#include "common/kafka_errors.h"
#include "common/log.h"
#include "control/rf_int.h"
#include "protocol/gen/kp_msg_list_offsets.h"
#include "storage/st.h"

void
rf_list_encode(struct rf *rf, struct rf_conn *conn, struct kp_writer *w)
{
	struct kp_list_offsets_request_list_offsets_partition *ps;
	struct kp_list_offsets_request_list_offsets_topic *ts;
	struct kp_list_offsets_request req;
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
			kp_list_offsets_request_list_offsets_topic_init(&ts[t]);
			ts[t].name = kp_str_c(p->topic);
			ts[t].partitions.items = &ps[i];
		}
		ts[t].partitions.count++;
		kp_list_offsets_request_list_offsets_partition_init(&ps[i]);
		ps[i].partition_index = p->partition;
		ps[i].current_leader_epoch = p->leader_epoch;
		ps[i].timestamp = ST_OFFSET_EARLIEST;
	}
	kp_list_offsets_request_init(&req);
	req.replica_id = rf->cfg.broker_id;
	req.isolation_level = 0;
	req.topics.count = (int32_t)nt;
	req.topics.items = ts;
	kp_list_offsets_request_encode(w, conn->list_version, &req);
	free(ps);
	free(ts);
}

static void
rf_list_partition(struct rf *rf, struct rf_part *p,
		  const struct kp_list_offsets_response_list_offsets_partition_response *pr,
		  uint64_t now_ns)
{
	if (p->state != RF_LIST_START)
		return;
	if (pr->error_code != KP_ERR_NONE) {
		rf_part_error(rf, p, pr->error_code, now_ns);
		return;
	}
	p->last_error = KP_ERR_NONE;
	if (pr->offset > p->fetch_offset) {
		log_info("rf", "%s-%d: log end %lld below leader %d's log start %lld: "
			 "truncating fully", p->topic, p->partition, (long long)p->fetch_offset,
			 p->leader_id, (long long)pr->offset);
		rf_part_truncate_full(p, pr->offset);
	} else {
		rf_part_restart(rf, p, rf_backoff_ns(rf));
	}
}

int
rf_list_apply(struct rf *rf, struct rf_conn *conn, const uint8_t *body, size_t len,
	      uint64_t now_ns)
{
	struct kp_cursor c = kp_cursor_make(body, len), tc, pc;
	struct kp_list_offsets_response resp;
	int16_t v = conn->inflight_version;
	int32_t i, j;

	if (kp_list_offsets_response_decode(&c, v, &resp) < 0)
		return -1;
	tc = kp_array_cursor(&resp.topics);
	for (i = 0; i < resp.topics.count; i++) {
		struct kp_list_offsets_response_list_offsets_topic_response t;

		if (kp_list_offsets_response_list_offsets_topic_response_decode(&tc, v, &t) < 0)
			return -1;
		pc = kp_array_cursor(&t.partitions);
		for (j = 0; j < t.partitions.count; j++) {
			struct kp_list_offsets_response_list_offsets_partition_response pr;
			struct rf_part *p;

			if (kp_list_offsets_response_list_offsets_partition_response_decode(
				    &pc, v, &pr) < 0)
				return -1;
			p = rf_answer_part(rf, conn, t.name, NULL, pr.partition_index);
			if (p != NULL)
				rf_list_partition(rf, p, &pr, now_ns);
		}
	}
	return 0;
}
