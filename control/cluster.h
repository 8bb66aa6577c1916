/* SPDX-License-Identifier: Apache-2.0 */
/* Cluster mode on Apache ZooKeeper (zookeeper.connect set): membership,
 * controller election and partition state, with ZooKeeper's layout as
 * Kafka's ZooKeeper mode keeps it, so the same znodes mean the same:
 *   /cluster/id                                  {"version":"1","id":...}
 *   /brokers/ids/<id>        ephemeral           endpoints, rack
 *   /controller              ephemeral           {"version":2,"brokerid":N,...}
 *   /controller_epoch                            N (fences a deposed controller)
 *   /brokers/topics/<t>                          {"version":3,"topic_id":...,
 *                                                 "partitions":{"0":[1,2,3]},...}
 *   /brokers/topics/<t>/partitions/<p>/state     {"controller_epoch":..,"leader":..,
 *                                                 "version":1,"leader_epoch":..,"isr":[..]}
 *   /config/topics/<t>                           {"version":1,"config":{...}}
 *   /admin/delete_topics/<t>
 *   /latest_producer_id_block                    producer id blocks
 * The C client (libzookeeper-mt) runs its own I/O threads; its watches
 * only wake control through cluster_fd(); everything else happens on the
 * control thread. @thread control (all functions) */
#ifndef CONTROL_CLUSTER_H
#define CONTROL_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/metadata.h"

struct cluster_config {
	const char *connect;            /* zookeeper.connect: host:port[,..][/chroot] */
	int32_t session_timeout_ms;     /* zookeeper.session.timeout.ms */
	int32_t connection_timeout_ms;  /* zookeeper.connection.timeout.ms */
	int32_t broker_id;
	const char *rack;               /* broker.rack; NULL: none */
	/* This broker's advertised endpoints, registered in /brokers/ids. */
	int32_t endpoint_count;
	const struct md_cluster_endpoint *endpoints;
	const char *cluster_id;         /* meta.properties' (NULL: none yet) */
	bool unclean_leader_election;   /* unclean.leader.election.enable */
	/* Change notifications older than this go (Kafka's
	 * ZkNodeChangeNotificationListener: 15 minutes); 0: that default. */
	int64_t change_expiration_ms;
};

struct cluster;

/* Connect (waiting up to connection_timeout_ms for a session), check or
 * create /cluster/id (a different id than meta.properties' stops the
 * start, as Kafka's InconsistentClusterIdException), register this broker
 * (a live registration of the same id stops the start), stand for
 * controller and read the whole view. NULL with err naming the cause. */
struct cluster *cluster_open(const struct cluster_config *cfg, char *err, size_t err_size);
/* Deregister (the session closes; ephemeral nodes go) and free. */
void cluster_close(struct cluster *cl);

/* Readable when ZooKeeper events wait for cluster_poll(). */
int cluster_fd(const struct cluster *cl);
/* Handle what happened: re-read changed znodes and, while this broker is
 * the controller, act (elect leaders for partitions whose leader died,
 * drop dead replicas from ISRs, create states of new topics, finish topic
 * deletions), each write conditional on the state's version and fenced by
 * /controller_epoch. A lost session is re-established and the broker
 * registered again. Returns true when the view changed. */
bool cluster_poll(struct cluster *cl);
/* The current view (valid until the next cluster_poll()). */
const struct md_cluster *cluster_view(const struct cluster *cl);
const char *cluster_id(const struct cluster *cl);
bool cluster_is_controller(const struct cluster *cl);

/* Topic admin from any broker. Create (id NULL: a fresh one) writes /config/topics/<t> and
 * /brokers/topics/<t> with replica assignments made here (Kafka's
 * rack-aware assignment over live brokers; replication factor above the
 * live broker count: INVALID_REPLICATION_FACTOR); the controller then
 * creates the partition states. TOPIC_ALREADY_EXISTS when the znode is
 * there. validate_only: checks only. Kafka error codes, msg filled. */
int16_t cluster_topic_create(struct cluster *cl, const char *name, const struct kp_uuid *id,
			     int32_t partition_count, int16_t replication_factor,
			     const struct kp_topic_config *configs, int32_t config_count,
			     bool validate_only, char *msg, size_t msg_size);
/* The same with the request's own assignment: partition_count rows of
 * KP_REPLICAS_MAX ids, replication_factor used in each (any ids, as Kafka's
 * ZooKeeper mode; NULL: assigned over the live brokers). */
int16_t cluster_topic_create_assigned(struct cluster *cl, const char *name,
				      const struct kp_uuid *id, int32_t partition_count,
				      int16_t replication_factor, const int32_t *assigned,
				      const struct kp_topic_config *configs, int32_t config_count,
				      bool validate_only, char *msg, size_t msg_size);
/* Add partitions [old count, count) with new assignments. */
int16_t cluster_partitions_add(struct cluster *cl, const char *name, int32_t count,
			       bool validate_only, char *msg, size_t msg_size);
/* Mark for deletion (/admin/delete_topics/<t>); the controller deletes. */
int16_t cluster_topic_delete(struct cluster *cl, const char *name, char *msg, size_t msg_size);
/* Replace a topic's config overrides (/config/topics/<t>, then a change
 * notification so every broker re-reads it). */
int16_t cluster_topic_configs_set(struct cluster *cl, const char *name,
				  const struct md_config *configs, int32_t config_count);
/* Topic overrides as ZooKeeper holds them: count, and the i-th; the
 * strings stay valid until the next cluster_poll(). */
int32_t cluster_topic_config_count(const struct cluster *cl, const char *name);
const struct md_config *cluster_topic_configs(const struct cluster *cl, const char *name);

/* The leader changes a partition's ISR (shrink after
 * replica.lag.time.max.ms, expand once caught up): a write of the state
 * znode conditional on its version (partition_epoch) and leader epoch, as
 * Kafka's leader did in ZooKeeper mode. KP_ERR_NONE, or an error when the
 * state moved on meanwhile (the view will then show the new state). */
int16_t cluster_isr_change(struct cluster *cl, const char *topic, int32_t partition,
			   int32_t leader_epoch, int32_t partition_epoch,
			   const int32_t *isr, int32_t isr_count);

/* Controlled shutdown: move the leadership of every partition this broker
 * leads (replication factor above 1) to the first other live ISR member
 * in assignment order, and drop this broker from the ISRs, retrying up to
 * timeout_ms. The broker writes these itself, controller or not, each
 * state conditional on its version (leader_epoch + 1), so it needs no
 * request to the controller. 0, or -ETIMEDOUT while it still leads a
 * partition that has no other live ISR member. */
int cluster_controlled_shutdown(struct cluster *cl, int32_t timeout_ms);

/* A block of producer ids unique across the cluster (Kafka's
 * /latest_producer_id_block, blocks of 1000). 0 or -errno. */
int cluster_producer_id_block(struct cluster *cl, int64_t *first, int64_t *count);

/* ElectLeaders (API 43) for one partition, from any broker: PREFERRED
 * (unclean false) moves the leadership to the assignment's first replica
 * when it is alive and in the ISR; UNCLEAN elects, only when the partition
 * has no live leader, the first live ISR member, else the first live
 * replica (then the whole ISR). Written by this broker, fenced by
 * /controller_epoch and the state's version, leader_epoch + 1.
 * KP_ERR_NONE with the new leader and leader epoch, ELECTION_NOT_NEEDED,
 * PREFERRED_LEADER_NOT_AVAILABLE, ELIGIBLE_LEADERS_NOT_AVAILABLE,
 * UNKNOWN_TOPIC_OR_PARTITION or another error. */
int16_t cluster_leader_elect(struct cluster *cl, const char *topic, int32_t partition,
			     bool unclean, int32_t *leader_out, int32_t *epoch_out);

/* AlterPartitionReassignments (API 45) for one partition, on the
 * controller only (else NOT_CONTROLLER): move it to target (count
 * replicas), or cancel (target NULL: back to the original replicas).
 * Validated as Kafka's controller does (INVALID_REPLICA_ASSIGNMENT,
 * UNKNOWN_TOPIC_OR_PARTITION, NO_REASSIGNMENT_IN_PROGRESS, msg filled);
 * KP_ERR_NONE once the first step is in ZooKeeper (written: the
 * assignment written); the controller finishes it when the targets are
 * in the ISR (control/cluster_reassign.c). */
int16_t cluster_reassign(struct cluster *cl, const char *topic, int32_t partition,
			 const int32_t *target, int32_t count,
			 struct md_cluster_partition *written, char *msg, size_t msg_size);
/* Kafka's checks of a target list against the original replicas and the
 * live brokers (also used by a single broker). KP error with msg. */
int16_t cluster_reassign_validate(const int32_t *target, int32_t count, const int32_t *origin,
				  int32_t origin_count, const int32_t *live, int32_t live_count,
				  char *msg, size_t msg_size);

#endif
