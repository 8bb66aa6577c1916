/* SPDX-License-Identifier: Apache-2.0 */
/* Produce (key 0), versions 3-11 (advertised from 0). Each partition's batch
 * is validated here and handed to its storage worker in place, from the
 * receive buffer; the response is encoded once every partition completed.
 * acks=0 still waits for the appends, then sends nothing. @thread dataplane */
#include <string.h>

#include "protocol/gen/kp_msg_produce.h"
#include "protocol/kp_core_int.h"
#include "protocol/kp_records.h"

static bool produce_finish(struct kp_core *kc, struct kp_pending *p, struct kp_done *done);
static void produce_encode(const struct kp_pending *p, struct kp_writer *w);

static const struct kp_pending_ops produce_ops = { produce_finish, NULL };

static int32_t
produce_partition_count(const struct kp_produce_request *req, int16_t version)
{
	struct kp_cursor it = kp_array_cursor(&req->topic_data);
	int64_t count = 0;

	for (int32_t i = 0; i < req->topic_data.count; i++) {
		struct kp_produce_request_topic_produce_data t;

		kp_produce_request_topic_produce_data_decode(&it, version, &t);
		count += kp_count0(t.partition_data.count);
	}
	return count > INT32_MAX ? INT32_MAX : (int32_t)count;
}

/* Validate one partition's batch and submit it, or record its error. */
static void
produce_partition(struct kp_core *kc, struct kp_pending *p, uint32_t index, int16_t acks,
		  const struct kp_md_topic *topic,
		  const struct kp_produce_request_partition_produce_data *pd, int16_t version)
{
	struct kp_part *pt = &p->parts[index];
	struct rbatch_header h;
	struct st_req req;

	pt->partition = pd->index;
	pt->offset = -1;
	pt->timestamp = -1;
	pt->log_start_offset = -1;
	if (topic == NULL || pd->index < 0 || pd->index >= topic->partition_count) {
		pt->error = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		return;
	}
	memcpy(pt->topic_id, topic->id.b, sizeof(pt->topic_id));
	if (acks != 0 && acks != 1 && acks != -1) {
		pt->error = KP_ERR_INVALID_REQUIRED_ACKS;
		return;
	}
	if (pd->records.len <= 0) {
		pt->error = KP_ERR_CORRUPT_MESSAGE;
		return;
	}
	pt->error = kp_records_validate(pd->records.ptr, pd->records.len, version,
					topic->max_message_bytes, &h);
	if (pt->error != KP_ERR_NONE)
		return;
	memset(&req, 0, sizeof(req));
	req.type = ST_REQ_APPEND;
	req.acks = (int8_t)acks;
	/* The frame is ours until the request finishes; storage rewrites the
	 * batch's offset fields in place and writes from this memory. */
	req.append.batch = (uint8_t *)(uintptr_t)pd->records.ptr;
	req.append.len = (uint32_t)pd->records.len;
	kp_pending_submit(kc, p, index, &req);
}

enum kp_verdict
kp_handle_produce(struct kp_call *call)
{
	int16_t version = call->hdr.api_version;
	const struct kp_md *md = call->env->md;
	struct kp_produce_request req;
	struct kp_pending *p;
	struct kp_cursor it;
	uint32_t index = 0;

	if (kp_produce_request_decode(&call->body, version, &req) != 0)
		return KP_VERDICT_CLOSE;
	if (call->env->kc == NULL)
		return KP_VERDICT_CLOSE;        /* no storage: cannot happen in the broker */
	p = kp_pending_get(call->env->kc, call, &produce_ops,
			   (uint32_t)produce_partition_count(&req, version));
	if (p == NULL)
		return KP_VERDICT_CLOSE;        /* the core is saturated: client retries */
	it = kp_array_cursor(&req.topic_data);
	for (int32_t i = 0; i < req.topic_data.count; i++) {
		struct kp_produce_request_topic_produce_data t;
		const struct kp_md_topic *topic;
		struct kp_cursor pit;

		kp_produce_request_topic_produce_data_decode(&it, version, &t);
		topic = kp_md_topic_by_name(md, t.name);
		pit = kp_array_cursor(&t.partition_data);
		for (int32_t j = 0; j < t.partition_data.count; j++) {
			struct kp_produce_request_partition_produce_data pd;

			kp_produce_request_partition_produce_data_decode(&pit, version, &pd);
			produce_partition(call->env->kc, p, index++, req.acks, topic, &pd, version);
		}
	}
	if (p->part_left > 0)
		return KP_VERDICT_PENDING;
	/* Every partition failed before storage: answer now. */
	produce_encode(p, call->w);
	kp_pending_put(call->env->kc, p);
	return req.acks == 0 ? KP_VERDICT_NO_REPLY : KP_VERDICT_REPLY;
}

/* Encode the response body from the partition results, in request order. */
static void
produce_encode(const struct kp_pending *p, struct kp_writer *w)
{
	int16_t version = p->hdr.api_version;
	struct kp_produce_response_partition_produce_response r;
	struct kp_produce_response_topic_produce_response tr;
	struct kp_produce_response resp;
	struct kp_produce_request req;
	struct kp_cursor body = p->body;
	struct kp_writer topics, parts;
	struct kp_cursor it;
	uint32_t index = 0;

	int rc = kp_produce_request_decode(&body, version, &req);

	ASSERT(rc == 0);                /* it decoded at dispatch */
	kp_writer_init(&topics, 128);
	it = kp_array_cursor(&req.topic_data);
	for (int32_t i = 0; i < req.topic_data.count; i++) {
		struct kp_produce_request_topic_produce_data t;

		kp_produce_request_topic_produce_data_decode(&it, version, &t);
		kp_produce_response_topic_produce_response_init(&tr);
		tr.name = t.name;
		kp_writer_init(&parts, 64);
		for (int32_t j = 0; j < t.partition_data.count; j++) {
			const struct kp_part *pt = &p->parts[index++];
			bool ok = pt->error == KP_ERR_NONE;

			kp_produce_response_partition_produce_response_init(&r);
			r.index = pt->partition;
			r.error_code = pt->error;
			/* Kafka answers -1 offsets on error (Java relies on it). */
			r.base_offset = ok ? pt->offset : -1;
			r.log_append_time_ms = ok ? pt->timestamp : -1;
			r.log_start_offset = ok ? pt->log_start_offset : -1;
			kp_produce_response_partition_produce_response_encode(&parts, version, &r);
		}
		tr.partition_responses.count = kp_count0(t.partition_data.count);
		tr.partition_responses.wire = parts.buf;
		tr.partition_responses.wire_end = parts.buf + parts.len;
		kp_produce_response_topic_produce_response_encode(&topics, version, &tr);
		kp_writer_free(&parts);
	}
	kp_produce_response_init(&resp);
	resp.responses.count = kp_count0(req.topic_data.count);
	resp.responses.wire = topics.buf;
	resp.responses.wire_end = topics.buf + topics.len;
	kp_produce_response_encode(w, version, &resp);
	kp_writer_free(&topics);
}

static bool
produce_finish(struct kp_core *kc, struct kp_pending *p, struct kp_done *done)
{
	struct kp_produce_request req;
	struct kp_cursor body = p->body;
	struct kp_writer w;

	int rc = kp_produce_request_decode(&body, p->hdr.api_version, &req);

	(void)kc;
	ASSERT(rc == 0);                /* it decoded at dispatch */
	done->verdict = req.acks == 0 ? KP_VERDICT_NO_REPLY : KP_VERDICT_REPLY;
	if (req.acks == 0)
		return true;
	kp_writer_init(&w, 256);
	kp_response_begin(&w, &p->hdr);
	produce_encode(p, &w);
	if (!kp_response_end(&w, &done->resp)) {
		kp_writer_free(&w);
		done->verdict = KP_VERDICT_CLOSE;
	}
	return true;
}
