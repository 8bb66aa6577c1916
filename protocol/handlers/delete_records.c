/* SPDX-License-Identifier: Apache-2.0 */
/* DeleteRecords (key 21), versions 0-2: move each partition's log start
 * offset up (AdminClient.deleteRecords, kafka-delete-records.sh), one
 * storage request per partition; the owning worker checks the offset
 * against the high watermark and the topic's cleanup.policy, persists the
 * new start and deletes the segments below it. @thread dataplane */
#include <stdlib.h>
#include <string.h>

#include "protocol/gen/kp_msg_delete_records.h"
#include "protocol/kp_core_int.h"

KP_SHAPE_DEFINE(delete_records_shape, kp_delete_records_request, topics,
		kp_delete_records_request_delete_records_topic, name, partitions,
		kp_delete_records_request_delete_records_partition);

static void delete_records_encode(const struct kp_pending *p, struct kp_writer *w);

static const struct kp_pending_ops delete_records_ops = {
	.shape = &delete_records_shape,
	.encode = delete_records_encode,
};

/* A partition's part: what to ask storage, or the error known before (in
 * KafkaApis.handleDeleteRecordsRequest's and ReplicaManager's order). */
struct delete_records_fill {
	struct kp_pending *p;
	const struct kp_md *md;
};

static void
delete_records_fill(void *arg, const struct kp_visit_part *vp)
{
	const struct delete_records_fill *fill = arg;
	struct kp_pending *p = fill->p;
	const struct kp_delete_records_request_delete_records_partition *dp = vp->entry;
	struct kp_part *pt = &p->parts[vp->index];

	pt->topic = vp->name;
	pt->partition = dp->partition_index;
	pt->offset = -1;
	if (vp->denied) {
		pt->error = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
		return;
	}
	if (!kp_visit_known(vp->topic, dp->partition_index)) {
		pt->error = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		return;
	}
	if (kp_topic_internal(vp->name)) {
		pt->error = KP_ERR_INVALID_TOPIC_EXCEPTION;
		return;
	}
	/* Only the leader moves the log start (deleteRecordsOnLeader). */
	pt->error = kp_leader_check(fill->md, vp->topic, dp->partition_index, -1, true);
	if (pt->error != KP_ERR_NONE)
		return;
	memcpy(pt->topic_id, vp->topic->id.b, sizeof(pt->topic_id));
	pt->op = ST_REQ_DELETE_RECORDS;
	pt->in_offset = dp->offset;
}

/* Kafka keys the request by partition: a partition listed twice is asked
 * once, with its last listing's offset, and answered once. The earlier
 * listings are marked cut (not asked, not answered). */
static int
delete_records_dups(struct kp_pending *p)
{
	struct kp_part_map map;

	if (kp_part_map_init(&map, p->part_count) != 0)
		return -1;
	for (uint32_t i = p->part_count; i-- > 0;) {
		if (kp_part_map_put(&map, p->parts, i) != i) {
			p->parts[i].cut = true;
			p->parts[i].op = 0;
		}
	}
	kp_part_map_free(&map);
	return 0;
}

static void
delete_records_encode_part(struct kp_writer *w, int16_t version, const struct kp_part *pt)
{
	struct kp_delete_records_response_delete_records_partition_result r;

	kp_delete_records_response_delete_records_partition_result_init(&r);
	r.partition_index = pt->partition;
	r.error_code = pt->error;
	r.low_watermark = pt->error == KP_ERR_NONE ? pt->offset : -1;
	kp_delete_records_response_delete_records_partition_result_encode(w, version, &r);
}

KP_ENCODERS_DEFINE(delete_records_encoders, kp_delete_records_response, topics,
		   kp_delete_records_response_delete_records_topic_result, name, partitions,
		   delete_records_encode_part);

static int
delete_records_name_cmp(struct kp_str a, struct kp_str b)
{
	int32_t n = a.len < b.len ? a.len : b.len;
	int c = n > 0 ? memcmp(a.ptr, b.ptr, (size_t)n) : 0;

	return c != 0 ? c : (a.len > b.len) - (a.len < b.len);
}

static int
delete_records_part_cmp(const void *x, const void *y, void *arg)
{
	const struct kp_part *parts = arg;
	const struct kp_part *a = &parts[*(const uint32_t *)x];
	const struct kp_part *b = &parts[*(const uint32_t *)y];
	int c = delete_records_name_cmp(a->topic, b->topic);

	return c != 0 ? c : (a->partition > b->partition) - (a->partition < b->partition);
}

/* The parts to answer (not cut), grouped by topic name: Kafka answers one
 * topic entry per topic however the request listed it. NULL when out of
 * memory. */
static uint32_t *
delete_records_order(const struct kp_pending *p, uint32_t *count)
{
	uint32_t *idx = malloc(sizeof(*idx) * (p->part_count > 0 ? p->part_count : 1));

	*count = 0;
	if (idx == NULL)
		return NULL;
	for (uint32_t i = 0; i < p->part_count; i++)
		if (!p->parts[i].cut)
			idx[(*count)++] = i;
	qsort_r(idx, *count, sizeof(*idx), delete_records_part_cmp, p->parts);
	return idx;
}

static void
delete_records_encode(const struct kp_pending *p, struct kp_writer *w)
{
	const struct kp_encoders *e = &delete_records_encoders;
	int16_t version = p->hdr.request_api_version;
	struct kp_writer topics, parts;
	int32_t topic_count = 0;
	uint32_t count, i, j;
	uint32_t *idx = delete_records_order(p, &count);

	if (idx == NULL) {
		/* Out of memory: still a well-formed answer, a topic entry per
		 * run of one topic in the request. */
		kp_pending_encode(p, w, e, KP_GROUP_RUNS);
		return;
	}
	kp_writer_init(&topics, 128);
	for (i = 0; i < count; i = j) {
		struct kp_str name = p->parts[idx[i]].topic;

		kp_writer_init(&parts, 64);
		for (j = i; j < count && kp_str_eq(p->parts[idx[j]].topic, name); j++)
			e->part(&parts, version, &p->parts[idx[j]]);
		e->topic(&topics, version, name, kp_array_wire((int32_t)(j - i), &parts));
		kp_writer_free(&parts);
		topic_count++;
	}
	e->response(w, version, kp_array_wire(topic_count, &topics), 0);
	kp_writer_free(&topics);
	free(idx);
}

enum kp_verdict
kp_handle_delete_records(struct kp_call *call)
{
	struct kp_delete_records_request req;
	struct kp_delete_records_request_delete_records_partition entry;
	struct kp_pending *p = kp_pending_begin(call, &delete_records_ops, &req);
	struct delete_records_fill fill = { .p = p, .md = call->env->md };

	if (p == NULL)
		return KP_VERDICT_CLOSE;
	kp_pending_visit(p, &(struct kp_visit){ .md = call->env->md, .entry = &entry,
						.part = delete_records_fill, .arg = &fill,
						.acl_op = KP_ACL_DELETE, .env = call->env });
	if (delete_records_dups(p) != 0) {
		kp_pending_put(call->env->kc, p);
		return KP_VERDICT_CLOSE;
	}
	return kp_pending_run(call->env->kc, p, call);
}
