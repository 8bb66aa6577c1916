/* SPDX-License-Identifier: Apache-2.0 */
/* Inside control/cluster*.c: the cluster handle, the znode JSON codecs,
 * the view reader, the controller and the replica assignment. Not for use
 * outside control/cluster*.c and its tests. @thread control (all functions
 * except cluster_zk_watcher, which runs on libzookeeper's thread). */
#ifndef CONTROL_CLUSTER_INT_H
#define CONTROL_CLUSTER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* libzookeeper-mt's synchronous API. */
#ifndef THREADED
#define THREADED
#endif
#include <zookeeper/zookeeper.h>

#include "control/cluster.h"

/* What the watches saw (bits of cluster.events). */
enum {
	CL_EV_SESSION = 1u << 0,     /* connected, expired or lost */
	CL_EV_BROKERS = 1u << 1,     /* children of /brokers/ids */
	CL_EV_TOPICS = 1u << 2,      /* topics, assignments, states, configs */
	CL_EV_DELETE = 1u << 3,      /* children of /admin/delete_topics */
	CL_EV_CONTROLLER = 1u << 4,  /* data of /controller */
	CL_EV_STATES = 1u << 5,      /* partition states listed in dirty */
};

#define CL_DIRTY_MAX 4096       /* more changed states: read everything */

#define CL_PATH_MAX 512
#define CL_DATA_MAX (1024 * 1024)  /* ZooKeeper's jute.maxbuffer */
#define CL_CHANGE_EXPIRATION_MS (15 * 60 * 1000)
#define CL_PID_BLOCK 1000
#define KP_BROKERS_ASSIGN_MAX 1024  /* brokers an assignment spreads over */

/* A topic's config overrides as /config/topics/<t> holds them. */
struct cl_topic_configs {
	char *name;
	int32_t count;
	struct md_config *configs;
};

/* A live broker's epoch: its registration's czxid (Kafka's broker epoch). */
struct cl_broker_epoch {
	int32_t id;
	int64_t czxid;
};

struct cluster {
	zhandle_t *zh;
	int64_t change_expiration_ms;   /* see cluster_config */
	int efd;                        /* eventfd the watches write */
	_Atomic uint32_t events;        /* CL_EV_* seen, not yet handled */
	_Atomic uint32_t sec_events;    /* CLUSTER_SEC_* (cluster_acl.c) */
	int64_t acl_seen[2];            /* last ACL change notification applied */
	/* State znodes whose watch fired (CL_EV_STATES): heap paths. */
	pthread_mutex_t dirty_lock;
	int32_t dirty_count;
	char *dirty[CL_DIRTY_MAX];
	char *connect;
	int32_t session_timeout_ms;
	int32_t connection_timeout_ms;
	int32_t broker_id;
	char *rack;
	int32_t endpoint_count;
	struct md_cluster_endpoint endpoints[KP_LISTENERS_MAX];
	bool unclean_leader_election;
	char cluster_id[64];
	/* Controller state: valid while controller is true. */
	bool controller;
	int32_t controller_epoch;
	int32_t controller_epoch_version;  /* /controller_epoch's zkVersion */
	/* Controller: brokers that registered again since its last look
	 * (czxid changed), treated as dead for one round, as Kafka's
	 * controller handles bounced brokers. */
	int32_t seen_count;
	struct cl_broker_epoch *seen;
	int32_t bounced_count;
	int32_t *bounced;
	struct md_cluster view;
	struct cl_broker_epoch *epochs;  /* view.broker_count, by view order */
	int32_t config_topic_count;
	struct cl_topic_configs *config_topics;
};

/* cluster.c */
void cluster_zk_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx);
/* cluster_acl.c: the watch of ACL and entity config changes (flags only). */
void cluster_sec_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx);
void cluster_flag(struct cluster *cl, uint32_t events);
int64_t cluster_now_ms(void);
/* Create path and its missing parents (persistent, empty). ZOK or a ZK error. */
int cluster_zk_mkdirs(zhandle_t *zh, const char *path);
/* Delete the notifications under dir created more than change_expiration_ms
 * ago, as Kafka's listener purges obsolete ones (best effort). */
void cluster_changes_expire(struct cluster *cl, const char *dir);
/* zoo_get into a fresh NUL-terminated heap buffer (*out, free it); watch:
 * arm a data watch. ZOK, ZNONODE or another ZK error. */
int cluster_zk_get(struct cluster *cl, const char *path, bool watch, char **out,
		   struct Stat *stat);

/* cluster_json.c: Kafka's znode JSON. Encoders return heap strings. */
char *cj_broker_encode(const struct cluster *cl);
int cj_broker_decode(const char *json, struct md_cluster_broker *out);
char *cj_controller_encode(int32_t broker_id);
int32_t cj_controller_decode(const char *json);   /* -1: unreadable */
char *cj_state_encode(const struct md_cluster_partition *p);
int cj_state_decode(const char *json, struct md_cluster_partition *p);
/* /brokers/topics/<t>: assignment of count partitions, replicas[p * KP_REPLICAS_MAX + i]. */
char *cj_topic_encode(const struct kp_uuid *id, int32_t partition_count,
		      const int32_t *replica_counts, const int32_t *replicas);
int cj_topic_decode(const char *json, struct md_cluster_topic *t);
/* The same from a decoded topic, its reassignments included. */
char *cj_topic_encode_view(const struct md_cluster_topic *t);
char *cj_config_encode(const struct md_config *configs, int32_t count);
int cj_config_decode(const char *json, struct cl_topic_configs *out);
char *cj_pid_block_encode(int32_t broker_id, int64_t start, int64_t end);
int cj_pid_block_decode(const char *json, int64_t *end);
int cj_uuid_parse(const char *text, struct kp_uuid *out);
/* /cluster/id {"version":"1","id":"..."}: the id into out. */
int cj_cluster_id_decode(const char *json, char *out, size_t out_size);

/* cluster_view.c: read the whole view again (re-arming every watch) and
 * replace cl->view. 0 or a ZK error (the old view stays). */
int cluster_view_read(struct cluster *cl);
/* Re-read one state znode (path as watched) into the view. */
int cluster_view_read_state(struct cluster *cl, const char *path);
void cluster_view_free(struct md_cluster *v, struct cl_topic_configs *configs, int32_t count);
bool cluster_view_alive(const struct md_cluster *v, int32_t broker_id);
/* Alive and not bounced since the controller's last look. */
bool cluster_ctl_alive(const struct cluster *cl, int32_t broker_id);
struct md_cluster_topic *cluster_view_topic(struct md_cluster *v, const char *name);

/* cluster_controller.c */
/* Stand for controller (a no-op when someone is). 0 or a ZK error. */
int cluster_ctl_elect(struct cluster *cl);
/* /controller is this session's but we did not know (the answer to the
 * winning multi was lost): take the controller role with the epoch. */
void cluster_ctl_adopt(struct cluster *cl);
/* Act on the view as controller: deletions, new states, elections. */
void cluster_ctl_act(struct cluster *cl);
/* A controller write: multi(check /controller_epoch at the version this
 * controller set, setData path at version). ZOK; ZBADVERSION when the
 * state moved; CL_FENCED when this controller was deposed (it resigns). */
#define CL_FENCED (-1000)
/* The same with the caller's ops[1..count-1] (ops[0] is the check). */
int cluster_ctl_multi(struct cluster *cl, zoo_op_t *ops, zoo_op_result_t *res, int count);
int cluster_ctl_set(struct cluster *cl, const char *path, const char *data, int32_t version,
		    int32_t *new_version);
/* The state a controller election would write (Kafka's offline /
 * ISR-shrink election; unclean: unclean.leader.election.enable, the
 * topic's or the broker's): false when the state needs no change. */
bool cluster_ctl_elect_state(const struct cluster *cl, const struct md_cluster_partition *cur,
			     bool unclean, struct md_cluster_partition *next);

/* cluster_reassign.c: a partition being reassigned (mp from the view):
 * once every target replica is in the ISR, the controller finishes it.
 * True when it wrote (or tried to write) the partition. */
bool cluster_reassign_progress(struct cluster *cl, const char *topic, int32_t p,
			       const struct md_cluster_partition *mp);

/* cluster_assign.c: Kafka's AdminUtils.assignReplicasToBrokers over
 * broker_count brokers sorted by id (racks[i] NULL: none; racks are used
 * only when every broker has one). start_index < 0: random start and
 * shift. Writes replicas[p * KP_REPLICAS_MAX + i] for partitions
 * [first_partition, first_partition + count). */
void cluster_assign(const int32_t *ids, const char *const *racks, int32_t broker_count,
		    int32_t count, int16_t replication_factor, int32_t start_index,
		    int32_t first_partition, int32_t *replicas);

#endif
