/* SPDX-License-Identifier: Apache-2.0 */
/* The consumer group families of a /metrics scrape: each group's state,
 * members and generation, and per committed offset the offset and the lag
 * (log end offset minus committed offset, 0 when the commit is past the
 * end). One walk of the coordinator per family, because Prometheus wants a
 * family's samples together. @thread control */
#include <stdio.h>
#include <string.h>

#include "control/ctl_int.h"
#include "control/group/grp.h"
#include "control/metrics.h"

/* Kafka's state names, each a sample of spillway_consumer_group_state. */
static const char *const ctl_metrics_group_states[] = {
	"PreparingRebalance", "CompletingRebalance", "Stable", "Dead", "Empty",
};

struct ctl_metrics_groups_walk {
	struct mx_buf *b;
	const char *family;
	ctl_metrics_log_end_fn *log_end;
	void *log_end_arg;
};

static void
ctl_metrics_group_state(void *arg, const struct grp_metrics_group *g)
{
	struct ctl_metrics_groups_walk *w = arg;

	for (size_t i = 0; i < sizeof(ctl_metrics_group_states) / sizeof(char *); i++) {
		const char *l[] = { "group", g->group_id, "state", ctl_metrics_group_states[i],
				    NULL };

		mx_sample(w->b, w->family, l, strcmp(g->state, ctl_metrics_group_states[i]) == 0);
	}
}

static void
ctl_metrics_group_members(void *arg, const struct grp_metrics_group *g)
{
	struct ctl_metrics_groups_walk *w = arg;
	const char *l[] = { "group", g->group_id, NULL };

	mx_sample(w->b, w->family, l, g->members);
}

static void
ctl_metrics_group_generation(void *arg, const struct grp_metrics_group *g)
{
	struct ctl_metrics_groups_walk *w = arg;
	const char *l[] = { "group", g->group_id, NULL };

	mx_sample(w->b, w->family, l, g->generation);
}

static void
ctl_metrics_group_none(void *arg, const struct grp_metrics_group *g)
{
	(void)arg;
	(void)g;
}

static void
ctl_metrics_offset_none(void *arg, const struct grp_metrics_offset *o)
{
	(void)arg;
	(void)o;
}

static void
ctl_metrics_offset_value(void *arg, const struct grp_metrics_offset *o)
{
	struct ctl_metrics_groups_walk *w = arg;
	char part[12];
	const char *l[] = { "group", o->group_id, "topic", o->topic, "partition", part, NULL };

	snprintf(part, sizeof(part), "%d", o->partition);
	mx_sample(w->b, w->family, l, (double)o->offset);
}

static void
ctl_metrics_offset_lag(void *arg, const struct grp_metrics_offset *o)
{
	struct ctl_metrics_groups_walk *w = arg;
	int64_t end = w->log_end(w->log_end_arg, o->topic, o->partition);
	char part[12];
	const char *l[] = { "group", o->group_id, "topic", o->topic, "partition", part, NULL };

	if (end < 0)
		return;         /* the topic or partition is gone */
	snprintf(part, sizeof(part), "%d", o->partition);
	mx_sample(w->b, w->family, l, end > o->offset ? (double)(end - o->offset) : 0.0);
}

void
ctl_metrics_groups(struct ctl *ctl, struct mx_buf *b, ctl_metrics_log_end_fn *log_end,
		   void *log_end_arg)
{
	static const struct {
		const char *name, *help;
		void (*group_fn)(void *arg, const struct grp_metrics_group *g);
		void (*offset_fn)(void *arg, const struct grp_metrics_offset *o);
	} f[] = {
		{ "spillway_consumer_group_state",
		  "1 for the consumer group's current state (Kafka's state names), else 0.",
		  ctl_metrics_group_state, ctl_metrics_offset_none },
		{ "spillway_consumer_group_members", "Members of the consumer group.",
		  ctl_metrics_group_members, ctl_metrics_offset_none },
		{ "spillway_consumer_group_generation", "The consumer group's generation id.",
		  ctl_metrics_group_generation, ctl_metrics_offset_none },
		{ "spillway_consumer_group_committed_offset",
		  "The group's committed offset of a partition.",
		  ctl_metrics_group_none, ctl_metrics_offset_value },
		{ "spillway_consumer_group_lag",
		  "Log end offset minus the group's committed offset of a partition.",
		  ctl_metrics_group_none, ctl_metrics_offset_lag },
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		struct ctl_metrics_groups_walk w = { b, f[i].name, log_end, log_end_arg };

		mx_family(b, f[i].name, "gauge", f[i].help);
		if (ctl->groups != NULL)
			grp_coord_metrics(ctl->groups, f[i].group_fn, f[i].offset_fn, &w);
	}
}
