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

#include "common/clock.h"
#include "common/compiler.h"
#include "protocol/gen/kp_msg_produce.h"
#include "protocol/kp_core_int.h"
#include "protocol/kp_records.h"

KP_SHAPE_DEFINE(produce_shape, kp_produce_request, topic_data,
		kp_produce_request_topic_produce_data, name, partition_data,
		kp_produce_request_partition_produce_data);

static bool produce_step(struct kp_core *kc, struct kp_pending *p, size_t *budget);
static void produce_encode(const struct kp_pending *p, struct kp_writer *w);
static int produce_collect_leaders(struct kp_pending *p, const struct kp_env *env);

static const struct kp_pending_ops produce_ops = {
	.shape = &produce_shape,
	.encode = produce_encode,
	.step = produce_step,
};

/* Validation work one Produce may do at dispatch before the rest goes to
 * the queue: a couple of slices. */
#define PRODUCE_DISPATCH_BUDGET (2 * (size_t)KP_RECORDS_STEP_BYTES)

struct produce_fill {
	struct kp_pending *p;
	struct kp_part_map map;         /* when the request has several parts */
	bool transactional;     /* some batch is flagged transactional */
	const struct kp_env *env;
	bool denied;            /* the current topic: no WRITE on it */
	bool not_leader;        /* some part is NOT_LEADER_OR_FOLLOWER */
};

/* KIP-951's node_endpoints (Produce v10+): the leaders named in the parts'
 * current_leader, copied out of the snapshot (p->api). */
struct produce_leaders {
	int32_t count;
	struct kp_produce_response_node_endpoint items[];
	/* then the hosts and racks */
};

/* Distinct leaders one response names at most (a bound on the stack, far
 * above any cluster this broker runs in). */
#define PRODUCE_LEADERS_MAX 64

/* Each topic once: WRITE on it (checked before its existence, as Kafka). */
static void
produce_topic(void *arg, struct kp_str name, uint32_t first, uint32_t count)
{
	struct produce_fill *fill = arg;

	(void)first;
	(void)count;
	fill->denied = !kp_authorize(fill->env, KP_ACL_WRITE, KP_RES_TOPIC, name);
}

/* A partition listed twice is appended and answered once, with its last
 * listing's batch, as Kafka does (KafkaApis.handleProduceRequest keys its
 * batches by partition); one hash probe per listing. */
static struct kp_part *
produce_part(struct produce_fill *fill, const struct kp_visit_part *vp, int32_t partition)
{
	struct kp_pending *p = fill->p;
	struct kp_part *pt = &p->parts[p->part_count];
	uint32_t at = p->part_count;

	pt->topic = vp->name;
	pt->partition = partition;
	if (fill->map.slots != NULL)
		at = kp_part_map_put(&fill->map, p->parts, p->part_count);
	if (at == p->part_count)
		p->part_count++;
	pt = &p->parts[at];
	pt->error = KP_ERR_NONE;
	pt->validating = false;
	return pt;
}

/* Fill a partition's part from the request (in p's memory): name,
 * partition, batch, and the errors known before validation. */
static void
produce_fill(void *arg, const struct kp_visit_part *vp)
{
	struct produce_fill *fill = arg;
	struct kp_pending *p = fill->p;
	const struct kp_produce_request_partition_produce_data *pd = vp->entry;
	const struct kp_md_topic *topic = vp->topic;
	struct kp_part *pt = produce_part(fill, vp, pd->index);
	struct rbatch_header h;

	pt->offset = -1;
	pt->timestamp = -1;
	pt->log_start_offset = -1;
	pt->leader_id = -1;
	pt->batch = (uint8_t *)(uintptr_t)pd->records.ptr;
	pt->batch_len = pd->records.len > 0 ? (uint32_t)pd->records.len : 0;
	pt->part_max = topic != NULL ? topic->max_message_bytes : 0;
	if (pd->records.len > 0 &&
	    rbatch_header_parse(pd->records.ptr, (size_t)pd->records.len, &h) == 0 &&
	    (h.attributes & RBATCH_ATTR_TRANSACTIONAL))
		fill->transactional = true;
	if (fill->denied) {
		pt->error = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
		return;
	}
	if (!kp_visit_known(topic, pd->index)) {
		pt->error = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		return;
	}
	memcpy(pt->topic_id, topic->id.b, sizeof(pt->topic_id));
	if (p->acks != 0 && p->acks != 1 && p->acks != -1)
		pt->error = KP_ERR_INVALID_REQUIRED_ACKS;
	else if (topic->internal)
		/* ReplicaManager.appendToLocalLog: "Cannot append to internal
		 * topic" for a client's Produce; the coordinator writes its
		 * topic through control, not through this handler. */
		pt->error = KP_ERR_INVALID_TOPIC_EXCEPTION;
	else
		pt->error = kp_leader_check(fill->env->md, topic, pd->index, -1, true);
	if (pt->error == KP_ERR_NOT_LEADER_OR_FOLLOWER) {
		const struct kp_md_partition *mp = kp_md_partition(topic, pd->index);

		/* KafkaApis.getCurrentLeader: the leader the metadata knows. */
		pt->leader_id = mp->leader;
		pt->leader_epoch = mp->leader_epoch;
		fill->not_leader = true;
	}
	if (pt->error != KP_ERR_NONE)
		return;
	if (pd->records.len <= 0)
		pt->error = KP_ERR_CORRUPT_MESSAGE;
	else
		pt->validating = true;
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
	struct kp_core *kc = call->env->kc;
	struct kp_produce_request req;
	struct kp_produce_request_partition_produce_data entry;
	size_t budget = PRODUCE_DISPATCH_BUDGET;
	struct kp_pending *p = kp_pending_begin(call, &produce_ops, &req);
	struct produce_fill fill = { .p = p, .env = call->env };

	if (p == NULL)
		return KP_VERDICT_CLOSE;        /* undecodable, out of memory, absurd count */
	p->acks = req.acks;
	p->timeout_ms = req.timeout_ms;
	p->no_reply = req.acks == 0;    /* acks=0 still waits for its appends */
	/* One part needs no duplicate check (and no allocation). */
	if (p->part_count > 1 && kp_part_map_init(&fill.map, p->part_count) != 0) {
		kp_pending_put(kc, p);
		return KP_VERDICT_CLOSE;
	}
	p->part_count = 0;
	/* producer_byte_rate counts the whole request (Kafka's
	 * request.sizeInBytes: header and body), acks=0 too. */
	p->throttle_ms = kp_core_quota_record(kc, call->env->md, KP_QUOTA_PRODUCER_BYTE_RATE,
					      call->hdr.client_id, (double)call->frame_len);
	/* Known now: the dataplane stops reading the connection at once, as
	 * Kafka, which reads nothing more while a request is in process. */
	call->out->throttle_ms = p->throttle_ms;
	kp_pending_visit(p, &(struct kp_visit){ .md = call->env->md, .entry = &entry,
						.topic = produce_topic, .part = produce_fill,
						.arg = &fill });
	kp_part_map_free(&fill.map);
	if (fill.transactional &&
	    (req.transactional_id.ptr == NULL ||
	     !kp_authorize(call->env, KP_ACL_WRITE, KP_RES_TRANSACTIONAL_ID,
			   req.transactional_id))) {
		/* Kafka refuses the whole request: transactional batches from a
		 * producer without a transactional id, or without WRITE on it. */
		for (uint32_t i = 0; i < p->part_count; i++) {
			p->parts[i].error = KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
			p->parts[i].validating = false;
		}
	}
	if (fill.not_leader && p->hdr.request_api_version >= 10 &&
	    produce_collect_leaders(p, call->env) != 0) {
		kp_pending_put(kc, p);
		return KP_VERDICT_CLOSE;
	}
	/* Behind its connection's queued validations, a Produce queues (order);
	 * else what the budget covers is validated now and the rest queued. */
	if (kp_pending_validating(kc, call->env->conn) || !produce_step(kc, p, &budget)) {
		kp_pending_validate(kc, p);
		return KP_VERDICT_PENDING;
	}
	if (p->t_frame_ns != 0)
		p->t_valid_ns = clock_mono_ns();        /* the receive stage ends */
	return kp_pending_run(kc, p, call);
}

static void
produce_encode_part(struct kp_writer *w, int16_t version, const struct kp_part *pt)
{
	struct kp_produce_response_partition_produce_response r;
	/* A timed-out acks=all wait keeps its offsets: the records were
	 * appended (Kafka's DelayedProduce answers its partition status). */
	bool ok = pt->error == KP_ERR_NONE || pt->error == KP_ERR_REQUEST_TIMED_OUT;

	kp_produce_response_partition_produce_response_init(&r);
	r.index = pt->partition;
	r.error_code = pt->error;
	/* Kafka answers -1 offsets on other errors (Java relies on it). */
	r.base_offset = ok ? pt->offset : -1;
	r.log_append_time_ms = ok ? pt->timestamp : -1;
	r.log_start_offset = ok ? pt->log_start_offset : -1;
	if (pt->error == KP_ERR_NOT_LEADER_OR_FOLLOWER && version >= 10) {
		/* From the snapshot at dispatch; a leader change found by
		 * storage later names no leader. */
		r.current_leader.leader_id = pt->leader_id;
		r.current_leader.leader_epoch = pt->leader_id >= 0 ? pt->leader_epoch : -1;
	}
	kp_produce_response_partition_produce_response_encode(w, version, &r);
}

KP_ENCODERS_DEFINE(produce_encoders, kp_produce_response, responses,
		   kp_produce_response_topic_produce_response, name, partition_responses,
		   produce_encode_part);

/* Consecutive parts of one topic under one topic entry (the request's own
 * grouping), and the leaders' endpoints for the parts led elsewhere. */
static void
produce_encode(const struct kp_pending *p, struct kp_writer *w)
{
	const struct produce_leaders *leaders = p->api;
	int16_t version = p->hdr.request_api_version;
	struct kp_produce_response resp;
	struct kp_writer topics;
	int32_t n = 0;

	kp_writer_init(&topics, 128);
	for (uint32_t i = 0, end; i < p->part_count; i = end, n++) {
		struct kp_writer parts;

		end = kp_pending_topic_run(p, i);
		kp_writer_init(&parts, 64);
		for (uint32_t k = i; k < end; k++)
			produce_encode_part(&parts, version, &p->parts[k]);
		produce_encoders.topic(&topics, version, p->parts[i].topic,
				       kp_array_wire((int32_t)(end - i), &parts));
		kp_writer_free(&parts);
	}
	kp_produce_response_init(&resp);
	resp.responses = kp_array_wire(n, &topics);
	resp.throttle_time_ms = p->throttle_ms;
	if (leaders != NULL) {
		resp.node_endpoints.count = leaders->count;
		resp.node_endpoints.items = leaders->items;
	}
	kp_produce_response_encode(w, version, &resp);
	kp_writer_free(&topics);
}

/* Whether parts[0..i) already name leader id. */
static bool
produce_leader_seen(const struct kp_pending *p, uint32_t i, int32_t id)
{
	while (i-- > 0)
		if (p->parts[i].error == KP_ERR_NOT_LEADER_OR_FOLLOWER &&
		    p->parts[i].leader_id == id)
			return true;
	return false;
}

/* p->api: each distinct live leader of a NOT_LEADER_OR_FOLLOWER part, with
 * its endpoint for the client's listener (Kafka's nodeEndpoints). -1 when
 * out of memory. */
static int
produce_collect_leaders(struct kp_pending *p, const struct kp_env *env)
{
	const struct kp_md_endpoint *ep[PRODUCE_LEADERS_MAX];
	const struct kp_md_broker *b[PRODUCE_LEADERS_MAX];
	struct produce_leaders *out;
	size_t bytes = 0;
	int32_t n = 0;
	char *pos;

	for (uint32_t i = 0; i < p->part_count && n < PRODUCE_LEADERS_MAX; i++) {
		const struct kp_part *pt = &p->parts[i];

		if (pt->error != KP_ERR_NOT_LEADER_OR_FOLLOWER || pt->leader_id < 0 ||
		    produce_leader_seen(p, i, pt->leader_id))
			continue;
		b[n] = kp_md_broker(env->md, pt->leader_id);
		ep[n] = b[n] != NULL ? kp_md_broker_endpoint(env->md, b[n], env->session) : NULL;
		if (ep[n] == NULL)
			continue;
		bytes += strlen(ep[n]->host) + 1;
		bytes += b[n]->rack != NULL ? strlen(b[n]->rack) + 1 : 0;
		n++;
	}
	if (n == 0)
		return 0;
	out = malloc(sizeof(*out) + (size_t)n * sizeof(out->items[0]) + bytes);
	if (out == NULL)
		return -1;
	pos = (char *)&out->items[n];
	for (int32_t i = 0; i < n; i++) {
		struct kp_produce_response_node_endpoint *e = &out->items[i];
		size_t len = strlen(ep[i]->host);

		kp_produce_response_node_endpoint_init(e);
		e->node_id = b[i]->id;
		e->port = ep[i]->port;
		memcpy(pos, ep[i]->host, len + 1);
		e->host = (struct kp_str){ pos, (int32_t)len };
		pos += len + 1;
		e->rack = kp_str_c(NULL);
		if (b[i]->rack != NULL) {
			len = strlen(b[i]->rack);
			memcpy(pos, b[i]->rack, len + 1);
			e->rack = (struct kp_str){ pos, (int32_t)len };
			pos += len + 1;
		}
	}
	out->count = n;
	p->api = out;
	return 0;
}
