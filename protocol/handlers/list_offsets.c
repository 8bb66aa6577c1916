/* SPDX-License-Identifier: Apache-2.0 */
/* ListOffsets (key 2), versions 1-7: earliest (-2), latest (-1), max
 * timestamp (-3, v7) or the first offset at or after a timestamp (through
 * the time index), one storage request per partition. @thread dataplane */
#include <stdlib.h>
#include <string.h>

#include "protocol/gen/kp_msg_list_offsets.h"
#include "protocol/kp_core_int.h"

static bool list_offsets_finish(struct kp_core *kc, struct kp_pending *p,
				struct kp_done *done);

static const struct kp_pending_ops list_offsets_ops = { .finish = list_offsets_finish };

/* Visit every requested partition in request order. */
static uint32_t
list_offsets_walk(const struct kp_list_offsets_request *req, int16_t version,
		  void (*fn)(void *arg, uint32_t index, struct kp_str topic,
			     const struct kp_list_offsets_request_list_offsets_partition *lp),
		  void *arg)
{
	struct kp_cursor it = kp_array_cursor(&req->topics);
	uint32_t index = 0;

	for (int32_t i = 0; i < req->topics.count; i++) {
		struct kp_list_offsets_request_list_offsets_topic t;
		struct kp_cursor pit;

		kp_list_offsets_request_list_offsets_topic_decode(&it, version, &t);
		pit = kp_array_cursor(&t.partitions);
		for (int32_t j = 0; j < t.partitions.count; j++) {
			struct kp_list_offsets_request_list_offsets_partition lp;

			kp_list_offsets_request_list_offsets_partition_decode(&pit, version, &lp);
			if (fn != NULL)
				fn(arg, index, t.name, &lp);
			index++;
		}
	}
	return index;
}

struct list_offsets_ctx {
	struct kp_core *kc;
	struct kp_pending *p;
	const struct kp_md *md;
	int16_t version;
};

static void
list_offsets_submit(void *arg, uint32_t index, struct kp_str topic_name,
		    const struct kp_list_offsets_request_list_offsets_partition *lp)
{
	struct list_offsets_ctx *ctx = arg;
	const struct kp_md_topic *topic = kp_md_topic_by_name(ctx->md, topic_name);
	struct kp_part *pt = &ctx->p->parts[index];

	pt->topic = topic_name;
	pt->partition = lp->partition_index;
	pt->offset = -1;
	pt->timestamp = -1;
	pt->leader_epoch = -1;
	if (ctx->p->isolation != 0 && ctx->p->isolation != 1) {
		/* Kafka's answer to an isolation level it does not know. */
		pt->error = KP_ERR_UNKNOWN_SERVER_ERROR;
		return;
	}
	if (topic == NULL || lp->partition_index < 0 ||
	    lp->partition_index >= topic->partition_count) {
		pt->error = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		return;
	}
	/* Max timestamp (-3) exists from v7; older versions know only -1/-2. */
	if (lp->timestamp < -2 && !(lp->timestamp == ST_OFFSET_MAX_TIMESTAMP &&
				    ctx->version >= 7)) {
		pt->error = KP_ERR_UNSUPPORTED_VERSION;
		return;
	}
	pt->error = kp_leader_epoch_check(ctx->version >= 4 ? lp->current_leader_epoch : -1);
	if (pt->error != KP_ERR_NONE)
		return;
	memcpy(pt->topic_id, topic->id.b, sizeof(pt->topic_id));
	pt->op = ST_REQ_OFFSET;
	pt->in_offset = lp->timestamp;
}

/* A partition listed twice: Kafka answers INVALID_REQUEST for each of its
 * listings, and asks storage for none of them. */
static int
list_offsets_dups(struct kp_pending *p)
{
	struct kp_part_map map;
	bool *dup;

	if (kp_part_map_init(&map, p->part_count) != 0)
		return -1;
	dup = calloc(p->part_count > 0 ? p->part_count : 1, sizeof(*dup));
	if (dup == NULL) {
		kp_part_map_free(&map);
		return -1;
	}
	for (uint32_t i = 0; i < p->part_count; i++) {
		uint32_t first = kp_part_map_put(&map, p->parts, i);

		if (first != i)
			dup[first] = dup[i] = true;
	}
	for (uint32_t i = 0; i < p->part_count; i++) {
		if (dup[i]) {
			p->parts[i].error = KP_ERR_INVALID_REQUEST;
			p->parts[i].op = 0;
		}
	}
	free(dup);
	kp_part_map_free(&map);
	return 0;
}

static void
list_offsets_encode(const struct kp_pending *p, struct kp_writer *w)
{
	int16_t version = p->hdr.request_api_version;
	struct kp_list_offsets_request req;
	struct kp_list_offsets_response resp;
	struct kp_cursor body = p->body;
	struct kp_writer topics;
	struct kp_cursor it;
	uint32_t index = 0;
	int rc = kp_list_offsets_request_decode(&body, version, &req);

	ASSERT(rc == 0);                /* it decoded at dispatch */
	kp_writer_init(&topics, 128);
	it = kp_array_cursor(&req.topics);
	for (int32_t i = 0; i < req.topics.count; i++) {
		struct kp_list_offsets_request_list_offsets_topic t;
		struct kp_list_offsets_response_list_offsets_topic_response tr;
		struct kp_writer parts;

		kp_list_offsets_request_list_offsets_topic_decode(&it, version, &t);
		kp_list_offsets_response_list_offsets_topic_response_init(&tr);
		kp_writer_init(&parts, 64);
		for (int32_t j = 0; j < t.partitions.count; j++) {
			const struct kp_part *pt = &p->parts[index++];
			struct kp_list_offsets_response_list_offsets_partition_response r;

			kp_list_offsets_response_list_offsets_partition_response_init(&r);
			r.partition_index = pt->partition;
			r.error_code = pt->error;
			r.timestamp = pt->error == KP_ERR_NONE ? pt->timestamp : -1;
			r.offset = pt->error == KP_ERR_NONE ? pt->offset : -1;
			/* The field exists from v4: older versions must keep
			 * its default or the encoder refuses the response. */
			if (version >= 4)
				r.leader_epoch = pt->error == KP_ERR_NONE ? pt->leader_epoch
									  : -1;
			kp_list_offsets_response_list_offsets_partition_response_encode(
				&parts, version, &r);
		}
		tr.name = t.name;
		tr.partitions = kp_array_wire(kp_count0(t.partitions.count), &parts);
		kp_list_offsets_response_list_offsets_topic_response_encode(&topics, version, &tr);
		kp_writer_free(&parts);
	}
	kp_list_offsets_response_init(&resp);
	resp.topics = kp_array_wire(kp_count0(req.topics.count), &topics);
	kp_list_offsets_response_encode(w, version, &resp);
	kp_writer_free(&topics);
}

static bool
list_offsets_finish(struct kp_core *kc, struct kp_pending *p, struct kp_done *done)
{
	struct kp_writer w;

	(void)kc;
	done->verdict = KP_VERDICT_REPLY;
	kp_writer_init(&w, 256);
	kp_response_begin(&w, &p->hdr);
	list_offsets_encode(p, &w);
	if (!kp_response_end(&w, &done->resp)) {
		kp_writer_free(&w);
		done->verdict = KP_VERDICT_CLOSE;
	}
	return true;
}

enum kp_verdict
kp_handle_list_offsets(struct kp_call *call)
{
	int16_t version = call->hdr.request_api_version;
	struct kp_list_offsets_request req;
	struct list_offsets_ctx ctx;

	if (kp_list_offsets_request_decode(&call->body, version, &req) != 0 ||
	    call->env->kc == NULL)
		return KP_VERDICT_CLOSE;
	ctx.kc = call->env->kc;
	ctx.md = call->env->md;
	ctx.version = version;
	ctx.p = kp_pending_get(ctx.kc, call, &list_offsets_ops,
			       list_offsets_walk(&req, version, NULL, NULL));
	if (ctx.p == NULL)
		return KP_VERDICT_CLOSE;
	{
		struct kp_cursor body = ctx.p->body;    /* names kept in the record */

		if (kp_list_offsets_request_decode(&body, version, &req) != 0)
			PANIC("list offsets decoded at dispatch but not from its copy");
	}
	ctx.p->isolation = version >= 2 ? req.isolation_level : 0;
	list_offsets_walk(&req, version, list_offsets_submit, &ctx);
	if (list_offsets_dups(ctx.p) != 0) {
		kp_pending_put(ctx.kc, ctx.p);
		return KP_VERDICT_CLOSE;
	}
	if (kp_pending_start(ctx.kc, ctx.p))
		return KP_VERDICT_PENDING;
	list_offsets_encode(ctx.p, call->w);
	kp_pending_put(ctx.kc, ctx.p);
	return KP_VERDICT_REPLY;
}
