/* SPDX-License-Identifier: Apache-2.0 */
/* DescribeProducers (key 61), version 0: each partition's active idempotent
 * producers (kafka-transactions.sh describe-producers,
 * Admin.describeProducers), one storage request per partition to the
 * worker that owns its producer state. Errors in the order of
 * KafkaApis.handleDescribeProducersRequest: an invalid topic name, then an
 * unknown topic (both for the whole topic, with Kafka's message), then an
 * unknown partition (ReplicaManager, no message). Without transactions a
 * producer's coordinator epoch and transaction start are always -1.
 * @thread dataplane */
#include <stdlib.h>
#include <string.h>

#include "protocol/gen/kp_msg_describe_producers.h"
#include "protocol/kp_core_int.h"

/* The request's shape by hand: its partition entries are bare int32s,
 * which KP_SHAPE_DEFINE (generated entry structs) does not cover. */
static int
describe_producers_request(struct kp_cursor *c, int16_t v, void *r, struct kp_array *out)
{
	int rc = kp_describe_producers_request_decode(c, v, r);

	*out = ((struct kp_describe_producers_request *)r)->topics;
	return rc;
}

static struct kp_str
describe_producers_topic(struct kp_cursor *it, int16_t v, struct kp_array *out)
{
	struct kp_describe_producers_request_topic_request t;

	(void)kp_describe_producers_request_topic_request_decode(it, v, &t);
	*out = t.partition_indexes;
	return t.name;
}

static void
describe_producers_part(struct kp_cursor *it, int16_t v, void *e)
{
	(void)v;
	*(int32_t *)e = kp_read_i32(it);
}

static const struct kp_shape describe_producers_shape = {
	describe_producers_request, describe_producers_topic, describe_producers_part,
};

static void describe_producers_encode(const struct kp_pending *p, struct kp_writer *w);

static const struct kp_pending_ops describe_producers_ops = {
	.shape = &describe_producers_shape,
	.encode = describe_producers_encode,
};

/* in_limit marks an error of the whole topic: Kafka sends its message. */
#define DP_TOPIC_ERROR 1

struct describe_producers_fill {
	struct kp_pending *p;
	const struct kp_md *md;
};

static void
describe_producers_fill(void *arg, const struct kp_visit_part *vp)
{
	const struct describe_producers_fill *fill = arg;
	struct kp_pending *p = fill->p;
	const int32_t *partition = vp->entry;
	struct kp_part *pt = &p->parts[vp->index];
	char msg[8];

	pt->topic = vp->name;
	pt->partition = *partition;
	if (vp->denied) {
		pt->error = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
		return;
	}
	pt->error = kp_topic_name_check(vp->name, msg, sizeof(msg));
	if (pt->error == KP_ERR_NONE && vp->topic == NULL)
		pt->error = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	if (pt->error != KP_ERR_NONE) {
		pt->in_limit = DP_TOPIC_ERROR;
		return;
	}
	if (!kp_visit_known(vp->topic, *partition)) {
		pt->error = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		return;
	}
	/* Any replica answers (KIP-664: Admin may ask a follower). */
	pt->error = kp_leader_check(fill->md, vp->topic, *partition, -1, false);
	if (pt->error != KP_ERR_NONE)
		return;
	memcpy(pt->topic_id, vp->topic->id.b, sizeof(pt->topic_id));
	pt->op = ST_REQ_PRODUCERS;
}

/* The producers of a part as the generated type: NULL (writer failed)
 * when out of memory. */
static struct kp_describe_producers_response_producer_state *
describe_producers_states(struct kp_writer *w, const struct kp_part *pt)
{
	struct kp_describe_producers_response_producer_state *s;

	s = calloc(pt->producer_count > 0 ? pt->producer_count : 1, sizeof(*s));
	if (s == NULL) {
		kp_writer_fail(w, KP_WIRE_NOMEM);
		return NULL;
	}
	for (uint32_t i = 0; i < pt->producer_count; i++) {
		const struct st_producer *sp = &pt->producers[i];

		kp_describe_producers_response_producer_state_init(&s[i]);
		s[i].producer_id = sp->producer_id;
		s[i].producer_epoch = sp->epoch;
		s[i].last_sequence = sp->last_sequence;
		s[i].last_timestamp = sp->last_timestamp;
		s[i].coordinator_epoch = -1;
		s[i].current_txn_start_offset = -1;
	}
	return s;
}

static void
describe_producers_encode_part(struct kp_writer *w, int16_t version, const struct kp_part *pt)
{
	struct kp_describe_producers_response_partition_response r;
	struct kp_describe_producers_response_producer_state *s = NULL;
	char msg[512];

	kp_describe_producers_response_partition_response_init(&r);
	r.partition_index = pt->partition;
	r.error_code = pt->error;
	if (pt->in_limit == DP_TOPIC_ERROR) {
		if (pt->error == KP_ERR_UNKNOWN_TOPIC_OR_PARTITION)
			r.error_message = kp_str_c("This server does not host this "
						   "topic-partition.");
		else if (kp_topic_name_check(pt->topic, msg, sizeof(msg)) != KP_ERR_NONE)
			r.error_message = kp_str_c(msg);
	}
	if (pt->error == KP_ERR_NONE && pt->producer_count > 0) {
		s = describe_producers_states(w, pt);
		if (s == NULL)
			return;
		r.active_producers.count = (int32_t)pt->producer_count;
		r.active_producers.items = s;
	}
	kp_describe_producers_response_partition_response_encode(w, version, &r);
	free(s);
}

KP_ENCODERS_DEFINE(describe_producers_encoders, kp_describe_producers_response, topics,
		   kp_describe_producers_response_topic_response, name, partitions,
		   describe_producers_encode_part);

/* Kafka answers the request's topic entries as they came, each partition
 * index as listed (a repeated one answers again). */
static void
describe_producers_encode(const struct kp_pending *p, struct kp_writer *w)
{
	kp_pending_encode(p, w, &describe_producers_encoders, KP_GROUP_REQUEST);
}

enum kp_verdict
kp_handle_describe_producers(struct kp_call *call)
{
	struct kp_describe_producers_request req;
	int32_t entry;
	struct kp_pending *p = kp_pending_begin(call, &describe_producers_ops, &req);
	struct describe_producers_fill fill = { .p = p, .md = call->env->md };

	if (p == NULL)
		return KP_VERDICT_CLOSE;
	kp_pending_visit(p, &(struct kp_visit){ .md = call->env->md, .entry = &entry,
						.part = describe_producers_fill, .arg = &fill,
						.acl_op = KP_ACL_READ, .env = call->env });
	return kp_pending_run(call->env->kc, p, call);
}
