/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/ctl_metrics_stages.c: the produce stage family renders
 * HELP and TYPE once, one histogram per stage for acks="all" and the same
 * less sync_wait and fsync for acks="1", with the labels and values of the
 * summed histograms (checked on the text). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "control/ctl_metrics_stages.h"

static unsigned
occurrences(const char *text, const char *needle)
{
	unsigned n = 0;

	for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

Test(ctl_metrics_stages, family_labels_and_values)
{
	static struct stage_hists sum;
	struct mx_buf b = { 0 };
	char line[160];

	memset(&sum, 0, sizeof(sum));
	stage_add_n(&sum, -1, STAGE_FSYNC, 0, 2000000, 3);     /* 2 ms x 3 */
	stage_add(&sum, 1, STAGE_TOTAL, 0, 500000000);         /* 0.5 s */
	ctl_metrics_stages_render(&b, &sum);
	cr_assert(!b.oom);
	cr_assert_eq(occurrences(b.data, "# TYPE spillway_produce_stage_seconds histogram\n"), 1);
	cr_assert_eq(occurrences(b.data, "# HELP spillway_produce_stage_seconds "), 1);
	cr_assert_eq(occurrences(b.data, "_count{"), STAGE_COUNT + STAGE_COUNT - 2);
	for (int s = 0; s < STAGE_COUNT; s++) {
		snprintf(line, sizeof(line),
			 "spillway_produce_stage_seconds_count{stage=\"%s\",acks=\"all\"} ",
			 stage_names[s]);
		cr_assert_eq(occurrences(b.data, line), 1, "%s", line);
		snprintf(line, sizeof(line),
			 "spillway_produce_stage_seconds_count{stage=\"%s\",acks=\"1\"} ",
			 stage_names[s]);
		cr_assert_eq(occurrences(b.data, line),
			     s == STAGE_SYNC_WAIT || s == STAGE_FSYNC ? 0 : 1, "%s", line);
	}
	cr_assert_eq(occurrences(b.data, "spillway_produce_stage_seconds_count"
				 "{stage=\"fsync\",acks=\"all\"} 3\n"), 1);
	cr_assert_eq(occurrences(b.data, "spillway_produce_stage_seconds_sum"
				 "{stage=\"fsync\",acks=\"all\"} 0.006\n"), 1);
	cr_assert_eq(occurrences(b.data, "spillway_produce_stage_seconds_bucket"
				 "{stage=\"fsync\",acks=\"all\",le=\"0.0025\"} 3\n"), 1);
	cr_assert_eq(occurrences(b.data, "spillway_produce_stage_seconds_bucket"
				 "{stage=\"fsync\",acks=\"all\",le=\"0.001\"} 0\n"), 1);
	cr_assert_eq(occurrences(b.data, "spillway_produce_stage_seconds_sum"
				 "{stage=\"total\",acks=\"1\"} 0.5\n"), 1);
	cr_assert_eq(occurrences(b.data, "spillway_produce_stage_seconds_count"
				 "{stage=\"write\",acks=\"1\"} 0\n"), 1);
	mx_buf_free(&b);
}
