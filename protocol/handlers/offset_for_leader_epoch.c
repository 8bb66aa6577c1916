/* SPDX-License-Identifier: Apache-2.0 */
/* OffsetForLeaderEpoch (key 23), versions 2-4: the end offset of a leader
 * epoch, from the partition's leader-epoch cache, one storage request per
 * partition. Consumers (librdkafka >= 2.1, Java) send it to validate their
 * position after a leader change. @thread dataplane */
#include <string.h>

#include "protocol/gen/kp_msg_offset_for_leader_epoch.h"
#include "protocol/kp_core_int.h"

KP_SHAPE_DEFINE(epoch_shape, kp_offset_for_leader_epoch_request, topics,
		kp_offset_for_leader_epoch_request_offset_for_leader_topic, topic, partitions,
		kp_offset_for_leader_epoch_request_offset_for_leader_partition);

static void epoch_encode(const struct kp_pending *p, struct kp_writer *w);

static const struct kp_pending_ops epoch_ops = { .shape = &epoch_shape, .encode = epoch_encode };

struct epoch_fill {
	struct kp_pending *p;
	const struct kp_md *md;
};

static void
epoch_fill(void *arg, const struct kp_visit_part *vp)
{
	const struct epoch_fill *fill = arg;
	struct kp_pending *p = fill->p;
	const struct kp_offset_for_leader_epoch_request_offset_for_leader_partition *lp =
		vp->entry;
	struct kp_part *pt = &p->parts[vp->index];

	pt->partition = lp->partition;
	if (vp->denied) {
		pt->error = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
		return;
	}
	if (!kp_visit_known(vp->topic, lp->partition)) {
		pt->error = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		return;
	}
	/* The client's view of the leader epoch first, as Kafka: an older one
	 * is fenced, a newer unknown; then only the leader answers (followers
	 * ask it too, replica_id >= 0). */
	pt->error = kp_leader_check(fill->md, vp->topic, lp->partition,
				    lp->current_leader_epoch, true);
	memcpy(pt->topic_id, vp->topic->id.b, sizeof(pt->topic_id));
	pt->op = pt->error == KP_ERR_NONE ? ST_REQ_EPOCH : 0;
	pt->in_limit = lp->leader_epoch;
	/* UNDEFINED_EPOCH asked: Kafka's cache answers UNDEFINED (storage's
	 * -1 means the latest epoch, for the replica fetcher). */
	if (lp->leader_epoch == -1) {
		pt->op = 0;
		pt->leader_epoch = -1;
		pt->offset = -1;
	}
}

static void
epoch_encode_part(struct kp_writer *w, int16_t version, const struct kp_part *pt)
{
	struct kp_offset_for_leader_epoch_response_epoch_end_offset r;

	kp_offset_for_leader_epoch_response_epoch_end_offset_init(&r);
	r.error_code = pt->error;
	r.partition = pt->partition;
	r.leader_epoch = pt->error == KP_ERR_NONE ? pt->leader_epoch : -1;
	r.end_offset = pt->error == KP_ERR_NONE ? pt->offset : -1;
	kp_offset_for_leader_epoch_response_epoch_end_offset_encode(w, version, &r);
}

KP_ENCODERS_DEFINE(epoch_encoders, kp_offset_for_leader_epoch_response, topics,
		   kp_offset_for_leader_epoch_response_offset_for_leader_topic_result, topic,
		   partitions, epoch_encode_part);

/* The response lists the request's topic entries as they came. */
static void
epoch_encode(const struct kp_pending *p, struct kp_writer *w)
{
	kp_pending_encode(p, w, &epoch_encoders, KP_GROUP_REQUEST);
}

enum kp_verdict
kp_handle_offset_for_leader_epoch(struct kp_call *call)
{
	struct kp_offset_for_leader_epoch_request req;
	struct kp_offset_for_leader_epoch_request_offset_for_leader_partition entry;
	struct kp_pending *p = kp_pending_begin(call, &epoch_ops, &req);
	struct epoch_fill fill = { .p = p, .md = call->env->md };

	if (p == NULL)
		return KP_VERDICT_CLOSE;
	kp_pending_visit(p, &(struct kp_visit){ .md = call->env->md, .entry = &entry,
						.part = epoch_fill, .arg = &fill,
						.acl_op = KP_ACL_DESCRIBE, .env = call->env });
	return kp_pending_run(call->env->kc, p, call);
}
