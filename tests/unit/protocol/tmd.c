/* SPDX-License-Identifier: Apache-2.0 */
/* Single-broker snapshot parts for hand-built kp_md fixtures (tmd.h). */
#include <stdlib.h>

#include "tests/unit/protocol/tmd.h"

void
tmd_single(struct kp_md *md, struct kp_md_topic *topics, int32_t topic_count)
{
	static struct kp_md_partition parts[TMD_PARTS_MAX];
	static struct kp_md_broker self;
	static int32_t self_id;
	int32_t used = 0;

	self_id = md->broker_id;
	self = (struct kp_md_broker){ .id = md->broker_id, .rack = md->rack,
				      .endpoint_count = md->endpoint_count };
	for (int32_t i = 0; i < md->endpoint_count; i++)
		self.endpoints[i] = md->endpoints[i];
	md->brokers = &self;
	md->broker_count = 1;
	for (int32_t t = 0; t < topic_count; t++) {
		if (used + topics[t].partition_count > TMD_PARTS_MAX)
			abort();
		for (int32_t p = 0; p < topics[t].partition_count; p++)
			parts[used + p] = (struct kp_md_partition){
				.leader = md->broker_id, .replica_count = 1, .isr_count = 1,
				.replicas = &self_id, .isr = &self_id, .offline = &self_id,
			};
		topics[t].partitions = &parts[used];
		used += topics[t].partition_count;
	}
}
