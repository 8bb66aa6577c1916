/* SPDX-License-Identifier: Apache-2.0 */
/* ListOffsets (key 2), versions 1-7: earliest (-2), latest (-1), max
 * timestamp (-3, v7) or the first offset at or after a timestamp (through
 * the time index), one storage request per partition. @thread dataplane */
#include <stdlib.h>
#include <string.h>

#include "protocol/gen/kp_msg_list_offsets.h"
#include "protocol/kp_core_int.h"

KP_SHAPE_DEFINE(list_offsets_shape, kp_list_offsets_request, topics,
		kp_list_offsets_request_list_offsets_topic, name, partitions,
		kp_list_offsets_request_list_offsets_partition);

static void list_offsets_encode(const struct kp_pending *p, struct kp_writer *w);

static const struct kp_pending_ops list_offsets_ops = {
	.shape = &list_offsets_shape,
	.encode = list_offsets_encode,
};

struct list_offsets_fill {
	struct kp_pending *p;
	const struct kp_md *md;
	bool debug;             /* replica_id -2: followers answer too (Kafka's
				 * DEBUGGING_REPLICA_ID) */
};

/* A partition's part: what to ask storage, or the error known before. */
static void
list_offsets_fill(void *arg, const struct kp_visit_part *vp)
{
	const struct list_offsets_fill *fill = arg;
	struct kp_pending *p = fill->p;
	const struct kp_list_offsets_request_list_offsets_partition *lp = vp->entry;
	struct kp_part *pt = &p->parts[vp->index];
	int16_t version = p->hdr.request_api_version;

	pt->topic = vp->name;
	pt->partition = lp->partition_index;
	pt->offset = -1;
	pt->timestamp = -1;
	pt->leader_epoch = -1;
	if (p->isolation != 0 && p->isolation != 1) {
		/* Kafka's answer to an isolation level it does not know. */
		pt->error = KP_ERR_UNKNOWN_SERVER_ERROR;
		return;
	}
	if (vp->denied) {
		pt->error = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
		return;
	}
	if (!kp_visit_known(vp->topic, lp->partition_index)) {
		pt->error = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		return;
	}
	/* Max timestamp (-3) exists from v7; older versions know only -1/-2. */
	if (lp->timestamp < -2 && !(lp->timestamp == ST_OFFSET_MAX_TIMESTAMP && version >= 7)) {
		pt->error = KP_ERR_UNSUPPORTED_VERSION;
		return;
	}
	pt->error = kp_leader_check(fill->md, vp->topic, lp->partition_index,
				    version >= 4 ? lp->current_leader_epoch : -1, !fill->debug);
	if (pt->error != KP_ERR_NONE)
		return;
	memcpy(pt->topic_id, vp->topic->id.b, sizeof(pt->topic_id));
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
list_offsets_encode_part(struct kp_writer *w, int16_t version, const struct kp_part *pt)
{
	struct kp_list_offsets_response_list_offsets_partition_response r;
	bool ok = pt->error == KP_ERR_NONE;

	kp_list_offsets_response_list_offsets_partition_response_init(&r);
	r.partition_index = pt->partition;
	r.error_code = pt->error;
	r.timestamp = ok ? pt->timestamp : -1;
	r.offset = ok ? pt->offset : -1;
	/* The field exists from v4: older versions must keep its default or
	 * the encoder refuses the response. */
	if (version >= 4)
		r.leader_epoch = ok ? pt->leader_epoch : -1;
	kp_list_offsets_response_list_offsets_partition_response_encode(w, version, &r);
}

KP_ENCODERS_DEFINE(list_offsets_encoders, kp_list_offsets_response, topics,
		   kp_list_offsets_response_list_offsets_topic_response, name, partitions,
		   list_offsets_encode_part);

/* The response lists the request's topic entries as they came (a topic
 * named twice answers twice, an empty one answers empty), as Kafka. */
static void
list_offsets_encode(const struct kp_pending *p, struct kp_writer *w)
{
	kp_pending_encode(p, w, &list_offsets_encoders, KP_GROUP_REQUEST);
}

enum kp_verdict
kp_handle_list_offsets(struct kp_call *call)
{
	struct kp_list_offsets_request req;
	struct kp_list_offsets_request_list_offsets_partition entry;
	struct kp_pending *p = kp_pending_begin(call, &list_offsets_ops, &req);
	struct list_offsets_fill fill;

	if (p == NULL)
		return KP_VERDICT_CLOSE;
	p->isolation = p->hdr.request_api_version >= 2 ? req.isolation_level : 0;
	fill = (struct list_offsets_fill){ .p = p, .md = call->env->md,
					   .debug = req.replica_id == -2 };
	kp_pending_visit(p, &(struct kp_visit){ .md = call->env->md, .entry = &entry,
						.part = list_offsets_fill, .arg = &fill,
						.acl_op = KP_ACL_DESCRIBE, .env = call->env });
	if (list_offsets_dups(p) != 0) {
		kp_pending_put(call->env->kc, p);
		return KP_VERDICT_CLOSE;
	}
	return kp_pending_run(call->env->kc, p, call);
}
