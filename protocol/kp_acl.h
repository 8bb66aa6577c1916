/* SPDX-License-Identifier: Apache-2.0 */
/* The authorizer's matcher: ACL bindings as Kafka's wire names them, the
 * immutable index control builds into every metadata snapshot, and the
 * check a handler makes against it (Kafka's StandardAuthorizer: DENY beats
 * ALLOW, LITERAL, PREFIXED and the "*" literal, "User:*", host "*" or
 * exact, implied DESCRIBE / DESCRIBE_CONFIGS, super users, the no-ACL-found
 * rule). The index is read by the cores without locks and allocates
 * nothing on a check. With no authorizer configured (index NULL) every
 * check allows, and the authorized-operation sets are every operation a
 * resource type supports, as Kafka reports. Bits are 1 << AclOperation. */
#ifndef PROTOCOL_KP_ACL_H
#define PROTOCOL_KP_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/kp_session.h"
#include "protocol/kp_wire.h"

/* AclOperation codes. */
enum {
	KP_ACL_OP_UNKNOWN = 0, KP_ACL_OP_ANY = 1, KP_ACL_ALL = 2,
	KP_ACL_READ = 3, KP_ACL_WRITE = 4, KP_ACL_CREATE = 5, KP_ACL_DELETE = 6,
	KP_ACL_ALTER = 7, KP_ACL_DESCRIBE = 8, KP_ACL_CLUSTER_ACTION = 9,
	KP_ACL_DESCRIBE_CONFIGS = 10, KP_ACL_ALTER_CONFIGS = 11, KP_ACL_IDEMPOTENT_WRITE = 12,
	KP_ACL_CREATE_TOKENS = 13, KP_ACL_DESCRIBE_TOKENS = 14,
	KP_ACL_OPS = 15,
};

/* ResourceType codes. */
enum {
	KP_RES_UNKNOWN = 0, KP_RES_ANY = 1, KP_RES_TOPIC = 2, KP_RES_GROUP = 3,
	KP_RES_CLUSTER = 4, KP_RES_TRANSACTIONAL_ID = 5, KP_RES_DELEGATION_TOKEN = 6,
	KP_RES_USER = 7,
	KP_RES_TYPES = 8,
};

/* PatternType codes. */
enum {
	KP_PAT_UNKNOWN = 0, KP_PAT_ANY = 1, KP_PAT_MATCH = 2, KP_PAT_LITERAL = 3,
	KP_PAT_PREFIXED = 4,
};

/* AclPermissionType codes. */
enum {
	KP_PERM_UNKNOWN = 0, KP_PERM_ANY = 1, KP_PERM_DENY = 2, KP_PERM_ALLOW = 3,
};

#define KP_ACL_TOPIC_OPS \
	((1 << KP_ACL_READ) | (1 << KP_ACL_WRITE) | (1 << KP_ACL_CREATE) | \
	 (1 << KP_ACL_DELETE) | (1 << KP_ACL_ALTER) | (1 << KP_ACL_DESCRIBE) | \
	 (1 << KP_ACL_DESCRIBE_CONFIGS) | (1 << KP_ACL_ALTER_CONFIGS))

#define KP_ACL_CLUSTER_OPS \
	((1 << KP_ACL_CREATE) | (1 << KP_ACL_ALTER) | (1 << KP_ACL_DESCRIBE) | \
	 (1 << KP_ACL_CLUSTER_ACTION) | (1 << KP_ACL_DESCRIBE_CONFIGS) | \
	 (1 << KP_ACL_ALTER_CONFIGS) | (1 << KP_ACL_IDEMPOTENT_WRITE))

#define KP_ACL_GROUP_OPS \
	((1 << KP_ACL_READ) | (1 << KP_ACL_DESCRIBE) | (1 << KP_ACL_DELETE))

/* The only name of the CLUSTER resource. */
#define KP_ACL_CLUSTER_NAME "kafka-cluster"

/* One ACL binding: a resource pattern and an access control entry. The
 * strings are not NUL-terminated. */
struct kp_acl {
	int8_t rtype;           /* KP_RES_* */
	int8_t pattern;         /* KP_PAT_LITERAL or KP_PAT_PREFIXED */
	int8_t op;              /* KP_ACL_* (never UNKNOWN or ANY) */
	int8_t perm;            /* KP_PERM_DENY or KP_PERM_ALLOW */
	struct kp_str name;
	struct kp_str principal;
	struct kp_str host;
};

/* A DescribeAcls / DeleteAcls filter; a string of len -1 matches any. */
struct kp_acl_filter {
	int8_t rtype;           /* KP_RES_*, ANY matches every type */
	int8_t pattern;         /* KP_PAT_*: ANY, MATCH, LITERAL or PREFIXED */
	int8_t op;
	int8_t perm;
	struct kp_str name;
	struct kp_str principal;
	struct kp_str host;
};

/* An ACL a store holds (DescribeAcls), or one it removed under filter
 * (DeleteAcls). */
typedef void kp_acl_fn(void *arg, const struct kp_acl *acl);
typedef void kp_acl_removed_fn(void *arg, int32_t filter, const struct kp_acl *acl);

/* Prefix lengths the index tracks one by one (KP_ACL_PREFIX_LENS). */
#define KP_ACL_PREFIX_LENS 256

/* Built by control, immutable once published, freed by control when no
 * snapshot refers to it. */
struct kp_acl_index {
	uint32_t refs;                  /* control only: snapshots + the owner */
	bool allow_if_no_acl;           /* allow.everyone.if.no.acl.found */
	uint8_t prefixed_types;         /* 1 << rtype for every type with a PREFIXED ACL */
	/* The lengths PREFIXED names have, per type: bit k of prefix_lens for
	 * length k < KP_ACL_PREFIX_LENS; longer ones set bit 0 (search them
	 * all). A check searches only these prefixes of a name. */
	uint64_t prefix_lens[KP_RES_TYPES][KP_ACL_PREFIX_LENS / 64];
	int32_t super_count;
	const struct kp_str *supers;    /* super.users principals */
	int32_t count;
	const struct kp_acl *acls;      /* sorted by kp_acl_cmp() */
};

/* Authorization denials by operation and resource type, counted where the
 * checks run (one table per core and one on control). */
struct kp_acl_denials {
	uint64_t count[KP_RES_TYPES][KP_ACL_OPS];
};

/* Every denial so far (kp_authorize() and kp_acl_denied_count()). */
extern struct kp_acl_denials kp_acl_denials;
void kp_acl_denied_count(int op, int rtype);

struct kp_env;
/* The check a handler makes: the env's session against its snapshot's
 * index (env->md->acl), counting a denial. */
bool kp_authorize(const struct kp_env *env, int op, int rtype, struct kp_str name);

/* The index order: resource type, name (bytes, shorter first), pattern
 * type, then principal, host, operation, permission. */
int kp_acl_cmp(const struct kp_acl *a, const struct kp_acl *b);

/* One allocation holding a sorted copy of acls, supers and their strings
 * (refs 1). NULL when out of memory. @thread control */
struct kp_acl_index *kp_acl_index_build(const struct kp_acl *acls, int32_t count,
					const struct kp_str *supers, int32_t super_count,
					bool allow_if_no_acl);
void kp_acl_index_ref(struct kp_acl_index *ix);
void kp_acl_index_unref(struct kp_acl_index *ix);

/* Whether the session (NULL: User:ANONYMOUS, no host) may do op on the
 * resource (type, literal name). ix NULL: no authorizer, always true. */
bool kp_acl_allowed(const struct kp_acl_index *ix, const struct kp_session *s, int op,
		    int rtype, struct kp_str name);
/* Kafka's authorizeByResourceType: whether op is allowed on some resource
 * of the type (InitProducerId: WRITE on any topic). */
bool kp_acl_allowed_any(const struct kp_acl_index *ix, const struct kp_session *s, int op,
			int rtype);
/* The operations of mask (bits) the session may do on the resource. */
int32_t kp_acl_ops(const struct kp_acl_index *ix, const struct kp_session *s, int rtype,
		   struct kp_str name, int32_t mask);

/* Bytes of a resource name, principal or host an ACL may have (the
 * wire's bound is 32767): each is copied into every snapshot's index. */
#define KP_ACL_STRING_BYTES_MAX 4096

/* Kafka's controller-side check of a new binding (AclControlManager
 * validateNewAcl, and a principal "Type:name"): KP_ERR_NONE, or
 * INVALID_REQUEST with Kafka's message. */
int16_t kp_acl_validate(const struct kp_acl *acl, char *msg, size_t msg_size);

/* Kafka's AclBindingFilter.matches(). */
bool kp_acl_filter_matches(const struct kp_acl_filter *f, const struct kp_acl *acl);

/* A wire code as Java's fromCode() reads it: codes outside the enum are
 * UNKNOWN (0). */
static inline int8_t
kp_acl_code(int8_t code, int limit)
{
	return code >= 0 && code < limit ? code : 0;
}

/* A config resource's check (DescribeConfigs: DESCRIBE_CONFIGS,
 * Alter/IncrementalAlterConfigs: ALTER_CONFIGS): a topic on the topic,
 * broker and broker-logger resources on the cluster. KP_ERR_NONE, or
 * TOPIC_ / CLUSTER_AUTHORIZATION_FAILED with Kafka's default message in msg. */
int16_t kp_acl_config_check(const struct kp_env *env, int op, int8_t config_type,
			    struct kp_str name, const char **msg);

/* Kafka's names ("TOPIC", "READ", "PREFIXED", "ALLOW"), for messages and
 * metrics; "UNKNOWN" for codes outside the enums. */
const char *kp_acl_op_name(int op);
const char *kp_acl_rtype_name(int rtype);
const char *kp_acl_pattern_name(int pattern);
const char *kp_acl_perm_name(int perm);

#endif
