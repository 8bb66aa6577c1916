/* SPDX-License-Identifier: Apache-2.0 */
/* ElectLeaders in cluster mode: each partition's election written to
 * ZooKeeper by this broker (control/cluster_elect.c), then the answer
 * waits, bounded by the request's timeout, until this broker's view shows
 * every new leader at its new epoch (and has been applied here). @thread
 * control */
#include <stdio.h>
#include <stdlib.h>

#include "common/clock.h"
#include "common/compiler.h"
#include "common/log.h"
#include "control/cluster.h"
#include "control/ctl_cluster.h"
#include "control/ctl_cluster_int.h"
#include "control/ctl_int.h"

#define CTL_ELECT_WAIT_MAX_MS 60000
#define CTL_ELECT_POLL_MS 20

/* What a written election must show in the view. */
struct ctl_elect_want {
	int32_t leader;
	int32_t epoch;
};

static bool
ctl_elect_shown(struct ctl *ctl, const struct kp_elect *parts, const struct ctl_elect_want *w,
		int32_t count)
{
	const struct md_cluster *v = cluster_view(ctl->cluster->cl);

	for (int32_t i = 0; i < count; i++) {
		const struct md_cluster_topic *t;

		if (parts[i].error != KP_ERR_NONE)
			continue;
		t = md_cluster_topic(v, parts[i].topic->name);
		if (t == NULL || parts[i].partition >= t->partition_count)
			continue;       /* deleted meanwhile: nothing to wait for */
		if (t->partitions[parts[i].partition].leader_epoch < w[i].epoch)
			return false;
	}
	return true;
}

void
ctl_cluster_leaders_elect(struct ctl *ctl, int8_t type, struct kp_elect *parts, int32_t count,
			  int32_t timeout_ms)
{
	struct ctl_elect_want *w = calloc((size_t)count + 1, sizeof(*w));
	int64_t deadline = clock_wall_ms() + MIN(MAX(timeout_ms, 0), CTL_ELECT_WAIT_MAX_MS);
	int32_t written = 0;

	if (w == NULL) {
		for (int32_t i = 0; i < count; i++)
			parts[i].error = KP_ERR_UNKNOWN_SERVER_ERROR;
		return;
	}
	for (int32_t i = 0; i < count; i++) {
		char name[256];

		snprintf(name, sizeof(name), "%.*s", (int)parts[i].topic->name.len,
			 parts[i].topic->name.ptr);
		parts[i].error = cluster_leader_elect(ctl->cluster->cl, name, parts[i].partition,
						      type == KP_ELECT_UNCLEAN, &w[i].leader,
						      &w[i].epoch);
		if (parts[i].error == KP_ERR_NONE) {
			log_info("cluster", "%s-%d: %s election: leader %d at epoch %d", name,
				 parts[i].partition, type == KP_ELECT_UNCLEAN ? "unclean"
				 : "preferred", w[i].leader, w[i].epoch);
			written++;
		}
	}
	while (written > 0) {
		ctl_cluster_poll_apply(ctl);
		if (ctl_elect_shown(ctl, parts, w, count))
			break;
		if (clock_wall_ms() >= deadline) {
			for (int32_t i = 0; i < count; i++)
				if (parts[i].error == KP_ERR_NONE)
					parts[i].error = KP_ERR_REQUEST_TIMED_OUT;
			break;
		}
		ctl_cluster_wait_event(ctl, CTL_ELECT_POLL_MS);
	}
	free(w);
}
