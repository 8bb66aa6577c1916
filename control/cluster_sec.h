/* SPDX-License-Identifier: Apache-2.0 */
/* Security state shared through ZooKeeper in cluster mode, in Kafka's
 * ZooKeeper-mode layout, so the same znodes mean the same:
 *   /kafka-acl/<ResourceType>/<name>                      literal ACLs
 *   /kafka-acl-extended/prefixed/<ResourceType>/<name>    prefixed ACLs
 *       {"version":1,"acls":[{"principal":"User:a","permissionType":"Allow",
 *                             "operation":"Read","host":"*"}]}
 *   /kafka-acl-changes/acl_changes_<seq>          "TOPIC:<name>"
 *   /kafka-acl-extended-changes/acl_changes_<seq> {"version":1,"resourceType":..,
 *                                                  "name":..,"patternType":"PREFIXED"}
 *   /config/users/<user>, /config/clients/<client-id>,
 *   /config/users/<user>/clients/<client-id>, /config/ips/<ip>
 *       {"version":1,"config":{"SCRAM-SHA-256":"salt=..,stored_key=..,
 *        server_key=..,iterations=4096","producer_byte_rate":"1024"}}
 *       (names sanitized as Kafka's Sanitizer; the default entity: <default>)
 *   /config/changes/config_change_<seq>           {"version":2,"entity_path":"users/<u>"}
 * Every write is conditional on the resource znode's version (retried on
 * a race) and followed by a change notification; every broker watches the
 * notifications and reloads. @thread control (all functions except the
 * watcher, which only flags) */
#ifndef CONTROL_CLUSTER_SEC_H
#define CONTROL_CLUSTER_SEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/acl.h"

struct cluster;

/* Read every ACL ZooKeeper holds into as (an in-memory store, emptied
 * first) and arm the change watches. 0, or -EIO (as is then empty). */
int cluster_acl_load(struct cluster *cl, struct acl_store *as);
/* Apply the ACL change notifications newer than the last load or apply
 * to as (the last load's store): each names a resource, whose bindings are
 * read again. 0, or -EIO (then load everything again). */
int cluster_acl_apply_changes(struct cluster *cl, struct acl_store *as);
/* CreateAcls: add the (validated) bindings to their resource znodes.
 * KP_ERR_NONE or an error with msg. */
int16_t cluster_acl_create(struct cluster *cl, const struct kp_acl *acls, int32_t count,
			   char *msg, size_t msg_size);
/* DeleteAcls: remove, from every resource the cache (the last load) holds
 * a matching binding for, the bindings its znode holds that match a filter;
 * fn for each one removed once all writes succeeded. */
int16_t cluster_acl_delete(struct cluster *cl, const struct acl_store *cache,
			   const struct kp_acl_filter *filters, const bool *skip, int32_t count,
			   kp_acl_removed_fn *fn, void *arg, char *msg, size_t msg_size);
/* Entity configs (SCRAM credentials and client quotas). */
struct cluster_kv {
	const char *key;
	const char *value;              /* NULL: remove the key (alter) */
};

/* An entity: user, client or both, or ip; names as clients give them
 * (not sanitized), "<default>" for the default entity; NULL: not part. */
struct cluster_entity {
	const char *user;
	const char *client;
	const char *ip;
	int32_t count;
	const struct cluster_kv *kv;
};

typedef void cluster_entity_fn(void *arg, const struct cluster_entity *e);
/* Call fn for every user / client / user+client / ip entity config
 * ZooKeeper holds, and arm the change watch. 0 or -EIO. */
int cluster_entity_load(struct cluster *cl, cluster_entity_fn *fn, void *arg);
/* Set (value) or remove (NULL) e's keys in its config znode, conditional
 * on its version (retried), then a change notification. 0 or -EIO. */
int cluster_entity_alter(struct cluster *cl, const struct cluster_entity *e);

/* Take the "security znodes changed" flag the watches set (bits
 * CLUSTER_SEC_ACL, CLUSTER_SEC_ENTITY). */
#define CLUSTER_SEC_ACL 1u
#define CLUSTER_SEC_ENTITY 2u
uint32_t cluster_sec_take(struct cluster *cl);
/* Set it again (a reload failed: retry on the next turn). */
void cluster_sec_retry(struct cluster *cl, uint32_t bits);

#endif
