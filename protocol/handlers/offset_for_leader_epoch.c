/* SPDX-License-Identifier: Apache-2.0 */
/* OffsetForLeaderEpoch (key 23), versions 2-4: the end offset of a leader
 * epoch, from the partition's leader-epoch cache, one storage request per
 * partition. Consumers (librdkafka >= 2.1, Java) send it to validate their
 * position after a leader change. @thread dataplane */
#include <string.h>

#include "protocol/gen/kp_msg_offset_for_leader_epoch.h"
#include "protocol/kp_core_int.h"

static bool epoch_finish(struct kp_core *kc, struct kp_pending *p, struct kp_done *done);

static const struct kp_pending_ops epoch_ops = { .finish = epoch_finish };

static uint32_t
epoch_count(const struct kp_offset_for_leader_epoch_request *req, int16_t version)
{
	struct kp_cursor it = kp_array_cursor(&req->topics);
	uint32_t count = 0;

	for (int32_t i = 0; i < req->topics.count; i++) {
		struct kp_offset_for_leader_epoch_request_offset_for_leader_topic t;

		kp_offset_for_leader_epoch_request_offset_for_leader_topic_decode(&it, version, &t);
		count += (uint32_t)kp_count0(t.partitions.count);
	}
	return count;
}

static void
epoch_submit_all(struct kp_pending *p, const struct kp_md *md,
		 const struct kp_offset_for_leader_epoch_request *req, int16_t version)
{
	struct kp_cursor it = kp_array_cursor(&req->topics);
	uint32_t index = 0;

	for (int32_t i = 0; i < req->topics.count; i++) {
		struct kp_offset_for_leader_epoch_request_offset_for_leader_topic t;
		const struct kp_md_topic *topic;
		struct kp_cursor pit;

		kp_offset_for_leader_epoch_request_offset_for_leader_topic_decode(&it, version, &t);
		topic = kp_md_topic_by_name(md, t.topic);
		pit = kp_array_cursor(&t.partitions);
		for (int32_t j = 0; j < t.partitions.count; j++) {
			struct kp_offset_for_leader_epoch_request_offset_for_leader_partition lp;
			struct kp_part *pt = &p->parts[index];

			kp_offset_for_leader_epoch_request_offset_for_leader_partition_decode(
				&pit, version, &lp);
			pt->partition = lp.partition;
			if (topic == NULL || lp.partition < 0 ||
			    lp.partition >= topic->partition_count) {
				pt->error = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
			} else {
				/* The client's view of the leader epoch first, as
				 * Kafka: an older one is fenced, a newer unknown. */
				pt->error = kp_leader_epoch_check(lp.current_leader_epoch);
				memcpy(pt->topic_id, topic->id.b, sizeof(pt->topic_id));
				pt->op = pt->error == KP_ERR_NONE ? ST_REQ_EPOCH : 0;
				pt->in_limit = lp.leader_epoch;
			}
			index++;
		}
	}
}

static void
epoch_encode(const struct kp_pending *p, struct kp_writer *w)
{
	int16_t version = p->hdr.request_api_version;
	struct kp_offset_for_leader_epoch_request req;
	struct kp_offset_for_leader_epoch_response resp;
	struct kp_cursor body = p->body;
	struct kp_writer topics;
	struct kp_cursor it;
	uint32_t index = 0;
	int rc = kp_offset_for_leader_epoch_request_decode(&body, version, &req);

	ASSERT(rc == 0);                /* it decoded at dispatch */
	kp_writer_init(&topics, 128);
	it = kp_array_cursor(&req.topics);
	for (int32_t i = 0; i < req.topics.count; i++) {
		struct kp_offset_for_leader_epoch_request_offset_for_leader_topic t;
		struct kp_offset_for_leader_epoch_response_offset_for_leader_topic_result tr;
		struct kp_writer parts;

		kp_offset_for_leader_epoch_request_offset_for_leader_topic_decode(&it, version, &t);
		kp_offset_for_leader_epoch_response_offset_for_leader_topic_result_init(&tr);
		kp_writer_init(&parts, 64);
		for (int32_t j = 0; j < t.partitions.count; j++) {
			const struct kp_part *pt = &p->parts[index++];
			struct kp_offset_for_leader_epoch_response_epoch_end_offset r;

			kp_offset_for_leader_epoch_response_epoch_end_offset_init(&r);
			r.error_code = pt->error;
			r.partition = pt->partition;
			r.leader_epoch = pt->error == KP_ERR_NONE ? pt->leader_epoch : -1;
			r.end_offset = pt->error == KP_ERR_NONE ? pt->offset : -1;
			kp_offset_for_leader_epoch_response_epoch_end_offset_encode(&parts, version,
										    &r);
		}
		tr.topic = t.topic;
		tr.partitions = kp_array_wire(kp_count0(t.partitions.count), &parts);
		kp_offset_for_leader_epoch_response_offset_for_leader_topic_result_encode(
			&topics, version, &tr);
		kp_writer_free(&parts);
	}
	kp_offset_for_leader_epoch_response_init(&resp);
	resp.topics = kp_array_wire(kp_count0(req.topics.count), &topics);
	kp_offset_for_leader_epoch_response_encode(w, version, &resp);
	kp_writer_free(&topics);
}

static bool
epoch_finish(struct kp_core *kc, struct kp_pending *p, struct kp_done *done)
{
	struct kp_writer w;

	(void)kc;
	done->verdict = KP_VERDICT_REPLY;
	kp_writer_init(&w, 256);
	kp_response_begin(&w, &p->hdr);
	epoch_encode(p, &w);
	if (!kp_response_end(&w, &done->resp)) {
		kp_writer_free(&w);
		done->verdict = KP_VERDICT_CLOSE;
	}
	return true;
}

enum kp_verdict
kp_handle_offset_for_leader_epoch(struct kp_call *call)
{
	int16_t version = call->hdr.request_api_version;
	struct kp_offset_for_leader_epoch_request req;
	struct kp_pending *p;

	if (kp_offset_for_leader_epoch_request_decode(&call->body, version, &req) != 0 ||
	    call->env->kc == NULL)
		return KP_VERDICT_CLOSE;
	p = kp_pending_get(call->env->kc, call, &epoch_ops, epoch_count(&req, version));
	if (p == NULL)
		return KP_VERDICT_CLOSE;
	epoch_submit_all(p, call->env->md, &req, version);
	if (kp_pending_start(call->env->kc, p))
		return KP_VERDICT_PENDING;
	epoch_encode(p, call->w);
	kp_pending_put(call->env->kc, p);
	return KP_VERDICT_REPLY;
}
