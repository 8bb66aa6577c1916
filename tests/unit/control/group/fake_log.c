/* SPDX-License-Identifier: Apache-2.0 */
/* Test double for the coordinator's log (grp_log*.c) and control's
 * metadata (ctl_md), for tests of the real membership and offsets
 * together: every record is counted (the first ones kept), and each batch
 * waits for th_log_complete(), so tests see what happens before and after
 * durable. Also the request helpers of fake_log.h. */
#include "tests/unit/control/group/fake_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "control/ctl_int.h"
#include "control/group/grp_int.h"
#include "control/group/off_int.h"
#include "protocol/gen/kp_msg_join_group.h"
#include "protocol/gen/kp_msg_offset_commit.h"
#include "protocol/gen/kp_msg_offset_delete.h"
#include "protocol/gen/kp_msg_offset_fetch.h"

struct ot_state ot;

struct grp_log {
	int unused;
};

struct grp_log_batch {
	void (*done)(void *arg, int16_t error);
	void *arg;
};

static struct grp_log fake_log;

struct grp_log *
grp_log_create(struct grp_coord *c)
{
	(void)c;
	return &fake_log;
}

void
grp_log_destroy(struct grp_log *l)
{
	(void)l;
	th_log_complete(KP_ERR_COORDINATOR_NOT_AVAILABLE);
}

void
grp_log_start(struct grp_log *l)
{
	(void)l;
	th.log_started = true;
}

int16_t
grp_log_ensure(struct grp_log *l)
{
	(void)l;
	return KP_ERR_NONE;
}

int16_t
grp_log_ready(struct grp_log *l, struct kp_str group_id)
{
	(void)l;
	(void)group_id;
	return th.log_ready_error;
}

/* Cluster mode: every group is in partition 0 (grp_log_partition_of). */
void
grp_log_set_cluster(struct grp_log *l)
{
	(void)l;
	th.log_cluster = true;
}

void
grp_log_partition_lead(struct grp_log *l, int32_t partition, int32_t leader_epoch)
{
	(void)l;
	(void)partition;
	(void)leader_epoch;
	th.log_leads++;
}

int32_t
grp_log_partition_resign(struct grp_log *l, int32_t partition, int32_t leader_epoch)
{
	(void)l;
	(void)partition;
	(void)leader_epoch;
	return th.log_resign_count;
}

bool
grp_log_loading(const struct grp_log *l)
{
	(void)l;
	return th.log_ready_error == KP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
}

int32_t
grp_log_partition_of(struct kp_str group_id, int32_t partitions)
{
	(void)group_id;
	(void)partitions;
	return 0;
}

struct grp_log_batch *
grp_log_batch_begin(struct grp_log *l, struct kp_str group_id)
{
	(void)l;
	(void)group_id;
	return calloc(1, sizeof(struct grp_log_batch));
}

void
grp_log_batch_offset(struct grp_log_batch *b, struct kp_str topic, int32_t partition,
		     const struct grp_rec_offset *value)
{
	(void)b;
	if (ot.rec_count < OT_RECS_MAX) {
		struct ot_rec *r = &ot.recs[ot.rec_count++];

		snprintf(r->topic, sizeof(r->topic), "%.*s", (int)topic.len, topic.ptr);
		r->partition = partition;
		r->tombstone = value == NULL;
		r->offset = value != NULL ? value->offset : -1;
	}
	ot.offset_recs++;
	ot.tombstones += value == NULL;
}

void
grp_log_batch_group(struct grp_log_batch *b, const struct grp_rec_group *value)
{
	(void)b;
	ot.group_tombstones += value == NULL;
}

void
grp_log_batch_commit(struct grp_log_batch *b, void (*done)(void *arg, int16_t error), void *arg)
{
	b->done = done;
	b->arg = arg;
	if (th.batch_count == TH_BATCHES_MAX)
		abort();
	th.batches[th.batch_count++] = b;
}

void
th_log_complete(int16_t error)
{
	while (th.batch_count > 0) {
		struct grp_log_batch *b = th.batches[0];

		memmove(th.batches, th.batches + 1, (size_t)--th.batch_count * sizeof(*th.batches));
		b->done(b->arg, error);
		free(b);
	}
}

const struct kp_md *
ctl_md(struct ctl *ctl)
{
	static const struct kp_md_topic topics[] = {
		{ .name = { "big", 3 }, .partition_count = 200000 },
		{ .name = { "t0", 2 }, .partition_count = 4 },
		{ .name = { "t1", 2 }, .partition_count = 4 },
	};
	static struct kp_md md = { .broker_id = 7, .endpoint_count = 1,
				   .endpoints = { { "PLAINTEXT", "broker.test", 9192, 0 } },
				   .topic_count = 3, .topics = topics };

	(void)ctl;
	return &md;
}

/* ---- helpers ---- */

static int64_t
ot_clock(void)
{
	return ot.wall_ms;
}

void
ot_setup(const char *const *overrides)
{
	memset(&ot, 0, sizeof(ot));
	/* Membership stamps state changes with the real wall clock. */
	ot.wall_ms = clock_wall_ms();
	off_set_clock_ms(ot_clock);
	th_setup(overrides);
	ot_advance_ms(0);       /* arms the expiry check */
}

void
ot_advance_ms(uint64_t ms)
{
	ot.wall_ms += (int64_t)ms;
	th_advance_ms(ms);
}

static struct kp_cursor
ot_reply_cursor(int32_t corr, bool *answered)
{
	const struct th_reply *r = th_reply(corr);

	*answered = r != NULL && !r->dropped;
	return *answered ? kp_cursor_make(r->data, r->len) : kp_cursor_make(NULL, 0);
}

int32_t
ot_commit(int16_t v, const char *group, int32_t gen, const char *member, int n,
	  const struct ot_part *parts)
{
	struct kp_writer w, topics, ps;
	int32_t topic_count = 0;

	kp_writer_init(&w, 256);
	kp_writer_init(&topics, 256);
	kp_writer_init(&ps, 256);
	for (int i = 0; i < n;) {
		struct kp_offset_commit_request_offset_commit_request_topic t;
		int j = i;

		ps.len = 0;
		for (; j < n && strcmp(parts[j].topic, parts[i].topic) == 0; j++) {
			struct kp_offset_commit_request_offset_commit_request_partition p;

			kp_offset_commit_request_offset_commit_request_partition_init(&p);
			p.partition_index = parts[j].partition;
			p.committed_offset = parts[j].offset;
			p.committed_metadata = kp_str_c(parts[j].meta);
			kp_offset_commit_request_offset_commit_request_partition_encode(&ps, v, &p);
		}
		kp_offset_commit_request_offset_commit_request_topic_init(&t);
		t.name = kp_str_c(parts[i].topic);
		t.partitions = kp_array_wire(j - i, &ps);
		kp_offset_commit_request_offset_commit_request_topic_encode(&topics, v, &t);
		topic_count++;
		i = j;
	}
	struct kp_offset_commit_request r;

	kp_offset_commit_request_init(&r);
	r.group_id = kp_str_c(group);
	r.generation_id_or_member_epoch = gen;
	r.member_id = kp_str_c(member != NULL ? member : "");
	r.topics = kp_array_wire(topic_count, &topics);
	kp_offset_commit_request_encode(&w, v, &r);
	int32_t corr = th_send(KP_API_OFFSET_COMMIT, v, &w);

	kp_writer_free(&ps);
	kp_writer_free(&topics);
	kp_writer_free(&w);
	return corr;
}

int16_t
ot_commit_err(int32_t corr, const char *topic, int32_t partition, int32_t *count)
{
	struct kp_offset_commit_response resp;
	bool answered;
	struct kp_cursor c = ot_reply_cursor(corr, &answered);
	const struct th_reply *rep = th_reply(corr);
	int16_t found = OT_ERR_NONE_YET;

	*count = 0;
	if (!answered || kp_offset_commit_response_decode(&c, rep->version, &resp) != 0)
		return OT_ERR_NONE_YET;
	struct kp_cursor tc = kp_array_cursor(&resp.topics);

	for (int32_t i = 0; i < resp.topics.count; i++) {
		struct kp_offset_commit_response_offset_commit_response_topic t;

		kp_offset_commit_response_offset_commit_response_topic_decode(&tc, rep->version,
									      &t);
		struct kp_cursor pc = kp_array_cursor(&t.partitions);

		for (int32_t j = 0; j < t.partitions.count; j++) {
			struct kp_offset_commit_response_offset_commit_response_partition p;

			kp_offset_commit_response_offset_commit_response_partition_decode(
				&pc, rep->version, &p);
			(*count)++;
			if (kp_str_eq(t.name, kp_str_c(topic)) && p.partition_index == partition)
				found = p.error_code;
		}
	}
	return found;
}

/* Walk the partitions of a fetch reply (first group for v8+). */
static int32_t
ot_fetch_walk(int32_t corr, int16_t v, int16_t *gerr, const char *topic, int32_t partition,
	      int64_t *offset, int16_t *perr, int64_t *sum)
{
	struct kp_offset_fetch_response resp;
	bool answered;
	struct kp_cursor c = ot_reply_cursor(corr, &answered);
	struct kp_array topics;
	int32_t n = 0;

	*gerr = OT_ERR_NONE_YET;
	if (!answered || kp_offset_fetch_response_decode(&c, v, &resp) != 0)
		return -1;
	*gerr = resp.error_code;
	topics = resp.topics;
	if (v >= 8) {
		struct kp_cursor gc = kp_array_cursor(&resp.groups);
		struct kp_offset_fetch_response_offset_fetch_response_group g;

		kp_offset_fetch_response_offset_fetch_response_group_decode(&gc, v, &g);
		*gerr = g.error_code;
		topics = g.topics;
	}
	struct kp_cursor tc = kp_array_cursor(&topics);

	for (int32_t i = 0; i < topics.count; i++) {
		struct kp_offset_fetch_response_offset_fetch_response_topics t;

		if (v >= 8) {
			kp_offset_fetch_response_offset_fetch_response_topics_decode(&tc, v, &t);
		} else {
			struct kp_offset_fetch_response_offset_fetch_response_topic t0;

			kp_offset_fetch_response_offset_fetch_response_topic_decode(&tc, v, &t0);
			t.name = t0.name;
			t.partitions = t0.partitions;
		}
		struct kp_cursor pc = kp_array_cursor(&t.partitions);

		for (int32_t j = 0; j < t.partitions.count; j++) {
			struct kp_offset_fetch_response_offset_fetch_response_partitions p;

			if (v >= 8) {
				kp_offset_fetch_response_offset_fetch_response_partitions_decode(
					&pc, v, &p);
			} else {
				struct kp_offset_fetch_response_offset_fetch_response_partition p0;

				kp_offset_fetch_response_offset_fetch_response_partition_decode(
					&pc, v, &p0);
				p.partition_index = p0.partition_index;
				p.committed_offset = p0.committed_offset;
				p.error_code = p0.error_code;
			}
			n++;
			if (sum != NULL)
				*sum += p.committed_offset;
			if (topic != NULL && kp_str_eq(t.name, kp_str_c(topic)) &&
			    p.partition_index == partition) {
				*offset = p.committed_offset;
				*perr = p.error_code;
			}
		}
	}
	return n;
}

static int32_t
ot_fetch_send(int16_t v, const char *group, const char *topic, int32_t partition,
	      bool require_stable)
{
	struct kp_writer w, ts, gs;
	struct kp_offset_fetch_request r;
	int32_t parts[1] = { partition };

	kp_writer_init(&w, 128);
	kp_writer_init(&ts, 128);
	kp_writer_init(&gs, 128);
	kp_offset_fetch_request_init(&r);
	r.require_stable = require_stable;
	if (v >= 8) {
		struct kp_offset_fetch_request_offset_fetch_request_topics t;
		struct kp_offset_fetch_request_offset_fetch_request_group g;

		kp_offset_fetch_request_offset_fetch_request_topics_init(&t);
		t.name = kp_str_c(topic);
		t.partition_indexes = (struct kp_array){ 1, NULL, NULL, parts };
		kp_offset_fetch_request_offset_fetch_request_topics_encode(&ts, v, &t);
		kp_offset_fetch_request_offset_fetch_request_group_init(&g);
		g.group_id = kp_str_c(group);
		g.topics = topic != NULL ? kp_array_wire(1, &ts) : (struct kp_array){ -1, 0, 0, 0 };
		kp_offset_fetch_request_offset_fetch_request_group_encode(&gs, v, &g);
		r.groups = kp_array_wire(1, &gs);
	} else {
		struct kp_offset_fetch_request_offset_fetch_request_topic t;

		kp_offset_fetch_request_offset_fetch_request_topic_init(&t);
		t.name = kp_str_c(topic);
		t.partition_indexes = (struct kp_array){ 1, NULL, NULL, parts };
		kp_offset_fetch_request_offset_fetch_request_topic_encode(&ts, v, &t);
		r.group_id = kp_str_c(group);
		r.topics = topic != NULL ? kp_array_wire(1, &ts) : (struct kp_array){ -1, 0, 0, 0 };
	}
	kp_offset_fetch_request_encode(&w, v, &r);
	int32_t corr = th_send(KP_API_OFFSET_FETCH, v, &w);

	kp_writer_free(&gs);
	kp_writer_free(&ts);
	kp_writer_free(&w);
	return corr;
}

int64_t
ot_fetch(int16_t v, const char *group, const char *topic, int32_t partition,
	 bool require_stable, int16_t *err)
{
	int32_t corr = ot_fetch_send(v, group, topic, partition, require_stable);
	int64_t offset = -2;
	int16_t gerr, perr = OT_ERR_NONE_YET;

	ot_fetch_walk(corr, v, &gerr, topic, partition, &offset, &perr, NULL);
	*err = gerr != KP_ERR_NONE ? gerr : perr;
	return offset;
}

int32_t
ot_fetch_all(int16_t v, const char *group, int16_t *err, int64_t *sum)
{
	int32_t corr = ot_fetch_send(v, group, NULL, 0, false);
	int64_t offset;
	int16_t perr;

	*sum = 0;
	return ot_fetch_walk(corr, v, err, NULL, 0, &offset, &perr, sum);
}

int16_t
ot_delete(const char *group, const char *topic, int32_t partition, int16_t *perr)
{
	struct kp_writer w, ts, ps;
	struct kp_offset_delete_request r;
	struct kp_offset_delete_request_offset_delete_request_topic t;
	struct kp_offset_delete_request_offset_delete_request_partition p;
	struct kp_offset_delete_response resp;

	kp_writer_init(&w, 128);
	kp_writer_init(&ts, 128);
	kp_writer_init(&ps, 128);
	kp_offset_delete_request_offset_delete_request_partition_init(&p);
	p.partition_index = partition;
	kp_offset_delete_request_offset_delete_request_partition_encode(&ps, 0, &p);
	kp_offset_delete_request_offset_delete_request_topic_init(&t);
	t.name = kp_str_c(topic);
	t.partitions = kp_array_wire(1, &ps);
	kp_offset_delete_request_offset_delete_request_topic_encode(&ts, 0, &t);
	kp_offset_delete_request_init(&r);
	r.group_id = kp_str_c(group);
	r.topics = kp_array_wire(1, &ts);
	kp_offset_delete_request_encode(&w, 0, &r);
	int32_t corr = th_send(KP_API_OFFSET_DELETE, 0, &w);

	kp_writer_free(&ps);
	kp_writer_free(&ts);
	kp_writer_free(&w);
	th_log_complete(KP_ERR_NONE);
	bool answered;
	struct kp_cursor c = ot_reply_cursor(corr, &answered);

	*perr = OT_ERR_NONE_YET;
	if (!answered || kp_offset_delete_response_decode(&c, 0, &resp) != 0)
		return OT_ERR_NONE_YET;
	if (resp.topics.count == 1) {
		struct kp_cursor tc = kp_array_cursor(&resp.topics);
		struct kp_offset_delete_response_offset_delete_response_topic rt;
		struct kp_offset_delete_response_offset_delete_response_partition rp;

		kp_offset_delete_response_offset_delete_response_topic_decode(&tc, 0, &rt);
		struct kp_cursor pc = kp_array_cursor(&rt.partitions);

		kp_offset_delete_response_offset_delete_response_partition_decode(&pc, 0, &rp);
		*perr = rp.error_code;
	}
	return resp.error_code;
}

int32_t
ot_consumer_group(const char *group, const char *topic, struct kp_str *id)
{
	struct kp_join_group_request r;
	struct kp_join_group_request_join_group_request_protocol p;
	struct kp_join_group_response jr;
	struct kp_writer w;
	static uint8_t meta[64];
	size_t tl = strlen(topic);
	size_t n = 0;

	/* ConsumerProtocolSubscription v0: topics [topic], user data null. */
	meta[n++] = 0;
	meta[n++] = 0;
	meta[n++] = 0;
	meta[n++] = 0;
	meta[n++] = 0;
	meta[n++] = 1;
	meta[n++] = 0;
	meta[n++] = (uint8_t)tl;
	memcpy(meta + n, topic, tl);
	n += tl;
	memset(meta + n, 0xff, 4);
	n += 4;
	kp_join_group_request_init(&r);
	r.group_id = kp_str_c(group);
	r.session_timeout_ms = 600000;
	r.rebalance_timeout_ms = 30000;
	r.member_id = kp_str_c("");
	r.protocol_type = kp_str_c("consumer");
	kp_join_group_request_join_group_request_protocol_init(&p);
	p.name = kp_str_c("range");
	p.metadata = (struct kp_bytes){ meta, (int32_t)n };
	r.protocols.count = 1;
	r.protocols.items = &p;
	kp_writer_init(&w, 128);
	kp_join_group_request_encode(&w, 3, &r);
	int32_t corr = th_send(KP_API_JOIN_GROUP, 3, &w);

	kp_writer_free(&w);
	ot_advance_ms(1);
	ot_advance_ms(1);
	if (!th_join_resp(corr, &jr) || jr.error_code != KP_ERR_NONE)
		abort();
	*id = jr.member_id;
	const char *assign[1] = { "a0" };
	int32_t sync = th_sync(3, group, jr.generation_id, *id, 1, id, assign);
	struct kp_sync_group_response sr;

	th_log_complete(KP_ERR_NONE);
	if (!th_sync_resp(sync, &sr) || sr.error_code != KP_ERR_NONE)
		abort();
	return jr.generation_id;
}
