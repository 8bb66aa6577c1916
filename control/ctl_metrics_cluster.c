/* SPDX-License-Identifier: Apache-2.0 */
/* The cluster families of /metrics (cluster mode only): whether this
 * broker is the controller and how often the controller changed, live
 * brokers, the partitions this broker leads that are under-replicated or
 * under min.insync.replicas, partitions with no leader, ISR shrinks and
 * expansions, each follower's lag behind the leader (leader side) and this
 * broker's own lag behind its leaders (follower side). Kafka's names in the
 * help texts. @thread control */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "control/cluster.h"
#include "control/ctl_cluster_int.h"
#include "control/ctl_int.h"
#include "control/mx.h"
#include "control/replica_fetcher.h"
#include "storage/st.h"

struct ctl_metrics_lag {
	struct ctl *ctl;
	struct mx_buf *b;
};

static const char *
ctl_metrics_cluster_topic(struct ctl *ctl, const uint8_t id[16], int32_t partition)
{
	struct ctl_cluster_part *pt = ctl_cluster_part_find(ctl->cluster, id, partition);

	return pt != NULL ? pt->topic : NULL;
}

/* Leader side: every follower's log end behind the leader's. */
static void
ctl_metrics_follower_lag(void *arg, const struct st_leader_stats *ls)
{
	struct ctl_metrics_lag *m = arg;
	const char *topic = ctl_metrics_cluster_topic(m->ctl, ls->topic_id, ls->partition);
	char part[16], follower[16];

	if (topic == NULL)
		return;
	snprintf(part, sizeof(part), "%d", ls->partition);
	for (int32_t i = 0; i < ls->follower_count; i++) {
		const struct st_follower *f = &ls->followers[i];
		const char *l[] = { "topic", topic, "partition", part, "follower", follower, NULL };
		int64_t lag = f->log_end_offset < 0 ? ls->log_end_offset
						    : ls->log_end_offset - f->log_end_offset;

		snprintf(follower, sizeof(follower), "%d", f->id);
		mx_sample(m->b, "spillway_replica_follower_lag_messages", l,
			  (double)(lag < 0 ? 0 : lag));
	}
}

/* Follower side: this broker behind each leader's high watermark. */
static void
ctl_metrics_fetcher_lag(void *arg, const struct rf_partition_stats *ps)
{
	struct ctl_metrics_lag *m = arg;
	const char *topic = ctl_metrics_cluster_topic(m->ctl, ps->topic_id, ps->partition);
	char part[16], leader[16];
	const char *l[] = { "topic", topic, "partition", part, "leader", leader, NULL };
	int64_t lag = ps->leader_high_watermark - ps->fetch_offset;

	if (topic == NULL || ps->leader_high_watermark < 0)
		return;
	snprintf(part, sizeof(part), "%d", ps->partition);
	snprintf(leader, sizeof(leader), "%d", ps->leader_id);
	mx_sample(m->b, "spillway_replica_fetcher_lag_messages", l, (double)(lag < 0 ? 0 : lag));
}

/* Partitions this broker leads under their replica count / min ISR, and
 * partitions of the cluster with no leader. */
static void
ctl_metrics_cluster_partitions(struct ctl *ctl, struct mx_buf *b, const struct md_cluster *v)
{
	uint64_t under = 0, under_min = 0, offline = 0, led = 0;
	struct ctl_cluster *cc = ctl->cluster;

	for (int32_t t = 0; t < v->topic_count; t++)
		for (int32_t p = 0; p < v->topics[t].partition_count; p++)
			offline += v->topics[t].partitions[p].has_state &&
				   v->topics[t].partitions[p].leader < 0;
	for (int32_t i = 0; i < cc->part_count; i++) {
		const struct st_role *r = &cc->parts[i].role;

		if (!cc->parts[i].role_set || !r->leader)
			continue;
		led++;
		under += r->isr_count < r->replica_count;
		under_min += r->isr_count < r->min_insync_replicas;
	}
	mx_family(b, "spillway_cluster_leader_partitions", "gauge",
		  "Partitions this broker leads (Kafka's LeaderCount).");
	mx_sample(b, "spillway_cluster_leader_partitions", NULL, (double)led);
	mx_family(b, "spillway_cluster_under_replicated_partitions", "gauge",
		  "Partitions this broker leads whose ISR is smaller than their replica set "
		  "(Kafka's UnderReplicatedPartitions).");
	mx_sample(b, "spillway_cluster_under_replicated_partitions", NULL, (double)under);
	mx_family(b, "spillway_cluster_under_min_isr_partitions", "gauge",
		  "Partitions this broker leads whose ISR is below min.insync.replicas "
		  "(Kafka's UnderMinIsrPartitionCount).");
	mx_sample(b, "spillway_cluster_under_min_isr_partitions", NULL, (double)under_min);
	mx_family(b, "spillway_cluster_offline_partitions", "gauge",
		  "Partitions of the cluster without a leader (Kafka's OfflinePartitionsCount).");
	mx_sample(b, "spillway_cluster_offline_partitions", NULL, (double)offline);
}

void
ctl_metrics_cluster(struct ctl *ctl, struct mx_buf *b)
{
	struct ctl_cluster *cc = ctl->cluster;
	struct ctl_metrics_lag m = { .ctl = ctl, .b = b };
	const struct md_cluster *v;

	if (cc == NULL || !cc->started)
		return;
	v = cluster_view(cc->cl);
	mx_family(b, "spillway_cluster_controller", "gauge",
		  "1 when this broker is the active controller (Kafka's ActiveControllerCount).");
	mx_sample(b, "spillway_cluster_controller", NULL, cluster_is_controller(cc->cl) ? 1 : 0);
	mx_family(b, "spillway_cluster_controller_changes_total", "counter",
		  "Times this broker saw the controller change.");
	mx_sample(b, "spillway_cluster_controller_changes_total", NULL,
		  (double)cc->controller_changes);
	mx_family(b, "spillway_cluster_brokers", "gauge", "Live brokers registered in ZooKeeper.");
	mx_sample(b, "spillway_cluster_brokers", NULL, (double)v->broker_count);
	ctl_metrics_cluster_partitions(ctl, b, v);
	mx_family(b, "spillway_cluster_isr_shrinks_total", "counter",
		  "ISR shrinks this broker made as leader (Kafka's IsrShrinksPerSec).");
	mx_sample(b, "spillway_cluster_isr_shrinks_total", NULL, (double)cc->isr_shrinks);
	mx_family(b, "spillway_cluster_isr_expands_total", "counter",
		  "ISR expansions this broker made as leader (Kafka's IsrExpandsPerSec).");
	mx_sample(b, "spillway_cluster_isr_expands_total", NULL, (double)cc->isr_expands);
	mx_family(b, "spillway_replica_follower_lag_messages", "gauge",
		  "Leader side: offsets a follower is behind this leader's log end.");
	if (ctl->st != NULL)
		(void)st_leaders_collect(ctl->st, ctl_metrics_follower_lag, &m);
	mx_family(b, "spillway_replica_fetcher_lag_messages", "gauge",
		  "Follower side: offsets this broker is behind its leader's high watermark "
		  "(Kafka's ReplicaFetcherManager MaxLag, per partition).");
	rf_stats(cc->rf, ctl_metrics_fetcher_lag, &m);
}
