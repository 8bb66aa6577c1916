/* SPDX-License-Identifier: Apache-2.0 */
/* The client quota admin operations (kp_admin_ops) over control's quota
 * store: a change marks the metadata snapshot dirty, so the next publish
 * carries the new quotas to the cores. @thread control */
#include <stdio.h>
#include <string.h>

#include "control/ctl_entity.h"
#include "control/ctl_int.h"
#include "control/quota.h"

/* Kafka's ZooKeeper-mode value text: byte and connection rates as
 * integers, percentages and mutation rates as doubles ("50.0"). */
static void
ctl_quota_text(struct kp_str key, double v, char *out, size_t size)
{
	bool whole = v == (double)(long long)v;

	if (whole && (key.len != (int32_t)strlen("request_percentage") ||
		      memcmp(key.ptr, "request_percentage", (size_t)key.len) != 0) &&
	    (key.len != (int32_t)strlen("controller_mutation_rate") ||
	     memcmp(key.ptr, "controller_mutation_rate", (size_t)key.len) != 0))
		snprintf(out, size, "%lld", (long long)v);
	else if (whole)
		snprintf(out, size, "%.1f", v);
	else
		snprintf(out, size, "%.17g", v);
}

/* Cluster mode: the validated ops to the entity's ZooKeeper config. */
static int16_t
ctl_quota_zk(struct ctl *ctl, const struct kp_quota_entity *entity,
	     const struct kp_quota_op *ops, int32_t op_count, char *msg, size_t msg_size)
{
	char names[KP_QUOTA_TYPES][1100];
	const char *n[KP_QUOTA_TYPES] = { 0 };
	char keys[KP_QUOTA_KEYS][64], vals[KP_QUOTA_KEYS][64];
	struct cluster_kv kv[KP_QUOTA_KEYS];
	int32_t count = 0;

	for (int t = 0; t < KP_QUOTA_TYPES; t++) {
		struct kp_str s = entity->name[t];

		if (!(entity->present & (1u << t)))
			continue;
		if (s.len < 0)
			snprintf(names[t], sizeof(names[t]), "<default>");
		else
			snprintf(names[t], sizeof(names[t]), "%.*s", (int)s.len, s.ptr);
		n[t] = names[t];
	}
	for (int32_t i = 0; i < op_count && count < KP_QUOTA_KEYS; i++, count++) {
		snprintf(keys[count], sizeof(keys[count]), "%.*s", (int)ops[i].key.len,
			 ops[i].key.ptr);
		ctl_quota_text(ops[i].key, ops[i].value, vals[count], sizeof(vals[count]));
		kv[count] = (struct cluster_kv){ keys[count], ops[i].remove ? NULL : vals[count] };
	}
	if (ctl_entity_alter(ctl, &(struct cluster_entity){
		.user = n[KP_QUOTA_USER], .client = n[KP_QUOTA_CLIENT_ID],
		.ip = n[KP_QUOTA_IP], .count = count, .kv = kv }) != 0) {
		snprintf(msg, msg_size, "Cannot store the client quotas in ZooKeeper");
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	return KP_ERR_NONE;
}

int16_t
ctl_quota_describe(void *ctx, const struct kp_quota_filter *filters, int32_t filter_count,
		   bool strict, kp_quota_entry_fn *fn, void *arg, char *msg, size_t msg_size)
{
	struct ctl *ctl = ctx;

	return quota_store_describe(&ctl->quotas, filters, filter_count, strict, fn, arg, msg,
				    msg_size);
}

int16_t
ctl_quota_alter(void *ctx, const struct kp_quota_entity *entity, struct kp_str bad_type,
		const struct kp_quota_op *ops, int32_t op_count, bool validate_only, char *msg,
		size_t msg_size)
{
	struct ctl *ctl = ctx;
	bool changed = false;
	int16_t rc;

	if (ctl_entity_clustered(ctl)) {
		rc = quota_store_alter(&ctl->quotas, entity, bad_type, ops, op_count, true,
				       &changed, msg, msg_size);
		if (rc != KP_ERR_NONE || validate_only)
			return rc;
		return ctl_quota_zk(ctl, entity, ops, op_count, msg, msg_size);
	}
	rc = quota_store_alter(&ctl->quotas, entity, bad_type, ops, op_count, validate_only,
			       &changed, msg, msg_size);
	if (changed)
		ctl->md_dirty = true;
	return rc;
}
