/* SPDX-License-Identifier: Apache-2.0 */
/* TEMPORARY STAND-INS while the coordinator's log (grp_log*.c) and offsets
 * (off_*.c) are written on their own branches: each branch deletes its
 * section; the file goes when both have landed. Nothing here is durable.
 * @thread control */
#include <stdlib.h>

#include "control/group/grp_int.h"

/* ---- log (delete when grp_log*.c lands) ---- */

struct grp_log {
	int unused;
};

struct grp_log_batch {
	int unused;
};

static struct grp_log standin_log;


struct grp_log *
grp_log_create(struct grp_coord *c)
{
	(void)c;
	return &standin_log;
}

void
grp_log_destroy(struct grp_log *l)
{
	(void)l;
}

void
grp_log_start(struct grp_log *l)
{
	(void)l;
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
	return KP_ERR_NONE;
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
	(void)value;
}

void
grp_log_batch_commit(struct grp_log_batch *b, void (*done)(void *arg, int16_t error), void *arg)
{
	/* Not durable and synchronous: development only. */
	free(b);
	done(arg, KP_ERR_NONE);
}
/* ---- offsets (delete when off_*.c lands) ---- */


enum kp_verdict
off_commit_handle(struct grp_coord *c, struct kp_group_call *call)
{
	(void)c;
	(void)call;
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
