/* SPDX-License-Identifier: Apache-2.0 */
/* OffsetCommit v0-9 (Kafka's KafkaApis.handleOffsetCommitRequest,
 * GroupCoordinator.handleCommitOffsets and GroupMetadataManager.storeOffsets):
 * unknown topics and partitions are answered UNKNOWN_TOPIC_OR_PARTITION,
 * the group checks (grp_commit_check) apply to the rest, metadata above
 * OFF_METADATA_BYTES_MAX is OFFSET_METADATA_TOO_LARGE, and what remains is
 * staged (pending), appended in one batch and answered once durable. The
 * committed values change only then, and only if the append succeeded:
 * a fetch meanwhile sees the old ones. v0 is UNSUPPORTED_VERSION, as on a
 * KRaft Kafka. Memory: a copy of the request body (bounded by the frame)
 * and one error code per partition entry. @thread control */
#include "control/group/off_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "control/ctl_int.h"
#include "control/ctl_park.h"
#include "protocol/gen/kp_msg_offset_commit.h"

/* errors[i] of an entry still going to the log. */
#define OFF_STAGED INT16_MIN

typedef struct kp_offset_commit_request_offset_commit_request_partition off_commit_part;
typedef struct kp_offset_commit_request_offset_commit_request_topic off_commit_topic;

struct off_commit {
	struct grp_coord *c;
	struct ctl_park *park;
	int16_t version;
	bool created;                   /* this commit created the group */
	bool echo;                      /* answered as listed (v0's refusal) */
	uint8_t *body;                  /* the request body, which r points into */
	struct kp_offset_commit_request r;
	int32_t count;                  /* partition entries in the request */
	int16_t *errors;                /* one per entry, in request order */
	uint64_t seq;                   /* entries born after it are not ours */
	int64_t now_ms;
};

typedef void off_commit_fn(struct off_commit *oc, int32_t i, struct kp_str topic,
			   const off_commit_part *p, void *arg);

/* Call fn for every partition entry in request order (the body decoded
 * once already, so nothing fails here). */
static void
off_commit_walk(struct off_commit *oc, off_commit_fn *fn, void *arg)
{
	struct kp_cursor tc = kp_array_cursor(&oc->r.topics);
	int32_t i = 0;

	for (int32_t t = 0; t < oc->r.topics.count; t++) {
		off_commit_topic topic;

		if (kp_offset_commit_request_offset_commit_request_topic_decode(&tc, oc->version,
									      &topic) != 0)
			return;
		struct kp_cursor pc = kp_array_cursor(&topic.partitions);

		for (int32_t p = 0; p < topic.partitions.count; p++) {
			off_commit_part part;

			if (kp_offset_commit_request_offset_commit_request_partition_decode(
				    &pc, oc->version, &part) != 0)
				return;
			fn(oc, i++, topic.name, &part, arg);
		}
	}
}

int16_t
off_commit_error(int16_t append_error)
{
	switch (append_error) {
	case KP_ERR_UNKNOWN_TOPIC_OR_PARTITION:
	case KP_ERR_NOT_ENOUGH_REPLICAS:
	case KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	case KP_ERR_NOT_LEADER_OR_FOLLOWER:
	case KP_ERR_KAFKA_STORAGE_ERROR:
		return KP_ERR_NOT_COORDINATOR;
	case KP_ERR_MESSAGE_TOO_LARGE:
	case KP_ERR_RECORD_LIST_TOO_LARGE:
	case KP_ERR_INVALID_FETCH_SIZE:
		return KP_ERR_INVALID_COMMIT_OFFSET_SIZE;
	default:
		return append_error;
	}
}

static struct grp_rec_offset
off_commit_rec(const struct off_commit *oc, const off_commit_part *p)
{
	struct grp_rec_offset v = {
		.offset = p->committed_offset,
		.leader_epoch = p->committed_leader_epoch,
		.metadata = p->committed_metadata.len >= 0 ? p->committed_metadata : kp_str_c(""),
		.commit_timestamp_ms = p->commit_timestamp == -1 ? oc->now_ms : p->commit_timestamp,
		.expire_timestamp_ms = oc->r.retention_time_ms == -1
			? -1 : oc->now_ms + oc->r.retention_time_ms,
	};
	return v;
}

/* ---- the answer ---- */

struct off_commit_out {
	struct kp_writer topics;
	struct kp_writer parts;
	int32_t topic_count;
	int32_t part_count;
	struct kp_str topic;            /* of parts; len -2: none yet */
	struct off_key *keys;           /* one per entry, in request order */
};

static void
off_commit_out_flush(struct off_commit *oc, struct off_commit_out *out)
{
	struct kp_offset_commit_response_offset_commit_response_topic t;

	if (out->topic.len == -2)
		return;
	kp_offset_commit_response_offset_commit_response_topic_init(&t);
	t.name = out->topic;
	t.partitions = kp_array_wire(out->part_count, &out->parts);
	kp_offset_commit_response_offset_commit_response_topic_encode(&out->topics, oc->version,
									&t);
	out->topic_count++;
	out->part_count = 0;
	out->parts.len = 0;
}

static void
off_commit_out_key(struct off_commit *oc, int32_t i, struct kp_str topic,
		   const off_commit_part *p, void *arg)
{
	struct off_commit_out *out = arg;

	out->keys[i] = (struct off_key){ topic, p->partition_index, i,
					 oc->errors[i] == KP_ERR_UNKNOWN_TOPIC_OR_PARTITION };
}

/* The answer of entry i, under its topic's entry (entries come grouped by
 * topic: off_dedup). */
static void
off_commit_out_one(struct off_commit *oc, struct off_commit_out *out, int32_t i)
{
	struct kp_offset_commit_response_offset_commit_response_partition e;
	struct kp_str topic = out->keys[i].topic;

	/* An echo keeps the request's entries; else they merge by name. */
	if (out->topic.len == -2 || (oc->echo ? out->topic.ptr != topic.ptr
					      : !kp_str_eq(out->topic, topic))) {
		off_commit_out_flush(oc, out);
		out->topic = topic;
	}
	kp_offset_commit_response_offset_commit_response_partition_init(&e);
	e.partition_index = out->keys[i].partition;
	e.error_code = oc->errors[i];
	ASSERT(e.error_code != OFF_STAGED);
	kp_offset_commit_response_offset_commit_response_partition_encode(&out->parts, oc->version,
									    &e);
	out->part_count++;
}

/* Each partition answered once (its last listing's error), one entry per
 * topic, as Kafka (see off_dedup.c), but unknown ones as listed: Kafka
 * answers those before its coordinator's map. v0's refusal echoes. */
static void
off_commit_reply(struct off_commit *oc, struct kp_writer *w)
{
	struct off_commit_out out = { .topic = { NULL, -2 } };
	struct kp_offset_commit_response resp;
	size_t n = (size_t)(oc->count > 0 ? oc->count : 1);
	int32_t *order = malloc(sizeof(*order) * n);
	int32_t kept = -1;

	out.keys = malloc(sizeof(*out.keys) * n);
	if (order != NULL && out.keys != NULL) {
		off_commit_walk(oc, off_commit_out_key, &out);
		kept = off_dedup(out.keys, oc->count, order);
	}
	/* v0's refusal echoes the request (OffsetCommitRequest.
	 * getErrorResponse), duplicates and all. */
	for (int32_t i = 0; kept >= 0 && oc->echo && i < oc->count; i++)
		order[i] = i, kept = oc->count;
	if (kept < 0) {
		w->err = KP_WIRE_NOMEM;
		free(order);
		free(out.keys);
		return;
	}
	kp_writer_init(&out.topics, 256);
	kp_writer_init(&out.parts, 256);
	for (int32_t k = 0; k < kept; k++)
		off_commit_out_one(oc, &out, order[k]);
	off_commit_out_flush(oc, &out);
	kp_offset_commit_response_init(&resp);
	resp.topics = kp_array_wire(out.topic_count, &out.topics);
	kp_offset_commit_response_encode(w, oc->version, &resp);
	kp_writer_free(&out.parts);
	kp_writer_free(&out.topics);
	free(order);
	free(out.keys);
}

static void
off_commit_free(struct off_commit *oc)
{
	free(oc->errors);
	free(oc->body);
	free(oc);
}

/* ---- staging and completion ---- */

struct off_commit_md {
	const struct kp_md *md;
};

static void
off_commit_check_topic(struct off_commit *oc, int32_t i, struct kp_str topic,
		       const off_commit_part *p, void *arg)
{
	const struct kp_md_topic *t = kp_md_topic_by_name(((struct off_commit_md *)arg)->md, topic);

	if (!grp_allowed(oc->c, KP_ACL_READ, KP_RES_TOPIC, topic))
		oc->errors[i] = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
	else if (t == NULL || p->partition_index < 0 || p->partition_index >= t->partition_count)
		oc->errors[i] = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	else
		oc->errors[i] = OFF_STAGED;
}

struct off_commit_set {
	int16_t error;                  /* set every staged entry to this */
	int32_t staged;
	struct off_group *o;
	struct grp_log_batch *b;
};

static void
off_commit_set_error(struct off_commit *oc, int32_t i, struct kp_str topic,
		     const off_commit_part *p, void *arg)
{
	struct off_commit_set *s = arg;

	(void)topic;
	(void)p;
	if (oc->errors[i] == OFF_STAGED)
		oc->errors[i] = s->error;
}

static void
off_commit_check_meta(struct off_commit *oc, int32_t i, struct kp_str topic,
		      const off_commit_part *p, void *arg)
{
	struct off_commit_set *s = arg;

	(void)topic;
	if (oc->errors[i] != OFF_STAGED)
		return;
	if (p->committed_metadata.len > OFF_METADATA_BYTES_MAX)
		oc->errors[i] = KP_ERR_OFFSET_METADATA_TOO_LARGE;
	else
		s->staged++;
}

static void
off_commit_stage(struct off_commit *oc, int32_t i, struct kp_str topic,
		 const off_commit_part *p, void *arg)
{
	struct off_commit_set *s = arg;
	int16_t err = KP_ERR_NONE;

	if (oc->errors[i] != OFF_STAGED)
		return;
	struct off_entry *e = off_entry_get(s->o, topic, p->partition_index, &err);

	if (e == NULL) {
		oc->errors[i] = err;
		s->staged--;
		return;
	}
	e->pending++;
}

static void
off_commit_append(struct off_commit *oc, int32_t i, struct kp_str topic,
		  const off_commit_part *p, void *arg)
{
	struct off_commit_set *s = arg;

	if (oc->errors[i] != OFF_STAGED)
		return;
	struct grp_rec_offset v = off_commit_rec(oc, p);

	grp_log_batch_offset(s->b, topic, p->partition_index, &v);
}

/* Kafka's onOffsetCommitAppend / failPendingOffsetWrite: an entry deleted
 * meanwhile (OffsetDelete, DeleteGroups, expiry) stays deleted. */
static void
off_commit_apply(struct off_commit *oc, int32_t i, struct kp_str topic,
		 const off_commit_part *p, void *arg)
{
	struct off_commit_set *s = arg;

	if (oc->errors[i] != OFF_STAGED)
		return;
	oc->errors[i] = s->error;
	struct off_entry *e = off_entry_find(s->o, topic, p->partition_index);

	if (e == NULL || e->born_seq > oc->seq)
		return;
	ASSERT(e->pending > 0);
	e->pending--;
	if (s->error == KP_ERR_NONE) {
		struct grp_rec_offset v = off_commit_rec(oc, p);

		if (!off_entry_set(e, &v))
			oc->errors[i] = KP_ERR_COORDINATOR_NOT_AVAILABLE;
	}
	off_entry_maybe_remove(s->o, e);
}

static void
off_commit_done(void *arg, int16_t error)
{
	struct off_commit *oc = arg;
	struct grp *g = grp_find(oc->c, oc->r.group_id);
	struct off_commit_set s = { .error = off_commit_error(error) };
	struct kp_writer w;

	s.o = g != NULL ? off_group_of(g, false) : NULL;
	off_commit_walk(oc, off_commit_apply, &s);
	if (g != NULL) {
		off_group_drop_if_unused(g);
		if (oc->created && error != KP_ERR_NONE)
			grp_maybe_remove(oc->c, g);
	}
	ctl_park_begin(oc->park, &w);
	off_commit_reply(oc, &w);
	ctl_park_send(grp_coord_ctl(oc->c), oc->park, &w);
	off_commit_free(oc);
}

/* The group-level checks; KP_ERR_NONE leaves *gp the group to commit to. */
static int16_t
off_commit_group(struct off_commit *oc, struct grp **gp)
{
	struct grp_coord *c = oc->c;
	const struct kp_offset_commit_request *r = &oc->r;
	int16_t err = off_check_id(c, r->group_id, true);

	if (err != KP_ERR_NONE)
		return err;
	struct grp *g = grp_find(c, r->group_id);

	if (g == NULL) {
		/* A group Kafka does not know: a simple consumer's commit
		 * (generation < 0) creates it, anything else is stale. */
		if (r->generation_id_or_member_epoch >= 0)
			return KP_ERR_ILLEGAL_GENERATION;
		g = grp_find_or_create(c, r->group_id);
		if (g == NULL)
			return KP_ERR_COORDINATOR_NOT_AVAILABLE;
		oc->created = true;
	}
	*gp = g;
	return grp_commit_check(c, g, r->generation_id_or_member_epoch, r->member_id,
				r->group_instance_id);
}

static enum kp_verdict
off_commit_now(struct off_commit *oc, struct kp_group_call *call, struct grp *g)
{
	if (g != NULL && oc->created) {
		off_group_drop_if_unused(g);
		grp_maybe_remove(oc->c, g);
	}
	off_commit_reply(oc, call->w);
	off_commit_free(oc);
	return KP_VERDICT_REPLY;
}

static void
off_commit_count(struct off_commit *oc, int32_t i, struct kp_str topic,
		 const off_commit_part *p, void *arg)
{
	(void)topic;
	(void)p;
	(void)arg;
	oc->count = i + 1;
}

/* A copy of the request body, decoded, with one error slot per entry;
 * NULL when it does not decode or memory runs out. */
static struct off_commit *
off_commit_new(struct grp_coord *c, const struct kp_group_call *call)
{
	size_t len = kp_cursor_left(&call->body);
	struct off_commit *oc = calloc(1, sizeof(*oc));

	if (oc == NULL)
		return NULL;
	oc->c = c;
	oc->version = call->api_version;
	oc->now_ms = off_now_ms();
	oc->body = malloc(len > 0 ? len : 1);
	if (oc->body == NULL) {
		off_commit_free(oc);
		return NULL;
	}
	if (len > 0)
		memcpy(oc->body, call->body.pos, len);
	struct kp_cursor cur = kp_cursor_make(oc->body, len);

	if (kp_offset_commit_request_decode(&cur, oc->version, &oc->r) != 0) {
		off_commit_free(oc);
		return NULL;
	}
	off_commit_walk(oc, off_commit_count, NULL);
	/* At most one entry per 14 wire bytes: sized by the frame, not by a
	 * count the client sent. */
	oc->errors = malloc((size_t)(oc->count > 0 ? oc->count : 1) * sizeof(*oc->errors));
	if (oc->errors == NULL) {
		off_commit_free(oc);
		return NULL;
	}
	return oc;
}

/* Stage the checked entries of g and append them; the answer comes from
 * off_commit_done (or at once when nothing is left to append). */
static enum kp_verdict
off_commit_store(struct off_commit *oc, struct kp_group_call *call, struct grp *g,
		 struct off_commit_set *s)
{
	struct grp_coord *c = oc->c;

	oc->park = ctl_park_take(grp_coord_ctl(c));
	s->o = oc->park != NULL ? off_group_of(g, true) : NULL;
	if (s->o == NULL) {
		if (oc->park != NULL)
			ctl_park_drop(grp_coord_ctl(c), oc->park);
		s->error = KP_ERR_COORDINATOR_NOT_AVAILABLE;
		off_commit_walk(oc, off_commit_set_error, s);
		return off_commit_now(oc, call, g);
	}
	off_commit_walk(oc, off_commit_stage, s);
	oc->seq = off_seq_next();
	if (s->staged == 0) {
		/* Every new partition was above a bound: nothing to append. */
		struct kp_writer w;

		off_group_drop_if_unused(g);
		ctl_park_begin(oc->park, &w);
		off_commit_reply(oc, &w);
		ctl_park_send(grp_coord_ctl(c), oc->park, &w);
		off_commit_free(oc);
		return KP_VERDICT_PARKED;
	}
	s->b = grp_log_batch_begin(grp_coord_log(c), oc->r.group_id);
	if (s->b == NULL) {
		off_commit_done(oc, KP_ERR_COORDINATOR_NOT_AVAILABLE);
		return KP_VERDICT_PARKED;
	}
	off_commit_walk(oc, off_commit_append, s);
	grp_log_batch_commit(s->b, off_commit_done, oc);
	return KP_VERDICT_PARKED;
}

enum kp_verdict
off_commit_handle(struct grp_coord *c, struct kp_group_call *call)
{
	struct off_commit *oc = off_commit_new(c, call);
	struct off_commit_set s = { 0 };
	struct grp *g = NULL;

	if (oc == NULL)
		return KP_VERDICT_CLOSE;
	struct off_commit_md md = { ctl_md(grp_coord_ctl(c)) };

	if (oc->version > 0 && call->env != NULL &&
	    !grp_allowed(c, KP_ACL_READ, KP_RES_GROUP, oc->r.group_id.len < 0
			 ? kp_str_c("") : oc->r.group_id)) {
		/* READ on the group before anything (KafkaApis): every entry. */
		for (int32_t i = 0; i < oc->count; i++)
			oc->errors[i] = KP_ERR_GROUP_AUTHORIZATION_FAILED;
		return off_commit_now(oc, call, NULL);
	}
	off_commit_walk(oc, off_commit_check_topic, &md);
	if (oc->version == 0) {
		/* Version 0 kept offsets in ZooKeeper; KRaft Kafka refuses it
		 * (the whole request, as listed) once a known partition is in
		 * it: unknown ones alone are answered UNKNOWN_TOPIC_OR_PARTITION
		 * first (KafkaApis.handleOffsetCommitRequest). */
		bool known = false;

		for (int32_t i = 0; i < oc->count && !known; i++)
			known = oc->errors[i] == OFF_STAGED;
		for (int32_t i = 0; i < oc->count && known; i++)
			oc->errors[i] = KP_ERR_UNSUPPORTED_VERSION;
		oc->echo = known;
		return off_commit_now(oc, call, NULL);
	}
	off_commit_walk(oc, off_commit_check_meta, &s);
	if (s.staged == 0) {
		/* Nothing valid reaches the coordinator (Kafka answers
		 * unknown topics alone without looking at the group). */
		bool any = false;

		for (int32_t i = 0; i < oc->count && !any; i++)
			any = oc->errors[i] == KP_ERR_OFFSET_METADATA_TOO_LARGE;
		if (!any)
			return off_commit_now(oc, call, NULL);
	}
	s.error = off_commit_group(oc, &g);
	if (s.error != KP_ERR_NONE) {
		/* The group's error wins over metadata size: restore it. */
		for (int32_t i = 0; i < oc->count; i++)
			if (oc->errors[i] == KP_ERR_OFFSET_METADATA_TOO_LARGE)
				oc->errors[i] = OFF_STAGED;
		off_commit_walk(oc, off_commit_set_error, &s);
		return off_commit_now(oc, call, g);
	}
	if (s.staged == 0)
		return off_commit_now(oc, call, g);
	return off_commit_store(oc, call, g, &s);
}
