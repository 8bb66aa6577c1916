/* SPDX-License-Identifier: Apache-2.0 */
/* Test doubles for what membership calls in offsets (off_*.c), the log
 * (grp_log*.c) and control (ctl_md): the log records each group record
 * written and holds each batch's completion until the test releases it
 * (th_log_complete), so tests see what happens before and after durable. */
#include <stdlib.h>
#include <string.h>

#include "control/ctl_int.h"
#include "control/group/grp_int.h"
#include "tests/unit/control/group/grp_harness.h"

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
	th.log_ensured++;
	return th.log_ensure_error;
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
	(void)topic;
	(void)partition;
	(void)value;
}

void
grp_log_batch_group(struct grp_log_batch *b, const struct grp_rec_group *value)
{
	(void)b;
	struct th_group_rec *r = &th.group_recs[th.group_rec_count++ % TH_RECS_MAX];

	r->tombstone = value == NULL;
	if (value != NULL) {
		r->generation = value->generation;
		r->member_count = value->member_count;
		r->assign_len0 = value->member_count > 0 ? value->members[0].assignment.len : -1;
	}
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

/* ---- offsets ---- */

enum kp_verdict
off_commit_handle(struct grp_coord *c, struct kp_group_call *call)
{
	(void)c;
	(void)call;
	th.off_calls++;
	return KP_VERDICT_CLOSE;
}

enum kp_verdict
off_fetch_handle(struct grp_coord *c, struct kp_group_call *call)
{
	return off_commit_handle(c, call);
}

enum kp_verdict
off_delete_handle(struct grp_coord *c, struct kp_group_call *call)
{
	return off_commit_handle(c, call);
}

void
off_group_delete_all(struct grp_coord *c, struct grp *g, void (*done)(void *arg, int16_t error),
		     void *arg)
{
	(void)c;
	(void)g;
	th.off_deleted++;
	done(arg, KP_ERR_NONE);
}

bool
off_group_has_offsets(const struct off_group *o)
{
	(void)o;
	return false;
}

void
off_group_free(struct off_group *o)
{
	(void)o;
}

void
off_expire(struct grp_coord *c, uint64_t now_ns)
{
	(void)c;
	(void)now_ns;
}

void
off_group_metrics(const struct grp *g, const struct off_group *o,
		  void (*offset_fn)(void *arg, const struct grp_metrics_offset *m), void *arg)
{
	(void)g;
	(void)o;
	(void)offset_fn;
	(void)arg;
}

void
off_load_offset(struct grp_coord *c, struct kp_str group_id, struct kp_str topic,
		int32_t partition, const struct grp_rec_offset *value)
{
	(void)c;
	(void)group_id;
	(void)topic;
	(void)partition;
	(void)value;
}

/* ---- control ---- */

const struct kp_md *th_md;

const struct kp_md *
ctl_md(struct ctl *ctl)
{
	static struct kp_md md = { .broker_id = 7, .endpoint_count = 1,
				   .endpoints = { { "PLAINTEXT", "broker.test", 9192, 0 } } };

	(void)ctl;
	return th_md != NULL ? th_md : &md;
}
