/* SPDX-License-Identifier: Apache-2.0 */
/* What offsets may ask membership about a group (grp_int.h): its protocol
 * type, state and state timestamp, its members' subscriptions, and a walk
 * over every group for offset expiry. Read-only: nothing here changes a
 * group. @thread control */
#include "control/group/grp_coord.h"

struct kp_str
grp_protocol_type(const struct grp *g)
{
	return grp_kstr(g->protocol_type);
}

bool
grp_is_stable(const struct grp *g)
{
	return g->state == GRP_STABLE;
}

int64_t
grp_state_timestamp_ms(const struct grp *g)
{
	return g->state_ts_ms > 0 ? g->state_ts_ms : -1;
}

void
grp_members_each(const struct grp *g, void (*fn)(void *arg, struct kp_bytes subscription),
		 void *arg)
{
	if (g->protocol == NULL)
		return;
	for (const struct grp_member *m = g->members; m != NULL; m = m->next)
		fn(arg, grp_member_meta(m, g->protocol));
}

void
grp_each(struct grp_coord *c, void (*fn)(void *arg, struct grp *g), void *arg)
{
	for (uint32_t b = 0; b < c->bucket_count; b++) {
		struct grp *g = c->buckets[b];

		while (g != NULL) {
			struct grp *next = g->hnext;
			struct kp_str id = { g->id, g->id_len };

			/* Cluster mode: a partition still loading is not in
			 * Kafka's cache yet, so expiry leaves it alone. */
			if (!c->cluster || grp_log_ready(c->log, id) == KP_ERR_NONE)
				fn(arg, g);
			g = next;
		}
	}
}
