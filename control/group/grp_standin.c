/* SPDX-License-Identifier: Apache-2.0 */
/* TEMPORARY STAND-INS while the coordinator's offsets (off_*.c) are written
 * on their own branch, which deletes this file (the log's section went
 * with grp_log*.c). Nothing here is durable.
 * @thread control */
#include <stdlib.h>

#include "control/group/grp_int.h"

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
