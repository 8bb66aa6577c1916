/* SPDX-License-Identifier: Apache-2.0 */
/* AlterUserScramCredentials (key 51), version 0, on the control thread.
 * Deletions and upsertions (salt and salted password computed by the
 * client, as kafka-configs does) go to control's SCRAM store
 * (control/ctl_sasl.c). As Kafka 3.9's controller (oracle-checked): one
 * change per user and request, deletions before upsertions; a user's first
 * change is checked (its error is the user's result), a second change of
 * the same user makes it DUPLICATE_RESOURCE and nothing is applied for
 * it; one result per user. kafka-configs setting SCRAM-SHA-256 and -512
 * in one call fails the same way against Kafka 3.9. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/gen/kp_msg_alter_user_scram_credentials.h"
#include "protocol/kp_int.h"

#define ALTER_SCRAM_OPS_MAX 1000

#define ALTER_SCRAM_RESULT(suffix) \
	kp_alter_user_scram_credentials_response_alter_user_scram_credentials_result##suffix

/* The generated request element functions (a long name). */
#define ALTER_SCRAM_REQ(suffix) \
	kp_alter_user_scram_credentials_request_scram_credential_##suffix

#define ALTER_SCRAM_DUPLICATE "A user credential cannot be altered twice in the same request"

/* Deletions, then upsertions, into ops; the count, or -1 when undecodable
 * or too many. */
static int32_t
alter_scram_ops(const struct kp_alter_user_scram_credentials_request *req,
		struct kp_scram_op *ops)
{
	struct kp_cursor it;
	int32_t n = 0;

	if (req->deletions.count < 0 || req->upsertions.count < 0 ||
	    req->deletions.count + req->upsertions.count > ALTER_SCRAM_OPS_MAX)
		return -1;
	it = kp_array_cursor(&req->deletions);
	for (int32_t i = 0; i < req->deletions.count; i++, n++) {
		struct kp_alter_user_scram_credentials_request_scram_credential_deletion d;

		ALTER_SCRAM_REQ(deletion_decode)(&it, 0, &d);
		ops[n] = (struct kp_scram_op){ .name = d.name, .remove = true,
					       .mechanism = d.mechanism };
	}
	it = kp_array_cursor(&req->upsertions);
	for (int32_t i = 0; i < req->upsertions.count; i++, n++) {
		struct kp_alter_user_scram_credentials_request_scram_credential_upsertion u;

		ALTER_SCRAM_REQ(upsertion_decode)(&it, 0, &u);
		ops[n] = (struct kp_scram_op){ .name = u.name, .mechanism = u.mechanism,
					       .iterations = u.iterations, .salt = u.salt,
					       .salted_password = u.salted_password };
	}
	return n;
}

static bool
alter_scram_named_before(const struct kp_scram_op *ops, int32_t i)
{
	for (int32_t j = 0; j < i; j++)
		if (kp_str_eq(ops[j].name, ops[i].name))
			return true;
	return false;
}

/* The user of op i (its first change): checked, then applied unless the
 * user is changed again later in ops. */
static int16_t
alter_scram_user(const struct kp_env *env, const struct kp_scram_op *ops, int32_t n, int32_t i,
		 char *msg, size_t msg_size)
{
	int16_t err = env->admin->scram_alter(env->admin_ctx, &ops[i], true, msg, msg_size);

	if (err != KP_ERR_NONE)
		return err;
	for (int32_t j = i + 1; j < n; j++) {
		if (kp_str_eq(ops[j].name, ops[i].name)) {
			snprintf(msg, msg_size, "%s", ALTER_SCRAM_DUPLICATE);
			return KP_ERR_DUPLICATE_RESOURCE;
		}
	}
	return env->admin->scram_alter(env->admin_ctx, &ops[i], false, msg, msg_size);
}

/* Users by name (a null name sorts first). */
static int
alter_scram_by_name(const void *a, const void *b)
{
	struct kp_str x = ((const struct kp_scram_op *)a)->name;
	struct kp_str y = ((const struct kp_scram_op *)b)->name;
	int32_t xl = x.len > 0 ? x.len : 0, yl = y.len > 0 ? y.len : 0;
	int c = memcmp(x.ptr != NULL ? x.ptr : "", y.ptr != NULL ? y.ptr : "",
		       (size_t)(xl < yl ? xl : yl));

	return c != 0 ? c : (xl > yl) - (xl < yl);
}

/* Without ALTER on the cluster nothing is applied: as Kafka's
 * getErrorResponse, one CLUSTER_AUTHORIZATION_FAILED result per distinct
 * user, sorted by name. Sorts ops. */
static int32_t
alter_scram_denied(struct kp_scram_op *ops, int32_t n, struct kp_writer *scratch)
{
	int32_t count = 0;

	qsort(ops, (size_t)n, sizeof(ops[0]), alter_scram_by_name);
	for (int32_t i = 0; i < n; i++) {
		struct ALTER_SCRAM_RESULT() r;

		if (i > 0 && kp_str_eq(ops[i - 1].name, ops[i].name))
			continue;
		ALTER_SCRAM_RESULT(_init)(&r);
		r.user = ops[i].name;
		r.error_code = KP_ERR_CLUSTER_AUTHORIZATION_FAILED;
		r.error_message = kp_str_c("Cluster authorization failed.");
		ALTER_SCRAM_RESULT(_encode)(scratch, 0, &r);
		count++;
	}
	return count;
}

enum kp_verdict
kp_handle_alter_user_scram_credentials(struct kp_call *call)
{
	static struct kp_scram_op ops[ALTER_SCRAM_OPS_MAX];     /* control thread only */
	const struct kp_env *env = call->env;
	struct kp_alter_user_scram_credentials_response resp;
	struct kp_alter_user_scram_credentials_request req;
	struct kp_writer scratch;
	int32_t n, count = 0;

	if (kp_alter_user_scram_credentials_request_decode(&call->body, 0, &req) != 0)
		return KP_VERDICT_CLOSE;
	n = alter_scram_ops(&req, ops);
	if (n < 0)
		return KP_VERDICT_CLOSE;
	kp_alter_user_scram_credentials_response_init(&resp);
	kp_writer_init(&scratch, 256);
	if (!kp_authorize(env, KP_ACL_ALTER, KP_RES_CLUSTER, kp_str_c(KP_ACL_CLUSTER_NAME))) {
		count = alter_scram_denied(ops, n, &scratch);
		n = 0;
	}
	for (int32_t i = 0; i < n; i++) {
		struct ALTER_SCRAM_RESULT() r;
		char msg[256] = "";

		if (alter_scram_named_before(ops, i))
			continue;       /* the user's result is already written */
		ALTER_SCRAM_RESULT(_init)(&r);
		r.user = ops[i].name;
		r.error_code = alter_scram_user(env, ops, n, i, msg, sizeof(msg));
		r.error_message = r.error_code != KP_ERR_NONE ? kp_str_c(msg)
							      : (struct kp_str){ NULL, -1 };
		ALTER_SCRAM_RESULT(_encode)(&scratch, 0, &r);
		count++;
	}
	resp.results = kp_array_wire(count, &scratch);
	kp_alter_user_scram_credentials_response_encode(call->w, 0, &resp);
	kp_writer_free(&scratch);
	return KP_VERDICT_REPLY;
}
