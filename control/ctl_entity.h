/* SPDX-License-Identifier: Apache-2.0 */
/* Cluster mode's SCRAM credentials and client quotas on the control
 * thread: ZooKeeper's entity configs (ctl_entity.c). @thread control */
#ifndef CONTROL_CTL_ENTITY_H
#define CONTROL_CTL_ENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "control/cluster_sec.h"
#include "control/scram.h"

struct ctl;

/* In cluster mode (joined): ZooKeeper holds the entity configs. */
bool ctl_entity_clustered(const struct ctl *ctl);
/* Rebuild ctl->scram and ctl->quotas from ZooKeeper (no-op outside
 * cluster mode). 0 or -EIO (the old ones stay). */
int ctl_entity_sync(struct ctl *ctl);
/* Write one entity's changed keys to ZooKeeper, then sync. 0, -EINVAL
 * (a name ZooKeeper cannot hold) or -EIO. */
int ctl_entity_alter(struct ctl *ctl, const struct cluster_entity *e);
/* Kafka's ScramCredentialUtils.credentialToString. 0 or -1. */
int ctl_entity_scram_text(const struct scram_cred *c, char *out, size_t out_size);

#endif
