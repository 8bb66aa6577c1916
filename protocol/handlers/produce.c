/* SPDX-License-Identifier: Apache-2.0 */
/* Produce (key 0), versions 3-11 (advertised from 0). Each partition's batch
 * is validated and handed to its storage worker in place, from the request's
 * memory; the response is encoded once every partition completed. acks=0
 * still waits for the appends, then sends nothing.
 *
 * Validation is bounded per loop turn: what does not fit the dispatch's
 * budget (large compressed batches) goes on the core's validation queue,
 * which kp_core_poll() advances a slice per turn, so a batch of compression
 * bombs costs its sender time, not the core's other connections. Requests
 * stay in order behind a queued one (a producer's sequence numbers rely on
 * it, per connection; other connections go ahead). @thread dataplane */
#include <string.h>

#include "common/compiler.h"
#include "protocol/gen/kp_msg_produce.h"
#include "protocol/kp_core_int.h"
#include "protocol/kp_records.h"

static bool produce_finish(struct kp_core *kc, struct kp_pending *p, struct kp_done *done);
static bool produce_step(struct kp_core *kc, struct kp_pending *p, size_t *budget);
static void produce_encode(const struct kp_pending *p, struct kp_writer *w);

static const struct kp_pending_ops produce_ops = {
	.finish = produce_finish,
	.step = produce_step,
};

/* Validation work one Produce may do at dispatch before the rest goes to
 * the queue: a couple of slices. */
#define PRODUCE_DISPATCH_BUDGET (2 * (size_t)KP_RECORDS_STEP_BYTES)

static uint32_t
produce_partition_count(const struct kp_produce_request *req, int16_t version)
{
	struct kp_cursor it = kp_array_cursor(&req->topic_data);
	uint64_t count = 0;

	for (int32_t i = 0; i < req->topic_data.count; i++) {
		struct kp_produce_request_topic_produce_data t;

		kp_produce_request_topic_produce_data_decode(&it, version, &t);
		count += kp_count0(t.partition_data.count);
	}
	return count > UINT32_MAX ? UINT32_MAX : (uint32_t)count;
}

/* Fill the parts from the request (in p's memory): names, partitions,
 * batches, and the errors known before validation. Returns whether any
 * batch is flagged transactional. */
static bool
produce_collect(struct kp_pending *p, const struct kp_produce_request *req, const struct kp_md *md)
{
	int16_t version = p->hdr.request_api_version;
	struct kp_cursor it = kp_array_cursor(&req->topic_data);
	bool transactional = false;
	uint32_t index = 0;

	for (int32_t i = 0; i < req->topic_data.count; i++) {
		struct kp_produce_request_topic_produce_data t;
		const struct kp_md_topic *topic;
		struct kp_cursor pit;

		kp_produce_request_topic_produce_data_decode(&it, version, &t);
		topic = kp_md_topic_by_name(md, t.name);
		pit = kp_array_cursor(&t.partition_data);
		for (int32_t j = 0; j < t.partition_data.count; j++) {
			struct kp_produce_request_partition_produce_data pd;
			struct kp_part *pt = &p->parts[index++];
			struct rbatch_header h;

			kp_produce_request_partition_produce_data_decode(&pit, version, &pd);
			pt->topic = t.name;
			pt->partition = pd.index;
			pt->offset = -1;
			pt->timestamp = -1;
			pt->log_start_offset = -1;
			pt->batch = (uint8_t *)(uintptr_t)pd.records.ptr;
			pt->batch_len = pd.records.len > 0 ? (uint32_t)pd.records.len : 0;
			pt->part_max = topic != NULL ? topic->max_message_bytes : 0;
			if (pd.records.len > 0 &&
			    rbatch_header_parse(pd.records.ptr, (size_t)pd.records.len, &h) == 0 &&
			    (h.attributes & RBATCH_ATTR_TRANSACTIONAL))
				transactional = true;
			if (topic == NULL || pd.index < 0 || pd.index >= topic->partition_count) {
				pt->error = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			memcpy(pt->topic_id, topic->id.b, sizeof(pt->topic_id));
			if (req->acks != 0 && req->acks != 1 && req->acks != -1)
				pt->error = KP_ERR_INVALID_REQUIRED_ACKS;
			else if (pd.records.len <= 0)
				pt->error = KP_ERR_CORRUPT_MESSAGE;
			else
				pt->validating = true;
		}
	}
	return transactional;
}

/* Validate parts from p->vpart on with about *budget bytes of work; true
 * when every part is validated (its op set, or its error). A part's job, if
 * any, lives in p->job between calls. */
static bool
produce_step(struct kp_core *kc, struct kp_pending *p, size_t *budget)
{
	(void)kc;
	while (p->vpart < p->part_count) {
		struct kp_part *pt = &p->parts[p->vpart];
		int16_t err;

		if (!pt->validating) {
			p->vpart++;
			continue;
		}
		if (*budget == 0)
			return false;
		if (p->job == NULL) {
			struct kp_records_stats before, after;
			struct rbatch_header h;

			kp_records_thread_stats(&before);
			err = kp_records_validate_begin_budget(pt->batch, (int32_t)pt->batch_len,
							       p->hdr.request_api_version,
							       pt->part_max, &h, *budget, &p->job);
			kp_records_thread_stats(&after);
			*budget -= MIN(*budget, pt->batch_len + (after.inflated_bytes -
								 before.inflated_bytes));
			if (err == KP_RECORDS_BUSY)
				return false;   /* jobs held elsewhere: next turn */
			if (err == KP_ERR_NONE && p->job != NULL)
				continue;       /* more to walk */
		} else {
			size_t slice = MIN(*budget, (size_t)KP_RECORDS_STEP_BYTES);
			int rc = kp_records_job_step(p->job, slice);

			*budget -= slice;
			if (rc == KP_RECORDS_MORE)
				continue;
			kp_records_job_free(p->job);
			p->job = NULL;
			err = (int16_t)rc;
		}
		pt->validating = false;
		pt->error = err;
		pt->op = err == KP_ERR_NONE ? ST_REQ_APPEND : 0;
		p->vpart++;
	}
	return true;
}

enum kp_verdict
kp_handle_produce(struct kp_call *call)
{
	int16_t version = call->hdr.request_api_version;
	struct kp_core *kc = call->env->kc;
	struct kp_produce_request req;
	struct kp_pending *p;
	size_t budget = PRODUCE_DISPATCH_BUDGET;

	if (kp_produce_request_decode(&call->body, version, &req) != 0)
		return KP_VERDICT_CLOSE;
	if (kc == NULL)
		return KP_VERDICT_CLOSE;        /* no storage: cannot happen in the broker */
	p = kp_pending_get(kc, call, &produce_ops, produce_partition_count(&req, version));
	if (p == NULL)
		return KP_VERDICT_CLOSE;        /* out of memory, or an absurd count */
	{
		struct kp_cursor body = p->body;

		if (kp_produce_request_decode(&body, version, &req) != 0)
			PANIC("produce request decoded at dispatch but not from its copy");
	}
	p->acks = req.acks;
	if (produce_collect(p, &req, call->env->md) && req.transactional_id.ptr == NULL) {
		/* Kafka refuses the whole request: transactional batches from a
		 * producer without a transactional id. */
		for (uint32_t i = 0; i < p->part_count; i++) {
			p->parts[i].error = KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
			p->parts[i].validating = false;
		}
	}
	/* Behind its connection's queued validations, a Produce queues (order);
	 * else what
	 * the budget covers is validated now and the rest queued. */
	if (kp_pending_validating(kc, call->env->conn) || !produce_step(kc, p, &budget)) {
		kp_pending_validate(kc, p);
		return KP_VERDICT_PENDING;
	}
	if (kp_pending_start(kc, p))
		return KP_VERDICT_PENDING;
	/* Every partition failed before storage: answer now. */
	produce_encode(p, call->w);
	kp_pending_put(kc, p);
	return req.acks == 0 ? KP_VERDICT_NO_REPLY : KP_VERDICT_REPLY;
}

/* Encode the response body from the parts, consecutive parts of one topic
 * under one topic entry (the request's own grouping). */
static void
produce_encode(const struct kp_pending *p, struct kp_writer *w)
{
	int16_t version = p->hdr.request_api_version;
	struct kp_produce_response_partition_produce_response r;
	struct kp_produce_response_topic_produce_response tr;
	struct kp_produce_response resp;
	struct kp_writer topics, parts;
	int32_t topic_count = 0;

	kp_writer_init(&topics, 128);
	for (uint32_t i = 0; i < p->part_count;) {
		uint32_t end = i + 1;

		while (end < p->part_count && kp_str_eq(p->parts[end].topic, p->parts[i].topic))
			end++;
		kp_produce_response_topic_produce_response_init(&tr);
		tr.name = p->parts[i].topic;
		kp_writer_init(&parts, 64);
		for (uint32_t j = i; j < end; j++) {
			const struct kp_part *pt = &p->parts[j];
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
		tr.partition_responses = kp_array_wire((int32_t)(end - i), &parts);
		kp_produce_response_topic_produce_response_encode(&topics, version, &tr);
		kp_writer_free(&parts);
		topic_count++;
		i = end;
	}
	kp_produce_response_init(&resp);
	resp.responses = kp_array_wire(topic_count, &topics);
	kp_produce_response_encode(w, version, &resp);
	kp_writer_free(&topics);
}

static bool
produce_finish(struct kp_core *kc, struct kp_pending *p, struct kp_done *done)
{
	struct kp_writer w;

	(void)kc;
	done->verdict = p->acks == 0 ? KP_VERDICT_NO_REPLY : KP_VERDICT_REPLY;
	if (p->acks == 0)
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
