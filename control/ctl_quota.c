/* SPDX-License-Identifier: Apache-2.0 */
/* The client quota admin operations (kp_admin_ops) over control's quota
 * store: a change marks the metadata snapshot dirty, so the next publish
 * carries the new quotas to the cores. @thread control */
#include "control/ctl_int.h"
#include "control/quota.h"

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

	rc = quota_store_alter(&ctl->quotas, entity, bad_type, ops, op_count, validate_only,
			       &changed, msg, msg_size);
	if (changed)
		ctl->md_dirty = true;
	return rc;
}
