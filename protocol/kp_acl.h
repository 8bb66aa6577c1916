/* SPDX-License-Identifier: Apache-2.0 */
/* Authorized-operation bit sets reported when a client asks for them. With
 * no authorizer configured Kafka reports every operation a resource type
 * supports; so do we. Bits are 1 << AclOperation code. */
#ifndef PROTOCOL_KP_ACL_H
#define PROTOCOL_KP_ACL_H

enum {
	KP_ACL_READ = 3, KP_ACL_WRITE = 4, KP_ACL_CREATE = 5, KP_ACL_DELETE = 6,
	KP_ACL_ALTER = 7, KP_ACL_DESCRIBE = 8, KP_ACL_CLUSTER_ACTION = 9,
	KP_ACL_DESCRIBE_CONFIGS = 10, KP_ACL_ALTER_CONFIGS = 11, KP_ACL_IDEMPOTENT_WRITE = 12,
};

#define KP_ACL_TOPIC_OPS \
	((1 << KP_ACL_READ) | (1 << KP_ACL_WRITE) | (1 << KP_ACL_CREATE) | \
	 (1 << KP_ACL_DELETE) | (1 << KP_ACL_ALTER) | (1 << KP_ACL_DESCRIBE) | \
	 (1 << KP_ACL_DESCRIBE_CONFIGS) | (1 << KP_ACL_ALTER_CONFIGS))

#define KP_ACL_CLUSTER_OPS \
	((1 << KP_ACL_CREATE) | (1 << KP_ACL_ALTER) | (1 << KP_ACL_DESCRIBE) | \
	 (1 << KP_ACL_CLUSTER_ACTION) | (1 << KP_ACL_DESCRIBE_CONFIGS) | \
	 (1 << KP_ACL_ALTER_CONFIGS) | (1 << KP_ACL_IDEMPOTENT_WRITE))

#endif
