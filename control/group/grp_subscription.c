/* SPDX-License-Identifier: Apache-2.0 */
/* Which topics a consumer group subscribes to (Kafka's
 * GroupMetadata.computeSubscribedTopics / isSubscribedToTopic): each
 * member's ConsumerProtocolSubscription for the group's protocol, read as
 * version 0, the prefix of every version (a version, the topics array,
 * the user data; the rest is ignored). No generated codec exists for this
 * "data" schema, so a bounded cursor reads it here. @thread control */
#include "control/group/grp_coord.h"
#include "control/group/off_int.h"

/* The subscription of one member names at most this many topics: above
 * any real consumer, and it bounds the walk (the bytes bound it too). */
#define GRP_SUB_TOPICS_MAX 100000

struct grp_sub_walk {
	struct kp_str topic;
	bool found;
	bool bad;
};

/* ConsumerProtocol.deserializeVersion + deserializeSubscription(buf, 0). */
static void
grp_sub_member(void *arg, struct kp_bytes sub)
{
	struct grp_sub_walk *w = arg;
	struct kp_cursor c = kp_cursor_make(sub.ptr, sub.len > 0 ? (size_t)sub.len : 0);

	if (w->bad)
		return;
	int16_t version = kp_read_i16(&c);
	int32_t n = kp_read_array_len(&c, false, GRP_SUB_TOPICS_MAX);

	if (c.err != 0 || version < 0 || n < 0) {
		w->bad = true;
		return;
	}
	bool found = false;

	for (int32_t i = 0; i < n && c.err == 0; i++) {
		struct kp_str t = kp_read_string(&c, false);

		if (t.len < 0) {
			w->bad = true;  /* a null topic: Kafka's SchemaException */
			return;
		}
		if (kp_str_eq(t, w->topic))
			found = true;
	}
	(void)kp_read_bytes(&c, false);         /* user data: nullable */
	if (c.err != 0) {
		w->bad = true;
		return;
	}
	w->found = w->found || found;
}

enum grp_subscription
grp_subscription_of(const struct grp *g, struct kp_str topic)
{
	struct grp_sub_walk w = { topic, false, false };

	if (g->protocol_type == NULL || !grp_str_is(g->protocol_type, kp_str_c("consumer")) ||
	    g->member_count == 0 || g->protocol == NULL)
		return GRP_SUB_UNKNOWN;
	grp_members_each(g, grp_sub_member, &w);
	if (w.bad)
		return GRP_SUB_UNKNOWN;
	return w.found ? GRP_SUB_YES : GRP_SUB_NO;
}

bool
grp_subscribes_to(const struct grp *g, struct kp_str topic)
{
	return grp_subscription_of(g, topic) == GRP_SUB_YES;
}
