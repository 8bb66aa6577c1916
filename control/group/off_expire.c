/* SPDX-License-Identifier: Apache-2.0 */
/* Offset expiry (Kafka 2.1+, KIP-211: GroupMetadata.removeExpiredOffsets
 * and GroupMetadataManager.cleanupGroupMetadata), run from the
 * coordinator's tick every offsets.retention.check.interval.ms:
 *   - a group with a protocol type and no members (Empty): every offset,
 *     offsets.retention.minutes after the group became Empty;
 *   - a Stable "consumer" group whose subscriptions parse: offsets of topics
 *     no member subscribes to, retention after their commit;
 *   - a group that never had a protocol (simple consumers committing):
 *     retention after each commit;
 *   - an offset committed with an explicit expiry (v1-v4): at that time.
 * Offsets with a commit pending never expire. Expired offsets leave memory
 * and get tombstones; a group left without members and offsets is removed
 * with its own tombstone. @thread control */
#include "control/group/off_int.h"

#include <stdlib.h>

#include "common/clock.h"
#include "control/config.h"

/* The coordinator whose next check is next_ns (tests make several). */
static const struct grp_coord *off_expire_coord;
static uint64_t off_expire_next_ns;

enum off_base {
	OFF_BASE_NONE,          /* nothing expires */
	OFF_BASE_STATE,         /* since the group became Empty */
	OFF_BASE_COMMIT,        /* since each commit */
};

struct off_expire_rule {
	struct grp *g;
	enum off_base base;
	bool unsubscribed_only;
	int64_t state_ts_ms;
	int64_t now_ms;
	int64_t retention_ms;
};

static bool
off_expired(void *arg, const struct off_entry *e)
{
	const struct off_expire_rule *x = arg;

	if (e->pending > 0)
		return false;
	if (x->unsubscribed_only &&
	    grp_subscription_of(x->g, (struct kp_str){ e->topic->name, e->topic->name_len }) !=
	    GRP_SUB_NO)
		return false;
	if (e->v.expire_ts_ms != -1)
		return x->now_ms >= e->v.expire_ts_ms;
	int64_t base = x->base == OFF_BASE_STATE && x->state_ts_ms >= 0
		? x->state_ts_ms : e->v.commit_ts_ms;

	return x->now_ms - base >= x->retention_ms;
}

static void
off_expire_rule(struct off_expire_rule *x)
{
	struct grp *g = x->g;
	struct kp_str type = grp_protocol_type(g);

	x->base = OFF_BASE_NONE;
	x->unsubscribed_only = false;
	if (type.len >= 0 && grp_is_empty(g)) {
		x->base = OFF_BASE_STATE;
		x->state_ts_ms = grp_state_timestamp_ms(g);
	} else if (type.len >= 0 && kp_str_eq(type, kp_str_c("consumer")) && grp_is_stable(g)) {
		/* Kafka needs the subscriptions known: an unparsable one
		 * answers GRP_SUB_UNKNOWN for every topic, so nothing goes. */
		x->base = OFF_BASE_COMMIT;
		x->unsubscribed_only = true;
	} else if (type.len < 0) {
		x->base = OFF_BASE_COMMIT;
	}
}

struct off_expire_walk {
	struct off_expire_rule rule;
	struct grp **due;               /* groups with offsets to look at */
	int32_t due_count;
	int32_t due_cap;
};

static void
off_expire_collect(void *arg, struct grp *g)
{
	struct off_expire_walk *w = arg;

	if (!off_group_has_offsets(off_group_of(g, false)))
		return;
	if (w->due_count == w->due_cap) {
		int32_t cap = w->due_cap == 0 ? 64 : w->due_cap * 2;
		struct grp **d = realloc(w->due, (size_t)cap * sizeof(*d));

		if (d == NULL)
			return;         /* the next check gets it */
		w->due = d;
		w->due_cap = cap;
	}
	w->due[w->due_count++] = g;
}

void
off_expire(struct grp_coord *c, uint64_t now_ns)
{
	const struct config *cfg = grp_coord_config(c);
	uint64_t interval_ns = (uint64_t)cfg->offsets_retention_check_interval_ms * 1000000ull;
	struct off_expire_walk w = { 0 };

	if (off_expire_coord != c) {
		/* Kafka's first check comes one interval after start-up. */
		off_expire_coord = c;
		off_expire_next_ns = now_ns + interval_ns;
		return;
	}
	if (now_ns < off_expire_next_ns)
		return;
	off_expire_next_ns = now_ns + interval_ns;
	w.rule.now_ms = off_now_ms();
	w.rule.retention_ms = (int64_t)cfg->offsets_retention_minutes * 60000;
	/* Collect first: removing a group inside grp_each is not allowed. */
	grp_each(c, off_expire_collect, &w);
	for (int32_t i = 0; i < w.due_count; i++) {
		w.rule.g = w.due[i];
		off_expire_rule(&w.rule);
		if (w.rule.base == OFF_BASE_NONE)
			continue;
		(void)off_tombstone(c, w.rule.g, off_expired, &w.rule, true, NULL, NULL);
	}
	free(w.due);
}
