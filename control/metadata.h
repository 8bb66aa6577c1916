/* SPDX-License-Identifier: Apache-2.0 */
/* The control thread's topic store: the authoritative topic list, persisted
 * in the log directory, and the immutable kp_md snapshots built from it for
 * the cores. @thread control (all functions). */
#ifndef CONTROL_METADATA_H
#define CONTROL_METADATA_H

#include <stdint.h>

#include "protocol/kp.h"

struct config;

/* A topic config override; strings are NUL-terminated heap copies. */
struct md_config {
	char *name;
	char *value;    /* NULL: null */
};

struct md_topic {
	char *name;
	struct kp_uuid id;
	int32_t partition_count;
	int32_t config_count;
	struct md_config *configs;
};

struct md_store {
	char *dir;                  /* the log directory */
	char cluster_id[23];        /* 22 base64url chars + NUL */
	int32_t node_id;
	int32_t topic_count;
	int32_t topic_cap;
	struct md_topic *topics;    /* unordered; snapshots sort */
};

/* ---- Cluster mode: the cluster's state as ZooKeeper records it ----
 * Kept by control/cluster.c from its watches (strings are heap copies the
 * cluster code owns); the snapshot copies what it needs. */

struct md_cluster_partition {
	int32_t leader;             /* -1: none */
	int32_t leader_epoch;
	int32_t partition_epoch;    /* the state znode's version */
	int32_t controller_epoch;   /* of the controller that wrote it */
	int32_t replica_count;      /* the assignment, in order */
	int32_t isr_count;
	int32_t replicas[KP_REPLICAS_MAX];
	int32_t isr[KP_REPLICAS_MAX];
	bool has_state;             /* false: assigned, no state znode yet */
	/* An ongoing reassignment (KIP-455, the topic znode's adding_replicas
	 * and removing_replicas): replicas = target then the original-only
	 * ones; both empty: none. */
	int32_t adding_count;
	int32_t removing_count;
	int32_t adding[KP_REPLICAS_MAX];
	int32_t removing[KP_REPLICAS_MAX];
};

struct md_cluster_topic {
	char *name;
	struct kp_uuid id;          /* the topic znode's "topic_id" */
	int32_t partition_count;
	struct md_cluster_partition *partitions;
};

struct md_cluster_endpoint {
	char *listener;             /* listener name, e.g. "PLAINTEXT" */
	char *host;
	int32_t port;
	uint8_t protocol;           /* enum kp_sec_protocol */
};

struct md_cluster_broker {
	int32_t id;
	char *rack;                 /* NULL: none */
	int32_t endpoint_count;
	struct md_cluster_endpoint endpoints[KP_LISTENERS_MAX];
};

struct md_cluster {
	int32_t controller_id;      /* -1: none right now */
	int32_t broker_count;       /* live brokers (registered), sorted by id */
	struct md_cluster_broker *brokers;
	int32_t topic_count;        /* sorted by name */
	struct md_cluster_topic *topics;
};

const struct md_cluster_topic *md_cluster_topic(const struct md_cluster *cl, struct kp_str name);

/* What a snapshot says about this broker, besides the topics. */
struct quota_store;

struct md_broker {
	/* Each client listener's advertised endpoint (strings are copied into
	 * the snapshot). */
	int32_t endpoint_count;
	struct kp_md_endpoint endpoints[KP_LISTENERS_MAX];
	bool auto_create_topics;
	int32_t num_partitions;
	int16_t default_replication_factor;
	const struct config *cfg;   /* resolves per-topic limits; NULL: defaults */
	const struct quota_store *quotas;  /* copied into snapshots; NULL: none */
	struct kp_acl_index *acl;   /* referenced by snapshots; NULL: no authorizer */
	const char *rack;           /* broker.rack; NULL: unset */
	/* Cluster mode: brokers, controller and partition states (topics
	 * still come from the store, which control keeps in step with
	 * ZooKeeper). NULL: a single broker, leader of everything. */
	const struct md_cluster *cluster;
};

/* Open (creating if needed) the store in dir: meta.properties as Kafka keeps
 * it (cluster.id, node.id; a node.id that differs is an error) and the topic
 * file. 0 or -errno with err filled. */
int md_store_open(struct md_store *st, const char *dir, int32_t node_id,
		  const char *cluster_id_cfg, char *err, size_t err_size);
void md_store_close(struct md_store *st);

struct md_topic *md_store_find(struct md_store *st, struct kp_str name);
/* Another topic whose name equals name once '.' and '_' are made the same
 * (Kafka rejects such pairs: their metric names collide). NULL if none. */
struct md_topic *md_store_find_colliding(struct md_store *st, struct kp_str name);
/* Each mutation persists (write, fsync, rename, fsync dir) before it
 * returns 0; on -errno nothing changed, in memory or on disk. */
int md_store_topic_add(struct md_store *st, struct kp_str name, const struct kp_uuid *id,
		       int32_t partition_count, const struct kp_topic_config *configs,
		       int32_t config_count);
int md_store_topic_remove(struct md_store *st, const struct kp_uuid *id);
int md_store_partitions_set(struct md_store *st, const struct kp_uuid *id, int32_t count);
/* Replace a topic's whole override set (AlterConfigs); -ENOENT: no topic. */
int md_store_topic_configs_set(struct md_store *st, const struct kp_uuid *id,
			       const struct kp_topic_config *configs, int32_t config_count);

/* A fresh random topic id as Kafka makes them: never zero, never the
 * metadata topic's id (1), never starting with '-' in base64url. */
void md_uuid_random(struct kp_uuid *out);

/* Build an immutable snapshot (one allocation; md_snapshot_free frees it). */
struct kp_md *md_snapshot_build(const struct md_store *st, const struct md_broker *broker,
				uint64_t epoch);
void md_snapshot_free(struct kp_md *md);

#endif
