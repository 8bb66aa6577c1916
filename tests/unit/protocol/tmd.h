/* SPDX-License-Identifier: Apache-2.0 */
/* Hand-built kp_md snapshots for tests: the brokers and partitions
 * md_snapshot_build() gives a single broker, or a synthetic cluster. */
#ifndef SPILLWAY_TESTS_TMD_H
#define SPILLWAY_TESTS_TMD_H

#include "protocol/kp.h"

/* md's brokers (itself, with md's endpoints and rack) and each of the
 * topics' partitions (leader md->broker_id, epoch 0, replicas and isr
 * {self}). Storage is static: TMD_PARTS_MAX partitions in all. */
#define TMD_PARTS_MAX 4096
void tmd_single(struct kp_md *md, struct kp_md_topic *topics, int32_t topic_count);

#endif
