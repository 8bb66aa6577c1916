/* SPDX-License-Identifier: Apache-2.0 */
/* The produce stage family (spillway_produce_stage_seconds): the cores' and
 * the storage workers' stage histograms (common/stage.h) added together and
 * rendered. @thread control */
#ifndef CONTROL_CTL_METRICS_STAGES_H
#define CONTROL_CTL_METRICS_STAGES_H

#include "common/stage.h"
#include "control/mx.h"

#define CTL_METRICS_STAGES_FAMILY "spillway_produce_stage_seconds"

/* Render sum as the family: HELP, TYPE and one histogram per (stage, acks)
 * that applies (acks="1" has no sync_wait or fsync). */
void ctl_metrics_stages_render(struct mx_buf *b, const struct stage_hists *sum);

#endif
