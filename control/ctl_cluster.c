/* SPDX-License-Identifier: Apache-2.0 */
/* Cluster mode on the control thread: join the cluster through ZooKeeper
 * and keep this broker in step with what it records. Every change of the
 * view (control/cluster.c) is applied here in one pass: topics to the
 * store, the replicas this broker holds opened (or deleted when moved
 * away) with their role in storage, the partitions it follows handed to the
 * replica fetcher, and a new snapshot for the cores. @thread control */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/assert.h"
#include "common/clock.h"
#include "common/compiler.h"
#include "common/log.h"
#include "control/cluster.h"
#include "control/cluster_sec.h"
#include "control/config.h"
#include "control/ctl_cluster.h"
#include "control/ctl_cluster_int.h"
#include "control/ctl_entity.h"
#include "control/ctl_int.h"
#include "control/group/grp.h"
#include "control/meta_file.h"
#include "control/replica_fetcher.h"
#include "storage/st.h"

bool
ctl_cluster_configured(const struct config *cfg)
{
	return cfg->zookeeper_connect != NULL && cfg->zookeeper_connect[0] != '\0';
}

int
ctl_cluster_create(struct ctl *ctl, char *err, size_t err_size)
{
	const struct config *cfg = ctl->cfg;
	const char *name = cfg->inter_broker_listener_name;
	struct ctl_cluster *cc;
	int li = 0;

	if (name != NULL && name[0] != '\0') {
		for (li = 0; li < cfg->listener_count; li++)
			if (strcmp(cfg->listeners[li].name, name) == 0)
				break;
		if (li == cfg->listener_count) {
			snprintf(err, err_size, "inter.broker.listener.name: no listener is named "
				 "'%s'", name);
			return -EINVAL;
		}
	}
	if (cfg->listeners[li].protocol != KP_SEC_PLAINTEXT) {
		snprintf(err, err_size, "inter.broker.listener.name: listener %s is %s; "
			 "replication runs on a PLAINTEXT listener in this version",
			 cfg->listeners[li].name,
			 config_protocol_name(cfg->listeners[li].protocol));
		return -EINVAL;
	}
	cc = calloc(1, sizeof(*cc));
	if (cc == NULL) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	cc->inter_listener = li;
	ctl->cluster = cc;
	return 0;
}

int
ctl_cluster_attach_ring(struct ctl *ctl, struct st *st, char *err, size_t err_size)
{
	const struct config *cfg = ctl->cfg;
	struct ctl_cluster *cc = ctl->cluster;
	struct rf_config rc = {
		.broker_id = cfg->node_id,
		/* After the cores' rings and control's (main.c). */
		.ring = cfg->dataplane_cores + 1,
		.fetch_max_bytes = cfg->replica_fetch_response_max_bytes,
		.partition_max_bytes = cfg->replica_fetch_max_bytes,
		.fetch_wait_max_ms = cfg->replica_fetch_wait_max_ms,
		.fetch_min_bytes = cfg->replica_fetch_min_bytes,
		.backoff_ms = cfg->replica_fetch_backoff_ms,
		.socket_timeout_ms = cfg->replica_socket_timeout_ms,
		.client_id = cc->client_id,
	};

	snprintf(cc->client_id, sizeof(cc->client_id), "broker-%d-fetcher-0", cfg->node_id);
	cc->rf = rf_create(st, &rc, err, err_size);
	return cc->rf != NULL ? 0 : -EINVAL;
}

/* ---- joining ---- */

/* A fresh log dir (no meta.properties before this start) takes the
 * cluster's id; one that names another cluster stops the start, as
 * Kafka's InconsistentClusterIdException. */
static int
ctl_cluster_adopt_id(struct ctl *ctl, const char *zk_id)
{
	const struct config *cfg = ctl->cfg;
	char err[512] = "";
	char path[4200];

	if (strcmp(ctl->store.cluster_id, zk_id) == 0)
		return 0;
	if (!ctl->meta_fresh) {
		log_error("cluster", "The Cluster ID %s doesn't match stored clusterId %s in "
			  "meta.properties. The broker is trying to join the wrong cluster. "
			  "Configured zookeeper.connect may be wrong.", zk_id,
			  ctl->store.cluster_id);
		return -EINVAL;
	}
	for (int i = 0; i < cfg->log_dir_count; i++) {
		snprintf(path, sizeof(path), "%s/meta.properties", cfg->log_dirs[i]);
		if (unlink(path) != 0 && errno != ENOENT)
			return -errno;
	}
	if (meta_file_open(cfg->log_dir, cfg->node_id, zk_id, ctl->store.cluster_id, err,
			   sizeof(err)) != 0 ||
	    (cfg->log_dir_count > 1 &&
	     meta_file_open_more((const char *const *)cfg->log_dirs + 1, cfg->log_dir_count - 1,
				 cfg->node_id, zk_id, err, sizeof(err)) != 0)) {
		log_error("cluster", "meta.properties: %s", err);
		return -EIO;
	}
	log_info("cluster", "joined cluster %s (a new log dir takes its id)", zk_id);
	return 0;
}

/* A first start that could not join leaves no meta.properties behind:
 * the id written at open was only a placeholder for the cluster's. */
static void
ctl_cluster_forget_id(struct ctl *ctl)
{
	char path[4200];

	if (!ctl->meta_fresh)
		return;
	for (int i = 0; i < ctl->cfg->log_dir_count; i++) {
		snprintf(path, sizeof(path), "%s/meta.properties", ctl->cfg->log_dirs[i]);
		(void)unlink(path);
	}
}

int
ctl_cluster_start(struct ctl *ctl)
{
	const struct config *cfg = ctl->cfg;
	struct ctl_cluster *cc = ctl->cluster;
	struct md_cluster_endpoint eps[KP_LISTENERS_MAX];
	char names[KP_LISTENERS_MAX][64];
	char hosts[KP_LISTENERS_MAX][256];
	struct cluster_config zc = {
		.connect = cfg->zookeeper_connect,
		.session_timeout_ms = cfg->zookeeper_session_timeout_ms,
		.connection_timeout_ms = cfg->zookeeper_connection_timeout_ms > 0
					 ? cfg->zookeeper_connection_timeout_ms
					 : cfg->zookeeper_session_timeout_ms,
		.broker_id = cfg->node_id,
		.rack = cfg->broker_rack[0] != '\0' ? cfg->broker_rack : NULL,
		.endpoint_count = ctl->broker.endpoint_count,
		.endpoints = eps,
		.cluster_id = ctl->meta_fresh ? NULL : ctl->store.cluster_id,
		.unclean_leader_election = cfg->unclean_leader_election_enable,
	};
	char err[512] = "";
	int rc;

	for (int32_t i = 0; i < ctl->broker.endpoint_count; i++) {
		const struct kp_md_endpoint *e = &ctl->broker.endpoints[i];

		snprintf(names[i], sizeof(names[i]), "%s", e->listener);
		snprintf(hosts[i], sizeof(hosts[i]), "%s", e->host);
		eps[i] = (struct md_cluster_endpoint){
			.listener = names[i], .host = hosts[i], .port = e->port,
			.protocol = e->protocol,
		};
	}
	cc->cl = cluster_open(&zc, err, sizeof(err));
	if (cc->cl == NULL) {
		log_error("cluster", "zookeeper.connect %s: %s", cfg->zookeeper_connect, err);
		ctl_cluster_forget_id(ctl);
		return -EIO;
	}
	rc = ctl_cluster_adopt_id(ctl, cluster_id(cc->cl));
	if (rc != 0)
		return rc;
	(void)cluster_sec_take(cc->cl);
	rc = ctl_acl_sync(ctl);
	if (rc == 0)
		rc = ctl_entity_sync(ctl);
	if (rc != 0) {
		log_error("cluster", "cannot read the ACLs, SCRAM credentials and quotas from "
			  "ZooKeeper: %s", strerror(-rc));
		return rc;
	}
	/* Loads nothing now: __consumer_offsets partitions come with their
	 * leadership (ctl_cluster_apply.c). */
	grp_coord_set_cluster(ctl->groups, true);
	grp_coord_start(ctl->groups);
	rc = ctl_cluster_apply(ctl, true);
	if (rc != 0)
		return rc;
	rc = rf_start(cc->rf);
	if (rc != 0) {
		log_error("cluster", "cannot start the replica fetcher: %s", strerror(-rc));
		return rc;
	}
	cc->started = true;
	log_info("cluster", "broker %d joined cluster %s through %s (controller: %d)",
		 cfg->node_id, cluster_id(cc->cl), cfg->zookeeper_connect,
		 cluster_view(cc->cl)->controller_id);
	return 0;
}

/* ---- the loop ---- */

int
ctl_cluster_fd(const struct ctl *ctl)
{
	return ctl->cluster != NULL && ctl->cluster->cl != NULL ? cluster_fd(ctl->cluster->cl)
								 : -1;
}

/* ACL / SCRAM / quota znodes changed (their watches): reload. */
static void
ctl_cluster_sec_sync(struct ctl *ctl)
{
	struct cluster *cl = ctl->cluster->cl;
	uint32_t bits = cluster_sec_take(cl);

	if ((bits & CLUSTER_SEC_ACL) != 0 && ctl_acl_changes(ctl) != 0)
		cluster_sec_retry(cl, CLUSTER_SEC_ACL);
	if ((bits & CLUSTER_SEC_ENTITY) != 0 && ctl_entity_sync(ctl) != 0)
		cluster_sec_retry(cl, CLUSTER_SEC_ENTITY);
}

bool
ctl_cluster_poll_apply(struct ctl *ctl)
{
	struct ctl_cluster *cc = ctl->cluster;
	bool changed;

	if (cc == NULL || cc->cl == NULL)
		return false;
	changed = cluster_poll(cc->cl);
	ctl_cluster_sec_sync(ctl);
	if (!changed)
		return false;
	(void)ctl_cluster_apply(ctl, false);
	return true;
}

void
ctl_cluster_wait_event(struct ctl *ctl, int ms)
{
	struct pollfd pfd = { .fd = ctl_cluster_fd(ctl), .events = POLLIN };

	if (pfd.fd >= 0)
		(void)poll(&pfd, 1, ms);
}

int
ctl_cluster_step(struct ctl *ctl, int max_ms)
{
	struct ctl_cluster *cc = ctl->cluster;
	int64_t now;

	if (cc == NULL || !cc->started)
		return max_ms;
	ctl_cluster_poll_apply(ctl);
	now = clock_wall_ms();
	if (now >= cc->isr_next_ms) {
		ctl_cluster_isr_check(ctl, now);
		cc->isr_next_ms = now + ctl_cluster_isr_period_ms(ctl->cfg);
	}
	if (now >= cc->hwck_next_ms) {
		/* Kafka's checkpointHighWatermarks (a failure is logged by
		 * storage; the next round tries again). */
		(void)st_hw_checkpoint(ctl->st);
		cc->hwck_next_ms = now + ctl->cfg->replica_high_watermark_checkpoint_interval_ms;
	}
	max_ms = (int)MIN((int64_t)max_ms, MAX(cc->hwck_next_ms - now, 0));
	return (int)MIN((int64_t)max_ms, MAX(cc->isr_next_ms - now, 0));
}

void
ctl_cluster_shutdown(struct ctl *ctl)
{
	struct ctl_cluster *cc = ctl->cluster;
	const struct config *cfg = ctl->cfg;
	int64_t backoff = cfg->controlled_shutdown_retry_backoff_ms;

	if (cc == NULL || !cc->started || !cfg->controlled_shutdown_enable)
		return;
	/* A follower that kept fetching would be taken back into the ISRs
	 * the shutdown takes it out of. */
	rf_stop(cc->rf);
	/* Each attempt waits for the moves it wrote to show; what it cannot
	 * move (no other live ISR member) stays, and after the last attempt
	 * the broker stops anyway, as Kafka does. */
	for (int32_t attempt = 0; attempt <= cfg->controlled_shutdown_max_retries; attempt++) {
		int rc = cluster_controlled_shutdown(cc->cl, (int32_t)MIN(backoff, 3000));

		ctl_cluster_poll_apply(ctl);
		if (rc == 0) {
			log_info("cluster", "controlled shutdown: leadership handed over");
			return;
		}
		log_warn("cluster", "controlled shutdown attempt %d failed: %s", attempt + 1,
			 strerror(-rc));
	}
}

/* The replica fetcher of a destroyed control, until storage stopped. */
static struct rf *ctl_cluster_stopped_rf;

void
ctl_storage_stopped(void)
{
	rf_destroy(ctl_cluster_stopped_rf);
	ctl_cluster_stopped_rf = NULL;
}

void
ctl_cluster_destroy(struct ctl *ctl)
{
	struct ctl_cluster *cc = ctl->cluster;

	if (cc == NULL)
		return;
	if (cc->rf != NULL) {
		/* Stopped now; freed (its storage wake-up eventfd closed) only
		 * once the storage workers stopped, which may still post a
		 * completion to its ring until then: ctl_storage_stopped(). */
		rf_stop(cc->rf);
		ASSERT(ctl_cluster_stopped_rf == NULL);
		ctl_cluster_stopped_rf = cc->rf;
	}
	/* The high watermarks as they end (Kafka checkpoints at shutdown). */
	if (cc->started && ctl->st != NULL)
		(void)st_hw_checkpoint(ctl->st);
	if (cc->cl != NULL)
		cluster_close(cc->cl);
	ctl_cluster_parts_free(cc);
	free(cc);
	ctl->cluster = NULL;
	ctl->broker.cluster = NULL;
}
