/* SPDX-License-Identifier: Apache-2.0 */
/* OffsetFetch v0-9 (Kafka's GroupCoordinator.handleFetchOffsets and
 * GroupMetadataManager.getOffsets): the committed offsets of named
 * partitions (-1 and "" when none, also for unknown topics and groups) or
 * of every partition (v2+: topics null), for one group or, from v8, for
 * several. Commits still being appended are not seen; with require_stable
 * (v7+) their partitions answer UNSTABLE_OFFSET_COMMIT. v0 is
 * UNSUPPORTED_VERSION, as on a KRaft Kafka. Never parks. @thread control */
#include "control/group/off_int.h"

#include <stdlib.h>

#include "protocol/gen/kp_msg_offset_fetch.h"

struct off_fetch_out {
	struct grp_coord *c;            /* for the topics' DESCRIBE checks */
	int16_t version;
	struct kp_writer topics;        /* encoded topics of one group */
	int32_t topic_count;
	struct kp_writer parts;         /* encoded partitions of one topic */
	int32_t part_count;
};

static void
off_fetch_part(struct off_fetch_out *out, int32_t partition, const struct off_entry *e,
	       int16_t error, bool require_stable)
{
	struct kp_offset_fetch_response_offset_fetch_response_partitions p;

	/* The v0-7 and v8-9 partition structs have the same fields. */
	kp_offset_fetch_response_offset_fetch_response_partitions_init(&p);
	p.partition_index = partition;
	p.committed_offset = -1;
	p.error_code = error;
	if (error == KP_ERR_NONE && e != NULL && require_stable && e->pending > 0) {
		p.error_code = KP_ERR_UNSTABLE_OFFSET_COMMIT;
	} else if (error == KP_ERR_NONE && e != NULL && e->committed) {
		p.committed_offset = e->v.offset;
		p.committed_leader_epoch = e->v.leader_epoch;
		p.metadata = (struct kp_str){ e->v.metadata != NULL ? e->v.metadata : "",
					      e->v.metadata_len };
	}
	if (out->version >= 8) {
		kp_offset_fetch_response_offset_fetch_response_partitions_encode(&out->parts,
										 out->version, &p);
	} else {
		struct kp_offset_fetch_response_offset_fetch_response_partition q;

		kp_offset_fetch_response_offset_fetch_response_partition_init(&q);
		q.partition_index = p.partition_index;
		q.committed_offset = p.committed_offset;
		q.committed_leader_epoch = p.committed_leader_epoch;
		q.metadata = p.metadata;
		q.error_code = p.error_code;
		kp_offset_fetch_response_offset_fetch_response_partition_encode(&out->parts,
										out->version, &q);
	}
	out->part_count++;
}

static void
off_fetch_topic_end(struct off_fetch_out *out, struct kp_str name)
{
	struct kp_array parts = kp_array_wire(out->part_count, &out->parts);

	if (out->version >= 8) {
		struct kp_offset_fetch_response_offset_fetch_response_topics t;

		kp_offset_fetch_response_offset_fetch_response_topics_init(&t);
		t.name = name;
		t.partitions = parts;
		kp_offset_fetch_response_offset_fetch_response_topics_encode(&out->topics,
									     out->version, &t);
	} else {
		struct kp_offset_fetch_response_offset_fetch_response_topic t;

		kp_offset_fetch_response_offset_fetch_response_topic_init(&t);
		t.name = name;
		t.partitions = parts;
		kp_offset_fetch_response_offset_fetch_response_topic_encode(&out->topics,
									    out->version, &t);
	}
	out->topic_count++;
	out->part_count = 0;
	out->parts.len = 0;
}

/* Every committed offset of o (Kafka's allOffsets), topic by topic. */
static void
off_fetch_all(struct off_fetch_out *out, const struct off_group *o, bool require_stable)
{
	if (o == NULL)
		return;
	for (uint32_t b = 0; b < o->topic_buckets; b++) {
		for (const struct off_topic *t = o->topics[b]; t != NULL; t = t->hnext) {
			/* Topics the principal may not describe are left out. */
			if (!grp_allowed_quiet(out->c, KP_ACL_DESCRIBE, KP_RES_TOPIC,
					       (struct kp_str){ t->name, t->name_len }))
				continue;
			for (const struct off_entry *e = t->parts; e != NULL; e = e->tnext)
				if (e->committed)
					off_fetch_part(out, e->partition, e, KP_ERR_NONE,
						       require_stable);
			if (out->part_count > 0)
				off_fetch_topic_end(out, (struct kp_str){ t->name, t->name_len });
		}
	}
}

/* The listings of the named partitions, topics decoded at out->version:
 * how many (at most max), or -1 when the request does not decode. */
static int32_t
off_fetch_keys(struct off_fetch_out *out, const struct kp_array *topics, struct off_key *keys,
	       int32_t max)
{
	struct kp_cursor tc = kp_array_cursor(topics);
	int32_t n = 0;

	for (int32_t i = 0; i < topics->count; i++) {
		struct kp_offset_fetch_request_offset_fetch_request_topics t;
		int rc;

		if (out->version >= 8) {
			rc = kp_offset_fetch_request_offset_fetch_request_topics_decode(
				&tc, out->version, &t);
		} else {
			struct kp_offset_fetch_request_offset_fetch_request_topic t0;

			rc = kp_offset_fetch_request_offset_fetch_request_topic_decode(
				&tc, out->version, &t0);
			t.name = t0.name;
			t.partition_indexes = t0.partition_indexes;
		}
		if (rc != 0)
			return -1;
		struct kp_cursor pc = kp_array_cursor(&t.partition_indexes);

		for (int32_t p = 0; p < t.partition_indexes.count; p++) {
			int32_t partition = kp_read_i32(&pc);

			if (pc.err != 0 || n == max)
				return -1;
			keys[n] = (struct off_key){ t.name, partition, n };
			n++;
		}
	}
	return n;
}

/* The named partitions, each once under one entry per topic, as Kafka
 * answers (off_dedup.c); error, when set, goes into each partition (v0-1
 * have no group-level error). The listings are bounded by the request's
 * size (4 bytes each). */
static int
off_fetch_named(struct off_fetch_out *out, const struct off_group *o, const struct kp_array *topics,
		int16_t error, bool require_stable)
{
	int32_t max = (int32_t)((topics->wire_end - topics->wire) / 4) + 1;
	struct off_key *keys = malloc(sizeof(*keys) * (size_t)max);
	int32_t *order = malloc(sizeof(*order) * (size_t)max);
	int32_t n = keys != NULL && order != NULL ? off_fetch_keys(out, topics, keys, max) : -1;
	int32_t kept = n >= 0 ? off_dedup(keys, n, order) : -1;

	for (int32_t k = 0; k < kept; k++) {
		const struct off_key *key = &keys[order[k]];

		if (k > 0 && !kp_str_eq(keys[order[k - 1]].topic, key->topic))
			off_fetch_topic_end(out, keys[order[k - 1]].topic);
		if (error == KP_ERR_NONE &&
		    !grp_allowed(out->c, KP_ACL_DESCRIBE, KP_RES_TOPIC, key->topic))
			off_fetch_part(out, key->partition, NULL, KP_ERR_TOPIC_AUTHORIZATION_FAILED,
				       require_stable);
		else
			off_fetch_part(out, key->partition,
				       off_entry_find(o, key->topic, key->partition), error,
				       require_stable);
	}
	if (kept > 0)
		off_fetch_topic_end(out, keys[order[kept - 1]].topic);
	free(keys);
	free(order);
	return kept >= 0 ? 0 : -1;
}

/* One group's topics into out->topics; returns the group-level error
 * (v2+), or -1 when the request does not decode. */
static int32_t
off_fetch_group(struct grp_coord *c, struct off_fetch_out *out, struct kp_str group_id,
		const struct kp_array *topics, bool require_stable)
{
	int16_t err = out->version == 0 ? KP_ERR_UNSUPPORTED_VERSION
					: off_check_id(c, group_id, true);
	struct grp *g = err == KP_ERR_NONE ? grp_find(c, group_id) : NULL;
	const struct off_group *o = g != NULL ? off_group_of(g, false) : NULL;

	out->topic_count = 0;
	out->part_count = 0;
	out->topics.len = 0;
	out->parts.len = 0;
	if (err != KP_ERR_NONE && out->version >= 2)
		return err;
	if (topics->count < 0) {
		off_fetch_all(out, o, require_stable);
		return KP_ERR_NONE;
	}
	if (off_fetch_named(out, o, topics, err, require_stable) != 0)
		return -1;
	return KP_ERR_NONE;
}

enum kp_verdict
off_fetch_handle(struct grp_coord *c, struct kp_group_call *call)
{
	struct kp_offset_fetch_request r;
	struct kp_offset_fetch_response resp;
	struct off_fetch_out out = { .c = c, .version = call->api_version };
	int16_t v = call->api_version;
	enum kp_verdict verdict = KP_VERDICT_REPLY;

	if (kp_offset_fetch_request_decode(&call->body, v, &r) != 0)
		return KP_VERDICT_CLOSE;
	kp_writer_init(&out.topics, 256);
	kp_writer_init(&out.parts, 256);
	kp_offset_fetch_response_init(&resp);
	if (v < 8) {
		int32_t err = off_fetch_group(c, &out, r.group_id, &r.topics, r.require_stable);

		if (err < 0) {
			verdict = KP_VERDICT_CLOSE;
		} else {
			resp.error_code = (int16_t)err;
			resp.topics = kp_array_wire(out.topic_count, &out.topics);
			kp_offset_fetch_response_encode(call->w, v, &resp);
		}
	} else {
		struct kp_writer groups;
		struct kp_cursor gc = kp_array_cursor(&r.groups);

		kp_writer_init(&groups, 256);
		for (int32_t i = 0; i < r.groups.count && verdict == KP_VERDICT_REPLY; i++) {
			struct kp_offset_fetch_request_offset_fetch_request_group rg;
			struct kp_offset_fetch_response_offset_fetch_response_group e;
			int32_t err;

			if (kp_offset_fetch_request_offset_fetch_request_group_decode(&gc, v,
										      &rg) != 0) {
				verdict = KP_VERDICT_CLOSE;
				break;
			}
			err = off_fetch_group(c, &out, rg.group_id, &rg.topics, r.require_stable);
			if (err < 0) {
				verdict = KP_VERDICT_CLOSE;
				break;
			}
			kp_offset_fetch_response_offset_fetch_response_group_init(&e);
			e.group_id = rg.group_id;
			e.error_code = (int16_t)err;
			e.topics = kp_array_wire(out.topic_count, &out.topics);
			kp_offset_fetch_response_offset_fetch_response_group_encode(&groups, v, &e);
		}
		if (verdict == KP_VERDICT_REPLY) {
			resp.groups = kp_array_wire(r.groups.count, &groups);
			kp_offset_fetch_response_encode(call->w, v, &resp);
		}
		kp_writer_free(&groups);
	}
	kp_writer_free(&out.parts);
	kp_writer_free(&out.topics);
	return verdict;
}
