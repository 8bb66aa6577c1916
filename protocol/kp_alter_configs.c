/* SPDX-License-Identifier: Apache-2.0 */
/* What AlterConfigs and IncrementalAlterConfigs share (their handlers only
 * decode and encode their own versions): the resources named twice, the
 * checks Kafka's broker makes before its controller sees a resource, and
 * the call into control. @thread control */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/compiler.h"
#include "protocol/kp_int.h"

#define KP_AC_TOPIC 2

struct kp_ac_sort {
	const int8_t *types;
	const struct kp_str *names;
};

static int
kp_ac_cmp(const void *a, const void *b, void *arg)
{
	const struct kp_ac_sort *s = arg;
	int32_t i = *(const int32_t *)a;
	int32_t j = *(const int32_t *)b;
	struct kp_str x = s->names[i];
	struct kp_str y = s->names[j];
	int32_t n = MIN(MAX(x.len, 0), MAX(y.len, 0));
	int c;

	if (s->types[i] != s->types[j])
		return s->types[i] < s->types[j] ? -1 : 1;
	c = n > 0 ? memcmp(x.ptr, y.ptr, (size_t)n) : 0;
	if (c != 0)
		return c;
	return x.len < y.len ? -1 : x.len > y.len ? 1 : 0;
}

int
kp_ac_mark_dups(const int8_t *types, const struct kp_str *names, int32_t count, bool *dup)
{
	int32_t *order = malloc(sizeof(*order) * (size_t)(count > 0 ? count : 1));
	struct kp_ac_sort sort = { types, names };

	if (order == NULL)
		return -1;
	for (int32_t i = 0; i < count; i++) {
		order[i] = i;
		dup[i] = false;
	}
	qsort_r(order, (size_t)count, sizeof(*order), kp_ac_cmp, &sort);
	for (int32_t i = 1; i < count; i++) {
		if (kp_ac_cmp(&order[i - 1], &order[i], &sort) == 0) {
			dup[order[i - 1]] = true;
			dup[order[i]] = true;
		}
	}
	free(order);
	return 0;
}

int16_t
kp_ac_resource(struct kp_call *call, int8_t type, struct kp_str name,
	       const struct kp_config_op *ops, int32_t op_count, bool incremental,
	       bool validate_only, bool dup, char *msg, size_t msg_size)
{
	const char *denied = NULL;
	int16_t err;

	msg[0] = '\0';
	if (dup) {
		snprintf(msg, msg_size, "Each resource must appear at most once.");
		return KP_ERR_INVALID_REQUEST;
	}
	err = kp_acl_config_check(call->env, KP_ACL_ALTER_CONFIGS, type, name, &denied);
	if (err != KP_ERR_NONE) {
		snprintf(msg, msg_size, "%s", denied);
		return err;
	}
	if (op_count > KP_CONFIG_OPS_MAX || (op_count > 0 && ops == NULL)) {
		snprintf(msg, msg_size, "At most %d configs per resource", KP_CONFIG_OPS_MAX);
		return KP_ERR_INVALID_REQUEST;
	}
	if (type == KP_AC_TOPIC && name.len <= 0) {
		snprintf(msg, msg_size, "Default topic resources are not allowed.");
		return KP_ERR_INVALID_REQUEST;
	}
	if (type == KP_AC_TOPIC && kp_topic_name_check(name, msg, msg_size) != KP_ERR_NONE)
		return KP_ERR_INVALID_TOPIC_EXCEPTION;
	return call->env->admin->configs_alter(call->env->admin_ctx, type, name, ops, op_count,
					       incremental, validate_only, msg, msg_size);
}
