/* SPDX-License-Identifier: Apache-2.0 */
/* The client quota store (control thread): user / client-id / ip entities
 * with their quota values, validated as Kafka's controller validates an
 * AlterClientQuotas, filtered as Kafka's DescribeClientQuotas filters, and
 * persisted atomically in <log.dir>/client-quotas. It never enforces: the
 * cores do, from the entries copied into each metadata snapshot. */
#ifndef CONTROL_QUOTA_H
#define CONTROL_QUOTA_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/kp.h"

#define QUOTA_FILE "client-quotas"
/* Entities the store keeps (Kafka has no bound): each is copied into every
 * metadata snapshot and looked up on the cores. */
#define QUOTA_ENTITIES_MAX 10000
/* Bytes of one entity name (Kafka's bound is the wire's 32767). */
#define QUOTA_NAME_BYTES_MAX 1024

/* One entity; entity.name[] points into names[] (NULL for the default). */
struct quota_entry {
	struct kp_quota_entity entity;
	struct kp_quota_values values;
	char *names[KP_QUOTA_TYPES];
};

struct quota_store {
	char dir[PATH_MAX];
	struct quota_entry *entries;
	int32_t count;
	int32_t cap;
};

/* Load <log_dir>/client-quotas (absent: none). 0, or -errno with err set. */
int quota_store_open(struct quota_store *qs, const char *log_dir, char *err, size_t err_size);
void quota_store_close(struct quota_store *qs);

/* Kafka's AlterClientQuotas for one entity: KP_ERR_NONE (ops applied and
 * persisted unless validate_only; *changed says whether anything did) or
 * an error with Kafka's message. */
int16_t quota_store_alter(struct quota_store *qs, const struct kp_quota_entity *entity,
			  struct kp_str bad_type, const struct kp_quota_op *ops, int32_t op_count,
			  bool validate_only, bool *changed, char *msg, size_t msg_size);

/* Kafka's DescribeClientQuotas: fn for every entity the filter matches, or
 * the error the request fails with. */
int16_t quota_store_describe(const struct quota_store *qs, const struct kp_quota_filter *filters,
			     int32_t filter_count, bool strict, kp_quota_entry_fn *fn, void *arg,
			     char *msg, size_t msg_size);

#endif
