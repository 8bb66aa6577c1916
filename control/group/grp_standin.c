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
