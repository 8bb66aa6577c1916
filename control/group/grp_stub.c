/* SPDX-License-Identifier: Apache-2.0 */
/* TEMPORARY STAND-IN for the group coordinator (grp.h), so that the control
 * infrastructure (parking, control's storage ring, the loop wiring) links
 * and runs before the real coordinator lands. It answers no group API: every
 * request closes its connection, as an unsupported request would. DELETE
 * this file (and its line in control/group/meson.build) when merging the
 * real coordinator. @thread control */
#include <stdlib.h>

#include "control/group/grp.h"

struct grp_coord {
	struct ctl *ctl;
};

struct grp_coord *
grp_coord_create(struct ctl *ctl, const struct config *cfg)
{
	struct grp_coord *c = calloc(1, sizeof(*c));

	(void)cfg;
	if (c != NULL)
		c->ctl = ctl;
	return c;
}

void
grp_coord_destroy(struct grp_coord *c)
{
	free(c);
}

void
grp_coord_start(struct grp_coord *c)
{
	(void)c;
}

enum kp_verdict
grp_coord_handle(struct grp_coord *c, struct kp_group_call *call)
{
	(void)c;
	(void)call;
	return KP_VERDICT_CLOSE;
}

uint64_t
grp_coord_deadline(const struct grp_coord *c)
{
	(void)c;
	return UINT64_MAX;
}

void
grp_coord_tick(struct grp_coord *c, uint64_t now_ns)
{
	(void)c;
	(void)now_ns;
}

void
grp_coord_metrics(const struct grp_coord *c,
		  void (*group_fn)(void *arg, const struct grp_metrics_group *g),
		  void (*offset_fn)(void *arg, const struct grp_metrics_offset *o), void *arg)
{
	(void)c;
	(void)group_fn;
	(void)offset_fn;
	(void)arg;
}
