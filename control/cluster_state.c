/* SPDX-License-Identifier: Apache-2.0 */
/* Writes a broker makes itself, each conditional on the znode's version:
 * ISR changes by a partition's leader (Kafka's pre-2.7 leader did these
 * in ZooKeeper mode), controlled shutdown, and producer id blocks.
 *
 * Controlled shutdown here is done by the broker itself, controller or
 * not: for every partition it leads (replication factor above 1, as
 * Kafka's controller acts on) it writes the leadership to the first
 * other live ISR member in assignment order, with itself out of the ISR
 * and leader_epoch + 1, and drops itself from the ISRs it follows in;
 * each write is conditional on the state's version, so a concurrent
 * controller or leader change makes it re-read and try again rather than
 * overwrite. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/assert.h"
#include "control/cluster_int.h"

static void
state_path(char *buf, size_t size, const char *topic, int32_t p)
{
	snprintf(buf, size, "/brokers/topics/%s/partitions/%d/state", topic, p);
}

static int
state_read(struct cluster *cl, const char *path, struct md_cluster_partition *mp)
{
	struct Stat st;
	char *data = NULL;
	int rc = cluster_zk_get(cl, path, false, &data, &st);

	if (rc != ZOK)
		return rc;
	rc = cj_state_decode(data, mp) == 0 ? ZOK : ZMARSHALLINGERROR;
	mp->partition_epoch = st.version;
	mp->has_state = true;
	free(data);
	return rc;
}

static bool
has_id(const int32_t *ids, int32_t n, int32_t id)
{
	for (int32_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* Keep the local view in step with a write of ours. */
static void
view_update(struct cluster *cl, const char *topic, int32_t p,
	    const struct md_cluster_partition *next)
{
	struct md_cluster_topic *t = cluster_view_topic(&cl->view, topic);

	if (t == NULL || p >= t->partition_count)
		return;
	t->partitions[p].leader = next->leader;
	t->partitions[p].leader_epoch = next->leader_epoch;
	t->partitions[p].partition_epoch = next->partition_epoch;
	t->partitions[p].isr_count = next->isr_count;
	memcpy(t->partitions[p].isr, next->isr, sizeof(next->isr));
}

/* setData at mp's version; on ZOK mp->partition_epoch is the new one. */
static int
state_write(struct cluster *cl, const char *path, struct md_cluster_partition *mp)
{
	char *json = cj_state_encode(mp);
	struct Stat st;
	int rc = zoo_set2(cl->zh, path, json, (int)strlen(json), mp->partition_epoch, &st);

	free(json);
	if (rc == ZOK)
		mp->partition_epoch = st.version;
	return rc;
}

int16_t
cluster_isr_change(struct cluster *cl, const char *topic, int32_t partition,
		   int32_t leader_epoch, int32_t partition_epoch, const int32_t *isr,
		   int32_t isr_count)
{
	struct md_cluster_partition cur = { 0 };
	char path[CL_PATH_MAX];
	int rc;

	if (isr_count < 1 || isr_count > KP_REPLICAS_MAX)
		return KP_ERR_INVALID_REQUEST;
	state_path(path, sizeof(path), topic, partition);
	rc = state_read(cl, path, &cur);
	if (rc == ZNONODE)
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	if (rc != ZOK)
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	if (cur.leader != cl->broker_id)
		return KP_ERR_NOT_LEADER_OR_FOLLOWER;
	if (!has_id(isr, isr_count, cl->broker_id))
		return KP_ERR_INVALID_REQUEST;      /* the leader stays in its ISR */
	if (cur.leader_epoch != leader_epoch)
		return cur.leader_epoch > leader_epoch ? KP_ERR_FENCED_LEADER_EPOCH
						       : KP_ERR_UNKNOWN_LEADER_EPOCH;
	if (cur.partition_epoch != partition_epoch)
		return KP_ERR_INVALID_UPDATE_VERSION;
	cur.isr_count = isr_count;
	memcpy(cur.isr, isr, sizeof(int32_t) * (size_t)isr_count);
	rc = state_write(cl, path, &cur);
	if (rc == ZBADVERSION)
		return KP_ERR_INVALID_UPDATE_VERSION;
	if (rc != ZOK)
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	view_update(cl, topic, partition, &cur);
	return KP_ERR_NONE;
}

/* One partition's controlled-shutdown move. Returns true while this
 * broker still leads it. */
static bool
shutdown_partition(struct cluster *cl, const char *topic, int32_t p,
		   const struct md_cluster_partition *mp)
{
	struct md_cluster_partition next = *mp;
	char path[CL_PATH_MAX];
	int32_t n = 0;
	bool leads = mp->leader == cl->broker_id;

	if (!mp->has_state || mp->replica_count < 2 || !has_id(mp->isr, mp->isr_count,
								 cl->broker_id))
		return false;
	for (int32_t i = 0; i < mp->isr_count; i++)
		if (mp->isr[i] != cl->broker_id)
			next.isr[n++] = mp->isr[i];
	if (n == 0)
		return leads;   /* nobody to take over: stays */
	next.isr_count = n;
	if (leads) {
		next.leader = -1;
		for (int32_t i = 0; i < mp->replica_count && next.leader < 0; i++) {
			int32_t r = mp->replicas[i];

			if (r != cl->broker_id && has_id(next.isr, n, r) &&
			    cluster_view_alive(&cl->view, r))
				next.leader = r;
		}
		if (next.leader < 0)
			return true;
	}
	next.leader_epoch = mp->leader_epoch + 1;
	state_path(path, sizeof(path), topic, p);
	if (state_write(cl, path, &next) != ZOK)
		return leads;   /* moved meanwhile: the next round re-reads */
	view_update(cl, topic, p, &next);
	return false;
}

int
cluster_controlled_shutdown(struct cluster *cl, int32_t timeout_ms)
{
	struct timespec ts;
	int64_t deadline;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + timeout_ms;
	for (;;) {
		int32_t remaining = 0;

		if (cluster_view_read(cl) == ZOK) {
			const struct md_cluster *v = &cl->view;

			for (int32_t i = 0; i < v->topic_count; i++) {
				const struct md_cluster_topic *t = &v->topics[i];

				for (int32_t p = 0; p < t->partition_count; p++)
					remaining += shutdown_partition(cl, t->name, p,
									&t->partitions[p]);
			}
		} else {
			remaining = 1;
		}
		if (remaining == 0)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 >= deadline)
			return -ETIMEDOUT;
		usleep(100000);
	}
}

static int
pid_block_try(struct cluster *cl, int64_t *first)
{
	struct Stat st;
	char *data = NULL, *json;
	int64_t end = -1;
	int rc = cluster_zk_get(cl, "/latest_producer_id_block", false, &data, &st);

	if (rc == ZOK && data[0] != '\0' && cj_pid_block_decode(data, &end) != 0)
		rc = ZMARSHALLINGERROR;
	free(data);
	if (rc != ZOK && rc != ZNONODE)
		return rc;
	if (end > INT64_MAX - 2 * CL_PID_BLOCK)
		return ZAPIERROR;       /* exhausted, as Kafka refuses too */
	*first = end + 1;
	json = cj_pid_block_encode(cl->broker_id, *first, *first + CL_PID_BLOCK - 1);
	if (rc == ZNONODE)
		rc = zoo_create(cl->zh, "/latest_producer_id_block", json, (int)strlen(json),
				&ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
	else
		rc = zoo_set(cl->zh, "/latest_producer_id_block", json, (int)strlen(json),
			     st.version);
	free(json);
	return rc;
}

int
cluster_producer_id_block(struct cluster *cl, int64_t *first, int64_t *count)
{
	for (int attempt = 0; attempt < 64; attempt++) {
		int rc = pid_block_try(cl, first);

		if (rc == ZOK) {
			*count = CL_PID_BLOCK;
			return 0;
		}
		if (rc != ZBADVERSION && rc != ZNODEEXISTS)
			return -EIO;
	}
	return -EAGAIN;
}
