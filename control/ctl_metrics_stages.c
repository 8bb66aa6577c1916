/* SPDX-License-Identifier: Apache-2.0 */
/* The produce stage family: where the time of a produce goes, per partition
 * append, as one histogram per stage and acks mode. The cores record
 * receive, ack, send and total, the storage workers queue, issue, write,
 * sync_wait and fsync; control only adds their snapshots and formats them
 * (ctl_metrics.c collects). Pure text, no statistics gathering here. */
#include "control/ctl_metrics_stages.h"

#include "common/compiler.h"

/* One line, no escaping: every stage's boundaries, in order (common/stage.h). */
#define CTL_METRICS_STAGES_HELP                                                         \
	"Time of each partition append of a Produce, by stage and acks (all, 1); "      \
	"the stages follow each other, so their sum per append is total. "              \
	"receive: frame complete on the core -> request validated; "                    \
	"queue: validated -> taken from the ring by the storage worker; "               \
	"issue: taken -> its write submitted (behind the partition's write in flight); " \
	"write: write submitted -> write completion reaped; "                           \
	"sync_wait (acks=all): write landed -> fsync submitted; "                       \
	"fsync (acks=all): fsync submitted -> fsync completion reaped; "                \
	"ack: durable (acks=all) or landed (acks=1) -> the request's last partition "   \
	"reaped on the core (includes waiting for its other partitions); "              \
	"send: request complete on the core -> response send submitted; "               \
	"total: frame complete -> response send submitted."

void
ctl_metrics_stages_render(struct mx_buf *b, const struct stage_hists *sum)
{
	mx_family(b, CTL_METRICS_STAGES_FAMILY, "histogram", CTL_METRICS_STAGES_HELP);
	for (int a = 0; a < STAGE_ACKS_COUNT; a++) {
		for (int st = 0; st < STAGE_COUNT; st++) {
			const char *l[] = { "stage", stage_names[st], "acks", stage_acks_names[a],
					    NULL };

			if (!stage_applies((enum stage_acks)a, (enum stage)st))
				continue;
			mx_histogram(b, CTL_METRICS_STAGES_FAMILY, l, &sum->h[a][st]);
		}
	}
}
